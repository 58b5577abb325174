"""Outages in the browser's pages: the workspace list, form and detail page with its
actions, the banner on the customer record and the ticket page, the choice on a new
ticket, the customer portal and the public status page.

Pages are read in English (Accept-Language), so the assertions do not depend on the
state of the German translation. Resolving and notifying run after commit; tests that
want the batched work done run it with `django_capture_on_commit_callbacks(execute=True)`
(Celery runs eagerly in tests).
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.choices import ServiceKind
from customers.models import Connection
from mail.models import OutboundMail
from tests.customers import conftest as customer_fixtures
from tests.tickets.conftest import area
from tickets import services
from tickets.choices import Channel, OutageStatus, Status
from tickets.models import Outage, OutageArea, OutageUpdate, Ticket, TicketEvent
from tickets.services import outages

pytestmark = pytest.mark.django_db

dsl_100 = customer_fixtures.dsl_100
erika_contract = customer_fixtures.erika_contract
erika_line = customer_fixtures.erika_line

LIST_URL = "/agent/outages/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The status page's cache lives in memory per test, not in the shared file cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "outages",
        }
    }
    cache.clear()
    yield
    cache.clear()


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def outage_state(outage: Outage) -> tuple:
    """Everything a refused action could change; equal before and after."""
    row = Outage.objects.get(pk=outage.pk)
    return (
        row.version,
        row.status,
        row.title,
        row.area,
        list(row.services),
        row.expected_end_at,
        row.resolved_at,
        list(OutageArea.objects.filter(outage=row).values_list("first", "last").order_by("first")),
        OutageUpdate.objects.filter(outage=row).count(),
        Ticket.objects.filter(outage=row).count(),
    )


def local(moment) -> str:
    """A time as the datetime-local input posts it (Berlin time)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def make_outage(actor, *, title="Störung", services_=("dsl",), area_="51147", **fields) -> Outage:
    outage, _new = outages.outage_create(
        title=title, services=list(services_), area=area_, actor=actor, **fields
    )
    return outage


def link(ticket: Ticket, outage: Outage, actor) -> Ticket:
    return outages.ticket_outage_link(ticket=ticket, outage=outage, actor=actor)


@pytest.fixture
def as_bob(client, bob, team):
    return signed_in(client, bob)


@pytest.fixture
def as_trent(client, trent, team):
    return signed_in(client, trent)


def detail_url(outage: Outage) -> str:
    return reverse("outages:outage-detail", args=[outage.pk])


def action_url(verb: str, outage: Outage) -> str:
    return reverse(f"outages:outage-{verb}", args=[outage.pk])


# --- Access ---------------------------------------------------------------------------------


def test_the_header_offers_outages_to_workspace_users_only(client, bob, alice, team):
    assert f'href="{LIST_URL}"' in text(signed_in(client, bob).get(reverse("agent-home")))
    client.force_login(alice)
    assert f'href="{LIST_URL}"' not in text(client.get(reverse("portal-home")))


