"""Every state change of the tickets app: one function per use case (STYLE R2, R3).

Each function runs in one transaction, writes its ticket events in it, and enqueues side
effects (mail) only after commit. Ticket rows change through `_apply`, a guarded UPDATE
on the version the caller saw, so a stale edit is refused instead of overwriting.
"""

import difflib
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePath

import filetype
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import Language, ServiceKind
from customers.models import Customer
from escalation import services as sla
from helpdesk import permissions as roles
from helpdesk.errors import DomainError, StaleEdit
from mail import services as mail
from tickets import permissions
from tickets.choices import MOVES, OPEN_STATUSES, Channel, MessageKind, Priority, Status
from tickets.models import (
    TEXT_MODULE_PLACEHOLDER_RE,
    TEXT_MODULE_PLACEHOLDERS,
    Agent,
    Attachment,
    Department,
    Queue,
    SupportArea,
    TextModule,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketMessage,
)

SUBJECT_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000

# Allowed attachments: extension → the types its first bytes may show. `None` marks plain
# text, which has no signature and is checked by decoding instead.
ATTACHMENT_TYPES: dict[str, set[str] | None] = {
    ".pdf": {"application/pdf"},
    ".png": {"image/png"},
    ".jpg": {"image/jpeg"},
    ".jpeg": {"image/jpeg"},
    ".gif": {"image/gif"},
    ".webp": {"image/webp"},
    ".txt": None,
    ".log": None,
    ".csv": None,
    ".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    ".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    ".odt": {"application/vnd.oasis.opendocument.text"},
    ".ods": {"application/vnd.oasis.opendocument.spreadsheet"},
}
TEXT_CONTENT_TYPE = "text/plain"


def event_record(
    *, ticket: Ticket, kind: str, actor, data: dict | None = None, now: datetime | None = None
) -> TicketEvent:
    """Append one event to the ticket's history (STYLE R4); `actor=None` is the system."""
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=_actor_or_none(actor),
        data=data or {},
        created_at=now or timezone.now(),
    )


