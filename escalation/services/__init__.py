"""Every state change of the escalation app: one function per use case (see STYLE.md R2).

SLA clocks are stored deadlines (STYLE R5). The tickets services call the `clocks_*`
functions inside their own transactions whenever something that moves a deadline
happens; `sla_sweep` is the timer, a plain service that beat, a command and tests call.
"""

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from itertools import pairwise
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.choices import Segment
from escalation import business_time as bt
from escalation import selectors
from escalation.choices import ClockKind, NotificationKind
from escalation.models import (
    BusinessCalendar,
    ClosedDay,
    Notification,
    OpeningHours,
    SlaClock,
    SlaPolicy,
)
from helpdesk import services as helpdesk_services
from helpdesk.errors import DomainError
from tickets.choices import OPEN_STATUSES, Channel, Priority, Status
from tickets.models import Agent, Ticket, TicketEvent

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
# Notices whose mail task never ran (broker down) are mailed by the sweep after this long.
UNMAILED_GRACE_SECONDS = 120
CLOCK_FIELDS = [
    "policy",
    "target_minutes",
    "started_at",
    "paused_minutes",
    "paused_at",
    "warn_at",
    "due_at",
    "warned_at",
    "breached_at",
    "stopped_at",
    "met",
    "fire_at",
]


# --- Validation shared by the admin, the API and the services ----------------------------


def opening_hours_problem(intervals: list[tuple[int, time, time]]) -> str | None:
    """Why these (weekday, opens, closes) rows cannot be a calendar's week, or None."""
    if not intervals:
        return _("A calendar needs opening hours on at least one day.")
    by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for weekday, opens, closes in intervals:
        if closes != time(0) and closes <= opens:
            return _("Opening hours must close after they open (00:00 means midnight).")
        by_day[weekday].append((opens, closes))
    for spans in by_day.values():
        spans.sort()
        for (_opens, closes), (next_opens, _next_closes) in pairwise(spans):
            if closes == time(0) or closes > next_opens:
                return _("Opening hours on the same day must not overlap.")
    return None


def calendar_problem(schedule: bt.Schedule, *, now: datetime) -> str | None:
    """Why this calendar cannot carry deadlines (no open time within a year), or None."""
    try:
        bt.check_has_open_time(schedule, now)
    except bt.NoOpenTime:
        return _("This calendar has no open time in the next year; no deadline could ever fall.")
    return None


def policy_targets_problem(targets: dict[str, int | None], warning_percent: int | None) -> dict:
    """Field → message for targets that are not whole positive minutes (empty: all fine)."""
    problems = {}
    for field, minutes in targets.items():
        if minutes is None or minutes <= 0:
            problems[field] = _("A target must be at least one business minute.")
    if warning_percent is None or not 1 <= warning_percent <= 99:
        problems["warning_percent"] = _("Warn between 1 and 99 percent of the target.")
    return problems


# --- Choosing a policy and planning clocks ---------------------------------------------


def _specificity(policy: SlaPolicy) -> tuple:
    # More matching criteria win; on a tie the department counts most (its calendar is
    # the team's), then the customer's segment, the priority and the channel.
    flags = (
        policy.department_id is not None,
        bool(policy.segment),
        policy.priority is not None,
        bool(policy.channel),
    )
    return (sum(flags), *flags, -policy.pk)


def policy_choose(*, ticket: Ticket, policies: list[SlaPolicy]) -> SlaPolicy:
    """The most specific active policy whose criteria all match the ticket."""
    segment = ticket.customer.segment if ticket.customer_id else ""
    department_id = ticket.queue.department_id
    matching = [
        policy
        for policy in policies
        if policy.priority in (None, ticket.priority)
        and policy.channel in ("", ticket.channel)
        and policy.segment in ("", segment)
        and policy.department_id in (None, department_id)
    ]
    if not matching:
        # Only possible if someone removed the default policy's row by hand.
        raise DomainError(_("There is no SLA policy; the default policy is missing."))
    return max(matching, key=_specificity)


def _plan(clock: SlaClock, *, policy: SlaPolicy, schedule: bt.Schedule) -> None:
    """Set target, warning and due moment from the cycle start plus paused time."""
    target = policy.target_minutes(clock.kind)
    warn_after = max(1, math.ceil(target * policy.warning_percent / 100))
    clock.policy = policy
    clock.target_minutes = target
    clock.due_at = bt.add_business_minutes(
        schedule, clock.started_at, target + clock.paused_minutes
    )
    clock.warn_at = bt.add_business_minutes(
        schedule, clock.started_at, warn_after + clock.paused_minutes
    )
    _arm(clock)


