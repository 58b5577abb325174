"""Every state change of the customers app: one function per use case (see STYLE.md R2)."""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from customers.choices import (
    ContractStatus,
    CredentialKind,
    InvoiceStatus,
    LineState,
    NoteKind,
    ServiceKind,
    VerificationChannel,
    VerificationMethod,
    VerificationResult,
)
from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerEvent,
    CustomerNote,
    Invoice,
    PhoneNumber,
    PrivateCredential,
    Product,
    VerificationAttempt,
    add_months,
)
from helpdesk import crypto
from helpdesk import permissions as roles
from helpdesk.choices import AuditAction
from helpdesk.errors import DomainError, StaleEdit
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.choices import Channel

# Longer input is not hashed (it cannot be right), but still costs one hash and counts.
PHONE_PASSWORD_MAX_LENGTH = 64
# Hashed once per process: spent on unknown customers and locked or unset passwords so
# the answer time does not tell those cases from a wrong password.
_DUMMY_HASH: list[str] = []


def event_record(*, customer: Customer, kind: str, actor, data: dict | None = None) -> None:
    """Append one event to the customer's history (STYLE R4)."""
    CustomerEvent.objects.create(customer=customer, kind=kind, actor=actor, data=data or {})


def _actor_or_none(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _audit(*, action: str, customer: Customer | None, actor, details: dict, number: str = ""):
    """A security audit entry for the phone password (who, which customer, from where);
    labelled with the customer number only, never the name or what was typed."""
    from helpdesk import services as helpdesk_services
    from helpdesk.middleware import current_request

    number = customer.number if customer is not None else number
    helpdesk_services.audit_record(
        action=action,
        request=current_request(),
        actor=_actor_or_none(actor),
        object_type="customer",
        object_id=customer.pk if customer is not None else "",
        object_label=number[:20],
        details=details,
    )


# --- Customer record --------------------------------------------------------------------


@transaction.atomic
def customer_create(*, actor=None, phones: tuple[str, ...] = (), **fields) -> Customer:
    """Create a customer with normalised search fields and contact numbers."""
    fields["email"] = fields.get("email", "").strip().lower()
    customer = Customer(**fields)
    customer.search_name = Customer.search_name_for(customer.first_name, customer.last_name)
    customer.full_clean()
    customer.save()
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=customer, number=raw, normalized=PhoneNumber.normalize(raw))
        for raw in phones
    )
    event_record(customer=customer, kind="customer.created", actor=_actor_or_none(actor))
    return customer


@transaction.atomic
def customer_note_add(*, customer: Customer, author, text: str, kind: str = NoteKind.INFO):
    """Add an agent's note to the customer; notes are never edited or deleted."""
    text = text.strip()
    if not text:
        raise DomainError(_("Write a note first."), field="text")
    if len(text) > 4000:
        raise DomainError(_("A note can be at most 4000 characters long."), field="text")
    if kind not in NoteKind.values:
        raise DomainError(_("Unknown note kind."), field="kind")
    return CustomerNote.objects.create(customer=customer, author=author, kind=kind, text=text)


# --- Phone password ---------------------------------------------------------------------


def phone_password_normalize(raw: str) -> str:
    """Spoken passwords: case, accents' encodings and spacing are not part of them."""
    return " ".join(unicodedata.normalize("NFKC", raw).casefold().split())


def _trivial_values(customer: Customer) -> set[str]:
    values = {
        customer.number,
        customer.number[1:],
        customer.first_name,
        customer.last_name,
        customer.full_name,
        customer.street,
        customer.postal_code,
        customer.city,
    }
    if customer.birth_date:
        day = customer.birth_date
        values |= {
            day.strftime(pattern)
            for pattern in ("%d%m%Y", "%d.%m.%Y", "%d%m%y", "%d.%m.%y", "%Y%m%d", "%Y-%m-%d")
        }
    return {phone_password_normalize(value) for value in values if value}


