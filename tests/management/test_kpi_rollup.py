"""The nightly KPI roll-up and the report read from it: hand-made tickets and calls on
past days (the clock moved with time_machine), figures checked one by one."""

# ruff: noqa: F811 - fixtures imported from other conftest modules are redefined as arguments

from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls import services as call_services
from escalation import tasks
from escalation.models import KpiDay, KpiRollup, SlaClock
from escalation.selectors import kpis as report
from escalation.services import kpis
from tests.tickets.conftest import area, bob_agent, department  # noqa: F401
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 3, 10)  # a Tuesday, no holiday
DST_DAY = date(2026, 10, 25)  # clocks go back: 25 hours


def at(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).replace(fold=fold)


def after(day: date) -> datetime:
    """A moment the next morning: the day is over."""
    return at(day + timedelta(days=1), 3)


# --- Building a day --------------------------------------------------------------------------


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("queue__department", "customer").get(pk=ticket.pk)


def open_ticket(when: datetime, channel: str, area_slug: str, customer, actor) -> Ticket:
    with time_machine.travel(when, tick=False):
        return ticket_services.ticket_create(
            customer=customer,
            subject=f"{area_slug} {when:%H:%M}",
            body="Bitte helfen Sie mir.",
            channel=channel,
            support_area=area(area_slug),
            actor=actor,
            now=when,
        )


def reply(ticket: Ticket, when: datetime, actor) -> None:
    with time_machine.travel(when, tick=False):
        ticket_services.ticket_reply(ticket=_fresh(ticket), actor=actor, body="Erledigt.")


def resolve(ticket: Ticket, when: datetime, actor) -> None:
    with time_machine.travel(when, tick=False):
        ticket_services.ticket_transition(ticket=_fresh(ticket), to=Status.RESOLVED, actor=actor)


def escalate(ticket: Ticket, when: datetime, actor) -> None:
    with time_machine.travel(when, tick=False):
        ticket_services.ticket_escalate(ticket=_fresh(ticket), actor=actor, reason="Zu schwer.")


def hand_off(ticket: Ticket, slug: str, when: datetime, actor) -> None:
    with time_machine.travel(when, tick=False):
        ticket_services.ticket_handoff(
            ticket=_fresh(ticket), actor=actor, department=department(slug), note="Bitte prüfen."
        )


def customer_writes(ticket: Ticket, when: datetime, actor) -> None:
    with time_machine.travel(when, tick=False):
        ticket_services.ticket_customer_message_add(
            ticket=_fresh(ticket), actor=actor, body="Geht doch nicht.", now=when
        )


def call(number: int, answered_at: datetime, wait: int, *, ivr: str, answered: bool = True):
    with time_machine.travel(answered_at, tick=False):
        call_services.call_report(
            external_id=f"kpi-{number}",
            wait_seconds=wait,
            actor=None,
            caller_number="0221 1234567",
            ivr_choice=ivr,
            extension="201" if answered else "",
            now=answered_at,
        )


def ids() -> dict[str, int]:
    return {slug: department(slug).pk for slug in ("customer-service", "tech", "billing")}


