"""Outage services: reading postal-code areas, opening and editing outages, updates and
their batched notices, resolving with the linked tickets (SLA clocks, events, mails),
resuming after a lost worker, linking tickets."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from customers import services as customer_services
from escalation.models import SlaClock
from helpdesk.errors import DomainError, StaleEdit
from mail.models import OutboundMail
from tests.tickets.conftest import area
from tickets import services, tasks
from tickets.choices import Channel, OutageStatus, Status
from tickets.models import Outage, OutageArea, OutageUpdate, Ticket, TicketEvent
from tickets.services import outages

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are compared in English (the default language is German)."""
    settings.LANGUAGE_CODE = "en"


def snapshot() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(Outage.objects.order_by("pk").values()),
        list(OutageArea.objects.order_by("pk").values()),
        list(OutageUpdate.objects.order_by("pk").values()),
        list(Ticket.objects.order_by("pk").values()),
        list(SlaClock.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        OutboundMail.objects.count(),
    )


def customer(number: int, *, email: str | None = None, postal_code: str = "51147"):
    return customer_services.customer_create(
        number=f"K{number:07d}",
        first_name="Kunde",
        last_name=str(number),
        street="Hauptstraße 1",
        postal_code=postal_code,
        city="Köln",
        email=f"kunde{number}@example.de" if email is None else email,
    )


def report(who, actor, *, outage=None, subject: str = "Kein Internet") -> Ticket:
    return services.ticket_create(
        customer=who,
        subject=subject,
        body="Seit heute früh geht nichts.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=actor,
        outage=outage,
    )


def open_outage(actor, **changes) -> Outage:
    fields = {"title": "DSL Köln", "services": ["dsl"], "area": "51147", "actor": actor}
    outage, _new = outages.outage_create(**{**fields, **changes})
    return outage


# --- Postal-code areas ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ranges"),
    [
        ("10115", [("10115", "10115")]),
        ("  10115\n", [("10115", "10115")]),
        ("12000-12999", [("12000", "12999")]),
        ("12000\u201312999", [("12000", "12999")]),  # en dash, as office programs write it
        ("12000 - 12999", [("12000", "12999")]),
        ("12000 \u2013 12999, 10115", [("10115", "10115"), ("12000", "12999")]),
        ("10117, 10115;10119\t10118", [("10115", "10115"), ("10117", "10119")]),
        ("10115, 10116", [("10115", "10116")]),  # neighbours merge
        ("10115-10120, 10118-10130", [("10115", "10130")]),  # overlaps merge
        ("10115-10120, 10116", [("10115", "10120")]),  # contained
        ("10115, 10115", [("10115", "10115")]),
        ("01067, 99998-99999", [("01067", "01067"), ("99998", "99999")]),
    ],
)
def test_postal_codes_and_ranges_are_read_sorted_and_merged(raw, ranges):
    assert outages.postal_ranges_parse(raw) == ranges


def test_ranges_are_written_back_canonically():
    ranges = outages.postal_ranges_parse("51149, 51143-51148, 51061")
    assert outages.postal_ranges_text(ranges) == "51061, 51143-51149"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("1011", "1011"),
        ("101150", "101150"),
        ("10115, 1O115", "1O115"),  # a letter O
        ("D-10115", "D-10115"),
        ("10115-1012", "10115-1012"),
        ("10115-", "10115-"),
        ("-10115", "-10115"),
        ("10115--10119", "10115--10119"),
        ("10115-10117-10119", "10115-10117-10119"),
        ("\u0661\u0660\u0661\u0661\u0665", "\u0661\u0660\u0661\u0661\u0665"),  # Arabic digits
    ],
)
def test_what_is_not_a_postal_code_is_refused_by_name(raw, names):
    with pytest.raises(DomainError) as refused:
        outages.postal_ranges_parse(raw)
    assert refused.value.field == "area"
    assert names in refused.value.message


def test_a_backwards_range_is_refused():
    with pytest.raises(DomainError) as refused:
        outages.postal_ranges_parse("10119-10115", field="postal_codes")
    assert refused.value.field == "postal_codes"
    assert "10119-10115" in refused.value.message and "lower code first" in refused.value.message


@pytest.mark.parametrize("raw", ["", "   ", ",;", None])
def test_an_empty_area_is_refused(raw):
    with pytest.raises(DomainError, match="at least one postal code"):
        outages.postal_ranges_parse(raw)


