"""Business calendars, SLA policies, the clocks they put on tickets, and in-app notices.

A ticket's clocks are stored deadlines (STYLE R5): the timer sweeps what is due with an
indexed query instead of holding a task per ticket in the broker.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import Segment
from escalation.choices import (
    ClockKind,
    GermanState,
    NotificationKind,
    ProposalKind,
    ProposalStatus,
    RequestSource,
    RequestStatus,
    Weekday,
)
from tickets.choices import Channel, Priority


class BusinessCalendar(models.Model):
    """When a team works: weekly opening hours, public holidays of a state, closed days."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("short name"), unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=2,
        default="DE",
        blank=True,
        help_text=_("Country code, e.g. DE; empty: no public holidays."),
    )
    holiday_subdivision = models.CharField(
        _("state"),
        max_length=2,
        choices=GermanState.choices,
        blank=True,
        help_text=_("Also the holidays of this state; empty: nationwide holidays only."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening interval on a weekday; several per day allow a lunch break."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="hours", verbose_name=_("calendar")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("00:00 means midnight at the end of the day.")
    )

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes="00:00"),
                name="opening_hours_not_empty",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClosedDay(models.Model):
    """A day the calendar is closed besides public holidays (e.g. 24 and 31 December)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="closed_days",
        verbose_name=_("calendar"),
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_closed_day_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.reason}".strip()


class SlaPolicy(models.Model):
    """Targets in business minutes for tickets matching its criteria (empty = any).

    The active policy with the most criteria that all match a ticket wins; the default
    policy has none and therefore always matches.
    """

    name = models.CharField(_("name"), max_length=80)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="+", verbose_name=_("calendar")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices, blank=True)
    department = models.ForeignKey(
        "tickets.Department",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("department"),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    next_update_minutes = models.PositiveIntegerField(_("next update (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    warning_percent = models.PositiveSmallIntegerField(_("warn at (% of the target)"), default=80)
    breach_raises_priority = models.BooleanField(_("breach raises the priority"), default=True)
    breach_moves_up = models.BooleanField(
        _("breach moves first-line tickets to line 2"), default=True
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_sla_policy"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False)
                | Q(
                    priority=None,
                    channel="",
                    segment="",
                    department=None,
                    is_active=True,
                ),
                name="default_sla_policy_matches_all",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0)
                & Q(next_update_minutes__gt=0)
                & Q(resolution_minutes__gt=0),
                name="sla_targets_positive",
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99),
                name="sla_warning_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, kind: str) -> int:
        return {
            ClockKind.FIRST_RESPONSE: self.first_response_minutes,
            ClockKind.NEXT_UPDATE: self.next_update_minutes,
            ClockKind.RESOLUTION: self.resolution_minutes,
        }[kind]


class SlaClock(models.Model):
    """One promise on one ticket: when it warns, when it is due, what already fired.

    `fire_at` is the next moment the timer must act (the unfired warning, then the unfired
    breach); it is empty while the clock is paused or stopped, so the timer's query only
    ever reads clocks that are due.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="+")
    target_minutes = models.PositiveIntegerField()
    # The start of this cycle: the ticket's creation, or the last public reply for the
    # next-update clock.
    started_at = models.DateTimeField()
    # Business minutes spent waiting for the customer in this cycle; they move the deadline.
    paused_minutes = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    met = models.BooleanField(default=False)
    fire_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="one_sla_clock_per_kind")
        ]
        indexes = [
            # The timer's query: only clocks with something left to fire are in the index.
            models.Index(
                fields=["fire_at"], condition=Q(fire_at__isnull=False), name="sla_clock_due"
            ),
            # The management board's breaches of the week.
            models.Index(
                fields=["breached_at"],
                condition=Q(breached_at__isnull=False),
                name="sla_clock_breached",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None


class Notification(models.Model):
    """An in-app notice to one person (e.g. an SLA warning), also mailed once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # What the notice is about: a ticket (SLA) or a feature request (review reopened).
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False, null=True
    )
    feature_request = models.ForeignKey(
        "feature_requests.FeatureRequest",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        null=True,
    )
    management_request = models.ForeignKey(
        "escalation.ManagementRequest",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        null=True,
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True),
                name="notification_unmailed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


# --- Requests to management and proposals ----------------------------------------------------


class ManagementRequest(models.Model):
    """A customer's request to leadership (satisfaction guarantee), worked as a ticket of
    the management department; written only by `escalation.services.management`.

    Written in the portal, it opens a new ticket in the management queue; escalated by an
    agent, the agent's ticket moves there. Customer service never sees either.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        related_name="management_request",
        verbose_name=_("ticket"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="management_requests",
        verbose_name=_("customer"),
        db_index=False,  # management_request_customer leads with it
    )
    source = models.CharField(_("source"), max_length=10, choices=RequestSource.choices)
    subject = models.CharField(_("subject"), max_length=200)
    # The customer's words, or the agent's reason for escalating.
    text = models.TextField(_("text"))
    contract = models.ForeignKey(
        "customers.Contract",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("contract"),
    )
    related_tickets = models.ManyToManyField(
        "tickets.Ticket", related_name="+", blank=True, verbose_name=_("related requests")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    # When management should answer (the next proposal), on the management calendar.
    answer_due_at = models.DateTimeField(_("answer due"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("request to management")
        verbose_name_plural = _("requests to management")
        indexes = [
            # The board: requests not settled yet, oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=~Q(status=RequestStatus.SETTLED),
                name="management_request_open",
            ),
            models.Index(fields=["customer", "created_at"], name="management_request_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(settled_at__isnull=True) | Q(status=RequestStatus.SETTLED),
                name="management_request_settled_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("management:request-detail", args=[self.pk])


class Proposal(models.Model):
    """What management offers a customer; answered once, by the customer, in the portal.

    The amounts are fixed when the proposal is made (the refund is computed from the
    contract then), so the customer accepts exactly what they read.
    """

    request = models.ForeignKey(
        ManagementRequest, on_delete=models.PROTECT, related_name="proposals", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ProposalKind.choices)
    # What management found out; shown to the customer with the proposal.
    findings = models.TextField(_("what we found"))
    text = models.TextField(_("proposal"), blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    invoice = models.ForeignKey(
        "customers.Invoice",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("invoice"),
    )
    contract = models.ForeignKey(
        "customers.Contract",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("contract"),
    )
    end_date = models.DateField(_("end date"), null=True, blank=True)
    refund_amount = models.DecimalField(
        _("refund"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    free_month = models.BooleanField(_("one more month free of charge"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    customer_comment = models.TextField(_("customer's comment"), blank=True)
    answered_at = models.DateTimeField(_("answered on"), null=True, blank=True)
    # What accepting carried out.
    credit_note = models.ForeignKey(
        "customers.CreditNote", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [models.Index(fields=["request", "created_at", "id"], name="proposal_request")]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status=ProposalStatus.OPEN),
                name="one_open_proposal_per_request",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ProposalKind.CREDIT_NOTE)
                | Q(amount__gt=0, invoice__isnull=False),
                name="credit_note_proposal_amount_invoice",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ProposalKind.TERMINATION)
                | Q(contract__isnull=False, end_date__isnull=False, refund_amount__gte=0),
                name="termination_proposal_contract_end",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True)
                | Q(status__in=[ProposalStatus.ACCEPTED, ProposalStatus.REJECTED]),
                name="proposal_answered_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.status}"

    @property
    def service_until(self):
        """The last day the services run: a month after the end when that month is free."""
        if self.kind != ProposalKind.TERMINATION or self.end_date is None:
            return None
        from customers.models import add_months

        return add_months(self.end_date, 1) if self.free_month else self.end_date


class ManagementRequestEvent(models.Model):
    """One step of a request to management. Never updated or deleted by application code."""

    request = models.ForeignKey(
        ManagementRequest, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=64)  # "request.created", "proposal.accepted"
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        indexes = [
            models.Index(fields=["request", "created_at", "id"], name="management_event_request")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


# --- KPI roll-up ----------------------------------------------------------------------------


class KpiDay(models.Model):
    """The support figures of one local day, per channel and department, rolled up at night
    (`escalation.services.kpis.kpi_day_rollup`) so a year of KPIs reads a few thousand rows
    instead of a million tickets.

    Each figure belongs to the day its event happened (created, resolved, first answered,
    call started), so a finished day's row never changes afterwards. `department` is the
    first queue's department for received tickets and calls, the ticket's department at
    resolution for handled ones; null only for calls without a known support area.
    """

    day = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    department = models.ForeignKey(
        "tickets.Department", on_delete=models.CASCADE, related_name="+", null=True, db_index=False
    )
    received = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    first_contact_solved = models.PositiveIntegerField(default=0)
    # Handled tickets that broke an SLA promise on their way.
    breached = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    response_minutes_sum = models.PositiveBigIntegerField(default=0)
    # Business minutes to the first response → how many tickets took that long, for the
    # exact median over any period: {"12": 3, "47": 1}.
    response_minutes = models.JSONField(default=dict)
    calls = models.PositiveIntegerField(default=0)
    calls_answered = models.PositiveIntegerField(default=0)
    wait_seconds_sum = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("KPI day")
        verbose_name_plural = _("KPI days")
        indexes = [models.Index(fields=["day", "channel"], name="kpi_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.department_id}"


class KpiRollup(models.Model):
    """That a day has been rolled up (a day without tickets has no KpiDay rows)."""

    day = models.DateField(primary_key=True)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day}"
