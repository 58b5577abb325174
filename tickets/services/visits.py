"""Technician visits: regions, time windows with capacity, and the visits booked into them.

A window's `booked` count is the only thing two agents race for. A booking raises it
with one guarded UPDATE (`booked < capacity`); whoever comes second finds no row to
update and is told the window is full, so the last place goes to exactly one of them.
Lowering a capacity is the same UPDATE the other way round (`booked <= capacity`).
Creating windows locks the region row, so two dispatchers cannot add overlapping ones.
"""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.errors import DomainError, StaleEdit
from mail import services as mail
from tickets import permissions
from tickets import services as ticket_services
from tickets.choices import (
    APPOINTMENT_ACTIVE,
    APPOINTMENT_MOVES,
    MOVES,
    AppointmentStatus,
    MissedReason,
    Priority,
    Status,
)
from tickets.models import Appointment, Technician, Ticket, VisitRegion, VisitWindow
from tickets.services.outages import postal_ranges_parse, postal_ranges_text, text_clean

CAPACITY_MAX = 50
NOTE_MAX_LENGTH = 2000
# The earliest a window may start on a working day and the latest it may end.
DAY_STARTS, DAY_ENDS = time(6, 0), time(22, 0)


def _text(raw: str, *, field: str, required: bool = False) -> str:
    return text_clean(raw, field=field, maximum=NOTE_MAX_LENGTH, required=required)


# --- Regions and windows ------------------------------------------------------------------


def default_windows_clean(windows) -> list[list]:
    """[["08:00", "12:00", 3], …] → the same, checked: valid times, in order, no overlap."""
    cleaned = []
    for entry in windows or []:
        try:
            starts, ends, capacity = entry
            starts, ends = time.fromisoformat(starts), time.fromisoformat(ends)
            capacity = int(capacity)
        except (TypeError, ValueError):
            raise DomainError(
                _("Each standard window is a start, an end and a capacity."),
                field="default_windows",
            ) from None
        _window_times_check(starts, ends, field="default_windows")
        _capacity_check(capacity, field="default_windows")
        cleaned.append((starts, ends, capacity))
    cleaned.sort()
    for (_s1, end1, _c1), (start2, _e2, _c2) in pairwise(cleaned):
        if start2 < end1:
            raise DomainError(_("The standard windows overlap."), field="default_windows")
    return [[s.strftime("%H:%M"), e.strftime("%H:%M"), c] for s, e, c in cleaned]


@transaction.atomic
def visit_region_save(
    *, name: str, area: str, default_windows, region: VisitRegion | None = None
) -> VisitRegion:
    """Create or change a region: its postal codes and its standard day of windows."""
    name = _text(name, field="name", required=True)[:80]
    ranges = postal_ranges_parse(area)
    pattern = default_windows_clean(default_windows)
    region = region or VisitRegion()
    region.name = name
    region.area = postal_ranges_text(ranges)
    region.ranges = [list(pair) for pair in ranges]
    region.default_windows = pattern
    try:
        with transaction.atomic():
            region.save()
    except IntegrityError:
        raise DomainError(_("A region with this name exists already."), field="name") from None
    return region


def _window_times_check(starts: time, ends: time, *, field: str = "ends") -> None:
    if starts >= ends:
        raise DomainError(_("A window must end after it starts."), field=field)
    if starts < DAY_STARTS or ends > DAY_ENDS:
        raise DomainError(
            _("Windows lie between %(start)s and %(end)s.")
            % {"start": DAY_STARTS.strftime("%H:%M"), "end": DAY_ENDS.strftime("%H:%M")},
            field=field,
        )


def _capacity_check(capacity: int, *, field: str = "capacity") -> None:
    if not 1 <= capacity <= CAPACITY_MAX:
        raise DomainError(
            _("The capacity is between 1 and %(max)d visits.") % {"max": CAPACITY_MAX}, field=field
        )


