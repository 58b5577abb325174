"""Statuses and kinds of the tickets app (readable values, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Line(models.IntegerChoices):
    FIRST = 1, _("1st line")
    SECOND = 2, _("2nd line")
    THIRD = 3, _("3rd line")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    LETTER = "letter", _("Letter/fax")


class Priority(models.IntegerChoices):
    """Stored as numbers so queues sort by urgency on an index."""

    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting for third party")
    SCHEDULED = "scheduled", _("Scheduled")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Every allowed status change (STYLE R3). Closing needs "resolved" first; a resolved
# ticket reopens on a customer reply within TICKET_REOPEN_DAYS.
WORKING = {Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY, Status.SCHEDULED}
MOVES: dict[str, set[str]] = {
    Status.NEW: WORKING | {Status.RESOLVED},
    Status.OPEN: (WORKING - {Status.OPEN}) | {Status.RESOLVED},
    Status.WAITING_CUSTOMER: (WORKING - {Status.WAITING_CUSTOMER}) | {Status.RESOLVED},
    Status.WAITING_THIRD_PARTY: (WORKING - {Status.WAITING_THIRD_PARTY}) | {Status.RESOLVED},
    Status.SCHEDULED: (WORKING - {Status.SCHEDULED}) | {Status.RESOLVED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}
OPEN_STATUSES = frozenset({Status.NEW, *WORKING})
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer message")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


PUBLIC_MESSAGE_KINDS = frozenset({MessageKind.CUSTOMER, MessageKind.REPLY})