def test_anonymous_visitors_are_sent_to_the_agent_login(client, dsl_outage):
    for url in (LIST_URL, detail_url(dsl_outage), reverse("outages:outage-create")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/agent/login/")


@pytest.mark.parametrize("who", ["alice", "mallory"])
def test_customers_cannot_open_workspace_outage_pages(client, request, dsl_outage, who):
    signed_in(client, request.getfixturevalue(who))
    before = outage_state(dsl_outage)
    for url in (LIST_URL, detail_url(dsl_outage), reverse("outages:outage-create")):
        assert client.get(url).status_code in (403, 404)
    for verb in ("update", "resolve", "edit"):
        response = client.post(action_url(verb, dsl_outage), {"text": "x", "status": "identified"})
        assert response.status_code in (403, 404)
    assert outage_state(dsl_outage) == before


def test_customer_service_sees_outages_but_cannot_open_update_or_resolve(as_bob, dsl_outage, trent):
    listing = text(as_bob.get(LIST_URL))
    assert "DSL-Störung Köln-Porz" in listing
    assert reverse("outages:outage-create") not in listing
    page = text(as_bob.get(detail_url(dsl_outage)))
    assert "DSL-Störung Köln-Porz" in page
    for verb in ("update", "resolve", "edit"):
        assert action_url(verb, dsl_outage) not in page
    assert as_bob.get(reverse("outages:outage-create")).status_code == 403
    count = Outage.objects.count()
    response = as_bob.post(
        reverse("outages:outage-create"),
        {"title": "Fake", "services": ["dsl"], "area": "51147", "status": "investigating"},
    )
    assert response.status_code == 403 and Outage.objects.count() == count
    before = outage_state(dsl_outage)
    payloads = {
        "update": {"text": "Neu", "status": "identified"},
        "resolve": {"text": "Behoben"},
        "edit": {"title": "X", "services": ["dsl"], "area": "51147", "version": 1},
    }
    for verb, payload in payloads.items():
        assert as_bob.post(action_url(verb, dsl_outage), payload).status_code == 403
    assert outage_state(dsl_outage) == before


def test_billing_cannot_open_or_resolve_outages_either(client, carol, team, dsl_outage):
    signed_in(client, carol)
    count, before = Outage.objects.count(), outage_state(dsl_outage)
    response = client.post(
        reverse("outages:outage-create"),
        {"title": "Fake", "services": ["dsl"], "area": "51147", "status": "investigating"},
    )
    assert response.status_code == 403 and Outage.objects.count() == count
    assert client.post(action_url("resolve", dsl_outage), {"text": "x"}).status_code == 403
    assert outage_state(dsl_outage) == before


@pytest.mark.parametrize("who", ["trent", "tina", "dana", "max_"])
def test_tech_team_leads_dispatchers_and_management_may_open_outages(client, request, team, who):
    user = request.getfixturevalue(who)
    response = signed_in(client, user).get(LIST_URL)
    assert reverse("outages:outage-create") in text(response)
    assert client.get(reverse("outages:outage-create")).status_code == 200


def test_an_unknown_outage_is_404(as_bob):
    assert as_bob.get(reverse("outages:outage-detail", args=[999999])).status_code == 404


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_active_outages_with_their_linked_tickets(
    as_bob, dsl_outage, ticket, tech_ticket, trent, bob
):
    link(ticket, dsl_outage, bob)
    link(tech_ticket, dsl_outage, trent)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    resolved = make_outage(trent, title="Alte TV-Störung", services_=("tv",))
    outages.outage_resolve(outage=resolved, text="Behoben.", actor=trent)
    page = text(as_bob.get(LIST_URL))
    assert "DSL-Störung Köln-Porz" in page and "Alte TV-Störung" not in page
    assert "51061, 51143-51149" in page  # the area as stored, ranges merged and sorted
    assert "DSL" in page and "VoIP" in page and "Investigating" in page
    row = page[page.index(f'data-testid="outage-tickets-{dsl_outage.pk}"') :]
    assert row[: row.index("</td>")].endswith("1</span> / 2")  # 1 open of 2 linked
    resolved_page = text(as_bob.get(LIST_URL + "?show=resolved"))
    assert "Alte TV-Störung" in resolved_page and "DSL-Störung Köln-Porz" not in resolved_page


def test_the_list_says_when_nothing_is_down(as_bob):
    assert "No active outage" in text(as_bob.get(LIST_URL))


def test_the_list_pages_by_keyset(as_bob, trent):
    for i in range(52):
        make_outage(
            trent, title=f"Störung {i:02}", started_at=timezone.now() - timedelta(minutes=i)
        )
    first = as_bob.get(LIST_URL)
    assert len(first.context["page"].rows) == 50
    assert "Störung 00" in text(first) and "Störung 51" not in text(first)
    second = as_bob.get(first.context["next_url"])
    titles = [row.title for row in second.context["page"].rows]
    assert titles == ["Störung 50", "Störung 51"]


def test_the_list_costs_the_same_queries_for_1_or_30_outages(
    as_trent, trent, erika, alice, django_assert_num_queries
):
    make_outage(trent)
    few = queries_for(as_trent, LIST_URL)
    for i in range(29):
        outage = make_outage(trent, title=f"S{i}")
        ticket = services.ticket_create(
            customer=erika,
            subject=f"Kein Netz {i}",
            body="Nichts geht.",
            channel=Channel.PHONE,
            support_area=area("no-internet"),
            actor=alice,
        )
        link(ticket, outage, trent)
    with django_assert_num_queries(few):
        as_trent.get(LIST_URL)
    assert few <= 6  # session, user, roles, agent with departments (2), the page


# --- Opening an outage ----------------------------------------------------------------------


def create_payload(**changes) -> dict:
    payload = {
        "title": "DSL-Störung Köln-Kalk",
        "description": "Verteiler ausgefallen.",
        "services": ["dsl", "voip"],
        "area": "51103, 51105-51109",
        "status": "investigating",
        "expected_end_at": local(timezone.now() + timedelta(hours=4)),
    }
    payload.update(changes)
    return payload


def test_the_form_explains_the_postal_code_format(as_trent):
    page = text(as_trent.get(reverse("outages:outage-create")))
    assert "51143-51149, 51061" in page
    assert 'type="datetime-local"' in page
    for kind in ServiceKind:
        assert f'value="{kind.value}"' in page


def test_trent_opens_an_outage(as_trent, trent):
    response = as_trent.post(reverse("outages:outage-create"), create_payload())
    outage = Outage.objects.get(title="DSL-Störung Köln-Kalk")
    assert response.status_code == 302 and response["Location"] == detail_url(outage)
    assert (outage.services, outage.area, outage.status) == (
        ["dsl", "voip"],
        "51103, 51105-51109",
        OutageStatus.INVESTIGATING,
    )
    assert outage.created_by == trent
    assert outage.expected_end_at > timezone.now() + timedelta(hours=3)
    assert list(outage.areas.values_list("first", "last").order_by("first")) == [
        ("51103", "51103"),
        ("51105", "51109"),
    ]
    page = text(as_trent.get(response["Location"]))
    assert "DSL-Störung Köln-Kalk opened" not in page  # the notice names it in quotes
    assert "“DSL-Störung Köln-Kalk” opened" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"area": "5114"}, "area", "is not a postal code"),
        ({"area": "51147, abc"}, "area", "is not a postal code"),
        ({"area": "51149-51143"}, "area", "runs backwards"),
        ({"area": ""}, "area", "Enter at least one postal code"),
        ({"title": ""}, "title", "Give the outage a title"),
        ({"title": "   "}, "title", "Give the outage a title"),
        ({"services": []}, "services", "Choose at least one affected service"),
        ({"services": ["fax"]}, "services", "Unknown service: fax"),
        ({"status": "resolved"}, "status", "cannot be resolved already"),
        ({"expected_end_at": "2020-01-01T10:00"}, "expected_end_at", "must be after the start"),
        ({"expected_end_at": "morgen früh"}, "expected_end_at", "Enter a date and time"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_saved(as_trent, changes, field, message):
    response = as_trent.post(reverse("outages:outage-create"), create_payload(**changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message in text(response)
    assert Outage.objects.count() == 0 and OutageArea.objects.count() == 0
    if field != "title":
        assert "DSL-Störung Köln-Kalk" in text(response)  # what was typed stays


# --- One outage -----------------------------------------------------------------------------


def test_the_detail_page_shows_state_updates_and_tickets(
    as_trent, dsl_outage, trent, tina, tech_ticket, ticket, bob
):
    outages.outage_update_post(outage=dsl_outage, text="Bagger hat Kabel getroffen.", actor=trent)
    outages.outage_update_post(
        outage=dsl_outage, text="Spleißarbeiten laufen.", status="identified", actor=tina
    )
    link(tech_ticket, dsl_outage, trent)
    link(ticket, dsl_outage, bob)
    response = as_trent.get(detail_url(dsl_outage))
    page = text(response)
    assert "DSL-Störung Köln-Porz" in page and "Identified" in page
    assert "51061, 51143-51149" in page and "Glasfaserkabel bei Bauarbeiten" in page
    # Newest update first, with its author and whether customers were mailed.
    assert page.index("Spleißarbeiten laufen.") < page.index("Bagger hat Kabel getroffen.")
    assert "Tina Lehmann" in page and "not mailed" in page
    assert "2 open of 2 linked" in page
    # Trent (tech) opens the tech ticket; the customer-service ticket is listed, not linked.
    assert f'href="{tech_ticket.get_absolute_url()}"' in page
    assert ticket.reference in page and f'href="{ticket.get_absolute_url()}"' not in page
    assert "Erika Musterfrau" in page and "K1000001" in page
    assert "Resolving also resolves all 2 open linked tickets and mails their customers" in page


def test_linked_tickets_page_by_keyset(as_trent, dsl_outage, trent, erika, alice):
    for i in range(51):
        new = services.ticket_create(
            customer=erika,
            subject=f"Kein Netz {i:02}",
            body="x",
            channel=Channel.PHONE,
            support_area=area("no-internet"),
            actor=alice,
        )
        link(new, dsl_outage, trent)
    first = as_trent.get(detail_url(dsl_outage))
    assert len(first.context["tickets"].rows) == 50
    second = as_trent.get(first.context["tickets_next_url"])
    assert [row.subject for row in second.context["tickets"].rows] == ["Kein Netz 50"]


def test_the_detail_page_costs_the_same_queries_for_few_or_many_tickets_and_updates(
    as_trent, dsl_outage, trent, erika, alice, django_assert_num_queries
):
    outages.outage_update_post(outage=dsl_outage, text="Erstes Update", actor=trent)
    few = queries_for(as_trent, detail_url(dsl_outage))
    for i in range(30):
        new = services.ticket_create(
            customer=erika,
            subject=f"Kein Netz {i}",
            body="x",
            channel=Channel.PHONE,
            support_area=area("no-internet"),
            actor=alice,
        )
        link(new, dsl_outage, trent)
        outages.outage_update_post(outage=dsl_outage, text=f"Update {i}", actor=trent)
    with django_assert_num_queries(few):
        page = text(as_trent.get(detail_url(dsl_outage)))
    assert "Update 29" in page and "Kein Netz 29" in page


# --- Posting an update ----------------------------------------------------------------------


def test_trent_posts_an_update_that_mails_the_linked_customers(
    as_trent, dsl_outage, tech_ticket, trent, django_capture_on_commit_callbacks
):
    link(tech_ticket, dsl_outage, trent)
    eta = timezone.now() + timedelta(hours=9)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_trent.post(
            action_url("update", dsl_outage),
            {
                "text": "Das Kabel ist geflickt, die Technik wird hochgefahren.",
                "status": "monitoring",
                "expected_end_at": local(eta),
                "notify": "on",
            },
        )
    assert response.status_code == 302 and response["Location"] == detail_url(dsl_outage)
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.MONITORING
    assert local(dsl_outage.expected_end_at) == local(eta)
    update = dsl_outage.updates.get()
    assert (update.notify, update.author, update.notified_at is not None) == (True, trent, True)
    mail = OutboundMail.objects.get(ticket=tech_ticket, kind="outage")
    assert "Das Kabel ist geflickt" in mail.body_text
    outages.outage_update_post(outage=dsl_outage, text="Läuft wieder an.", actor=trent)
    page = text(as_trent.get(detail_url(dsl_outage)))
    assert "being notified" in page  # the success notice
    assert "customers notified" in page and "Monitoring" in page
    # The expected end is named on the update that moved it, not repeated on the next.
    assert page.count("Expected end: ") == 1


def test_an_update_without_notify_mails_nobody(as_trent, dsl_outage, tech_ticket, trent):
    link(tech_ticket, dsl_outage, trent)
    response = as_trent.post(
        action_url("update", dsl_outage),
        {"text": "Noch keine Neuigkeiten.", "status": "investigating"},
    )
    assert response.status_code == 302
    assert dsl_outage.updates.get().notify is False
    assert not OutboundMail.objects.filter(
        ticket=tech_ticket, subject__icontains="Störung"
    ).exists()


def test_a_pending_notification_shows_how_far_it_got(as_trent, dsl_outage, trent, erika, alice):
    tickets = []
    for i in range(3):
        new = services.ticket_create(
            customer=erika,
            subject=f"Kein Netz {i}",
            body="x",
            channel=Channel.PHONE,
            support_area=area("no-internet"),
            actor=alice,
        )
        tickets.append(link(new, dsl_outage, trent))
    # Posted, but the batches have not run (after commit, which this test never reaches).
    update = outages.outage_update_post(outage=dsl_outage, text="Neu", actor=trent, notify=True)
    OutageUpdate.objects.filter(pk=update.pk).update(notified_through=tickets[0].pk)
    page = text(as_trent.get(detail_url(dsl_outage)))
    assert "notifying customers: 1 of 3 tickets" in page


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"text": "", "status": "identified"}, "text", "Write what customers"),
        ({"text": "x", "status": "resolved"}, "status", "Choose a working status"),
        ({"text": "x", "status": "broken"}, "status", "Choose a working status"),
        (
            {"text": "x", "status": "identified", "expected_end_at": "2020-01-01T10:00"},
            "expected_end_at",
            "must be after the start",
        ),
    ],
)
def test_a_bad_update_is_refused_and_changes_nothing(as_trent, dsl_outage, payload, field, message):
    before = outage_state(dsl_outage)
    response = as_trent.post(action_url("update", dsl_outage), payload)
    assert response.status_code == 200
    assert any(message in error for error in response.context["forms"]["update"].errors[field])
    assert message in text(response)
    assert outage_state(dsl_outage) == before