@sensitive_variables("raw", "value", "compact")
def phone_password_problems(*, customer: Customer, raw: str) -> list[str]:
    """Why a chosen phone password is not acceptable (empty list: it is fine)."""
    value = phone_password_normalize(raw)
    minimum = settings.PHONE_PASSWORD_MIN_LENGTH
    problems = []
    if len(value) < minimum:
        problems.append(
            ngettext("Use at least %(n)d character.", "Use at least %(n)d characters.", minimum)
            % {"n": minimum}
        )
    if len(value) > PHONE_PASSWORD_MAX_LENGTH:
        limit = PHONE_PASSWORD_MAX_LENGTH
        problems.append(
            ngettext("Use at most %(n)d character.", "Use at most %(n)d characters.", limit)
            % {"n": limit}
        )
    compact = value.replace(" ", "")
    if value in _trivial_values(customer) or compact in _trivial_values(customer):
        problems.append(_("Do not use your customer number, name, address or date of birth."))
    elif len(set(compact)) <= 2 or compact in "0123456789" or compact in "9876543210":
        problems.append(_("This is too easy to guess; choose something less obvious."))
    return problems


@transaction.atomic
@sensitive_variables("phone_password", "current_web_password")
def customer_phone_password_set(
    *, customer: Customer, phone_password: str, current_web_password: str, actor
) -> Customer:
    """The customer sets or changes the phone password; needs their current web password."""
    if actor is None or customer.user_id != actor.pk:
        raise DomainError(_("Only the customer can set the phone password."))
    if not actor.check_password(current_web_password):
        raise DomainError(_("Your current web password is not correct."), field="current_password")
    return _phone_password_store(customer=customer, phone_password=phone_password, actor=actor)


@transaction.atomic
@sensitive_variables("phone_password")
def customer_phone_password_provision(*, customer: Customer, phone_password: str) -> Customer:
    """Store the phone password chosen on the order form, for a customer without a portal
    login (contract system, demo data); the same rules as in the portal."""
    if customer.user_id is not None:
        raise DomainError(_("This customer sets the phone password in the portal."))
    return _phone_password_store(customer=customer, phone_password=phone_password, actor=None)


@sensitive_variables("phone_password")
def _phone_password_store(*, customer: Customer, phone_password: str, actor) -> Customer:
    problems = phone_password_problems(customer=customer, raw=phone_password)
    if problems:
        raise DomainError(" ".join(problems), field="phone_password")
    changed = customer.has_phone_password
    customer.phone_password = make_password(phone_password_normalize(phone_password))
    customer.phone_password_set_at = timezone.now()
    customer.save(update_fields=["phone_password", "phone_password_set_at"])
    kind = "phone_password.changed" if changed else "phone_password.set"
    event_record(customer=customer, kind=kind, actor=actor)
    _audit(
        action=AuditAction.PHONE_PASSWORD_CHANGED,
        customer=customer,
        actor=actor,
        details={"change": "changed" if changed else "set", "by": "customer" if actor else "order"},
    )
    return customer


@transaction.atomic
def customer_login_link(*, customer: Customer, user) -> Customer:
    """Give a customer their portal login; one login per customer, customers only."""
    if not roles.can_use_portal(user):
        raise DomainError(_("Only a customer login can be linked to a customer."), field="user")
    if Customer.objects.filter(user=user).exclude(pk=customer.pk).exists():
        raise DomainError(_("This login belongs to another customer."), field="user")
    if not Customer.objects.filter(pk=customer.pk, user=None).update(user=user):
        raise StaleEdit(_("This customer has a portal login already."))
    event_record(customer=customer, kind="customer.login_linked", actor=None)
    customer.refresh_from_db()
    return customer


@dataclass(frozen=True)
class VerificationState:
    """What the agent's verification widget shows."""

    has_password: bool
    verified_until: datetime | None
    attempts_left: int
    locked_until: datetime | None
    result: str = ""  # the attempt just made, if any

    @property
    def verified(self) -> bool:
        return self.verified_until is not None


def _failures_since(customer: Customer, now: datetime) -> datetime:
    since = now - settings.PHONE_VERIFICATION_FAILURE_WINDOW
    if customer.verification_reset_at and customer.verification_reset_at > since:
        since = customer.verification_reset_at
    return since


