"""Call figures for management: volume, answered, average and 90th-percentile wait, and
calls solved on first contact over a period, and the volume per hour or day."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calls import selectors, services
from calls.choices import Outcome
from tests.calls.conftest import call_of
from tests.tickets.conftest import area

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 2, tzinfo=BERLIN)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def report(number: int, moment: datetime, wait: int, *, answered: bool = True, **fields):
    with time_machine.travel(moment, tick=False):
        return call_of(
            external_id=f"f{number}",
            wait_seconds=wait,
            extension="201" if answered else "",
            **fields,
        )


@pytest.fixture
def monday(erika, team):
    """Ten answered calls (waits 10 … 100 s) and two abandoned ones on Monday; one call on
    Sunday evening and one on Tuesday morning, outside the day."""
    calls = [report(n, at(0, 9, n * 5), wait=10 * n) for n in range(1, 11)]
    report(11, at(0, 13), wait=400, answered=False)
    report(12, at(0, 14), wait=30, answered=False)
    report(13, at(-1, 23, 30), wait=5)
    report(14, at(1, 0, 30), wait=5)
    return calls


def test_the_figures_of_a_day(monday, bob):
    for call in monday[:2]:
        services.call_note_record(
            call=call,
            customer=call.customer,
            actor=bob,
            outcome=Outcome.FIRST_CONTACT_SOLVED,
            summary="Erledigt.",
            support_area=area("no-internet"),
        )
    services.call_note_record(
        call=monday[2],
        customer=monday[2].customer,
        actor=bob,
        outcome=Outcome.TICKET_OPENED,
        summary="Rückruf.",
        support_area=area("no-internet"),
    )
    figures = selectors.call_figures(start=at(0, 0), end=at(1, 0))
    assert figures.calls == 12 and figures.answered == 10 and figures.abandoned == 2
    assert figures.average_wait_seconds == 55.0  # (10 + … + 100) / 10: answered calls only
    assert figures.p90_wait_seconds == 90  # nearest rank: the 9th of 10
    assert figures.first_contact_solved == 2


def test_calls_noted_by_hand_count_as_solved_but_not_as_volume(monday, bob, erika):
    with time_machine.travel(at(0, 12), tick=False):
        services.call_note_record(
            call=None,
            customer=erika,
            actor=bob,
            outcome=Outcome.FIRST_CONTACT_SOLVED,
            summary="Rückruf erledigt.",
            support_area=area("general"),
        )
    figures = selectors.call_figures(start=at(0, 0), end=at(1, 0))
    assert figures.calls == 12 and figures.first_contact_solved == 1


def test_an_empty_period_has_no_waits(monday):
    figures = selectors.call_figures(start=at(5, 0), end=at(6, 0))
    assert (figures.calls, figures.answered, figures.abandoned) == (0, 0, 0)
    assert figures.average_wait_seconds is None and figures.p90_wait_seconds is None


@pytest.mark.parametrize(("waits", "p90"), [([7], 7), ([1, 2], 2), ([5] * 9 + [500], 5)])
def test_the_90th_percentile_is_a_wait_someone_had(erika, team, waits, p90):
    for number, wait in enumerate(waits):
        report(number, at(2, 10, number), wait=wait)
    assert selectors.call_figures(start=at(2, 0), end=at(3, 0)).p90_wait_seconds == p90


def test_the_figures_cost_two_queries_however_many_calls(monday, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.call_figures(start=at(-7, 0), end=at(7, 0))


def test_volume_per_hour_in_local_time(monday):
    rows = selectors.call_volume(start=at(0, 0), end=at(1, 0), bucket="hour")
    # by when the call came in: the caller who gave up at 13:00 after 400 s called at 12:53
    assert [(row["period"].hour, row["calls"], row["answered"]) for row in rows] == [
        (9, 10, 10),
        (12, 1, 0),
        (13, 1, 0),
    ]
    assert rows[0]["period"] == at(0, 9) and rows[0]["average_wait_seconds"] == 55.0
    assert rows[1]["average_wait_seconds"] is None


def test_volume_per_day_splits_at_local_midnight(monday):
    rows = selectors.call_volume(start=at(-1, 0), end=at(2, 0), bucket="day")
    assert [(row["period"].date().isoformat(), row["calls"]) for row in rows] == [
        ("2026-03-01", 1),
        ("2026-03-02", 12),
        ("2026-03-03", 1),
    ]


def test_volume_costs_one_query(monday, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.call_volume(start=at(-7, 0), end=at(7, 0), bucket="day")