@pytest.fixture
def tuesday(erika, alice, bob, bob_agent):
    """A working day of customer service, tech and billing, with calls; the figures it
    should give are in `EXPECTED`."""
    # 1 phone, solved with one answer: first contact.
    t1 = open_ticket(at(DAY, 10), Channel.PHONE, "invoice-question", erika, bob)
    reply(t1, at(DAY, 10, 30), bob)
    resolve(t1, at(DAY, 11), bob)
    # 2 e-mail at 5:00, before the hotline opens at 6: its first answer at 7:00 took 60
    # business minutes; two answers, so not solved at first contact.
    t2 = open_ticket(at(DAY, 5), Channel.EMAIL, "invoice-question", erika, alice)
    reply(t2, at(DAY, 7), bob)
    reply(t2, at(DAY, 11), bob)
    resolve(t2, at(DAY, 12), bob)
    # 3 phone to tech, escalated up a line: solved, but not at first contact.
    t3 = open_ticket(at(DAY, 9), Channel.PHONE, "no-internet", erika, bob)
    reply(t3, at(DAY, 9, 10), bob)
    escalate(t3, at(DAY, 9, 20), bob)
    resolve(t3, at(DAY, 10), bob)
    # 4 portal, received by customer service, handed off to billing, which resolves it.
    t4 = open_ticket(at(DAY, 8), Channel.PORTAL, "invoice-question", erika, alice)
    reply(t4, at(DAY, 8, 5), bob)
    hand_off(t4, "billing", at(DAY, 8, 10), bob)
    resolve(t4, at(DAY, 9), bob)
    # 5 chat, resolved, reopened by the customer, resolved again: not first contact.
    t5 = open_ticket(at(DAY, 13), Channel.CHAT, "general", erika, alice)
    reply(t5, at(DAY, 13, 1), bob)
    resolve(t5, at(DAY, 13, 30), bob)
    customer_writes(t5, at(DAY, 14), alice)
    resolve(t5, at(DAY, 15), bob)
    # 6 phone, answered in 15 minutes and solved, but its resolution clock broke.
    t6 = open_ticket(at(DAY, 20), Channel.PHONE, "invoice-question", erika, bob)
    reply(t6, at(DAY, 20, 15), bob)
    resolve(t6, at(DAY, 21), bob)
    SlaClock.objects.filter(ticket=t6, kind="resolution").update(breached_at=at(DAY, 20, 50))
    # 7 e-mail from Monday 22:00, answered Tuesday 6:30: 60 + 30 business minutes on the
    # hotline; received Monday, responded Tuesday, resolved Wednesday.
    t7 = open_ticket(at(DAY - timedelta(days=1), 22), Channel.EMAIL, "general", erika, alice)
    reply(t7, at(DAY, 6, 30), bob)
    resolve(t7, at(DAY + timedelta(days=1), 9), bob)
    # 8 billing e-mail Monday 17:30, answered Tuesday 8:30: 30 + 30 minutes on the office
    # calendar (8–18) of the billing policy, not the 480 of the hotline.
    t8 = open_ticket(
        at(DAY - timedelta(days=1), 17, 30), Channel.EMAIL, "payment-check", erika, alice
    )
    reply(t8, at(DAY, 8, 30), bob)
    # 9 chat late at night, unanswered; 10 on Wednesday, not this day.
    open_ticket(at(DAY, 23, 30), Channel.CHAT, "general", erika, alice)
    open_ticket(at(DAY + timedelta(days=1), 0, 5), Channel.CHAT, "general", erika, alice)
    # Calls: customer service answered after 30 and 90 s, tech abandoned after 200 s, one
    # without an IVR choice (no department) answered after 10 s; one the evening before.
    call(1, at(DAY, 10), 30, ivr="5")
    call(2, at(DAY, 11), 90, ivr="5")
    call(3, at(DAY, 12), 200, ivr="1", answered=False)
    call(4, at(DAY, 13), 10, ivr="")
    call(5, at(DAY - timedelta(days=1), 23, 59), 10, ivr="5")
    return [t1, t2, t3, t4, t5, t6, t7, t8]


def expected() -> dict:
    d = ids()
    cs, tech, billing = d["customer-service"], d["tech"], d["billing"]

    def row(**figures):
        blank = dict.fromkeys(kpis.FIGURES, 0)
        histogram = figures.pop("minutes", {})
        return {**blank, **figures, "response_minutes": histogram}

    return {
        (Channel.PHONE, cs): row(
            received=2,
            handled=2,
            first_contact_solved=2,
            breached=1,
            responded=2,
            response_minutes_sum=45,
            minutes={30: 1, 15: 1},
            calls=2,
            calls_answered=2,
            wait_seconds_sum=120,
        ),
        (Channel.EMAIL, cs): row(
            received=1, handled=1, responded=2, response_minutes_sum=150, minutes={60: 1, 90: 1}
        ),
        (Channel.PHONE, tech): row(
            received=1, handled=1, responded=1, response_minutes_sum=10, minutes={10: 1}, calls=1
        ),
        (Channel.PORTAL, cs): row(received=1, responded=1, response_minutes_sum=5, minutes={5: 1}),
        (Channel.PORTAL, billing): row(handled=1),
        (Channel.CHAT, cs): row(
            received=2, handled=1, responded=1, response_minutes_sum=1, minutes={1: 1}
        ),
        (Channel.EMAIL, billing): row(responded=1, response_minutes_sum=60, minutes={60: 1}),
        (Channel.PHONE, None): row(calls=1, calls_answered=1, wait_seconds_sum=10),
    }