def _actor_or_none(actor) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _apply(ticket: Ticket, *, expected_version: int | None, now: datetime, **changes) -> None:
    """Write `changes` only if the ticket is still at the version the caller saw."""
    version = ticket.version if expected_version is None else expected_version
    changed = Ticket.objects.filter(pk=ticket.pk, version=version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if not changed:
        raise StaleEdit(_("Someone else changed this ticket meanwhile; reload it and try again."))
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.version = version + 1
    ticket.updated_at = now


def _clean_text(raw: str, *, field: str, empty: str, maximum: int) -> str:
    text = (raw or "").strip()
    if not text:
        raise DomainError(empty, field=field)
    if len(text) > maximum:
        raise DomainError(
            _("This text is too long: at most %(max)d characters, not %(count)d.")
            % {"max": maximum, "count": len(text)},
            field=field,
        )
    if "\x00" in text:
        raise DomainError(_("This text contains invalid characters."), field=field)
    return text


# Direction overrides and isolates make a subject read differently from what it is
# ("Trojan Source"); a subject shows in lists and mail headers, so they are dropped there.
# Message texts keep them: right-to-left writers may need them, and a message stands alone.
_DIRECTION_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _clean_subject(raw: str) -> str:
    # One line: no newlines in mail headers.
    subject = " ".join((raw or "").translate(_DIRECTION_CONTROLS).split())
    return _clean_text(
        subject,
        field="subject",
        empty=_("Give the request a subject."),
        maximum=SUBJECT_MAX_LENGTH,
    )


def _clean_body(raw: str) -> str:
    return _clean_text(
        raw,
        field="body",
        empty=_("Write a message first."),
        maximum=settings.TICKET_MESSAGE_MAX_CHARS,
    )


def _clean_note(raw: str, *, field: str, empty: str) -> str:
    return _clean_text(raw, field=field, empty=empty, maximum=NOTE_MAX_LENGTH)


def _refuse_when_closed(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise DomainError(_("This ticket is closed; nothing more can be added to it."))


def _refuse_when_done(ticket: Ticket, message: str) -> None:
    if ticket.is_done:
        raise DomainError(message)


# --- Reference numbers ------------------------------------------------------------------


def reference_next(*, year: int) -> str:
    """The next reference of the year, e.g. `2026-004711`; must run inside a transaction.

    The UPDATE locks the year's counter row until commit, so two creations never get the
    same number and a rolled-back creation does not burn one. RETURNING (PostgreSQL,
    SQLite 3.35+) reads the new value in the same statement.
    """
    table = connection.ops.quote_name(TicketCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                TicketCounter.objects.create(year=year, last=1)
            return f"{year}-{1:06d}"
        except IntegrityError:  # another creation made the year's row first
            return reference_next(year=year)
    return f"{year}-{row[0]:06d}"


# --- Attachments ------------------------------------------------------------------------


def attachment_problem(upload: UploadedFile) -> str | None:
    """Why this upload is refused (size, type, content not matching its name), or None."""
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        return _("%(name)s is too large: at most %(limit)d MB per file.") % {
            "name": upload.name,
            "limit": limit // (1024 * 1024),
        }
    if upload.size == 0:
        return _("%(name)s is empty.") % {"name": upload.name}
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in ATTACHMENT_TYPES:
        return _("%(name)s: this file type is not accepted. Allowed: %(types)s.") % {
            "name": upload.name,
            "types": ", ".join(sorted(ext.lstrip(".") for ext in ATTACHMENT_TYPES)),
        }
    if _sniffed_type(upload, extension) is None:
        return _("%(name)s: the content does not match the file type.") % {"name": upload.name}
    return None


def _sniffed_type(upload: UploadedFile, extension: str) -> str | None:
    """The content type the bytes prove, if it is one allowed for the extension."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    expected = ATTACHMENT_TYPES[extension]
    if expected is None:
        if b"\x00" in head:
            return None
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # a character cut at the 8 KB edge is fine
                try:
                    head.decode("cp1252")
                except UnicodeDecodeError:
                    return None
        return TEXT_CONTENT_TYPE
    kind = filetype.guess(head)
    if kind is None or kind.mime not in expected:
        return None
    return kind.mime


def _attachments_check(uploads: list[UploadedFile]) -> None:
    if len(uploads) > settings.TICKET_ATTACHMENTS_PER_MESSAGE:
        raise DomainError(
            _("At most %(count)d files per message.")
            % {"count": settings.TICKET_ATTACHMENTS_PER_MESSAGE},
            field="attachments",
        )
    for upload in uploads:
        problem = attachment_problem(upload)
        if problem:
            raise DomainError(problem, field="attachments")


def _attachments_store(message: TicketMessage, uploads: list[UploadedFile]) -> None:
    for upload in uploads:
        extension = PurePath(upload.name).suffix.lower()
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        attachment = Attachment(
            message=message,
            token=secrets.token_hex(16),
            filename=PurePath(upload.name).name[:200],
            content_type=_sniffed_type(upload, extension) or "application/octet-stream",
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        # Input is checked before anything is written, so only a database failure after
        # this point can leave a file without its row (swept by nothing yet: see README).
        attachment.file.save(attachment.token, upload, save=False)
        attachment.save()


def _message_add(
    *,
    ticket: Ticket,
    kind: str,
    author,
    body: str,
    channel: str,
    attachments: Iterable[UploadedFile] = (),
    now: datetime,
    touch_ticket: bool = True,
    body_html: str = "",
) -> TicketMessage:
    uploads = list(attachments)
    _attachments_check(uploads)
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=kind,
        author=_actor_or_none(author),
        body=body,
        body_html=body_html,
        channel=channel,
        created_at=now,
    )
    _attachments_store(message, uploads)
    if touch_ticket and kind != MessageKind.NOTE:
        # Not a change of the ticket's fields, so no version bump: a reply does not make
        # a colleague's open priority form stale.
        Ticket.objects.filter(pk=ticket.pk).update(last_message_at=now, updated_at=now)
        ticket.last_message_at = ticket.updated_at = now
    return message


# --- Creating tickets and writing messages ---------------------------------------------


def line_snapshot(customer: Customer) -> list[dict]:
    """The customer's lines as network monitoring last reported them (one query)."""
    return [
        {
            "kind": line.kind,
            "identifier": line.identifier,
            "state": line.state,
            "last_sync_at": line.last_sync_at.isoformat() if line.last_sync_at else None,
            "sync_drops_24h": line.sync_drops_24h,
            "flapping": line.has_unstable_sync,
            "reported_at": line.state_reported_at.isoformat() if line.state_reported_at else None,
        }
        for line in customer.connections.exclude(
            kind__in=[ServiceKind.DOMAIN, ServiceKind.EMAIL]
        ).order_by("kind", "id")
    ]


@transaction.atomic
def ticket_create(
    *,
    customer: Customer | None,
    subject: str,
    body: str,
    channel: str,
    support_area: SupportArea,
    actor,
    priority: int = Priority.NORMAL,
    contact_email: str = "",
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
    acknowledge: bool = True,
    body_html: str = "",
    outage=None,
) -> Ticket:
    """Open a ticket in the support area's first queue with the request as first message.

    For phone and letter tickets the agent types the request on the caller's behalf; it
    is still the customer's message (shown to them in the portal). `acknowledge=False`
    sends no acknowledgement mail (a call solved while the customer is on the line).
    `body_html` is the sanitised HTML part of an inbound e-mail, `body` its text.
    `outage` links the new ticket to an active outage the agent accepted as its cause.
    The customer's lines are copied onto the ticket as they are now (`line_snapshot`).
    """
    now = now or timezone.now()
    subject = _clean_subject(subject)
    body = _clean_body(body)
    if channel not in Channel.values:
        raise DomainError(_("Unknown channel."), field="channel")
    if priority not in Priority.values:
        raise DomainError(_("Unknown priority."), field="priority")
    if not support_area.is_active:
        raise DomainError(_("This support area is no longer in use."), field="support_area")
    if customer is None and not contact_email:
        raise DomainError(_("A ticket needs a customer or a contact e-mail."), field="customer")
    if outage is not None:
        from tickets.services import outages  # it imports this module

        if not outages.outage_active_lock(outage):
            raise DomainError(_("This outage is already resolved."), field="outage")
    ticket = Ticket.objects.create(
        reference=reference_next(year=timezone.localtime(now).year),
        customer=customer,
        contact_email=contact_email or (customer.email if customer else ""),
        subject=subject,
        channel=channel,
        support_area=support_area,
        queue=support_area.first_queue,
        priority=priority,
        status=Status.NEW,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        outage=outage,
        line_snapshot=line_snapshot(customer) if customer else [],
    )
    _message_add(
        ticket=ticket,
        kind=MessageKind.CUSTOMER,
        author=actor,
        body=body,
        channel=channel,
        attachments=attachments,  # checked before any file is written; a refusal rolls back
        now=now,
        touch_ticket=False,
        body_html=body_html,
    )
    event_record(
        ticket=ticket,
        kind="ticket.created",
        actor=actor,
        data={
            "channel": channel,
            "queue": ticket.queue_id,
            "support_area": support_area.pk,
            "priority": priority,
            **({"outage": outage.pk} if outage else {}),
        },
        now=now,
    )
    sla.clocks_start(ticket=ticket, actor=actor, now=now)
    if acknowledge:
        mail.ticket_acknowledgement_queue(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor,
    body: str,
    attachments: Iterable[UploadedFile] = (),
    status: str | None = None,
    expected_version: int | None = None,
    mail_customer: bool = True,
) -> TicketMessage:
    """An agent's public reply: shown in the portal and mailed to the customer after commit.

    The first reply stamps the first response; a new ticket becomes open, or takes the
    status the agent chose with the reply (e.g. waiting for customer). `mail_customer=False`
    when the caller sends its own mail about it (a proposal of management).
    """
    now = timezone.now()
    _refuse_when_closed(ticket)
    body = _clean_body(body)
    message = _message_add(
        ticket=ticket,
        kind=MessageKind.REPLY,
        author=actor,
        body=body,
        channel=Channel.EMAIL,
        attachments=attachments,
        now=now,
    )
    if ticket.first_response_at is None:
        Ticket.objects.filter(pk=ticket.pk, first_response_at=None).update(first_response_at=now)
        ticket.first_response_at = now
    sla.clocks_reply(ticket=ticket, actor=actor, now=now)
    target = status or (Status.OPEN if ticket.status == Status.NEW else None)
    status_changed_to = ""
    if target and target != ticket.status:
        # The reply mail names the new status; no second mail about it.
        ticket_transition(
            ticket=ticket, to=target, actor=actor, expected_version=expected_version, notify=False
        )
        status_changed_to = target if status else ""
    event_record(ticket=ticket, kind="message.replied", actor=actor, data={"message": message.pk})
    if mail_customer:
        mail.ticket_reply_queue(message=message, status_changed_to=status_changed_to)
    return message


@transaction.atomic
def ticket_note_add(
    *, ticket: Ticket, actor, body: str, attachments: Iterable[UploadedFile] = ()
) -> TicketMessage:
    """An internal note: for colleagues only, never shown or sent to the customer."""
    now = timezone.now()
    body = _clean_body(body)
    message = _message_add(
        ticket=ticket,
        kind=MessageKind.NOTE,
        author=actor,
        body=body,
        channel=ticket.channel,
        attachments=attachments,
        now=now,
    )
    event_record(ticket=ticket, kind="message.noted", actor=actor, data={"message": message.pk})
    return message


@transaction.atomic
def ticket_customer_message_add(
    *,
    ticket: Ticket,
    actor,
    body: str,
    channel: str = Channel.PORTAL,
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
    body_html: str = "",
) -> TicketMessage:
    """The customer writes on their ticket (portal or e-mail; `body_html` as in ticket_create).

    Waiting for the customer ends; a resolved ticket reopens within TICKET_REOPEN_DAYS of
    being resolved. A closed ticket, or one resolved longer ago, needs a new request.
    """
    now = now or timezone.now()
    body = _clean_body(body)
    if not ticket.accepts_customer_message(now):
        raise DomainError(
            _("This request is closed. Please open a new request; you may mention %(ref)s.")
            % {"ref": ticket.reference}
        )
    message = _message_add(
        ticket=ticket,
        kind=MessageKind.CUSTOMER,
        author=actor,
        body=body,
        channel=channel,
        attachments=attachments,
        now=now,
        body_html=body_html,
    )
    event_record(
        ticket=ticket, kind="message.received", actor=actor, data={"message": message.pk}, now=now
    )
    if ticket.status in (Status.WAITING_CUSTOMER, Status.RESOLVED):
        # The customer's own write must not fail on an agent's concurrent change.
        ticket.refresh_from_db()
        ticket_transition(ticket=ticket, to=Status.OPEN, actor=actor, note="customer replied")
    return message


# --- Status ---------------------------------------------------------------------------


@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    to: str,
    actor,
    note: str = "",
    expected_version: int | None = None,
    notify: bool = True,
) -> Ticket:
    """Move the ticket to another status along MOVES only; resolve/close stamp the time.

    The customer is mailed about the statuses mail.STATUS_MAILED lists, unless `notify` is
    off (the caller mails about it itself) or the customer made the change.
    """
    old = ticket.status
    if to not in Status.values:
        raise DomainError(_("Unknown status."), field="status")
    if to not in MOVES.get(old, set()):
        if to == Status.CLOSED:
            raise DomainError(_("Resolve the ticket before closing it."), field="status")
        raise DomainError(
            _("A ticket cannot go from “%(old)s” to “%(new)s”.")
            % {"old": Status(old).label, "new": Status(to).label},
            field="status",
        )
    now = timezone.now()
    changes: dict = {"status": to}
    if to == Status.RESOLVED:
        changes["resolved_at"] = now
    elif to == Status.CLOSED:
        changes["closed_at"] = now
    elif old == Status.RESOLVED:
        changes["resolved_at"] = None
    _apply(ticket, expected_version=expected_version, now=now, **changes)
    data = {"from": old, "to": to}
    if note:
        data["note"] = note[:NOTE_MAX_LENGTH]
    event_record(ticket=ticket, kind="ticket.status_changed", actor=actor, data=data)
    sla.clocks_status_changed(ticket=ticket, old=old, new=to, actor=actor, now=now)
    if notify:
        mail.ticket_status_mail_queue(ticket=ticket, old=old, new=to, actor=actor)
    return ticket


@transaction.atomic
def ticket_close_by_customer(*, ticket: Ticket, actor) -> Ticket:
    """The customer closes their own request: it is resolved (if not yet) and closed."""
    if ticket.status == Status.CLOSED:
        raise DomainError(_("This request is already closed."))
    if ticket.status != Status.RESOLVED:
        ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=actor, note="closed by customer")
    return ticket_transition(ticket=ticket, to=Status.CLOSED, actor=actor)


# --- Movement between lines and departments ----------------------------------------------


def ticket_is_open_management_request(ticket: Ticket) -> bool:
    """Whether the ticket is a request to management the customer has not agreed on yet."""
    from escalation.choices import RequestStatus  # escalation's models import this app's
    from escalation.models import ManagementRequest

    return (
        ManagementRequest.objects.filter(ticket=ticket)
        .exclude(status=RequestStatus.SETTLED)
        .exists()
    )


def _move(
    *,
    ticket: Ticket,
    target: Queue,
    previous: Queue | None,
    actor,
    expected_version: int | None,
    kind: str,
    note: str,
) -> Ticket:
    """Put the ticket into another queue, out of anyone's personal list, with its event."""
    origin = ticket.queue
    if (
        target.department_id != origin.department_id
        and origin.department.slug == Department.MANAGEMENT
        and ticket_is_open_management_request(ticket)
    ):
        raise DomainError(
            _(
                "This ticket is a request to management; it stays with management until the "
                "customer has agreed to a proposal."
            )
        )
    _apply(
        ticket,
        expected_version=expected_version,
        now=timezone.now(),
        queue=target,
        previous_queue=previous,
        assignee=None,
    )
    event_record(
        ticket=ticket,
        kind=kind,
        actor=actor,
        data={"from_queue": origin.pk, "to_queue": target.pk, "note": note},
    )
    sla.clocks_recompute(ticket=ticket, actor=actor, reason=kind, now=timezone.now())
    return ticket


@transaction.atomic
def ticket_escalate(
    *, ticket: Ticket, actor, reason: str, expected_version: int | None = None
) -> Ticket:
    """Move the ticket up one line in the same department; the reason is required."""
    reason = _clean_note(reason, field="reason", empty=_("Say why the ticket goes up a line."))
    _refuse_when_done(ticket, _("A resolved or closed ticket cannot be escalated."))
    queue = ticket.queue
    if queue.line >= 3:
        raise DomainError(_("This ticket is already with the third line."), field="reason")
    target = Queue.objects.filter(
        department_id=queue.department_id, line=queue.line + 1, is_active=True
    ).first()
    if target is None:
        raise DomainError(
            _("%(department)s has no line %(line)d to escalate to.")
            % {"department": queue.department.name, "line": queue.line + 1},
            field="reason",
        )
    return _move(
        ticket=ticket,
        target=target,
        previous=queue,
        actor=actor,
        expected_version=expected_version,
        kind="ticket.escalated",
        note=reason,
    )


@transaction.atomic
def ticket_handoff(
    *,
    ticket: Ticket,
    actor,
    department: Department,
    note: str,
    expected_version: int | None = None,
) -> Ticket:
    """Hand the ticket to another department's first line, with a note for them."""
    note = _clean_note(note, field="note", empty=_("Write a note for the other department."))
    _refuse_when_done(ticket, _("A resolved or closed ticket cannot be handed off."))
    if department.pk == ticket.queue.department_id:
        raise DomainError(
            _("The ticket is already with %(department)s; escalate it instead.")
            % {"department": department.name},
            field="department",
        )
    target = department.queues.filter(is_active=True).order_by("line").first()
    if target is None:
        raise DomainError(
            _("%(department)s has no queue to receive tickets.") % {"department": department.name},
            field="department",
        )
    return _move(
        ticket=ticket,
        target=target,
        previous=ticket.queue,
        actor=actor,
        expected_version=expected_version,
        kind="ticket.handed_off",
        note=note,
    )


@transaction.atomic
def ticket_hand_back(
    *, ticket: Ticket, actor, note: str, expected_version: int | None = None
) -> Ticket:
    """Return the ticket to the queue it was escalated or handed off from."""
    note = _clean_note(note, field="note", empty=_("Write a note for the colleagues."))
    _refuse_when_done(ticket, _("A resolved or closed ticket cannot be handed back."))
    target = ticket.previous_queue
    if target is None or not target.is_active:
        raise DomainError(_("This ticket has no queue to go back to."), field="note")
    return _move(
        ticket=ticket,
        target=target,
        previous=None,
        actor=actor,
        expected_version=expected_version,
        kind="ticket.handed_back",
        note=note,
    )


# --- Assignment and priority ------------------------------------------------------------


def _person(user) -> dict:
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def _open_on_pickup(ticket: Ticket, actor) -> None:
    if ticket.status == Status.NEW:
        ticket_transition(ticket=ticket, to=Status.OPEN, actor=actor)


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: User, actor, expected_version: int | None = None
) -> Ticket:
    """Give the ticket to an agent who works its queue (department and line)."""
    _refuse_when_closed(ticket)
    agent = permissions.agent_of(assignee)
    if agent is None or not agent.can_work(ticket.queue):
        raise DomainError(_("This agent does not work this queue."), field="assignee")
    previous = ticket.assignee
    if previous is not None and previous.pk == assignee.pk:
        return ticket
    _apply(ticket, expected_version=expected_version, now=timezone.now(), assignee=assignee)
    event_record(
        ticket=ticket,
        kind="ticket.assigned",
        actor=actor,
        data={"from": _person(previous) if previous else None, "to": _person(assignee)},
    )
    _open_on_pickup(ticket, actor)
    return ticket


