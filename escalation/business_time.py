"""Business-time arithmetic on SLA calendars: pure Python, no models, no database."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

# How far ahead a calendar must have open time before we call it broken: a full year
# plus a day, so a calendar open on one date a year (whatever the leap years) still works.
SEARCH_DAYS = 366

MIDNIGHT = time(0)
ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


class NoOpenTime(ValueError):
    """The calendar has no open time within a year of the given moment."""


@dataclass(frozen=True)
class Schedule:
    """Opening hours per weekday (Monday=0) in local time, with public holidays and closed days."""

    tz: tzinfo
    weekly: tuple
    closed_days: frozenset = frozenset()
    holiday_country: str = ""
    holiday_subdivision: str = ""

    def __post_init__(self):
        # Lists from a caller are turned into tuples so a Schedule stays hashable.
        weekly = tuple(tuple(tuple(pair) for pair in day) for day in self.weekly)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "closed_days", frozenset(self.closed_days))
        if not isinstance(self.tz, tzinfo):
            raise ValueError("tz must be a time zone, e.g. ZoneInfo('Europe/Berlin').")
        if len(weekly) != 7:
            raise ValueError(f"weekly needs 7 days (Monday to Sunday), not {len(weekly)}.")
        for weekday, pairs in enumerate(weekly):
            _check_day(weekday, pairs)
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs a holiday_country.")


def _check_day(weekday: int, pairs: tuple) -> None:
    """Raise ValueError unless the day's (opens, closes) pairs are sorted and disjoint."""
    previous_close = None
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(t, time) for t in pair):
            raise ValueError(f"Day {weekday}: each entry must be an (opens, closes) pair of times.")
        opens, closes = pair
        if previous_close == MIDNIGHT or (previous_close is not None and opens < previous_close):
            raise ValueError(f"Day {weekday}: opening hours must be sorted and not overlap.")
        if closes != MIDNIGHT and closes <= opens:
            raise ValueError(f"Day {weekday}: {opens} to {closes} closes before it opens.")
        previous_close = closes


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset:
    """The public holidays of one country (and state) in one year, as a set of dates."""
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError as exc:
        raise ValueError(f"Unknown holiday country or state: {country} {subdivision}") from exc
    return frozenset(day for day in found if day.year == year)


def _require_aware(value: datetime, name: str) -> datetime:
    """Return value in UTC; raise ValueError if it has no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}.")
    return value.astimezone(UTC)


def is_closed_day(schedule: Schedule, day: date) -> bool:
    """True if day is one of the schedule's extra closed days or a public holiday it observes."""
    if day in schedule.closed_days:
        return True
    if not schedule.holiday_country:
        return False
    return day in _public_holidays(schedule.holiday_country, schedule.holiday_subdivision, day.year)


def open_intervals(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The local day's open intervals as sorted, disjoint (start, end) pairs of UTC datetimes."""
    if is_closed_day(schedule, day):
        return []
    # Local wall-clock times are combined with fold=0 and then converted, so a switch day
    # has its real elapsed length. On the spring-forward day a time inside the gap is read
    # with the offset from before the switch, i.e. it lands one hour later on the clock
    # (Berlin 02:30 becomes 03:30 CEST); on the fall-back day a repeated time means its
    # first occurrence (02:30 CEST). A close at time(0) is the next local day's start.
    intervals = []
    for opens, closes in schedule.weekly[day.weekday()]:
        start = datetime.combine(day, opens, tzinfo=schedule.tz).astimezone(UTC)
        end_day = day + ONE_DAY if closes == MIDNIGHT else day
        end = datetime.combine(end_day, closes, tzinfo=schedule.tz).astimezone(UTC)
        if start < end:
            intervals.append((start, end))
    # Gap shifting can make a day's intervals overlap (01:00-02:30 and 03:00-05:00 on the
    # spring-forward day) or turn one inside out (02:30-03:00); the latter is dropped above,
    # the former merged here so no second is counted twice.
    intervals.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _open_spans(
    schedule: Schedule, start: datetime, last_day: date | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the open time from start on, in order and without overlap, one day at a time.

    With last_day the walk stops after that local date; without it the walk is endless
    and raises NoOpenTime after SEARCH_DAYS days in a row without open time.
    """
    day = start.astimezone(schedule.tz).date()
    # With ZoneInfo and fold=0 no earlier local date reaches past start (its intervals end
    # by this date's midnight) and no day overlaps the next. The cursor keeps the spans
    # disjoint even for a tzinfo that breaks the latter, so no second is counted twice.
    cursor = start
    empty_days = 0
    while last_day is None or day <= last_day:
        empty = True
        for opens, closes in open_intervals(schedule, day):
            opens = max(opens, cursor)
            if opens < closes:
                empty = False
                cursor = closes
                yield opens, closes
        empty_days = empty_days + 1 if empty else 0
        if last_day is None and empty_days >= SEARCH_DAYS:
            raise NoOpenTime(f"No open time in the {SEARCH_DAYS} days after {start.isoformat()}.")
        day += ONE_DAY


def add_business_minutes(schedule: Schedule, start: datetime, minutes: int) -> datetime:
    """UTC moment `minutes` of open time after start; 0 gives start or the next opening."""
    start = _require_aware(start, "start")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes}.")
    remaining = timedelta(minutes=minutes)
    for opens, closes in _open_spans(schedule, start):
        # Zero minutes from a closed moment is due when the calendar next opens; a positive
        # amount that runs out exactly at a close is due at that close, not at the next opening.
        if not remaining:
            return opens
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: _open_spans is endless or raises NoOpenTime")


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole seconds of open time in [start, end); 0 if end is not after start."""
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    if end <= start:
        return 0
    # The walk is bounded by end, so a calendar without open time gives 0 here instead of
    # NoOpenTime: the answer exists, it is simply nothing.
    total = timedelta(0)
    for opens, closes in _open_spans(schedule, start, last_day=end.astimezone(schedule.tz).date()):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total // ONE_SECOND


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole minutes of open time in [start, end), rounded down; 0 if end is not after start."""
    return business_seconds_between(schedule, start, end) // 60


def check_has_open_time(schedule: Schedule, start: datetime) -> None:
    """Raise NoOpenTime unless the calendar opens within the 366 local days from start's date."""
    start = _require_aware(start, "start")
    next(_open_spans(schedule, start))
