"""Data and invariants of the customers app."""

import calendar
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import (
    ContractStatus,
    CredentialKind,
    InvoiceStatus,
    Language,
    LineState,
    NoteKind,
    OrderKind,
    OrderStatus,
    PhoneKind,
    Segment,
    ServiceKind,
    VerificationChannel,
    VerificationMethod,
    VerificationResult,
)

customer_number_validator = RegexValidator(
    r"^K\d{7}$", _("A customer number is K followed by seven digits, e.g. K1234567.")
)
postal_code_validator = RegexValidator(r"^\d{5}$", _("A postal code has five digits."))


def search_text(value: str) -> str:
    """Lower-case, composed (NFC) and single-spaced: how names are stored and searched."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Customer(models.Model):
    """A customer of the provider; found by number, name, postal code, phone or e-mail."""

    number = models.CharField(
        _("customer number"), max_length=8, unique=True, validators=[customer_number_validator]
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(
        _("postal code"), max_length=5, validators=[postal_code_validator], db_index=True
    )
    city = models.CharField(_("city"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)  # stored lower-case
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.GERMAN
    )
    segment = models.CharField(
        _("segment"), max_length=10, choices=Segment.choices, default=Segment.PRIVATE
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        verbose_name=_("portal login"),
    )
    # "lastname firstname", lower-case: prefix searches use the index below.
    search_name = models.CharField(max_length=201, editable=False)
    phone_password = models.CharField(max_length=256, blank=True, editable=False)
    phone_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Failed phone-password attempts count from this moment (last success or lock end).
    verification_reset_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("erase_customer", _("Can erase a customer's personal data (GDPR)"))]
        indexes = [
            # On PostgreSQL the column uses the "C" collation (migration 0002), so this
            # plain index serves both `LIKE 'abc%'` and `ORDER BY search_name, id`.
            models.Index(fields=["search_name", "id"], name="customer_search_name_c"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.full_name}"

    def get_absolute_url(self) -> str:
        return reverse("customers:customer-detail", args=[self.number])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def has_phone_password(self) -> bool:
        return bool(self.phone_password)

    @staticmethod
    def search_name_for(first_name: str, last_name: str) -> str:
        return search_text(f"{last_name} {first_name}")[:201]


class PhoneNumber(models.Model):
    """A number of the customer: a contact number, or one registered on a VoIP line."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    connection = models.ForeignKey(
        "Connection", null=True, blank=True, on_delete=models.CASCADE, related_name="numbers"
    )
    kind = models.CharField(max_length=12, choices=PhoneKind.choices, default=PhoneKind.CONTACT)
    number = models.CharField(_("phone number"), max_length=30)
    # Digits only, national form (0301234567): what the phone system sends us, indexed.
    normalized = models.CharField(max_length=20, db_index=True, editable=False)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def normalize(raw: str) -> str:
        """German numbers in national form (030…), others as 00<country>…."""
        raw = raw.strip().replace("(0)", "")
        digits = "".join(ch for ch in raw if ch.isdigit())
        if raw.startswith("+"):
            digits = "00" + digits
        if digits.startswith("0049"):
            digits = "0" + digits[4:]
        return digits[:20]


