"""Data protection: a customer's data download, erasure, and the retention pass.

Erasure (GDPR Art. 17) replaces a customer's personal data with a pseudonym in one
transaction and may run any number of times with the same result. What must be kept is
kept, linked to the pseudonymised customer: contracts, invoices and credit notes (German
commercial and tax law keeps them ten years: HGB § 257, AO § 147), orders, connections,
ticket references and figures, and the audit trail (with names pseudonymised). What goes:

- names, address, e-mail, date of birth, company → pseudonym or empty;
- phone numbers, private credentials, the domain auth code, the phone password hash;
- the portal login: renamed to the pseudonym, no password, disabled, sessions ended,
  API tokens revoked, two-factor devices and sign-in lock-out records deleted;
- the customer's tickets keep their reference (still searchable) but subject, contact
  e-mail and every message are replaced by a placeholder; attachments are deleted, files
  and rows (a row with its file gone would only offer a broken download, and its file
  name is personal data too);
- mails to and from them (addresses, subjects, bodies, kept raw messages), the caller
  number of their calls, their requests to management and the answers, visit notes,
  the notes on their feature-request asks, agents' notes on the customer;
- caller verifications lose the link to the customer (they still count in statistics).

Every erasure is recorded twice: as an `Erasure` row, and as one line in the erasure log
outside the database (settings.ERASURE_LOG_PATH), which `erasures_replay` reads after an
older backup was restored.
"""

import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import privacy_selectors
from customers.models import (
    Connection,
    Customer,
    CustomerNote,
    Erasure,
    PhoneNumber,
    PrivateCredential,
    VerificationAttempt,
)
from helpdesk import services as helpdesk_services
from helpdesk.choices import AuditAction
from helpdesk.errors import DomainError
from helpdesk.models import AuditEvent

log = logging.getLogger(__name__)

# What replaces removed free text. Stored data, not interface text: it stays the same
# whatever language a reader uses, and reads as "removed" in the product's language.
PLACEHOLDER = "[entfernt]"
ERASED_FIRST_NAME = "Gelöscht"
# Addresses that can never receive mail (RFC 2606 reserves .invalid).
ERASED_MAIL_DOMAIN = "erased.invalid"
REMOVED_ADDRESS = f"entfernt@{ERASED_MAIL_DOMAIN}"
REASON_MAX = 300
RETENTION_BATCH_SIZE = 500
# Free-text keys in event and notification data that may carry what a customer wrote.
FREE_TEXT_KEYS = ("subject", "note", "comment", "reason", "outcome", "text", "move_request")


def pseudonym_for(number: str) -> str:
    """A stable pseudonym for a customer number: the same after every replay and restore.

    Derived from the number only, which stays in the database anyway, so it reveals
    nothing the erased record does not already show.
    """
    return hashlib.sha256(f"helpdesk-erasure:{number}".encode()).hexdigest()[:12]


def erased_username(number: str) -> str:
    return f"geloescht-{pseudonym_for(number)}"


# --- Data download ----------------------------------------------------------------------


def customer_data_export(*, customer: Customer, actor, request=None) -> dict:
    """Everything we hold about the customer (privacy_selectors), audited as an export."""
    data = privacy_selectors.personal_data_export(customer=customer)
    helpdesk_services.audit_record(
        action=AuditAction.EXPORTED,
        request=request,
        actor=actor,
        object_type="customer",
        object_id=customer.pk,
        object_label=customer.number,
        details={"export": "personal_data"},
    )
    return data


# --- Shared scrubbing: tickets and their mail (erasure and retention) --------------------


def _data_scrub(data, *, also: tuple[str, ...] = ()) -> dict | None:
    """The event or notification data with free text replaced; None when nothing changed."""
    if not isinstance(data, dict):
        return None
    changed = False
    clean = dict(data)
    for key in (*FREE_TEXT_KEYS, *also):
        value = clean.get(key)
        if isinstance(value, str) and value and value != PLACEHOLDER:
            clean[key] = PLACEHOLDER
            changed = True
    return clean if changed else None


