"""Outages (mass incidents): every write of an outage and of the tickets linked to it.

An outage is opened by an agent or by network monitoring, gets updates, and is resolved
once. Resolving it resolves its linked tickets and mails their customers; that is mass
work, so the web request only flips the outage and enqueues it. The work runs in batches
(`outage_tickets_resolve_batch`), each its own transaction: a worker dying halfway
loses at most its batch, which the next run (a retry or the beat pass) picks up again,
because "linked and still open" is itself the cursor. Mailing an update is batched the
same way, with the last ticket mailed kept on the update.
"""

import re
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import ServiceKind
from escalation import services as sla
from helpdesk import services as helpdesk_services
from helpdesk.errors import DomainError, StaleEdit
from mail import services as mail
from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES, OUTAGE_ACTIVE, OUTAGE_MOVES, OutageStatus, Status
from tickets.models import Outage, OutageArea, OutageUpdate, Ticket, TicketEvent

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
AREA_MAX_RANGES = 500
BATCH_SIZE = 500

_POSTAL = re.compile(r"[0-9]{5}")  # ASCII digits only: \d takes Arabic-Indic digits too
_SEPARATORS = re.compile(r"[\s,;]+")
_DASH = re.compile(r"\s*[-\u2013]\s*")  # "12000 - 12999", with an en dash too, is a range
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def postal_ranges_parse(raw: str, *, field: str = "area") -> list[tuple[str, str]]:
    """Read "10115, 10117 12000-12999" into sorted, merged (first, last) ranges.

    Every code has five digits; a range runs from its lower to its higher code. Anything
    else is refused with the offending part named, so nothing half-understood is saved.
    """
    parts = [part for part in _SEPARATORS.split(_DASH.sub("-", (raw or "").strip())) if part]
    if not parts:
        raise DomainError(_("Enter at least one postal code or range."), field=field)
    ranges: list[tuple[str, str]] = []
    for part in parts:
        first, dash, last = part.partition("-")
        last = last if dash else first  # "10115-" is a range without its end: refused
        if not (_POSTAL.fullmatch(first) and _POSTAL.fullmatch(last)):
            raise DomainError(
                _(
                    "“%(part)s” is not a postal code: a postal code has five digits, "
                    "a range is written 12000-12999."
                )
                % {"part": part[:20]},
                field=field,
            )
        if first > last:
            raise DomainError(
                _("The range %(part)s runs backwards; write the lower code first.")
                % {"part": part},
                field=field,
            )
        ranges.append((first, last))
    if len(ranges) > AREA_MAX_RANGES:
        raise DomainError(
            _("At most %(count)d codes or ranges; use wider ranges.") % {"count": AREA_MAX_RANGES},
            field=field,
        )
    merged: list[tuple[str, str]] = []
    for first, last in sorted(ranges):
        if merged and int(first) <= int(merged[-1][1]) + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def postal_ranges_text(ranges: list[tuple[str, str]]) -> str:
    """The canonical way to write ranges back: "10115, 12000-12999"."""
    return ", ".join(first if first == last else f"{first}-{last}" for first, last in ranges)


