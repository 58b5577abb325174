"""Data and invariants of the feature_requests app.

The counts on a request (asks, distinct customers, asks since the last decision) are kept
by the service that records an ask, under a row lock, so the list sorts on an index and
never recounts. On PostgreSQL, migration 0002 adds a generated full-text column and a
trigram index for "find before you file" (see selectors.similar_requests).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feature_requests.choices import AskKind, Status, TargetDepartment

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
REASON_MAX = 4_000
NOTE_MAX = 500


class FeatureRequest(models.Model):
    """A wish of customers (or a "no" we had to give them), reviewed and decided once."""

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.TextField(_("description"), blank=True)
    department = models.CharField(
        _("target department"), max_length=20, choices=TargetDepartment.choices
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    # The reason of the latest decision; required for a rejection and read out to customers.
    reason = models.TextField(_("reason"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_requests",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    decided_at = models.DateTimeField(_("last decision"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    ask_count = models.PositiveIntegerField(_("asks"), default=0)
    customer_count = models.PositiveIntegerField(_("customers"), default=0)
    asks_since_decision = models.PositiveIntegerField(_("asks since the decision"), default=0)
    last_ask_at = models.DateTimeField(_("last asked"), default=timezone.now)

    class Meta:
        verbose_name = _("feature request")
        verbose_name_plural = _("feature requests")
        indexes = [
            models.Index(fields=["-ask_count", "-id"], name="fr_by_asks"),
            models.Index(fields=["-customer_count", "-id"], name="fr_by_customers"),
            models.Index(fields=["-last_ask_at", "-id"], name="fr_by_recent"),
            models.Index(fields=["status", "-ask_count", "-id"], name="fr_status_asks"),
            models.Index(fields=["department", "status", "-ask_count"], name="fr_department"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_count__lte=F("ask_count"))
                & Q(asks_since_decision__lte=F("ask_count")),
                name="fr_counts_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.REJECTED) | ~Q(reason=""),
                name="fr_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.MERGED, merged_into__isnull=False)
                | (~Q(status=Status.MERGED) & Q(merged_into__isnull=True)),
                name="fr_merged_points_to_survivor",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("feature_requests:request-detail", args=[self.pk])


class Ask(models.Model):
    """One time a customer asked for it (or was told no). Never updated but by a merge."""

    request = models.ForeignKey(
        FeatureRequest, on_delete=models.PROTECT, related_name="asks", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feature_asks",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AskKind.choices)
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    # The same customer asked this request before: a repeat, counted all the same.
    is_repeat = models.BooleanField(_("repeat"), default=False)
    # Set when a merge moved the ask here from the duplicate it was recorded on.
    moved_from = models.ForeignKey(
        FeatureRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)

    class Meta:
        verbose_name = _("ask")
        verbose_name_plural = _("asks")
        indexes = [
            models.Index(fields=["request", "created_at", "id"], name="ask_request"),
            models.Index(fields=["request", "customer"], name="ask_request_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.created_at:%Y-%m-%d}"


class FeatureRequestEvent(models.Model):
    """One thing that happened to a request (STYLE R4). Append-only."""

    request = models.ForeignKey(
        FeatureRequest, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("feature request event")
        verbose_name_plural = _("feature request events")
        indexes = [models.Index(fields=["request", "created_at", "id"], name="fr_event_request")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"