@transaction.atomic
def ticket_take(*, ticket: Ticket, actor: User) -> Ticket:
    """The agent takes an unassigned ticket; of two agents taking it at once, one gets it."""
    _refuse_when_closed(ticket)
    agent = permissions.agent_of(actor)
    if agent is None or not agent.can_work(ticket.queue):
        raise DomainError(_("You do not work this queue."))
    now = timezone.now()
    # Guarded on "still unassigned", not on the version: a note or a priority change
    # made meanwhile does not make taking it wrong.
    if not Ticket.objects.filter(pk=ticket.pk, assignee=None).update(
        assignee=actor, version=F("version") + 1, updated_at=now
    ):
        holder = Ticket.objects.filter(pk=ticket.pk).select_related("assignee").get().assignee
        raise StaleEdit(
            _("%(name)s has already taken this ticket.")
            % {"name": _person(holder)["name"] if holder else "?"}
        )
    ticket.refresh_from_db()
    event_record(
        ticket=ticket,
        kind="ticket.assigned",
        actor=actor,
        data={"from": None, "to": _person(actor)},
    )
    _open_on_pickup(ticket, actor)
    return ticket


@transaction.atomic
def ticket_unassign(*, ticket: Ticket, actor, expected_version: int | None = None) -> Ticket:
    """Put the ticket back into its queue for anyone to take."""
    previous = ticket.assignee
    if previous is None:
        raise DomainError(_("Nobody has this ticket."))
    _apply(ticket, expected_version=expected_version, now=timezone.now(), assignee=None)
    event_record(
        ticket=ticket,
        kind="ticket.unassigned",
        actor=actor,
        data={"from": _person(previous), "to": None},
    )
    return ticket