def _overlapping(region: VisitRegion, day: date, starts: time, ends: time):
    return VisitWindow.objects.filter(region=region, date=day, starts__lt=ends, ends__gt=starts)


@transaction.atomic
def visit_window_create(
    *, region: VisitRegion, day: date, starts: time, ends: time, capacity: int, actor=None
) -> VisitWindow:
    """Open one window; refused in the past, with times out of order or overlapping."""
    _window_times_check(starts, ends)
    _capacity_check(capacity)
    if timezone.make_aware(datetime.combine(day, starts)) <= timezone.now():
        raise DomainError(_("This window would start in the past."), field="date")
    VisitRegion.objects.select_for_update().filter(pk=region.pk).first()  # serialise adds
    clash = _overlapping(region, day, starts, ends).first()
    if clash is not None:
        raise DomainError(
            _("This overlaps the window %(from)s–%(until)s of that day.")
            % {"from": clash.starts.strftime("%H:%M"), "until": clash.ends.strftime("%H:%M")},
            field="starts",
        )
    return VisitWindow.objects.create(
        region=region, date=day, starts=starts, ends=ends, capacity=capacity
    )


@transaction.atomic
def visit_windows_fill(*, region: VisitRegion, first_day: date, days: int) -> int:
    """Open the region's standard windows on working days (Mon–Fri) where none overlaps.

    Safe to run again and again (beat): existing windows, changed or not, stay as they are.
    """
    VisitRegion.objects.select_for_update().filter(pk=region.pk).first()
    last_day = first_day + timedelta(days=days - 1)
    existing: dict[date, list[tuple[time, time]]] = {}
    for day, starts, ends in VisitWindow.objects.filter(
        region=region, date__range=(first_day, last_day)
    ).values_list("date", "starts", "ends"):
        existing.setdefault(day, []).append((starts, ends))
    now = timezone.now()
    new = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for raw_start, raw_end, capacity in region.default_windows:
            starts, ends = time.fromisoformat(raw_start), time.fromisoformat(raw_end)
            if timezone.make_aware(datetime.combine(day, starts)) <= now:
                continue
            if any(s < ends and e > starts for s, e in existing.get(day, [])):
                continue
            new.append(
                VisitWindow(region=region, date=day, starts=starts, ends=ends, capacity=capacity)
            )
            existing.setdefault(day, []).append((starts, ends))
    VisitWindow.objects.bulk_create(new)
    return len(new)


def visit_windows_fill_all() -> int:
    """Every active region, from today for VISIT_WINDOW_DAYS_AHEAD days."""
    today = timezone.localdate()
    return sum(
        visit_windows_fill(region=region, first_day=today, days=settings.VISIT_WINDOW_DAYS_AHEAD)
        for region in VisitRegion.objects.filter(is_active=True)
    )


@transaction.atomic
def visit_window_capacity_set(*, window: VisitWindow, capacity: int, actor=None) -> VisitWindow:
    """Change how many visits fit; never below what is booked (checked in the UPDATE)."""
    _capacity_check(capacity)
    if not VisitWindow.objects.filter(pk=window.pk, booked__lte=capacity).update(capacity=capacity):
        window.refresh_from_db()
        raise DomainError(
            _("%(count)d visits are booked in this window; the capacity cannot go below that.")
            % {"count": window.booked},
            field="capacity",
        )
    window.refresh_from_db()
    return window


def _claim(window: VisitWindow) -> None:
    if not VisitWindow.objects.filter(pk=window.pk, booked__lt=F("capacity")).update(
        booked=F("booked") + 1
    ):
        raise DomainError(_("This window is full; choose another one."), field="window")


def _release(window_id: int) -> None:
    VisitWindow.objects.filter(pk=window_id, booked__gt=0).update(booked=F("booked") - 1)


# --- Visits -------------------------------------------------------------------------------


