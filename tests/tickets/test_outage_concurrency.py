"""Outages and visits under real parallel transactions (threads with their own
connections): the last place of a window, a double resolution, two workers resolving
the same outage's tickets. SQLite serialises every write, so only PostgreSQL can show
that nothing is overbooked, resolved twice or mailed twice."""

import threading

import pytest
from django.db import connection, connections

from customers import services as customer_services
from helpdesk.errors import DomainError
from mail.models import OutboundMail
from tests.conftest import skip_or_fail
from tests.tickets.conftest import area
from tickets import services
from tickets.choices import Channel, OutageStatus, Status
from tickets.models import Appointment, Outage, OutageUpdate, Ticket, TicketEvent, VisitWindow
from tickets.services import outages, visits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): SQLite's test database is not shared")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _race(*actions) -> list:
    """Run the actions at the same moment, each in its own thread and connection."""
    start = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            start.wait(timeout=30)
            outcomes[index] = action()
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _tech_tickets(count: int, actor) -> list[Ticket]:
    """Tech tickets of as many customers in Cologne (one visit per ticket at a time)."""
    tickets = []
    for n in range(count):
        customer = customer_services.customer_create(
            number=f"K3{n:06d}",
            first_name="Kunde",
            last_name=f"Nummer {n}",
            street="Hauptstraße 1",
            postal_code="51147",
            city="Köln",
            email=f"kunde{n}@example.de",
        )
        tickets.append(
            services.ticket_create(
                customer=customer,
                subject=f"Kein Internet {n}",
                body="Nichts geht.",
                channel=Channel.PHONE,
                support_area=area("no-internet"),
                actor=actor,
            )
        )
    return tickets


def _book(ticket: Ticket, window: VisitWindow, actor):
    def action():
        return visits.appointment_book(
            ticket=Ticket.objects.select_related("customer", "queue__department").get(pk=ticket.pk),
            window=VisitWindow.objects.select_related("region").get(pk=window.pk),
            actor=actor,
        )

    return action


# --- The last place of a window ---------------------------------------------------------


def _assert_one_got_the_last_place(outcomes, window, tickets) -> None:
    booked = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(booked) == 1, outcomes
    assert len(refused) == len(outcomes) - 1, outcomes
    assert {error.message for error in refused} == {"This window is full; choose another one."}
    window.refresh_from_db()
    assert window.booked == window.capacity
    assert Appointment.objects.filter(window=window).count() == window.capacity
    winner = booked[0].ticket_id
    statuses = dict(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("pk", "status")
    )
    assert statuses.pop(winner) == Status.SCHEDULED
    assert set(statuses.values()) == {Status.NEW}  # the others are untouched
    assert OutboundMail.objects.filter(kind="appointment").count() == window.capacity


def test_two_agents_booking_the_last_place_at_once_one_gets_it(cologne_windows, trent, dana):
    window = next(w for w in cologne_windows if w.capacity == 2)
    first, *tickets = _tech_tickets(3, trent)
    visits.appointment_book(ticket=first, window=window, actor=trent)  # one place left
    outcomes = _race(_book(tickets[0], window, trent), _book(tickets[1], window, dana))
    _assert_one_got_the_last_place(outcomes, window, tickets)


def test_ten_agents_booking_a_single_place_at_once_one_gets_it(cologne_windows, trent):
    window = next(w for w in cologne_windows if w.capacity == 1)
    tickets = _tech_tickets(10, trent)
    outcomes = _race(*[_book(ticket, window, trent) for ticket in tickets])
    _assert_one_got_the_last_place(outcomes, window, tickets)


# --- Resolving --------------------------------------------------------------------------


def _outage(pk: int) -> Outage:
    return Outage.objects.get(pk=pk)


def test_two_resolutions_of_one_outage_at_once_one_wins(dsl_outage, trent, tina):
    outcomes = _race(
        lambda: outages.outage_resolve(outage=_outage(dsl_outage.pk), text="Behoben.", actor=trent),
        lambda: outages.outage_resolve(outage=_outage(dsl_outage.pk), text="Erledigt.", actor=tina),
    )
    resolved = [outcome for outcome in outcomes if isinstance(outcome, OutageUpdate)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(resolved) == 1 and len(refused) == 1, outcomes
    assert refused[0].message == "This outage is already resolved."
    assert OutageUpdate.objects.filter(outage=dsl_outage, status=OutageStatus.RESOLVED).count() == 1
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.RESOLVED and dsl_outage.version == 2


def test_three_workers_resolving_the_same_outage_resolve_each_ticket_once(dsl_outage, trent):
    tickets = _tech_tickets(30, trent)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(outage=dsl_outage)
    # Resolved without its task: the three workers below do its work.
    Outage.objects.filter(pk=dsl_outage.pk).update(
        status=OutageStatus.RESOLVED, resolved_at=dsl_outage.started_at, version=2
    )
    OutageUpdate.objects.create(outage=dsl_outage, text="Behoben.", status=OutageStatus.RESOLVED)

    def worker():
        rounds = 0
        while rounds < 200:
            rounds += 1
            _resolved, finished = outages.outage_tickets_resolve_batch(
                outage_id=dsl_outage.pk, limit=4
            )
            if finished:
                return rounds
        raise AssertionError("the batches never finished")

    outcomes = _race(worker, worker, worker)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    ids = [t.pk for t in tickets]
    assert set(Ticket.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Status.RESOLVED
    }
    resolutions = TicketEvent.objects.filter(
        ticket_id__in=ids, kind="ticket.status_changed", data__to=Status.RESOLVED
    )
    assert sorted(resolutions.values_list("ticket_id", flat=True)) == sorted(ids)
    stops = TicketEvent.objects.filter(ticket_id__in=ids, kind="sla.stopped")
    assert sorted(stops.values_list("ticket_id", flat=True)) == sorted(ids)
    mails = OutboundMail.objects.filter(ticket_id__in=ids, kind="outage")
    assert sorted(mails.values_list("ticket_id", flat=True)) == sorted(ids)
    assert Ticket.objects.filter(pk__in=ids, version=2).count() == len(ids)  # one update each
    dsl_outage.refresh_from_db()
    assert dsl_outage.tickets_resolved_at is not None


def test_three_workers_mailing_the_same_notice_tell_each_customer_once(dsl_outage, trent):
    tickets = _tech_tickets(20, trent)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(outage=dsl_outage)
    # Posted without its task: the three workers below do its work.
    update = OutageUpdate.objects.create(
        outage=dsl_outage, text="Noch zwei Stunden.", status=dsl_outage.status, notify=True
    )

    def worker():
        for rounds in range(1, 200):
            _sent, finished = outages.outage_update_notify_batch(update_id=update.pk, limit=3)
            if finished:
                return rounds
        raise AssertionError("the batches never finished")

    outcomes = _race(worker, worker, worker)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    mails = OutboundMail.objects.filter(kind="outage")
    assert sorted(mails.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)
    update.refresh_from_db()
    assert update.notified_at is not None
    assert update.notified_through == max(t.pk for t in tickets)
