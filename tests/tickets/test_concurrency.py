"""Two agents at once, in real parallel transactions (threads with their own connections)."""

import threading

import pytest
from django.db import connection

from helpdesk.errors import StaleEdit
from tests.conftest import skip_or_fail
from tests.tickets.conftest import department
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): SQLite's test database is not shared")


def _race(*actions) -> list:
    """Run the actions at the same moment, each in its own thread and connection."""
    start = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        start.wait()
        try:
            outcomes[index] = action()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_agents_taking_the_same_ticket_at_once_one_gets_it(ticket, bob, tina):
    outcomes = _race(
        lambda: services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), actor=bob),
        lambda: services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), actor=tina),
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, StaleEdit)]
    taken = [outcome for outcome in outcomes if isinstance(outcome, Ticket)]
    assert len(refused) == 1 and len(taken) == 1, outcomes
    ticket.refresh_from_db()
    assert ticket.assignee_id == taken[0].assignee_id
    assert ticket.events.filter(kind="ticket.assigned").count() == 1


def test_two_agents_moving_the_same_ticket_at_once_one_move_wins(ticket, bob, tina):
    version = ticket.version
    outcomes = _race(
        lambda: services.ticket_handoff(
            ticket=Ticket.objects.get(pk=ticket.pk),
            actor=bob,
            department=department("billing"),
            note="Zahlung prüfen",
            expected_version=version,
        ),
        lambda: services.ticket_escalate(
            ticket=Ticket.objects.get(pk=ticket.pk),
            actor=tina,
            reason="Fachfrage",
            expected_version=version,
        ),
    )
    assert sum(isinstance(outcome, StaleEdit) for outcome in outcomes) == 1, outcomes
    moves = ticket.events.filter(kind__in=["ticket.handed_off", "ticket.escalated"])
    assert moves.count() == 1