@transaction.atomic
def ticket_priority_change(
    *, ticket: Ticket, priority: int, actor, expected_version: int | None = None
) -> Ticket:
    """Raise or lower the priority."""
    _refuse_when_closed(ticket)
    if priority not in Priority.values:
        raise DomainError(_("Unknown priority."), field="priority")
    old = ticket.priority
    if old == priority:
        return ticket
    _apply(ticket, expected_version=expected_version, now=timezone.now(), priority=priority)
    event_record(
        ticket=ticket,
        kind="ticket.priority_changed",
        actor=actor,
        data={"from": old, "to": priority},
    )
    sla.clocks_recompute(
        ticket=ticket, actor=actor, reason="ticket.priority_changed", now=timezone.now()
    )
    return ticket


@transaction.atomic
def ticket_subject_change(
    *, ticket: Ticket, subject: str, actor, expected_version: int | None = None
) -> Ticket:
    """Give the ticket a clearer subject (the customer's first words are often vague)."""
    _refuse_when_closed(ticket)
    subject = _clean_subject(subject)
    old = ticket.subject
    if old == subject:
        return ticket
    _apply(ticket, expected_version=expected_version, now=timezone.now(), subject=subject)
    event_record(
        ticket=ticket,
        kind="ticket.subject_changed",
        actor=actor,
        data={"from": old, "to": subject},
    )
    return ticket