def _arm(clock: SlaClock) -> None:
    """The next moment the timer must look at this clock, or None."""
    if clock.stopped_at is not None or clock.paused_at is not None:
        clock.fire_at = None
    elif clock.warned_at is None:
        clock.fire_at = clock.warn_at
    elif clock.breached_at is None:
        clock.fire_at = clock.due_at
    else:
        clock.fire_at = None


def _restart(clock: SlaClock, *, now: datetime) -> None:
    clock.started_at = now
    clock.paused_minutes = 0
    clock.paused_at = None
    clock.warned_at = None
    clock.breached_at = None
    clock.stopped_at = None
    clock.met = False


def _stop(clock: SlaClock, *, now: datetime, met: bool) -> None:
    clock.stopped_at = now
    clock.paused_at = None
    clock.met = met
    clock.fire_at = None


def _set_mirror(ticket: Ticket, clocks: list[SlaClock], policy: SlaPolicy | None) -> None:
    """Put policy and the earliest running deadline (with its warning) on the ticket."""
    running = [clock for clock in clocks if clock.is_running]
    earliest = min(running, key=lambda clock: clock.due_at) if running else None
    ticket.sla_policy = policy
    ticket.sla_due_at = earliest.due_at if earliest else None
    ticket.sla_warn_at = earliest.warn_at if earliest else None


def _mirror(ticket: Ticket, clocks: list[SlaClock], policy: SlaPolicy | None) -> None:
    """Copy the earliest running deadline onto the ticket for lists and sorting."""
    _set_mirror(ticket, clocks, policy)
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_policy=policy, sla_due_at=ticket.sla_due_at, sla_warn_at=ticket.sla_warn_at
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _deadlines(clocks: list[SlaClock]) -> dict:
    return {clock.kind: _iso(clock.due_at) for clock in clocks if clock.stopped_at is None}


def _event(ticket: Ticket, kind: str, actor, data: dict, now: datetime) -> None:
    from tickets import services as ticket_services  # tickets.services imports this module

    ticket_services.event_record(ticket=ticket, kind=kind, actor=actor, data=data, now=now)


def _load(ticket: Ticket, now: datetime) -> tuple[list[SlaClock], SlaPolicy, bt.Schedule]:
    policy = policy_choose(ticket=ticket, policies=selectors.policies_active())
    schedule = selectors.schedules_by_calendar([policy.calendar_id], now=now)[policy.calendar_id]
    clocks = list(SlaClock.objects.filter(ticket=ticket).select_for_update())
    return clocks, policy, schedule


def _save(clocks: list[SlaClock]) -> None:
    existing = [clock for clock in clocks if clock.pk]
    new = [clock for clock in clocks if not clock.pk]
    if existing:
        SlaClock.objects.bulk_update(existing, CLOCK_FIELDS)
    if new:
        SlaClock.objects.bulk_create(new)


# --- Clocks on tickets (called by tickets.services inside their transaction) -------------


def clocks_start(*, ticket: Ticket, actor, now: datetime) -> list[SlaClock]:
    """A new ticket gets its first-response and resolution clocks under its policy."""
    policy = policy_choose(ticket=ticket, policies=selectors.policies_active())
    schedule = selectors.schedules_by_calendar([policy.calendar_id], now=now)[policy.calendar_id]
    clocks = []
    for kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION):
        clock = SlaClock(ticket=ticket, kind=kind, started_at=now)
        _plan(clock, policy=policy, schedule=schedule)
        clocks.append(clock)
    _save(clocks)
    _mirror(ticket, clocks, policy)
    _event(ticket, "sla.started", actor, {"policy": policy.name, **_deadlines(clocks)}, now)
    return clocks


def clocks_reply(*, ticket: Ticket, actor, now: datetime) -> None:
    """A public reply meets the first response and restarts the next-update clock."""
    clocks, policy, schedule = _load(ticket, now)
    by_kind = {clock.kind: clock for clock in clocks}
    data: dict = {}
    first = by_kind.get(ClockKind.FIRST_RESPONSE)
    if first is not None and first.stopped_at is None:
        _stop(first, now=now, met=first.breached_at is None and now <= first.due_at)
        data["first_response"] = "met" if first.met else "missed"
    update = by_kind.get(ClockKind.NEXT_UPDATE)
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        # A word after the resolution owes no further update.
        _save(clocks)
        _mirror(ticket, clocks, policy)
        _event(ticket, "sla.replied", actor, data, now)
        return
    if update is None:
        update = SlaClock(ticket=ticket, kind=ClockKind.NEXT_UPDATE)
        clocks.append(update)
    _restart(update, now=now)
    if ticket.status == Status.WAITING_CUSTOMER:
        update.paused_at = now
    _plan(update, policy=policy, schedule=schedule)
    data["next_update"] = _iso(update.due_at)
    _save(clocks)
    _mirror(ticket, clocks, policy)
    _event(ticket, "sla.replied", actor, data, now)


