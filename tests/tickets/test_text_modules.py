"""Text modules (canned responses): kept by team leads per department and language, inserted
by agents in the reply box as `::shortcut`, rendered for the ticket with its placeholders.

Refusals and pages are read in English; module texts are German data, asserted as written.
"""

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from helpdesk.errors import DomainError, StaleEdit
from tests.tickets.conftest import area, department
from tickets import demo, selectors, services
from tickets.choices import Channel
from tickets.models import TextModule, Ticket

pytestmark = pytest.mark.django_db

GREETING = "Guten Tag {customer_name},\n\nVorgang {ticket_reference}.\n\n{agent_name}"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def make(dept: str, shortcut: str, *, actor, language="de", title=None, body=GREETING):
    return services.text_module_create(
        department=department(dept),
        language=language,
        shortcut=shortcut,
        title=title or shortcut.replace("-", " ").title(),
        body=body,
        actor=actor,
    )


@pytest.fixture
def modules(team, tina, max_):
    """Customer service in German and English, tech and billing in German."""
    return {
        "cs_de": make("customer-service", "router-neustart", actor=tina, title="Router neu"),
        "cs_en": make("customer-service", "router-restart", actor=tina, language="en"),
        "cs_title": make("customer-service", "stoerung", actor=tina, title="Router-Störung"),
        "tech": make("tech", "router-reset", actor=tina, title="Werksreset"),
        "billing": make("billing", "zahlungserinnerung", actor=max_, title="Zahlung"),
    }


@pytest.fixture
def billing_ticket(erika, alice, team):
    """Erika's payment question, in billing's first line."""
    return services.ticket_create(
        customer=erika,
        subject="Zahlung nicht verbucht",
        body="Ich habe überwiesen.",
        channel=Channel.PORTAL,
        support_area=area("payment-check"),
        actor=alice,
    )


@pytest.fixture
def anonymous_ticket(bob, team):
    """A mail from an address without a customer record."""
    return services.ticket_create(
        customer=None,
        contact_email="unbekannt@example.org",
        subject="Frage",
        body="Hallo?",
        channel=Channel.EMAIL,
        support_area=area("general"),
        actor=bob,
    )


def snapshot() -> list[tuple]:
    return list(
        TextModule.objects.order_by("pk").values_list(
            "pk", "department_id", "language", "shortcut", "title", "body", "is_active", "version"
        )
    )


def suggestions_url(ticket: Ticket, query: str = "") -> str:
    return reverse("tickets:ticket-text-modules", args=[ticket.reference]) + f"?q={query}"


def suggest(client, ticket: Ticket, query: str) -> dict:
    response = client.get(suggestions_url(ticket, query))
    assert response.status_code == 200, response.content
    return response.json()


# --- Services: what may be stored ----------------------------------------------------------


def test_a_module_is_stored_tidy_with_its_author(team, tina):
    module = services.text_module_create(
        department=department("tech"),
        language="de",
        shortcut="  ::Router-Reset ",
        title="  Router   zurücksetzen ",
        body="Hallo {customer_name},\r\nbitte zurücksetzen.\r\n",
        actor=tina,
    )
    module.refresh_from_db()
    assert (module.shortcut, module.title) == ("router-reset", "Router zurücksetzen")
    assert module.body == "Hallo {customer_name},\nbitte zurücksetzen."
    assert module.is_active and module.version == 1
    assert module.created_by == tina and module.updated_by == tina


