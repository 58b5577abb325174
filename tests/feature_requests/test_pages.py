"""The feature-request pages of the agent workspace: the list with its review queues, one
request with its actions, "record a wish" with find-before-you-file, the ticket page's card.

Pages are read in English (Accept-Language), so the assertions do not depend on the state of
the German translation.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feature_requests import services
from feature_requests.choices import AskKind, EventKind, Status, TargetDepartment
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent

pytestmark = pytest.mark.django_db

LIST = reverse("feature_requests:request-list")
CREATE = reverse("feature_requests:request-create")
SIMILAR = reverse("feature_requests:request-similar")
HUGE = 10**30


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def detail(feature) -> str:
    return reverse("feature_requests:request-detail", args=[feature.pk])


def action(verb: str, feature_or_id) -> str:
    pk = getattr(feature_or_id, "pk", feature_or_id)
    return reverse(f"feature_requests:request-{verb}", args=[pk])


def text(response) -> str:
    return response.content.decode()


def version(feature) -> int:
    return FeatureRequest.objects.get(pk=feature.pk).version


def state(feature) -> tuple:
    """Everything an action could change; equal before and after a refused action."""
    row = FeatureRequest.objects.get(pk=feature.pk)
    return (
        row.version,
        row.status,
        row.title,
        row.description,
        row.department,
        row.reason,
        row.merged_into_id,
        row.ask_count,
        row.customer_count,
        Ask.objects.count(),
        FeatureRequestEvent.objects.count(),
        FeatureRequest.objects.count(),
    )


def transition(client, feature, to, **data):
    payload = {"version": version(feature), "to": to, "reason": "", "department": ""}
    payload.update(data)
    return client.post(action("transition", feature), payload)


def new_request(actor, title="Rechnung als PDF mit Einzelverbindungsnachweis", **fields):
    return services.feature_request_create(
        title=title,
        department=fields.pop("department", TargetDepartment.BILLING),
        kind=fields.pop("kind", AskKind.WISH),
        actor=actor,
        **fields,
    )


@pytest.fixture
def as_bob(bob, team):
    return signed_in(bob)


@pytest.fixture
def as_tina(tina, team):
    return signed_in(tina)


@pytest.fixture
def as_bert(bert):
    return signed_in(bert)


@pytest.fixture
def as_max(max_, team):
    return signed_in(max_)


@pytest.fixture
def tech_review(bob, tina, team):
    """A wish passed on to tech by quality management."""
    request = new_request(bob, "Router-Neustart per Kundenportal", department=TargetDepartment.TECH)
    services.feature_request_transition(request=request, to=Status.QM_REVIEW, actor=tina)
    return services.feature_request_transition(
        request=request, to=Status.DEPARTMENT_REVIEW, actor=tina
    )


# --- Who may enter ------------------------------------------------------------------------


def page_urls(feature) -> list[str]:
    return [LIST, detail(feature), CREATE, f"{SIMILAR}?title=Rechnung"]


def post_urls(feature) -> list[str]:
    return [action(verb, feature) for verb in ("ask", "transition", "merge", "edit")] + [CREATE]


def test_anonymous_users_are_sent_to_the_login(client, wish):
    for url in page_urls(wish) + post_urls(wish):
        response = client.get(url) if url in page_urls(wish) else client.post(url, {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("agent-login")), url


def test_customers_get_403_everywhere(alice, wish):
    as_alice = signed_in(alice)
    for url in page_urls(wish):
        assert as_alice.get(url).status_code == 403, url
    for url in post_urls(wish):
        assert as_alice.post(url, {"version": 1, "to": "qm_review"}).status_code == 403, url
    assert FeatureRequest.objects.get(pk=wish.pk).status == Status.NEW


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_agents_read_ask_and_file_but_decide_nothing(request, who, wish, erika, team):
    user = request.getfixturevalue(who)
    client = signed_in(user)
    for url in page_urls(wish):
        assert client.get(url).status_code == 200, url
    response = client.post(action("ask", wish), {"kind": AskKind.WISH, "customer": erika.number})
    assert response.status_code == 302
    assert FeatureRequest.objects.get(pk=wish.pk).ask_count == 2
    response = client.post(
        CREATE,
        {
            "title": f"Zahlung per Lastschrift für {who}",
            "department": TargetDepartment.BILLING,
            "kind": AskKind.WISH,
        },
    )
    assert response.status_code == 302
    created = FeatureRequest.objects.get(title=f"Zahlung per Lastschrift für {who}")
    assert created.created_by == user
    before = state(wish)
    assert transition(client, wish, Status.QM_REVIEW).status_code == 403
    assert client.post(action("merge", wish), {"version": 1, "into": created.pk}).status_code == 403
    assert (
        client.post(
            action("edit", wish),
            {"version": wish.version, "title": "Neu", "department": "billing"},
        ).status_code
        == 403
    )
    assert state(wish) == before


def test_agents_see_no_decision_or_merge_forms(as_bob, wish):
    page = text(as_bob.get(detail(wish)))
    assert "Record an ask" in page
    assert action("transition", wish) not in page
    assert action("merge", wish) not in page
    assert action("edit", wish) not in page


def test_billing_lead_decides_what_billing_reviews(as_bert, billing_review):
    page = text(as_bert.get(detail(billing_review)))
    assert 'value="accepted"' in page and 'value="rejected"' in page
    response = transition(as_bert, billing_review, Status.ACCEPTED)
    assert response.status_code == 302
    assert FeatureRequest.objects.get(pk=billing_review.pk).status == Status.ACCEPTED


def test_billing_lead_may_not_decide_new_requests(as_bert, wish):
    before = state(wish)
    assert transition(as_bert, wish, Status.QM_REVIEW).status_code == 403
    assert transition(as_bert, wish, Status.REJECTED, reason="Nein").status_code == 403
    assert state(wish) == before
    assert action("transition", wish) not in text(as_bert.get(detail(wish)))


def test_billing_lead_may_not_decide_another_departments_review(as_bert, tech_review):
    before = state(tech_review)
    assert transition(as_bert, tech_review, Status.ACCEPTED).status_code == 403
    response = as_bert.post(
        action("edit", tech_review),
        {"version": version(tech_review), "title": "Anders", "department": "billing"},
    )
    assert response.status_code == 403
    assert state(tech_review) == before


def test_billing_lead_may_not_merge(as_bert, billing_review, rejected):
    response = as_bert.post(
        action("merge", billing_review), {"version": version(billing_review), "into": rejected.pk}
    )
    assert response.status_code == 403


def test_quality_management_reviews_and_passes_to_a_department(as_tina, wish):
    assert transition(as_tina, wish, Status.QM_REVIEW).status_code == 302
    response = transition(
        as_tina, wish, Status.DEPARTMENT_REVIEW, department=TargetDepartment.CONTRACTS
    )
    assert response.status_code == 302
    row = FeatureRequest.objects.get(pk=wish.pk)
    assert (row.status, row.department) == (Status.DEPARTMENT_REVIEW, TargetDepartment.CONTRACTS)
    page = text(as_tina.get(detail(wish), follow=True))
    assert "Billing → Contracts" in page


def test_the_department_select_only_goes_with_passing_on(as_tina, wish):
    """Changing the select and pressing "reject" rejects without moving the request."""
    response = transition(
        as_tina, wish, Status.REJECTED, reason="Gibt es schon", department="contracts"
    )
    assert response.status_code == 302
    row = FeatureRequest.objects.get(pk=wish.pk)
    assert (row.status, row.department) == (Status.REJECTED, TargetDepartment.BILLING)


def test_quality_management_merges_duplicates(as_tina, wish, bob, erika):
    duplicate = new_request(bob, "Papierrechnung per Post", customer=erika)
    response = as_tina.post(
        action("merge", duplicate), {"version": version(duplicate), "into": f"#{wish.pk}"}
    )
    assert response.status_code == 302
    assert response["Location"] == detail(wish)
    row = FeatureRequest.objects.get(pk=duplicate.pk)
    assert (row.status, row.merged_into_id) == (Status.MERGED, wish.pk)
    page = text(as_tina.get(detail(duplicate)))
    assert 'data-testid="merged"' in page and detail(wish) in page
    survivor = text(as_tina.get(detail(wish)))
    assert f"moved from #{duplicate.pk}" in survivor


def test_management_does_everything(as_max, wish, rejected):
    assert transition(as_max, wish, Status.QM_REVIEW).status_code == 302
    assert transition(as_max, wish, Status.DEPARTMENT_REVIEW).status_code == 302
    assert transition(as_max, wish, Status.ACCEPTED).status_code == 302
    response = as_max.post(
        action("edit", wish),
        {
            "version": version(wish),
            "title": "Rechnung auf Papier",
            "description": "Zeile 1\nZeile 2",
            "department": TargetDepartment.BILLING,
        },
    )
    assert response.status_code == 302
    assert FeatureRequest.objects.get(pk=wish.pk).title == "Rechnung auf Papier"
    response = as_max.post(
        action("merge", rejected), {"version": version(rejected), "into": wish.pk}
    )
    assert response.status_code == 302
    assert FeatureRequest.objects.get(pk=rejected.pk).status == Status.MERGED


def test_missing_and_huge_ids_give_404(as_max):
    for pk in (999_999, HUGE):
        assert as_max.get(reverse("feature_requests:request-detail", args=[pk])).status_code == 404
        for verb in ("ask", "transition", "merge", "edit"):
            assert as_max.post(action(verb, pk), {"version": 1}).status_code == 404, verb


# --- Bad input: a clear message, nothing changed ------------------------------------------


def test_rejecting_without_a_reason_is_refused(as_tina, wish):
    before = state(wish)
    response = transition(as_tina, wish, Status.REJECTED, reason="   ")
    assert response.status_code == 200
    assert "Give the reason for the rejection" in text(response)
    assert state(wish) == before


def test_a_move_that_is_not_allowed_is_refused(as_tina, wish):
    before = state(wish)
    response = transition(as_tina, wish, Status.DONE)
    assert response.status_code == 200
    assert "cannot become" in text(response)
    response = transition(as_tina, wish, "nonsense")
    assert "Choose a status this request can move to." in text(response)
    assert state(wish) == before


def test_merging_into_itself_or_into_a_merged_request_is_refused(as_tina, wish, rejected, bob):
    before = state(wish)
    response = as_tina.post(action("merge", wish), {"version": version(wish), "into": wish.pk})
    assert response.status_code == 200
    assert "cannot be merged into itself" in text(response)
    assert state(wish) == before
    services.feature_request_merge(request=rejected, into=wish, actor=None)
    other = new_request(bob, "Rechnungsversand per Fax")
    before = state(other)
    response = as_tina.post(
        action("merge", other), {"version": version(other), "into": rejected.pk}
    )
    assert response.status_code == 200
    assert f"merged into #{wish.pk}" in text(response)
    response = as_tina.post(action("merge", other), {"version": version(other), "into": "abc"})
    assert "Enter the number of the request that stays" in text(response)
    response = as_tina.post(action("merge", other), {"version": version(other), "into": 987654})
    assert "There is no feature request #987654." in text(response)
    assert state(other) == before


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "Give the feature request a title."), ("x" * 201, "at most 200 characters")],
    ids=["empty", "201-characters"],
)
def test_a_bad_title_is_refused(as_max, wish, title, message):
    before = state(wish)
    response = as_max.post(
        action("edit", wish),
        {"version": version(wish), "title": title, "department": TargetDepartment.BILLING},
    )
    assert response.status_code == 200
    assert message in text(response)
    assert state(wish) == before
    count = FeatureRequest.objects.count()
    response = as_max.post(
        CREATE, {"title": title, "department": TargetDepartment.BILLING, "kind": AskKind.WISH}
    )
    assert response.status_code == 200
    assert message in text(response)
    assert FeatureRequest.objects.count() == count


def test_a_stale_edit_is_refused_with_a_message(as_max, tina, wish):
    seen = version(wish)
    services.feature_request_edit(
        request=wish,
        actor=tina,
        title="Rechnung per Post (von Tina)",
        description="",
        department=TargetDepartment.BILLING,
    )
    before = state(wish)
    response = as_max.post(
        action("edit", wish),
        {"version": seen, "title": "Meine Fassung", "department": TargetDepartment.BILLING},
    )
    assert response.status_code == 200
    page = text(response)
    assert 'data-testid="stale"' in page and "Someone else changed this feature request" in page
    assert 'value="Meine Fassung"' in page  # what was typed is kept
    assert state(wish) == before
    response = as_max.post(
        action("transition", wish), {"version": seen, "to": Status.QM_REVIEW, "reason": ""}
    )
    assert 'data-testid="stale"' in text(response)
    assert state(wish) == before


def test_an_unknown_customer_or_ticket_is_a_form_error(as_bob, wish):
    before = state(wish)
    response = as_bob.post(action("ask", wish), {"kind": AskKind.WISH, "customer": "K9999999"})
    assert response.status_code == 200
    assert "No customer has the number K9999999." in text(response)
    response = as_bob.post(action("ask", wish), {"kind": AskKind.WISH, "ticket": "2000-000001"})
    assert "There is no ticket 2000-000001 that you may open." in text(response)
    response = as_bob.post(action("ask", wish), {"kind": "maybe"})
    assert "Choose whether it was a wish or a request we declined." in text(response)
    assert state(wish) == before


def test_a_ticket_of_another_customer_is_refused(as_max, wish, erika, malte_ticket):
    before = state(wish)
    data = {"kind": AskKind.WISH, "customer": erika.number, "ticket": malte_ticket.reference}
    response = as_max.post(action("ask", wish), data)
    assert response.status_code == 200
    assert "This ticket belongs to another customer." in text(response)
    assert state(wish) == before
    response = as_max.post(
        CREATE, {**data, "title": "Tarifwechsel online", "department": TargetDepartment.CONTRACTS}
    )
    assert "This ticket belongs to another customer." in text(response)
    assert state(wish) == before


def test_script_in_title_and_reason_is_escaped(as_tina, bob):
    feature = new_request(bob, "<script>alert(1)</script> Rechnung")
    services.feature_request_transition(
        request=feature, to=Status.REJECTED, reason="<script>alert(2)</script>\nNein.", actor=None
    )
    for url in (detail(feature), LIST, f"{SIMILAR}?title=Rechnung"):
        page = text(as_tina.get(url))
        assert "&lt;script&gt;" in page, url
        assert "<script>alert" not in page, url


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_counts_and_the_rejection_reason(as_bob, wish, rejected):
    page = text(as_bob.get(LIST))
    assert wish.title in page and rejected.title in page
    assert "Das Portal folgt der Systemeinstellung" in page  # the excerpt under the title
    assert 'class="badge fr-status fr-status-rejected"' in page
    assert reverse("feature_requests:request-create") in page


def test_the_list_filters_searches_and_sorts(as_bob, bob, wish, rejected):
    other = new_request(bob, "Abrechnung nach Minuten")
    for _ in range(3):
        services.ask_record(request=other, kind=AskKind.WISH, actor=bob)
    page = text(as_bob.get(LIST, {"status": Status.REJECTED}))
    assert rejected.title in page and wish.title not in page
    page = text(as_bob.get(LIST, {"department": TargetDepartment.WEBSITE}))
    assert rejected.title in page and wish.title not in page
    page = text(as_bob.get(LIST, {"q": "Papier"}))
    assert wish.title in page and rejected.title not in page
    page = text(as_bob.get(LIST, {"ordering": "asks"}))
    assert page.index(other.title) < page.index(wish.title)
    page = text(as_bob.get(LIST, {"ordering": "newest"}))
    assert page.index(other.title) < page.index(rejected.title) < page.index(wish.title)
    assert as_bob.get(LIST, {"ordering": "nonsense", "status": "x"}).status_code == 200
    assert "No feature request matches these filters." in text(as_bob.get(LIST, {"q": "Zzzz"}))


def test_review_queues_show_only_to_those_who_have_them(as_bob, as_tina, as_bert, wish, tina):
    assert 'data-testid="queue-qm"' not in text(as_bob.get(LIST))
    page = text(as_tina.get(LIST))
    assert 'data-testid="queue-qm"' in page and "Quality management review" in page
    page = text(as_bert.get(LIST))
    assert 'data-testid="queue-qm"' not in page and 'data-testid="queue-department"' in page
    page = text(as_tina.get(LIST, {"queue": "qm"}))
    assert wish.title in page
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    services.feature_request_transition(request=wish, to=Status.DEPARTMENT_REVIEW, actor=tina)
    assert wish.title not in text(as_tina.get(LIST, {"queue": "qm"}))
    page = text(as_bert.get(LIST, {"queue": "department"}))
    assert wish.title in page
    assert '<span class="count">1</span>' in page


def test_the_list_has_pages(as_bob, bob):
    for i in range(27):
        new_request(bob, f"Wunsch Nummer {i:02}")
    first = text(as_bob.get(LIST))
    assert "Page 1 of 2" in first and "page=2" in first
    second = text(as_bob.get(LIST, {"page": 2}))
    assert second.count('data-testid="fr-row-') == 2


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["bob", "tina"])
def test_the_list_costs_the_same_queries_for_3_or_30_requests(
    request, who, bob, erika, team, django_assert_num_queries
):
    client = signed_in(request.getfixturevalue(who))
    for i in range(3):
        new_request(bob, f"Wunsch {i}", customer=erika)
    few = queries_for(client, LIST)
    for i in range(27):
        new_request(bob, f"Noch ein Wunsch {i}", customer=erika)
    with django_assert_num_queries(few):
        page = text(client.get(LIST))
    assert page.count('data-testid="fr-row-') == 25


# --- One request --------------------------------------------------------------------------


def test_a_rejected_request_shows_the_answer_for_customers_first(as_bob, rejected):
    page = text(as_bob.get(detail(rejected)))
    assert "Answer for customers" in page
    assert page.index('data-testid="answer"') < page.index('data-testid="fr-title"')
    assert "ein eigenes Design ist nicht geplant" in page.replace("\n", " ")


def test_the_detail_page_shows_figures_history_asks_and_tickets(
    as_bob, wish, bob, tina, erika, ticket
):
    services.ask_record(
        request=wish, kind=AskKind.DECLINED, customer=erika, actor=bob, note="Bitte"
    )
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    services.feature_request_transition(
        request=wish, to=Status.DEPARTMENT_REVIEW, actor=tina, department=TargetDepartment.TECH
    )
    services.ask_record(request=wish, kind=AskKind.WISH, actor=bob)
    page = text(as_bob.get(detail(wish)))
    assert 'data-testid="fr-asks">3<' in page
    assert 'data-testid="fr-customers">1<' in page
    assert 'data-testid="fr-since">3<' in page  # passing on a review decides nothing
    assert "Billing → Tech" in page
    assert "New → Review by quality management" in page
    assert ">repeat<" in page
    assert erika.number in page and erika.get_absolute_url() in page
    assert ticket.get_absolute_url() in page  # bob works erika's ticket: a link
    assert "Request we had to decline" in page
    assert 'role="img"' in page and "<title>" in page and 'data-testid="fr-chart-summary"' in page
    assert "3 asks in the last 26 weeks." in page
    assert "Kundin ist 84 und hat kein E-Mail-Postfach." in page


def test_the_description_keeps_line_breaks_escaped(as_bob, bob):
    feature = new_request(bob, "Rechnung zweizeilig", description="Zeile <b>eins</b>\nZeile zwei")
    page = text(as_bob.get(detail(feature)))
    assert "Zeile &lt;b&gt;eins&lt;/b&gt;<br>Zeile zwei" in page


def test_tickets_the_agent_may_not_open_are_not_links(wish, carol, ticket):
    page = text(signed_in(carol).get(detail(wish)))
    assert ticket.reference in page
    assert ticket.get_absolute_url() not in page


def test_review_reopened_is_shown_in_the_history(
    as_tina, rejected, bob, settings, django_capture_on_commit_callbacks
):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 2
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.ask_record(request=rejected, kind=AskKind.WISH, actor=bob)
    assert FeatureRequest.objects.get(pk=rejected.pk).status == Status.QM_REVIEW
    page = text(as_tina.get(detail(rejected)))
    assert "review reopened by 2 new asks" in page
    assert str(EventKind.REVIEW_REOPENED.label) in page
    assert 'data-testid="last-reason"' in page  # the old reason stays for the second look


def test_asks_are_paginated(as_bob, wish, bob):
    for i in range(25):
        services.ask_record(request=wish, kind=AskKind.WISH, actor=bob, note=f"Notiz {i:02}")
    first = text(as_bob.get(detail(wish)))
    assert "Notiz 24" in first and "asks_page=2" in first
    second = text(as_bob.get(detail(wish), {"asks_page": 2}))
    assert "Kundin ist 84" in second and "Notiz 24" not in second


def test_the_detail_page_costs_the_same_queries_for_few_or_many_asks(
    as_tina, wish, bob, tina, erika, malte, ticket, malte_ticket, django_assert_num_queries
):
    few = queries_for(as_tina, detail(wish))
    for i in range(15):
        services.ask_record(request=wish, kind=AskKind.WISH, actor=bob, customer=erika, note=f"{i}")
        services.ask_record(request=wish, kind=AskKind.DECLINED, actor=tina, ticket=malte_ticket)
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    services.feature_request_transition(request=wish, to=Status.REJECTED, actor=tina, reason="Nö")
    for i in range(5):
        other = new_request(bob, f"Dublette {i}", customer=malte)
        services.feature_request_merge(request=other, into=wish, actor=tina)
    with django_assert_num_queries(few):
        page = text(as_tina.get(detail(wish)))
    assert "Dublette 4" in page


def test_recording_an_ask_redirects_with_a_message(as_bob, wish, erika, ticket):
    response = as_bob.post(
        action("ask", wish),
        {"kind": AskKind.DECLINED, "customer": erika.number, "ticket": f"#{ticket.reference}"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail(wish)
    assert "it has 2 asks now." in text(response)
    ask = Ask.objects.latest("id")
    assert (ask.customer, ask.ticket, ask.kind, ask.is_repeat) == (
        erika,
        ticket,
        AskKind.DECLINED,
        True,
    )


def test_an_ask_on_a_merged_request_is_counted_on_the_survivor(as_bob, wish, rejected, tina):
    services.feature_request_merge(request=rejected, into=wish, actor=tina)
    response = as_bob.post(action("ask", rejected), {"kind": AskKind.WISH})
    assert response["Location"] == detail(wish)


# --- Record a wish ------------------------------------------------------------------------


def test_coming_from_a_ticket_fills_in_ticket_and_customer(as_bob, ticket, erika):
    page = text(as_bob.get(CREATE, {"ticket": ticket.reference}))
    assert f'value="{ticket.reference}"' in page and f'value="{erika.number}"' in page
    assert reverse("tickets:ticket-detail", args=[ticket.reference]) in page


def test_a_ticket_the_agent_may_not_see_gives_404(carol, team, ticket):
    assert signed_in(carol).get(CREATE, {"ticket": ticket.reference}).status_code == 404
    assert signed_in(carol).get(CREATE, {"ticket": "2000-000001"}).status_code == 404


def test_filing_from_a_ticket_goes_back_to_the_ticket(as_bob, ticket, erika):
    response = as_bob.post(
        CREATE,
        {
            "title": "SEPA-Mandat online ändern",
            "description": "Kundin möchte das Konto selbst ändern.",
            "department": TargetDepartment.BILLING,
            "kind": AskKind.WISH,
            "customer": erika.number,
            "ticket": ticket.reference,
            "note": "am Telefon",
            "from_ticket": ticket.reference,
        },
    )
    assert response["Location"] == ticket.get_absolute_url()
    feature = FeatureRequest.objects.get(title="SEPA-Mandat online ändern")
    ask = feature.asks.get()
    assert (ask.customer, ask.ticket, ask.note) == (erika, ticket, "am Telefon")
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert 'data-testid="fr-ticket-card"' in page and "SEPA-Mandat online ändern" in page


def test_filing_without_a_ticket_opens_the_new_request(as_bob):
    response = as_bob.post(
        CREATE,
        {"title": "Online-Kündigung", "department": TargetDepartment.CONTRACTS, "kind": "wish"},
    )
    feature = FeatureRequest.objects.get(title="Online-Kündigung")
    assert response["Location"] == detail(feature)
    assert feature.asks.get().customer is None


def test_similar_requests_show_while_typing(as_bob, rejected, wish):
    page = text(as_bob.get(SIMILAR, {"title": "dunkles Design"}))
    assert f'data-testid="suggestion-{rejected.pk}"' in page
    assert "ein eigenes Design ist nicht geplant" in page
    assert f'name="ask_on" value="{rejected.pk}"' in page
    assert f'data-testid="suggestion-{wish.pk}"' not in page
    assert "No similar request found" in text(as_bob.get(SIMILAR, {"title": "Zzzzz"}))
    assert "Type a title" in text(as_bob.get(SIMILAR, {"title": ""}))


def test_checking_without_javascript_shows_suggestions_and_no_errors(as_bob, rejected):
    response = as_bob.post(CREATE, {"title": "Design dunkel", "check": "1", "kind": "wish"})
    page = text(response)
    assert response.status_code == 200
    assert f'data-testid="suggestion-{rejected.pk}"' in page
    assert "field-error" not in page
    assert 'value="Design dunkel"' in page
    assert FeatureRequest.objects.count() == 1


def test_thats_it_counts_an_ask_on_the_suggestion_instead(as_bob, rejected, ticket, erika):
    count = FeatureRequest.objects.count()
    response = as_bob.post(
        CREATE,
        {
            "title": "Dunkler Modus",
            "department": "",
            "kind": AskKind.DECLINED,
            "customer": erika.number,
            "ticket": ticket.reference,
            "note": "fragt zum zweiten Mal",
            "from_ticket": ticket.reference,
            "ask_on": str(rejected.pk),
        },
        follow=True,
    )
    assert FeatureRequest.objects.count() == count
    assert response.redirect_chain[0][0] == f"{detail(rejected)}?from_ticket={ticket.reference}"
    page = text(response)
    assert "it has 2 asks now." in page
    assert 'data-testid="back-to-ticket"' in page
    ask = Ask.objects.latest("id")
    assert (ask.request_id, ask.ticket, ask.customer, ask.kind, ask.note) == (
        rejected.pk,
        ticket,
        erika,
        AskKind.DECLINED,
        "fragt zum zweiten Mal",
    )


def test_thats_it_with_a_bad_customer_is_a_form_error(as_bob, rejected):
    before = state(rejected)
    response = as_bob.post(
        CREATE, {"title": "Dunkel", "kind": "wish", "customer": "K0000000", "ask_on": rejected.pk}
    )
    assert response.status_code == 200
    assert "No customer has the number K0000000." in text(response)
    assert state(rejected) == before
    assert as_bob.post(CREATE, {"kind": "wish", "ask_on": "999999"}).status_code == 404
    assert as_bob.post(CREATE, {"kind": "wish", "ask_on": "x"}).status_code == 404


# --- Ticket page and navigation -------------------------------------------------------------


def test_the_ticket_page_lists_its_wishes(as_bob, wish, ticket, tina, bob):
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert "Feature requests from this ticket" in page
    assert wish.title in page and detail(wish) in page
    assert f"{CREATE}?ticket={ticket.reference}" in page
    duplicate = new_request(bob, "Rechnung als Brief", ticket=ticket)
    services.feature_request_merge(request=duplicate, into=wish, actor=tina)
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert detail(wish) in page


def test_the_ticket_page_without_wishes_offers_to_record_one(as_bob, ticket):
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert "No wish recorded from this ticket yet." in page


def test_the_portal_shows_no_feature_requests(alice, wish, ticket):
    as_alice = signed_in(alice)
    page = text(as_alice.get(reverse("portal_tickets:ticket-detail", args=[ticket.reference])))
    assert "Feature requests from this ticket" not in page
    assert wish.title not in page
    assert LIST not in text(as_alice.get(reverse("portal-home")))


def test_every_workspace_user_has_the_navigation_entry(as_bob):
    page = text(as_bob.get(reverse("agent-home")))
    nav = page[page.index('class="mainnav"') :]
    nav = nav[: nav.index("</nav>")]
    assert nav.index("Customers") < nav.index("Feature requests")
    assert f'href="{LIST}"' in nav
    page = text(as_bob.get(LIST))
    assert f'href="{LIST}" aria-current="page"' in page