@transaction.atomic
def ticket_details_change(
    *,
    ticket: Ticket,
    actor,
    subject: str | None = None,
    priority: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Change subject and priority together (the API's PATCH): both are written or neither."""
    if expected_version is not None and expected_version != ticket.version:
        raise StaleEdit(_("Someone else changed this ticket meanwhile; reload it and try again."))
    # From here the ticket in hand is the version the caller saw; each change below is
    # guarded on it, so a concurrent change still makes the whole call fail.
    if subject is not None:
        ticket_subject_change(ticket=ticket, subject=subject, actor=actor)
    if priority is not None:
        ticket_priority_change(ticket=ticket, priority=priority, actor=actor)
    return ticket


# --- Timer actions: many tickets at once (called by the SLA timer) ----------------------


def tickets_breach_escalate(*, raise_ids, move_ids, note: str, now: datetime) -> set[int]:
    """After SLA breaches: raise each of `raise_ids` one priority step (urgent stays) and
    move each first-line ticket of `move_ids` to line 2 of its department, where it has
    one. Returns the tickets changed.

    Every ticket is written once, however many of the two actions apply (each write of
    a ticket row updates all its indexes), by one UPDATE per kind of change; the rows are
    locked first, so what was read is what gets written. Events in bulk; the system acts.
    """
    raise_ids, move_ids = set(raise_ids), set(move_ids)
    rows = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=raise_ids | move_ids, status__in=OPEN_STATUSES)
        .values("pk", "priority", "queue_id", "queue__department_id", "queue__line")
        .order_by("pk")
    )
    if not rows:
        return set()
    targets = dict(
        Queue.objects.filter(
            department_id__in={row["queue__department_id"] for row in rows},
            line=2,
            is_active=True,
        ).values_list("department_id", "pk")
    )
    groups: dict[tuple, list[int]] = {}
    for row in rows:
        old = row["priority"]
        new = old + 1 if row["pk"] in raise_ids and old < Priority.URGENT else old
        target = None
        if row["pk"] in move_ids and row["queue__line"] == 1:
            target = targets.get(row["queue__department_id"])
        if new != old or target is not None:
            groups.setdefault((old, new, row["queue_id"], target), []).append(row["pk"])
    events = []
    for (old, new, source, target), group in groups.items():
        changes: dict = {"priority": new, "version": F("version") + 1, "updated_at": now}
        if target is not None:
            changes.update(queue_id=target, previous_queue_id=source, assignee=None)
        Ticket.objects.filter(pk__in=group).update(**changes)
        for pk in group:
            if new != old:
                events.append(
                    TicketEvent(
                        ticket_id=pk,
                        kind="ticket.priority_changed",
                        actor_id=None,
                        data={"from": old, "to": new, "note": note},
                        created_at=now,
                    )
                )
            if target is not None:
                events.append(
                    TicketEvent(
                        ticket_id=pk,
                        kind="ticket.escalated",
                        actor_id=None,
                        data={"from_queue": source, "to_queue": target, "note": note},
                        created_at=now,
                    )
                )
    TicketEvent.objects.bulk_create(events)
    return {pk for group in groups.values() for pk in group}