def computed(day: date) -> dict:
    return {
        key: {
            **{name: figures[name] for name in kpis.FIGURES},
            "response_minutes": dict(figures["response_minutes"]),
        }
        for key, figures in kpis.kpi_day_compute(day).items()
    }


def stored(day: date) -> dict:
    return {
        (row.channel, row.department_id): {
            **{name: getattr(row, name) for name in kpis.FIGURES},
            "response_minutes": {int(k): v for k, v in row.response_minutes.items()},
        }
        for row in KpiDay.objects.filter(day=day)
    }


# --- Computing and storing a day -------------------------------------------------------------


def test_the_figures_of_a_day(tuesday):
    assert computed(DAY) == expected()


def test_the_roll_up_stores_them_once_and_a_second_run_replaces_them(tuesday):
    assert kpis.kpi_day_rollup(day=DAY, now=after(DAY)) == len(expected())
    assert stored(DAY) == expected()
    first_ids = set(KpiDay.objects.values_list("pk", flat=True))
    assert kpis.kpi_day_rollup(day=DAY, now=after(DAY) + timedelta(hours=1)) == len(expected())
    assert stored(DAY) == expected()
    assert KpiDay.objects.count() == len(expected())
    assert not first_ids & set(KpiDay.objects.values_list("pk", flat=True))
    marker = KpiRollup.objects.get()
    assert marker.day == DAY and marker.computed_at == after(DAY) + timedelta(hours=1)


def test_the_days_around_hold_their_own_figures(tuesday):
    monday = computed(DAY - timedelta(days=1))
    cs = ids()["customer-service"]
    assert monday[Channel.EMAIL, cs]["received"] == 1  # ticket 7
    assert monday[Channel.PHONE, cs]["calls"] == 1  # the call at 23:59
    assert monday[Channel.EMAIL, ids()["billing"]]["received"] == 1  # ticket 8
    wednesday = computed(DAY + timedelta(days=1))
    assert wednesday[Channel.CHAT, cs]["received"] == 1
    assert wednesday[Channel.EMAIL, cs]["handled"] == 1  # ticket 7


def test_today_and_later_are_not_rolled_up(tuesday):
    for day in (DAY, DAY + timedelta(days=1)):
        with pytest.raises(ValueError):
            kpis.kpi_day_rollup(day=day, now=at(DAY, 23, 59))
    assert not KpiDay.objects.exists() and not KpiRollup.objects.exists()


def test_an_empty_day_is_marked_rolled_up_without_rows(db):
    assert kpis.kpi_day_rollup(day=DAY, now=after(DAY)) == 0
    assert KpiRollup.objects.filter(day=DAY).exists() and not KpiDay.objects.exists()


def test_the_day_the_clocks_go_back_has_25_hours(erika, alice, bob, bob_agent):
    def hours(day: date) -> float:
        start, end = kpis.day_bounds(day)
        return (end.timestamp() - start.timestamp()) / 3600

    assert (hours(DST_DAY), hours(date(2026, 3, 29)), hours(DAY)) == (25, 23, 24)
    early = open_ticket(at(DST_DAY, 0, 30), Channel.EMAIL, "general", erika, alice)
    twice = open_ticket(at(DST_DAY, 2, 30, fold=1), Channel.EMAIL, "general", erika, alice)  # CET
    open_ticket(at(DST_DAY, 23, 30), Channel.EMAIL, "general", erika, alice)
    open_ticket(at(DST_DAY + timedelta(days=1), 0, 10), Channel.EMAIL, "general", erika, alice)
    open_ticket(at(DST_DAY - timedelta(days=1), 23, 50), Channel.EMAIL, "general", erika, alice)
    # Saturday 22:30 to Sunday 6:30: 30 + 30 open minutes on the hotline, 9 hours on the wall.
    late = open_ticket(
        at(DST_DAY - timedelta(days=1), 22, 30), Channel.EMAIL, "general", erika, alice
    )
    reply(late, at(DST_DAY, 6, 30), bob)
    reply(early, at(DST_DAY, 7), bob)
    reply(twice, at(DST_DAY, 7), bob)
    row = computed(DST_DAY)[Channel.EMAIL, ids()["customer-service"]]
    assert row["received"] == 3
    assert row["responded"] == 3
    assert row["response_minutes"] == {60: 3}  # 6:00-7:00 for the night ones


