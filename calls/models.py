"""Phone calls: what the phone system reported, whom it matched, and what the agent made of it.

Invariants live in the database: one row per phone-system call id (a retried report hits
the unique constraint instead of making a second call), and a noted call names its ticket.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.choices import CallWarning, Match, Outcome


class Call(models.Model):
    """One call: reported by the phone system (screen pop) or noted by an agent by hand.

    Written only by `calls.services`. The phone system's values are kept as sent (number,
    IVR choice, typed customer number, extension) next to what they were matched to, so a
    wrong match can be seen and nothing the phone system said is lost.
    """

    # The phone system's own id; empty for a call an agent notes without it (the customer
    # page's "new call note"), which is why uniqueness is a conditional constraint.
    external_id = models.CharField(_("phone system call id"), max_length=64, blank=True)
    caller_number = models.CharField(_("caller number"), max_length=40, blank=True)
    # Digits in national form (PhoneNumber.normalize); empty when the number was withheld.
    caller_normalized = models.CharField(max_length=20, blank=True, editable=False)
    ivr_choice = models.CharField(_("IVR choice"), max_length=20, blank=True)
    ivr_unknown = models.BooleanField(_("unknown IVR choice"), default=False)
    typed_customer_number = models.CharField(
        _("customer number typed in"), max_length=20, blank=True
    )
    match = models.CharField(_("customer match"), max_length=16, choices=Match.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="calls",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    # Customers sharing the caller's number (number and name, at most a handful): the
    # notice offers them without reading them again once a second.
    candidates = models.JSONField(default=list, blank=True, editable=False)
    support_area = models.ForeignKey(
        "tickets.SupportArea",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("support area"),
    )
    queue_name = models.CharField(_("phone queue"), max_length=80, blank=True)
    wait_seconds = models.PositiveIntegerField(_("waited (seconds)"), null=True, blank=True)
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    # Indexed by the composite indexes below, which lead with it.
    agent = models.ForeignKey(
        "tickets.Agent",
        on_delete=models.PROTECT,
        related_name="calls",
        null=True,
        blank=True,
        verbose_name=_("agent"),
        db_index=False,
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("talk time (seconds)"), null=True, blank=True)
    notice_seen_at = models.DateTimeField(_("notice seen"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=24, choices=Outcome.choices, blank=True, default=Outcome.NONE
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        related_name="calls",
        null=True,
        blank=True,
        verbose_name=_("ticket"),
    )
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("noted by"),
    )
    noted_at = models.DateTimeField(_("noted"), null=True, blank=True)
    # Whether the caller had been verified by phone password when the note was written.
    caller_verified = models.BooleanField(_("caller verified"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="one_call_per_phone_system_id",
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(ticket__isnull=False),
                name="noted_call_names_its_ticket",
            ),
        ]
        indexes = [
            # The screen pop's poll, about once a second per agent: the agent's notices
            # not yet seen. Partial, so it holds a handful of rows whatever the history.
            models.Index(
                fields=["agent", "answered_at"],
                condition=Q(notice_seen_at__isnull=True, agent__isnull=False),
                name="call_notice_pending",
            ),
            # "My calls": an agent's calls, newest first, in keyset pages.
            models.Index(fields=["agent", "started_at", "id"], name="call_agent"),
            # Volume and wait-time figures over a period.
            models.Index(fields=["started_at", "id"], name="call_started"),
        ]

    def __str__(self) -> str:
        who = self.customer.number if self.customer_id else (self.caller_number or "?")
        return f"{timezone.localtime(self.started_at):%Y-%m-%d %H:%M} {who}"

    def get_absolute_url(self) -> str:
        return reverse("calls:call-note", args=[self.pk])

    @property
    def is_noted(self) -> bool:
        return self.outcome != Outcome.NONE

    @property
    def from_phone_system(self) -> bool:
        return bool(self.external_id)

    @property
    def warnings(self) -> list[str]:
        """What the phone system should know about how its report was understood."""
        found = []
        if self.ivr_unknown:
            found.append(CallWarning.UNKNOWN_IVR_CHOICE)
        if self.typed_customer_number and self.match != Match.CUSTOMER_NUMBER:
            found.append(CallWarning.UNKNOWN_CUSTOMER_NUMBER)
        if self.match == Match.AMBIGUOUS:
            found.append(CallWarning.SEVERAL_CUSTOMERS)
        elif self.match == Match.NONE:
            found.append(CallWarning.NO_CUSTOMER)
        if self.extension and self.agent_id is None:
            found.append(CallWarning.UNKNOWN_EXTENSION)
        return found
