"""Kinds and states of inbound and outbound mail."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    REPLY = "reply", _("Reply")
    STATUS = "status", _("Status change")
    OUTAGE = "outage", _("Outage notice")
    APPOINTMENT = "appointment", _("Technician visit")
    MANAGEMENT = "management", _("Request to management")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    MAILDIR = "maildir", _("Maildir")
    API = "api", _("Mail gateway (API)")


class InboundOutcome(models.TextChoices):
    ATTACHED = "attached", _("Added to a ticket")
    CREATED = "created", _("New ticket")
    IGNORED = "ignored", _("Ignored (auto-reply, bounce or loop)")
    REJECTED = "rejected", _("Rejected")
