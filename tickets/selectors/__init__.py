"""Read queries for ticket pages and the API: fixed query counts, keyset pagination.

Every function takes an already scoped queryset or user (see `tickets.permissions`), so
pages and API read through the same rules.
"""

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from customers.models import Customer, search_text
from escalation.choices import ClockKind
from mail.models import OutboundMail
from tickets import permissions
from tickets.choices import DONE_STATUSES, OPEN_STATUSES, Priority, Status
from tickets.models import (
    TEXT_MODULE_PLACEHOLDERS,
    Attachment,
    Queue,
    SupportArea,
    TextModule,
    Ticket,
    TicketEvent,
    TicketMessage,
)

PAGE_SIZE = 50
REFERENCE_RE = re.compile(r"^#?(\d{4}-\d{6,7})$")
CUSTOMER_NUMBER_RE = re.compile(r"^[Kk]\d{7}$")

# Sort keys offered in queue lists and the API: name → ORDER BY (the last key is unique).
SORTS: dict[str, tuple[str, ...]] = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "priority": ("-priority", "created_at", "id"),
    "updated": ("-updated_at", "-id"),
    "deadline": ("sla_due_at", "id"),
}
# Sort keys that may be empty; empty sorts last (a ticket with no running SLA clock).
NULLS_LAST = {"sla_due_at"}
DEFAULT_SORT = "oldest"
# Status filters: a group name or a single status.
STATUS_GROUPS: dict[str, frozenset[str]] = {
    "active": OPEN_STATUSES,
    "done": DONE_STATUSES,
}
AGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
}


def ticket_queryset() -> QuerySet[Ticket]:
    """Tickets with what every list row shows, joined in the same query."""
    return Ticket.objects.select_related(
        "customer", "queue__department", "support_area", "assignee", "sla_policy", "outage"
    )


@dataclass
class TicketFilter:
    """What a queue list or the API list is narrowed by; unknown values are ignored."""

    status: str = "active"
    priority: int | None = None
    support_area: int | None = None
    older_than: str = ""
    assignee: str = ""  # "", "none" or "me"
    sort: str = DEFAULT_SORT

    def apply(self, tickets: QuerySet[Ticket], *, user, now: datetime) -> QuerySet[Ticket]:
        if self.status in STATUS_GROUPS:
            tickets = tickets.filter(status__in=STATUS_GROUPS[self.status])
        elif self.status in Status.values:
            tickets = tickets.filter(status=self.status)
        if self.priority in Priority.values:
            tickets = tickets.filter(priority=self.priority)
        if self.support_area:
            tickets = tickets.filter(support_area_id=self.support_area)
        if self.older_than in AGES:
            tickets = tickets.filter(created_at__lte=now - AGES[self.older_than])
        if self.assignee == "none":
            tickets = tickets.filter(assignee=None)
        elif self.assignee == "me":
            tickets = tickets.filter(assignee=user)
        return tickets

    @property
    def order(self) -> tuple[str, ...]:
        return SORTS.get(self.sort, SORTS[DEFAULT_SORT])


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    extra: dict = field(default_factory=dict)


def _encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, order: tuple[str, ...]) -> list | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(order):
        return None
    decoded = []
    for key, value in zip(order, values, strict=True):
        name = key.lstrip("-")
        if name in NULLS_LAST and value is None:
            pass
        elif name.endswith("_at"):
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None:
                return None
        elif not isinstance(value, int):
            return None
        decoded.append(value)
    return decoded


def _after(order: tuple[str, ...], values: list) -> Q:
    """Rows after `values` in `order`: (a > x) or (a = x and b > y) or …"""
    condition = Q()
    equal = Q()
    for key, value in zip(order, values, strict=True):
        name = key.lstrip("-")
        lookup = "lt" if key.startswith("-") else "gt"
        if name in NULLS_LAST:
            # Ascending with empty values last: after x come larger values, then empties;
            # after an empty value only other empties.
            if value is None:
                equal &= Q(**{f"{name}__isnull": True})
                continue
            condition |= equal & (
                Q(**{f"{name}__{lookup}": value}) | Q(**{f"{name}__isnull": True})
            )
        else:
            condition |= equal & Q(**{f"{name}__{lookup}": value})
        equal &= Q(**{name: value})
    return condition


def _order_by(order: tuple[str, ...]) -> list:
    return [F(key).asc(nulls_last=True) if key in NULLS_LAST else key for key in order]


