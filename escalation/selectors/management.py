"""Read queries for requests to management and the management board.

Each function costs a fixed number of queries; the board's figures read indexes
(`management_request_open`, `sla_clock_breached`, `event_moves`, `fr_by_asks`) so the
page stays the same price at a million tickets.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch
from django.db.models.functions import TruncDate
from django.utils import timezone

from escalation import permissions
from escalation.choices import ProposalStatus, RequestStatus
from escalation.models import ManagementRequest, ManagementRequestEvent, Proposal, SlaClock
from tickets.models import MOVE_EVENT_KINDS, Queue, TicketEvent

PAGE_SIZE = 25
BOARD_REQUESTS = 15
MOVES_DAYS = 14


def _with_proposals(requests):
    return requests.select_related("customer", "ticket", "contract").prefetch_related(
        Prefetch(
            "proposals",
            queryset=Proposal.objects.select_related(
                "invoice", "contract", "credit_note", "created_by"
            ).order_by("created_at", "id"),
        )
    )


def request_list(*, user, status: str = "", page=None) -> Page:
    """Management's list of requests, oldest unsettled first; settled ones newest first."""
    requests = permissions.management_requests_visible_to(user).select_related("customer", "ticket")
    if status == RequestStatus.SETTLED:
        requests = requests.filter(status=status).order_by("-settled_at", "-id")
    elif status in (RequestStatus.OPEN, RequestStatus.PROPOSED):
        requests = requests.filter(status=status).order_by("created_at", "id")
    else:
        requests = requests.exclude(status=RequestStatus.SETTLED).order_by("created_at", "id")
    return Paginator(requests, PAGE_SIZE).get_page(page)


def request_detail(*, user, request_id) -> ManagementRequest:
    """One request with its proposals, related tickets and history (management's page)."""
    request = permissions.management_request_for(
        user, request_id, queryset=_with_proposals(ManagementRequest.objects.all())
    )
    request.history = event_list(request=request)
    request.related = list(request.related_tickets.select_related("queue__department"))
    return request


def event_list(*, request: ManagementRequest) -> list[ManagementRequestEvent]:
    return list(
        ManagementRequestEvent.objects.filter(request=request)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def portal_request_list(*, user) -> list[ManagementRequest]:
    """A customer's own requests, newest first (a customer writes a handful)."""
    return list(
        permissions.management_requests_visible_to(user)
        .select_related("ticket")
        .order_by("-created_at", "-id")[:50]
    )


def portal_request_detail(*, user, request_id) -> ManagementRequest:
    request = permissions.own_management_request(
        user, request_id, queryset=_with_proposals(ManagementRequest.objects.all())
    )
    request.open_proposal = next(
        (p for p in request.proposals.all() if p.status == ProposalStatus.OPEN), None
    )
    return request


def request_for_ticket(*, ticket) -> ManagementRequest | None:
    """The request a ticket belongs to, if any; read once per ticket object (the reverse
    one-to-one keeps what it found, a missing request too)."""
    try:
        return ticket.management_request
    except ManagementRequest.DoesNotExist:
        return None


# --- The board ------------------------------------------------------------------------------


@dataclass
class BoardRequest:
    request: ManagementRequest
    age: timedelta
    overdue: bool


def board_requests(*, now: datetime, limit: int = BOARD_REQUESTS) -> tuple[list[BoardRequest], int]:
    """The oldest unsettled requests with their age, and how many are unsettled in all."""
    unsettled = ManagementRequest.objects.exclude(status=RequestStatus.SETTLED)
    rows = list(unsettled.select_related("customer", "ticket").order_by("created_at", "id")[:limit])
    count = unsettled.count() if len(rows) == limit else len(rows)
    return (
        [
            BoardRequest(
                request=row,
                age=now - row.created_at,
                overdue=row.status == RequestStatus.OPEN and row.answer_due_at < now,
            )
            for row in rows
        ],
        count,
    )


def week_start(now: datetime) -> datetime:
    """Monday 00:00 local time of the current week."""
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    return timezone.make_aware(datetime.combine(monday, datetime.min.time()))


def breaches_by_queue(*, now: datetime) -> list[dict]:
    """SLA breaches since Monday per queue, most first (the `sla_clock_breached` index)."""
    rows = (
        SlaClock.objects.filter(breached_at__gte=week_start(now), breached_at__lte=now)
        .values("ticket__queue")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    counts = {row["ticket__queue"]: row["n"] for row in rows}
    queues = Queue.objects.select_related("department").in_bulk(list(counts))
    return [{"queue": queues[pk], "breaches": n} for pk, n in counts.items() if pk in queues]


def moves_per_day(*, now: datetime, days: int = MOVES_DAYS) -> list[dict]:
    """Escalations up a line and handoffs between departments per local day, oldest day
    first, with zero days filled in (the `event_moves` index)."""
    today = timezone.localdate(now)
    first: date = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (
        TicketEvent.objects.filter(kind__in=MOVE_EVENT_KINDS, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(row["day"], row["kind"]): row["n"] for row in rows}
    return [
        {
            "day": day,
            "escalated": counts.get((day, "ticket.escalated"), 0),
            "handed_off": counts.get((day, "ticket.handed_off"), 0),
        }
        for day in (first + timedelta(days=n) for n in range(days))
    ]
