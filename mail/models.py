"""Mail that enters and leaves the helpdesk.

Outbound mail goes through an outbox: the row is written in the same transaction as the
reply or status change that caused it, and a Celery task sends it afterwards. Its
`message_id` is fixed when the row is written, so a retry after a crash re-sends the
same message (receivers drop the duplicate) instead of a second, different one.

Inbound mail keeps one row per `Message-ID`, which is what makes a second delivery of the
same message a no-op.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mail.choices import InboundOutcome, InboundSource, OutboundKind, OutboundState


class OutboundMail(models.Model):
    """One mail to a customer about a ticket, rendered when queued, sent at most once."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="outbound_mails"
    )
    # The public reply this mail carries (kind "reply" only).
    ticket_message = models.ForeignKey(
        "tickets.TicketMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_mails",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OutboundKind.choices)
    to_address = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True)  # with the angle brackets
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=OutboundState.choices, default=OutboundState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # A pending row is (re)tried from this moment; a claimed row is pushed into the future
    # so a second worker does not send it while the first is talking to the mail server.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbound_mail_due",
                condition=Q(state="pending"),
            ),
            models.Index(fields=["ticket", "created_at"], name="outbound_mail_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.to_address}"


class InboundMail(models.Model):
    """One received message, kept once per Message-ID, with what became of it."""

    message_id = models.CharField(max_length=255, unique=True)
    source = models.CharField(_("source"), max_length=10, choices=InboundSource.choices)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64)
    outcome = models.CharField(_("outcome"), max_length=10, choices=InboundOutcome.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # What decided the outcome, for machines (`mail.inbound.Problem`): "too_large", "loop"…
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    # Set when the subject carried the tag of a ticket the sender does not own: the mail
    # became a new ticket instead, and agents see the warning.
    flagged = models.BooleanField(_("flagged"), default=False)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_mails",
    )
    ticket_message = models.ForeignKey(
        "tickets.TicketMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_mails",
    )
    # Where the raw message is kept (relative to the media root) when it could not be filed
    # normally, so nothing is lost.
    raw_path = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("incoming mail")
        verbose_name_plural = _("incoming mails")
        indexes = [
            models.Index(fields=["ticket", "received_at"], name="inbound_mail_ticket"),
            # The loop guard: tickets one sender opened by e-mail within the last hour.
            models.Index(fields=["from_address", "received_at"], name="inbound_mail_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.outcome})"