def test_an_update_on_a_resolved_outage_is_refused(as_trent, dsl_outage, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    before = outage_state(dsl_outage)
    response = as_trent.post(
        action_url("update", dsl_outage),
        {"text": "Doch nicht", "status": "identified"},
        follow=True,
    )
    assert "already resolved" in text(response)
    assert outage_state(dsl_outage) == before


# --- Resolving ------------------------------------------------------------------------------


def test_resolving_resolves_and_mails_the_linked_tickets(
    as_trent, dsl_outage, tech_ticket, ticket, trent, bob, django_capture_on_commit_callbacks
):
    link(tech_ticket, dsl_outage, trent)
    link(ticket, dsl_outage, bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_trent.post(
            action_url("resolve", dsl_outage), {"text": "Kabel repariert, alle Leitungen laufen."}
        )
    assert response.status_code == 302
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.RESOLVED and dsl_outage.tickets_resolved_at
    assert set(Ticket.objects.filter(outage=dsl_outage).values_list("status", flat=True)) == {
        Status.RESOLVED
    }
    assert OutboundMail.objects.filter(ticket__in=[ticket, tech_ticket], kind="outage").count() == 2
    page = text(as_trent.get(detail_url(dsl_outage)))
    assert "All 2 linked tickets were resolved" in page
    assert action_url("resolve", dsl_outage) not in page  # nothing left to do here


def test_the_page_shows_the_progress_of_the_batched_resolution(
    as_trent, dsl_outage, tech_ticket, ticket, trent, bob
):
    link(tech_ticket, dsl_outage, trent)
    link(ticket, dsl_outage, bob)
    # The batches run after commit, which a test transaction never reaches: run one by hand.
    as_trent.post(action_url("resolve", dsl_outage), {"text": "Behoben."})
    assert "0 of 2 tickets resolved" in text(as_trent.get(detail_url(dsl_outage)))
    outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk, limit=1)
    assert "1 of 2 tickets resolved" in text(as_trent.get(detail_url(dsl_outage)))


def test_resolving_twice_gives_a_clear_error(as_trent, dsl_outage, tech_ticket, trent):
    link(tech_ticket, dsl_outage, trent)
    assert as_trent.post(action_url("resolve", dsl_outage), {"text": "Behoben."}).status_code == 302
    before = outage_state(dsl_outage)
    response = as_trent.post(action_url("resolve", dsl_outage), {"text": "Nochmal."}, follow=True)
    assert "This outage is already resolved." in text(response)
    assert outage_state(dsl_outage) == before
    assert dsl_outage.updates.filter(status=OutageStatus.RESOLVED).count() == 1


def test_resolving_without_a_text_is_refused(as_trent, dsl_outage):
    before = outage_state(dsl_outage)
    response = as_trent.post(action_url("resolve", dsl_outage), {"text": "  "})
    assert response.status_code == 200
    assert response.context["forms"]["resolve"].errors["text"]
    assert outage_state(dsl_outage) == before


# --- Correcting the details -----------------------------------------------------------------


def edit_payload(outage: Outage, **changes) -> dict:
    payload = {
        "title": outage.title,
        "description": outage.description,
        "services": list(outage.services),
        "area": outage.area,
        "expected_end_at": local(outage.expected_end_at) if outage.expected_end_at else "",
        "version": outage.version,
    }
    payload.update(changes)
    return payload


def test_trent_corrects_the_area(as_trent, dsl_outage):
    response = as_trent.post(
        action_url("edit", dsl_outage),
        edit_payload(dsl_outage, area="51143-51149, 51061, 51065", title="DSL Köln-Porz/Mülheim"),
    )
    assert response.status_code == 302
    dsl_outage.refresh_from_db()
    assert (dsl_outage.title, dsl_outage.area, dsl_outage.version) == (
        "DSL Köln-Porz/Mülheim",
        "51061, 51065, 51143-51149",
        2,
    )
    assert dsl_outage.areas.count() == 3


def test_a_stale_edit_is_refused_with_a_notice(as_trent, dsl_outage, trent):
    form_version = dsl_outage.version
    outages.outage_edit(
        outage=dsl_outage,
        title="Von Tina geändert",
        description="",
        services=["dsl"],
        area="51147",
        expected_end_at=None,
        actor=trent,
        expected_version=form_version,
    )
    before = outage_state(dsl_outage)
    response = as_trent.post(
        action_url("edit", dsl_outage),
        edit_payload(dsl_outage, title="Meine Änderung", version=form_version),
    )
    assert response.status_code == 200
    page = text(response)
    assert "Someone else changed this outage meanwhile" in page
    assert "Meine Änderung" in page  # what was typed stays in the form
    assert outage_state(dsl_outage) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"area": "511"}, "area"),
        ({"area": "51200-51100"}, "area"),
        ({"title": ""}, "title"),
        ({"services": ["pager"]}, "services"),
        ({"expected_end_at": "2000-01-01T00:00"}, "expected_end_at"),
    ],
)
def test_a_bad_edit_is_refused_at_the_field(as_trent, dsl_outage, changes, field):
    before = outage_state(dsl_outage)
    response = as_trent.post(action_url("edit", dsl_outage), edit_payload(dsl_outage, **changes))
    assert response.status_code == 200
    assert response.context["forms"]["edit"].errors[field]
    assert outage_state(dsl_outage) == before


