"""Kinds and outcomes of the calls app (readable values, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Match(models.TextChoices):
    """How the caller's customer record was found."""

    CUSTOMER_NUMBER = "customer_number", _("Customer number typed in")
    PHONE_NUMBER = "phone_number", _("Caller's phone number")
    AMBIGUOUS = "ambiguous", _("Several customers share the number")
    NONE = "none", _("No customer found")
    AGENT = "agent", _("Chosen by the agent")


class Outcome(models.TextChoices):
    """What the agent made of the call; empty until the call note is written."""

    NONE = "", _("Not noted yet")
    FIRST_CONTACT_SOLVED = "first_contact_solved", _("Solved on first contact")
    TICKET_OPENED = "ticket_opened", _("Ticket opened")
    ESCALATED = "escalated", _("Ticket escalated")
    HANDED_OFF = "handed_off", _("Ticket handed off")
    LOGGED_ON_TICKET = "logged_on_ticket", _("Logged on a ticket")


# The outcomes that open a new ticket (all but logging on an existing one).
NEW_TICKET_OUTCOMES = frozenset(
    {
        Outcome.FIRST_CONTACT_SOLVED,
        Outcome.TICKET_OPENED,
        Outcome.ESCALATED,
        Outcome.HANDED_OFF,
    }
)
NOTE_OUTCOMES = NEW_TICKET_OUTCOMES | {Outcome.LOGGED_ON_TICKET}


class CallWarning(models.TextChoices):
    """What the phone system is told about a call it reported (the call is stored anyway)."""

    UNKNOWN_IVR_CHOICE = "unknown_ivr_choice", _("The IVR choice is unknown; no support area.")
    UNKNOWN_CUSTOMER_NUMBER = (
        "unknown_customer_number",
        _("The customer number typed in is unknown; matched by the caller's number instead."),
    )
    SEVERAL_CUSTOMERS = (
        "several_customers",
        _("Several customers share the caller's number; the agent chooses."),
    )
    NO_CUSTOMER = "no_customer", _("No customer found for this call.")
    UNKNOWN_EXTENSION = (
        "unknown_extension",
        _("No agent has this extension; nobody gets a notice."),
    )
