"""Organisation (departments, queues, agents, support areas) and the ticket itself.

Invariants live in the database where they can (unique references, one queue per
department and line, lines 1-3) so a racing writer hits an IntegrityError.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import Language
from tickets.choices import (
    APPOINTMENT_ACTIVE,
    DONE_STATUSES,
    OPEN_STATUSES,
    OUTAGE_ACTIVE,
    PUBLIC_MESSAGE_KINDS,
    AppointmentStatus,
    Channel,
    Line,
    MessageKind,
    MissedReason,
    OutageStatus,
    Priority,
    Status,
)


class Department(models.Model):
    """A team that works tickets: customer service, tech, billing, contracts, management."""

    MANAGEMENT = "management"

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Queue(models.Model):
    """Where tickets wait: one per department and line (1 help desk, 2 specialists, 3 experts)."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="queues", verbose_name=_("department")
    )
    line = models.PositiveSmallIntegerField(_("line"), choices=Line.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["department__position", "department__name", "line"]
        constraints = [
            models.UniqueConstraint(fields=["department", "line"], name="one_queue_per_line"),
            models.CheckConstraint(condition=Q(line__gte=1, line__lte=3), name="queue_line_1_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.department.name} · {self.get_line_display()}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:queue-detail", args=[self.pk])


class Agent(models.Model):
    """A staff user's place in the organisation: departments, highest line, team lead."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent"
    )
    departments = models.ManyToManyField(
        Department, related_name="agents", verbose_name=_("departments")
    )
    highest_line = models.PositiveSmallIntegerField(
        _("highest line"), choices=Line.choices, default=Line.FIRST
    )
    is_team_lead = models.BooleanField(_("team lead"), default=False)
    extension = models.CharField(
        _("phone extension"), max_length=20, blank=True, help_text=_("For the phone system.")
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def can_work(self, queue: Queue) -> bool:
        """Agents work the queues of their departments up to their highest line."""
        return queue.line <= self.highest_line and any(
            department.pk == queue.department_id for department in self.departments.all()
        )


class SupportArea(models.Model):
    """What a request is about; routes new tickets to a first queue."""

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    first_queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="+", verbose_name=_("first queue")
    )
    ivr_choice = models.CharField(
        _("IVR choice"),
        max_length=20,
        blank=True,
        help_text=_("The digit or code the phone system sends for this choice."),
    )
    in_portal = models.BooleanField(_("offered in the portal"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("support area")
        verbose_name_plural = _("support areas")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ivr_choice"], condition=~Q(ivr_choice=""), name="one_area_per_ivr_choice"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TicketCounter(models.Model):
    """The last reference number handed out per year (`2026-004711`)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    """One customer request, wherever it sits; changed only through `tickets.services`."""

    reference = models.CharField(_("reference"), max_length=16, unique=True)
    # Foreign keys without their own index where a composite index below leads with them
    # (customer, queue, assignee) or nothing looks them up (previous_queue): every index
    # is written on each ticket created.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
        verbose_name=_("customer"),
        db_index=False,
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    support_area = models.ForeignKey(
        SupportArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("support area")
    )
    queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("queue"),
        db_index=False,
    )
    # Where an escalation or handoff came from, so "hand back" knows where to go.
    previous_queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        null=True,
        blank=True,
        verbose_name=_("assignee"),
        db_index=False,
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="new")
    # Bumped by every change of the fields above; a form or API call carrying an older
    # version is refused instead of overwriting someone else's change.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    # The SLA room (escalation.services) keeps these three: the policy whose clocks run on
    # the ticket, and the earliest running deadline with its warning moment, mirrored here
    # so queue lists sort and colour by deadline on an index of this table.
    sla_policy = models.ForeignKey(
        "escalation.SlaPolicy",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("SLA policy"),
        db_index=False,
    )
    sla_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    # The mass incident this request belongs to; resolving the outage resolves it.
    outage = models.ForeignKey(
        "tickets.Outage",
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
        verbose_name=_("outage"),
        db_index=False,  # ticket_outage below, only over linked tickets
    )
    # The customer's lines as the agent saw them when the ticket was opened (kind,
    # identifier, state, last sync, drops), so later readers see what the agent saw.
    line_snapshot = models.JSONField(_("line status at creation"), default=list, blank=True)
    # Set when subject, contact e-mail, messages and attachments were replaced (retention
    # after closing, or the customer's erasure); the reference and figures stay.
    personal_data_removed_at = models.DateTimeField(
        _("personal data removed"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Queue lists: a queue's tickets in one status group, newest or oldest first.
            models.Index(fields=["queue", "status", "created_at", "id"], name="ticket_queue_list"),
            models.Index(
                fields=["queue", "status", "priority", "created_at", "id"],
                name="ticket_queue_priority",
            ),
            # Active tickets per queue, oldest first, with what the counts of the queue
            # overview need (index-only on PostgreSQL): a few percent of all tickets.
            models.Index(
                fields=["queue", "created_at", "id"],
                include=["status", "assignee", "priority", "sla_due_at"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="ticket_queue_active",
            ),
            # The API's lists: newest first, whole or per queue, whatever the status.
            models.Index(fields=["created_at", "id"], name="ticket_created"),
            models.Index(fields=["queue", "created_at", "id"], name="ticket_queue_created"),
            models.Index(fields=["assignee", "status", "created_at"], name="ticket_assignee"),
            models.Index(fields=["customer", "created_at"], name="ticket_customer"),
            # Queue lists by next deadline (tickets with no running clock come last).
            models.Index(
                fields=["queue", "sla_due_at", "id"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="ticket_queue_deadline",
            ),
            # An outage's linked tickets in id order: its page and the batched resolution.
            models.Index(
                fields=["outage", "id"], condition=Q(outage__isnull=False), name="ticket_outage"
            ),
            # The nightly KPI roll-up reads one day of resolutions and first responses.
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="ticket_resolved",
            ),
            models.Index(
                fields=["first_response_at"],
                condition=Q(first_response_at__isnull=False),
                name="ticket_first_response",
            ),
            # The retention pass: finished tickets whose personal data is still there.
            models.Index(
                fields=["resolved_at", "id"],
                condition=Q(
                    status__in=sorted(DONE_STATUSES), personal_data_removed_at__isnull=True
                ),
                name="ticket_retention_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:ticket-detail", args=[self.reference])

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    def reopen_until(self) -> datetime | None:
        """Until when a customer's message reopens this resolved ticket (None: not resolved)."""
        if self.status != Status.RESOLVED or self.resolved_at is None:
            return None
        return self.resolved_at + timedelta(days=settings.TICKET_REOPEN_DAYS)

    def accepts_customer_message(self, now: datetime) -> bool:
        """Customers write on anything not closed; on a resolved ticket only for a while."""
        if self.status == Status.CLOSED:
            return False
        until = self.reopen_until()
        return self.status != Status.RESOLVED or (until is not None and now <= until)


class TicketMessage(models.Model):
    """One entry of the conversation; internal notes never reach the customer."""

    # Indexed by message_ticket (ticket, created_at, id); no second index on the key alone.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"))
    # The sanitised HTML part of an inbound e-mail (mail.parsing); `body` holds its text.
    body_html = models.TextField(blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="message_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.reference} {self.get_kind_display()}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_MESSAGE_KINDS


def _attachment_path(attachment: "Attachment", filename: str) -> str:
    # Random names: the original name is kept in the row, never used on disk.
    return f"attachments/{timezone.now():%Y/%m}/{attachment.token}"


class Attachment(models.Model):
    """A file sent with a message; stored under MEDIA_ROOT, served only through a view."""

    message = models.ForeignKey(TicketMessage, on_delete=models.PROTECT, related_name="attachments")
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("attachment-download", args=[self.token])


# Movements up the lines and between departments, counted per day on the management board.
MOVE_EVENT_KINDS = ["ticket.escalated", "ticket.handed_off"]


class TicketEvent(models.Model):
    """One thing that happened to a ticket. Never updated or deleted by application code."""

    # Indexed by event_ticket (ticket, created_at, id); no second index on the key alone.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=64)  # "ticket.escalated", "ticket.handed_off"
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="event_ticket"),
            # The management board's escalations and handoffs per day.
            models.Index(
                fields=["created_at"],
                condition=Q(kind__in=MOVE_EVENT_KINDS),
                name="event_moves",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


# Placeholders a text module may use, filled in for the ticket when an agent inserts it.
# Curly braces: one keystroke pair on every keyboard layout, and they never occur in
# ordinary German, English or Polish prose, so a brace in a module is always meant.
TEXT_MODULE_PLACEHOLDERS = {
    "customer_name": _("the customer's full name"),
    "customer_number": _("the customer number, e.g. K1234567"),
    "ticket_reference": _("the ticket's reference, e.g. 2026-004711"),
    "ticket_subject": _("the ticket's subject"),
    "agent_name": _("the name of the agent inserting the module"),
}
# What counts as a placeholder: a word in braces, no spaces. Anything matching that is not
# in the list above is refused when the module is saved (a typo such as {custmer_name}).
TEXT_MODULE_PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,40})\}")


class TextModule(models.Model):
    """A canned response of one department in one language, inserted by typing `::shortcut`.

    Written only through `tickets.services`; archived instead of deleted.
    """

    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="text_modules",
        verbose_name=_("department"),
        db_index=False,  # the unique constraint below leads with it
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.GERMAN
    )
    shortcut = models.CharField(_("short name"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    # Bumped by every change; an edit form carrying an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("text module")
        verbose_name_plural = _("text modules")
        ordering = ["department__position", "language", "shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "language", "shortcut"], name="one_text_module_per_shortcut"
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="text_module_known_language"
            ),
        ]

    def __str__(self) -> str:
        return f"::{self.shortcut} ({self.language}) {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:text-module-edit", args=[self.pk])