# --- The customer record --------------------------------------------------------------------


def customer_url(customer) -> str:
    return reverse("customers:customer-detail", args=[customer.number])


def test_the_customer_record_shows_the_outage_banner(as_bob, erika, erika_line, dsl_outage, trent):
    outages.outage_update_post(outage=dsl_outage, text="Techniker sind vor Ort.", actor=trent)
    page = text(as_bob.get(customer_url(erika)))
    banner = page[page.index('data-testid="outage-banner"') :]
    banner = banner[: banner.index("</section>")]
    assert "DSL-Störung Köln-Porz" in banner and dsl_outage.get_absolute_url() in banner
    assert "Investigating" in banner and "DSL" in banner and "VoIP" in banner
    assert "expected to be fixed:" in banner
    assert "Techniker sind vor Ort." in banner


def test_no_banner_for_customers_outside_the_area_or_without_the_service(
    as_bob, erika, malte, dsl_outage
):
    # Malte lives in Berlin; Erika has no DSL or VoIP line yet.
    assert 'data-testid="outage-banner"' not in text(as_bob.get(customer_url(malte)))
    assert 'data-testid="outage-banner"' not in text(as_bob.get(customer_url(erika)))
    Connection.objects.create(customer=erika, kind=ServiceKind.TV, identifier="TV-1")
    assert 'data-testid="outage-banner"' not in text(as_bob.get(customer_url(erika)))
    Connection.objects.create(customer=erika, kind=ServiceKind.VOIP, identifier="VOIP-9")
    assert 'data-testid="outage-banner"' in text(as_bob.get(customer_url(erika)))