class Product(models.Model):
    """A tariff or package the provider sells."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ServiceKind.choices)
    monthly_price = models.DecimalField(_("monthly price"), max_digits=8, decimal_places=2)
    minimum_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"), default=24)
    notice_period_months = models.PositiveSmallIntegerField(_("notice period (months)"), default=1)
    active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["kind", "monthly_price"]

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """A customer's contract for a product; terms are copied at signing and never follow
    later product changes."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=20, unique=True)
    start_date = models.DateField(_("start"))
    minimum_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    notice_period_months = models.PositiveSmallIntegerField(_("notice period (months)"))
    monthly_price = models.DecimalField(_("monthly price"), max_digits=8, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=24, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    cancellation_requested_at = models.DateTimeField(null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    # Paid in advance up to and including this day (yearly hosting packages); an early
    # end gives back what was paid for the days after it.
    prepaid_until = models.DateField(_("paid in advance until"), null=True, blank=True)
    # An early termination agreed with management: when, what is refunded, and until when
    # the services stay on free of charge so the customer can move.
    early_termination_at = models.DateTimeField(_("ended early"), null=True, blank=True)
    refund_amount = models.DecimalField(
        _("refund"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    free_until = models.DateField(_("free of charge until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.product}"

    @property
    def minimum_term_end(self) -> date:
        return add_months(self.start_date, self.minimum_term_months) - timedelta(days=1)

    def earliest_end(self, *, notice_given_on: date) -> date:
        """The first day a cancellation given on that day can end the contract on.

        Within the minimum term the contract runs to its end; after it, the notice
        period applies from the day notice is given (German TKG § 56: monthly notice).
        """
        return max(
            self.minimum_term_end,
            add_months(notice_given_on, self.notice_period_months),
        )

    @property
    def is_cancellable(self) -> bool:
        return self.status == ContractStatus.ACTIVE

    @property
    def may_end_early(self) -> bool:
        """Still running (cancelled or not) and not ended early before."""
        return self.early_termination_at is None and self.status in (
            ContractStatus.ACTIVE,
            ContractStatus.CANCELLATION_REQUESTED,
        )

    def refund_after(self, end: date) -> Decimal:
        """What was paid in advance for the days after `end`: the monthly price for each
        whole month left up to `prepaid_until`, and the rest of a month by its days."""
        if self.prepaid_until is None or self.prepaid_until <= end:
            return Decimal("0.00")
        start = end + timedelta(days=1)
        months = 0
        while add_months(start, months + 1) - timedelta(days=1) <= self.prepaid_until:
            months += 1
        rest_from = add_months(start, months)
        price = Decimal(str(self.monthly_price))
        refund = price * months
        if rest_from <= self.prepaid_until:
            # The month counted from `start` again: from a clamped day (31 Jan -> 28 Feb)
            # one more month ends on 30 March, not on 27 March.
            month_end = add_months(start, months + 1) - timedelta(days=1)
            month_days = (month_end - rest_from).days + 1
            rest_days = (self.prepaid_until - rest_from).days + 1
            refund += price * rest_days / month_days
        return refund.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Invoice(models.Model):
    """An invoice; its status follows payments and credit notes."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=20, unique=True)
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["customer", "-issued_on", "-id"], name="invoice_by_cust")]

    def __str__(self) -> str:
        return self.number


class CreditNote(models.Model):
    """Money given back to a customer, optionally against an invoice."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(_("credit note number"), max_length=20, unique=True)
    issued_on = models.DateField(_("issued"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.number


class Order(models.Model):
    """A hardware shipment or an installation for the customer."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    description = models.CharField(_("description"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.ORDERED
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("ordered"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class Connection(models.Model):
    """A line or hosting package: DSL/TV/VoIP line, hosting package or domain."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="connections")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="connections"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ServiceKind.choices)
    identifier = models.CharField(_("identifier"), max_length=100, db_index=True)
    state = models.CharField(
        _("state"), max_length=10, choices=LineState.choices, default=LineState.UNKNOWN
    )
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    sync_drops_24h = models.PositiveIntegerField(_("sync drops (24 h)"), default=0)
    state_reported_at = models.DateTimeField(_("state reported"), null=True, blank=True)
    # Domains only: the transfer auth code, encrypted; shown to a verified agent on request.
    auth_code_encrypted = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.identifier}"

    @property
    def has_unstable_sync(self) -> bool:
        return self.sync_drops_24h >= 3


class CustomerNote(models.Model):
    """A note agents leave on a customer; never edited or deleted, only added."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    kind = models.CharField(
        _("kind"), max_length=10, choices=NoteKind.choices, default=NoteKind.INFO
    )
    text = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:50]


class PrivateCredential(models.Model):
    """A DSL/VoIP password or start code, encrypted at rest and never shown to agents."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credentials")
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.PROTECT, related_name="credentials"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CredentialKind.choices)
    secret_encrypted = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("private credential")
        verbose_name_plural = _("private credentials")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.customer.number})"

    def __repr__(self) -> str:
        return f"<PrivateCredential {self.pk} {self.kind}>"


class VerificationAttempt(models.Model):
    """One caller-verification attempt: the audit trail, never changed afterwards."""

    # Empty once pseudonymised (retention or erasure): the attempt still counts in
    # statistics, but no longer says whose account was checked.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="verification_attempts",
        null=True,
        blank=True,
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    method = models.CharField(max_length=16, choices=VerificationMethod.choices)
    channel = models.CharField(max_length=8, choices=VerificationChannel.choices)
    result = models.CharField(max_length=12, choices=VerificationResult.choices)
    # The ticket the call belongs to, as typed by the agent or sent by the phone system.
    ticket_reference = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("verification attempt")
        verbose_name_plural = _("verification attempts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "agent", "-created_at"], name="verif_by_cust_agent"),
            models.Index(fields=["customer", "-created_at"], name="verif_by_cust"),
            # The retention pass: attempts still linked to a customer, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(customer__isnull=False),
                name="verif_retention_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.method} {self.result}"


class CustomerEvent(models.Model):
    """One thing that happened to a customer's account; append-only, like ticket events."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=64)  # "contract.cancellation_requested", …
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind}"


class Erasure(models.Model):
    """A customer's personal data was erased (GDPR Art. 17): when, by whom, why.

    Holds no personal data itself: the customer number is the pseudonymised record's
    key, and the reason is written without names. Every erasure is also appended to the
    erasure log outside the database (settings.ERASURE_LOG_PATH), so it can be replayed
    after restoring an older backup (`manage.py erasures_replay`).
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="erasures")
    customer_number = models.CharField(_("customer number"), max_length=8)
    at = models.DateTimeField(_("erased at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("erased by"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.at:%Y-%m-%d %H:%M}"
