"""Expected wait times for the public page: numbers only, no customer data.

- Phone: the average wait of the phone system's answered calls of the last hour when there
  were at least PHONE_RECENT_MIN_CALLS of them (what a caller meets right now), otherwise
  the average over the last rolled-up days.
- Written channels (e-mail, portal, chat): the median first response in business minutes
  over the last rolled-up days, merged exactly from the `KpiDay` minute histograms.
- Whether the hotline is open now, from the "hotline" business calendar.

`wait_figures` costs a handful of queries whatever the traffic; the page caches its result
for WAIT_TIMES_CACHE_SECONDS, so a crowd of visitors costs the database nothing.
"""

from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q, Subquery
from django.utils import timezone

from calls.models import Call
from escalation import business_time as bt
from escalation import selectors
from escalation.models import BusinessCalendar, KpiDay, KpiRollup
from escalation.selectors import kpis
from tickets.choices import Channel

PHONE_RECENT = timedelta(minutes=60)
PHONE_RECENT_MIN_CALLS = 5
# "Recent" rolled-up figures: the newest RECENT_DAYS rolled-up days, none older than
# RECENT_LOOKBACK_DAYS (a roll-up that stopped months ago is not "current").
RECENT_DAYS = 7
RECENT_LOOKBACK_DAYS = 30
WRITTEN_CHANNELS = (Channel.EMAIL, Channel.PORTAL, Channel.CHAT)
HOTLINE_CALENDAR = "hotline"

# Where a phone figure comes from.
BASIS_LAST_HOUR = "last_hour"
BASIS_RECENT_DAYS = "recent_days"


def _recent_days(now: datetime):
    """The newest rolled-up days (a query to read or to nest)."""
    today = timezone.localdate(now)
    return (
        KpiRollup.objects.filter(
            day__lt=today, day__gte=today - timedelta(days=RECENT_LOOKBACK_DAYS)
        )
        .order_by("-day")
        .values_list("day", flat=True)[:RECENT_DAYS]
    )


def _recent_figures(now: datetime) -> dict[str, kpis.Figures]:
    """The figures of the recent days per channel (phone and the written channels), in
    one query whether there are any or not."""
    figures = {channel: kpis.Figures() for channel in (Channel.PHONE, *WRITTEN_CHANNELS)}
    rows = KpiDay.objects.filter(
        day__in=Subquery(_recent_days(now)), channel__in=list(figures)
    ).values("channel", "response_minutes", *kpis.SUMS)
    for row in rows:
        figures[row["channel"]].add(row)
    return figures


def _hotline_schedule(now: datetime) -> bt.Schedule | None:
    ids = BusinessCalendar.objects.filter(slug=HOTLINE_CALENDAR).values_list("pk", flat=True)
    return next(iter(selectors.schedules_by_calendar(list(ids), now=now).values()), None)


def hotline_state(schedule: bt.Schedule | None, now: datetime) -> dict | None:
    """Whether the hotline is open at `now`, until when, or when it opens next
    (no database: the page works this out per request from the cached schedule)."""
    if schedule is None:
        return None
    local_day = timezone.localtime(now, schedule.tz).date()
    for day in (local_day - timedelta(days=1), local_day):  # an interval may span midnight
        for opens, closes in bt.open_intervals(schedule, day):
            if opens <= now < closes:
                return {"open": True, "closes_at": closes, "opens_at": None}
    try:
        opens_at = bt.add_business_minutes(schedule, now, 0)
    except bt.NoOpenTime:
        opens_at = None
    return {"open": False, "closes_at": None, "opens_at": opens_at}


def wait_figures(*, now: datetime | None = None) -> dict:
    """The current expected answer time per channel (seconds for the phone, business
    minutes for the written channels; None: no figures yet) and the hotline schedule.

    Plain values only, the same in every language: cached as they are and rendered per
    request.
    """
    now = now or timezone.now()
    answered = Q(answered_at__isnull=False, wait_seconds__isnull=False)
    last_hour = (
        Call.objects.filter(started_at__gte=now - PHONE_RECENT, started_at__lte=now)
        .exclude(external_id="")
        .aggregate(calls=Count("pk", filter=answered), wait=Avg("wait_seconds", filter=answered))
    )
    days = list(_recent_days(now))
    recent = _recent_figures(now)

    phone = recent[Channel.PHONE]
    if last_hour["calls"] >= PHONE_RECENT_MIN_CALLS:
        phone_figure = {
            "seconds": round(last_hour["wait"]),
            "basis": BASIS_LAST_HOUR,
            "count": last_hour["calls"],
        }
    else:
        seconds = phone.average_wait_seconds
        phone_figure = {
            "seconds": round(seconds) if seconds is not None else None,
            "basis": BASIS_RECENT_DAYS,
            "count": phone.calls_answered,
        }
    written = {}
    for channel in WRITTEN_CHANNELS:
        median = recent[channel].median_response_minutes
        written[channel] = {
            "minutes": round(median) if median is not None else None,
            "count": recent[channel].responded,
        }
    return {
        "computed_at": now,
        "days": len(days),
        "first_day": min(days, default=None),
        "last_day": max(days, default=None),
        "phone": phone_figure,
        "written": written,
        "hotline": _hotline_schedule(now),
    }