def test_a_call_rolls_up_on_the_day_it_started(erika, bob_agent):
    call(1, at(DAY + timedelta(days=1), 0, 1), 120, ivr="5")  # rang from 23:59 on Tuesday
    cs = ids()["customer-service"]
    assert computed(DAY)[Channel.PHONE, cs]["calls"] == 1
    assert (Channel.PHONE, cs) not in computed(DAY + timedelta(days=1))


# --- Finding and rolling up missing days -----------------------------------------------------


@pytest.fixture
def history(erika, alice, bob_agent):
    """One ticket a day from 1 to 10 March; it is 12 March, 3:00."""
    for n in range(1, 11):
        open_ticket(at(date(2026, 3, n), 12), Channel.EMAIL, "general", erika, alice)
    return at(date(2026, 3, 12), 3)


def test_a_fresh_install_has_nothing_to_roll_up(db):
    assert kpis.kpi_days_missing(now=after(DAY)) == []
    assert kpis.kpi_days_rollup(now=after(DAY)) == []


def test_missing_days_from_the_first_ticket_to_yesterday_newest_first(history):
    missing = kpis.kpi_days_missing(now=history)
    assert missing == [date(2026, 3, n) for n in range(11, 0, -1)]
    kpis.kpi_day_rollup(day=date(2026, 3, 5), now=history)
    assert date(2026, 3, 5) not in kpis.kpi_days_missing(now=history)
    assert kpis.kpi_days_missing(now=history, lookback=3) == [date(2026, 3, n) for n in (11, 10, 9)]


def test_the_first_call_counts_as_history_too(erika, bob_agent):
    call(1, at(date(2026, 3, 8), 9), 20, ivr="5")
    assert kpis.kpi_days_missing(now=at(date(2026, 3, 10), 1)) == [
        date(2026, 3, 9),
        date(2026, 3, 8),
    ]


def test_a_pass_rolls_up_at_most_its_limit(history):
    assert kpis.kpi_days_rollup(now=history, limit=4) == [date(2026, 3, n) for n in (11, 10, 9, 8)]
    assert kpis.kpi_days_rollup(now=history, limit=4) == [date(2026, 3, n) for n in (7, 6, 5, 4)]
    assert kpis.kpi_days_rollup(now=history, limit=4) == [date(2026, 3, n) for n in (3, 2, 1)]
    assert kpis.kpi_days_rollup(now=history, limit=4) == []
    assert KpiRollup.objects.count() == 11
    assert KpiDay.objects.filter(day__lte=date(2026, 3, 10)).count() == 10
    assert sum(KpiDay.objects.values_list("received", flat=True)) == 10


def test_the_beat_task_rolls_up_yesterday_once(erika, alice, bob_agent):
    open_ticket(at(date(2026, 3, 10), 12), Channel.EMAIL, "general", erika, alice)
    with time_machine.travel(at(date(2026, 3, 12), 3), tick=False):
        assert tasks.kpi_days_rollup_task.delay().get() == ["2026-03-11", "2026-03-10"]
        assert tasks.kpi_days_rollup_task.delay().get() == []
    assert KpiRollup.objects.count() == 2


def test_the_command_fills_the_history(history):
    out = StringIO()
    with time_machine.travel(history, tick=False):
        call_command("kpi_rollup", "--days", "5", stdout=out)
    assert out.getvalue().strip() == "Rolled up 5 day(s)."
    assert sorted(KpiRollup.objects.values_list("day", flat=True)) == [
        date(2026, 3, n) for n in range(7, 12)
    ]
    out = StringIO()
    with time_machine.travel(history, tick=False):
        call_command("kpi_rollup", stdout=out)
    assert out.getvalue().strip() == "Rolled up 6 day(s)."


# --- The report ---------------------------------------------------------------------------------


def kpi_row(
    day: date, channel: str, slug: str | None, minutes: dict[int, int], **figures
) -> KpiDay:
    department_id = ids()[slug] if slug else None
    return KpiDay.objects.create(
        day=day,
        channel=channel,
        department_id=department_id,
        responded=sum(minutes.values()),
        response_minutes_sum=sum(m * n for m, n in minutes.items()),
        response_minutes={str(m): n for m, n in minutes.items()},
        **figures,
    )