def test_too_many_codes_are_refused():
    many = ", ".join(f"{10000 + 2 * i}" for i in range(outages.AREA_MAX_RANGES + 1))
    with pytest.raises(DomainError, match="At most 500"):
        outages.postal_ranges_parse(many)
    assert len(outages.postal_ranges_parse(", ".join(many.split(", ")[:-1]))) == 500


# --- Opening and editing ----------------------------------------------------------------


def test_an_outage_opens_with_its_ranges(trent):
    outage, created = outages.outage_create(
        title="  DSL Köln-Porz ",
        services=["voip", "dsl", "dsl"],
        area="51149, 51143-51148, 51061",
        actor=trent,
    )
    assert created
    assert outage.title == "DSL Köln-Porz" and outage.services == ["dsl", "voip"]
    assert outage.area == "51061, 51143-51149"
    assert outage.status == OutageStatus.INVESTIGATING and outage.created_by == trent
    assert sorted(outage.areas.values_list("first", "last")) == [
        ("51061", "51061"),
        ("51143", "51149"),
    ]
    assert outage.covers("51145") and not outage.covers("51150")


def test_the_same_monitoring_id_returns_the_same_outage_unchanged(monitoring):
    first, created = outages.outage_create(
        title="NMS 1", services=["tv"], area="10115", actor=monitoring, external_id="NMS-1"
    )
    before = snapshot()
    again, created_again = outages.outage_create(
        title="Anders", services=["dsl"], area="80331", actor=monitoring, external_id=" NMS-1 "
    )
    assert created and not created_again
    assert again.pk == first.pk and again.title == "NMS 1"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Zero\u200fwidth\u202e"}, "title"),
        ({"services": []}, "services"),
        ({"services": ["dsl", "fax"]}, "services"),
        ({"area": "5114"}, "area"),
        ({"status": OutageStatus.RESOLVED}, "status"),
        ({"started_at": timezone.now() + timedelta(hours=1)}, "started_at"),
        ({"expected_end_at": timezone.now() - timedelta(hours=1)}, "expected_end_at"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"description": "x" * 5001}, "description"),
    ],
)
def test_bad_details_are_refused_and_nothing_opens(trent, changes, field):
    with pytest.raises(DomainError) as refused:
        open_outage(trent, **changes)
    assert refused.value.field == field
    assert not Outage.objects.exists() and not OutageArea.objects.exists()


def test_an_edit_replaces_the_details_and_the_ranges(dsl_outage, trent):
    outage = outages.outage_edit(
        outage=dsl_outage,
        title="DSL Köln",
        description="Größer als gedacht.",
        services=["dsl"],
        area="51000-51999",
        expected_end_at=None,
        actor=trent,
        expected_version=dsl_outage.version,
    )
    assert outage.version == 2 and outage.area == "51000-51999"
    assert list(OutageArea.objects.values_list("first", "last")) == [("51000", "51999")]
    assert outage.expected_end_at is None


def test_a_stale_edit_is_refused(dsl_outage, trent):
    outages.outage_update_post(outage=dsl_outage, text="Stand 1", actor=trent)  # version 2
    before = snapshot()
    with pytest.raises(StaleEdit):
        outages.outage_edit(
            outage=dsl_outage,
            title="Alt",
            description="",
            services=["dsl"],
            area="51147",
            expected_end_at=None,
            actor=trent,
            expected_version=1,
        )
    assert snapshot() == before


