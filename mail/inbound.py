"""Inbound e-mail: every message that reaches the helpdesk is filed once (STYLE R2).

The mail app's writes live in two modules: the outbox (replies, acknowledgements, status
mail) in `mail.services`, and inbound mail here. They share nothing but the models: one
is driven by ticket changes and a sending task, the other by a mailbox, the mail gateway
and the parser; keeping them apart lets each be read (and changed) on its own.

`inbound_mail_process` is the one entry point; the mailbox reader (`inbound_mail_fetch`,
for `manage.py mail_fetch` and beat) and `POST /api/v1/inbound-email/` both call it.
Each message ends as exactly one `InboundMail` row per Message-ID:

- attached: a customer message on the ticket it answers (subject tag `[#2026-004711]`, or
  In-Reply-To/References naming our outgoing mail or the customer's earlier mail), only
  when the sender is that ticket's contact; a resolved ticket reopens within
  TICKET_REOPEN_DAYS;
- created: a new ticket, matched to the customer by sender address; also for a closed
  ticket's follow-up, and for a tag of a ticket the sender does not own (then flagged,
  with an event and an internal note);
- ignored: auto-replies, bounces, read receipts, list mail and loops (our own mail coming
  back): no ticket and never an answer;
- rejected: too large, mass mail, no readable sender. The raw message is kept under
  MEDIA_ROOT/mail/raw/ whenever we hold all of it, and also when something was dropped or
  shortened on the way into a ticket: nothing a customer sent is lost.

Attachments go through the same checks as uploads; what is refused is named in an
internal note instead of refusing the mail.
"""

import imaplib
import logging
import mailbox
import re
import ssl
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer
from helpdesk.errors import DomainError, StaleEdit
from mail import parsing
from mail import services as outbox
from mail.choices import InboundOutcome, InboundSource
from mail.models import InboundMail, OutboundMail
from tickets import services as tickets_services
from tickets.choices import Channel
from tickets.models import SupportArea, Ticket

log = logging.getLogger(__name__)

TAG = re.compile(r"\[#\s*(\d{4}-\d{6,10})\s*\]")
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|antw|wg|fw|fwd|odp|pd|sv|vs|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|donotreply|noreply)(?:[-.+_].*)?$")
RAW_DIR = "mail/raw"
# Beyond this the HTML of a message is not kept (the text is): nobody reads it in a page.
HTML_MAX_CHARS = 200_000
ACK_WINDOW = timedelta(hours=1)
FULL_TEXT_NAME = "message.txt"


class Problem:
    """`InboundMail.reason_code`: what decided the outcome, stable for the API and tests."""

    TOO_LARGE = "too_large"
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    NO_SENDER = "no_sender"
    REFUSED = "refused"  # the tickets app refused the mail (its reason is in `reason`)
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    REFERENCE_MISMATCH = "reference_mismatch"
    TICKET_CLOSED = "ticket_closed"
    UNKNOWN_REFERENCE = "unknown_reference"
    ACK_SUPPRESSED = "ack_suppressed"


# --- Filing one message -------------------------------------------------------------------


def inbound_mail_process(
    *, raw: bytes, source: str, size: int | None = None, now: datetime | None = None
) -> InboundMail:
    """File one inbound message; a second delivery of its Message-ID changes nothing and
    returns the first row. The row's `duplicate` attribute says which of the two it was.

    `size` is the message's real size when `raw` holds only its beginning (a source that
    does not read an oversized message whole). Everything is written in one transaction;
    the senders of a message are never users, so events and messages have no actor.
    """
    if source not in InboundSource.values:
        raise ValueError(f"unknown inbound mail source {source!r}")
    now = now or timezone.now()
    size = len(raw) if size is None else size
    too_large = size > settings.MAIL_INBOUND_MAX_BYTES
    parsed = parsing.mail_parse(raw, headers_only=too_large or size > len(raw), size=size)
    existing = _existing(parsed.message_id)
    if existing is not None:
        return existing
    refused = ""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return _file(
                    parsed=parsed,
                    raw=raw,
                    source=source,
                    too_large=too_large,
                    refused=refused,
                    now=now,
                )
        except IntegrityError:
            # The same message delivered twice at the same moment: the unique Message-ID
            # made the slower one fail; it returns what the faster one wrote.
            existing = _existing(parsed.message_id)
            if existing is None:
                raise
            return existing
        except DomainError as error:
            # The tickets app refused it despite the checks (e.g. no support area is
            # active): everything of it was rolled back; it is recorded as rejected.
            if refused:
                raise
            refused = error.message
    raise AssertionError("unreachable")


