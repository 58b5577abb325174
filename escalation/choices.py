"""Statuses and kinds of the escalation app (TextChoices)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClockKind(models.TextChoices):
    """The three promises an SLA policy makes about a ticket."""

    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_UPDATE = "next_update", _("Next update")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    """How a clock stands right now (derived, never stored)."""

    OK = "ok", _("On time")
    WARNING = "warning", _("Due soon")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    MISSED = "missed", _("Met late")
    STOPPED = "stopped", _("Stopped")


class NotificationKind(models.TextChoices):
    SLA_WARNING = "sla.warning", _("SLA warning")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    FEATURE_REQUEST_REREVIEW = "feature_request.rereview", _("Review reopened")
    MANAGEMENT_REQUEST = "management.request", _("Request to management")
    PROPOSAL_ANSWERED = "management.proposal_answered", _("Proposal answered")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class GermanState(models.TextChoices):
    """States whose public holidays a calendar observes (codes of the `holidays` library)."""

    BW = "BW", "Baden-Württemberg"
    BY = "BY", "Bayern"
    BE = "BE", "Berlin"
    BB = "BB", "Brandenburg"
    HB = "HB", "Bremen"
    HH = "HH", "Hamburg"
    HE = "HE", "Hessen"
    MV = "MV", "Mecklenburg-Vorpommern"
    NI = "NI", "Niedersachsen"
    NW = "NW", "Nordrhein-Westfalen"
    RP = "RP", "Rheinland-Pfalz"
    SL = "SL", "Saarland"
    SN = "SN", "Sachsen"
    ST = "ST", "Sachsen-Anhalt"
    SH = "SH", "Schleswig-Holstein"
    TH = "TH", "Thüringen"


class RequestStatus(models.TextChoices):
    """Where a request to management stands: management's turn, the customer's, or done."""

    OPEN = "open", _("Waiting for a proposal")
    PROPOSED = "proposed", _("Waiting for the customer")
    SETTLED = "settled", _("Settled")


class RequestSource(models.TextChoices):
    PORTAL = "portal", _("Written by the customer")
    AGENT = "agent", _("Escalated by an agent")


class ProposalKind(models.TextChoices):
    CREDIT_NOTE = "credit_note", _("Credit note")
    INDIVIDUAL = "individual", _("Individual solution")
    TERMINATION = "termination", _("Early termination")


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the customer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