def clocks_status_changed(*, ticket: Ticket, old: str, new: str, actor, now: datetime) -> None:
    """Waiting for the customer pauses, resolving stops, leaving either resumes."""
    resumes = old in (Status.WAITING_CUSTOMER, Status.RESOLVED) and new in OPEN_STATUSES
    if not (resumes or new in (Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED)):
        return  # e.g. new → open on pickup: no clock moves, nothing to read
    clocks, policy, schedule = _load(ticket, now)
    if not clocks:
        return
    if new == Status.WAITING_CUSTOMER:
        kind = _pause(clocks, now=now)
    elif new in (Status.RESOLVED, Status.CLOSED):
        kind = _stop_all(clocks, now=now)
    elif resumes:
        kind = _resume(clocks, old=old, policy=policy, schedule=schedule, now=now)
    else:
        return
    if kind is None:
        return
    _save(clocks)
    _mirror(ticket, clocks, policy)
    _event(ticket, kind, actor, {"status": new, **_deadlines(clocks)}, now)


def clocks_stop_many(*, ticket_ids: list[int], now: datetime) -> list[int]:
    """Stop every running clock of a batch of tickets being resolved together; two queries.

    The bulk form of resolving in `clocks_status_changed` (an outage resolving its linked
    tickets): the same rule for "met", written as one UPDATE. The caller clears the
    tickets' mirrored deadlines and records `sla.stopped` on the tickets returned.
    """
    live = SlaClock.objects.filter(ticket_id__in=ticket_ids, stopped_at=None)
    stopped = sorted(set(live.values_list("ticket_id", flat=True)))
    if stopped:
        met = Q(kind=ClockKind.RESOLUTION, breached_at=None) & (
            Q(paused_at__isnull=False) | Q(due_at__gte=now)
        )
        live.update(
            stopped_at=now,
            paused_at=None,
            fire_at=None,
            met=Case(When(met, then=Value(True)), default=Value(False)),
        )
    return stopped


def _pause(clocks: list[SlaClock], *, now: datetime) -> str | None:
    # Waiting for the customer pauses the SLA clock; on resume the deadline moves by the
    # business minutes spent waiting, not wall-clock minutes.
    running = [clock for clock in clocks if clock.is_running]
    for clock in running:
        clock.paused_at = now
        _arm(clock)
    return "sla.paused" if running else None


def _stop_all(clocks: list[SlaClock], *, now: datetime) -> str | None:
    live = [clock for clock in clocks if clock.stopped_at is None]
    for clock in live:
        met = clock.kind == ClockKind.RESOLUTION and clock.breached_at is None
        if clock.paused_at is None and now > clock.due_at:
            met = False
        _stop(clock, now=now, met=met)
    return "sla.stopped" if live else None


def _resume(
    clocks: list[SlaClock], *, old: str, policy: SlaPolicy, schedule: bt.Schedule, now: datetime
) -> str | None:
    resumed = []
    for clock in clocks:
        if clock.paused_at is not None:
            waited_since = clock.paused_at
        elif old == Status.RESOLVED and clock.kind == ClockKind.RESOLUTION and clock.stopped_at:
            # A reopened ticket: the resolution clock goes on, the resolved time not counted.
            waited_since = clock.stopped_at
            clock.stopped_at = None
            clock.met = False
        else:
            continue
        clock.paused_minutes += bt.business_minutes_between(schedule, waited_since, now)
        clock.paused_at = None
        _plan(clock, policy=policy, schedule=schedule)
        resumed.append(clock)
    first = next((c for c in clocks if c.kind == ClockKind.FIRST_RESPONSE), None)
    update = next((c for c in clocks if c.kind == ClockKind.NEXT_UPDATE), None)
    if old == Status.RESOLVED and update is not None and first is not None and first.stopped_at:
        # The customer wrote again after a resolution: the next update is owed from now.
        _restart(update, now=now)
        _plan(update, policy=policy, schedule=schedule)
        resumed.append(update)
    return "sla.resumed" if resumed else None


def clocks_recompute(*, ticket: Ticket, actor, reason: str, now: datetime) -> None:
    """Priority, queue or policy changed: the running clocks take the policy now chosen.

    A clock keeps its start and paused time and what it already fired: a deadline missed
    stays missed, and a warning is not repeated.
    """
    clocks, policy, schedule = _load(ticket, now)
    live = [clock for clock in clocks if clock.stopped_at is None]
    if not live:
        return
    before = {clock.kind: (clock.policy_id, clock.due_at, clock.warn_at) for clock in live}
    for clock in live:
        _plan(clock, policy=policy, schedule=schedule)
    if all(before[c.kind] == (policy.pk, c.due_at, c.warn_at) for c in live):
        return
    _save(clocks)
    _mirror(ticket, clocks, policy)
    data = {"reason": reason, "policy": policy.name, **_deadlines(clocks)}
    _event(ticket, "sla.recomputed", actor, data, now)


