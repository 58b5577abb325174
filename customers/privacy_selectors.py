"""Reads for data protection: everything we hold about one customer, as plain data.

`personal_data_export` is what the portal's "My data" download returns (GDPR Art. 15 and
20). It is built from a fixed set of queries, one per kind of record, whatever the
customer's history holds. What is never in it: private credentials and domain auth codes
(secrets, not data about the person), the phone password's hash, internal notes and the
attachments of internal notes, and the names of the staff who worked on the requests.
"""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    Invoice,
    Order,
    PhoneNumber,
    VerificationAttempt,
)
from helpdesk.choices import AuditAction
from helpdesk.models import AuditEvent

EXPORT_FORMAT = "helpdesk-personal-data/1"


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, fields: list[str]) -> dict:
    return {field: _value(getattr(obj, field)) for field in fields}


def export_filename(customer: Customer) -> str:
    """`meine-daten-K1234567.json`: the number is K and seven digits, safe in a header."""
    return f"meine-daten-{customer.number}.json"


def _customer_part(customer: Customer) -> dict:
    data = _row(
        customer,
        [
            "number",
            "first_name",
            "last_name",
            "company",
            "street",
            "postal_code",
            "city",
            "email",
            "birth_date",
            "language",
            "segment",
            "created_at",
        ],
    )
    # Whether a phone password is set and since when; never the hash.
    data["phone_password_set"] = customer.has_phone_password
    data["phone_password_set_at"] = _value(customer.phone_password_set_at)
    return data


def _login_part(customer: Customer) -> dict | None:
    if customer.user_id is None:
        return None
    user = (
        get_user_model()
        .objects.filter(pk=customer.user_id)
        .only("username", "first_name", "last_name", "email", "date_joined", "last_login")
        .first()
    )
    if user is None:
        return None
    return _row(user, ["username", "first_name", "last_name", "email", "date_joined", "last_login"])


def _tickets_part(customer: Customer) -> tuple[list[dict], list[dict]]:
    """The customer's tickets with their public conversation, and the attachments list."""
    from tickets.choices import PUBLIC_MESSAGE_KINDS
    from tickets.models import Attachment, Ticket, TicketMessage

    tickets = list(
        Ticket.objects.filter(customer=customer)
        .only(
            "reference",
            "subject",
            "contact_email",
            "channel",
            "status",
            "created_at",
            "resolved_at",
            "closed_at",
        )
        .order_by("created_at", "id")
    )
    by_id = {}
    rows = []
    for ticket in tickets:
        row = _row(
            ticket,
            [
                "reference",
                "subject",
                "contact_email",
                "channel",
                "status",
                "created_at",
                "resolved_at",
                "closed_at",
            ],
        )
        row["messages"] = []
        by_id[ticket.pk] = row
        rows.append(row)
    public = sorted(PUBLIC_MESSAGE_KINDS)
    messages = TicketMessage.objects.filter(ticket__customer=customer, kind__in=public).only(
        "ticket_id", "kind", "channel", "body", "created_at"
    )
    by_message = {}
    for message in messages.order_by("created_at", "id"):
        entry = _row(message, ["kind", "channel", "created_at", "body"])
        entry["attachments"] = []
        by_message[message.pk] = entry
        if message.ticket_id in by_id:
            by_id[message.ticket_id]["messages"].append(entry)
    attachments = []
    files = (
        Attachment.objects.filter(message__ticket__customer=customer, message__kind__in=public)
        .select_related("message__ticket")
        .only(
            "filename",
            "size",
            "content_type",
            "created_at",
            "message_id",
            "message__ticket__reference",
        )
        .order_by("created_at", "id")
    )
    for attachment in files:
        entry = _row(attachment, ["filename", "size", "content_type", "created_at"])
        entry["ticket"] = attachment.message.ticket.reference
        attachments.append(entry)
        if attachment.message_id in by_message:
            by_message[attachment.message_id]["attachments"].append(entry["filename"])
    return rows, attachments


def _visits_part(customer: Customer) -> list[dict]:
    from tickets.models import Appointment

    visits = (
        Appointment.objects.filter(ticket__customer=customer)
        .select_related("ticket", "window__region")
        .order_by("created_at", "id")
    )
    return [
        {
            "ticket": visit.ticket.reference,
            "date": _value(visit.window.date),
            "from": visit.window.starts.isoformat(timespec="minutes"),
            "until": visit.window.ends.isoformat(timespec="minutes"),
            "region": visit.window.region.name,
            "status": visit.status,
            "missed_reason": visit.missed_reason,
            "move_requested_at": _value(visit.move_requested_at),
            "move_request": visit.move_request,
        }
        for visit in visits
    ]


