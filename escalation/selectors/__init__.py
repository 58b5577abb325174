"""Read queries of the escalation app, used by pages, the API and the services."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import business_time as bt
from escalation.choices import ClockKind, ClockState, NotificationKind
from escalation.models import BusinessCalendar, ClosedDay, Notification, SlaClock, SlaPolicy

# Closed days further back than this cannot matter for a running clock.
CLOSED_DAYS_LOOKBACK = timedelta(days=400)
INBOX_SIZE = 10


def schedule_from(
    *,
    time_zone: str,
    hours,
    closed_days,
    holiday_country: str,
    holiday_subdivision: str,
) -> bt.Schedule:
    """A calendar as business_time works with it, from (weekday, opens, closes) rows and
    closed dates, saved or not (the admin and the API check a calendar before saving)."""
    weekly: list[list[tuple[time, time]]] = [[] for _day in range(7)]
    for weekday, opens, closes in sorted(hours):
        weekly[weekday].append((opens, closes))
    return bt.Schedule(
        tz=ZoneInfo(time_zone),
        weekly=tuple(tuple(day) for day in weekly),
        closed_days=frozenset(closed_days),
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )


def schedule_build(calendar: BusinessCalendar) -> bt.Schedule:
    """A saved calendar's schedule (hours and closed days prefetched)."""
    return schedule_from(
        time_zone=calendar.time_zone,
        hours=[(h.weekday, h.opens, h.closes) for h in calendar.hours.all()],
        closed_days=[day.date for day in calendar.closed_days.all()],
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
    )


def schedules_by_calendar(calendar_ids, *, now: datetime | None = None) -> dict[int, bt.Schedule]:
    """The schedules of these calendars (three queries whatever their number)."""
    ids = {pk for pk in calendar_ids if pk is not None}
    if not ids:
        return {}
    since = timezone.localdate(now or timezone.now()) - CLOSED_DAYS_LOOKBACK
    calendars = BusinessCalendar.objects.filter(pk__in=ids).prefetch_related(
        "hours", Prefetch("closed_days", queryset=ClosedDay.objects.filter(date__gte=since))
    )
    return {calendar.pk: schedule_build(calendar) for calendar in calendars}


def policies_active() -> list[SlaPolicy]:
    """Every active policy, for choosing one per ticket in Python (a handful of rows)."""
    return list(SlaPolicy.objects.filter(is_active=True).order_by("pk"))


def ticket_clocks(*, ticket) -> list[SlaClock]:
    """The ticket's clocks in the order the ticket page shows them."""
    order = list(ClockKind.values)
    clocks = list(SlaClock.objects.filter(ticket=ticket))
    return sorted(clocks, key=lambda clock: order.index(clock.kind))


@dataclass
class ClockView:
    """One clock as a person reads it: what it promises, where it stands, time left."""

    kind: str
    label: str
    state: str
    state_label: str
    due_at: datetime
    remaining_minutes: int | None  # business minutes; negative when overdue
    target_minutes: int
    stopped_at: datetime | None
    remaining_label: str = ""


def clock_state(clock: SlaClock, now: datetime) -> str:
    """ok / warning / breached / paused / met / missed / stopped, as of `now`."""
    if clock.stopped_at is not None:
        if clock.met:
            return ClockState.MET
        late = clock.breached_at is not None or clock.stopped_at > clock.due_at
        if late and clock.kind != ClockKind.NEXT_UPDATE:
            return ClockState.MISSED
        return ClockState.STOPPED
    if clock.paused_at is not None:
        return ClockState.PAUSED
    return deadline_state(due_at=clock.due_at, warn_at=clock.warn_at, now=now)


def deadline_state(*, due_at: datetime | None, warn_at: datetime | None, now: datetime) -> str:
    """Colour of a deadline: breached once due, warning once the warning moment passed."""
    if due_at is None:
        return ""
    if due_at <= now:
        return ClockState.BREACHED
    if warn_at is not None and warn_at <= now:
        return ClockState.WARNING
    return ClockState.OK


def remaining_minutes(schedule: bt.Schedule, *, due_at: datetime, now: datetime) -> int:
    """Business minutes until `due_at` (negative: how long overdue, in business minutes)."""
    if due_at >= now:
        return bt.business_minutes_between(schedule, now, due_at)
    return -bt.business_minutes_between(schedule, due_at, now)


def clock_views(*, clocks: list[SlaClock], schedule: bt.Schedule | None, now: datetime):
    """The ticket page's three clocks, with remaining business time where it runs."""
    views = []
    for clock in clocks:
        state = clock_state(clock, now)
        remaining = None
        if schedule is not None and clock.stopped_at is None and clock.paused_at is None:
            remaining = remaining_minutes(schedule, due_at=clock.due_at, now=now)
        views.append(
            ClockView(
                kind=clock.kind,
                label=ClockKind(clock.kind).label,
                state=state,
                state_label=ClockState(state).label,
                due_at=clock.due_at,
                remaining_minutes=remaining,
                target_minutes=clock.target_minutes,
                stopped_at=clock.stopped_at,
            )
        )
    return views


