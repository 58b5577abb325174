"""A known week for the KPI tests: tickets and calls made by the services on Monday 9 and
Tuesday 10 March 2026 with a controlled clock, then rolled up; "now" is Wednesday noon.

What the figures must be (hotline calendar 6–23 daily; billing's policy runs on the office
calendar Mon–Fri 8–18):

| ticket | channel | first queue | made | first reply | resolved | notes |
|---|---|---|---|---|---|---|
| t1 | e-mail | customer service | Mon 09:00 | Mon 09:30 (30) | Mon 10:00 | first contact |
| t2 | portal | customer service | Mon 10:00 | Mon 11:00 (60) | Tue 09:00 | two replies |
| t3 | e-mail | billing | Mon 17:00 | Tue 09:00 (120 office) | Tue 10:00 | first contact |
| t4 | portal | customer service | Tue 08:00 | – | Tue 11:00 by billing | handed off |
| t5 | e-mail | customer service | Tue 14:00 | – | open | backlog < 1 day |
| t6 | e-mail | customer service | Mon 06:00 | Tue 07:00 (1080) | Tue 08:00 | SLA breach |
| t7 | phone | tech | Mon 12:00 | Mon 12:10 (10) | Mon 12:15 | first contact |

t6's first response breaks the SLA at Monday 10:30 (the sweep moves it up a line).
Calls (IVR 1 = tech) on Monday: three answered after 30, 60 and 90 seconds, one not
answered.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from calls import services as calls_services
from escalation import services as sla
from escalation.services import kpis as rollup
from tests.tickets.conftest import area, department
from tickets import services
from tickets.choices import Channel, Status

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 3, 9)
TUESDAY = date(2026, 3, 10)
WEDNESDAY = date(2026, 3, 11)
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=BERLIN)

# The expected figures of Monday and Tuesday (see the table above).
TOTALS = {
    "received": 7,
    "handled": 6,
    "first_contact_solved": 3,
    "first_contact_rate": 50.0,
    "responded": 5,
    "average_first_response_minutes": 260.0,  # (30 + 60 + 10 + 120 + 1080) / 5
    "median_first_response_minutes": 60.0,
    "sla_breached": 1,
    "sla_breach_rate": 16.7,
    "calls": 4,
    "calls_answered": 3,
    "average_wait_seconds": 60.0,
}
BY_CHANNEL = {
    "email": {"received": 4, "handled": 3, "first_contact_solved": 2, "responded": 3},
    "portal": {"received": 2, "handled": 2, "first_contact_solved": 0, "responded": 1},
    "phone": {"received": 1, "handled": 1, "first_contact_solved": 1, "calls": 4},
}
BY_DEPARTMENT = {
    "customer-service": {"received": 5, "handled": 3, "first_contact_solved": 1},
    "billing": {"received": 1, "handled": 2, "first_contact_solved": 1},
    "tech": {"received": 1, "handled": 1, "first_contact_solved": 1, "calls": 4},
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def _create(customer, actor, channel, area_slug, moment):
    with time_machine.travel(moment, tick=False):
        return services.ticket_create(
            customer=customer,
            subject=f"Anliegen {area_slug}",
            body="Bitte um Hilfe.",
            channel=channel,
            support_area=area(area_slug),
            actor=actor,
            now=moment,
        )


def _reply(ticket, agent, moment):
    ticket.refresh_from_db()
    with time_machine.travel(moment, tick=False):
        services.ticket_reply(ticket=ticket, actor=agent, body="Hier ist die Lösung.")


def _resolve(ticket, agent, moment):
    ticket.refresh_from_db()
    with time_machine.travel(moment, tick=False):
        services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=agent)


def _call(number: int, moment: datetime, wait: int, *, answered: bool = True):
    with time_machine.travel(moment, tick=False):
        calls_services.call_report(
            external_id=f"kpi-{number}",
            wait_seconds=wait,
            ivr_choice="1",
            extension="201" if answered else "",
            actor=None,
            now=moment,
        )


def build(*, customer, customer_user, agent, roll_up: tuple[date, ...] = (MONDAY, TUESDAY)):
    """Make the week's tickets and calls and roll up the given days; returns the tickets."""
    made = {}
    made["t6"] = _create(customer, customer_user, Channel.EMAIL, "general", at(MONDAY, 6))
    made["t1"] = _create(customer, customer_user, Channel.EMAIL, "email-setup", at(MONDAY, 9))
    _reply(made["t1"], agent, at(MONDAY, 9, 30))
    _resolve(made["t1"], agent, at(MONDAY, 10))
    made["t2"] = _create(
        customer, customer_user, Channel.PORTAL, "invoice-question", at(MONDAY, 10)
    )
    sla.sla_sweep(now=at(MONDAY, 10, 30))  # t6's first response is overdue since 10:00
    _reply(made["t2"], agent, at(MONDAY, 11))
    _reply(made["t2"], agent, at(MONDAY, 12))
    made["t7"] = _create(customer, customer_user, Channel.PHONE, "no-internet", at(MONDAY, 12))
    _reply(made["t7"], agent, at(MONDAY, 12, 10))
    _resolve(made["t7"], agent, at(MONDAY, 12, 15))
    made["t3"] = _create(customer, customer_user, Channel.EMAIL, "payment-check", at(MONDAY, 17))
    for number, wait in enumerate((30, 60, 90), start=1):
        _call(number, at(MONDAY, 14, number), wait)
    _call(4, at(MONDAY, 15), 45, answered=False)

    _reply(made["t6"], agent, at(TUESDAY, 7))
    _reply(made["t6"], agent, at(TUESDAY, 7, 30))
    made["t4"] = _create(customer, customer_user, Channel.PORTAL, "tariff-change", at(TUESDAY, 8))
    _resolve(made["t6"], agent, at(TUESDAY, 8))
    _resolve(made["t2"], agent, at(TUESDAY, 9))
    _reply(made["t3"], agent, at(TUESDAY, 9))
    made["t4"].refresh_from_db()
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        services.ticket_handoff(
            ticket=made["t4"], actor=agent, department=department("billing"), note="Bitte prüfen."
        )
    _resolve(made["t3"], agent, at(TUESDAY, 10))
    _resolve(made["t4"], agent, at(TUESDAY, 11))
    made["t5"] = _create(customer, customer_user, Channel.EMAIL, "email-setup", at(TUESDAY, 14))
    for day in roll_up:
        rollup.kpi_day_rollup(day=day, now=NOW)
    return made


def days_between(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
