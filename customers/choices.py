"""Statuses and kinds of the customers app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Segment(models.TextChoices):
    PRIVATE = "private", _("Private")
    BUSINESS = "business", _("Business")


class Language(models.TextChoices):
    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")
    POLISH = "pl", _("Polish")


class ServiceKind(models.TextChoices):
    DSL = "dsl", _("DSL")
    TV = "tv", _("TV")
    VOIP = "voip", _("VoIP")
    HOSTING = "hosting", _("Hosting")
    DOMAIN = "domain", _("Domain")
    EMAIL = "email", _("E-mail")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLATION_REQUESTED = "cancellation_requested", _("Cancellation requested")
    CANCELLED = "cancelled", pgettext_lazy("contract status", "Cancelled")
    ENDED = "ended", _("Ended")


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CREDITED = "credited", _("Credited")


class OrderKind(models.TextChoices):
    SHIPMENT = "shipment", _("Hardware shipment")
    INSTALLATION = "installation", _("Installation")


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", pgettext_lazy("order status", "Ordered")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")


class LineState(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    UNKNOWN = "unknown", _("Unknown")


class NoteKind(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")


class CredentialKind(models.TextChoices):
    DSL_PASSWORD = "dsl_password", _("DSL password")
    VOIP_PASSWORD = "voip_password", _("VoIP password")
    START_CODE = "start_code", _("Start code")


class PhoneKind(models.TextChoices):
    CONTACT = "contact", _("Contact number")
    REGISTERED = "registered", _("Registered on a line")


class VerificationMethod(models.TextChoices):
    PHONE_PASSWORD = "phone_password", _("Phone password")
    IDENTITY = "identity", _("Identity data")


class VerificationChannel(models.TextChoices):
    AGENT = "agent", _("Agent")
    IVR = "ivr", _("Phone system (IVR)")


class VerificationResult(models.TextChoices):
    SUCCESS = "success", _("Verified")
    FAILURE = "failure", _("Wrong")
    LOCKED = "locked", _("Refused: locked")
    NO_PASSWORD = "no_password", _("No phone password set")
