"""The nightly KPI roll-up: one finished day of tickets and calls into a few `KpiDay` rows.

The KPI pages and `/api/v1/stats/` read these rows (a year is a few thousand of them), so
their cost does not grow with the number of tickets. A day is rolled up once it is over;
each figure belongs to the day its event happened, so a finished day never changes.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from calls.models import Call
from escalation import business_time as bt
from escalation import selectors
from escalation.models import KpiDay, KpiRollup, SlaClock, SlaPolicy
from tickets.choices import Channel, MessageKind, Status
from tickets.models import MOVE_EVENT_KINDS, Ticket, TicketEvent, TicketMessage

# How far back missing days are rolled up, and how many per pass (the hourly beat task);
# `manage.py kpi_rollup --days N` fills a longer history at once.
LOOKBACK_DAYS = 400
DAYS_PER_PASS = 31

FIGURES = (
    "received",
    "handled",
    "first_contact_solved",
    "breached",
    "responded",
    "response_minutes_sum",
    "calls",
    "calls_answered",
    "wait_seconds_sum",
)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware datetimes (23 or 25 hours on DST changes)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


def _blank() -> dict:
    return {**dict.fromkeys(FIGURES, 0), "response_minutes": defaultdict(int)}


def _resolved_facts(ticket_ids: list[int]) -> tuple[set[int], set[int]]:
    """Of these resolved tickets, those solved at first contact (never escalated, handed
    off or reopened, and at most one public reply: the answer that solved it) and those
    with a breached SLA clock. One query, each ticket's clocks looked up by its key."""
    if not ticket_ids:
        return set(), set()
    replies = (
        TicketMessage.objects.filter(ticket=OuterRef("pk"), kind=MessageKind.REPLY)
        .order_by()
        .values("ticket")
        .annotate(n=Count("pk"))
        .values("n")
    )
    moved = TicketEvent.objects.filter(ticket=OuterRef("pk")).filter(
        Q(kind__in=MOVE_EVENT_KINDS) | Q(kind="ticket.status_changed", data__from=Status.RESOLVED)
    )
    # A count, not EXISTS: PostgreSQL turns an EXISTS into a semi-join that hashes every
    # breached clock there is; a scalar subquery stays a lookup per ticket by its key.
    breached = (
        SlaClock.objects.filter(ticket=OuterRef("pk"), breached_at__isnull=False)
        .order_by()
        .values("ticket")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Ticket.objects.filter(pk__in=ticket_ids)
        .annotate(replies=Subquery(replies), moved=Exists(moved), breached=Subquery(breached))
        .values_list("pk", "replies", "moved", "breached")
    )
    solved, broke = set(), set()
    for pk, replies, was_moved, clocks_breached in rows:
        if not was_moved and (replies or 0) <= 1:
            solved.add(pk)
        if clocks_breached:
            broke.add(pk)
    return solved, broke