@transaction.atomic
def policy_apply(*, policy: SlaPolicy, actor, now: datetime | None = None) -> int:
    """After a policy changed: recompute the open tickets that run on it, or might now.

    "Might now" are the open tickets matching its criteria (a new or widened policy may
    now be the most specific for them); a policy without criteria, the default, can only
    win where nothing else matches, so only its own tickets are looked at. Returns how
    many tickets were looked at. Meant for the admin after an edit; it works through the
    tickets one by one, which is fine for an occasional change.
    """
    now = now or timezone.now()
    criteria = Q()
    if policy.priority is not None:
        criteria &= Q(priority=policy.priority)
    if policy.channel:
        criteria &= Q(channel=policy.channel)
    if policy.segment:
        criteria &= Q(customer__segment=policy.segment)
    if policy.department_id is not None:
        criteria &= Q(queue__department_id=policy.department_id)
    candidates = Q(sla_policy=policy) | (criteria if criteria else Q(pk__in=[]))
    tickets = (
        Ticket.objects.filter(candidates, status__in=OPEN_STATUSES)
        .select_related("customer", "queue")
        .order_by("pk")
    )
    count = 0
    for ticket in tickets.iterator(chunk_size=500):
        clocks_recompute(ticket=ticket, actor=actor, reason="policy changed", now=now)
        count += 1
    return count


# --- The timer ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    batches: int = 0

    @property
    def fired(self) -> int:
        return self.warnings + self.breaches


def sla_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> SweepResult:
    """Fire every warning and breach that is due, each exactly once; returns the counts.

    Works in batches, one transaction each: lock due clocks (skipping those another
    worker holds), claim them with conditional UPDATEs, then write events, notices and
    breach actions in bulk. A worker that was down catches up on everything due.
    """
    now = now or timezone.now()
    result = SweepResult()
    while True:
        warnings, breaches = _sweep_batch(now=now, batch_size=batch_size)
        if not warnings and not breaches:
            break
        result.warnings += warnings
        result.breaches += breaches
        result.batches += 1
    notifications_email_pending(now=now)
    return result