VALID = {
    "language": "de",
    "shortcut": "router-reset",
    "title": "Router zurücksetzen",
    "body": "Guten Tag {customer_name},",
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the text module a title."),
        ({"title": "x" * 121}, "title", "at most 120 characters"),
        ({"body": " \n "}, "body", "Write the text of the module."),
        ({"body": "x" * 5001}, "body", "at most 5000 characters"),
        ({"body": "Hallo\x00"}, "body", "invalid characters"),
        ({"shortcut": ""}, "shortcut", "Give the text module a short name."),
        ({"shortcut": "::"}, "shortcut", "Give the text module a short name."),
        ({"shortcut": "router reset"}, "shortcut", "Use only letters a-z, digits"),
        ({"shortcut": "störung"}, "shortcut", "Use only letters a-z, digits"),
        ({"shortcut": "router_reset"}, "shortcut", "Use only letters a-z, digits"),
        ({"shortcut": "-router"}, "shortcut", "Use only letters a-z, digits"),
        ({"shortcut": "router--reset"}, "shortcut", "Use only letters a-z, digits"),
        ({"shortcut": "r" * 41}, "shortcut", "at most 40 characters"),
        ({"language": "fr"}, "language", "Choose one of: German, English, Polish."),
        ({"language": ""}, "language", "Choose one of"),
        ({"body": "Hallo {{customer_name}}"}, "body", "Write placeholders with single braces"),
        ({"body": "Hallo {customer_name!r}"}, "body", "Unknown placeholder {customer_name!r}"),
        ({"body": "Hallo {ticket.customer.user}"}, "body", "Unknown placeholder"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(
    team, tina, changes, field, message
):
    with pytest.raises(DomainError) as refused:
        services.text_module_create(
            department=department("tech"), actor=tina, **{**VALID, **changes}
        )
    assert refused.value.field == field
    assert message in refused.value.message
    assert not TextModule.objects.exists()


def test_a_misspelt_placeholder_is_refused_with_a_suggestion_and_the_valid_list(team, tina):
    with pytest.raises(DomainError) as refused:
        services.text_module_create(
            department=department("tech"),
            actor=tina,
            **{**VALID, "body": "Guten Tag {custmer_name}, Ihr {ticket_reference}"},
        )
    assert refused.value.field == "body"
    assert refused.value.message == (
        "Unknown placeholder {custmer_name} (did you mean {customer_name}?). Placeholders "
        "you can use: {customer_name}, {customer_number}, {ticket_reference}, "
        "{ticket_subject}, {agent_name}."
    )
    with pytest.raises(DomainError) as refused:
        services.text_module_create(
            department=department("tech"), actor=tina, **{**VALID, "body": "Hallo {Kundenname}"}
        )
    assert refused.value.message.startswith(
        "Unknown placeholder {Kundenname} (did you mean {customer_name}?). Placeholders"
    )
    with pytest.raises(DomainError) as refused:
        services.text_module_create(
            department=department("tech"), actor=tina, **{**VALID, "body": "Hallo {Frau}"}
        )
    assert refused.value.message.startswith("Unknown placeholder {Frau}. Placeholders you")
    assert not TextModule.objects.exists()


def test_braces_that_are_not_a_placeholder_are_plain_text(team, tina):
    module = services.text_module_create(
        department=department("tech"),
        actor=tina,
        **{**VALID, "body": "Die Klammern { so } und {} bleiben, wie sie sind."},
    )
    assert module.body == "Die Klammern { so } und {} bleiben, wie sie sind."


def test_a_short_name_is_unique_per_department_and_language(team, tina):
    make("tech", "router-reset", actor=tina)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        make("tech", "Router-Reset", actor=tina)
    assert refused.value.field == "shortcut"
    assert refused.value.message == "Technik already has a text module ::router-reset in German."
    assert snapshot() == before
    make("tech", "router-reset", actor=tina, language="en")
    make("customer-service", "router-reset", actor=tina)
    assert TextModule.objects.filter(shortcut="router-reset").count() == 3


def test_an_archived_short_name_is_not_taken_again_but_restored(team, tina):
    module = make("tech", "router-reset", actor=tina)
    services.text_module_archive(module=module, actor=tina)
    with pytest.raises(DomainError) as refused:
        make("tech", "router-reset", actor=tina)
    assert refused.value.message.endswith("It is archived: restore it instead.")


def test_the_database_refuses_a_duplicate_that_raced_past_the_check(team, tina, monkeypatch):
    make("tech", "router-reset", actor=tina)
    before = snapshot()
    # Two team leads saving at once: both pass the check, the second insert hits the
    # unique constraint and gets the same message.
    monkeypatch.setattr(services, "_text_module_refuse_duplicate", lambda *a, **k: None)
    with pytest.raises(DomainError) as refused:
        make("tech", "router-reset", actor=tina)
    assert refused.value.field == "shortcut"
    assert snapshot() == before
    with pytest.raises(IntegrityError), transaction.atomic():
        TextModule.objects.create(
            department=department("tech"), language="de", shortcut="router-reset", title="x"
        )


def test_an_update_changes_the_module_and_bumps_its_version(team, tina, max_):
    module = make("tech", "router-reset", actor=tina)
    services.text_module_update(
        module=module,
        department=department("customer-service"),
        language="en",
        shortcut="router-factory-reset",
        title="Factory reset",
        body="Hello {customer_name},",
        actor=max_,
        expected_version=1,
    )
    module.refresh_from_db()
    assert (module.department, module.language, module.shortcut) == (
        department("customer-service"),
        "en",
        "router-factory-reset",
    )
    assert module.version == 2 and module.updated_by == max_ and module.created_by == tina


def test_an_update_without_changes_leaves_the_version(team, tina):
    module = make("tech", "router-reset", actor=tina)
    services.text_module_update(
        module=module,
        department=module.department,
        language=module.language,
        shortcut=module.shortcut,
        title=module.title,
        body=module.body,
        actor=tina,
        expected_version=1,
    )
    module.refresh_from_db()
    assert module.version == 1


def _edit(module, *, actor, expected_version=None, **changes):
    fields = {
        "department": module.department,
        "language": module.language,
        "shortcut": module.shortcut,
        "title": module.title,
        "body": module.body,
        **changes,
    }
    return services.text_module_update(
        module=module, actor=actor, expected_version=expected_version, **fields
    )


def test_a_stale_edit_is_refused_and_changes_nothing(team, tina, max_):
    module = make("tech", "router-reset", actor=tina)
    _edit(module, actor=max_, title="Neuer Titel", expected_version=1)
    before = snapshot()
    with pytest.raises(StaleEdit):
        _edit(module, actor=tina, title="Meiner", expected_version=1)
    # The instance read before someone else saved: the guarded UPDATE refuses it too.
    old = TextModule.objects.get(pk=module.pk)
    _edit(module, actor=max_, title="Noch einer")
    with pytest.raises(StaleEdit):
        _edit(old, actor=tina, title="Meiner")
    assert snapshot()[0][4] == "Noch einer"
    assert len(before) == len(snapshot())


def test_an_update_to_a_taken_short_name_or_bad_text_changes_nothing(team, tina):
    make("tech", "router-reset", actor=tina)
    other = make("tech", "leitung", actor=tina)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        _edit(other, actor=tina, shortcut="router-reset")
    assert refused.value.field == "shortcut"
    with pytest.raises(DomainError) as refused:
        _edit(other, actor=tina, body="{custmer_name}")
    assert refused.value.field == "body"
    assert snapshot() == before


def test_archive_and_restore(team, tina):
    module = make("tech", "router-reset", actor=tina)
    services.text_module_archive(module=module, actor=tina, expected_version=1)
    module.refresh_from_db()
    assert not module.is_active and module.version == 2
    with pytest.raises(DomainError, match="already archived"):
        services.text_module_archive(module=module, actor=tina)
    with pytest.raises(StaleEdit):
        services.text_module_restore(module=module, actor=tina, expected_version=1)
    services.text_module_restore(module=module, actor=tina, expected_version=2)
    module.refresh_from_db()
    assert module.is_active and module.version == 3
    with pytest.raises(DomainError, match="already in use"):
        services.text_module_restore(module=module, actor=tina)


# --- Rendering -------------------------------------------------------------------------------


def _render(module, ticket, agent) -> selectors.RenderedTextModule:
    values = selectors.text_module_values(ticket=ticket, agent=agent)
    return selectors.text_module_render(module=module, values=values)


def test_placeholders_are_filled_for_the_ticket_and_the_agent(ticket, bob, tina):
    module = make(
        "customer-service",
        "alles",
        actor=tina,
        body="{customer_name} ({customer_number}), {ticket_reference} „{ticket_subject}“ "
        "- {agent_name}",
    )
    rendered = _render(module, ticket, bob)
    assert rendered.text == (
        f"Erika Musterfrau (K1000001), {ticket.reference} „Rechnung doppelt abgebucht“ - Bob Bauer"
    )
    assert rendered.missing == []


def test_without_a_customer_the_name_is_left_out_and_named(anonymous_ticket, bob, tina):
    module = make("customer-service", "gruss", actor=tina)
    rendered = _render(module, anonymous_ticket, bob)
    assert rendered.text == f"Guten Tag,\n\nVorgang {anonymous_ticket.reference}.\n\nBob Bauer"
    assert rendered.missing == ["customer_name"]
    assert rendered.missing_labels == ["the customer's full name"]


def test_rendering_evaluates_nothing_in_values_or_text(erika, ticket, bob, tina):
    erika.first_name, erika.last_name = "{agent_name}", "{ticket.__class__}"
    erika.save(update_fields=["first_name", "last_name"])
    ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
    module = make("customer-service", "gruss", actor=tina, body="Hallo {customer_name}!")
    assert _render(module, ticket, bob).text == "Hallo {agent_name} {ticket.__class__}!"
    # A body stored around the service (an old row, the shell) keeps what no one fills in.
    TextModule.objects.filter(pk=module.pk).update(
        body="{ticket.customer.user.password} {0} %(x)s {customer_name:>99}"
    )
    module.refresh_from_db()
    assert _render(module, ticket, bob).text == (
        "{ticket.customer.user.password} {0} %(x)s {customer_name:>99}"
    )


# --- Suggestions: which modules, in which order ------------------------------------------------


def shortcuts(results) -> list[str]:
    return [item["shortcut"] if isinstance(item, dict) else item.shortcut for item in results]


def test_an_agent_gets_the_tickets_department_in_the_customers_language_first(
    modules, ticket, bob, erika
):
    found = selectors.text_module_suggestions(user=bob, ticket=ticket, query="rou")
    # German first (Erika's language); then English. Tech and billing are not bob's.
    assert shortcuts(found) == ["router-neustart", "stoerung", "router-restart"]
    erika.language = "en"
    erika.save(update_fields=["language"])
    ticket = Ticket.objects.select_related("customer", "queue").get(pk=ticket.pk)
    found = selectors.text_module_suggestions(user=bob, ticket=ticket, query="rou")
    assert shortcuts(found) == ["router-restart", "router-neustart", "stoerung"]


def test_a_short_name_match_comes_before_a_title_match(modules, ticket, bob):
    found = selectors.text_module_suggestions(user=bob, ticket=ticket, query="router")
    assert shortcuts(found)[:2] == ["router-neustart", "stoerung"]  # "Router-Störung"
    assert shortcuts(selectors.text_module_suggestions(user=bob, ticket=ticket, query="neu")) == [
        "router-neustart"
    ]
    assert selectors.text_module_suggestions(user=bob, ticket=ticket, query="xyz") == []


def test_a_team_lead_gets_her_other_departments_after_the_tickets_own(
    modules, ticket, tech_ticket, tina
):
    found = selectors.text_module_suggestions(user=tina, ticket=ticket, query="router-re")
    assert shortcuts(found) == ["router-reset", "router-restart"]  # German before English
    found = selectors.text_module_suggestions(user=tina, ticket=tech_ticket, query="rou")
    assert shortcuts(found) == ["router-reset", "router-neustart", "stoerung", "router-restart"]


def test_billing_gets_billings_modules_and_never_tech(modules, billing_ticket, carol):
    found = selectors.text_module_suggestions(user=carol, ticket=billing_ticket, query="")
    assert shortcuts(found) == ["zahlungserinnerung"]
    assert selectors.text_module_suggestions(user=carol, ticket=billing_ticket, query="rou") == []


def test_archived_modules_are_not_offered(modules, ticket, bob, tina):
    services.text_module_archive(module=modules["cs_de"], actor=tina)
    found = selectors.text_module_suggestions(user=bob, ticket=ticket, query="rou")
    assert "router-neustart" not in shortcuts(found)


# --- The reply box's endpoint --------------------------------------------------------------


def test_the_endpoint_returns_the_modules_rendered_for_the_ticket(client, modules, ticket, bob):
    data = suggest(signed_in(client, bob), ticket, "rou")
    assert data["query"] == "rou"
    first = data["results"][0]
    assert first["shortcut"] == "router-neustart"
    assert first["title"] == "Router neu"
    assert first["department"] == "Kundenservice" and first["language"] == "de"
    assert (
        first["text"] == f"Guten Tag Erika Musterfrau,\n\nVorgang {ticket.reference}.\n\nBob Bauer"
    )
    assert first["missing"] == [] and first["warning"] == ""
    assert [item["shortcut"] for item in data["results"]] == [
        "router-neustart",
        "stoerung",
        "router-restart",
    ]


def test_the_endpoint_warns_about_values_the_ticket_lacks(client, modules, anonymous_ticket, bob):
    data = suggest(signed_in(client, bob), anonymous_ticket, "router-neu")
    (item,) = data["results"]
    assert item["text"].startswith("Guten Tag,\n")
    assert item["missing"] == ["customer_name"]
    assert item["warning"] == "Left empty, fill in yourself: the customer's full name."


def test_the_endpoint_says_when_nothing_matches(client, modules, ticket, bob):
    data = suggest(signed_in(client, bob), ticket, "nichts")
    assert data["results"] == []
    assert data["empty"] == "No text module matches “nichts”."


def test_the_endpoint_refuses_an_overlong_query_with_the_field(client, modules, ticket, bob):
    response = signed_in(client, bob).get(suggestions_url(ticket, "r" * 41))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "q" and "at most 40 characters" in error["message"]


def test_the_endpoint_is_only_for_those_who_work_the_ticket(
    client, modules, ticket, tech_ticket, billing_ticket, carol, bob, alice, mallory, phone_system
):
    as_carol = signed_in(client, carol)
    assert as_carol.get(suggestions_url(tech_ticket, "rou")).status_code == 404
    assert as_carol.get(suggestions_url(ticket, "rou")).status_code == 404
    assert shortcuts(suggest(as_carol, billing_ticket, "")["results"]) == ["zahlungserinnerung"]
    as_bob = signed_in(client, bob)
    assert as_bob.get(suggestions_url(tech_ticket, "rou")).status_code == 404
    for outsider in (alice, mallory, phone_system):
        assert signed_in(client, outsider).get(suggestions_url(ticket, "rou")).status_code == 403
    client.logout()
    response = client.get(suggestions_url(ticket, "rou"))
    assert response.status_code == 302 and response["Location"].startswith("/agent/login/")
    assert client.post(suggestions_url(ticket, "rou")).status_code == 302


def test_management_gets_the_tickets_department(client, modules, tech_ticket, max_):
    data = suggest(signed_in(client, max_), tech_ticket, "rou")
    assert shortcuts(data["results"]) == ["router-reset"]
    assert data["results"][0]["text"].endswith("Max Vogel")


def test_the_endpoint_costs_the_same_queries_for_1_or_8_modules(
    client, ticket, bob, tina, django_assert_num_queries
):
    as_bob = signed_in(client, bob)
    make("customer-service", "router-0", actor=tina)
    as_bob.get(suggestions_url(ticket, "rou"))  # sessions, caches warm
    with django_assert_num_queries(7) as few:
        assert len(suggest(as_bob, ticket, "rou")["results"]) == 1
    for number in range(1, 12):
        make("customer-service", f"router-{number}", actor=tina)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(suggest(as_bob, ticket, "rou")["results"]) == 8


# --- Management pages: who may keep modules --------------------------------------------------


def list_url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("tickets:text-module-list") + (f"?{query}" if query else "")


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_team_lead_sees_the_modules_of_her_departments_only(client, modules, tina):
    page = page_text(signed_in(client, tina).get(list_url()))
    for name in ("router-neustart", "router-restart", "stoerung", "router-reset"):
        assert f"::{name}<" in page
    assert "zahlungserinnerung" not in page
    assert "{customer_name}" in page and "the customer&#x27;s full name" in page


def test_management_sees_every_department(client, modules, max_):
    page = page_text(signed_in(client, max_).get(list_url()))
    assert "::zahlungserinnerung<" in page and "::router-reset<" in page


def test_the_list_filters_by_department_language_status_and_words(client, modules, tina):
    as_tina = signed_in(client, tina)
    services.text_module_archive(module=modules["cs_title"], actor=tina)
    page = page_text(as_tina.get(list_url(department=department("tech").pk)))
    assert "::router-reset<" in page and "::router-neustart<" not in page
    page = page_text(as_tina.get(list_url(language="en")))
    assert "::router-restart<" in page and "::router-reset<" not in page
    page = page_text(as_tina.get(list_url(status="archived")))
    assert "::stoerung<" in page and "::router-reset<" not in page
    page = page_text(as_tina.get(list_url(q="Werksreset")))
    assert "::router-reset<" in page and "::router-neustart<" not in page
    # A department she does not lead or a nonsense value drops that filter only.
    page = page_text(as_tina.get(list_url(department=department("billing").pk, language="xx")))
    assert "::router-reset<" in page and "zahlungserinnerung" not in page


def test_the_list_costs_the_same_queries_for_1_or_60_modules(
    client, tina_agent, tina, django_assert_num_queries
):
    as_tina = signed_in(client, tina)
    make("tech", "modul-0", actor=tina)
    as_tina.get(list_url())
    with django_assert_num_queries(8) as few:
        page_text(as_tina.get(list_url(q="modul")))
    for number in range(1, 60):
        make("tech", f"modul-{number}", actor=tina)
    with django_assert_num_queries(len(few.captured_queries)):
        page = page_text(as_tina.get(list_url(q="modul")))
    assert page.count("<tr class=") == selectors.TEXT_MODULE_PAGE_SIZE
    page = page_text(as_tina.get(list_url(q="modul", page=2)))
    assert page.count("<tr class=") == 10


def test_agents_customers_and_integrations_cannot_manage(
    client, modules, bob, carol, alice, phone_system
):
    module = modules["tech"]
    before = snapshot()
    for user in (bob, carol, alice, phone_system):
        as_user = signed_in(client, user)
        for url in (
            list_url(),
            reverse("tickets:text-module-create"),
            module.get_absolute_url(),
        ):
            assert as_user.get(url).status_code == 403, (user, url)
        assert as_user.post(reverse("tickets:text-module-create"), _form()).status_code == 403
        assert as_user.post(module.get_absolute_url(), _form(version=1)).status_code == 403
        for verb in ("archive", "restore"):
            url = reverse(f"tickets:text-module-{verb}", args=[module.pk])
            assert as_user.post(url, {"version": 1}).status_code == 403
    assert snapshot() == before


def test_anonymous_is_sent_to_the_sign_in(client, modules):
    for url in (list_url(), modules["tech"].get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/agent/login/")


def test_a_team_lead_gets_404_for_another_departments_module(client, modules, tina):
    as_tina = signed_in(client, tina)
    billing = modules["billing"]
    before = snapshot()
    assert as_tina.get(billing.get_absolute_url()).status_code == 404
    assert as_tina.post(billing.get_absolute_url(), _form(version=1)).status_code == 404
    url = reverse("tickets:text-module-archive", args=[billing.pk])
    assert as_tina.post(url, {"version": 1}).status_code == 404
    assert as_tina.get(reverse("tickets:text-module-edit", args=[99999])).status_code == 404
    assert snapshot() == before


def test_a_team_lead_without_departments_manages_nothing(client, tina, team):
    services.agent_profile_set(user=tina, departments=[], highest_line=1, is_team_lead=True)
    page = page_text(signed_in(client, tina).get(list_url()))
    assert "You lead no department yet" in page


def test_the_navigation_links_the_page_for_those_who_manage(client, ticket, tina, bob, max_):
    link = f'href="{reverse("tickets:text-module-list")}"'
    assert link in page_text(signed_in(client, tina).get(reverse("agent-home")))
    assert link in page_text(signed_in(client, max_).get(reverse("agent-home")))
    assert link not in page_text(signed_in(client, bob).get(reverse("agent-home")))


# --- Management pages: create, edit, archive ------------------------------------------------


def _form(**fields) -> dict:
    return {
        "department": department("tech").pk,
        "language": "de",
        "shortcut": "router-reset",
        "title": "Router zurücksetzen",
        "body": "Guten Tag {customer_name},\n\nbitte zurücksetzen.",
        **fields,
    }


def test_a_team_lead_creates_a_module(client, team, tina):
    as_tina = signed_in(client, tina)
    page = page_text(as_tina.get(reverse("tickets:text-module-create")))
    assert "{ticket_reference}" in page  # the placeholders are documented beside the form
    response = as_tina.post(reverse("tickets:text-module-create"), _form())
    assert response.status_code == 302
    assert response["Location"] == list_url(department=department("tech").pk)
    module = TextModule.objects.get()
    assert (module.shortcut, module.created_by) == ("router-reset", tina)
    page = page_text(as_tina.get(response["Location"]))
    assert "Text module ::router-reset saved; agents can insert it now." in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "Guten Tag {custmer_name}"}, "did you mean {customer_name}?"),
        ({"shortcut": "router reset"}, "Use only letters a-z, digits and single hyphens"),
        ({"shortcut": ""}, "Give the text module a short name."),
        ({"title": ""}, "Give the text module a title."),
        ({"body": ""}, "Write the text of the module."),
        ({"language": "fr"}, "Choose German, English or Polish."),
        ({"department": "billing"}, "Choose one of the departments you manage."),
        ({"department": "x"}, "Choose one of the departments you manage."),
    ],
)
def test_bad_input_on_the_form_is_shown_and_nothing_is_created(client, team, tina, fields, message):
    if fields.get("department") == "billing":
        fields["department"] = department("billing").pk
    response = signed_in(client, tina).post(reverse("tickets:text-module-create"), _form(**fields))
    page = page_text(response)
    assert message in page.replace("&#x27;", "'")
    assert "field-invalid" in page
    assert not TextModule.objects.exists()