def test_a_resolved_outage_cannot_be_edited(dsl_outage, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    with pytest.raises(DomainError, match="resolved"):
        outages.outage_edit(
            outage=dsl_outage,
            title="Neu",
            description="",
            services=["dsl"],
            area="51147",
            expected_end_at=None,
            actor=trent,
            expected_version=dsl_outage.version,
        )


# --- Updates and notices ----------------------------------------------------------------


def test_updates_move_the_status_and_keep_the_latest_eta(dsl_outage, trent):
    eta = timezone.now() + timedelta(hours=12)
    first = outages.outage_update_post(
        outage=dsl_outage,
        text="Ursache gefunden.",
        status="identified",
        expected_end_at=eta,
        actor=trent,
    )
    assert dsl_outage.status == OutageStatus.IDENTIFIED and dsl_outage.expected_end_at == eta
    assert first.expected_end_at == eta and first.author == trent and not first.notify
    second = outages.outage_update_post(
        outage=dsl_outage, text="Wir messen.", status="monitoring", actor=trent
    )
    assert second.expected_end_at == eta  # unchanged ETA carried on the update
    back = outages.outage_update_post(
        outage=dsl_outage, text="Doch nicht.", status="investigating", actor=trent
    )
    assert back.status == OutageStatus.INVESTIGATING
    assert dsl_outage.version == 4


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": " "}, "text"),
        ({"text": "x", "status": "kaputt"}, "status"),
        ({"text": "x", "expected_end_at": timezone.now() - timedelta(days=1)}, "expected_end_at"),
    ],
)
def test_a_bad_update_is_refused(dsl_outage, trent, changes, field):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        outages.outage_update_post(outage=dsl_outage, actor=trent, **changes)
    assert refused.value.field == field
    assert snapshot() == before


def test_text_typed_in_a_browser_keeps_its_lines(dsl_outage, trent):
    """Browsers send a textarea's line breaks as CRLF: two paragraphs, not control characters."""
    update = outages.outage_update_post(
        outage=dsl_outage, text="Der Bagger ist weg.\r\n\r\nDas Kabel wird gespleißt.", actor=trent
    )
    assert update.text == "Der Bagger ist weg.\n\nDas Kabel wird gespleißt."
    outage, _new = outages.outage_create(
        title="DSL-Störung\r\nKöln", services=["dsl"], area="50667", actor=trent
    )
    assert outage.title == "DSL-Störung Köln"  # a title stays on one line


def test_a_resolved_outage_takes_no_update(dsl_outage, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="already resolved"):
        outages.outage_update_post(outage=dsl_outage, text="Noch was", actor=trent)
    stale = Outage.objects.get(pk=dsl_outage.pk)
    stale.status = OutageStatus.MONITORING  # a page loaded before the resolution
    with pytest.raises(DomainError, match="already resolved"):
        outages.outage_update_post(outage=stale, text="Noch was", actor=trent)
    assert snapshot() == before


def test_an_update_with_status_resolved_resolves(dsl_outage, trent):
    update = outages.outage_update_post(
        outage=dsl_outage, text="Läuft.", status="resolved", actor=trent
    )
    dsl_outage.refresh_from_db()
    assert update.status == OutageStatus.RESOLVED and dsl_outage.status == OutageStatus.RESOLVED


@pytest.fixture
def crowd(dsl_outage, erika, alice, trent, team):
    """Five linked tickets of four customers (Erika twice), one more resolved already,
    one without a mail address; and one ticket of Erika not linked at all."""
    others = [customer(2000 + i) for i in range(3)]
    tickets = [report(erika, alice, outage=dsl_outage, subject="Erstes")]
    tickets += [report(who, trent, outage=dsl_outage) for who in others]
    tickets.append(report(erika, alice, outage=dsl_outage, subject="Zweites"))
    done = report(others[0], trent, outage=dsl_outage, subject="Schon gelöst")
    services.ticket_transition(ticket=done, to=Status.RESOLVED, actor=trent)
    silent = report(customer(2100, email=""), trent, outage=dsl_outage, subject="Ohne Mail")
    unrelated = report(erika, alice, subject="Rechnung")
    return {"open": [*tickets, silent], "done": done, "silent": silent, "unrelated": unrelated}