def _rows_scrub(queryset, *, subject_kinds: tuple[str, ...] = ()) -> int:
    """Rewrite the JSON `data` of the matching rows (events, notifications) in bulk."""
    rows = []
    candidates = queryset.filter(
        Q(data__has_any_keys=list(FREE_TEXT_KEYS)) | Q(kind__in=subject_kinds)
    ).only("pk", "kind", "data")
    for row in candidates:
        clean = _data_scrub(row.data, also=("from", "to") if row.kind in subject_kinds else ())
        if clean is not None:
            row.data = clean
            rows.append(row)
    if rows:
        queryset.model.objects.bulk_update(rows, ["data"], batch_size=500)
    return len(rows)


def _files_delete_after_commit(names: list[str]) -> None:
    """Delete stored files once the rows are gone for good (a rollback keeps both)."""
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:  # already gone, or a permissions problem to fix by hand
                log.warning("could not delete stored file %s", name)

    transaction.on_commit(delete)


def _raw_mails_clear(mails) -> int:
    """Forget the kept raw messages of these inbound mails, and the files no row needs."""
    from mail.models import InboundMail

    paths = set(mails.exclude(raw_path="").values_list("raw_path", flat=True))
    if not paths:
        return 0
    cleared = mails.exclude(raw_path="").update(raw_path="")
    still_used = set(
        InboundMail.objects.filter(raw_path__in=paths).values_list("raw_path", flat=True)
    )
    _files_delete_after_commit(sorted(paths - still_used))
    return cleared


def _outbound_scrub(mails, *, to_address: str) -> int:
    """Pseudonymise mails to the person; one still waiting is given up, never sent."""
    from mail.choices import OutboundState

    mails.filter(state=OutboundState.PENDING).update(
        state=OutboundState.FAILED, last_error="personal data removed before sending"
    )
    return mails.update(
        to_address=to_address, subject=PLACEHOLDER, body_text=PLACEHOLDER, body_html=""
    )


def _tickets_scrub(*, ticket_ids: list[int], now: datetime, to_address: str) -> Counter:
    """Replace subject, contact e-mail, messages and their mail copies of these tickets,
    delete their attachments; a handful of bulk statements whatever the number of tickets."""
    from escalation.models import Notification
    from mail.models import InboundMail, OutboundMail
    from tickets.models import Appointment, Attachment, Ticket, TicketEvent, TicketMessage

    counts = Counter()
    if not ticket_ids:
        return counts
    counts["tickets"] = Ticket.objects.filter(pk__in=ticket_ids).update(
        subject=PLACEHOLDER,
        contact_email="",
        personal_data_removed_at=Coalesce(F("personal_data_removed_at"), Value(now)),
    )
    counts["messages"] = TicketMessage.objects.filter(ticket_id__in=ticket_ids).update(
        body=PLACEHOLDER, body_html=""
    )
    attachments = Attachment.objects.filter(message__ticket_id__in=ticket_ids)
    files = list(attachments.values_list("file", flat=True))
    counts["attachments"], _detail = attachments.delete()
    _files_delete_after_commit(files)
    counts["ticket_events"] = _rows_scrub(
        TicketEvent.objects.filter(ticket_id__in=ticket_ids),
        subject_kinds=("ticket.subject_changed",),
    )
    counts["notifications"] = _rows_scrub(Notification.objects.filter(ticket_id__in=ticket_ids))
    counts["outbound_mails"] = _outbound_scrub(
        OutboundMail.objects.filter(ticket_id__in=ticket_ids), to_address=to_address
    )
    inbound = InboundMail.objects.filter(ticket_id__in=ticket_ids)
    _raw_mails_clear(inbound)
    counts["inbound_mails"] = inbound.update(from_address="", subject=PLACEHOLDER)
    counts["visits"] = Appointment.objects.filter(ticket_id__in=ticket_ids).update(
        note="", outcome="", move_request=""
    )
    return counts