def test_the_form_shows_every_problem_at_once(client, team, tina):
    response = signed_in(client, tina).post(
        reverse("tickets:text-module-create"),
        _form(shortcut="Router Reset", title="", body="Hallo {Kundenname}"),
    )
    page = page_text(response)
    assert page.count("field-invalid") == 3
    for message in (
        "Use only letters a-z, digits and single hyphens",
        "Give the text module a title.",
        "Unknown placeholder {Kundenname} (did you mean {customer_name}?)",
    ):
        assert message in page
    assert not TextModule.objects.exists()


def test_a_duplicate_on_the_form_is_refused(client, modules, tina):
    before = snapshot()
    response = signed_in(client, tina).post(
        reverse("tickets:text-module-create"), _form(shortcut="Router-Reset")
    )
    assert "Technik already has a text module ::router-reset in German." in page_text(response)
    assert snapshot() == before


def test_a_team_lead_edits_a_module(client, modules, tina):
    module = modules["tech"]
    as_tina = signed_in(client, tina)
    page = page_text(as_tina.get(module.get_absolute_url()))
    assert 'name="version" value="1"' in page and "Werksreset" in page
    response = as_tina.post(module.get_absolute_url(), _form(title="Neuer Titel", version=1))
    assert response.status_code == 302
    module.refresh_from_db()
    assert module.title == "Neuer Titel" and module.version == 2