# --- Organisation -----------------------------------------------------------------------


@transaction.atomic
def agent_profile_set(
    *,
    user: User,
    departments: Iterable[Department],
    highest_line: int = 1,
    is_team_lead: bool = False,
    extension: str = "",
) -> Agent:
    """Place a staff user in departments up to a line (admin and demo data)."""
    if not roles.is_staff_member(user):
        raise DomainError(_("Only agents, team leads and management can work tickets."))
    if highest_line not in (1, 2, 3):
        raise DomainError(_("The line must be 1, 2 or 3."), field="highest_line")
    agent, _created = Agent.objects.update_or_create(
        user=user,
        defaults={
            "highest_line": highest_line,
            "is_team_lead": is_team_lead,
            "extension": extension,
        },
    )
    agent.departments.set(departments)
    user.__dict__.pop("_helpdesk_agent", None)  # permissions.agent_of caches the old place
    return agent


# --- Text modules -------------------------------------------------------------------------

TEXT_MODULE_SHORTCUT_MAX_LENGTH = 40
TEXT_MODULE_TITLE_MAX_LENGTH = 120
TEXT_MODULE_BODY_MAX_LENGTH = 5000
TEXT_MODULE_SHORTCUT_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOUBLE_BRACES_RE = re.compile(r"\{\{[^{}\s]{1,40}\}\}")
# What team leads write by habit, for the "did you mean" of a refused placeholder.
_PLACEHOLDER_HINTS = {
    "name": "customer_name",
    "kunde": "customer_name",
    "kundenname": "customer_name",
    "kundennummer": "customer_number",
    "ticket": "ticket_reference",
    "ticketnummer": "ticket_reference",
    "vorgangsnummer": "ticket_reference",
    "referenz": "ticket_reference",
    "betreff": "ticket_subject",
    "agent": "agent_name",
    "bearbeiter": "agent_name",
    "mitarbeiter": "agent_name",
}


