"""Read queries for outages: the banner check, the outage pages, the status page, the API."""

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

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


def outages_for_customer(*, customer, kinds=None) -> list[Outage]:
    """The outages affecting a customer (their postal code, their services); none without one.

    `kinds` are the customer's services when the caller has read their connections
    already (the customer record); otherwise they cost one query more.
    """
    if customer is None:
        return []
    if kinds is None:
        kinds = set(customer.connections.values_list("kind", flat=True))
    return outages_affecting(postal_code=customer.postal_code, kinds=kinds)


def _linked_count(**filters) -> Coalesce:
    """Tickets linked to the outage row, counted per row on the index `ticket_outage`.

    A subquery, not a join with GROUP BY: it runs for the rows of the page only, however
    many tickets older outages carry.
    """
    counted = (
        Ticket.objects.filter(outage=OuterRef("pk"), **filters)
        .order_by()
        .values("outage")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_linked_counts(rows: QuerySet[Outage]) -> QuerySet[Outage]:
    return rows.annotate(
        linked=_linked_count(), linked_open=_linked_count(status__in=sorted(OPEN_STATUSES))
    )


def outage_rows(*, filters: dict) -> QuerySet[Outage]:
    """The API list: filtered, with the linked counts and the latest update (two queries)."""
    rows = _with_linked_counts(Outage.objects).prefetch_related(
        Prefetch(
            "updates",
            queryset=OutageUpdate.objects.select_related("author").order_by("-created_at", "-id")[
                :1
            ],
            to_attr="latest_updates",
        )
    )
    if filters.get("status"):
        rows = rows.filter(status__in=sorted(set(filters["status"])))
    if filters.get("active") is True:
        rows = rows.filter(status__in=sorted(OUTAGE_ACTIVE))
    elif filters.get("active") is False:
        rows = rows.exclude(status__in=sorted(OUTAGE_ACTIVE))
    if filters.get("postal_code"):
        code = filters["postal_code"]
        rows = rows.filter(
            Exists(
                OutageArea.objects.filter(outage=OuterRef("pk"), first__lte=code, last__gte=code)
            )
        )
    return rows


def outage_list(*, active: bool, cursor: str = "") -> Page:
    """Workspace list: active outages, or resolved ones newest first, with linked counts."""
    rows = _with_linked_counts(Outage.objects)
    if active:
        rows = rows.filter(status__in=sorted(OUTAGE_ACTIVE))
        return keyset_page(rows, order=("-started_at", "-id"), cursor=cursor, size=PAGE_SIZE)
    rows = rows.exclude(status__in=sorted(OUTAGE_ACTIVE))
    return keyset_page(rows, order=("-resolved_at", "-id"), cursor=cursor, size=PAGE_SIZE)


def outage_detail_queryset() -> QuerySet[Outage]:
    return _with_linked_counts(Outage.objects.select_related("created_by")).prefetch_related(
        Prefetch(
            "updates",
            queryset=OutageUpdate.objects.select_related("author").order_by("-created_at", "-id"),
        )
    )


def notify_progress(*, outage: Outage, updates: list[OutageUpdate]) -> None:
    """Set `notified_count` on each update still being mailed: how many linked tickets its
    batches have passed (one query, and only while a notice is going out)."""
    pending = [update for update in updates if update.notify and not update.notified_at]
    if not pending:
        return
    counts = Ticket.objects.filter(outage=outage).aggregate(
        **{
            f"u{update.pk}": Count("id", filter=Q(id__lte=update.notified_through))
            for update in pending
        }
    )
    for update in pending:
        update.notified_count = counts[f"u{update.pk}"]


def outage_get(raw_id: str) -> Outage | None:
    """The outage a form names by number; None for no number, a too large one or a gone one."""
    if not raw_id.isdigit() or len(raw_id) > 18:  # beyond the database's integer: not ours
        return None
    return Outage.objects.filter(pk=int(raw_id)).first()


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
