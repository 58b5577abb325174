"""Read queries of the calls app: matching a reported call, the screen pop, an agent's
calls, and the volume and wait-time figures management reports on."""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from calls import permissions
from calls.choices import Match, Outcome
from calls.models import Call
from customers.models import Customer, PhoneNumber
from tickets.choices import OPEN_STATUSES
from tickets.models import Agent, Ticket

# A notice nobody looked at stops popping up after this long: by then the call is over and
# its after-call work is on the agent's call list, not in a corner of every page.
NOTICE_MAX_AGE = timedelta(hours=2)
NOTICES_SHOWN = 3
# "New call note" on a customer page belongs to the agent's last call if it is this recent.
PENDING_NOTE_WINDOW = timedelta(minutes=30)
# Shorter digit strings (extensions, service numbers) never identify a customer.
MIN_MATCH_DIGITS = 6
MAX_CANDIDATES = 5
CALL_PAGE_SIZE = 50
OPEN_TICKETS_OFFERED = 20
CUSTOMER_NUMBER_RE = re.compile(r"^K?(\d{7})$", re.IGNORECASE)


# --- Matching a reported call ------------------------------------------------------------


@dataclass(frozen=True)
class CustomerMatch:
    customer: Customer | None
    match: str
    candidates: list[dict]


def customer_number_clean(raw: str) -> str | None:
    """What a caller typed into the IVR as a customer number (`1234567`, `K1234567`), or None."""
    found = CUSTOMER_NUMBER_RE.match("".join((raw or "").split()))
    return f"K{found.group(1)}" if found else None


def customer_match(*, customer_number: str, caller_normalized: str) -> CustomerMatch:
    """The caller's customer: by the number typed into the IVR first, else by the caller's
    phone number among every customer's numbers. Several customers on one number (a family,
    a shared office line) are no match; they are offered to the agent instead. One or two
    queries."""
    number = customer_number_clean(customer_number)
    if number:
        customer = Customer.objects.filter(number=number).first()
        if customer is not None:
            return CustomerMatch(customer, Match.CUSTOMER_NUMBER, [])
    if len(caller_normalized) < MIN_MATCH_DIGITS:
        return CustomerMatch(None, Match.NONE, [])
    found = list(
        Customer.objects.filter(
            pk__in=PhoneNumber.objects.filter(normalized=caller_normalized).values("customer_id")
        ).order_by("number")[: MAX_CANDIDATES + 1]
    )
    if len(found) == 1:
        return CustomerMatch(found[0], Match.PHONE_NUMBER, [])
    if not found:
        return CustomerMatch(None, Match.NONE, [])
    candidates = [{"number": c.number, "name": c.full_name} for c in found[:MAX_CANDIDATES]]
    return CustomerMatch(None, Match.AMBIGUOUS, candidates)


def agent_for_extension(extension: str) -> Agent | None:
    """The active agent with this phone extension; None if there is none, or several."""
    extension = (extension or "").strip()
    if not extension:
        return None
    agents = list(
        Agent.objects.select_related("user").filter(extension=extension, user__is_active=True)[:2]
    )
    return agents[0] if len(agents) == 1 else None


# --- The screen pop and the agent's calls --------------------------------------------------


def notice_queryset(*, user, now: datetime) -> QuerySet[Call]:
    """The agent's calls whose notice is not seen yet, the latest taken first (a long wait
    does not push a new call behind older ones), on the partial index
    `call_notice_pending`; one row more than shown (to say "more")."""
    return (
        permissions.calls_visible_to(user)
        .select_related("customer", "support_area")
        .filter(notice_seen_at=None, answered_at__gte=now - NOTICE_MAX_AGE)
        .order_by("-answered_at", "-id")[: NOTICES_SHOWN + 1]
    )


def notice_list(*, user, now: datetime) -> list[Call]:
    """The notices to show: one query, polled about once a second per agent."""
    return list(notice_queryset(user=user, now=now))


def notice_state(calls: list[Call]) -> str:
    """A short mark of the notices on screen; the poll answers 204 while it is unchanged."""
    return "-".join(str(call.pk) for call in calls)


def pending_call_for(*, user, customer: Customer, now: datetime) -> Call | None:
    """The agent's latest call not yet noted, from the last half hour, that is this
    customer's, else one that matched nobody: "new call note" on the customer page
    belongs to it. One query."""
    return (
        permissions.calls_visible_to(user)
        .filter(outcome=Outcome.NONE, answered_at__gte=now - PENDING_NOTE_WINDOW)
        .filter(Q(customer=customer) | Q(customer=None))
        # Only this customer's id or null here: descending, nulls last, puts theirs first.
        .order_by(F("customer_id").desc(nulls_last=True), "-answered_at", "-id")
        .first()
    )