def text_module_problems(*, language: str, shortcut: str, title: str, body: str) -> dict:
    """What is wrong with these fields, by field name, in form order (empty: nothing), so a
    form can show every problem at once; the writing services refuse the first."""
    return _text_module_fields(language=language, shortcut=shortcut, title=title, body=body)[1]


def _text_module_fields(*, language: str, shortcut: str, title: str, body: str):
    cleaners = {
        "language": lambda: _text_module_language_clean(language),
        "shortcut": lambda: _text_module_shortcut_clean(shortcut),
        "title": lambda: _clean_text(
            " ".join((title or "").split()),
            field="title",
            empty=_("Give the text module a title."),
            maximum=TEXT_MODULE_TITLE_MAX_LENGTH,
        ),
        "body": lambda: _text_module_body_clean(body),
    }
    values, problems = {}, {}
    for field, clean in cleaners.items():
        try:
            values[field] = clean()
        except DomainError as error:
            problems[field] = error.message
    return values, problems


def _text_module_clean(*, department: Department, **fields) -> dict:
    """The module's fields as they will be stored, or a DomainError naming the field."""
    if not isinstance(department, Department):
        raise DomainError(_("Choose a department."), field="department")
    values, problems = _text_module_fields(**fields)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    return {"department": department, **values}


def _text_module_language_clean(language: str) -> str:
    if language not in Language.values:
        raise DomainError(
            _("Choose one of: %(languages)s.")
            % {"languages": ", ".join(str(label) for label in Language.labels)},
            field="language",
        )
    return language


def _text_module_body_clean(raw: str) -> str:
    body = _clean_text(
        (raw or "").replace("\r\n", "\n"),
        field="body",
        empty=_("Write the text of the module."),
        maximum=TEXT_MODULE_BODY_MAX_LENGTH,
    )
    _text_module_placeholders_check(body)
    return body


def _text_module_shortcut_clean(raw: str) -> str:
    # Typed the way it is used ("::Router-Reset") it still means the name "router-reset".
    shortcut = (raw or "").strip().lstrip(":").lower()
    if not shortcut:
        raise DomainError(_("Give the text module a short name."), field="shortcut")
    if len(shortcut) > TEXT_MODULE_SHORTCUT_MAX_LENGTH:
        raise DomainError(
            _("The short name is too long: at most %(max)d characters.")
            % {"max": TEXT_MODULE_SHORTCUT_MAX_LENGTH},
            field="shortcut",
        )
    if not TEXT_MODULE_SHORTCUT_RE.match(shortcut):
        raise DomainError(
            _(
                "Use only letters a-z, digits and single hyphens in the short name, "
                "e.g. router-reset (no spaces, umlauts or other signs)."
            ),
            field="shortcut",
        )
    return shortcut


def _text_module_placeholders_check(body: str) -> None:
    """Refuse placeholders nobody fills in: a typo would reach the customer as typed."""
    valid = ", ".join(f"{{{name}}}" for name in TEXT_MODULE_PLACEHOLDERS)
    if _DOUBLE_BRACES_RE.search(body):
        raise DomainError(
            _("Write placeholders with single braces. Placeholders you can use: %(valid)s.")
            % {"valid": valid},
            field="body",
        )
    for match in TEXT_MODULE_PLACEHOLDER_RE.finditer(body):
        name = match.group(1)
        if name in TEXT_MODULE_PLACEHOLDERS:
            continue
        hint = _PLACEHOLDER_HINTS.get(name.lower())
        close = (
            [hint]
            if hint
            else difflib.get_close_matches(
                name.lower(), list(TEXT_MODULE_PLACEHOLDERS), n=1, cutoff=0.8
            )
        )
        if close:
            message = _(
                "Unknown placeholder %(placeholder)s (did you mean %(suggestion)s?). "
                "Placeholders you can use: %(valid)s."
            )
        else:
            message = _("Unknown placeholder %(placeholder)s. Placeholders you can use: %(valid)s.")
        raise DomainError(
            message
            % {
                "placeholder": match.group(0),
                "suggestion": f"{{{close[0]}}}" if close else "",
                "valid": valid,
            },
            field="body",
        )


