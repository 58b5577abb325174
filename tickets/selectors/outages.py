"""Read queries for outages: the banner check, the outage pages, the status page, the API."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from tickets.choices import OPEN_STATUSES, OUTAGE_ACTIVE
from tickets.models import Outage, OutageArea, OutageUpdate, Ticket, VisitRegion
from tickets.selectors import Page, keyset_page

PAGE_SIZE = 50


def _latest_update_text():
    return Subquery(
        OutageUpdate.objects.filter(outage=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )


def outages_affecting(*, postal_code: str, kinds) -> list[Outage]:
    """Active outages over this postal code for any of these services: one indexed query.

    The active outages come from the partial index `outage_active` (a handful of rows,
    whatever the number of resolved ones); each is probed for the postal code on
    `outage_area_range`. The services are a short list per outage, compared in Python.
    """
    if not postal_code:
        return []
    covering = OutageArea.objects.filter(
        outage=OuterRef("pk"), first__lte=postal_code, last__gte=postal_code
    )
    rows = (
        Outage.objects.filter(status__in=sorted(OUTAGE_ACTIVE))
        .filter(Exists(covering))
        .annotate(latest_update=_latest_update_text())
        .order_by("-started_at", "-id")
    )
    wanted = set(kinds)
    return [outage for outage in rows if wanted & set(outage.services)]


def outage_list(*, active: bool, cursor: str = "") -> Page:
    """Workspace list: active outages, or resolved ones newest first, with linked counts."""
    rows = Outage.objects.annotate(
        linked=Count("tickets"),
        linked_open=Count("tickets", filter=Q(tickets__status__in=sorted(OPEN_STATUSES))),
    )
    if active:
        rows = rows.filter(status__in=sorted(OUTAGE_ACTIVE))
        return keyset_page(rows, order=("-started_at", "-id"), cursor=cursor, size=PAGE_SIZE)
    rows = rows.exclude(status__in=sorted(OUTAGE_ACTIVE))
    return keyset_page(rows, order=("-resolved_at", "-id"), cursor=cursor, size=PAGE_SIZE)


def outage_detail_queryset() -> QuerySet[Outage]:
    return (
        Outage.objects.select_related("created_by")
        .prefetch_related(
            Prefetch(
                "updates",
                queryset=OutageUpdate.objects.select_related("author").order_by(
                    "-created_at", "-id"
                ),
            )
        )
        .annotate(
            linked=Count("tickets", distinct=True),
            linked_open=Count(
                "tickets", filter=Q(tickets__status__in=sorted(OPEN_STATUSES)), distinct=True
            ),
        )
    )


def outage_tickets(*, outage: Outage, cursor: str = "") -> Page:
    """The linked tickets in id order (index `ticket_outage`), with customer and queue."""
    rows = Ticket.objects.filter(outage=outage).select_related("customer", "queue__department")
    return keyset_page(rows, order=("id",), cursor=cursor, size=PAGE_SIZE)


def public_outages() -> list[dict]:
    """The status page: current outages grouped by visit region; no customer data.

    An outage shows under every region its postal codes touch, and under "other areas"
    for codes outside all regions. Three queries whatever the number of customers.
    """
    outages = list(
        Outage.objects.filter(status__in=sorted(OUTAGE_ACTIVE))
        .prefetch_related("areas")
        .annotate(latest_update=_latest_update_text())
        .order_by("-started_at", "-id")
    )
    regions = list(VisitRegion.objects.filter(is_active=True).order_by("name"))
    groups: dict[str, list[Outage]] = {region.name: [] for region in regions}
    other: list[Outage] = []
    for outage in outages:
        touched = [
            region.name
            for region in regions
            if any(
                first <= area.last and area.first <= last
                for area in outage.areas.all()
                for first, last in region.ranges
            )
        ]
        for name in touched:
            groups[name].append(outage)
        if not touched or _outside_all(outage, regions):
            other.append(outage)
    result = [{"region": name, "outages": rows} for name, rows in groups.items() if rows]
    if other:
        result.append({"region": None, "outages": other})
    return result


def _outside_all(outage: Outage, regions: list[VisitRegion]) -> bool:
    """Whether some code of the outage lies in no region (checked on range ends only)."""
    for area in outage.areas.all():
        for code in (area.first, area.last):
            if not any(region.covers(code) for region in regions):
                return True
    return False