# --- Erasure ----------------------------------------------------------------------------


def _erasure_log_append(entry: dict) -> None:
    """Append one line to the erasure log and flush it to disk.

    Written inside the erasure's transaction, after everything else succeeded: if the
    log cannot be written, nothing is erased (an erasure a restore would undo is worse
    than none the admin can retry). If the commit fails after the line was written, a
    later replay carries out an erasure the admin asked for: the safe direction.
    """
    path = Path(settings.ERASURE_LOG_PATH)
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        log.error("erasure log %s cannot be written: %s", path, exc.strerror)
        raise DomainError(
            _("The erasure log cannot be written, so nothing was erased. Please tell IT.")
        ) from exc


def _user_erase(*, user, username: str, request=None) -> Counter:
    """The customer's portal login: renamed, no password, disabled, every access ended."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    counts = Counter()
    old_names = {name for name in (user.get_username(), user.email) if name}
    User = get_user_model()
    # A queryset update: the erasure ends the access itself below, once, and the
    # pre-save signal would otherwise audit the still readable old name.
    User.objects.filter(pk=user.pk).update(
        username=username,
        first_name="",
        last_name="",
        email="",
        password=make_password(None),
        is_active=False,
    )
    user.refresh_from_db()
    helpdesk_services.user_access_end(user=user, request=request, reason=AuditAction.USER_DISABLED)
    counts["two_factor_devices"] = (
        TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0]
    )
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        counts["sign_in_records"] += model.objects.filter(username__in=old_names).delete()[0]
    # The audit trail keeps every entry; only the names in it change.
    trail = AuditEvent.objects
    counts["audit_entries"] += trail.filter(actor=user).pseudonymise(label_of_actor=username)
    counts["audit_entries"] += trail.filter(actor_label__in=old_names).pseudonymise(
        label_of_actor=username
    )
    counts["audit_entries"] += trail.filter(
        Q(object_type="user", object_id=str(user.pk))
        | Q(object_type="user", object_label__in=old_names)
    ).pseudonymise(label_of_object=username)
    _admin_history_relabel(user, label=username)
    return counts


def _customer_scrub(*, customer: Customer, now: datetime, request=None) -> Counter:
    """Everything but the record of the erasure itself; safe to run again."""
    from calls.models import Call
    from escalation.models import ManagementRequest, ManagementRequestEvent, Notification, Proposal
    from feature_requests.models import Ask
    from tickets.models import Ticket

    counts = Counter()
    pseudonym = pseudonym_for(customer.number)
    username = erased_username(customer.number)
    old_email = customer.email
    numbers = [
        number
        for number in PhoneNumber.objects.filter(customer=customer).values_list(
            "normalized", flat=True
        )
        if number
    ]
    mine = Q(customer=customer)
    if old_email:
        mine |= Q(contact_email__iexact=old_email)
    ticket_ids = list(Ticket.objects.filter(mine).values_list("pk", flat=True))
    counts += _tickets_scrub(
        ticket_ids=ticket_ids, now=now, to_address=f"{username}@{ERASED_MAIL_DOMAIN}"
    )
    if old_email:
        from mail.models import InboundMail, OutboundMail

        counts["outbound_mails"] += _outbound_scrub(
            OutboundMail.objects.filter(to_address__iexact=old_email),
            to_address=f"{username}@{ERASED_MAIL_DOMAIN}",
        )
        inbound = InboundMail.objects.filter(from_address__iexact=old_email)
        _raw_mails_clear(inbound)
        counts["inbound_mails"] += inbound.update(from_address="", subject=PLACEHOLDER)
    calls = Q(customer=customer)
    if numbers:
        calls |= Q(caller_normalized__in=numbers)
    counts["calls"] = Call.objects.filter(calls).update(
        caller_number="", caller_normalized="", candidates=[]
    )
    counts["phone_numbers"], _detail = PhoneNumber.objects.filter(customer=customer).delete()
    counts["stored_access_data"], _detail = PrivateCredential.objects.filter(
        customer=customer
    ).delete()
    Connection.objects.filter(customer=customer).update(auth_code_encrypted=None)
    counts["customer_notes"] = CustomerNote.objects.filter(customer=customer).update(
        text=PLACEHOLDER
    )
    counts["verification_attempts"] = VerificationAttempt.objects.filter(customer=customer).update(
        customer=None, ticket_reference=""
    )
    requests = ManagementRequest.objects.filter(customer=customer)
    request_ids = list(requests.values_list("pk", flat=True))
    counts["management_requests"] = requests.update(subject=PLACEHOLDER, text=PLACEHOLDER)
    Proposal.objects.filter(request_id__in=request_ids).update(
        findings=PLACEHOLDER, text="", customer_comment=""
    )
    _rows_scrub(ManagementRequestEvent.objects.filter(request_id__in=request_ids))
    _rows_scrub(Notification.objects.filter(management_request_id__in=request_ids))
    counts["feature_request_asks"] = Ask.objects.filter(customer=customer).update(note="")
    Customer.objects.filter(pk=customer.pk).update(
        first_name=ERASED_FIRST_NAME,
        last_name=pseudonym,
        company="",
        street="",
        postal_code="",
        city="",
        email="",
        birth_date=None,
        search_name=Customer.search_name_for(ERASED_FIRST_NAME, pseudonym),
        phone_password="",
        phone_password_set_at=None,
        verification_reset_at=None,
        verification_locked_until=None,
    )
    customer.refresh_from_db()
    if customer.user_id is not None:
        counts += _user_erase(user=customer.user, username=username, request=request)
    labels = AuditEvent.objects.filter(
        Q(object_type="customer", object_id=str(customer.pk))
        | Q(object_type="ticket", object_id__in=[str(pk) for pk in ticket_ids])
    )
    counts["audit_entries"] += labels.pseudonymise(label_of_object=customer.number)
    _admin_history_relabel(customer, label=customer.number)
    return counts


def _admin_history_relabel(obj, *, label: str) -> None:
    """Django admin's history keeps each object's name as it was when it was edited."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).update(object_repr=label)