def _existing(message_id: str) -> InboundMail | None:
    mail = InboundMail.objects.select_related("ticket").filter(message_id=message_id).first()
    if mail is not None:
        mail.duplicate = True
    return mail


def _file(
    *,
    parsed: parsing.ParsedMail,
    raw: bytes,
    source: str,
    too_large: bool,
    refused: str,
    now: datetime,
) -> InboundMail:
    mail = InboundMail(
        message_id=parsed.message_id,
        source=source,
        from_address=parsed.from_address[:254],
        subject=parsed.subject[:255],
        size=min(parsed.size, 2**31 - 1),
        sha256=parsed.sha256,
        outcome=InboundOutcome.REJECTED,
        received_at=now,
    )
    filing = _Filing(mail=mail, parsed=parsed, raw=raw, now=now)
    # Reasons and notes are for the team: in the house language, whoever delivered.
    with translation.override(settings.LANGUAGE_CODE):
        if filing.screen(too_large=too_large, refused=refused):
            mail.reason = mail.reason[:500]
            mail.save()  # ignored or rejected: one INSERT, no ticket touched
        else:
            # The row comes first: it claims the Message-ID, so a racing second delivery
            # stops at its INSERT before writing any ticket or attachment file.
            mail.save()
            filing.file()
            mail.reason = mail.reason[:500]
            mail.save()
    mail.duplicate = False
    return mail


