"""Fixtures of the SLA tests: the ticket team, and a ticket opened at a known moment.

Times are Europe/Berlin on the default calendars: the hotline is open 06:00-23:00 every
day, the office Mon-Fri 08:00-18:00. Monday 16 November 2026 is an ordinary Monday.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.models import SlaClock
from tests.tickets import conftest as ticket_fixtures
from tickets import services
from tickets.choices import Channel

# The ticket team and customers, shared with the tickets tests.
bob_agent = ticket_fixtures.bob_agent
carol_agent = ticket_fixtures.carol_agent
tina_agent = ticket_fixtures.tina_agent
trent = ticket_fixtures.trent
team = ticket_fixtures.team
erika = ticket_fixtures.erika
malte = ticket_fixtures.malte
ticket = ticket_fixtures.ticket

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Berlin time (the 16th is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


MONDAY_10 = at(16, 10)


def clocks_of(of_ticket) -> dict[str, SlaClock]:
    return {
        clock.kind: clock
        for clock in SlaClock.objects.filter(ticket=of_ticket).select_related("policy")
    }


def open_at(
    moment: datetime,
    *,
    customer,
    actor,
    subject: str = "Anliegen",
    area: str = "general",
    channel: str = Channel.EMAIL,
    **extra,
):
    """A ticket opened at `moment` (its clocks start then)."""
    with time_machine.travel(moment, tick=False):
        return services.ticket_create(
            customer=customer,
            subject=subject,
            body="Text",
            channel=channel,
            support_area=ticket_fixtures.area(area),
            actor=actor,
            **extra,
        )


@pytest.fixture
def opened(erika, alice, team):
    """Erika's portal question, opened Monday 10:00 under the standard policy."""
    with time_machine.travel(MONDAY_10, tick=False):
        return services.ticket_create(
            customer=erika,
            subject="Rechnung doppelt abgebucht",
            body="Bitte prüfen.",
            channel=Channel.PORTAL,
            support_area=ticket_fixtures.area("invoice-question"),
            actor=alice,
        )