def _claim(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def _sweep_batch(*, now: datetime, batch_size: int) -> tuple[int, int]:
    ids = list(
        SlaClock.objects.filter(fire_at__lte=now)
        .order_by("fire_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return 0, 0
    marks = ", ".join(["%s"] * len(ids))
    table = SlaClock._meta.db_table
    # Raw SQL gets the moment as the backend stores it (SQLite: naive UTC text).
    moment = connection.ops.adapt_datetimefield_value(now)
    # The claims: each UPDATE only touches clocks still unfired, so a second worker, a
    # retried task or SQLite (which ignores row locks) cannot fire one twice.
    warned = _claim(
        f"UPDATE {table} SET warned_at = %s, fire_at = due_at "  # noqa: S608 (ids are ints)
        f"WHERE id IN ({marks}) AND warned_at IS NULL AND warn_at <= %s "
        "AND fire_at IS NOT NULL RETURNING id",
        [moment, *ids, moment],
    )
    breached = _claim(
        f"UPDATE {table} SET breached_at = %s, fire_at = NULL "  # noqa: S608 (ids are ints)
        f"WHERE id IN ({marks}) AND breached_at IS NULL AND due_at <= %s "
        "AND fire_at IS NOT NULL RETURNING id",
        [moment, *ids, moment],
    )
    # Anything selected but not claimed had a stale fire_at: arm it from its own state
    # (which puts it in the future or clears it), so the loop cannot spin on it.
    unclaimed = list(SlaClock.objects.filter(pk__in=set(ids) - set(warned) - set(breached)))
    for clock in unclaimed:
        _arm(clock)
    SlaClock.objects.bulk_update(unclaimed, ["fire_at"])
    _act(warned=set(warned), breached=set(breached), now=now)
    return len(warned), len(breached)


def _act(*, warned: set[int], breached: set[int], now: datetime) -> None:
    """Events, notices and breach actions for the clocks just claimed."""
    clocks = list(
        SlaClock.objects.filter(pk__in=warned | breached).select_related(
            "policy", "ticket__queue", "ticket__assignee"
        )
    )
    leads = _team_leads({clock.ticket.queue.department_id for clock in clocks})
    events: list[TicketEvent] = []
    notices: list[Notification] = []
    raise_ids: set[int] = set()
    move_ids: set[int] = set()
    for clock in clocks:
        ticket = clock.ticket
        data = {"clock": clock.kind, "due_at": _iso(clock.due_at), "policy": clock.policy.name}
        department_leads = leads.get(ticket.queue.department_id, [])
        if clock.pk in warned:
            late = clock.pk in breached
            events.append(_event_row(ticket, "sla.warning", {**data, "late": late}, now))
            if not late:
                recipients = [ticket.assignee] if ticket.assignee_id else department_leads
                kind = NotificationKind.SLA_WARNING
                notices += _notices(recipients, kind, data, now, ticket=ticket)
        if clock.pk in breached:
            events.append(_event_row(ticket, "sla.breached", data, now))
            kind = NotificationKind.SLA_BREACHED
            notices += _notices(department_leads, kind, data, now, ticket=ticket)
            if clock.policy.breach_raises_priority:
                raise_ids.add(ticket.pk)
            if clock.policy.breach_moves_up and ticket.queue.line == 1:
                move_ids.add(ticket.pk)
    TicketEvent.objects.bulk_create(events)
    created = Notification.objects.bulk_create(notices)
    from tickets import services as ticket_services  # tickets.services imports this module

    # The system's note is read by people like an agent's: in the house language.
    with translation.override(settings.LANGUAGE_CODE):
        note = _("SLA breached")
    changed = ticket_services.tickets_breach_escalate(
        raise_ids=raise_ids, move_ids=move_ids, note=note, now=now
    )
    _recompute_many(ticket_ids=changed, reason="sla.breached", now=now)
    if created:
        ids = [notice.pk for notice in created]
        transaction.on_commit(partial(_enqueue_mail, ids))


def _event_row(ticket: Ticket, kind: str, data: dict, now: datetime) -> TicketEvent:
    return TicketEvent(ticket_id=ticket.pk, kind=kind, actor_id=None, data=data, created_at=now)


def _notices(recipients, kind: str, data: dict, now: datetime, **about):
    """One notice per person (None and repeats skipped), about a ticket or feature request."""
    seen = set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        yield Notification(recipient=user, kind=kind, data=data, created_at=now, **about)


def _team_leads(department_ids: set[int]) -> dict[int, list]:
    leads: dict[int, list] = defaultdict(list)
    if not department_ids:
        return leads
    rows = (
        Agent.departments.through.objects.filter(
            department_id__in=department_ids, agent__is_team_lead=True, agent__user__is_active=True
        )
        .select_related("agent__user")
        .order_by("agent__user__username")
    )
    for row in rows:
        leads[row.department_id].append(row.agent.user)
    return leads


def _recompute_many(*, ticket_ids: set[int], reason: str, now: datetime) -> None:
    """After the timer raised priorities or moved tickets: new policies, in bulk."""
    if not ticket_ids:
        return
    tickets = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=ticket_ids).select_related("customer", "queue")
    }
    policies = selectors.policies_active()
    chosen = {pk: policy_choose(ticket=t, policies=policies) for pk, t in tickets.items()}
    schedules = selectors.schedules_by_calendar({p.calendar_id for p in chosen.values()}, now=now)
    clocks_by_ticket: dict[int, list[SlaClock]] = defaultdict(list)
    for clock in SlaClock.objects.filter(ticket_id__in=ticket_ids, stopped_at=None):
        clocks_by_ticket[clock.ticket_id].append(clock)
    changed_clocks, changed_tickets, events = [], [], []
    for pk, clocks in clocks_by_ticket.items():
        ticket, policy = tickets[pk], chosen[pk]
        for clock in clocks:
            _plan(clock, policy=policy, schedule=schedules[policy.calendar_id])
        changed_clocks += clocks
        _set_mirror(ticket, clocks, policy)
        changed_tickets.append(ticket)
        data = {"reason": reason, "policy": policy.name, **_deadlines(clocks)}
        events.append(_event_row(ticket, "sla.recomputed", data, now))
    _rows_set(
        SlaClock,
        changed_clocks,
        {
            "policy_id": "bigint",
            "target_minutes": "integer",
            "warn_at": "timestamptz",
            "due_at": "timestamptz",
            "fire_at": "timestamptz",
        },
    )
    _rows_set(
        Ticket,
        changed_tickets,
        {"sla_policy_id": "bigint", "sla_due_at": "timestamptz", "sla_warn_at": "timestamptz"},
    )
    TicketEvent.objects.bulk_create(events)


def _rows_set(model, objects: list, columns: dict[str, str]) -> None:
    """Write these columns of many rows, each its own values, in one statement.

    On PostgreSQL one `UPDATE … FROM unnest(arrays)`: Django's bulk_update builds a CASE
    per field and row, which cost seconds for a thousand breached tickets. SQLite (local
    runs) keeps bulk_update.
    """
    if not objects:
        return
    if connection.vendor != "postgresql":
        fields = [name.removesuffix("_id") for name in columns]
        model.objects.bulk_update(objects, fields, batch_size=500)
        return
    names = list(columns)
    arrays = [[obj.pk for obj in objects]] + [
        [getattr(obj, name) for obj in objects] for name in names
    ]
    casts = ", ".join(["%s::bigint[]"] + [f"%s::{columns[name]}[]" for name in names])
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    table = model._meta.db_table
    connection.ensure_connection()
    # A server-side binding cursor on Django's own connection (same transaction): the
    # arrays travel as parameters instead of being quoted into the SQL text.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 (names are ours, values bound)
            f"FROM unnest({casts}) AS v(id, {', '.join(names)}) WHERE t.id = v.id",
            arrays,
        )