def _ticket_to(ticket: Ticket, status: str, actor, note: str = "") -> None:
    """Move the ticket along with its visit where the ticket's own moves allow it.

    A resolved or closed ticket stays so: calling off the visit of a ticket an outage
    resolved meanwhile must not reopen it (the customer's own message still does).
    """
    ticket.refresh_from_db()
    if ticket.is_done:
        return
    if ticket.status != status and status in MOVES.get(ticket.status, set()):
        ticket_services.ticket_transition(
            ticket=ticket, to=status, actor=actor, note=note, notify=False
        )


def _bookable(ticket: Ticket, window: VisitWindow, technician: Technician | None) -> None:
    if not permissions.books_visits(ticket):
        raise DomainError(_("Only tickets of the tech department can book a technician visit."))
    if ticket.is_done:
        raise DomainError(_("This ticket is already resolved."))
    if ticket.customer_id is None:
        raise DomainError(_("A visit needs a customer with an address."))
    if window.starts_at() <= timezone.now():
        raise DomainError(_("This window has already begun; choose a later one."), field="window")
    if not window.region.covers(ticket.customer.postal_code):
        raise DomainError(
            _("The customer's postal code %(code)s is not in the region %(region)s.")
            % {"code": ticket.customer.postal_code, "region": window.region.name},
            field="window",
        )
    if technician is not None and not (
        technician.is_active and technician.regions.filter(pk=window.region_id).exists()
    ):
        raise DomainError(_("This technician does not work in this region."), field="technician")


def _window_data(window: VisitWindow) -> dict:
    return {
        "window": window.pk,
        "region": window.region.name,
        "date": window.date.isoformat(),
        "from": window.starts.strftime("%H:%M"),
        "until": window.ends.strftime("%H:%M"),
    }


@transaction.atomic
def appointment_book(
    *,
    ticket: Ticket,
    window: VisitWindow,
    actor,
    technician: Technician | None = None,
    note: str = "",
    confirmed: bool = True,
    rebooking_of: Appointment | None = None,
) -> Appointment:
    """Book a visit for a tech ticket; the ticket goes to "scheduled", the customer is mailed.

    `confirmed` says the customer agreed on the phone; otherwise the visit is proposed
    and the customer confirms it in the portal. A rebooking after a missed visit is a
    priority visit: the dispatcher sees it first.
    """
    note = _text(note, field="note")
    _bookable(ticket, window, technician)
    if rebooking_of is not None and (
        rebooking_of.ticket_id != ticket.pk or rebooking_of.status != AppointmentStatus.MISSED
    ):
        raise DomainError(_("Only a missed visit of this ticket can be rebooked."))
    _claim(window)
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                ticket=ticket,
                window=window,
                technician=technician,
                status=AppointmentStatus.CONFIRMED if confirmed else AppointmentStatus.PROPOSED,
                is_priority=rebooking_of is not None,
                rebooking_of=rebooking_of,
                note=note,
                created_by=ticket_services._actor_or_none(actor),
            )
    except IntegrityError:
        raise DomainError(
            _("This ticket already has a visit booked; move that one instead.")
        ) from None
    ticket_services.event_record(
        ticket=ticket,
        kind="visit.booked",
        actor=actor,
        data={
            **_window_data(window),
            "status": appointment.status,
            "priority": appointment.is_priority,
        },
    )
    _ticket_to(ticket, Status.SCHEDULED, actor)
    mail.appointment_mail_queue(
        appointment=appointment, event="booked" if confirmed else "proposed"
    )
    return appointment


def _move(appointment: Appointment, to: str, *, expected_version: int | None, **changes) -> None:
    """Guarded status change of a visit along APPOINTMENT_MOVES (STYLE R3)."""
    old = appointment.status
    if to not in APPOINTMENT_MOVES[old]:
        raise DomainError(
            _("A visit that is “%(old)s” cannot become “%(new)s”.")
            % {"old": AppointmentStatus(old).label, "new": AppointmentStatus(to).label},
            field="status",
        )
    version = appointment.version if expected_version is None else expected_version
    now = timezone.now()
    if not Appointment.objects.filter(pk=appointment.pk, status=old, version=version).update(
        status=to, updated_at=now, version=F("version") + 1, **changes
    ):
        raise StaleEdit(_("Someone else changed this visit meanwhile; reload and try again."))
    appointment.refresh_from_db()