def _reason_clean(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise DomainError(
            _("The reason can be at most %(max)d characters long.") % {"max": REASON_MAX},
            field="reason",
        )
    return reason


@transaction.atomic
def customer_erase(*, customer: Customer, actor, reason: str = "", request=None) -> Erasure:
    """Erase the customer's personal data (see the module docstring); idempotent.

    The first erasure is recorded (row, erasure log line, audit entry); a repeated call
    scrubs again whatever came in since, and is audited, but not recorded a second time.
    """
    reason = _reason_clean(reason)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    now = timezone.now()
    counts = _customer_scrub(customer=customer, now=now, request=request)
    erasure = customer.erasures.order_by("at", "id").first()
    first = erasure is None
    if first:
        erasure = Erasure.objects.create(
            customer=customer,
            customer_number=customer.number,
            at=now,
            actor=actor if actor is not None and actor.is_authenticated else None,
            reason=reason,
        )
    helpdesk_services.audit_record(
        action=AuditAction.ERASED,
        request=request,
        actor=actor if actor is not None and actor.is_authenticated else None,
        object_type="customer",
        object_id=customer.pk,
        object_label=customer.number,
        details={"repeated": not first, **{key: value for key, value in counts.items() if value}},
    )
    if first:
        _erasure_log_append(
            {
                "erasure": erasure.pk,
                "customer": customer.pk,
                "number": customer.number,
                "at": now.isoformat(),
                "actor": erasure.actor_id,
                "reason": reason,
            }
        )
    return erasure


@dataclass
class ReplayResult:
    """What `erasures_replay` did: lines read, erasures re-applied, and what was skipped."""

    entries: int = 0
    reapplied: int = 0  # the erasure row was missing (restored from before the erasure)
    confirmed: int = 0  # already recorded; scrubbed again all the same
    missing: int = 0  # no such customer in this database
    invalid: list[int] = field(default_factory=list)  # line numbers that are not entries


def _log_entries(path: Path):
    with path.open(encoding="utf-8") as log_file:
        for number, line in enumerate(log_file, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                customer_number = str(entry["number"])
                at = datetime.fromisoformat(entry["at"])
            except (ValueError, KeyError, TypeError):
                yield number, None
                continue
            yield number, (customer_number, at, str(entry.get("reason") or "")[:REASON_MAX])


def erasures_replay(*, path: Path | None = None) -> ReplayResult:
    """Apply every erasure of the log again (after restoring an older database backup).

    Each entry runs in its own transaction; re-running the whole log changes nothing more.
    """
    path = Path(path or settings.ERASURE_LOG_PATH)
    result = ReplayResult()
    if not path.exists():
        return result
    for line_number, entry in _log_entries(path):
        if entry is None:
            result.invalid.append(line_number)
            continue
        result.entries += 1
        number, at, reason = entry
        with transaction.atomic():
            customer = Customer.objects.select_for_update().filter(number=number).first()
            if customer is None:
                result.missing += 1
                continue
            counts = _customer_scrub(customer=customer, now=timezone.now())
            if customer.erasures.exists():
                result.confirmed += 1
                continue
            Erasure.objects.create(
                customer=customer, customer_number=number, at=at, actor=None, reason=reason
            )
            result.reapplied += 1
            helpdesk_services.audit_record(
                action=AuditAction.ERASED,
                actor_label="erasures_replay",
                object_type="customer",
                object_id=customer.pk,
                object_label=number,
                details={"replayed": True, "erased_at": at.isoformat(), **counts},
            )
    return result


# --- Retention --------------------------------------------------------------------------


def _tickets_due(cutoff: datetime):
    from tickets.choices import DONE_STATUSES, Status
    from tickets.models import Ticket

    # Served by the partial index ticket_retention_due. A closed ticket was resolved
    # first, so resolved_at before the cutoff is needed either way; closing counts too.
    return Ticket.objects.filter(
        status__in=sorted(DONE_STATUSES),
        personal_data_removed_at__isnull=True,
        resolved_at__lt=cutoff,
    ).exclude(status=Status.CLOSED, closed_at__gte=cutoff)


def personal_data_retention_run(
    *, now: datetime | None = None, batch_size: int = RETENTION_BATCH_SIZE
) -> dict:
    """Pseudonymise finished tickets past RETENTION_CLOSED_TICKET_DAYS and caller
    verifications past RETENTION_VERIFICATION_DAYS; idempotent, batched, audited once."""
    now = now or timezone.now()
    ticket_cutoff = now - timedelta(days=settings.RETENTION_CLOSED_TICKET_DAYS)
    totals = Counter()
    while True:
        with transaction.atomic():
            ids = list(
                _tickets_due(ticket_cutoff)
                .order_by("resolved_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            totals += _tickets_scrub(ticket_ids=ids, now=now, to_address=REMOVED_ADDRESS)
        if len(ids) < batch_size:
            break
    verification_cutoff = now - timedelta(days=settings.RETENTION_VERIFICATION_DAYS)
    # One UPDATE over the partial index verif_retention_due.
    totals["verification_attempts"] = VerificationAttempt.objects.filter(
        customer__isnull=False, created_at__lt=verification_cutoff
    ).update(customer=None, ticket_reference="")
    counts = {
        "tickets": totals["tickets"],
        "messages": totals["messages"],
        "attachments": totals["attachments"],
        "verification_attempts": totals["verification_attempts"],
    }
    helpdesk_services.audit_record(
        action=AuditAction.PSEUDONYMISED,
        actor_label="retention",
        object_type="retention",
        details={
            **counts,
            "ticket_days": settings.RETENTION_CLOSED_TICKET_DAYS,
            "verification_days": settings.RETENTION_VERIFICATION_DAYS,
        },
    )
    return counts