def text_clean(raw: str, *, field: str, maximum: int, required: bool) -> str:
    """A text as typed: trimmed, line breaks as "\n" (browsers send CRLF), no control or
    direction-override characters, at most `maximum` characters."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise DomainError(_("This field is required."), field=field)
    if len(text) > maximum:
        raise DomainError(_("At most %(count)d characters.") % {"count": maximum}, field=field)
    if _CONTROL.search(text):
        raise DomainError(_("The text contains invisible control characters."), field=field)
    return text


def _services_clean(services) -> list[str]:
    chosen = list(dict.fromkeys(services or []))
    if not chosen:
        raise DomainError(_("Choose at least one affected service."), field="services")
    unknown = [kind for kind in chosen if kind not in ServiceKind.values]
    if unknown:
        raise DomainError(
            _("Unknown service: %(kinds)s.") % {"kinds": ", ".join(map(str, unknown))[:60]},
            field="services",
        )
    return [kind for kind in ServiceKind.values if kind in chosen]  # a stable order


def _expected_end_check(expected_end_at: datetime | None, started_at: datetime) -> None:
    if expected_end_at is not None and expected_end_at <= started_at:
        raise DomainError(_("The expected end must be after the start."), field="expected_end_at")


def _areas_store(outage: Outage, ranges: list[tuple[str, str]]) -> None:
    OutageArea.objects.bulk_create(
        OutageArea(outage=outage, first=first, last=last) for first, last in ranges
    )


@transaction.atomic
def outage_create(
    *,
    title: str,
    services,
    area: str,
    actor,
    description: str = "",
    status: str = OutageStatus.INVESTIGATING,
    started_at: datetime | None = None,
    expected_end_at: datetime | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> tuple[Outage, bool]:
    """Open an outage; returns it and whether it is new.

    Network monitoring reports an incident again and again: with the same `external_id`
    the existing outage is returned unchanged (also when two reports race).
    """
    now = now or timezone.now()
    external_id = text_clean(external_id, field="external_id", maximum=100, required=False)
    if external_id:
        existing = Outage.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False
    title = " ".join(
        text_clean(title, field="title", maximum=TITLE_MAX_LENGTH, required=True).split()
    )
    description = text_clean(
        description, field="description", maximum=TEXT_MAX_LENGTH, required=False
    )
    services = _services_clean(services)
    ranges = postal_ranges_parse(area)
    if status not in OUTAGE_ACTIVE:
        raise DomainError(_("A new outage cannot be resolved already."), field="status")
    started_at = started_at or now
    if started_at > now + timedelta(minutes=5):
        raise DomainError(_("The start cannot be in the future."), field="started_at")
    _expected_end_check(expected_end_at, started_at)
    try:
        with transaction.atomic():
            outage = Outage.objects.create(
                title=title,
                description=description,
                services=services,
                area=postal_ranges_text(ranges),
                status=status,
                started_at=started_at,
                expected_end_at=expected_end_at,
                external_id=external_id,
                created_by=ticket_services._actor_or_none(actor),
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # The same monitoring id won a race with us: theirs is the outage.
        return Outage.objects.get(external_id=external_id), False
    _areas_store(outage, ranges)
    return outage, True


@transaction.atomic
def outage_edit(
    *,
    outage: Outage,
    title: str,
    description: str,
    services,
    area: str,
    expected_end_at: datetime | None,
    actor,
    expected_version: int,
) -> Outage:
    """Correct an active outage's details; a stale form is refused."""
    if not outage.is_active:
        raise DomainError(_("This outage is resolved; it cannot be changed any more."))
    title = " ".join(
        text_clean(title, field="title", maximum=TITLE_MAX_LENGTH, required=True).split()
    )
    description = text_clean(
        description, field="description", maximum=TEXT_MAX_LENGTH, required=False
    )
    services = _services_clean(services)
    ranges = postal_ranges_parse(area)
    _expected_end_check(expected_end_at, outage.started_at)
    now = timezone.now()
    changed = Outage.objects.filter(
        pk=outage.pk, version=expected_version, status__in=OUTAGE_ACTIVE
    ).update(
        title=title,
        description=description,
        services=services,
        area=postal_ranges_text(ranges),
        expected_end_at=expected_end_at,
        updated_at=now,
        version=F("version") + 1,
    )
    if not changed:
        raise StaleEdit(_("Someone else changed this outage meanwhile; reload it and try again."))
    OutageArea.objects.filter(outage=outage).delete()
    _areas_store(outage, ranges)
    outage.refresh_from_db()
    return outage


@transaction.atomic
def outage_update_post(
    *,
    outage: Outage,
    text: str,
    actor,
    status: str | None = None,
    expected_end_at: datetime | None = None,
    notify: bool = False,
    now: datetime | None = None,
) -> OutageUpdate:
    """Report progress: a text, perhaps a new status or ETA; `notify` mails the customers.

    Resolving goes through `outage_resolve` (it also resolves the tickets).
    """
    now = now or timezone.now()
    text = text_clean(text, field="text", maximum=TEXT_MAX_LENGTH, required=True)
    status = status or outage.status
    if status == OutageStatus.RESOLVED:
        return outage_resolve(outage=outage, text=text, actor=actor, now=now)
    if not outage.is_active:
        raise DomainError(_("This outage is already resolved."), field="status")
    if status not in OutageStatus.values:
        raise DomainError(_("Unknown status."), field="status")
    if status != outage.status and status not in OUTAGE_MOVES[outage.status]:
        raise DomainError(_("This status change is not possible."), field="status")
    changes: dict = {"status": status, "updated_at": now, "version": F("version") + 1}
    if expected_end_at is not None:
        _expected_end_check(expected_end_at, outage.started_at)
        changes["expected_end_at"] = expected_end_at
    if not Outage.objects.filter(pk=outage.pk, status__in=OUTAGE_ACTIVE).update(**changes):
        raise DomainError(_("This outage is already resolved."), field="status")
    update = OutageUpdate.objects.create(
        outage=outage,
        text=text,
        status=status,
        expected_end_at=expected_end_at or outage.expected_end_at,
        notify=notify,
        author=ticket_services._actor_or_none(actor),
        created_at=now,
    )
    if notify:
        from tickets import tasks

        transaction.on_commit(
            partial(helpdesk_services.task_enqueue, tasks.outage_update_notify_task, update.pk)
        )
    outage.refresh_from_db()
    return update


