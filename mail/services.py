"""Outbound mail: the outbox (STYLE R2). Inbound processing lives in `mail.inbound`.

The two halves share only the models, so they are two modules rather than one of more
than 800 lines.

A mail to a customer is an `OutboundMail` row written in the transaction of the change
that causes it (new ticket, public reply, status change), already rendered in the
customer's language. After commit a task sends it; a pass every minute sends whatever a
lost task or a failed attempt left pending. Each attempt first claims the row with a
conditional UPDATE that pushes `next_attempt_at` past the time a send can take, so two
workers never send the same row at once. The `Message-ID` is fixed in the row: should a
worker die after the mail server accepted the mail but before the row was marked sent,
the retry carries the same Message-ID and receivers treat it as the same mail.
"""

import logging
import re
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpdesk import permissions as roles
from helpdesk import services as helpdesk_services
from mail.choices import OutboundKind, OutboundState
from mail.models import InboundMail, OutboundMail
from tickets.choices import MessageKind, Status

log = logging.getLogger(__name__)

# Statuses the customer hears about by mail when an agent sets them without a reply. A
# reply that changes the status says so itself; "waiting for customer" always comes with
# the question, and closing follows resolving, which was already announced.
STATUS_MAILED = {Status.RESOLVED, Status.SCHEDULED, Status.WAITING_THIRD_PARTY}

# A claimed row is left alone this long: longer than any SMTP conversation (EMAIL_TIMEOUT
# is 20 s per operation), so a worker that died mid-send is retried, a slow one is not.
CLAIM_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 6
RETRY_AFTER = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
]
REFERENCES_KEPT = 10
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def header_safe(value: str, *, maximum: int = 200) -> str:
    """A single header line: control characters (CR, LF, NUL, tabs) become one space, so
    user text in a subject can never start a new header."""
    return _HEADER_UNSAFE.sub(" ", value).strip()[:maximum]


def _message_id_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"


def _new_message_id(reference: str, kind: str) -> str:
    return f"<{reference}.{kind}.{secrets.token_hex(8)}@{_message_id_domain()}>"


def _address_of(ticket) -> str:
    address = ticket.contact_email or (ticket.customer.email if ticket.customer_id else "")
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _language_of(ticket) -> str:
    if ticket.customer_id and ticket.customer.language:
        return ticket.customer.language
    return settings.LANGUAGE_CODE


def _thread_of(ticket) -> tuple[str, str]:
    """In-Reply-To and References for the next mail on the ticket (one query).

    The customer's mail program threads on these: the thread starts at our first mail
    (usually the acknowledgement) or at the customer's first mail, and the next mail
    answers the latest one the customer sent, else our latest.
    """
    ours = OutboundMail.objects.filter(ticket=ticket).values_list(
        "message_id", "created_at", Value(False)
    )
    theirs = InboundMail.objects.filter(ticket=ticket, ticket_message__isnull=False).values_list(
        "message_id", "received_at", Value(True)
    )
    chain = sorted(ours.union(theirs, all=True), key=lambda row: row[1])
    if not chain:
        return "", ""
    ids = [row[0] for row in chain]
    kept = ids[:1] + ids[1:][-(REFERENCES_KEPT - 1) :]
    from_customer = [row[0] for row in chain if row[2]]
    return (from_customer[-1] if from_customer else ids[-1]), " ".join(kept)


def _portal_link(ticket) -> str:
    return settings.SITE_URL + reverse("portal_tickets:ticket-detail", args=[ticket.reference])


def _render(
    *,
    ticket,
    kind: str,
    subject: str,
    context: dict,
    ticket_message=None,
    now=None,
    in_reply_to: str = "",
    references: str = "",
) -> OutboundMail | None:
    """One unsaved outbox row rendered in the customer's language; None without address."""
    address = _address_of(ticket)
    if not address:
        return None
    language = _language_of(ticket)
    with translation.override(language):
        context = {
            "ticket": ticket,
            "customer": ticket.customer,
            "portal_link": _portal_link(ticket),
            "LANGUAGE_CODE": language,
            **context,
        }
        subject_line = header_safe(f"[#{ticket.reference}] {subject}")
        body_text = render_to_string(f"mail/{kind}.txt", context)
        body_html = render_to_string(f"mail/{kind}.html", context)
    return OutboundMail(
        ticket=ticket,
        ticket_message=ticket_message,
        kind=kind,
        to_address=address,
        language=language,
        subject=subject_line,
        body_text=body_text,
        body_html=body_html,
        message_id=_new_message_id(ticket.reference, kind),
        in_reply_to=in_reply_to,
        references=references,
        created_at=now or timezone.now(),
        next_attempt_at=now or timezone.now(),
    )