class _Filing:
    """The decisions for one message; writes only through `tickets.services`."""

    def __init__(self, *, mail: InboundMail, parsed: parsing.ParsedMail, raw: bytes, now: datetime):
        self.mail = mail
        self.parsed = parsed
        self.raw = raw
        self.now = now
        self.address = parsed.from_address
        self.reasons: list[str] = []
        self.notes: list[str] = []  # the internal note agents see on the ticket
        self.keep_raw = False
        self._prepared: tuple[str, str, list[SimpleUploadedFile]] | None = None

    def screen(self, *, too_large: bool, refused: str = "") -> bool:
        """Decide what never becomes a ticket (machine mail, limits); True when decided."""
        parsed = self.parsed
        if refused:
            self._reject(Problem.REFUSED, refused)
            return True
        loop = _loop_reason(parsed)
        if loop or parsed.auto_reason:
            code = Problem.LOOP if loop else Problem.AUTO_REPLY
            self._end(InboundOutcome.IGNORED, code, loop or parsed.auto_reason)
            return True
        if too_large:
            self._reject(
                Problem.TOO_LARGE,
                _("The message is too large: %(size)s, at most %(limit)s.")
                % {
                    "size": filesizeformat(parsed.size),
                    "limit": filesizeformat(settings.MAIL_INBOUND_MAX_BYTES),
                },
            )
            return True
        if not self.address:
            defects = ", ".join(sorted(set(parsed.defects)))
            reason = _("The message has no readable sender address.")
            self._reject(Problem.NO_SENDER, f"{reason} {defects}".strip())
            return True
        if parsed.recipient_count > settings.MAIL_INBOUND_MAX_RECIPIENTS:
            self._reject(
                Problem.TOO_MANY_RECIPIENTS,
                _("Mass mail: %(count)d recipients, at most %(limit)d.")
                % {"count": parsed.recipient_count, "limit": settings.MAIL_INBOUND_MAX_RECIPIENTS},
            )
            return True
        return False

    def file(self) -> None:
        """A person's mail: onto the ticket it answers, or a new one."""
        self._file_on_ticket()

    # --- outcomes

    def _end(self, outcome: str, code: str, reason: str) -> None:
        self.mail.outcome = outcome
        if code and not self.mail.reason_code:
            self.mail.reason_code = code
        if reason:
            self.reasons.append(reason)
        self.mail.reason = " ".join(self.reasons)

    def _reject(self, code: str, reason: str) -> None:
        self.keep_raw = True
        self._keep_raw()
        self._end(InboundOutcome.REJECTED, code, reason)

    def _keep_raw(self) -> None:
        # Only when we hold the whole message; a source that read just the headers of a
        # too-large one keeps it itself (the mailbox's error folder, the gateway's 413).
        if self.keep_raw and not self.mail.raw_path and len(self.raw) == self.parsed.size:
            self.mail.raw_path = raw_store(raw=self.raw, sha256=self.parsed.sha256)

    # --- tickets

    def _file_on_ticket(self) -> None:
        ticket, named = _referenced_ticket(self.parsed)
        if ticket is not None and not _owns(ticket, self.address):
            self.mail.flagged = True
            self._mention(
                Problem.REFERENCE_MISMATCH,
                _(
                    "This e-mail names ticket %(reference)s, but its sender %(sender)s is not "
                    "that ticket's contact. It was not added there; this new ticket was opened "
                    "instead. Check who wrote before answering."
                )
                % {"reference": ticket.reference, "sender": self.address},
            )
            return self._create(mismatch=ticket)
        if ticket is not None:
            if ticket.accepts_customer_message(self.now) and self._attach(ticket):
                return None
            self._mention(
                Problem.TICKET_CLOSED,
                _(
                    "This e-mail answers ticket %(reference)s, which no longer takes messages "
                    "(closed, or resolved more than %(days)d days ago); it became this new "
                    "ticket."
                )
                % {"reference": ticket.reference, "days": settings.TICKET_REOPEN_DAYS},
            )
            return self._create(follows=ticket)
        if named:
            self._mention(
                Problem.UNKNOWN_REFERENCE,
                _("This e-mail names ticket %(reference)s, which does not exist.")
                % {"reference": named},
            )
        return self._create()

    def _mention(self, code: str, text: str) -> None:
        self.mail.reason_code = self.mail.reason_code or code
        self.reasons.append(text)
        self.notes.append(text)

    def _attach(self, ticket: Ticket) -> bool:
        body, html, uploads = self._content()
        for _attempt in range(3):
            try:
                # Its own savepoint undoes a failed attempt whole.
                message = tickets_services.ticket_customer_message_add(
                    ticket=ticket,
                    actor=None,
                    body=body,
                    channel=Channel.EMAIL,
                    attachments=uploads,
                    now=self.now,
                    body_html=html,
                )
            except StaleEdit:
                # An agent changed the ticket between our read and the reopen: the
                # customer's mail must not fail on that, so read again and retry.
                ticket.refresh_from_db()
                continue
            except DomainError:
                return False  # closed meanwhile: a new ticket takes the mail
            self.mail.ticket, self.mail.ticket_message = ticket, message
            self._end(InboundOutcome.ATTACHED, "", "")
            self._note(ticket)
            return True
        return False

    def _create(self, *, mismatch: Ticket | None = None, follows: Ticket | None = None) -> None:
        body, html, uploads = self._content()
        customers = list(Customer.objects.filter(email=self.address)[:2])
        acknowledge = self._acknowledge()
        ticket = tickets_services.ticket_create(
            # Two customer records with one address: neither is guessed, the address is kept.
            customer=customers[0] if len(customers) == 1 else None,
            subject=_subject(self.parsed),
            body=body,
            channel=Channel.EMAIL,
            support_area=_support_area(),
            actor=None,
            contact_email=self.address,
            attachments=uploads,
            now=self.now,
            acknowledge=False,  # below, in the thread of the customer's mail
            body_html=html,
        )
        if acknowledge:
            outbox.ticket_acknowledgement_queue(
                ticket=ticket, now=self.now, answering=self.mail.message_id
            )
        self.mail.ticket = ticket
        self.mail.ticket_message = ticket.messages.get()
        if mismatch is not None:
            tickets_services.event_record(
                ticket=ticket,
                kind="mail.reference_mismatch",
                actor=None,
                data={
                    "reference": mismatch.reference,
                    "from": self.address,
                    "note": self.notes[0],
                },
                now=self.now,
            )
        if follows is not None:
            tickets_services.event_record(
                ticket=ticket,
                kind="mail.closed_ticket_followed_up",
                actor=None,
                data={"reference": follows.reference, "note": self.notes[0]},
                now=self.now,
            )
        self._end(InboundOutcome.CREATED, "", "")
        self._note(ticket)

    def _acknowledge(self) -> bool:
        """No acknowledgement to a no-reply address, nor to a sender who opened many
        tickets within the hour: two auto-responders must not talk to each other forever."""
        if NO_REPLY.match(self.address.split("@")[0]):
            return False
        recent = InboundMail.objects.filter(
            from_address=self.address,
            outcome=InboundOutcome.CREATED,
            received_at__gte=self.now - ACK_WINDOW,
        ).count()
        limit = settings.MAIL_INBOUND_ACK_LIMIT_PER_HOUR
        if recent < limit:
            return True
        self.mail.reason_code = self.mail.reason_code or Problem.ACK_SUPPRESSED
        self.reasons.append(
            _("No acknowledgement sent: %(count)d tickets from this sender within an hour.")
            % {"count": recent}
        )
        return False

    def _content(self) -> tuple[str, str, list[SimpleUploadedFile]]:
        """Text, HTML and the attachments the tickets app accepts; what is dropped or
        shortened is named in the note, and the raw message is kept."""
        if self._prepared is not None:
            return self._prepared
        parsed = self.parsed
        dropped: list[str] = []
        uploads: list[SimpleUploadedFile] = []
        per_message = settings.TICKET_ATTACHMENTS_PER_MESSAGE
        # Files the customer attached before images inside the text: when only five fit,
        # the invoice wins over the logo in a signature.
        for attachment in sorted(parsed.attachments, key=lambda item: item.inline):
            upload = SimpleUploadedFile(
                attachment.filename, attachment.content, content_type=attachment.content_type
            )
            problem = tickets_services.attachment_problem(upload)
            if problem is None and len(uploads) >= per_message:
                problem = _("%(name)s: more than %(count)d files in one message.") % {
                    "name": attachment.filename,
                    "count": per_message,
                }
            if problem:
                dropped.append(problem)
            else:
                uploads.append(upload)
        body = parsed.text or _("(The e-mail had no text.)")
        limit = settings.TICKET_MESSAGE_MAX_CHARS
        if len(body) > limit:
            full = SimpleUploadedFile(FULL_TEXT_NAME, parsed.text.encode(), "text/plain")
            if len(uploads) < per_message and tickets_services.attachment_problem(full) is None:
                uploads.append(full)
                marker = _("[Shortened here: the whole text is in the attached %(name)s.]") % {
                    "name": FULL_TEXT_NAME
                }
            else:
                marker = _("[Shortened here: the whole e-mail is kept by the helpdesk.]")
            body = body[: limit - len(marker) - 2].rstrip() + "\n\n" + marker
            self.notes.append(
                _("The text was longer than %(limit)d characters and was shortened.")
                % {"limit": limit}
            )
            self.keep_raw = True
        html = parsed.html
        if len(html) > HTML_MAX_CHARS:
            html = ""
            self.notes.append(_("The formatted (HTML) version was too large to show."))
            self.keep_raw = True
        if dropped:
            self.notes.append(
                _("Not taken from the e-mail:") + "".join(f"\n- {line}" for line in dropped)
            )
            self.reasons.append(_("%(count)d attachments dropped.") % {"count": len(dropped)})
            self.keep_raw = True
        if parsed.damaged:
            self.notes.append(
                _("The e-mail was damaged (%(defects)s); parts of it may be missing.")
                % {"defects": ", ".join(sorted(set(parsed.defects) & parsing.BODY_DEFECTS))}
            )
            self.keep_raw = True
        self._prepared = (body, html, uploads)
        return self._prepared

    def _note(self, ticket: Ticket) -> None:
        self._keep_raw()
        if self.mail.raw_path:
            self.notes.append(
                _("The original e-mail is kept as %(path)s.") % {"path": self.mail.raw_path}
            )
        if self.notes:
            note = "\n\n".join(self.notes)
            tickets_services.ticket_note_add(ticket=ticket, actor=None, body=note)
        self.mail.reason = " ".join(self.reasons)