def test_a_notice_mails_each_customer_of_the_open_tickets_once(
    dsl_outage, crowd, trent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        update = outages.outage_update_post(
            outage=dsl_outage, text="Noch etwa zwei Stunden.", notify=True, actor=trent
        )
    mails = OutboundMail.objects.filter(kind="outage")
    assert sorted(mails.values_list("to_address", flat=True)) == [
        "erika@example.de",
        "kunde2000@example.de",
        "kunde2001@example.de",
        "kunde2002@example.de",
    ]
    assert all("Noch etwa zwei Stunden." in mail.body_text for mail in mails)
    update.refresh_from_db()
    assert update.notified_at is not None
    assert update.notified_through == max(ticket.pk for ticket in crowd["open"])
    # A second run (a retry, the beat pass) finds nothing to do.
    assert outages.outage_update_notify_batch(update_id=update.pk) == (0, True)
    assert mails.count() == 4


def test_a_notice_reaches_each_customer_once_across_batches(
    dsl_outage, crowd, trent, settings, django_capture_on_commit_callbacks
):
    settings.OUTAGE_BATCH_SIZE = 2  # Erika's two tickets land in different batches
    with django_capture_on_commit_callbacks(execute=True):
        update = outages.outage_update_post(
            outage=dsl_outage, text="Stand", notify=True, actor=trent
        )
    addresses = list(
        OutboundMail.objects.filter(kind="outage").values_list("to_address", flat=True)
    )
    assert sorted(addresses) == sorted(set(addresses)) and len(addresses) == 4
    update.refresh_from_db()
    assert update.notified_at is not None


def test_a_notice_batch_moves_its_mark_and_a_rerun_sends_nothing_twice(dsl_outage, crowd, trent):
    update = outages.outage_update_post(outage=dsl_outage, text="Stand", notify=True, actor=trent)
    ordered = sorted(crowd["open"], key=lambda ticket: ticket.pk)
    sent, finished = outages.outage_update_notify_batch(update_id=update.pk, limit=3)
    assert (sent, finished) == (3, False)
    update.refresh_from_db()
    assert update.notified_through == ordered[2].pk and update.notified_at is None
    while not finished:
        _sent, finished = outages.outage_update_notify_batch(update_id=update.pk, limit=3)
    assert OutboundMail.objects.filter(kind="outage").count() == 4
    assert outages.outage_update_notify_batch(update_id=update.pk, limit=3) == (0, True)
    assert OutboundMail.objects.filter(kind="outage").count() == 4


def test_an_update_without_notify_mails_nobody(
    dsl_outage, crowd, trent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        update = outages.outage_update_post(outage=dsl_outage, text="Intern", actor=trent)
    assert not OutboundMail.objects.filter(kind="outage").exists()
    assert outages.outage_update_notify_batch(update_id=update.pk) == (0, True)


# --- Resolving --------------------------------------------------------------------------


def test_resolving_twice_is_refused(dsl_outage, trent, tina):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        outages.outage_resolve(
            outage=Outage.objects.get(pk=dsl_outage.pk), text="Auch.", actor=tina
        )
    assert refused.value.message == "This outage is already resolved."
    assert snapshot() == before


def test_a_resolution_needs_a_text(dsl_outage, trent):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        outages.outage_resolve(outage=dsl_outage, text="  ", actor=trent)
    assert refused.value.field == "text"
    assert snapshot() == before


def test_resolving_resolves_mails_and_stops_the_clocks_of_the_open_tickets(
    dsl_outage, crowd, trent, django_capture_on_commit_callbacks
):
    done_before = Ticket.objects.values().get(pk=crowd["done"].pk)
    unrelated_before = Ticket.objects.values().get(pk=crowd["unrelated"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        outages.outage_resolve(outage=dsl_outage, text="Das Kabel ist geflickt.", actor=trent)
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.RESOLVED and dsl_outage.tickets_resolved_at

    linked = Ticket.objects.filter(pk__in=[ticket.pk for ticket in crowd["open"]])
    assert set(linked.values_list("status", flat=True)) == {Status.RESOLVED}
    assert all(ticket.resolved_at >= dsl_outage.resolved_at for ticket in linked)
    assert not linked.exclude(sla_due_at=None).exists()
    assert not linked.exclude(sla_warn_at=None).exists()
    for ticket in linked:
        (event,) = ticket.events.filter(kind="ticket.status_changed")
        assert event.data["from"] == Status.NEW and event.data["to"] == Status.RESOLVED
        assert event.data["outage"] == dsl_outage.pk
        assert "DSL-Störung Köln-Porz" in event.data["note"]
        assert event.actor is None
        assert ticket.events.filter(kind="sla.stopped").count() == 1
    assert not SlaClock.objects.filter(ticket__in=linked, stopped_at=None).exists()

    mails = OutboundMail.objects.filter(kind="outage")
    assert sorted(mails.values_list("ticket_id", flat=True)) == sorted(
        ticket.pk for ticket in crowd["open"] if ticket != crowd["silent"]
    )  # one per ticket with an address: each request is answered
    assert all("Das Kabel ist geflickt." in mail.body_text for mail in mails)
    # The resolved one and the unrelated one are untouched.
    assert Ticket.objects.values().get(pk=crowd["done"].pk) == done_before
    assert Ticket.objects.values().get(pk=crowd["unrelated"].pk) == unrelated_before
    assert crowd["done"].events.filter(kind="ticket.status_changed").count() == 1  # its own


def test_a_closed_linked_ticket_is_left_alone(
    dsl_outage, tech_ticket, trent, django_capture_on_commit_callbacks
):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    services.ticket_transition(ticket=tech_ticket, to=Status.RESOLVED, actor=trent)
    services.ticket_transition(ticket=tech_ticket, to=Status.CLOSED, actor=trent)
    before = Ticket.objects.values().get(pk=tech_ticket.pk)
    events = tech_ticket.events.count()
    with django_capture_on_commit_callbacks(execute=True):
        outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    assert Ticket.objects.values().get(pk=tech_ticket.pk) == before
    assert tech_ticket.events.count() == events
    assert not OutboundMail.objects.filter(kind="outage").exists()


@pytest.mark.parametrize(
    "status", [Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY]
)
def test_the_clocks_stop_as_a_single_resolution_would_stop_them(
    dsl_outage, erika, alice, trent, team, status
):
    """The bulk stop in the batch gives the clock rows a resolution one by one gives."""
    one_by_one = report(erika, alice, subject="Einzeln")
    batched = report(erika, alice, outage=dsl_outage, subject="Mit der Störung")
    for ticket in (one_by_one, batched):
        services.ticket_transition(ticket=ticket, to=status, actor=trent)
    later = timezone.now() + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        services.ticket_transition(ticket=one_by_one, to=Status.RESOLVED, actor=trent)
        outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
        assert outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk) == (1, False)

    def clocks(ticket):
        return list(
            SlaClock.objects.filter(ticket=ticket)
            .order_by("kind")
            .values_list("kind", "stopped_at", "met", "paused_at", "fire_at")
        )

    assert clocks(batched) == clocks(one_by_one)
    assert all(stopped for _kind, stopped, *_rest in clocks(batched))
    one_by_one.refresh_from_db()
    batched.refresh_from_db()
    assert (batched.sla_due_at, batched.sla_warn_at) == (
        one_by_one.sla_due_at,
        one_by_one.sla_warn_at,
    )


def test_an_overdue_clock_is_not_met(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    much_later = timezone.now() + timedelta(days=30)
    with time_machine.travel(much_later, tick=False):
        outages.outage_resolve(outage=dsl_outage, text="Endlich.", actor=trent)
        outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk)
    assert set(SlaClock.objects.filter(ticket=tech_ticket).values_list("met", flat=True)) == {False}


def test_a_clock_in_time_is_met(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    outages.outage_resolve(outage=dsl_outage, text="Schnell.", actor=trent)
    outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk)
    met = dict(SlaClock.objects.filter(ticket=tech_ticket).values_list("kind", "met"))
    assert met == {"first_response": False, "resolution": True}  # the rule of single resolving


def test_the_batch_does_nothing_for_an_active_outage(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    assert outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk) == (0, True)
    assert outages.outage_tickets_resolve_batch(outage_id=999999) == (0, True)
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.NEW


# --- Resuming ---------------------------------------------------------------------------


def _ledger(tickets) -> dict:
    """Per ticket: its status, resolution events and outage mails."""
    return {
        ticket.pk: (
            Ticket.objects.get(pk=ticket.pk).status,
            TicketEvent.objects.filter(
                ticket=ticket, kind="ticket.status_changed", data__to="resolved"
            ).count(),
            OutboundMail.objects.filter(ticket=ticket, kind="outage").count(),
        )
        for ticket in tickets
    }


def test_a_lost_worker_is_made_good_by_the_resume_pass(
    dsl_outage, crowd, trent, settings, django_capture_on_commit_callbacks
):
    settings.OUTAGE_BATCH_SIZE = 2
    tickets = crowd["open"]
    an_hour_ago = timezone.now() - timedelta(hours=1)
    # The resolution commits; its task is lost with the worker after one batch.
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent, now=an_hour_ago)
    assert outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk, limit=2) == (2, False)
    halfway = _ledger(tickets)
    assert sorted(halfway.values()).count((Status.RESOLVED, 1, 1)) == 2
    dsl_outage.refresh_from_db()
    assert dsl_outage.tickets_resolved_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert outages.outages_work_resume() == 1
    dsl_outage.refresh_from_db()
    assert dsl_outage.tickets_resolved_at is not None
    final = _ledger(tickets)
    expected_mails = {ticket.pk: 0 if ticket == crowd["silent"] else 1 for ticket in tickets}
    assert final == {pk: (Status.RESOLVED, 1, expected_mails[pk]) for pk in final}
    # Nothing left: the next pass and a duplicate task find nothing.
    assert outages.outages_work_resume(older_than=timedelta(0)) == 0
    assert tasks.outage_tickets_resolve_task.apply(args=[dsl_outage.pk]).get() == 0
    assert _ledger(tickets) == final


def test_the_resume_pass_leaves_young_work_to_its_task(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    assert outages.outages_work_resume() == 0
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.NEW


def test_the_resume_pass_finishes_a_lost_notice(
    dsl_outage, crowd, trent, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(hours=1)
    with time_machine.travel(long_ago, tick=False):
        update = outages.outage_update_post(
            outage=dsl_outage, text="Stand", notify=True, actor=trent
        )
    outages.outage_update_notify_batch(update_id=update.pk, limit=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outages.outages_work_resume() == 1
    assert OutboundMail.objects.filter(kind="outage").count() == 4
    update.refresh_from_db()
    assert update.notified_at is not None


# --- Linking tickets --------------------------------------------------------------------


def test_linking_and_unlinking_record_events(dsl_outage, tech_ticket, trent):
    version = tech_ticket.version
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    tech_ticket.refresh_from_db()
    assert tech_ticket.outage == dsl_outage and tech_ticket.version == version
    linked = tech_ticket.events.get(kind="ticket.outage_linked")
    assert linked.data == {"outage": dsl_outage.pk, "title": dsl_outage.title, "previous": None}
    outages.ticket_outage_unlink(ticket=tech_ticket, actor=trent)
    tech_ticket.refresh_from_db()
    assert tech_ticket.outage is None
    assert tech_ticket.events.get(kind="ticket.outage_unlinked").data == {"outage": dsl_outage.pk}


def test_linking_to_another_outage_names_the_previous_one(dsl_outage, tech_ticket, trent):
    other = open_outage(trent, title="Größer")
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    outages.ticket_outage_link(ticket=tech_ticket, outage=other, actor=trent)
    event = tech_ticket.events.filter(kind="ticket.outage_linked").latest("id")
    assert event.data["previous"] == dsl_outage.pk


def test_a_ticket_is_not_linked_twice_to_the_same_outage(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="already belongs"):
        outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    assert snapshot() == before


def test_a_resolved_outage_takes_no_tickets(dsl_outage, tech_ticket, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="already resolved"):
        outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    stale = Outage.objects.get(pk=dsl_outage.pk)
    stale.status = OutageStatus.IDENTIFIED  # a banner shown before the resolution
    with pytest.raises(DomainError, match="already resolved"):
        outages.ticket_outage_link(ticket=tech_ticket, outage=stale, actor=trent)
    with pytest.raises(DomainError, match="already resolved"):
        report(tech_ticket.customer, trent, outage=stale)
    assert snapshot() == before


def test_a_done_ticket_is_not_linked_or_unlinked(dsl_outage, tech_ticket, trent):
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    services.ticket_transition(ticket=tech_ticket, to=Status.RESOLVED, actor=trent)
    other = open_outage(trent, title="Andere")
    before = snapshot()
    with pytest.raises(DomainError, match="ticket is already resolved"):
        outages.ticket_outage_link(ticket=tech_ticket, outage=other, actor=trent)
    with pytest.raises(DomainError, match="ticket is already resolved"):
        outages.ticket_outage_unlink(ticket=tech_ticket, actor=trent)
    assert snapshot() == before


def test_unlinking_a_ticket_without_outage_is_refused(tech_ticket, trent):
    with pytest.raises(DomainError, match="belongs to no outage"):
        outages.ticket_outage_unlink(ticket=tech_ticket, actor=trent)


def test_a_ticket_opened_under_an_outage_is_linked_and_says_so(dsl_outage, erika, alice, team):
    ticket = report(erika, alice, outage=dsl_outage)
    assert ticket.outage == dsl_outage
    assert ticket.events.get(kind="ticket.created").data["outage"] == dsl_outage.pk