# --- Outages --------------------------------------------------------------------------------


class Outage(models.Model):
    """A mass incident: services down in an area of postal codes.

    Changed only through `tickets.services.outages`. The area is kept twice: as the agent
    or monitoring typed it (`area`) and as postal-code ranges (`OutageArea`), which the
    check on a customer page reads through an index.
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    services = models.JSONField(_("affected services"), default=list)  # ServiceKind values
    area = models.TextField(_("affected postal codes"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OutageStatus.choices,
        default=OutageStatus.INVESTIGATING,
    )
    started_at = models.DateTimeField(_("start"), default=timezone.now)
    expected_end_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Set when every linked ticket was resolved after the outage was; until then the
    # batched resolution still has work (a beat pass resumes it after a lost worker).
    tickets_resolved_at = models.DateTimeField(null=True, blank=True)
    # The network monitoring's own incident id: a repeated report finds this outage.
    external_id = models.CharField(_("monitoring id"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="outage_external_id"
            ),
            models.CheckConstraint(
                condition=Q(status=OutageStatus.RESOLVED, resolved_at__isnull=False)
                | (~Q(status=OutageStatus.RESOLVED) & Q(resolved_at__isnull=True)),
                name="outage_resolved_at_with_status",
            ),
        ]
        indexes = [
            # The active outages: a handful, read on every customer and ticket page.
            models.Index(
                fields=["started_at"],
                condition=Q(status__in=sorted(OUTAGE_ACTIVE)),
                name="outage_active",
            ),
            # Resolved outages whose tickets are still being resolved (the resume pass).
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False, tickets_resolved_at__isnull=True),
                name="outage_tickets_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("outages:outage-detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in OUTAGE_ACTIVE

    def service_labels(self) -> list[str]:
        from customers.choices import ServiceKind

        return [str(ServiceKind(kind).label) for kind in self.services if kind in ServiceKind]

    def covers(self, postal_code: str) -> bool:
        """Whether a postal code lies in the area (uses the prefetched ranges)."""
        return any(part.first <= postal_code <= part.last for part in self.areas.all())


class OutageArea(models.Model):
    """One range of postal codes of an outage (a single code is a range of one)."""

    outage = models.ForeignKey(
        Outage, on_delete=models.CASCADE, related_name="areas", db_index=False
    )
    first = models.CharField(max_length=5)
    last = models.CharField(max_length=5)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(first__lte=models.F("last")), name="outage_area_order"
            )
        ]
        indexes = [models.Index(fields=["outage", "first", "last"], name="outage_area_range")]

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first}-{self.last}"


class OutageUpdate(models.Model):
    """A progress report on an outage; with `notify` it is mailed to the linked customers."""

    outage = models.ForeignKey(
        Outage, on_delete=models.PROTECT, related_name="updates", db_index=False
    )
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=16, choices=OutageStatus.choices)
    expected_end_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    notify = models.BooleanField(_("notify customers"), default=False)
    # The batched notification's progress: the last ticket id mailed and when it finished.
    notified_through = models.PositiveBigIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outage update")
        verbose_name_plural = _("outage updates")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["outage", "created_at"], name="outage_update_outage"),
            models.Index(
                fields=["created_at"],
                condition=Q(notify=True, notified_at__isnull=True),
                name="outage_update_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.created_at:%Y-%m-%d %H:%M}"


# --- Technician visits ----------------------------------------------------------------------


class VisitRegion(models.Model):
    """An area technicians serve, with the day's standard time windows.

    Regions are few (tens), so a customer's region is found by matching the postal code
    against each region's ranges in Python after one small query.
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    area = models.TextField(_("postal codes"))
    # Parsed from `area`: [[first, last], …] five-digit strings.
    ranges = models.JSONField(default=list, editable=False)
    # The standard windows the calendar is filled with: [["08:00", "12:00", 3], …].
    default_windows = models.JSONField(_("standard windows"), default=list)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("visit region")
        verbose_name_plural = _("visit regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def covers(self, postal_code: str) -> bool:
        return any(first <= postal_code <= last for first, last in self.ranges)


class Technician(models.Model):
    """Someone who visits customers: our own staff, or a subcontractor's (company set)."""

    name = models.CharField(_("name"), max_length=120)
    company = models.CharField(_("subcontractor"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    regions = models.ManyToManyField(VisitRegion, related_name="technicians", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["company", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    @property
    def is_subcontractor(self) -> bool:
        return bool(self.company)


class VisitWindow(models.Model):
    """A time window on one day in one region with room for `capacity` visits.

    `booked` counts the visits placed in it: proposed and confirmed ones, and done or
    missed ones, which took their place; cancelling or moving a visit frees its place.
    A booking raises it with a guarded UPDATE (`booked < capacity`), so two agents
    cannot both take the last place, and the database refuses a count above the
    capacity whatever the code does.
    """

    region = models.ForeignKey(
        VisitRegion, on_delete=models.PROTECT, related_name="windows", db_index=False
    )
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    class Meta:
        verbose_name = _("time window")
        verbose_name_plural = _("time windows")
        ordering = ["date", "starts", "region"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "date", "starts"], name="one_window_per_start"
            ),
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="window_order"),
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("capacity")), name="window_not_overbooked"
            ),
        ]
        indexes = [models.Index(fields=["date", "starts"], name="window_day")]

    def __str__(self) -> str:
        return f"{self.region} {self.date:%d.%m.%Y} {self.starts:%H:%M}–{self.ends:%H:%M}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date, self.starts))

    def ends_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date, self.ends))