NOW = at(date(2026, 3, 20), 12)
FIRST, SECOND, THIRD = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def mark_rolled_up(*days: date) -> None:
    for day in days:
        KpiRollup.objects.create(day=day, computed_at=NOW)


def test_the_median_is_exact_across_days_and_pairs(db):
    kpi_row(FIRST, Channel.PHONE, "customer-service", {10: 1, 30: 1}, received=4, handled=2)
    kpi_row(SECOND, Channel.EMAIL, "customer-service", {20: 1}, received=1, handled=1)
    r = report.kpi_report(start=FIRST, end=SECOND, now=NOW)
    assert r.total.responded == 3 and r.total.median_response_minutes == 20  # 10, 20, 30
    assert r.total.average_response_minutes == 20.0
    kpi_row(THIRD, Channel.PHONE, "tech", {40: 1}, handled=1, breached=1, first_contact_solved=1)
    r = report.kpi_report(start=FIRST, end=THIRD, now=NOW)
    assert r.total.median_response_minutes == 25.0  # 10, 20, 30, 40: between the middle two
    assert r.by_channel[Channel.PHONE].median_response_minutes == 30  # 10, 30, 40
    assert r.by_channel[Channel.EMAIL].median_response_minutes == 20
    cs, tech = ids()["customer-service"], ids()["tech"]
    assert r.by_department[cs].median_response_minutes == 20
    assert r.by_department[tech].median_response_minutes == 40
    assert r.by_pair[Channel.PHONE, cs].median_response_minutes == 20  # 10, 30
    assert r.total.received == 5 and r.total.handled == 4
    assert r.total.breach_rate == 25.0 and r.total.first_contact_rate == 25.0
    assert [day for day in r.by_day] == [FIRST, SECOND, THIRD]
    assert r.by_day[FIRST].received == 4


def test_the_median_weighs_how_often_a_value_occurs(db):
    kpi_row(FIRST, Channel.PHONE, "customer-service", {5: 3, 100: 1})
    kpi_row(SECOND, Channel.PHONE, "customer-service", {7: 1, 1000: 3})
    r = report.kpi_report(start=FIRST, end=SECOND, now=NOW)
    assert r.total.median_response_minutes == 53.5  # 5 5 5 7 | 100 1000 1000 1000
    kpi_row(THIRD, Channel.PHONE, "customer-service", {6: 1})
    r = report.kpi_report(start=FIRST, end=THIRD, now=NOW)
    assert r.total.median_response_minutes == 7  # 5 5 5 6 7 100 1000 1000 1000
    assert report._median({}, 0) is None


def test_an_empty_period_has_no_rates_or_medians(db):
    r = report.kpi_report(start=FIRST, end=SECOND, now=NOW)
    assert r.total.received == 0 and r.total.median_response_minutes is None
    assert r.total.breach_rate is None and r.total.average_wait_seconds is None
    assert r.days_missing == 0


def test_filters_by_channel_and_department(db):
    kpi_row(
        FIRST,
        Channel.PHONE,
        "customer-service",
        {10: 1},
        received=1,
        calls=3,
        calls_answered=2,
        wait_seconds_sum=50,
    )
    kpi_row(FIRST, Channel.EMAIL, "customer-service", {20: 1}, received=2)
    kpi_row(FIRST, Channel.PHONE, "tech", {30: 1}, received=4)
    phone = report.kpi_report(start=FIRST, end=FIRST, channel=Channel.PHONE, now=NOW)
    assert phone.total.received == 5 and phone.total.median_response_minutes == 20
    assert phone.total.calls == 3 and phone.total.average_wait_seconds == 25.0
    assert set(phone.by_channel) == {Channel.PHONE}
    cs = report.kpi_report(
        start=FIRST, end=FIRST, department=department("customer-service"), now=NOW
    )
    assert cs.total.received == 3 and set(cs.by_department) == {ids()["customer-service"]}
    both = report.kpi_report(
        start=FIRST, end=FIRST, channel=Channel.EMAIL, department=department("tech"), now=NOW
    )
    assert both.total.received == 0
    with pytest.raises(ValueError):
        report.kpi_report(start=FIRST, end=FIRST, channel="pigeon", now=NOW)