def test_a_stale_edit_on_the_form_keeps_what_was_typed_and_changes_nothing(
    client, modules, tina, max_
):
    module = modules["tech"]
    _edit(module, actor=max_, title="Von Max")
    before = snapshot()
    page = page_text(
        signed_in(client, tina).post(module.get_absolute_url(), _form(title="Von Tina", version=1))
    )
    assert 'data-testid="stale"' in page and "Someone else changed this text module" in page
    assert 'value="Von Tina"' in page  # what she typed is still in the form
    assert "Von Max" in page  # and what is saved now is shown
    assert 'name="version" value="2"' in page  # saving again is a conscious overwrite
    assert snapshot() == before


def test_bad_input_on_the_edit_form_changes_nothing(client, modules, tina):
    module = modules["tech"]
    before = snapshot()
    for fields in (
        {"body": "{Kundenname}"},
        {"shortcut": "router-neustart", "department": department("customer-service").pk},
        {"version": "x"},
    ):
        response = signed_in(client, tina).post(
            module.get_absolute_url(), _form(**{"version": 1, **fields})
        )
        assert response.status_code == 200
    assert snapshot() == before


def test_archive_and_restore_from_the_list(client, modules, tina):
    module = modules["tech"]
    as_tina = signed_in(client, tina)
    archive = reverse("tickets:text-module-archive", args=[module.pk])
    back = list_url(department=department("tech").pk)
    response = as_tina.post(archive, {"version": 1, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    module.refresh_from_db()
    assert not module.is_active
    page = page_text(as_tina.get(back))
    assert "Text module ::router-reset archived; agents no longer get it." in page
    # The same click again, from a page opened before: refused, nothing changes.
    before = snapshot()
    page = page_text(as_tina.post(archive, {"version": 1}, follow=True))
    assert "Someone else changed this text module meanwhile" in page
    page_text(as_tina.post(archive, {"version": "nonsense"}, follow=True))
    assert snapshot() == before
    restore = reverse("tickets:text-module-restore", args=[module.pk])
    assert as_tina.post(restore, {"version": 2, "next": "https://evil.example/"}).status_code == 302
    module.refresh_from_db()
    assert module.is_active
    assert as_tina.get(archive).status_code == 405


# --- The ticket page, admin, demo data ---------------------------------------------------------


def test_the_ticket_page_wires_the_reply_and_note_boxes(client, ticket, bob):
    page = page_text(signed_in(client, bob).get(ticket.get_absolute_url()))
    url = reverse("tickets:ticket-text-modules", args=[ticket.reference])
    assert page.count(f'data-text-modules="{url}"') == 2
    assert 'src="/static/js/text_modules.js"' in page
    assert "<script>" not in page  # the CSP allows no inline script


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    return client


def test_the_admin_lists_modules_and_archives_them_through_the_service(admin_client, modules):
    changelist = reverse("admin:tickets_textmodule_changelist")
    assert "router-neustart" in page_text(admin_client.get(changelist))
    assert admin_client.get(reverse("admin:tickets_textmodule_add")).status_code == 403
    module = modules["tech"]
    response = admin_client.post(
        changelist, {"action": "archive", ACTION_CHECKBOX_NAME: [module.pk], "index": 0}
    )
    assert response.status_code == 302
    module.refresh_from_db()
    assert not module.is_active and module.version == 2 and module.updated_by.username == "root"


def test_demo_modules_are_valid_and_added_once(team, tina, max_):
    demo._text_modules()
    count = TextModule.objects.count()
    assert count == len(demo.TEXT_MODULES)
    assert set(TextModule.objects.values_list("language", flat=True)) == {"de", "en"}
    demo._text_modules()
    assert TextModule.objects.count() == count
    assert TextModule.objects.get(shortcut="zahlungserinnerung").created_by == max_


def test_json_is_plain_data(client, modules, ticket, bob):
    response = signed_in(client, bob).get(suggestions_url(ticket, "rou"))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert json.loads(response.content)["results"]