def keyset_page(
    rows: QuerySet, *, order: tuple[str, ...], cursor: str = "", size: int = PAGE_SIZE
) -> Page:
    """One page in `order`, starting after `cursor`; one query whatever the table size."""
    rows = rows.order_by(*_order_by(order))
    values = _decode_cursor(cursor, order) if cursor else None
    if values is not None:
        rows = rows.filter(_after(order, values))
    found = list(rows[: size + 1])
    next_cursor = None
    if len(found) > size:
        found = found[:size]
        last = found[-1]
        next_cursor = _encode_cursor([getattr(last, key.lstrip("-")) for key in order])
    return Page(rows=found, next_cursor=next_cursor)


# --- Workspace --------------------------------------------------------------------------


def queue_overview(*, user) -> list[dict]:
    """The user's queues with counts of active, unassigned, new, urgent and overdue tickets
    (2 queries; the counts read only the active-tickets index)."""
    queues = list(permissions.queues_visible_to(user))
    counts = {
        row["queue"]: row
        for row in Ticket.objects.filter(queue__in=[q.pk for q in queues], status__in=OPEN_STATUSES)
        .values("queue")
        .annotate(
            active=Count("id"),
            unassigned=Count("id", filter=Q(assignee=None)),
            new=Count("id", filter=Q(status=Status.NEW)),
            urgent=Count("id", filter=Q(priority__gte=Priority.HIGH)),
            overdue=Count("id", filter=Q(sla_due_at__lte=timezone.now())),
        )
    }
    empty = {"active": 0, "unassigned": 0, "new": 0, "urgent": 0, "overdue": 0}
    # The count rows carry the queue id under "queue": the object must win.
    return [{**counts.get(queue.pk, empty), "queue": queue} for queue in queues]


def my_ticket_count(*, user) -> int:
    return Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES).count()


def ticket_list(
    *, tickets: QuerySet[Ticket], user, filters: TicketFilter, cursor: str = "", size=PAGE_SIZE
) -> Page:
    """A page of tickets (queue list, my tickets, API list) with their list columns."""
    rows = filters.apply(tickets, user=user, now=timezone.now())
    return keyset_page(
        rows.select_related(
            "customer", "queue__department", "support_area", "assignee", "sla_policy"
        ),
        order=filters.order,
        cursor=cursor,
        size=size,
    )


def ticket_search(*, user, query: str, cursor: str = "") -> Page:
    """Tickets matching a reference, a customer number, or words in subject, text or name."""
    query = " ".join(query.split())[:100]
    visible = permissions.tickets_visible_to(user)
    if not query:
        return Page(rows=[], next_cursor=None)
    reference = REFERENCE_RE.match(query)
    if reference:
        rows = visible.filter(reference=reference.group(1))
    elif CUSTOMER_NUMBER_RE.match(query):
        rows = visible.filter(customer__number=query.upper())
    else:
        in_body = TicketMessage.objects.filter(ticket=OuterRef("pk"), body__icontains=query)
        if not permissions.roles.is_staff_member(user):
            in_body = in_body.filter(kind__in=["customer", "reply"])
        rows = visible.filter(
            Q(subject__icontains=query)
            | Q(customer__search_name__contains=search_text(query))
            | Exists(in_body)
        )
    return keyset_page(
        rows.select_related(
            "customer", "queue__department", "support_area", "assignee", "sla_policy"
        ),
        order=SORTS["newest"],
        cursor=cursor,
    )


# --- One ticket -------------------------------------------------------------------------