def _own_addresses() -> set[str]:
    configured = [settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL]
    configured += settings.MAIL_INBOUND_ADDRESSES
    return {parseaddr(value)[1].lower() for value in configured} - {""}


def _loop_reason(parsed: parsing.ParsedMail) -> str:
    """Why this mail is our own coming back (a forward to ourselves, a loop)."""
    own = _own_addresses()
    if parsed.from_address in own:
        return _("Sent from the helpdesk's own address.")
    for value in parsed.x_loop:
        lowered = value.lower()
        if lowered in ("yes", "true", "1") or any(address in lowered for address in own):
            return _("Mail loop (X-Loop: %(value)s).") % {"value": value[:100]}
    # Our outgoing mail has Message-IDs in our own domain: only those are looked up.
    domain = parsed.message_id.rpartition("@")[2].rstrip(">").lower()
    ours = domain in {address.rpartition("@")[2] for address in own}
    if ours and OutboundMail.objects.filter(message_id=parsed.message_id).exists():
        return _("The helpdesk's own outgoing mail came back.")
    return ""


def _referenced_ticket(parsed: parsing.ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket this mail answers, and the reference its subject names ("" if none).

    Thread headers naming our mail win over the subject tag: a Message-ID of ours cannot
    be guessed, a reference number can.
    """
    ids = parsed.thread_ids()
    if ids:
        known = dict(
            OutboundMail.objects.filter(message_id__in=ids).values_list("message_id", "ticket_id")
        )
        for message_id, ticket_id in InboundMail.objects.filter(
            message_id__in=ids, ticket__isnull=False
        ).values_list("message_id", "ticket_id"):
            known.setdefault(message_id, ticket_id)
        for message_id in ids:
            if message_id in known:
                return Ticket.objects.select_related("customer").get(pk=known[message_id]), ""
    tag = TAG.search(parsed.subject)
    if tag is None:
        return None, ""
    reference = tag.group(1)
    return Ticket.objects.select_related("customer").filter(reference=reference).first(), reference


def _owns(ticket: Ticket, address: str) -> bool:
    owners = {ticket.contact_email.lower()}
    if ticket.customer is not None:
        owners.add(ticket.customer.email.lower())
    return address in owners - {""}


def _subject(parsed: parsing.ParsedMail) -> str:
    subject = REPLY_PREFIX.sub("", TAG.sub("", parsed.subject))
    subject = " ".join(subject.split())[: tickets_services.SUBJECT_MAX_LENGTH]
    if subject:
        return subject
    fallback = _("E-mail from %(sender)s") % {"sender": parsed.from_address}
    return fallback[: tickets_services.SUBJECT_MAX_LENGTH]


def _support_area() -> SupportArea:
    areas = SupportArea.objects.select_related("first_queue").filter(is_active=True)
    area = areas.filter(slug=settings.MAIL_INBOUND_SUPPORT_AREA).first()
    area = area or areas.order_by("position", "name").first()
    if area is None:
        raise DomainError(_("No support area is active to receive e-mail."))
    return area


def raw_store(*, raw: bytes, sha256: str) -> str:
    """Keep a raw message under MEDIA_ROOT by its digest; the same bytes are stored once."""
    name = f"{RAW_DIR}/{sha256[:2]}/{sha256}.eml"
    if not default_storage.exists(name):
        # Written before the transaction commits: if it rolls back, the file stays behind
        # under its digest, and the same message retried finds it there.
        name = default_storage.save(name, ContentFile(raw))
    return name


# --- Reading a mailbox ----------------------------------------------------------------------


class MailSourceError(Exception):
    """The mailbox cannot be read (login refused, folder missing): nothing was taken."""


@dataclass(frozen=True)
class MailSource:
    kind: str  # InboundSource.IMAP or InboundSource.MAILDIR
    path: str = ""
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    # imaps: TLS from the first byte; imap: STARTTLS, unless ?starttls=false (a local
    # test server): a password never crosses the network in the clear by accident.
    security: str = "ssl"  # "ssl", "starttls" or "none"


def mail_source(url: str) -> MailSource:
    """`imaps://user:password@host[:993]/INBOX`, `imap://…` (STARTTLS) or `maildir:///path`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "maildir":
        path = unquote(parts.netloc + parts.path)
        if not path.startswith("/"):
            raise ImproperlyConfigured("MAIL_INBOUND_URL: a Maildir needs an absolute path")
        return MailSource(kind=InboundSource.MAILDIR, path=path)
    if scheme in ("imap", "imaps"):
        if not parts.hostname or not parts.username:
            raise ImproperlyConfigured("MAIL_INBOUND_URL: an IMAP URL needs a user and a host")
        starttls = parse_qs(parts.query).get("starttls", ["true"])[0].lower() != "false"
        return MailSource(
            kind=InboundSource.IMAP,
            host=parts.hostname,
            port=parts.port or (993 if scheme == "imaps" else 143),
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            security="ssl" if scheme == "imaps" else ("starttls" if starttls else "none"),
        )
    raise ImproperlyConfigured("MAIL_INBOUND_URL must start with imaps://, imap:// or maildir://")


def inbound_mail_fetch(*, url: str | None = None, limit: int | None = None) -> dict[str, int]:
    """Read the mailbox once and file each message; returns counts per outcome.

    A message leaves the mailbox only after its row is committed, so call this outside a
    transaction (beat, the command). One that fails is moved to the error folder, and
    one too large to read whole goes there too: never dropped. A database outage stops
    the run and leaves the rest in place for the next one.
    """
    url = settings.MAIL_INBOUND_URL if url is None else url
    if not url:
        return {}
    source = mail_source(url)
    limit = settings.MAIL_INBOUND_FETCH_LIMIT if limit is None else limit
    counts = dict.fromkeys([*InboundOutcome.values, "duplicate", "failed"], 0)
    if source.kind == InboundSource.MAILDIR:
        _maildir_fetch(source, limit, counts)
    else:
        _imap_fetch(source, limit, counts)
    return counts


def _take(raw: bytes, size: int, kind: str, counts: dict[str, int]) -> bool:
    """File one message; True when the mailbox may let go of it."""
    try:
        mail = inbound_mail_process(raw=raw, source=kind, size=size)
    except (OperationalError, InterfaceError):
        raise  # the database is away: stop here, everything stays in the mailbox
    except Exception:
        log.exception("inbound mail: a message failed; it goes to the error folder")
        counts["failed"] += 1
        return False
    counts["duplicate" if mail.duplicate else mail.outcome] += 1
    # Rejected without its bytes stored (read only in part): the mailbox keeps it.
    return not (mail.outcome == InboundOutcome.REJECTED and not mail.raw_path)


def _maildir_fetch(source: MailSource, limit: int, counts: dict[str, int]) -> None:
    try:
        box = mailbox.Maildir(source.path, factory=None, create=False)
        keys = sorted(box.keys())[:limit]  # Maildir names start with the delivery time
    except (OSError, mailbox.Error) as error:
        raise MailSourceError(f"Maildir {source.path}: {error}") from error
    maximum = settings.MAIL_INBOUND_MAX_BYTES
    for key in keys:
        try:
            handle = box.get_file(key)
        except (KeyError, FileNotFoundError):
            continue  # another run took it meanwhile
        with handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            raw = handle.read(parsing.HEAD_BYTES if size > maximum else size)
        if not _take(raw, size, InboundSource.MAILDIR, counts):
            errors = _maildir_folder(box, settings.MAIL_INBOUND_ERROR_FOLDER)
            with box.get_file(key) as handle:
                errors.add(handle)
        box.discard(key)


def _maildir_folder(box: mailbox.Maildir, name: str) -> mailbox.Maildir:
    try:
        return box.get_folder(name)
    except mailbox.NoSuchMailboxError:
        return box.add_folder(name)


def _imap_quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_connect(source: MailSource) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if source.security == "ssl":
        connection = imaplib.IMAP4_SSL(source.host, source.port, ssl_context=context, timeout=30)
    else:
        connection = imaplib.IMAP4(source.host, source.port, timeout=30)
        if source.security == "starttls":
            connection.starttls(ssl_context=context)
    connection.login(source.username, source.password)
    return connection


_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _imap_literal(data) -> bytes | None:
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def _imap_fetch(source: MailSource, limit: int, counts: dict[str, int]) -> None:
    try:
        connection = _imap_connect(source)
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailSourceError(f"IMAP {source.host}: {error}") from error
    try:
        status, _data = connection.select(_imap_quote(source.folder))
        if status != "OK":
            raise MailSourceError(f"IMAP {source.host}: no folder {source.folder!r}")
        # Flagged \Deleted by an earlier run that stopped before EXPUNGE: filed already.
        status, data = connection.uid("SEARCH", "UNDELETED")
        uids = (data[0] or b"").split()[:limit] if status == "OK" else []
        for uid in uids:
            status, data = connection.uid("FETCH", uid, "(RFC822.SIZE)")
            found = _SIZE.search(b" ".join(item for item in data if isinstance(item, bytes)))
            size = int(found.group(1)) if found else 0
            whole = size <= settings.MAIL_INBOUND_MAX_BYTES
            part = "(BODY.PEEK[])" if whole else "(BODY.PEEK[HEADER])"
            status, data = connection.uid("FETCH", uid, part)
            raw = _imap_literal(data) if status == "OK" else None
            if raw is None:
                continue  # expunged by another client meanwhile
            taken = _take(raw, size if not whole else len(raw), InboundSource.IMAP, counts)
            if not taken and not _imap_copy(connection, uid, settings.MAIL_INBOUND_ERROR_FOLDER):
                continue  # cannot move it: it stays where it is, for the next run
            connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
        connection.expunge()
    finally:
        with suppress(Exception):
            connection.close()
        with suppress(Exception):
            connection.logout()


def _imap_copy(connection: imaplib.IMAP4, uid: bytes, folder: str) -> bool:
    status, _data = connection.uid("COPY", uid, _imap_quote(folder))
    if status != "OK":
        connection.create(_imap_quote(folder))
        status, _data = connection.uid("COPY", uid, _imap_quote(folder))
    if status != "OK":
        log.error("inbound mail: cannot copy message %s to %r; left in place", uid, folder)
    return status == "OK"