class Appointment(models.Model):
    """A technician visit for a tech ticket in one time window; changed through services."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("ticket")
    )
    window = models.ForeignKey(
        VisitWindow, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    technician = models.ForeignKey(
        Technician,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("technician"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.CONFIRMED,
    )
    # A rebooking after a missed visit: shown first to the dispatcher.
    is_priority = models.BooleanField(_("priority"), default=False)
    rebooking_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note for the technician"), blank=True)
    missed_reason = models.CharField(
        _("why missed"), max_length=24, choices=MissedReason.choices, blank=True
    )
    outcome = models.TextField(_("outcome"), blank=True)
    move_requested_at = models.DateTimeField(_("move requested"), null=True, blank=True)
    move_request = models.TextField(_("customer's wish"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("technician visit")
        verbose_name_plural = _("technician visits")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One visit at a time per ticket: a second one is a rescheduling.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=sorted(APPOINTMENT_ACTIVE)),
                name="one_active_visit_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(status=AppointmentStatus.MISSED) | Q(missed_reason=""),
                name="visit_missed_reason_only_when_missed",
            ),
        ]
        indexes = [models.Index(fields=["window", "status"], name="visit_window")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.window}"

    @property
    def is_active(self) -> bool:
        return self.status in APPOINTMENT_ACTIVE