def _response_minutes(rows: list[tuple]) -> dict[int, int]:
    """Business minutes from creation to first response per ticket, on the calendar of the
    ticket's SLA policy (the default policy's when it has none)."""
    default = (
        SlaPolicy.objects.filter(is_default=True).values_list("calendar_id", flat=True).first()
    )
    policies = dict(SlaPolicy.objects.values_list("pk", "calendar_id"))
    schedules = selectors.schedules_by_calendar(set(policies.values()) | {default})
    minutes = {}
    for pk, created_at, responded_at, policy_id in rows:
        schedule = schedules.get(policies.get(policy_id, default))
        if schedule is None:
            minutes[pk] = max(0, int((responded_at - created_at).total_seconds() // 60))
        else:
            minutes[pk] = bt.business_minutes_between(schedule, created_at, responded_at)
    return minutes


def kpi_day_compute(day: date) -> dict[tuple[str, int | None], dict]:
    """The figures of one local day per (channel, department id), computed from the tickets
    and calls (a day's worth of rows; used by the roll-up and for today, live)."""
    start, end = day_bounds(day)
    rows: dict[tuple[str, int | None], dict] = defaultdict(_blank)

    received = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("channel", "support_area__first_queue__department")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for channel, department, n in received:
        rows[channel, department]["received"] += n

    resolved = list(
        Ticket.objects.filter(resolved_at__gte=start, resolved_at__lt=end).values_list(
            "pk", "channel", "queue__department"
        )
    )
    solved, breached = _resolved_facts([row[0] for row in resolved])
    for pk, channel, department in resolved:
        row = rows[channel, department]
        row["handled"] += 1
        row["breached"] += int(pk in breached)
        row["first_contact_solved"] += int(pk in solved)

    responses = list(
        Ticket.objects.filter(first_response_at__gte=start, first_response_at__lt=end).values_list(
            "pk",
            "channel",
            "support_area__first_queue__department",
            "created_at",
            "first_response_at",
            "sla_policy",
        )
    )
    minutes = _response_minutes([(r[0], r[3], r[4], r[5]) for r in responses])
    for pk, channel, department, *_rest in responses:
        row = rows[channel, department]
        row["responded"] += 1
        row["response_minutes_sum"] += minutes[pk]
        row["response_minutes"][minutes[pk]] += 1

    answered = Q(answered_at__isnull=False, wait_seconds__isnull=False)
    calls = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end)
        .exclude(external_id="")
        .values_list("support_area__first_queue__department")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=answered),
            wait=Sum("wait_seconds", filter=answered),
        )
        .order_by()
    )
    for department, n, n_answered, wait in calls:
        row = rows[Channel.PHONE, department]
        row["calls"] += n
        row["calls_answered"] += n_answered
        row["wait_seconds_sum"] += wait or 0
    return rows


@transaction.atomic
def kpi_day_rollup(*, day: date, now: datetime | None = None) -> int:
    """Store one finished day's figures, replacing an earlier roll-up of it; returns the
    number of rows. Two runs of the same day queue on the marker row's lock."""
    now = now or timezone.now()
    if day >= timezone.localdate(now):
        raise ValueError(f"{day} is not over yet; only finished days are rolled up.")
    KpiRollup.objects.get_or_create(day=day, defaults={"computed_at": now})
    KpiRollup.objects.select_for_update().filter(day=day).update(computed_at=now)
    KpiDay.objects.filter(day=day).delete()
    created = KpiDay.objects.bulk_create(
        KpiDay(
            day=day,
            channel=channel,
            department_id=department,
            **{figure: figures[figure] for figure in FIGURES},
            response_minutes={str(k): v for k, v in sorted(figures["response_minutes"].items())},
        )
        for (channel, department), figures in kpi_day_compute(day).items()
    )
    return len(created)


def kpi_days_missing(*, now: datetime, lookback: int = LOOKBACK_DAYS) -> list[date]:
    """Finished days within `lookback` without a roll-up, newest first, from the first
    ticket or call on (a fresh install has no history to roll up)."""
    yesterday = timezone.localdate(now) - timedelta(days=1)
    first = min(
        (
            value
            for value in (
                Ticket.objects.order_by("created_at").values_list("created_at", flat=True).first(),
                Call.objects.order_by("started_at").values_list("started_at", flat=True).first(),
            )
            if value is not None
        ),
        default=None,
    )
    if first is None:
        return []
    since = max(timezone.localdate(first), yesterday - timedelta(days=lookback - 1))
    done = set(KpiRollup.objects.filter(day__gte=since).values_list("day", flat=True))
    days = []
    day = yesterday
    while day >= since:
        if day not in done:
            days.append(day)
        day -= timedelta(days=1)
    return days


def kpi_days_rollup(
    *, now: datetime | None = None, limit: int = DAYS_PER_PASS, lookback: int = LOOKBACK_DAYS
) -> list[date]:
    """Roll up the newest missing finished days, at most `limit` per call (the hourly beat
    task; yesterday is missing right after midnight). Returns the days rolled up."""
    now = now or timezone.now()
    days = kpi_days_missing(now=now, lookback=lookback)[:limit]
    for day in days:
        kpi_day_rollup(day=day, now=now)
    return days