def ticket_messages(*, user, ticket: Ticket, mail_state: bool = False) -> list[TicketMessage]:
    """The conversation, oldest first, with authors and attachments (2 queries).

    `mail_state` adds to each public reply the state of its mail to the customer (sent,
    waiting, failed) as `mail_state`, in the same query, for the agents' view.
    """
    messages = (
        permissions.messages_visible_to(user, ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    if mail_state:
        mails = OutboundMail.objects.filter(ticket_message=OuterRef("pk")).order_by("-pk")
        messages = messages.annotate(mail_state=Subquery(mails.values("state")[:1]))
    return list(messages)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def ticket_timeline(*, ticket: Ticket) -> list[dict]:
    """Every event, oldest first, with queues, statuses and priorities as words (2 queries)."""
    events = list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    queue_ids = {
        value
        for event in events
        for key in ("from_queue", "to_queue", "queue")
        if isinstance(value := event.data.get(key), int)
    }
    queues = (
        {q.pk: str(q) for q in Queue.objects.select_related("department").filter(pk__in=queue_ids)}
        if queue_ids
        else {}
    )
    return [_timeline_entry(event, queues) for event in events]


EVENT_TITLES = {
    "ticket.created": lambda: _("Ticket opened"),
    "ticket.status_changed": lambda: _("Status changed"),
    "ticket.escalated": lambda: _("Escalated"),
    "ticket.handed_off": lambda: _("Handed off"),
    "ticket.handed_back": lambda: _("Handed back"),
    "management.escalated": lambda: _("Passed to management"),
    "ticket.assigned": lambda: _("Assigned"),
    "ticket.unassigned": lambda: _("Unassigned"),
    "ticket.priority_changed": lambda: _("Priority changed"),
    "ticket.subject_changed": lambda: _("Subject changed"),
    "message.replied": lambda: _("Public reply sent"),
    "message.noted": lambda: _("Internal note added"),
    "message.received": lambda: _("Customer wrote"),
    "call.logged": lambda: _("Call logged"),
    "call.solved_on_first_contact": lambda: _("Solved on first contact (phone)"),
    "mail.reference_mismatch": lambda: _("E-mail named another customer's ticket"),
    "mail.closed_ticket_followed_up": lambda: _("Follow-up to a closed ticket"),
    "sla.started": lambda: _("SLA clocks started"),
    "sla.replied": lambda: _("SLA: reply counted"),
    "sla.paused": lambda: _("SLA paused"),
    "sla.resumed": lambda: _("SLA resumed"),
    "sla.stopped": lambda: _("SLA stopped"),
    "sla.recomputed": lambda: _("SLA deadlines recomputed"),
    "sla.warning": lambda: _("SLA warning"),
    "sla.breached": lambda: _("SLA breached"),
    "ticket.outage_linked": lambda: _("Linked to an outage"),
    "ticket.outage_unlinked": lambda: _("Unlinked from the outage"),
    "outage.customer_notified": lambda: _("Customer told about the outage"),
    "visit.booked": lambda: _("Technician visit booked"),
    "visit.rescheduled": lambda: _("Technician visit moved"),
    "visit.confirmed": lambda: _("Technician visit confirmed"),
    "visit.cancelled": lambda: _("Technician visit cancelled"),
    "visit.move_requested": lambda: _("Customer asks to move the visit"),
    "visit.done": lambda: _("Technician visit done"),
    "visit.missed": lambda: _("Technician visit missed"),
    "visit.technician_set": lambda: _("Technician assigned"),
}
# The deadline an SLA event names, shown as its "after" value.
SLA_DEADLINE_KEYS = ("first_response", "next_update", "resolution", "due_at")


def _timeline_entry(event: TicketEvent, queues: dict[int, str]) -> dict:
    data = event.data
    before = after = ""
    if event.kind == "ticket.status_changed":
        before, after = _label(Status, data.get("from")), _label(Status, data.get("to"))
    elif event.kind == "ticket.priority_changed":
        before, after = _label(Priority, data.get("from")), _label(Priority, data.get("to"))
    elif "to_queue" in data:
        before, after = queues.get(data.get("from_queue"), "?"), queues.get(data["to_queue"], "?")
    elif event.kind in ("ticket.assigned", "ticket.unassigned"):
        before = (data.get("from") or {}).get("name", "")
        after = (data.get("to") or {}).get("name", "")
    elif event.kind == "ticket.subject_changed":
        before, after = data.get("from", ""), data.get("to", "")
    elif event.kind == "ticket.created":
        after = queues.get(data.get("queue"), "")
    elif event.kind.startswith("sla."):
        before, after = _sla_detail(data)
    elif event.kind == "ticket.outage_linked":
        after = data.get("title", "")
    elif event.kind.startswith("visit."):
        before, after = _visit_detail(data)
    title = EVENT_TITLES.get(event.kind)
    return {
        "kind": event.kind,
        "title": title() if title else event.kind,
        "actor": (event.actor.get_full_name() or event.actor.get_username())
        if event.actor
        else _("System"),
        "before": before,
        "after": after,
        "note": data.get("note", ""),
        "created_at": event.created_at,
    }


def _visit_detail(data: dict) -> tuple[str, str]:
    """(earlier window if moved, the window) of a visit event, for the timeline."""

    def window(values: dict) -> str:
        if "date" not in values:
            return ""
        try:
            day = formats.date_format(datetime.fromisoformat(values["date"]), "SHORT_DATE_FORMAT")
        except (KeyError, TypeError, ValueError):
            return ""
        return (
            f"{day} {values.get('from', '')}–{values.get('until', '')} ({values.get('region', '')})"
        )

    previous = data.get("previous")
    before = window(previous) if isinstance(previous, dict) else ""
    after = window(data)
    if data.get("technician"):
        after = data["technician"]
    return before, after


def _sla_detail(data: dict) -> tuple[str, str]:
    """(clock or policy, earliest deadline named) of an SLA event, for the timeline."""
    clock = data.get("clock")
    label = ClockKind(clock).label if clock in ClockKind.values else data.get("policy", "")
    moments = [
        parsed
        for key in SLA_DEADLINE_KEYS
        if isinstance(data.get(key), str) and (parsed := parse_datetime(data[key]))
    ]
    if not moments:
        return label, ""
    return label, formats.date_format(timezone.localtime(min(moments)), "SHORT_DATETIME_FORMAT")


def ticket_last_handover(*, timeline: list[dict]) -> dict | None:
    """The latest escalation, handoff or hand-back, whose note the receivers read first."""
    moves = ("ticket.escalated", "ticket.handed_off", "ticket.handed_back")
    return next((entry for entry in reversed(timeline) if entry["kind"] in moves), None)


def customer_ticket_summary(*, customer: Customer | None, exclude: Ticket | None = None) -> dict:
    """The customer's other recent tickets and how many are active (2 queries)."""
    if customer is None:
        return {"recent": [], "active": 0}
    tickets = Ticket.objects.filter(customer=customer)
    if exclude is not None:
        tickets = tickets.exclude(pk=exclude.pk)
    return {
        "recent": list(tickets.select_related("queue__department").order_by("-created_at")[:5]),
        "active": tickets.filter(status__in=OPEN_STATUSES).count(),
    }


def portal_ticket_list(*, user, done: bool, cursor: str = "") -> Page:
    """A customer's own requests, open or closed, most recently changed first (a public
    message counts as a change: it moves `updated_at`)."""
    statuses = DONE_STATUSES if done else OPEN_STATUSES
    rows = permissions.tickets_visible_to(user).filter(status__in=statuses)
    return keyset_page(
        rows.select_related("support_area"), order=SORTS["updated"], cursor=cursor, size=20
    )


# --- API --------------------------------------------------------------------------------


def ticket_message_rows(*, user, ticket: Ticket) -> QuerySet[TicketMessage]:
    """The conversation as a queryset to paginate: authors joined, attachments in one query."""
    return (
        permissions.messages_visible_to(user, ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )


def queue_list(*, user) -> QuerySet[Queue]:
    """The user's active queues with their department and count of active tickets (1 query).

    The count is a subquery per queue on the (queue, status, …) index, so it reads only
    that queue's active tickets, never the whole table.
    """
    active = (
        Ticket.objects.filter(queue=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("queue")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return permissions.queues_visible_to(user).annotate(
        active=Coalesce(Subquery(active, output_field=IntegerField()), 0)
    )


# Requests to management are filed there only by escalation.services.management.
MANAGEMENT_AREA = "management"


def support_area_list() -> QuerySet[SupportArea]:
    """Support areas new tickets may be opened in (the phone system maps IVR choices to them);
    not the management area, which only a request to management reaches."""
    return SupportArea.objects.filter(is_active=True).exclude(slug=MANAGEMENT_AREA)


# --- Customer portal --------------------------------------------------------------------


def queue_agents(*, queue: Queue) -> list:
    """Users who may work this queue (its department, up to their line), by name (1 query)."""
    return list(
        User.objects.filter(
            is_active=True,
            agent__departments=queue.department_id,
            agent__highest_line__gte=queue.line,
        )
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def support_area_get(slug: str) -> SupportArea | None:
    """The active support area with this code, with its first queue (None if unknown)."""
    return (
        SupportArea.objects.select_related("first_queue__department")
        .filter(slug=slug, is_active=True)
        .first()
    )


def support_area_for_ivr(choice: str) -> SupportArea | None:
    """The active support area a phone system's IVR choice stands for (None if unknown)."""
    choice = (choice or "").strip()
    if not choice:
        return None
    return (
        SupportArea.objects.select_related("first_queue__department")
        .filter(ivr_choice=choice, is_active=True)
        .first()
    )


# --- Text modules -----------------------------------------------------------------------

TEXT_MODULE_PAGE_SIZE = 50
TEXT_MODULE_SUGGESTIONS = 8
# A placeholder with the spaces before it, which go too when its value is empty.
_PLACEHOLDER_WITH_SPACE_RE = re.compile(r"([ \t]*)\{([^{}\s]{1,40})\}")


@dataclass
class TextModuleFilter:
    """What the text module list is narrowed by; unknown values are ignored."""

    department: int | None = None
    language: str = ""
    status: str = "active"  # "active", "archived" or "all"
    query: str = ""


def text_module_list(
    *, user, filters: TextModuleFilter, page: str | int | None = None
) -> PaginatorPage:
    """A page of the modules the user manages, by department, language and short name
    (2 queries: count and rows; a provider has hundreds of modules, not millions)."""
    modules = permissions.text_modules_managed_by(user)
    if filters.department:
        modules = modules.filter(department_id=filters.department)
    if filters.language:
        modules = modules.filter(language=filters.language)
    if filters.status == "active":
        modules = modules.filter(is_active=True)
    elif filters.status == "archived":
        modules = modules.filter(is_active=False)
    query = " ".join(filters.query.split())[:100]
    if query:
        modules = modules.filter(
            Q(shortcut__icontains=query.lstrip(":"))
            | Q(title__icontains=query)
            | Q(body__icontains=query)
        )
    modules = modules.select_related("department", "updated_by").order_by(
        "department__position", "department__name", "language", "shortcut", "pk"
    )
    return Paginator(modules, TEXT_MODULE_PAGE_SIZE).get_page(page)


def text_module_suggestions(*, user, ticket: Ticket, query: str) -> list[TextModule]:
    """Active modules the user may insert on this ticket matching `query`, best first (1 query).

    Order: the customer's language; a short name starting with the query, then one
    containing it, then a title containing it; the ticket's own department; short name.
    """
    department_ids = permissions.text_module_department_ids_for(user, ticket)
    if not department_ids:
        return []
    language = ticket.customer.language if ticket.customer else settings.LANGUAGE_CODE
    query = query.strip().lower()
    modules = TextModule.objects.filter(is_active=True, department_id__in=department_ids)
    if query:
        modules = modules.filter(Q(shortcut__contains=query) | Q(title__icontains=query))
    modules = modules.annotate(
        language_rank=Case(When(language=language, then=0), default=1),
        match_rank=Case(
            When(shortcut__startswith=query, then=0),
            When(shortcut__contains=query, then=1),
            default=2,
        ),
        department_rank=Case(When(department_id=ticket.queue.department_id, then=0), default=1),
    )
    return list(
        modules.select_related("department").order_by(
            "language_rank", "match_rank", "department_rank", "shortcut", "pk"
        )[:TEXT_MODULE_SUGGESTIONS]
    )


def text_module_values(*, ticket: Ticket, agent) -> dict[str, str]:
    """What each placeholder stands for on this ticket; empty where the ticket has no value
    (a ticket from an e-mail address with no customer record has no name or number)."""
    customer = ticket.customer
    return {
        "customer_name": customer.full_name if customer else "",
        "customer_number": customer.number if customer else "",
        "ticket_reference": ticket.reference,
        "ticket_subject": ticket.subject,
        "agent_name": agent.get_full_name() or agent.get_username(),
    }


@dataclass
class RenderedTextModule:
    module: TextModule
    text: str
    missing: list[str]  # placeholders left empty: the agent fills them in

    @property
    def missing_labels(self) -> list[str]:
        return [str(TEXT_MODULE_PLACEHOLDERS[name]) for name in self.missing]


def text_module_render(*, module: TextModule, values: dict[str, str]) -> RenderedTextModule:
    """The module's text with its placeholders replaced by `values` (plain text, nothing
    escaped and nothing evaluated: one regular-expression pass, so a value that looks like
    a placeholder stays as it is).

    An empty value takes the spaces before it along ("Guten Tag {customer_name}," becomes
    "Guten Tag,"); an unknown name (a placeholder retired after the module was written)
    stays as typed, so the agent sees it.
    """
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        spaces, name = match.group(1), match.group(2)
        if name not in values:
            return match.group(0)
        if values[name]:
            return spaces + values[name]
        if name not in missing:
            missing.append(name)
        return ""

    text = _PLACEHOLDER_WITH_SPACE_RE.sub(fill, module.body)
    return RenderedTextModule(module=module, text=text, missing=missing)


def text_module_placeholders() -> list[tuple[str, str]]:
    """The placeholders a module may use, with what each stands for (management pages)."""
    return [(f"{{{name}}}", str(label)) for name, label in TEXT_MODULE_PLACEHOLDERS.items()]