# --- Notices -----------------------------------------------------------------------------


def _enqueue_mail(notification_ids: list[int]) -> None:
    from escalation import tasks  # tasks import services

    helpdesk_services.task_enqueue(tasks.notifications_email_send_task, notification_ids)


def notifications_email_send(*, notification_ids: list[int]) -> int:
    """Mail each notice once (claimed before sending); returns how many were sent."""
    sent = 0
    notices = Notification.objects.filter(pk__in=notification_ids, emailed_at=None).select_related(
        "recipient", "ticket", "feature_request"
    )
    for notice in notices:
        if not Notification.objects.filter(pk=notice.pk, emailed_at=None).update(
            emailed_at=timezone.now()
        ):
            continue
        if not notice.recipient.email:
            continue
        subject, body = _notice_mail(notice)
        try:
            helpdesk_services.email_send(subject=subject, body=body, to=[notice.recipient.email])
        except OSError:
            Notification.objects.filter(pk=notice.pk).update(emailed_at=None)
            raise
        sent += 1
    return sent


def notifications_email_pending(*, now: datetime) -> int:
    """Mail notices whose task was lost (e.g. the broker was down when they were made)."""
    cutoff = now - timezone.timedelta(seconds=UNMAILED_GRACE_SECONDS)
    ids = list(
        Notification.objects.filter(emailed_at=None, created_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    if not ids:
        return 0
    try:
        return notifications_email_send(notification_ids=ids)
    except OSError:
        log.warning("SLA notices could not be mailed; the next pass tries again")
        return 0


def _notice_mail(notice: Notification) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        if notice.feature_request_id:
            link = settings.SITE_URL + selectors.notice_url(notice)
            body = "\n\n".join(
                [
                    notice.data.get("title", ""),
                    _("Enough new asks came in since the rejection: please review it again."),
                    link,
                ]
            )
            return selectors.notice_text(notice), body
        if notice.management_request_id:
            # A request to management or an answered proposal: no SLA deadline to name.
            link = settings.SITE_URL + selectors.notice_url(notice)
            return selectors.notice_text(notice), f"{notice.data.get('subject', '')}\n\n{link}"
        link = settings.SITE_URL + reverse("tickets:ticket-detail", args=[notice.ticket.reference])
        due = timezone.localtime(datetime.fromisoformat(notice.data["due_at"]))
        body = "\n\n".join(
            [
                notice.ticket.subject,
                _("Due: %(due)s (policy %(policy)s)")
                % {"due": f"{due:%d.%m.%Y %H:%M}", "policy": notice.data.get("policy", "")},
                link,
            ]
        )
        return selectors.notice_text(notice), body


def notices_create(
    *,
    recipients,
    kind: str,
    data: dict,
    now: datetime,
    ticket=None,
    feature_request=None,
    management_request=None,
) -> list[Notification]:
    """In-app notices to each recipient once, mailed after commit (e.g. a review reopened)."""
    about = {
        "ticket": ticket,
        "feature_request": feature_request,
        "management_request": management_request,
    }
    created = Notification.objects.bulk_create(_notices(recipients, kind, data, now, **about))
    if created:
        transaction.on_commit(partial(_enqueue_mail, [notice.pk for notice in created]))
    return created


@transaction.atomic
def notifications_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notices read (all when no ids); other people's are never touched."""
    rows = Notification.objects.filter(recipient=user, read_at=None)
    if notification_ids is not None:
        rows = rows.filter(pk__in=notification_ids)
    return rows.update(read_at=timezone.now())


# --- Calendars and policies (admin, API) ---------------------------------------------------

# What the admin and the API may set on a policy; `is_default` is not among them: the one
# default policy comes from the migration and stays the default.
POLICY_FIELDS = (
    "name",
    "calendar",
    "priority",
    "channel",
    "segment",
    "department",
    "first_response_minutes",
    "next_update_minutes",
    "resolution_minutes",
    "warning_percent",
    "breach_raises_priority",
    "breach_moves_up",
    "is_active",
)
POLICY_CRITERIA = ("priority", "channel", "segment", "department")
POLICY_TARGETS = ("first_response_minutes", "next_update_minutes", "resolution_minutes")
# A change of any of these moves the deadlines of the open tickets on the policy.
POLICY_DEADLINE_FIELDS = (
    *POLICY_CRITERIA,
    *POLICY_TARGETS,
    "warning_percent",
    "calendar",
    "is_active",
)
# More than a year's worth of minutes is no promise, and walking a sparse calendar that
# far ahead for every ticket would cost seconds (and, further still, overflow the year 9999).
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_OPENING_HOURS = 70  # ten intervals a day is more than any real team has


@dataclass
class PolicySaved:
    policy: SlaPolicy
    # Open tickets whose deadlines were worked out again; None when nothing that moves a
    # deadline changed (or the policy is new, so no ticket runs on it yet).
    recomputed: int | None


def time_zone_problem(name: str) -> str | None:
    """Why `name` is not a time zone zoneinfo knows (e.g. Europe/Berlin), or None."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return _("Unknown time zone; use a name such as Europe/Berlin.")
    return None


def _holidays_known(country: str, subdivision: str) -> bool:
    schedule = bt.Schedule(
        tz=ZoneInfo("UTC"),
        weekly=((),) * 7,
        holiday_country=country,
        holiday_subdivision=subdivision,
    )
    try:
        bt.is_closed_day(schedule, timezone.localdate())
    except ValueError:
        return False
    return True


def holidays_problems(country: str, subdivision: str) -> dict[str, str]:
    """Field → message when the `holidays` library does not know this country or state."""
    if not country:
        if subdivision:
            return {"holiday_country": _("Public holidays of a state need the country too.")}
        return {}
    if not _holidays_known(country, ""):
        return {"holiday_country": _("Unknown country for public holidays; use a code such as DE.")}
    if subdivision and not _holidays_known(country, subdivision):
        return {"holiday_subdivision": _("This country has no such state for public holidays.")}
    return {}


def calendar_problems(
    *,
    time_zone: str,
    holiday_country: str,
    holiday_subdivision: str,
    hours: list[tuple[int, time, time]],
    closed_days: list[date],
    now: datetime,
) -> dict[str | None, str]:
    """Field → message for a calendar that cannot carry deadlines (empty: all fine).

    Keys: `time_zone`, `holiday_country`, `holiday_subdivision`, `hours`, and None when
    the week, closed days and public holidays together leave no open time within a year.
    """
    problems: dict[str | None, str] = {}
    problem = time_zone_problem(time_zone)
    if problem:
        problems["time_zone"] = problem
    problems.update(holidays_problems(holiday_country, holiday_subdivision))
    if any(weekday not in range(7) for weekday, _opens, _closes in hours):
        problems["hours"] = _("Weekdays run from 0 (Monday) to 6 (Sunday).")
    elif len(hours) > MAX_OPENING_HOURS:
        problems["hours"] = _("A week can have at most %(max)s opening intervals.") % {
            "max": MAX_OPENING_HOURS
        }
    else:
        problem = opening_hours_problem(hours)
        if problem:
            problems["hours"] = problem
    if problems:
        return problems
    schedule = selectors.schedule_from(
        time_zone=time_zone,
        hours=hours,
        closed_days=closed_days,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    problem = calendar_problem(schedule, now=now)
    if problem:
        problems[None] = problem
    return problems


@transaction.atomic
def calendar_create(
    *,
    name: str,
    slug: str,
    time_zone: str,
    holiday_country: str,
    holiday_subdivision: str,
    hours: list[tuple[int, time, time]],
    closed_days: list[tuple[date, str]],
    actor,
    now: datetime | None = None,
) -> BusinessCalendar:
    """A new business calendar with its week and closed days, all or nothing.

    Refused with the field named when the name or short name is missing or taken, the
    time zone or holidays are unknown, hours are empty, inside out or overlap, or the
    calendar would have no open time within a year.
    """
    now = now or timezone.now()
    name, slug, holiday_country = name.strip(), slug.strip(), holiday_country.strip().upper()
    if not name:
        raise DomainError(_("A calendar needs a name."), field="name")
    if not slug or not (slug.isascii() and slug.replace("-", "").replace("_", "").isalnum()):
        raise DomainError(
            _("A short name consists of letters, digits, hyphens and underscores."), field="slug"
        )
    if BusinessCalendar.objects.filter(slug=slug).exists():
        raise DomainError(_("Another calendar already has this short name."), field="slug")
    dates = [day for day, _reason in closed_days]
    if len(set(dates)) != len(dates):
        raise DomainError(_("Each closed day can be listed only once."), field="closed_days")
    problems = calendar_problems(
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        hours=hours,
        closed_days=dates,
        now=now,
    )
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    calendar = BusinessCalendar.objects.create(
        name=name,
        slug=slug,
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in sorted(hours)
    )
    ClosedDay.objects.bulk_create(
        ClosedDay(calendar=calendar, date=day, reason=reason.strip()) for day, reason in closed_days
    )
    log.info("Business calendar %s created by %s", slug, getattr(actor, "pk", None))
    return calendar


def _policy_state(policy: SlaPolicy, values: dict) -> dict:
    """The policy's settable fields once `values` are applied; related rows as ids."""
    state = {}
    for field in POLICY_FIELDS:
        if field in ("calendar", "department"):
            if field in values:
                state[field] = values[field].pk if values[field] is not None else None
            else:
                state[field] = getattr(policy, f"{field}_id")
        else:
            state[field] = values[field] if field in values else getattr(policy, field)
    return state


def policy_problems(*, policy: SlaPolicy, values: dict) -> dict[str | None, str]:
    """Field → message for what is wrong with `policy` once `values` are applied (empty: fine).

    `policy` is the row as stored (an unsaved SlaPolicy() for a new one); it is not
    changed. Checks: a name and a calendar, targets of 1 minute to a year, a warning at 1
    to 99 %, known criteria, the default policy without criteria and switched on, and no
    two active policies with exactly the same criteria (the choice between them would be
    arbitrary). The key None is a problem of the policy as a whole.
    """
    state = _policy_state(policy, values)
    problems: dict[str | None, str] = {}
    if not str(state["name"] or "").strip():
        problems["name"] = _("A policy needs a name.")
    if state["calendar"] is None:
        problems["calendar"] = _("Choose the business calendar the targets count in.")
    problems.update(
        policy_targets_problem(
            {field: state[field] for field in POLICY_TARGETS}, state["warning_percent"]
        )
    )
    for field in POLICY_TARGETS:
        if field not in problems and state[field] > MAX_TARGET_MINUTES:
            problems[field] = _("A target can be at most %(max)s business minutes.") % {
                "max": MAX_TARGET_MINUTES
            }
    known = {
        "priority": [None, *Priority.values],
        "channel": ["", *Channel.values],
        "segment": ["", *Segment.values],
    }
    for field, allowed in known.items():
        if state[field] not in allowed:
            problems[field] = _("Unknown value.")
    if policy.is_default:
        for field in POLICY_CRITERIA:
            if state[field] not in (None, ""):
                problems[field] = _(
                    "The default policy applies to every ticket; it cannot have criteria."
                )
        if not state["is_active"]:
            problems["is_active"] = _(
                "The default policy cannot be switched off: it covers every ticket no "
                "other policy matches."
            )
    if state["is_active"] and not problems.keys() & set(POLICY_CRITERIA):
        twin = (
            SlaPolicy.objects.filter(
                is_active=True,
                priority=state["priority"],
                channel=state["channel"],
                segment=state["segment"],
                department_id=state["department"],
            )
            .exclude(pk=policy.pk)
            .first()
        )
        if twin is not None:
            problems[None] = _(
                "Another active policy already has exactly these criteria (%(name)s); "
                "change the criteria or switch one of the two off."
            ) % {"name": twin.name}
    return problems


@transaction.atomic
def sla_policy_save(*, policy: SlaPolicy, values: dict, actor) -> PolicySaved:
    """Create (`policy` unsaved) or change a policy; refused with the field named, nothing saved.

    `values` holds the fields to set (names from POLICY_FIELDS). When something that
    moves deadlines changed, the open tickets on the policy get theirs recomputed.
    """
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    if unknown:
        raise DomainError(_("This field cannot be set here."), field=unknown[0])
    stored = None
    if policy.pk is not None:
        # Validation and "what changed" go by the saved row, locked, not by an instance a
        # form may already have changed. Two racing edits are applied one after the other.
        stored = SlaPolicy.objects.select_for_update().filter(pk=policy.pk).first()
        if stored is None:
            raise DomainError(_("This policy no longer exists."))
    problems = policy_problems(policy=stored or SlaPolicy(), values=values)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    for field, value in values.items():
        setattr(policy, field, value)
    if stored is not None:
        policy.is_default = stored.is_default
    policy.save()
    recomputed = None
    if stored is not None:
        before, after = _policy_state(stored, {}), _policy_state(policy, {})
        if any(before[field] != after[field] for field in POLICY_DEADLINE_FIELDS):
            recomputed = policy_apply(policy=policy, actor=actor)
    log.info("SLA policy %s saved by %s", policy.pk, getattr(actor, "pk", None))
    return PolicySaved(policy=policy, recomputed=recomputed)