def test_the_report_as_plain_data(db):
    kpi_row(FIRST, Channel.PHONE, "customer-service", {10: 1}, received=1, handled=1)
    data = report.kpi_report_as_dict(report.kpi_report(start=FIRST, end=FIRST, now=NOW))
    assert data["period"] == {"start": "2026-03-01", "end": "2026-03-01"}
    assert data["totals"]["received"] == 1 and data["totals"]["median_first_response_minutes"] == 10
    assert data["by_department"][0]["department"] == "customer-service"
    assert data["by_channel"][0]["channel"] == Channel.PHONE
    assert "median_first_response_minutes" not in data["daily"][0]


def test_period_check():
    assert report.period_check(SECOND, FIRST)
    assert report.period_check(FIRST, FIRST) is None
    longest = FIRST + timedelta(days=report.MAX_PERIOD_DAYS - 1)
    assert report.period_check(FIRST, longest) is None
    assert report.period_check(FIRST, longest + timedelta(days=1))
    with pytest.raises(ValueError):
        report.kpi_report(start=SECOND, end=FIRST, now=NOW)
    with pytest.raises(ValueError):
        report.kpi_report(start=FIRST, end=longest + timedelta(days=1), now=NOW)


def test_today_is_added_live(erika, alice, bob, bob_agent):
    kpi_row(SECOND, Channel.PHONE, "customer-service", {10: 1}, received=1)
    mark_rolled_up(SECOND)
    today = NOW.date()
    t = open_ticket(at(today, 9), Channel.PHONE, "invoice-question", erika, bob)
    reply(t, at(today, 9, 30), bob)
    r = report.kpi_report(start=SECOND, end=today, now=NOW)
    assert r.includes_today
    assert r.total.received == 2 and r.total.median_response_minutes == 20.0  # 10 and 30
    assert r.by_day[today].received == 1
    assert not KpiDay.objects.filter(day=today).exists()
    # Before today nothing live is added.
    assert not report.kpi_report(start=SECOND, end=SECOND, now=NOW).includes_today


def test_days_missing_counts_days_with_history_but_no_roll_up(history):
    mark_rolled_up(date(2026, 3, 4), date(2026, 3, 5))
    r = report.kpi_report(start=date(2026, 3, 3), end=date(2026, 3, 8), now=history)
    assert r.days_missing == 4  # 3, 6, 7, 8
    r = report.kpi_report(start=date(2026, 3, 12), end=date(2026, 3, 14), now=history)
    assert r.days_missing == 0  # today and later are never missing


def test_the_backlog_by_age(erika, alice, bob_agent):
    now = at(date(2026, 3, 20), 12)
    for days in (0.5, 2, 5, 10, 40, 40):
        open_ticket(now - timedelta(days=days), Channel.EMAIL, "general", erika, alice)
    done = open_ticket(now - timedelta(days=3), Channel.EMAIL, "general", erika, alice)
    resolve(done, now - timedelta(days=1), None)
    rows = report.backlog_by_age(now=now)
    assert rows == [
        {"department_id": ids()["customer-service"], "counts": [1, 1, 1, 1, 2], "total": 6}
    ]
    assert report.backlog_by_age(now=now, channel=Channel.PHONE) == []


def _queries(**kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        report.kpi_report(**kwargs)
    return len(captured)


def test_the_report_costs_the_same_queries_whatever_the_rows(erika, alice, bob, bob_agent):
    kpi_row(FIRST, Channel.PHONE, "customer-service", {10: 1}, received=1)
    small = _queries(start=FIRST, end=THIRD, now=NOW)
    for n in range(60):
        day = FIRST + timedelta(days=n % 3)
        kpi_row(day, Channel.EMAIL if n % 2 else Channel.CHAT, "tech", {n: 2}, received=n)
    assert _queries(start=FIRST, end=THIRD, now=NOW) == small
    # With today live: one resolved ticket or five cost the same.
    today = NOW.date()
    t = open_ticket(at(today, 8), Channel.PHONE, "invoice-question", erika, bob)
    resolve(t, at(today, 9), bob)
    one = _queries(start=FIRST, end=today, now=NOW)
    for hour in range(9, 14):
        t = open_ticket(at(today, hour), Channel.EMAIL, "general", erika, alice)
        reply(t, at(today, hour, 20), bob)
        resolve(t, at(today, hour, 40), bob)
    assert _queries(start=FIRST, end=today, now=NOW) == one