def test_the_banner_check_adds_exactly_one_query_to_the_customer_record(
    client, bob, erika, erika_line, trent, django_assert_num_queries
):
    signed_in(client, bob)
    client.get(customer_url(erika))  # warm the process's caches (content types, …)
    # The record's 14 queries (see tests/customers) and the outage check: one query.
    with django_assert_num_queries(15):
        client.get(customer_url(erika))
    for i in range(5):
        make_outage(trent, title=f"Störung {i}")
        make_outage(trent, title=f"Woanders {i}", area_="10115")
    with django_assert_num_queries(15):
        page = text(client.get(customer_url(erika)))
    assert page.count('data-testid="outage-banner"') == 5


# --- The ticket page ------------------------------------------------------------------------


def test_the_ticket_page_offers_to_link_the_affected_customers_ticket(
    as_bob, ticket, erika_line, dsl_outage
):
    page = text(as_bob.get(ticket.get_absolute_url()))
    offer = page[page.index('data-testid="outage-offer"') :]
    assert "DSL-Störung Köln-Porz" in offer and "Investigating" in offer
    assert reverse("outages:ticket-link", args=[ticket.reference]) in offer
    assert f'name="outage" value="{dsl_outage.pk}"' in offer


def test_bob_links_the_ticket_in_one_click(as_bob, bob, ticket, erika_line, dsl_outage):
    response = as_bob.post(
        reverse("outages:ticket-link", args=[ticket.reference]), {"outage": dsl_outage.pk}
    )
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    ticket.refresh_from_db()
    assert ticket.outage == dsl_outage
    assert TicketEvent.objects.filter(ticket=ticket, kind="ticket.outage_linked").count() == 1
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert 'data-testid="outage-linked"' in page and 'data-testid="outage-offer"' not in page
    assert "Belongs to the outage" in page and "expected to be fixed:" in page
    assert reverse("outages:ticket-unlink", args=[ticket.reference]) in page