def _management_part(customer: Customer) -> list[dict]:
    from escalation.models import ManagementRequest, Proposal

    requests = list(
        ManagementRequest.objects.filter(customer=customer)
        .select_related("ticket")
        .order_by("created_at", "id")
    )
    rows = {}
    for request in requests:
        row = _row(request, ["source", "subject", "text", "status", "created_at", "settled_at"])
        row["ticket"] = request.ticket.reference
        row["proposals"] = []
        rows[request.pk] = row
    proposals = Proposal.objects.filter(request__customer=customer).order_by("created_at", "id")
    for proposal in proposals:
        entry = _row(
            proposal,
            [
                "kind",
                "findings",
                "text",
                "amount",
                "end_date",
                "refund_amount",
                "free_month",
                "status",
                "customer_comment",
                "created_at",
                "answered_at",
            ],
        )
        if proposal.request_id in rows:
            rows[proposal.request_id]["proposals"].append(entry)
    return list(rows.values())


def _feature_asks_part(customer: Customer) -> list[dict]:
    from feature_requests.models import Ask

    asks = (
        Ask.objects.filter(customer=customer)
        .select_related("request", "ticket")
        .order_by("created_at", "id")
    )
    return [
        {
            "feature_request": ask.request.title,
            "status": ask.request.status,
            "kind": ask.kind,
            "asked_at": _value(ask.created_at),
            "ticket": ask.ticket.reference if ask.ticket_id else None,
        }
        for ask in asks
    ]


def personal_data_export(*, customer: Customer, now: datetime | None = None) -> dict:
    """Everything we hold about the customer, machine-readable (fixed number of queries)."""
    tickets, attachments = _tickets_part(customer)
    phones = PhoneNumber.objects.filter(customer=customer).order_by("kind", "number")
    contracts = Contract.objects.filter(customer=customer).select_related("product").order_by("id")
    credit_notes = (
        CreditNote.objects.filter(customer=customer).select_related("invoice").order_by("id")
    )
    connections = (
        Connection.objects.filter(customer=customer).select_related("contract").order_by("id")
    )
    sign_ins = AuditEvent.objects.filter(
        actor_id=customer.user_id, action=AuditAction.LOGIN
    ).order_by("at", "id")
    attempts = VerificationAttempt.objects.filter(customer=customer).order_by("created_at", "id")
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _value(now or timezone.now()),
        "customer": _customer_part(customer),
        "login": _login_part(customer),
        "phone_numbers": [_row(phone, ["kind", "number"]) for phone in phones],
        "contracts": [
            {
                **_row(
                    contract,
                    [
                        "number",
                        "start_date",
                        "minimum_term_months",
                        "notice_period_months",
                        "monthly_price",
                        "status",
                        "cancellation_requested_at",
                        "end_date",
                        "prepaid_until",
                        "early_termination_at",
                        "refund_amount",
                        "free_until",
                    ],
                ),
                "product": contract.product.name,
            }
            for contract in contracts
        ],
        "invoices": [
            _row(invoice, ["number", "issued_on", "due_on", "amount", "status"])
            for invoice in Invoice.objects.filter(customer=customer).order_by("issued_on", "id")
        ],
        "credit_notes": [
            {
                **_row(note, ["number", "issued_on", "amount", "reason"]),
                "invoice": note.invoice.number if note.invoice_id else None,
            }
            for note in credit_notes
        ],
        "orders": [
            _row(order, ["kind", "description", "status", "tracking_number", "created_at"])
            for order in Order.objects.filter(customer=customer).order_by("created_at", "id")
        ],
        # Line data only: credentials and auth codes are secrets and never leave us.
        "connections": [
            {
                **_row(line, ["kind", "identifier", "state", "last_sync_at", "sync_drops_24h"]),
                "contract": line.contract.number if line.contract_id else None,
            }
            for line in connections
        ],
        "tickets": tickets,
        "attachments": attachments,
        "visits": _visits_part(customer),
        "management_requests": _management_part(customer),
        "feature_requests": _feature_asks_part(customer),
        "verification_attempts": [
            _row(attempt, ["created_at", "method", "channel", "result"]) for attempt in attempts
        ],
        "sign_ins": [
            {"at": _value(event.at), "ip_address": event.ip_address}
            for event in (sign_ins if customer.user_id else [])
        ],
    }
