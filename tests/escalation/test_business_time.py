"""Business-time arithmetic: opening hours, public holidays, closed days and DST in Berlin."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest

from escalation import business_time as bt

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MIDNIGHT = time(0)


def local(year, month, day, hour=0, minute=0, second=0, fold=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN, fold=fold)


def utc(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def every_day(*pairs):
    return (tuple(pairs),) * 7


def weekdays(*pairs):
    return (tuple(pairs),) * 5 + ((), ())


# Expected moments below are written in UTC by hand; Berlin is UTC+1 (CET) until
# 2026-03-29 01:00 UTC and from 2026-10-25 01:00 UTC, UTC+2 (CEST) in between.
HOTLINE = bt.Schedule(tz=BERLIN, weekly=every_day((time(6), time(23))))
BILLING = bt.Schedule(
    tz=BERLIN,
    weekly=weekdays((time(8), time(18))),
    holiday_country="DE",
    holiday_subdivision="BE",
)
ALWAYS = bt.Schedule(tz=BERLIN, weekly=every_day((MIDNIGHT, MIDNIGHT)))
LUNCH = bt.Schedule(tz=BERLIN, weekly=weekdays((time(9), time(12)), (time(13), time(17))))
# Open across the hours the clocks skip (02:00-03:00 on 29 March) and repeat (25 October).
NIGHT = bt.Schedule(tz=BERLIN, weekly=every_day((time(1), time(4))))
EMPTY = bt.Schedule(tz=BERLIN, weekly=((),) * 7)

CALENDARS = {
    "hotline": HOTLINE,
    "billing": BILLING,
    "always": ALWAYS,
    "lunch": LUNCH,
    "night": NIGHT,
}


# --- open intervals -------------------------------------------------------------------


def test_a_working_day_has_its_opening_hours_in_utc():
    assert bt.open_intervals(BILLING, date(2026, 2, 10)) == [
        (utc(2026, 2, 10, 7), utc(2026, 2, 10, 17))
    ]
    assert bt.open_intervals(BILLING, date(2026, 7, 14)) == [
        (utc(2026, 7, 14, 6), utc(2026, 7, 14, 16))
    ]


def test_intervals_are_utc_datetimes():
    [(opens, closes)] = bt.open_intervals(HOTLINE, date(2026, 7, 14))
    assert opens.tzinfo is UTC
    assert closes.tzinfo is UTC


def test_a_weekend_day_has_no_intervals():
    assert bt.open_intervals(BILLING, date(2026, 2, 14)) == []
    assert bt.open_intervals(BILLING, date(2026, 2, 15)) == []


def test_a_holiday_has_no_intervals():
    assert bt.open_intervals(BILLING, date(2026, 4, 3)) == []


def test_a_lunch_break_splits_the_day_in_two():
    assert bt.open_intervals(LUNCH, date(2026, 2, 9)) == [
        (utc(2026, 2, 9, 8), utc(2026, 2, 9, 11)),
        (utc(2026, 2, 9, 12), utc(2026, 2, 9, 16)),
    ]


def test_a_close_at_midnight_means_the_end_of_the_day():
    assert bt.open_intervals(ALWAYS, date(2026, 2, 10)) == [
        (utc(2026, 2, 9, 23), utc(2026, 2, 10, 23))
    ]
    late = bt.Schedule(tz=BERLIN, weekly=every_day((time(20), MIDNIGHT)))
    assert bt.open_intervals(late, date(2026, 2, 10)) == [
        (utc(2026, 2, 10, 19), utc(2026, 2, 10, 23))
    ]


def test_touching_intervals_are_one_interval():
    split = bt.Schedule(tz=BERLIN, weekly=every_day((time(8), time(12)), (time(12), time(18))))
    assert bt.open_intervals(split, date(2026, 2, 10)) == [
        (utc(2026, 2, 10, 7), utc(2026, 2, 10, 17))
    ]


# --- DST: the days have their real length ----------------------------------------------


def test_a_whole_day_is_23_hours_when_the_clocks_go_forward():
    assert bt.open_intervals(ALWAYS, date(2026, 3, 29)) == [
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    ]


def test_a_whole_day_is_25_hours_when_the_clocks_go_back():
    assert bt.open_intervals(ALWAYS, date(2026, 10, 25)) == [
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    ]


def test_the_24_7_weekend_of_the_spring_switch_has_47_hours():
    assert bt.business_minutes_between(ALWAYS, local(2026, 3, 28), local(2026, 3, 30)) == 47 * 60


def test_the_24_7_weekend_of_the_autumn_switch_has_49_hours():
    assert bt.business_minutes_between(ALWAYS, local(2026, 10, 24), local(2026, 10, 26)) == 49 * 60


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_the_hotline_is_open_17_hours_on_a_switch_day(day):
    start = datetime.combine(day, MIDNIGHT, tzinfo=BERLIN)
    end = datetime.combine(day + timedelta(days=1), MIDNIGHT, tzinfo=BERLIN)
    assert bt.business_minutes_between(HOTLINE, start, end) == 17 * 60


def test_the_hotline_opens_by_the_wall_clock_on_switch_days():
    assert bt.open_intervals(HOTLINE, date(2026, 3, 28)) == [
        (utc(2026, 3, 28, 5), utc(2026, 3, 28, 22))
    ]
    assert bt.open_intervals(HOTLINE, date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 4), utc(2026, 3, 29, 21))
    ]
    assert bt.open_intervals(HOTLINE, date(2026, 10, 24)) == [
        (utc(2026, 10, 24, 4), utc(2026, 10, 24, 21))
    ]
    assert bt.open_intervals(HOTLINE, date(2026, 10, 25)) == [
        (utc(2026, 10, 25, 5), utc(2026, 10, 25, 22))
    ]


@pytest.mark.parametrize(
    ("schedule", "start", "minutes", "expected"),
    [
        # Sat 22:00 CET, 60 min to 23:00 CET, then Sun 06:00 CEST + 60 = 07:00 CEST.
        (HOTLINE, local(2026, 3, 28, 22), 120, utc(2026, 3, 29, 5)),
        # Sat 22:00 CEST, 60 min to 23:00 CEST, then Sun 06:00 CET + 60 = 07:00 CET.
        (HOTLINE, local(2026, 10, 24, 22), 120, utc(2026, 10, 25, 6)),
        # The switch day itself is 17 hours: from opening to closing, to the minute.
        (HOTLINE, local(2026, 3, 29, 6), 17 * 60, utc(2026, 3, 29, 21)),
        (HOTLINE, local(2026, 3, 29, 6), 17 * 60 + 1, utc(2026, 3, 30, 4, 1)),
        (HOTLINE, local(2026, 10, 25, 6), 17 * 60, utc(2026, 10, 25, 22)),
        # Four real hours from Sat 23:00 CET are 04:00 CEST, not 03:00.
        (ALWAYS, local(2026, 3, 28, 23), 240, utc(2026, 3, 29, 2)),
        # Four real hours from Sat 23:00 CEST are the second 02:00 (CET).
        (ALWAYS, local(2026, 10, 24, 23), 240, utc(2026, 10, 25, 1)),
        # Fri 17:00 CET + 120: Mon 09:00 CEST.
        (BILLING, local(2026, 3, 27, 17), 120, utc(2026, 3, 30, 7)),
        # Fri 17:00 CEST + 120: Mon 09:00 CET.
        (BILLING, local(2026, 10, 23, 17), 120, utc(2026, 10, 26, 8)),
    ],
)
def test_adding_minutes_across_a_switch_lands_on_the_right_moment(
    schedule, start, minutes, expected
):
    assert bt.add_business_minutes(schedule, start, minutes) == expected


# --- DST: opening hours inside the skipped and the repeated hour ---------------------------


def test_hours_across_the_spring_gap_are_only_their_real_length():
    # 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC): two hours, not three.
    assert bt.open_intervals(NIGHT, date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))
    ]
    assert bt.business_minutes_between(NIGHT, local(2026, 3, 29), local(2026, 3, 30)) == 120
    assert bt.business_minutes_between(NIGHT, local(2026, 3, 28), local(2026, 3, 29)) == 180


def test_hours_across_the_autumn_repeat_count_the_repeated_hour_twice():
    # 01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC): four hours.
    assert bt.open_intervals(NIGHT, date(2026, 10, 25)) == [
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))
    ]
    assert bt.business_minutes_between(NIGHT, local(2026, 10, 25), local(2026, 10, 26)) == 240


def test_adding_minutes_through_the_spring_gap_skips_the_missing_hour():
    start = local(2026, 3, 29, 1, 30)  # 00:30 UTC
    assert bt.add_business_minutes(NIGHT, start, 60) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert bt.add_business_minutes(NIGHT, start, 90) == utc(2026, 3, 29, 2)  # 04:00 CEST, close
    assert bt.add_business_minutes(NIGHT, start, 91) == utc(2026, 3, 29, 23, 1)  # Mon 01:01 CEST


def test_a_start_inside_the_gap_is_read_with_the_winter_offset():
    nonexistent = local(2026, 3, 29, 2, 30)  # fold=0: 02:30 CET, i.e. 01:30 UTC
    assert bt.add_business_minutes(NIGHT, nonexistent, 0) == utc(2026, 3, 29, 1, 30)
    assert bt.add_business_minutes(NIGHT, nonexistent, 30) == utc(2026, 3, 29, 2)


def test_adding_minutes_through_the_repeated_hour_counts_it_twice():
    first = local(2026, 10, 25, 2, 30)  # 02:30 CEST, 00:30 UTC
    second = local(2026, 10, 25, 2, 30, fold=1)  # 02:30 CET, 01:30 UTC
    assert bt.add_business_minutes(NIGHT, first, 60) == utc(2026, 10, 25, 1, 30)
    assert bt.add_business_minutes(NIGHT, second, 60) == utc(2026, 10, 25, 2, 30)
    assert bt.business_minutes_between(NIGHT, first, second) == 60


def test_hours_inside_the_gap_shift_one_hour_later_on_the_clock():
    # 02:00-02:30 does not exist on 29 March; read with the winter offset it is 01:00-01:30
    # UTC, i.e. 03:00-03:30 CEST: the same half hour of real time as on any other day.
    gap = bt.Schedule(tz=BERLIN, weekly=every_day((time(2), time(2, 30))))
    assert bt.open_intervals(gap, date(2026, 3, 28)) == [
        (utc(2026, 3, 28, 1), utc(2026, 3, 28, 1, 30))
    ]
    assert bt.open_intervals(gap, date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30))
    ]
    assert bt.open_intervals(gap, date(2026, 3, 30)) == [
        (utc(2026, 3, 30, 0), utc(2026, 3, 30, 0, 30))
    ]


def test_hours_turned_inside_out_by_the_gap_are_closed():
    # 02:30 CET (01:30 UTC) to 03:00 CEST (01:00 UTC) ends before it starts.
    odd = bt.Schedule(tz=BERLIN, weekly=every_day((time(2, 30), time(3))))
    assert bt.open_intervals(odd, date(2026, 3, 29)) == []
    assert bt.open_intervals(odd, date(2026, 3, 30)) == [
        (utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 1))
    ]


def test_hours_overlapping_after_the_gap_shift_are_merged_not_counted_twice():
    split = bt.Schedule(tz=BERLIN, weekly=every_day((time(1), time(2, 30)), (time(3), time(5))))
    # 01:00 CET-02:30 "CET" is 00:00-01:30 UTC; 03:00-05:00 CEST is 01:00-03:00 UTC.
    assert bt.open_intervals(split, date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    ]
    assert bt.business_minutes_between(split, local(2026, 3, 29), local(2026, 3, 30)) == 180
    assert bt.open_intervals(split, date(2026, 3, 28)) == [
        (utc(2026, 3, 28, 0), utc(2026, 3, 28, 1, 30)),
        (utc(2026, 3, 28, 2), utc(2026, 3, 28, 4)),
    ]


def test_a_repeated_time_means_its_first_occurrence():
    repeat = bt.Schedule(tz=BERLIN, weekly=every_day((time(2), time(3))))
    # 02:00 CEST (00:00 UTC) to 03:00 CET (02:00 UTC): both copies of the hour.
    assert bt.open_intervals(repeat, date(2026, 10, 25)) == [
        (utc(2026, 10, 25, 0), utc(2026, 10, 25, 2))
    ]
    short = bt.Schedule(tz=BERLIN, weekly=every_day((time(2, 30), time(2, 45))))
    assert bt.open_intervals(short, date(2026, 10, 25)) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 45))
    ]


class _LateMidnight(tzinfo):
    """A made-up zone whose 00:xx hour is two hours behind UTC, so its days overlap."""

    def utcoffset(self, dt):
        return timedelta(hours=-2) if dt.hour == 0 else timedelta(0)

    def dst(self, dt):
        return timedelta(0)


def test_days_that_overlap_in_real_time_are_counted_once():
    overlapping = bt.Schedule(tz=_LateMidnight(), weekly=every_day((time(1), MIDNIGHT)))
    # Each day runs 01:00 UTC to 02:00 UTC the next day: 25 hours, one shared with the next.
    assert bt.open_intervals(overlapping, date(2026, 2, 10)) == [
        (utc(2026, 2, 10, 1), utc(2026, 2, 11, 2))
    ]
    assert bt.business_minutes_between(overlapping, utc(2026, 2, 10, 1), utc(2026, 2, 12, 2)) == (
        49 * 60
    )
    assert bt.add_business_minutes(overlapping, utc(2026, 2, 10, 1), 26 * 60) == utc(2026, 2, 11, 3)


# --- adding minutes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "start", "minutes", "expected"),
    [
        pytest.param(
            BILLING, local(2026, 2, 10, 9), 90, utc(2026, 2, 10, 9, 30), id="within-a-day"
        ),
        pytest.param(
            HOTLINE, local(2026, 2, 10, 22, 30), 60, utc(2026, 2, 11, 5, 30), id="across-the-night"
        ),
        pytest.param(
            BILLING, local(2026, 2, 13, 17), 120, utc(2026, 2, 16, 8), id="friday-to-monday"
        ),
        pytest.param(
            BILLING, local(2026, 2, 10, 6), 30, utc(2026, 2, 10, 7, 30), id="before-opening"
        ),
        pytest.param(BILLING, local(2026, 2, 10, 8), 30, utc(2026, 2, 10, 7, 30), id="at-opening"),
        pytest.param(BILLING, local(2026, 2, 10, 18), 30, utc(2026, 2, 11, 7, 30), id="at-closing"),
        pytest.param(
            BILLING, local(2026, 2, 10, 20), 30, utc(2026, 2, 11, 7, 30), id="after-closing"
        ),
        pytest.param(BILLING, local(2026, 2, 10, 17), 60, utc(2026, 2, 10, 17), id="ends-at-close"),
        pytest.param(BILLING, local(2026, 2, 10, 8), 600, utc(2026, 2, 10, 17), id="whole-day"),
        pytest.param(
            BILLING, local(2026, 2, 10, 8), 601, utc(2026, 2, 11, 7, 1), id="one-past-whole-day"
        ),
        pytest.param(BILLING, local(2026, 2, 14, 10), 60, utc(2026, 2, 16, 8), id="on-a-saturday"),
        pytest.param(BILLING, local(2026, 2, 15, 23), 1, utc(2026, 2, 16, 7, 1), id="sunday-night"),
        pytest.param(
            BILLING,
            local(2026, 2, 13, 17, 59, 30),
            1,
            utc(2026, 2, 16, 7, 0, 30),
            id="seconds-kept",
        ),
        pytest.param(
            LUNCH, local(2026, 2, 9, 11, 30), 60, utc(2026, 2, 9, 12, 30), id="over-lunch"
        ),
        pytest.param(LUNCH, local(2026, 2, 9, 11), 60, utc(2026, 2, 9, 11), id="ends-at-lunch"),
        pytest.param(LUNCH, local(2026, 2, 9, 12, 15), 30, utc(2026, 2, 9, 12, 30), id="in-lunch"),
        pytest.param(LUNCH, local(2026, 2, 9, 9), 420, utc(2026, 2, 9, 16), id="lunch-whole-day"),
        pytest.param(LUNCH, local(2026, 2, 9, 9), 421, utc(2026, 2, 10, 8, 1), id="lunch-next-day"),
        pytest.param(
            LUNCH, local(2026, 2, 13, 16), 5 * 420, utc(2026, 2, 20, 15), id="lunch-a-week-on"
        ),
        pytest.param(
            ALWAYS, local(2026, 2, 10, 23, 30), 60, utc(2026, 2, 10, 23, 30), id="24-7-midnight"
        ),
        pytest.param(
            ALWAYS, local(2026, 2, 10, 12), 7 * 1440, utc(2026, 2, 17, 11), id="24-7-a-week"
        ),
        pytest.param(
            HOTLINE, local(2026, 2, 10, 5), 17 * 60, utc(2026, 2, 10, 22), id="hotline-day"
        ),
    ],
)
def test_adding_minutes(schedule, start, minutes, expected):
    result = bt.add_business_minutes(schedule, start, minutes)
    assert result == expected
    assert result.tzinfo is UTC


def test_zero_minutes_from_open_time_is_the_start_itself():
    start = local(2026, 2, 10, 11, 11, 11)
    result = bt.add_business_minutes(BILLING, start, 0)
    assert result == utc(2026, 2, 10, 10, 11, 11)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("schedule", "start", "expected"),
    [
        (BILLING, local(2026, 2, 14, 10), utc(2026, 2, 16, 7)),  # Saturday: Monday 08:00
        (BILLING, local(2026, 2, 10, 6), utc(2026, 2, 10, 7)),  # early: today's 08:00
        (BILLING, local(2026, 2, 10, 18), utc(2026, 2, 11, 7)),  # at close: tomorrow's 08:00
        (BILLING, local(2026, 2, 10, 8), utc(2026, 2, 10, 7)),  # at opening: now
        (LUNCH, local(2026, 2, 9, 12), utc(2026, 2, 9, 12)),  # lunch: 13:00
        (BILLING, local(2026, 4, 2, 18), utc(2026, 4, 7, 6)),  # Easter: Tuesday 08:00 CEST
    ],
)
def test_zero_minutes_from_closed_time_is_the_next_opening(schedule, start, expected):
    assert bt.add_business_minutes(schedule, start, 0) == expected


def test_a_start_in_any_time_zone_means_the_same_moment():
    start = datetime(2026, 2, 13, 11, tzinfo=NEW_YORK)  # 16:00 UTC, 17:00 in Berlin
    assert bt.add_business_minutes(BILLING, start, 120) == utc(2026, 2, 16, 8)
    start_utc = utc(2026, 2, 13, 16)
    assert bt.add_business_minutes(BILLING, start_utc, 120) == utc(2026, 2, 16, 8)


def test_a_start_late_in_the_utc_day_uses_the_berlin_date():
    # 23:30 UTC on Friday is already Saturday 00:30 in Berlin: closed until Monday.
    assert bt.add_business_minutes(BILLING, utc(2026, 2, 13, 23, 30), 1) == utc(2026, 2, 16, 7, 1)


def test_two_hundred_days_of_minutes_are_walked_day_by_day():
    # 288,000 minutes are exactly 480 billing days of 10 hours; counted from Monday 5 January
    # 2026 past the Berlin holidays of 2026 and 2027, the 480th is Tuesday 23 November 2027.
    start = local(2026, 1, 5, 8)
    assert bt.add_business_minutes(BILLING, start, 60 * 24 * 200) == utc(2027, 11, 23, 17)


# --- public holidays and closed days -------------------------------------------------------


def test_good_friday_and_easter_monday_make_a_four_day_weekend():
    # Thu 2 April 17:00 CEST: one hour left, then Tue 7 April 08:00 CEST + 60 = 09:00 CEST.
    assert bt.add_business_minutes(BILLING, local(2026, 4, 2, 17), 120) == utc(2026, 4, 7, 7)
    assert bt.business_minutes_between(BILLING, local(2026, 4, 2, 18), local(2026, 4, 7, 8)) == 0


def test_german_unity_day_is_closed_nationwide():
    # 3 October 2025 is a Friday: Thu 17:00 CEST + 120 = Mon 6 October 09:00 CEST.
    assert bt.add_business_minutes(BILLING, local(2025, 10, 2, 17), 120) == utc(2025, 10, 6, 7)
    hotline_de = replace(HOTLINE, holiday_country="DE")
    # 3 October 2026 is a Saturday; a seven-day hotline keeping holidays skips it whole.
    assert bt.add_business_minutes(hotline_de, local(2026, 10, 2, 22, 30), 60) == utc(
        2026, 10, 4, 4, 30
    )
    assert bt.add_business_minutes(HOTLINE, local(2026, 10, 2, 22, 30), 60) == utc(
        2026, 10, 3, 4, 30
    )


def test_epiphany_is_closed_in_bavaria_but_not_in_berlin():
    bavaria = replace(BILLING, holiday_subdivision="BY")
    # Mon 5 January 17:00 CET + 120.
    assert bt.add_business_minutes(bavaria, local(2026, 1, 5, 17), 120) == utc(2026, 1, 7, 8)
    assert bt.add_business_minutes(BILLING, local(2026, 1, 5, 17), 120) == utc(2026, 1, 6, 8)


def test_an_extra_closed_day_is_skipped_like_a_holiday():
    christmas_eve = replace(BILLING, closed_days=frozenset({date(2026, 12, 24)}))
    # Wed 23 December 17:00 CET: 24 closed, 25 holiday, 26/27 weekend, Mon 28 09:00 CET.
    assert bt.add_business_minutes(christmas_eve, local(2026, 12, 23, 17), 120) == utc(
        2026, 12, 28, 8
    )
    assert bt.add_business_minutes(BILLING, local(2026, 12, 23, 17), 120) == utc(2026, 12, 24, 8)


@pytest.mark.parametrize(
    ("schedule", "day", "closed"),
    [
        (BILLING, date(2026, 1, 1), True),  # New Year, nationwide
        (BILLING, date(2026, 4, 3), True),  # Good Friday
        (BILLING, date(2026, 4, 6), True),  # Easter Monday
        (BILLING, date(2026, 10, 3), True),  # German Unity Day, even on a Saturday
        (BILLING, date(2026, 3, 8), True),  # Women's Day: Berlin only
        (BILLING, date(2026, 1, 6), False),  # Epiphany: not in Berlin
        (BILLING, date(2026, 12, 24), False),  # Christmas Eve: no public holiday
        (BILLING, date(2026, 2, 10), False),  # an ordinary Tuesday
        (BILLING, date(2026, 2, 14), False),  # a weekend is not a closed day
        (replace(BILLING, holiday_subdivision="BY"), date(2026, 1, 6), True),
        (replace(BILLING, holiday_subdivision="BY"), date(2026, 3, 8), False),
        (replace(BILLING, holiday_subdivision=""), date(2026, 1, 6), False),
        (replace(BILLING, holiday_subdivision=""), date(2026, 3, 8), False),
        (replace(BILLING, holiday_subdivision=""), date(2026, 10, 3), True),
        (HOTLINE, date(2026, 12, 25), False),  # no holiday country: no holidays
        (replace(HOTLINE, closed_days=frozenset({date(2026, 12, 24)})), date(2026, 12, 24), True),
    ],
)
def test_closed_days(schedule, day, closed):
    assert bt.is_closed_day(schedule, day) is closed


def test_an_unknown_holiday_country_is_refused():
    with pytest.raises(ValueError, match="Unknown holiday"):
        bt.is_closed_day(
            replace(BILLING, holiday_country="XX", holiday_subdivision=""), date(2026, 1, 1)
        )
    with pytest.raises(ValueError, match="Unknown holiday"):
        bt.is_closed_day(replace(BILLING, holiday_subdivision="ZZ"), date(2026, 1, 1))


# --- minutes between -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "start", "end", "minutes"),
    [
        pytest.param(BILLING, local(2026, 2, 10, 9), local(2026, 2, 10, 9), 0, id="same-moment"),
        pytest.param(BILLING, local(2026, 2, 10, 12), local(2026, 2, 10, 9), 0, id="reversed"),
        pytest.param(BILLING, local(2026, 2, 10, 9), local(2026, 2, 10, 10, 30), 90, id="in-a-day"),
        pytest.param(BILLING, local(2026, 2, 14, 9), local(2026, 2, 15, 20), 0, id="weekend"),
        pytest.param(
            BILLING, local(2026, 2, 13, 17), local(2026, 2, 16, 9), 120, id="over-weekend"
        ),
        pytest.param(BILLING, local(2026, 2, 9, 8), local(2026, 2, 23, 8), 6000, id="two-weeks"),
        # Wed 6 h, Thu+Fri 20 h, a full week 50 h, Mon 10 h, Tue 2 h.
        pytest.param(BILLING, local(2026, 2, 11, 12), local(2026, 2, 24, 10), 5280, id="weeks"),
        pytest.param(BILLING, local(2026, 4, 2, 8), local(2026, 4, 7, 18), 1200, id="easter"),
        pytest.param(
            replace(BILLING, holiday_country="", holiday_subdivision=""),
            local(2026, 4, 2, 8),
            local(2026, 4, 7, 18),
            2400,
            id="easter-without-holidays",
        ),
        # 254 working days in Berlin in 2026 (261 weekdays, 7 holidays on a weekday).
        pytest.param(BILLING, local(2026, 1, 1), local(2027, 1, 1), 254 * 600, id="billing-year"),
        pytest.param(HOTLINE, local(2026, 1, 1), local(2027, 1, 1), 365 * 17 * 60, id="hotline-yr"),
        pytest.param(ALWAYS, local(2026, 1, 1), local(2027, 1, 1), 365 * 1440, id="24-7-year"),
        pytest.param(LUNCH, local(2026, 2, 9), local(2026, 2, 10), 420, id="lunch-day"),
        pytest.param(LUNCH, local(2026, 2, 9, 11, 30), local(2026, 2, 9, 13, 30), 60, id="lunch"),
        pytest.param(
            BILLING,
            utc(2026, 2, 10, 7),
            datetime(2026, 2, 10, 4, tzinfo=NEW_YORK),
            120,
            id="mixed-time-zones",
        ),
    ],
)
def test_minutes_between(schedule, start, end, minutes):
    assert bt.business_minutes_between(schedule, start, end) == minutes


def test_seconds_between_keep_what_minutes_round_down():
    start = local(2026, 2, 10, 17, 59, 30)
    end = local(2026, 2, 11, 8, 0, 45)
    assert bt.business_seconds_between(BILLING, start, end) == 75
    assert bt.business_minutes_between(BILLING, start, end) == 1


def test_seconds_between_in_reverse_are_zero():
    assert bt.business_seconds_between(BILLING, local(2026, 2, 11, 9), local(2026, 2, 10, 9)) == 0


def test_a_calendar_without_open_time_has_zero_minutes_between():
    assert bt.business_minutes_between(EMPTY, local(2026, 1, 1), local(2028, 1, 1)) == 0


# --- against a minute-by-minute count ----------------------------------------------------


def _open_by_wall_clock(schedule, moment, holiday_cache):
    """The slow, obvious reading of a calendar: look at the Berlin clock and date."""
    wall = moment.astimezone(schedule.tz)
    day = wall.date()
    if schedule.holiday_country:
        if day.year not in holiday_cache:
            holiday_cache[day.year] = set(
                holidays.country_holidays(
                    schedule.holiday_country,
                    subdiv=schedule.holiday_subdivision or None,
                    years=day.year,
                )
            )
        if day in holiday_cache[day.year]:
            return False
    if day in schedule.closed_days:
        return False
    now = wall.time()
    return any(
        opens <= now and (closes == MIDNIGHT or now < closes)
        for opens, closes in schedule.weekly[day.weekday()]
    )


WINDOWS = [
    (utc(2026, 3, 26), utc(2026, 4, 8)),  # spring switch and Easter
    (utc(2026, 10, 21), utc(2026, 10, 28)),  # autumn switch
]


@pytest.mark.parametrize("name", ["hotline", "billing", "always", "lunch"])
@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_minutes_between_match_a_minute_by_minute_count(name, first, last):
    schedule = CALENDARS[name]
    cache = {}
    minute = timedelta(minutes=1)
    moment = first
    open_minutes = 0
    checkpoints = 0
    while moment < last:
        open_minutes += _open_by_wall_clock(schedule, moment, cache)
        moment += minute
        # Every 61 minutes, so the checks fall on every minute of the hour over the window.
        if (moment - first) % timedelta(minutes=61) == timedelta(0):
            assert bt.business_minutes_between(schedule, first, moment) == open_minutes, moment
            checkpoints += 1
    assert checkpoints > 150


@pytest.mark.parametrize("name", ["hotline", "billing", "always", "lunch"])
@pytest.mark.parametrize("amount", [0, 1, 59, 60, 61, 420, 600, 1020, 1500, 3000])
@pytest.mark.parametrize(
    "start",
    [
        local(2026, 3, 27, 17, 30),
        local(2026, 3, 28, 22, 45),
        local(2026, 3, 29, 0, 0),
        local(2026, 4, 2, 16, 59),
        local(2026, 10, 23, 23, 59),
        local(2026, 10, 25, 2, 30, fold=1),
    ],
)
def test_adding_minutes_matches_a_minute_by_minute_walk(name, amount, start):
    schedule = CALENDARS[name]
    cache = {}
    minute = timedelta(minutes=1)
    moment = start.astimezone(UTC)
    counted = 0
    while True:
        if _open_by_wall_clock(schedule, moment, cache):
            if amount == 0:
                expected = moment
                break
            counted += 1
            if counted == amount:
                expected = moment + minute
                break
        moment += minute
    assert bt.add_business_minutes(schedule, start, amount) == expected


# --- properties over a year ----------------------------------------------------------------

GRID_STARTS = [
    utc(2026, 1, 1) + timedelta(hours=61 * k, minutes=7 * k, seconds=k % 3) for k in range(144)
] + [
    local(2026, 3, 29, 0),
    local(2026, 3, 29, 1, 59),
    local(2026, 3, 29, 2, 30),
    local(2026, 3, 29, 3),
    local(2026, 3, 29, 23, 59),
    local(2026, 10, 25, 0),
    local(2026, 10, 25, 2, 30),
    local(2026, 10, 25, 2, 30, fold=1),
    local(2026, 10, 25, 3),
    local(2026, 4, 2, 17, 45),
    local(2026, 4, 3, 12),
    local(2026, 10, 2, 23),
    local(2026, 12, 23, 17),
    local(2026, 12, 31, 17, 59),
]
GRID_AMOUNTS = [0, 1, 59, 60, 61, 179, 180, 181, 599, 600, 601, 1020, 1440, 4321, 10_000]


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_minutes_between_undo_adding_minutes(name):
    schedule = CALENDARS[name]
    for start in GRID_STARTS:
        for amount in GRID_AMOUNTS:
            deadline = bt.add_business_minutes(schedule, start, amount)
            assert bt.business_minutes_between(schedule, start, deadline) == amount, (start, amount)
            assert bt.business_seconds_between(schedule, start, deadline) == amount * 60


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_adding_in_two_steps_is_adding_once(name):
    schedule = CALENDARS[name]
    for start in GRID_STARTS[::3]:
        for first, second in [(1, 1), (60, 599), (600, 1), (1020, 4321), (0, 61)]:
            halfway = bt.add_business_minutes(schedule, start, first)
            assert bt.add_business_minutes(schedule, halfway, second) == bt.add_business_minutes(
                schedule, start, first + second
            ), (start, first, second)


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_more_minutes_are_always_later(name):
    schedule = CALENDARS[name]
    for start in GRID_STARTS[::5]:
        deadlines = [bt.add_business_minutes(schedule, start, n) for n in range(0, 1500, 7)]
        assert all(b - a >= timedelta(minutes=7) for a, b in pairwise(deadlines))


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_seconds_between_add_up_over_consecutive_spans(name):
    schedule = CALENDARS[name]
    for a, b, c in zip(GRID_STARTS[:140], GRID_STARTS[1:141], GRID_STARTS[3:143], strict=True):
        whole = bt.business_seconds_between(schedule, a, c)
        assert whole == bt.business_seconds_between(schedule, a, b) + bt.business_seconds_between(
            schedule, b, c
        )


# --- no open time --------------------------------------------------------------------------


def test_a_calendar_without_opening_hours_has_no_open_time():
    with pytest.raises(bt.NoOpenTime):
        bt.check_has_open_time(EMPTY, local(2026, 1, 1))
    with pytest.raises(bt.NoOpenTime):
        bt.add_business_minutes(EMPTY, local(2026, 1, 1), 60)
    with pytest.raises(bt.NoOpenTime):
        bt.add_business_minutes(EMPTY, local(2026, 1, 1), 0)


def test_a_calendar_closed_every_day_has_no_open_time():
    mondays = bt.Schedule(tz=BERLIN, weekly=(((time(8), time(18)),),) + ((),) * 6)
    every_monday = frozenset(date(2026, 1, 5) + timedelta(weeks=k) for k in range(110))
    closed = replace(mondays, closed_days=every_monday)
    with pytest.raises(bt.NoOpenTime):
        bt.check_has_open_time(closed, local(2026, 1, 1))
    with pytest.raises(bt.NoOpenTime):
        bt.add_business_minutes(closed, local(2026, 1, 1), 1)


def test_open_time_366_days_ahead_is_too_far():
    year = frozenset(date(2026, 1, 1) + timedelta(days=k) for k in range(366))
    closed = replace(ALWAYS, closed_days=year)
    with pytest.raises(bt.NoOpenTime):
        bt.check_has_open_time(closed, local(2026, 1, 1, 12))


def test_open_time_365_days_ahead_is_found():
    almost = frozenset(date(2026, 1, 1) + timedelta(days=k) for k in range(365))
    closed = replace(ALWAYS, closed_days=almost)
    assert bt.check_has_open_time(closed, local(2026, 1, 1, 12)) is None
    # Opens on 1 January 2027 at 00:00 CET.
    assert bt.add_business_minutes(closed, local(2026, 1, 1, 12), 0) == utc(2026, 12, 31, 23)


def test_a_calendar_with_open_time_passes_the_check():
    assert bt.check_has_open_time(BILLING, local(2026, 12, 24, 18)) is None
    assert bt.check_has_open_time(HOTLINE, utc(2026, 3, 29)) is None


def test_no_open_time_is_a_value_error():
    assert issubclass(bt.NoOpenTime, ValueError)


# --- refused input -------------------------------------------------------------------------

NAIVE = datetime(2026, 2, 10, 9)
AWARE = local(2026, 2, 10, 9)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bt.add_business_minutes(BILLING, NAIVE, 10),
        lambda: bt.business_minutes_between(BILLING, NAIVE, AWARE),
        lambda: bt.business_minutes_between(BILLING, AWARE, NAIVE),
        lambda: bt.business_seconds_between(BILLING, NAIVE, AWARE),
        lambda: bt.business_seconds_between(BILLING, AWARE, NAIVE),
        lambda: bt.check_has_open_time(BILLING, NAIVE),
    ],
)
def test_a_naive_datetime_is_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError, match="negative"):
        bt.add_business_minutes(BILLING, AWARE, -1)


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        (((),) * 6, "7 days"),
        (every_day((time(18), time(8))), "closes before it opens"),
        (every_day((time(8), time(8))), "closes before it opens"),
        (every_day((time(8), time(12)), (time(11), time(18))), "sorted and not overlap"),
        (every_day((time(13), time(17)), (time(8), time(12))), "sorted and not overlap"),
        (every_day((time(20), MIDNIGHT), (time(21), time(22))), "sorted and not overlap"),
        (every_day((time(8),)), "pair of times"),
        (every_day(("08:00", "18:00")), "pair of times"),
    ],
)
def test_a_malformed_week_is_refused(weekly, message):
    with pytest.raises(ValueError, match=message):
        bt.Schedule(tz=BERLIN, weekly=weekly)


def test_a_state_without_a_country_is_refused():
    with pytest.raises(ValueError, match="holiday_country"):
        bt.Schedule(tz=BERLIN, weekly=every_day(), holiday_subdivision="BE")


def test_a_schedule_built_from_lists_is_hashable_and_equal_to_one_from_tuples():
    from_lists = bt.Schedule(
        tz=BERLIN,
        weekly=[[[time(8), time(18)]]] * 5 + [[], []],
        closed_days={date(2026, 12, 24)},
        holiday_country="DE",
        holiday_subdivision="BE",
    )
    assert from_lists == replace(BILLING, closed_days=frozenset({date(2026, 12, 24)}))
    assert hash(from_lists) == hash(replace(BILLING, closed_days=frozenset({date(2026, 12, 24)})))
