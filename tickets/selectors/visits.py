"""Read queries for technician visits: free windows, a ticket's visits, the day plan."""

from datetime import date

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from tickets.choices import APPOINTMENT_ACTIVE, AppointmentStatus
from tickets.models import Appointment, Technician, Ticket, VisitRegion, VisitWindow

FREE_WINDOWS_SHOWN = 12


def region_for_postal_code(postal_code: str) -> VisitRegion | None:
    """The active region serving this postal code (regions are few: one small query)."""
    if not postal_code:
        return None
    for region in VisitRegion.objects.filter(is_active=True).order_by("name"):
        if region.covers(postal_code):
            return region
    return None


def free_windows(*, region: VisitRegion, limit: int = FREE_WINDOWS_SHOWN) -> list[VisitWindow]:
    """The next windows with room in the region, soonest first (index `window_day`)."""
    now = timezone.localtime()
    rows = (
        VisitWindow.objects.filter(region=region, booked__lt=F("capacity"), date__gte=now.date())
        .select_related("region")
        .order_by("date", "starts")
    )
    # Today's windows that already began are not offered; fetch a few extra for them.
    found = [window for window in rows[: limit + 6] if window.starts_at() > now]
    return found[:limit]


def ticket_visits(*, ticket: Ticket) -> list[Appointment]:
    """All visits of a ticket, newest first, with window and technician."""
    return list(
        Appointment.objects.filter(ticket=ticket)
        .select_related("window__region", "technician")
        .order_by("-created_at", "-id")
    )


def active_visit(visits: list[Appointment]) -> Appointment | None:
    return next((visit for visit in visits if visit.status in APPOINTMENT_ACTIVE), None)


def last_missed(visits: list[Appointment]) -> Appointment | None:
    """The missed visit a rebooking would replace, if the ticket has no visit planned."""
    if active_visit(visits) is not None:
        return None
    return next((v for v in visits if v.status == AppointmentStatus.MISSED), None)


def dispatcher_day(*, day: date, region: VisitRegion | None = None) -> list[dict]:
    """The day's windows by region with their visits: priority visits first in a window.

    Three queries whatever the day holds: windows, visits (with ticket, customer and
    technician), technicians per region for the assignment menus.
    """
    windows = (
        VisitWindow.objects.filter(date=day)
        .select_related("region")
        .order_by("region__name", "starts")
    )
    if region is not None:
        windows = windows.filter(region=region)
    visits = (
        Appointment.objects.exclude(status=AppointmentStatus.RESCHEDULED)
        .select_related("ticket__customer", "technician")
        .order_by("-is_priority", "created_at", "id")
    )
    windows = list(windows.prefetch_related(Prefetch("appointments", queryset=visits)))
    technicians = Technician.objects.filter(is_active=True).order_by("company", "name")
    regions = VisitRegion.objects.filter(
        pk__in={window.region_id for window in windows}
    ).prefetch_related(Prefetch("technicians", queryset=technicians))
    by_region = {r.pk: list(r.technicians.all()) for r in regions}
    plan: dict[int, dict] = {}
    for window in windows:
        entry = plan.setdefault(
            window.region_id,
            {
                "region": window.region,
                "windows": [],
                "technicians": by_region.get(window.region_id, []),
            },
        )
        entry["windows"].append(window)
    return list(plan.values())


def regions() -> QuerySet[VisitRegion]:
    return VisitRegion.objects.filter(is_active=True).order_by("name")


def region_technicians(*, region: VisitRegion) -> list[Technician]:
    """The region's active technicians, for the booking page's menu (one query)."""
    return list(
        Technician.objects.filter(is_active=True, regions=region).order_by("company", "name")
    )