@transaction.atomic
def appointment_reschedule(
    *, appointment: Appointment, window: VisitWindow, actor, expected_version: int | None = None
) -> Appointment:
    """Move a visit to another window: the old one is kept as "rescheduled"."""
    if window.pk == appointment.window_id:
        raise DomainError(_("The visit is already in this window."), field="window")
    ticket = appointment.ticket
    _bookable(ticket, window, appointment.technician if appointment.technician else None)
    _move(appointment, AppointmentStatus.RESCHEDULED, expected_version=expected_version)
    _release(appointment.window_id)
    _claim(window)
    new = Appointment.objects.create(
        ticket=ticket,
        window=window,
        technician=appointment.technician,
        status=AppointmentStatus.CONFIRMED,
        is_priority=appointment.is_priority,
        rebooking_of=appointment.rebooking_of,
        note=appointment.note,
        created_by=ticket_services._actor_or_none(actor),
    )
    ticket_services.event_record(
        ticket=ticket,
        kind="visit.rescheduled",
        actor=actor,
        data={**_window_data(window), "previous": _window_data(appointment.window)},
    )
    _ticket_to(ticket, Status.SCHEDULED, actor)
    mail.appointment_mail_queue(appointment=new, event="rescheduled")
    return new


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, actor) -> Appointment:
    """The customer (portal) or an agent confirms a proposed visit."""
    _move(appointment, AppointmentStatus.CONFIRMED, expected_version=None)
    ticket_services.event_record(
        ticket=appointment.ticket,
        kind="visit.confirmed",
        actor=actor,
        data=_window_data(appointment.window),
    )
    return appointment


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor, reason: str = "", expected_version: int | None = None
) -> Appointment:
    """Cancel a visit; its place is freed and the ticket goes back to "open".

    A customer cancelling in the portal writes their reason on the ticket as a message;
    an agent's cancellation is mailed to the customer.
    """
    reason = _text(reason, field="reason")
    by_customer = actor is not None and ticket_services.roles.is_customer(actor)
    if by_customer and appointment.window.starts_at() <= timezone.now():
        raise DomainError(_("This visit has already begun; please call us."))
    _move(appointment, AppointmentStatus.CANCELLED, expected_version=expected_version)
    _release(appointment.window_id)
    ticket = appointment.ticket
    ticket_services.event_record(
        ticket=ticket,
        kind="visit.cancelled",
        actor=actor,
        data={**_window_data(appointment.window), "reason": reason, "by_customer": by_customer},
    )
    if by_customer:
        body = _("I cancel the technician visit on %(date)s, %(from)s–%(until)s.") % {
            "date": appointment.window.date.strftime("%d.%m.%Y"),
            "from": appointment.window.starts.strftime("%H:%M"),
            "until": appointment.window.ends.strftime("%H:%M"),
        }
        ticket_services.ticket_customer_message_add(
            ticket=ticket, body=f"{body}\n\n{reason}".strip(), actor=actor
        )
    _ticket_to(ticket, Status.OPEN, actor, note=_("Technician visit cancelled."))
    if not by_customer:
        mail.appointment_mail_queue(appointment=appointment, event="cancelled")
    return appointment