def _send_after_commit(mail_ids: list[int]) -> None:
    from mail import tasks  # tasks import services: import here, not at module level

    for mail_id in mail_ids:
        transaction.on_commit(
            partial(helpdesk_services.task_enqueue, tasks.outbound_mail_send_task, mail_id)
        )


def _queue(
    *,
    ticket,
    kind: str,
    subject: str,
    context: dict,
    ticket_message=None,
    now=None,
    first: bool = False,
    answering: str = "",
):
    """Render and store one mail in the customer's language; None when there is no address.

    `first` says the ticket has no mail yet (it is being created), which saves a query;
    `answering` is then the Message-ID of the customer's mail that opened it, if any.
    """
    if not _address_of(ticket):
        return None
    in_reply_to, references = (answering, answering) if first else _thread_of(ticket)
    outbound = _render(
        ticket=ticket,
        kind=kind,
        subject=subject,
        context=context,
        ticket_message=ticket_message,
        now=now,
        in_reply_to=in_reply_to,
        references=references,
    )
    outbound.save()
    _send_after_commit([outbound.pk])
    return outbound


# --- What the tickets app asks for ------------------------------------------------------


def ticket_acknowledgement_queue(
    *, ticket, now: datetime | None = None, answering: str = ""
) -> OutboundMail | None:
    """Confirm a new request to the customer, with its reference to quote; `answering` is
    the Message-ID of the e-mail that opened the ticket, so the mail threads under it."""
    with translation.override(_language_of(ticket)):
        subject = _("We have received your request: %(subject)s") % {"subject": ticket.subject}
    return _queue(
        ticket=ticket,
        kind=OutboundKind.ACKNOWLEDGEMENT,
        subject=subject,
        context={},
        now=now,
        first=True,
        answering=answering,
    )


def ticket_reply_queue(*, message, status_changed_to: str = "") -> OutboundMail | None:
    """Mail an agent's public reply; says so when the reply also changed the status."""
    if message.kind != MessageKind.REPLY:
        raise ValueError("only public replies are mailed")
    ticket = message.ticket
    with translation.override(_language_of(ticket)):
        status = Status(status_changed_to).label if status_changed_to else ""
        context = {
            "message": message,
            "agent_name": message.author.get_full_name() if message.author else "",
            "status": str(status),
        }
    return _queue(
        ticket=ticket,
        kind=OutboundKind.REPLY,
        subject=ticket.subject,
        context=context,
        ticket_message=message,
        now=message.created_at,
    )


def ticket_status_mail_queue(*, ticket, old: str, new: str, actor):
    """Tell the customer about a status an agent or the system set; None when not mailed."""
    if new not in STATUS_MAILED or old == new:
        return None
    if actor is not None and roles.is_customer(actor):
        return None  # they did it themselves
    with translation.override(_language_of(ticket)):
        subject = _("%(status)s: %(subject)s") % {
            "status": Status(new).label,
            "subject": ticket.subject,
        }
        context = {
            "status": new,
            "status_label": str(Status(new).label),
            "reopen_days": settings.TICKET_REOPEN_DAYS,
        }
    return _queue(ticket=ticket, kind=OutboundKind.STATUS, subject=subject, context=context)


def outage_mails_queue(*, tickets, outage, text: str, resolved: bool, now: datetime) -> int:
    """Tell the customers of a batch of linked tickets about an outage; one insert.

    Mass mail for up to a batch of tickets: rendered one by one in each customer's
    language, stored with one bulk insert, sent by one task each after commit. These mails
    carry no In-Reply-To: reading each ticket's thread would cost a query per ticket, and
    the [#reference] in the subject still files them under the request.
    """
    rows = []
    for ticket in tickets:
        with translation.override(_language_of(ticket)):
            if resolved:
                subject = _("Outage resolved: %(title)s") % {"title": outage.title}
            else:
                subject = _("Outage update: %(title)s") % {"title": outage.title}
        row = _render(
            ticket=ticket,
            kind=OutboundKind.OUTAGE,
            subject=subject,
            context={"outage": outage, "text": text, "resolved": resolved},
            now=now,
        )
        if row is not None:
            rows.append(row)
    OutboundMail.objects.bulk_create(rows)
    _send_after_commit([row.pk for row in rows])
    return len(rows)


def appointment_mail_queue(*, appointment, event: str) -> OutboundMail | None:
    """Confirm, move, cancel or apologise for a technician visit to the customer.

    `event` is one of booked, proposed, rescheduled, cancelled, missed.
    """
    ticket = appointment.ticket
    with translation.override(_language_of(ticket)):
        subjects = {
            "booked": _("Technician visit confirmed"),
            "proposed": _("Technician visit proposed"),
            "rescheduled": _("Technician visit moved"),
            "cancelled": _("Technician visit cancelled"),
            "missed": _("Technician visit missed"),
        }
        subject = f"{subjects[event]}: {ticket.subject}"
    return _queue(
        ticket=ticket,
        kind=OutboundKind.APPOINTMENT,
        subject=subject,
        context={"appointment": appointment, "window": appointment.window, "event": event},
    )


