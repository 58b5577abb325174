"""Statuses and kinds of the tickets app (readable values, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


# --- Outages and technician visits ------------------------------------------------------


class OutageStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", pgettext_lazy("outage status", "Resolved")


# An outage moves freely between the working statuses; "resolved" is final (a new outage
# is opened if it comes back, so the resolved one's notices stay true).
OUTAGE_ACTIVE = frozenset(
    {OutageStatus.INVESTIGATING, OutageStatus.IDENTIFIED, OutageStatus.MONITORING}
)
OUTAGE_MOVES: dict[str, set[str]] = {
    status: set(OutageStatus.values) - {status} for status in OUTAGE_ACTIVE
} | {OutageStatus.RESOLVED: set()}


class AppointmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    DONE = "done", pgettext_lazy("appointment status", "Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", pgettext_lazy("appointment status", "Cancelled")
    RESCHEDULED = "rescheduled", _("Rescheduled")


# A proposed or confirmed visit holds a place in its window; the rest are history.
APPOINTMENT_ACTIVE = frozenset({AppointmentStatus.PROPOSED, AppointmentStatus.CONFIRMED})
APPOINTMENT_MOVES: dict[str, set[str]] = {
    AppointmentStatus.PROPOSED: {
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.RESCHEDULED,
    },
    AppointmentStatus.CONFIRMED: {
        AppointmentStatus.DONE,
        AppointmentStatus.MISSED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.RESCHEDULED,
    },
    AppointmentStatus.DONE: set(),
    AppointmentStatus.MISSED: set(),
    AppointmentStatus.CANCELLED: set(),
    AppointmentStatus.RESCHEDULED: set(),
}


class MissedReason(models.TextChoices):
    CUSTOMER_ABSENT = "customer_absent", _("Customer was not at home")
    TECHNICIAN_LEFT_EARLY = (
        "technician_left_early",
        _("Technician left before the customer arrived"),
    )
    TECHNICIAN_NO_SHOW = "technician_no_show", _("Technician did not come")