def duration_label(minutes: int, *, compact: bool = False) -> str:
    """Business time for people: "2 h 05 min", "overdue 1 h 10 min"; compact for list
    columns: "2:05 h", "-1:10 h" (the colour says overdue, a minus sign repeats it)."""
    hours, rest = divmod(abs(minutes), 60)
    if compact:
        text = f"{hours}:{rest:02d} h" if hours else _("%(minutes)d min") % {"minutes": rest}
        return f"\N{MINUS SIGN}{text}" if minutes < 0 else text
    text = (
        _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}
        if hours
        else _("%(minutes)d min") % {"minutes": rest}
    )
    return _("overdue %(time)s") % {"time": text} if minutes < 0 else text


def ticket_sla(*, ticket, now: datetime | None = None) -> dict | None:
    """The ticket page's SLA card: policy, calendar and the clocks (five queries)."""
    now = now or timezone.now()
    clocks = ticket_clocks(ticket=ticket)
    if not clocks or ticket.sla_policy_id is None:
        return None
    policy = ticket.sla_policy
    schedule = schedules_by_calendar([policy.calendar_id], now=now).get(policy.calendar_id)
    views = clock_views(clocks=clocks, schedule=schedule, now=now)
    for view in views:
        view.remaining_label = (
            duration_label(view.remaining_minutes) if view.remaining_minutes is not None else ""
        )
    return {"policy": policy, "clocks": views}


def deadline_rows(tickets, *, now: datetime | None = None) -> dict[int, dict]:
    """For list rows: each ticket's deadline state and remaining business minutes.

    Tickets come with `sla_policy` joined; the schedules cost three queries per page.
    """
    now = now or timezone.now()
    tickets = [t for t in tickets if t.sla_due_at is not None and t.sla_policy_id is not None]
    schedules = schedules_by_calendar({t.sla_policy.calendar_id for t in tickets}, now=now)
    rows = {}
    for ticket in tickets:
        schedule = schedules.get(ticket.sla_policy.calendar_id)
        if schedule is None:
            continue
        remaining = remaining_minutes(schedule, due_at=ticket.sla_due_at, now=now)
        rows[ticket.pk] = {
            "state": deadline_state(due_at=ticket.sla_due_at, warn_at=ticket.sla_warn_at, now=now),
            "remaining": remaining,
            "label": duration_label(remaining, compact=True),
            "due_at": ticket.sla_due_at,
        }
    return rows


def timer_lag(*, now: datetime) -> dict:
    """How far the timer is behind: the oldest due-but-unfired moment (one index lookup)."""
    oldest = SlaClock.objects.filter(fire_at__lte=now).aggregate(oldest=Min("fire_at"))["oldest"]
    lag = (now - oldest).total_seconds() if oldest else 0.0
    return {"oldest_due": oldest.isoformat() if oldest else None, "lag_seconds": round(lag)}


def timer_status(*, now: datetime) -> dict:
    """The timer's lag for people: behind when something waits longer than the alert."""
    lag = timer_lag(now=now)
    return {**lag, "behind": lag["lag_seconds"] > settings.SLA_TIMER_LAG_ALERT.total_seconds()}


def notification_inbox(*, user, size: int = INBOX_SIZE) -> list[Notification]:
    """The user's unread notices, newest first, with their tickets (one query)."""
    return list(
        Notification.objects.filter(recipient=user, read_at=None)
        .select_related("ticket", "feature_request")
        .order_by("-created_at")[:size]
    )


def notice_list(*, user) -> list[Notification]:
    """The inbox with each notice's line of text, for the workspace home."""
    notices = notification_inbox(user=user)
    for notice in notices:
        notice.text = notice_text(notice)
        notice.url = notice_url(notice)
    return notices


def notice_url(notice: Notification) -> str:
    """Where the notice leads: its request to management, ticket or feature request."""
    if notice.management_request_id:
        return reverse("management:request-detail", args=[notice.management_request_id])
    if notice.feature_request_id:
        return reverse("feature_requests:request-detail", args=[notice.feature_request_id])
    return reverse("tickets:ticket-detail", args=[notice.ticket.reference])


def notice_text(notice: Notification) -> str:
    """One line for the inbox and the mail subject."""
    if notice.kind == NotificationKind.FEATURE_REQUEST_REREVIEW:
        return _("Feature request #%(id)s: %(asks)s new asks since the rejection") % {
            "id": notice.feature_request_id,
            "asks": notice.data.get("asks", ""),
        }
    if notice.kind == NotificationKind.MANAGEMENT_REQUEST:
        return _("Request to management %(ref)s: %(subject)s") % {
            "ref": notice.data.get("reference", ""),
            "subject": notice.data.get("subject", ""),
        }
    if notice.kind == NotificationKind.PROPOSAL_ANSWERED:
        text = (
            _("%(ref)s: the customer accepted the proposal")
            if notice.data.get("accepted")
            else _("%(ref)s: the customer rejected the proposal")
        )
        return text % {"ref": notice.data.get("reference", "")}
    clock = ClockKind(notice.data.get("clock", ClockKind.RESOLUTION)).label
    if notice.kind == NotificationKind.SLA_WARNING:
        return _("%(ref)s: %(clock)s due soon") % {"ref": notice.ticket.reference, "clock": clock}
    return _("%(ref)s: %(clock)s overdue") % {"ref": notice.ticket.reference, "clock": clock}