def _text_module_duplicate(*, department: Department, language: str, shortcut: str, existing):
    message = _("%(department)s already has a text module ::%(shortcut)s in %(language)s.") % {
        "department": department.name,
        "shortcut": shortcut,
        "language": Language(language).label,
    }
    if existing is not None and not existing.is_active:
        message += " " + _("It is archived: restore it instead.")
    return DomainError(message, field="shortcut")


def _text_module_key(values: dict) -> dict:
    return {key: values[key] for key in ("department", "language", "shortcut")}


def _text_module_stale() -> StaleEdit:
    return StaleEdit(_("Someone else changed this text module meanwhile; check it and try again."))


def _text_module_refuse_duplicate(values: dict, *, exclude: TextModule | None = None) -> None:
    others = TextModule.objects.filter(
        department=values["department"], language=values["language"], shortcut=values["shortcut"]
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    existing = others.only("pk", "is_active").first()
    if existing is not None:
        raise _text_module_duplicate(
            department=values["department"],
            language=values["language"],
            shortcut=values["shortcut"],
            existing=existing,
        )


@transaction.atomic
def text_module_create(
    *,
    department: Department,
    language: str,
    shortcut: str,
    title: str,
    body: str,
    actor,
    now: datetime | None = None,
) -> TextModule:
    """A new module for a department and language; its short name is unique there."""
    values = _text_module_clean(
        department=department, language=language, shortcut=shortcut, title=title, body=body
    )
    _text_module_refuse_duplicate(values)
    now = now or timezone.now()
    author = _actor_or_none(actor)
    try:
        with transaction.atomic():  # a racing twin hits the unique constraint, not us
            return TextModule.objects.create(
                **values, created_by=author, created_at=now, updated_by=author, updated_at=now
            )
    except IntegrityError:
        raise _text_module_duplicate(**_text_module_key(values), existing=None) from None


@transaction.atomic
def text_module_update(
    *,
    module: TextModule,
    department: Department,
    language: str,
    shortcut: str,
    title: str,
    body: str,
    actor,
    expected_version: int | None = None,
) -> TextModule:
    """Change a module; refused if someone else changed it after `expected_version`."""
    stale = _text_module_stale()
    if expected_version is not None and expected_version != module.version:
        raise stale
    values = _text_module_clean(
        department=department, language=language, shortcut=shortcut, title=title, body=body
    )
    if all(getattr(module, key) == value for key, value in values.items()):
        return module
    _text_module_refuse_duplicate(values, exclude=module)
    now = timezone.now()
    author = _actor_or_none(actor)
    try:
        with transaction.atomic():
            changed = TextModule.objects.filter(pk=module.pk, version=module.version).update(
                **values, version=F("version") + 1, updated_by=author, updated_at=now
            )
    except IntegrityError:
        raise _text_module_duplicate(**_text_module_key(values), existing=None) from None
    if not changed:
        raise stale
    for key, value in values.items():
        setattr(module, key, value)
    module.version += 1
    module.updated_by, module.updated_at = author, now
    return module


def _text_module_set_active(
    module: TextModule, *, active: bool, actor, expected_version: int | None
) -> TextModule:
    stale = _text_module_stale()
    if expected_version is not None and expected_version != module.version:
        raise stale
    if module.is_active == active:
        raise DomainError(
            _("This text module is already in use.")
            if active
            else _("This text module is already archived.")
        )
    now = timezone.now()
    author = _actor_or_none(actor)
    if not TextModule.objects.filter(
        pk=module.pk, version=module.version, is_active=not active
    ).update(is_active=active, version=F("version") + 1, updated_by=author, updated_at=now):
        raise stale
    module.is_active = active
    module.version += 1
    module.updated_by, module.updated_at = author, now
    return module


@transaction.atomic
def text_module_archive(
    *, module: TextModule, actor, expected_version: int | None = None
) -> TextModule:
    """Take a module out of use: agents no longer get it; it stays listed, restorable."""
    return _text_module_set_active(
        module, active=False, actor=actor, expected_version=expected_version
    )


@transaction.atomic
def text_module_restore(
    *, module: TextModule, actor, expected_version: int | None = None
) -> TextModule:
    """Put an archived module back into use."""
    return _text_module_set_active(
        module, active=True, actor=actor, expected_version=expected_version
    )