def verification_state(*, customer: Customer, agent, now: datetime) -> VerificationState:
    """Where verification of this customer stands for this agent (two queries at most)."""
    locked_until = customer.verification_locked_until
    if locked_until and locked_until <= now:
        locked_until = None
    verified_until = None
    latest_success = (
        VerificationAttempt.objects.filter(
            customer=customer,
            agent=_actor_or_none(agent),
            method=VerificationMethod.PHONE_PASSWORD,
            result=VerificationResult.SUCCESS,
            created_at__gt=now - settings.PHONE_VERIFICATION_WINDOW,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest_success:
        verified_until = latest_success + settings.PHONE_VERIFICATION_WINDOW
    failures = VerificationAttempt.objects.filter(
        customer=customer,
        method=VerificationMethod.PHONE_PASSWORD,
        result=VerificationResult.FAILURE,
        created_at__gt=_failures_since(customer, now),
    ).count()
    limit = settings.PHONE_VERIFICATION_FAILURE_LIMIT
    return VerificationState(
        has_password=customer.has_phone_password,
        verified_until=verified_until,
        attempts_left=0 if locked_until else max(limit - failures, 0),
        locked_until=locked_until,
    )


def _spend_one_hash(candidate: str) -> None:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password("no customer has this phone password"))
    check_password(candidate, _DUMMY_HASH[0])


@sensitive_variables("spoken")
def phone_password_check_unknown_customer(
    *, spoken: str, number: str = "", actor=None, channel: str = VerificationChannel.AGENT
) -> None:
    """Cost the same as a real check, for callers that named no existing customer; audited,
    so somebody trying customer numbers shows in the trail."""
    _spend_one_hash(phone_password_normalize(spoken[:PHONE_PASSWORD_MAX_LENGTH]))
    _audit(
        action=AuditAction.PHONE_PASSWORD_CHECKED,
        customer=None,
        number=number,
        actor=actor,
        details={"result": "unknown_customer", "channel": channel},
    )


@transaction.atomic
@sensitive_variables("spoken", "candidate")
def phone_password_verify(
    *,
    customer: Customer,
    spoken: str,
    agent,
    channel: str = VerificationChannel.AGENT,
    ticket_reference: str = "",
    now: datetime | None = None,
) -> VerificationState:
    """Check what the caller said; open a verification window or count a failure.

    The customer row is locked for the check so that two agents (or an agent and the
    IVR) failing at the same moment cannot both slip under the failure limit.
    """
    if not spoken.strip():
        raise DomainError(_("Type what the caller says."), field="phone_password")
    now = now or timezone.now()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    agent = _actor_or_none(agent)
    candidate = phone_password_normalize(spoken)
    locked = customer.verification_locked_until and customer.verification_locked_until > now
    if locked or not customer.has_phone_password or len(candidate) > PHONE_PASSWORD_MAX_LENGTH:
        _spend_one_hash(candidate[:PHONE_PASSWORD_MAX_LENGTH])
        correct = False
    else:
        correct = check_password(candidate, customer.phone_password)
    if locked:
        result = VerificationResult.LOCKED
    elif not customer.has_phone_password:
        result = VerificationResult.NO_PASSWORD
    elif correct:
        result = VerificationResult.SUCCESS
    else:
        result = VerificationResult.FAILURE
    VerificationAttempt.objects.create(
        customer=customer,
        agent=agent,
        method=VerificationMethod.PHONE_PASSWORD,
        channel=channel,
        result=result,
        ticket_reference=ticket_reference.strip()[:20],
        created_at=now,
    )
    _audit(
        action=AuditAction.PHONE_PASSWORD_CHECKED,
        customer=customer,
        actor=agent,
        details={"result": result, "channel": channel},
    )
    if result == VerificationResult.SUCCESS:
        customer.verification_reset_at = now
        customer.save(update_fields=["verification_reset_at"])
    elif result == VerificationResult.FAILURE:
        failures = VerificationAttempt.objects.filter(
            customer=customer,
            method=VerificationMethod.PHONE_PASSWORD,
            result=VerificationResult.FAILURE,
            created_at__gt=_failures_since(customer, now),
        ).count()
        if failures >= settings.PHONE_VERIFICATION_FAILURE_LIMIT:
            locked_until = now + settings.PHONE_VERIFICATION_LOCK
            customer.verification_locked_until = locked_until
            customer.verification_reset_at = locked_until
            customer.save(update_fields=["verification_locked_until", "verification_reset_at"])
            event_record(
                customer=customer,
                kind="verification.locked",
                actor=agent,
                data={"until": locked_until.isoformat()},
            )
    state = verification_state(customer=customer, agent=agent, now=now)
    return VerificationState(**{**state.__dict__, "result": result})


def _identity_normalize(value: str) -> str:
    value = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    for long, short in (("straße", "str."), ("strasse", "str."), ("str ", "str. ")):
        value = value.replace(long, short)
    return value.replace(" ", "").replace("-", "")


IDENTITY_FIELDS = ("first_name", "last_name", "street", "postal_code", "city")


@transaction.atomic
def identity_check(*, customer: Customer, agent, answers: dict[str, str]) -> bool:
    """Compare name and address as the caller gives them; enough for routing and general
    questions, never for account changes (those need the phone password)."""
    missing = [name for name in IDENTITY_FIELDS if not answers.get(name, "").strip()]
    if missing:
        raise DomainError(_("Ask the caller for all five details."), field=missing[0])
    matches = all(
        _identity_normalize(answers[name]) == _identity_normalize(getattr(customer, name))
        for name in IDENTITY_FIELDS
    )
    VerificationAttempt.objects.create(
        customer=customer,
        agent=_actor_or_none(agent),
        method=VerificationMethod.IDENTITY,
        channel=VerificationChannel.AGENT,
        result=VerificationResult.SUCCESS if matches else VerificationResult.FAILURE,
    )
    return matches


def verification_require(*, customer: Customer, agent, now: datetime | None = None) -> None:
    """Refuse an account change unless this agent verified this caller recently."""
    state = verification_state(customer=customer, agent=agent, now=now or timezone.now())
    if not state.verified:
        raise DomainError(
            _("Verify the caller with the phone password first; account changes need it.")
        )


# --- Contracts --------------------------------------------------------------------------


def _is_the_customer(*, customer: Customer, actor) -> bool:
    return customer.user_id is not None and customer.user_id == actor.pk


def _require_verification_if_staff(*, customer: Customer, actor) -> None:
    if _is_the_customer(customer=customer, actor=actor):
        return  # the customer acting in the portal
    verification_require(customer=customer, agent=actor)


CANCELLATION_SUPPORT_AREA = "cancellation"


@transaction.atomic
def contract_cancel(*, contract: Contract, actor, notice_given_on: date | None = None) -> Contract:
    """Record a cancellation: the contract ends on the earliest possible day, and a ticket
    asks the contracts department to confirm it.

    The customer cancels in the portal; an agent may cancel on the caller's behalf only
    with an open phone-password verification.
    """
    by_customer = _is_the_customer(customer=contract.customer, actor=actor)
    _require_verification_if_staff(customer=contract.customer, actor=actor)
    notice_given_on = notice_given_on or timezone.localdate()
    end = contract.earliest_end(notice_given_on=notice_given_on)
    updated = Contract.objects.filter(pk=contract.pk, status=ContractStatus.ACTIVE).update(
        status=ContractStatus.CANCELLATION_REQUESTED,
        cancellation_requested_at=timezone.now(),
        end_date=end,
        updated_at=timezone.now(),
    )
    if not updated:
        raise StaleEdit(_("This contract is no longer active; reload to see its state."))
    ticket = _cancellation_ticket_create(
        contract=contract,
        end=end,
        notice_given_on=notice_given_on,
        by_customer=by_customer,
        actor=actor,
    )
    event_record(
        customer=contract.customer,
        kind="contract.cancellation_requested",
        actor=actor,
        data={"contract": contract.number, "end_date": end.isoformat(), "ticket": ticket.reference},
    )
    contract.refresh_from_db()
    return contract


def _cancellation_ticket_create(
    *, contract: Contract, end: date, notice_given_on: date, by_customer: bool, actor
):
    """The contracts department's ticket for a cancellation, in the customer's language
    (the customer reads it under "My requests" as their own message)."""
    customer = contract.customer
    # Without its support area the cancellation is refused (and rolled back) rather than
    # recorded with nobody asked to confirm it.
    area = ticket_selectors.support_area_get(CANCELLATION_SUPPORT_AREA)
    if area is None:
        raise DomainError(
            _("The cancellation could not be recorded right now. Please try again later.")
        )
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        subject = _("Cancellation of contract %(number)s") % {"number": contract.number}
        lines = [
            _("Please cancel my contract %(number)s (%(product)s).")
            % {"number": contract.number, "product": contract.product.name},
            _("Requested end date: %(date)s (the earliest possible date).")
            % {"date": formats.date_format(end, "DATE_FORMAT")},
            _("Notice given on: %(date)s.")
            % {"date": formats.date_format(notice_given_on, "DATE_FORMAT")},
            _("Cancelled by the customer in the portal.")
            if by_customer
            else _("Taken by phone from the caller, verified with the phone password."),
        ]
    return ticket_services.ticket_create(
        customer=customer,
        subject=subject,
        body="\n".join(lines),
        channel=Channel.PORTAL if by_customer else Channel.PHONE,
        support_area=area,
        actor=actor,
    )


@transaction.atomic
def contract_change_product(*, contract: Contract, product: Product, actor) -> Contract:
    """Tariff change on the caller's behalf: needs an open verification."""
    verification_require(customer=contract.customer, agent=actor)
    if product.kind != contract.product.kind or not product.active:
        raise DomainError(_("Choose a tariff of the same kind that is on sale."), field="product")
    old = contract.product
    updated = Contract.objects.filter(
        pk=contract.pk, status=ContractStatus.ACTIVE, product=old
    ).update(product=product, monthly_price=product.monthly_price, updated_at=timezone.now())
    if not updated:
        raise StaleEdit(_("This contract changed meanwhile; reload and try again."))
    event_record(
        customer=contract.customer,
        kind="contract.product_changed",
        actor=actor,
        data={"contract": contract.number, "from": old.name, "to": product.name},
    )
    contract.refresh_from_db()
    return contract


# --- Connections and credentials --------------------------------------------------------


@transaction.atomic
@sensitive_variables()
def connection_auth_code_reveal(*, connection: Connection, actor) -> str:
    """Show a domain's transfer auth code to a verified agent; recorded as an event."""
    verification_require(customer=connection.customer, agent=actor)
    if connection.kind != ServiceKind.DOMAIN or not connection.auth_code_encrypted:
        raise DomainError(_("This connection has no auth code."))
    event_record(
        customer=connection.customer,
        kind="connection.auth_code_shown",
        actor=actor,
        data={"connection": connection.identifier},
    )
    return crypto.decrypt(connection.auth_code_encrypted)


@sensitive_variables("auth_code")
def connection_auth_code_store(*, connection: Connection, auth_code: str) -> None:
    """Store (encrypted) the transfer auth code of a domain."""
    connection.auth_code_encrypted = crypto.encrypt(auth_code)
    connection.save(update_fields=["auth_code_encrypted"])


@transaction.atomic
def connection_state_report(
    *,
    connection: Connection,
    actor,
    state: str | None = None,
    last_sync_at: datetime | None = None,
    sync_drops_24h: int | None = None,
) -> Connection:
    """Network monitoring reports a line's state; only the given fields change."""
    changes: dict = {}
    if state is not None:
        if state not in LineState.values:
            raise DomainError(_("Unknown line state."), field="state")
        changes["state"] = state
    if last_sync_at is not None:
        changes["last_sync_at"] = last_sync_at
    if sync_drops_24h is not None:
        if sync_drops_24h < 0:
            raise DomainError(_("Sync drops cannot be negative."), field="sync_drops_24h")
        changes["sync_drops_24h"] = sync_drops_24h
    if not changes:
        raise DomainError(_("Report at least one of state, last_sync_at, sync_drops_24h."))
    changes["state_reported_at"] = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(**changes)
    if "state" in changes and changes["state"] != connection.state:
        event_record(
            customer=connection.customer,
            kind="connection.state_changed",
            actor=_actor_or_none(actor),
            data={"connection": connection.identifier, "from": connection.state, "to": state},
        )
    connection.refresh_from_db()
    return connection


@sensitive_variables("secret")
def credential_store(
    *, customer: Customer, kind: str, secret: str, connection: Connection | None = None
) -> PrivateCredential:
    """Store a private credential encrypted; nothing in the product ever shows it to agents."""
    if kind not in CredentialKind.values:
        raise DomainError(_("Unknown credential kind."), field="kind")
    return PrivateCredential.objects.create(
        customer=customer, connection=connection, kind=kind, secret_encrypted=crypto.encrypt(secret)
    )


# --- What management agrees with a customer ---------------------------------------------


def invoice_credit_left(invoice: Invoice) -> Decimal:
    """How much of the invoice is not credited yet."""
    credited = invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return invoice.amount - credited


def credit_note_problem(*, invoice: Invoice, amount: Decimal) -> str | None:
    """Why this credit note cannot be given (None: it can)."""
    if amount is None or amount <= 0:
        return _("The amount must be more than 0.")
    if amount.as_tuple().exponent < -2:
        return _("The amount has at most two decimal places.")
    left = invoice_credit_left(invoice)
    if amount > left:
        return _(
            "The amount is more than the %(left)s € of invoice %(number)s not yet credited."
        ) % {
            "left": formats.number_format(left, 2),
            "number": invoice.number,
        }
    return None


@transaction.atomic
def credit_note_create(*, invoice: Invoice, amount: Decimal, reason: str, actor) -> CreditNote:
    """A credit note against an invoice, at most what is left of it; a fully credited
    invoice is marked credited. The invoice row is locked, so two credit notes at once
    cannot together exceed it."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    problem = credit_note_problem(invoice=invoice, amount=amount)
    if problem:
        raise DomainError(problem, field="amount")
    today = timezone.localdate()
    note = CreditNote.objects.create(
        customer_id=invoice.customer_id,
        invoice=invoice,
        number=f"new-{secrets.token_hex(8)}",
        issued_on=today,
        amount=amount,
        reason=reason[:300],
    )
    # The number follows the row id: unique without a counter table, readable on paper.
    note.number = f"GS-{today:%Y}-{note.pk:06d}"
    note.save(update_fields=["number"])
    if invoice_credit_left(invoice) <= 0:
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.CREDITED)
    event_record(
        customer=invoice.customer,
        kind="invoice.credited",
        actor=_actor_or_none(actor),
        data={"invoice": invoice.number, "credit_note": note.number, "amount": str(amount)},
    )
    return note


@transaction.atomic
def contract_terminate_early(
    *, contract: Contract, end_date: date, refund_amount: Decimal, free_month: bool, actor
) -> Contract:
    """End a contract on an agreed day regardless of term and notice (management's offer),
    with the refund and, if agreed, the services free of charge for one more month.

    Refused for a contract that already ended or was ended early once: the guarded UPDATE
    lets only one of two acceptances through.
    """
    if refund_amount is None or refund_amount < 0:
        raise DomainError(_("The refund cannot be negative."), field="refund_amount")
    free_until = add_months(end_date, 1) if free_month else None
    updated = Contract.objects.filter(
        pk=contract.pk,
        early_termination_at=None,
        status__in=[ContractStatus.ACTIVE, ContractStatus.CANCELLATION_REQUESTED],
    ).update(
        status=ContractStatus.CANCELLED,
        end_date=end_date,
        early_termination_at=timezone.now(),
        refund_amount=refund_amount,
        free_until=free_until,
        updated_at=timezone.now(),
    )
    if not updated:
        raise StaleEdit(_("This contract has already ended or was already ended early."))
    event_record(
        customer=contract.customer,
        kind="contract.terminated_early",
        actor=_actor_or_none(actor),
        data={
            "contract": contract.number,
            "end_date": end_date.isoformat(),
            "refund": str(refund_amount),
            "free_until": free_until.isoformat() if free_until else None,
        },
    )
    contract.refresh_from_db()
    return contract