def test_linking_over_htmx_answers_with_the_ticket_area(as_bob, ticket, erika_line, dsl_outage):
    response = as_bob.post(
        reverse("outages:ticket-link", args=[ticket.reference]),
        {"outage": dsl_outage.pk},
        HTTP_HX_REQUEST="true",
    )
    page = text(response)
    assert response.status_code == 200 and page.lstrip().startswith('<div id="ticket"')
    assert "Belongs to the outage" in page and "Linked with the outage" in page


def test_unlinking_takes_the_ticket_out(as_bob, bob, ticket, erika_line, dsl_outage):
    link(ticket, dsl_outage, bob)
    response = as_bob.post(reverse("outages:ticket-unlink", args=[ticket.reference]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.outage is None
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert 'data-testid="outage-offer"' in page  # offered again


@pytest.mark.parametrize("how", ["resolved", "missing", "junk", "huge"])
def test_linking_to_a_resolved_or_unknown_outage_is_refused(
    as_bob, ticket, erika_line, dsl_outage, trent, how
):
    if how == "resolved":
        outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    value = {"resolved": dsl_outage.pk, "missing": 999999, "junk": "abc", "huge": "9" * 30}[how]
    events = TicketEvent.objects.filter(ticket=ticket).count()
    response = as_bob.post(
        reverse("outages:ticket-link", args=[ticket.reference]), {"outage": value}, follow=True
    )
    assert response.status_code == 200
    expected = "already resolved" if how == "resolved" else "does not exist"
    assert expected in text(response)
    ticket.refresh_from_db()
    assert ticket.outage is None and TicketEvent.objects.filter(ticket=ticket).count() == events


def test_a_refused_link_over_htmx_shows_the_reason_in_the_ticket_area(
    as_bob, ticket, erika_line, dsl_outage, trent
):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    response = as_bob.post(
        reverse("outages:ticket-link", args=[ticket.reference]),
        {"outage": dsl_outage.pk},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="outage-error"' in text(response) and "already resolved" in text(response)


def test_only_who_works_the_ticket_may_link_it(client, carol, alice, ticket, dsl_outage, team):
    signed_in(client, carol)  # billing does not see customer-service tickets
    url = reverse("outages:ticket-link", args=[ticket.reference])
    assert client.post(url, {"outage": dsl_outage.pk}).status_code == 404
    client.force_login(alice)
    assert client.post(url, {"outage": dsl_outage.pk}).status_code == 403
    assert client.get(url).status_code in (403, 405)
    ticket.refresh_from_db()
    assert ticket.outage is None


def test_no_offer_on_a_resolved_ticket(as_bob, bob, ticket, erika_line, dsl_outage):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    assert 'data-testid="outage-offer"' not in text(as_bob.get(ticket.get_absolute_url()))


def test_the_ticket_page_costs_the_same_queries_with_one_or_many_outages(
    as_bob, ticket, erika_line, trent, django_assert_num_queries
):
    make_outage(trent)
    few = queries_for(as_bob, ticket.get_absolute_url())
    for i in range(6):
        make_outage(trent, title=f"Störung {i}")
    with django_assert_num_queries(few):
        page = text(as_bob.get(ticket.get_absolute_url()))
    assert page.count('data-testid="outage-offer"') == 7


# --- A new ticket for an affected customer --------------------------------------------------


def new_ticket_url(customer) -> str:
    return reverse("tickets:ticket-create", args=[customer.number])


def new_ticket_payload(**changes) -> dict:
    payload = {
        "support_area": area("no-internet").pk,
        "channel": Channel.PHONE,
        "priority": 2,
        "subject": "Kein Internet",
        "body": "Seit heute früh geht nichts.",
    }
    payload.update(changes)
    return payload


def test_a_new_ticket_is_offered_the_outage_pre_checked(as_bob, erika, erika_line, dsl_outage):
    page = text(as_bob.get(new_ticket_url(erika)))
    choice = page[page.index('data-testid="outage-choice"') :]
    assert "Link with the outage “DSL-Störung Köln-Porz”" in choice
    assert f'value="{dsl_outage.pk}"' in choice
    checked = choice[: choice.index("checked")]
    assert checked.rindex('value="') == checked.rindex(f'value="{dsl_outage.pk}"')


def test_the_new_ticket_joins_the_outage(as_trent, erika, erika_line, dsl_outage):
    response = as_trent.post(new_ticket_url(erika), new_ticket_payload(outage=dsl_outage.pk))
    assert response.status_code == 302
    created = Ticket.objects.get(subject="Kein Internet")
    assert created.outage == dsl_outage
    assert created.events.get(kind="ticket.created").data["outage"] == dsl_outage.pk


def test_the_agent_may_decline_the_outage(as_trent, erika, erika_line, dsl_outage):
    assert as_trent.post(new_ticket_url(erika), new_ticket_payload(outage="")).status_code == 302
    assert Ticket.objects.get(subject="Kein Internet").outage is None


def test_no_outage_choice_for_an_unaffected_customer(as_bob, malte, dsl_outage):
    assert 'data-testid="outage-choice"' not in text(as_bob.get(new_ticket_url(malte)))


@pytest.mark.parametrize("which", ["elsewhere", "resolved", "unaffected_customer"])
def test_a_foreign_or_resolved_outage_is_refused_on_a_new_ticket(
    as_trent, erika, erika_line, malte, dsl_outage, trent, which
):
    customer = erika
    outage = dsl_outage
    if which == "elsewhere":
        outage = make_outage(trent, title="Berlin", area_="10115")
    elif which == "resolved":
        outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    else:
        customer = malte
    response = as_trent.post(new_ticket_url(customer), new_ticket_payload(outage=outage.pk))
    assert response.status_code == 200
    assert "resolved or does not affect this customer" in text(response)
    assert not Ticket.objects.filter(subject="Kein Internet").exists()


def test_the_new_ticket_page_has_a_fixed_number_of_queries(
    as_bob, erika, erika_line, trent, django_assert_num_queries
):
    make_outage(trent)
    few = queries_for(as_bob, new_ticket_url(erika))
    for i in range(5):
        make_outage(trent, title=f"Störung {i}")
    with django_assert_num_queries(few):
        as_bob.get(new_ticket_url(erika))


# --- The customer portal --------------------------------------------------------------------


def portal_url(ticket) -> str:
    return reverse("portal_tickets:ticket-detail", args=[ticket.reference])


def test_the_request_page_shows_the_outage_without_names(
    client, alice, tech_ticket, dsl_outage, trent
):
    outages.outage_update_post(
        outage=dsl_outage,
        text="Der Bagger ist weg, wir spleißen.",
        status="identified",
        actor=trent,
    )
    link(tech_ticket, dsl_outage, trent)
    page = text(signed_in(client, alice).get(portal_url(tech_ticket)))
    box = page[page.index('data-testid="outage-box"') :]
    box = box[: box.index("</section>")]
    assert "DSL-Störung Köln-Porz" in box and "Identified" in box
    assert "We expect it to be fixed by" in box
    assert "Der Bagger ist weg, wir spleißen." in box
    assert "Trent" not in box and "Roth" not in box
    assert dsl_outage.get_absolute_url() not in page  # no way into the workspace


def test_the_request_page_says_when_the_outage_is_fixed(
    client, alice, tech_ticket, dsl_outage, trent
):
    link(tech_ticket, dsl_outage, trent)
    outages.outage_resolve(outage=dsl_outage, text="Alles läuft wieder.", actor=trent)
    page = text(signed_in(client, alice).get(portal_url(tech_ticket)))
    assert "The outage behind your request is resolved" in page
    assert "Alles läuft wieder." in page


def test_a_request_without_outage_has_no_box(client, alice, tech_ticket, dsl_outage):
    assert 'data-testid="outage-box"' not in text(
        signed_in(client, alice).get(portal_url(tech_ticket))
    )


def test_the_request_page_costs_one_query_more_for_the_outage_whatever_its_updates(
    client, alice, tech_ticket, dsl_outage, trent, django_assert_num_queries
):
    signed_in(client, alice)
    without = queries_for(client, portal_url(tech_ticket))
    link(tech_ticket, dsl_outage, trent)
    outages.outage_update_post(outage=dsl_outage, text="Update 0", actor=trent)
    few = queries_for(client, portal_url(tech_ticket))
    assert few == without + 1  # the outage's updates
    for i in range(1, 20):
        outages.outage_update_post(outage=dsl_outage, text=f"Update {i}", actor=trent)
    with django_assert_num_queries(few):
        page = text(client.get(portal_url(tech_ticket)))
    assert "Update 19" in page and "Update 0" in page


def test_another_customer_cannot_see_the_outage_box(
    client, mallory, tech_ticket, dsl_outage, trent
):
    link(tech_ticket, dsl_outage, trent)
    response = signed_in(client, mallory).get(portal_url(tech_ticket))
    assert response.status_code == 404
    assert "DSL-Störung" not in text(response)


def test_the_portal_home_shows_outages_at_the_customers_address(
    client, alice, mallory, erika_line, malte, dsl_outage, trent
):
    outages.outage_update_post(outage=dsl_outage, text="Techniker vor Ort.", actor=trent)
    page = text(signed_in(client, alice).get(reverse("portal-home")))
    box = page[page.index('data-testid="portal-outage"') :]
    assert "DSL-Störung Köln-Porz" in box and "Techniker vor Ort." in box
    assert "We expect it to be fixed by" in box
    assert reverse("status:status-page") in page
    other = text(signed_in(client, mallory).get(reverse("portal-home")))
    assert 'data-testid="portal-outage"' not in other and "DSL-Störung" not in other
    assert reverse("status:status-page") in other


def test_the_portal_home_has_a_fixed_number_of_queries(
    client, alice, erika_line, trent, django_assert_num_queries
):
    make_outage(trent)
    signed_in(client, alice)
    few = queries_for(client, reverse("portal-home"))
    for i in range(5):
        make_outage(trent, title=f"Störung {i}")
    with django_assert_num_queries(few):
        page = text(client.get(reverse("portal-home")))
    assert page.count('data-testid="portal-outage"') == 6


# --- The public status page -----------------------------------------------------------------

STATUS_URL = "/status/"


def test_the_status_page_needs_no_login_and_groups_by_region(
    client, dsl_outage, cologne, berlin, trent
):
    make_outage(trent, title="TV-Ausfall Hamburg", services_=("tv",), area_="20095-20099")
    outages.outage_update_post(outage=dsl_outage, text="Kabel wird gespleißt.", actor=trent)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(STATUS_URL)
    assert response.status_code == 200
    page = text(response)
    assert page.index("Köln") < page.index("DSL-Störung Köln-Porz") < page.index("Other areas")
    assert page.index("Other areas") < page.index("TV-Ausfall Hamburg")
    assert "Berlin</h2>" not in page  # no outage there: no heading
    assert "51061, 51143-51149" in page and "Kabel wird gespleißt." in page
    assert "DSL" in page and "VoIP" in page and "Investigating" in page


def test_the_status_page_shows_no_customer_data(
    client, dsl_outage, tech_ticket, ticket, trent, bob, erika, cologne
):
    link(tech_ticket, dsl_outage, trent)
    link(ticket, dsl_outage, bob)
    page = text(client.get(STATUS_URL))
    for private in (
        erika.number,
        erika.last_name,
        erika.first_name,
        erika.street,
        tech_ticket.reference,
        ticket.subject,
        "Trent",
        "Roth",
        dsl_outage.description,  # internal: cause and who works on it
    ):
        assert private not in page, private


def test_the_status_page_says_when_all_is_well(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "All services are running" in text(client.get(STATUS_URL))


def test_resolved_outages_leave_the_status_page(client, dsl_outage, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    assert "DSL-Störung" not in text(client.get(STATUS_URL))


def test_the_status_page_is_rendered_once_per_language_every_30_seconds(
    client, dsl_outage, trent, django_assert_num_queries
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "DSL-Störung Köln-Porz" in text(client.get(STATUS_URL))
    make_outage(trent, title="Neue Störung")
    with django_assert_num_queries(0):
        page = text(client.get(STATUS_URL))
    assert "DSL-Störung Köln-Porz" in page and "Neue Störung" not in page
    assert "Services" in page and "<dt>" in page  # cached HTML, not escaped
    # German visitors get their own rendering (and see the new outage at once).
    german = text(client.get(STATUS_URL, HTTP_ACCEPT_LANGUAGE="de"))
    assert "Neue Störung" in german and "<dt>Seit</dt>" in german
    cache.clear()  # as 30 seconds later
    assert "Neue Störung" in text(client.get(STATUS_URL))


def test_rendering_the_status_page_costs_the_same_queries_for_1_or_20_outages(
    client, trent, cologne, berlin, django_assert_num_queries
):
    make_outage(trent)
    few = queries_for(client, STATUS_URL)
    for i in range(19):
        make_outage(trent, title=f"Störung {i}", area_=f"{10115 + i}")
    cache.clear()
    with django_assert_num_queries(few):
        page = text(client.get(STATUS_URL))
    assert page.count('data-testid="status-outage"') == 20
    assert few <= 3  # outages with their areas and latest update (2), regions


def test_the_landing_page_links_the_status_page(client):
    assert reverse("status:status-page") in text(client.get(reverse("home")))