@transaction.atomic
def outage_resolve(
    *, outage: Outage, text: str, actor, now: datetime | None = None
) -> OutageUpdate:
    """Resolve the outage once; its open linked tickets are resolved and mailed in batches.

    A second resolution is refused (guarded UPDATE), whoever comes second.
    """
    now = now or timezone.now()
    text = text_clean(text, field="text", maximum=TEXT_MAX_LENGTH, required=True)
    resolved = Outage.objects.filter(pk=outage.pk, status__in=OUTAGE_ACTIVE).update(
        status=OutageStatus.RESOLVED,
        resolved_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    if not resolved:
        raise DomainError(_("This outage is already resolved."), field="status")
    update = OutageUpdate.objects.create(
        outage=outage,
        text=text,
        status=OutageStatus.RESOLVED,
        author=ticket_services._actor_or_none(actor),
        created_at=now,
    )
    from tickets import tasks

    transaction.on_commit(
        partial(helpdesk_services.task_enqueue, tasks.outage_tickets_resolve_task, outage.pk)
    )
    outage.refresh_from_db()
    return update


def _linked_open(outage_id: int):
    return Ticket.objects.filter(outage_id=outage_id, status__in=OPEN_STATUSES)


@transaction.atomic
def outage_tickets_resolve_batch(
    *, outage_id: int, limit: int = BATCH_SIZE, now: datetime | None = None
) -> tuple[int, bool]:
    """Resolve and mail one batch of a resolved outage's open tickets: (resolved, finished).

    A fixed number of statements per batch, whatever its size: lock the batch (skipping
    tickets an agent holds right now, which the next batch takes), one UPDATE of the
    tickets, one of their SLA clocks, one insert of events and one of mails.
    """
    now = now or timezone.now()
    outage = Outage.objects.filter(pk=outage_id).first()
    if outage is None or outage.status != OutageStatus.RESOLVED or outage.tickets_resolved_at:
        return 0, True
    rows = list(
        _linked_open(outage_id)
        .order_by("id")
        .select_for_update(skip_locked=True)
        .values_list("id", "status")[:limit]
    )
    if not rows:
        if _linked_open(outage_id).exists():
            return 0, False  # all locked by agents this moment: try again shortly
        Outage.objects.filter(pk=outage_id, tickets_resolved_at=None).update(
            tickets_resolved_at=now
        )
        return 0, True
    ids = [pk for pk, _status in rows]
    Ticket.objects.filter(pk__in=ids).update(
        status=Status.RESOLVED,
        resolved_at=now,
        updated_at=now,
        version=F("version") + 1,
        sla_due_at=None,
        sla_warn_at=None,
    )
    stopped = sla.clocks_stop_many(ticket_ids=ids, now=now)
    note = _("Resolved with the outage “%(title)s”.") % {"title": outage.title}
    events = [
        TicketEvent(
            ticket_id=pk,
            kind="ticket.status_changed",
            data={"from": old, "to": Status.RESOLVED, "note": note, "outage": outage_id},
            created_at=now,
        )
        for pk, old in rows
    ]
    events += [
        TicketEvent(
            ticket_id=pk, kind="sla.stopped", data={"status": Status.RESOLVED}, created_at=now
        )
        for pk in stopped
    ]
    TicketEvent.objects.bulk_create(events)
    resolution = outage.updates.filter(status=OutageStatus.RESOLVED).order_by("-id").first()
    tickets = Ticket.objects.filter(pk__in=ids).select_related("customer").order_by("id")
    mail.outage_mails_queue(
        tickets=tickets,
        outage=outage,
        text=resolution.text if resolution else "",
        resolved=True,
        now=now,
    )
    return len(ids), False


@transaction.atomic
def outage_update_notify_batch(
    *, update_id: int, limit: int = BATCH_SIZE, now: datetime | None = None
) -> tuple[int, bool]:
    """Mail one batch of an update to the customers of the outage's open tickets.

    The update row is locked, so two runs never mail the same batch; its
    `notified_through` moves in the same transaction as the mails it covers.
    """
    now = now or timezone.now()
    update = (
        OutageUpdate.objects.select_for_update()
        .select_related("outage")
        .filter(pk=update_id)
        .first()
    )
    if update is None or not update.notify or update.notified_at:
        return 0, True
    tickets = list(
        _linked_open(update.outage_id)
        .filter(pk__gt=update.notified_through)
        .select_related("customer")
        .order_by("id")[:limit]
    )
    if not tickets:
        update.notified_at = now
        update.save(update_fields=["notified_at"])
        return 0, True
    # One mail per customer: a customer with two linked tickets hears once, also when
    # the tickets fall into different batches (the earlier batch recorded whom it told).
    seen: set = _notified_before(update, tickets)
    first_per_customer = []
    for ticket in tickets:
        key = ticket.customer_id or ticket.contact_email
        if key not in seen:
            seen.add(key)
            first_per_customer.append(ticket)
    sent = mail.outage_mails_queue(
        tickets=first_per_customer, outage=update.outage, text=update.text, resolved=False, now=now
    )
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket.pk,
            kind="outage.customer_notified",
            data={"outage": update.outage_id, "update": update.pk},
            created_at=now,
        )
        for ticket in first_per_customer
    )
    update.notified_through = tickets[-1].pk
    update.save(update_fields=["notified_through"])
    return sent, False