@transaction.atomic
def appointment_move_request(*, appointment: Appointment, actor, text: str) -> Appointment:
    """The customer asks (portal) to move a visit: the wish lands on the ticket for an agent."""
    text = _text(text, field="text", required=True)
    if not appointment.is_active:
        raise DomainError(_("This visit is no longer planned."))
    if appointment.window.starts_at() <= timezone.now():
        raise DomainError(_("This visit has already begun; please call us."))
    if appointment.move_requested_at is not None:
        raise DomainError(_("You have already asked to move this visit; we will get back to you."))
    now = timezone.now()
    if not Appointment.objects.filter(
        pk=appointment.pk, status__in=APPOINTMENT_ACTIVE, move_requested_at=None
    ).update(move_requested_at=now, move_request=text, updated_at=now, version=F("version") + 1):
        raise StaleEdit(_("Someone else changed this visit meanwhile; reload and try again."))
    appointment.refresh_from_db()
    window = appointment.window
    body = _("Please move the technician visit on %(date)s, %(from)s–%(until)s.") % {
        "date": window.date.strftime("%d.%m.%Y"),
        "from": window.starts.strftime("%H:%M"),
        "until": window.ends.strftime("%H:%M"),
    }
    ticket_services.ticket_customer_message_add(
        ticket=appointment.ticket, body=f"{body}\n\n{text}", actor=actor
    )
    ticket_services.event_record(
        ticket=appointment.ticket,
        kind="visit.move_requested",
        actor=actor,
        data=_window_data(window),
    )
    # Back into the working lists, so an agent calls the customer with a new window.
    _ticket_to(
        appointment.ticket, Status.OPEN, actor, note=_("The customer asks to move the visit.")
    )
    return appointment


def _after_start(appointment: Appointment) -> None:
    if appointment.window.starts_at() > timezone.now():
        raise DomainError(_("This visit has not begun yet."))


@transaction.atomic
def appointment_done(
    *, appointment: Appointment, actor, outcome: str = "", expected_version: int | None = None
) -> Appointment:
    """The technician was there; the ticket goes back to "open" for the agent to close."""
    outcome = _text(outcome, field="outcome")
    _after_start(appointment)
    _move(appointment, AppointmentStatus.DONE, expected_version=expected_version, outcome=outcome)
    ticket_services.event_record(
        ticket=appointment.ticket,
        kind="visit.done",
        actor=actor,
        data={**_window_data(appointment.window), "outcome": outcome},
    )
    _ticket_to(appointment.ticket, Status.OPEN, actor, note=_("Technician visit done."))
    return appointment


@transaction.atomic
def appointment_missed(
    *,
    appointment: Appointment,
    actor,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
) -> Appointment:
    """Record a missed visit; the ticket reopens with high priority for a priority rebooking."""
    if reason not in MissedReason.values:
        raise DomainError(_("Say why the visit was missed."), field="reason")
    note = _text(note, field="note")
    _after_start(appointment)
    _move(
        appointment,
        AppointmentStatus.MISSED,
        expected_version=expected_version,
        missed_reason=reason,
        outcome=note,
    )
    ticket = appointment.ticket
    ticket_services.event_record(
        ticket=ticket,
        kind="visit.missed",
        actor=actor,
        data={**_window_data(appointment.window), "reason": reason, "note": note},
    )
    _ticket_to(ticket, Status.OPEN, actor, note=_("Technician visit missed: rebook with priority."))
    ticket.refresh_from_db()
    if ticket.priority < Priority.HIGH and not ticket.is_done:
        ticket_services.ticket_priority_change(ticket=ticket, priority=Priority.HIGH, actor=actor)
    mail.appointment_mail_queue(appointment=appointment, event="missed")
    return appointment


@transaction.atomic
def appointment_technician_set(
    *, appointment: Appointment, technician: Technician | None, actor
) -> Appointment:
    """The dispatcher sends a technician (own staff or a subcontractor's) or none yet."""
    if not appointment.is_active:
        raise DomainError(_("This visit is no longer planned."))
    if technician is not None and not (
        technician.is_active and technician.regions.filter(pk=appointment.window.region_id).exists()
    ):
        raise DomainError(_("This technician does not work in this region."), field="technician")
    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(
        technician=technician, updated_at=now, version=F("version") + 1
    )
    appointment.refresh_from_db()
    ticket_services.event_record(
        ticket=appointment.ticket,
        kind="visit.technician_set",
        actor=actor,
        data={"technician": str(technician) if technician else None},
    )
    return appointment