@dataclass
class CallPage:
    rows: list[Call]
    next_before: str | None


def call_page(*, user, before: str = "") -> CallPage:
    """The agent's calls, newest first, 50 a page (keyset on started_at and id).

    `before` is "<timestamp>|<id>" of the last row shown; anything else starts at the top.
    """
    rows = (
        permissions.calls_visible_to(user)
        .select_related("customer", "support_area", "ticket")
        .order_by("-started_at", "-id")
    )
    moment, _sep, pk = before.rpartition("|")
    if pk.isdigit() and moment.replace(".", "").isdigit():
        at = datetime.fromtimestamp(float(moment), tz=UTC)
        rows = rows.filter(Q(started_at__lt=at) | Q(started_at=at, id__lt=int(pk)))
    found = list(rows[: CALL_PAGE_SIZE + 1])
    next_before = None
    if len(found) > CALL_PAGE_SIZE:
        found = found[:CALL_PAGE_SIZE]
        last = found[-1]
        next_before = f"{last.started_at.timestamp():.6f}|{last.pk}"
    return CallPage(found, next_before)


def open_tickets_of(*, customer: Customer) -> list[Ticket]:
    """The customer's tickets a call may be logged on (not resolved or closed), newest first."""
    return list(
        Ticket.objects.filter(customer=customer, status__in=OPEN_STATUSES)
        .only("pk", "reference", "subject", "status", "created_at")
        .order_by("-created_at")[:OPEN_TICKETS_OFFERED]
    )


# --- Figures for management ----------------------------------------------------------------


@dataclass(frozen=True)
class CallFigures:
    """Phone-system calls that started in [start, end).

    Waits are those of answered calls (the average speed of answer): how long callers who
    reached someone waited for it. `first_contact_solved` counts every call noted so in the
    period, including calls an agent noted by hand.
    """

    start: datetime
    end: datetime
    calls: int
    answered: int
    abandoned: int
    average_wait_seconds: float | None
    p90_wait_seconds: int | None
    first_contact_solved: int


def _phone_system_calls(start: datetime, end: datetime) -> QuerySet[Call]:
    return Call.objects.filter(started_at__gte=start, started_at__lt=end).exclude(external_id="")


def call_figures(*, start: datetime, end: datetime) -> CallFigures:
    """Volume and wait figures of a period in two queries (a count and the percentile row),
    on the `call_started` index, whatever the number of calls."""
    answered = Q(answered_at__isnull=False, wait_seconds__isnull=False)
    totals = Call.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
        calls=Count("pk", filter=~Q(external_id="")),
        answered=Count("pk", filter=answered & ~Q(external_id="")),
        average=Avg("wait_seconds", filter=answered & ~Q(external_id="")),
        solved=Count("pk", filter=Q(outcome=Outcome.FIRST_CONTACT_SOLVED)),
    )
    p90 = None
    if totals["answered"]:
        # Nearest rank: the smallest wait that at least 90 % of answered callers did not exceed.
        rank = math.ceil(0.9 * totals["answered"])
        p90 = (
            _phone_system_calls(start, end)
            .filter(answered)
            .order_by("wait_seconds")
            .values_list("wait_seconds", flat=True)[rank - 1]
        )
    average = totals["average"]
    return CallFigures(
        start=start,
        end=end,
        calls=totals["calls"],
        answered=totals["answered"],
        abandoned=totals["calls"] - totals["answered"],
        average_wait_seconds=round(float(average), 1) if average is not None else None,
        p90_wait_seconds=p90,
        first_contact_solved=totals["solved"],
    )


BUCKETS = {"hour": TruncHour, "day": TruncDay}


def call_volume(*, start: datetime, end: datetime, bucket: str = "hour") -> list[dict]:
    """Phone-system calls per hour or day (local time) of [start, end): how many, how many
    answered, and their average wait. One query; buckets without calls are left out."""
    trunc = BUCKETS[bucket]("started_at", tzinfo=timezone.get_current_timezone())
    answered = Q(answered_at__isnull=False, wait_seconds__isnull=False)
    rows = (
        _phone_system_calls(start, end)
        .annotate(period=trunc)
        .values("period")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=answered),
            average=Avg("wait_seconds", filter=answered),
        )
        .order_by("period")
    )
    return [
        {
            "period": row["period"],
            "calls": row["calls"],
            "answered": row["answered"],
            "average_wait_seconds": round(float(row["average"]), 1)
            if row["average"] is not None
            else None,
        }
        for row in rows
    ]