def _notified_before(update: OutageUpdate, tickets: list[Ticket]) -> set:
    """Customers (or contact addresses) an earlier batch of this update already told."""
    if not update.notified_through:
        return set()
    customers = {ticket.customer_id for ticket in tickets if ticket.customer_id}
    contacts = {ticket.contact_email for ticket in tickets if not ticket.customer_id}
    told = TicketEvent.objects.filter(
        Q(ticket__customer_id__in=customers)
        | Q(ticket__customer=None, ticket__contact_email__in=contacts),
        ticket__outage_id=update.outage_id,
        ticket_id__lte=update.notified_through,
        kind="outage.customer_notified",
        data__update=update.pk,
    ).values_list("ticket__customer_id", "ticket__contact_email")
    return {customer_id or contact for customer_id, contact in told}


# --- Linking tickets -------------------------------------------------------------------------


def outage_active_lock(outage: Outage) -> bool:
    """Whether the outage is still active, read under a lock of its row (in a transaction).

    Not what the page read a moment ago: a resolution racing a new link either waits for
    the linking transaction (and its batch then finds the ticket) or has committed, and
    the link is refused. No ticket is left open under a resolved outage.
    """
    return (
        Outage.objects.select_for_update()
        .filter(pk=outage.pk, status__in=sorted(OUTAGE_ACTIVE))
        .exists()
    )


@transaction.atomic
def ticket_outage_link(*, ticket: Ticket, outage: Outage, actor) -> Ticket:
    """Put a ticket under an active outage (one click from the banner)."""
    if not outage_active_lock(outage):
        raise DomainError(_("This outage is already resolved."), field="outage")
    if ticket.is_done:
        raise DomainError(_("This ticket is already resolved."), field="outage")
    if ticket.outage_id == outage.pk:
        raise DomainError(_("This ticket already belongs to this outage."), field="outage")
    previous = ticket.outage_id
    now = timezone.now()
    # Not a change of what an agent edits in a form: no version bump, like a message.
    Ticket.objects.filter(pk=ticket.pk).update(outage=outage, updated_at=now)
    ticket.outage = outage
    ticket_services.event_record(
        ticket=ticket,
        kind="ticket.outage_linked",
        actor=actor,
        data={"outage": outage.pk, "title": outage.title, "previous": previous},
        now=now,
    )
    return ticket


@transaction.atomic
def ticket_outage_unlink(*, ticket: Ticket, actor) -> Ticket:
    """Take a ticket out of its outage (it was not caused by it after all)."""
    if ticket.outage_id is None:
        raise DomainError(_("This ticket belongs to no outage."), field="outage")
    if ticket.is_done:
        raise DomainError(_("This ticket is already resolved."), field="outage")
    outage_id = ticket.outage_id
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(outage=None, updated_at=now)
    ticket.outage = None
    ticket_services.event_record(
        ticket=ticket,
        kind="ticket.outage_unlinked",
        actor=actor,
        data={"outage": outage_id},
        now=now,
    )
    return ticket


def outages_work_resume(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Re-enqueue batched work nobody finished: resolutions and notices (beat pass).

    Work younger than `older_than` is left to the task that is still on it; a duplicate
    run would do no harm (batches lock their rows), it would only do nothing.
    """
    from tickets import tasks

    before = timezone.now() - older_than
    pending_outages = list(
        Outage.objects.filter(
            resolved_at__isnull=False, resolved_at__lte=before, tickets_resolved_at=None
        ).values_list("pk", flat=True)
    )
    pending_updates = list(
        OutageUpdate.objects.filter(
            notify=True, notified_at=None, created_at__lte=before
        ).values_list("pk", flat=True)
    )
    for pk in pending_outages:
        helpdesk_services.task_enqueue(tasks.outage_tickets_resolve_task, pk)
    for pk in pending_updates:
        helpdesk_services.task_enqueue(tasks.outage_update_notify_task, pk)
    return len(pending_outages) + len(pending_updates)