def management_mail_queue(
    *, request, event: str, proposal=None, text: str = ""
) -> OutboundMail | None:
    """Tell the customer where their request to management stands.

    `event` is one of received (written in the portal), escalated (an agent passed their
    ticket on), proposal (a new proposal to answer in the portal), settled (accepted,
    with what is carried out).
    """
    ticket = request.ticket
    with translation.override(_language_of(ticket)):
        subjects = {
            "received": _("Your request to management has been received"),
            "escalated": _("Your request is now with our management"),
            "proposal": _("Our proposal for your request"),
            "settled": _("Thank you for your agreement"),
        }
        subject = f"{subjects[event]}: {request.subject}"
    return _queue(
        ticket=ticket,
        kind=OutboundKind.MANAGEMENT,
        subject=subject,
        context={
            "request": request,
            "proposal": proposal,
            "proposal_text": text,
            "event": event,
            "request_link": settings.SITE_URL
            + reverse("portal_management:request-detail", args=[request.pk]),
        },
    )


# --- Sending ------------------------------------------------------------------------------


def _claim(pk: int, now: datetime) -> bool:
    return bool(
        OutboundMail.objects.filter(
            pk=pk, state=OutboundState.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + CLAIM_FOR, attempts=F("attempts") + 1)
    )


def _email_of(outbound: OutboundMail) -> EmailMultiAlternatives:
    headers = {"Message-ID": outbound.message_id}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = outbound.in_reply_to
        headers["References"] = outbound.references
    if outbound.kind != OutboundKind.REPLY:
        # RFC 3834: automatic mail. Well-behaved autoresponders do not answer it, which
        # keeps two helpdesks from mailing each other forever.
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    # Our own mail coming back (a forwarding loop) is recognised by this on the way in.
    headers["X-Loop"] = header_safe(settings.DEFAULT_FROM_EMAIL)
    email = EmailMultiAlternatives(
        subject=header_safe(outbound.subject),
        body=outbound.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[outbound.to_address],
        headers=headers,
    )
    if outbound.body_html:
        email.attach_alternative(outbound.body_html, "text/html")
    return email


def outbound_mail_send(*, mail_id: int, now: datetime | None = None) -> bool:
    """Send one outbox row if it is due; True when the mail server accepted it.

    A failure leaves the row pending with a later attempt time (1, 5, 15 minutes, 1 and
    4 hours); after MAX_ATTEMPTS it is marked failed and stays visible in the admin.
    """
    now = now or timezone.now()
    if not _claim(mail_id, now):
        return False  # sent, failed for good, not due, or another worker has it
    outbound = OutboundMail.objects.get(pk=mail_id)
    try:
        _email_of(outbound).send()
    except OSError as exc:  # smtplib's errors are OSErrors
        error = header_safe(f"{type(exc).__name__}: {exc}", maximum=500)
        if outbound.attempts >= MAX_ATTEMPTS:
            changes = {"state": OutboundState.FAILED}
            log.error("mail %s failed for good after %s attempts", outbound.pk, outbound.attempts)
        else:
            delay = RETRY_AFTER[min(outbound.attempts, len(RETRY_AFTER)) - 1]
            changes = {"next_attempt_at": now + delay}
            log.warning("mail %s not sent (attempt %s), retrying", outbound.pk, outbound.attempts)
        OutboundMail.objects.filter(pk=outbound.pk).update(last_error=error, **changes)
        return False
    OutboundMail.objects.filter(pk=outbound.pk).update(
        state=OutboundState.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def outbound_mails_due_send(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send every pending row that is due (a lost task, a retry); returns how many went out."""
    now = now or timezone.now()
    ids = list(
        OutboundMail.objects.filter(state=OutboundState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(outbound_mail_send(mail_id=pk, now=now) for pk in ids)


def outbound_mails_retry(*, mail_ids: list[int], now: datetime | None = None) -> int:
    """Give failed mails a fresh round of attempts (e.g. after the mail server was fixed);
    returns how many. Pending and sent mails are left as they are."""
    now = now or timezone.now()
    ids = list(
        OutboundMail.objects.filter(pk__in=mail_ids, state=OutboundState.FAILED).values_list(
            "pk", flat=True
        )
    )
    OutboundMail.objects.filter(pk__in=ids, state=OutboundState.FAILED).update(
        state=OutboundState.PENDING, attempts=0, next_attempt_at=now
    )
    from mail import tasks

    for pk in ids:
        transaction.on_commit(
            partial(helpdesk_services.task_enqueue, tasks.outbound_mail_send_task, pk)
        )
    return len(ids)
