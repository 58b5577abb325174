"""Read queries of the customers app, used by pages and the API."""

import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from customers.models import (
    Connection,
    Contract,
    Customer,
    CustomerNote,
    Invoice,
    PhoneNumber,
    VerificationAttempt,
    search_text,
)

NUMBER_RE = re.compile(r"^k?\d{7}$", re.IGNORECASE)
POSTAL_CODE_RE = re.compile(r"^\d{5}$")
PHONE_RE = re.compile(r"^[+\d][\d\s/()-]{5,}$")
SECTION_LIMIT = 20  # rows per section on the customer page; the rest on their own pages
INVOICE_SECTION_LIMIT = 10


def search_filter(query: str) -> Q | None:
    """Turn what an agent typed into one index-backed lookup.

    Customer number, postal code, e-mail and phone are exact matches; a name is a prefix
    of "last first" (or "first last" typed the other way round).
    """
    query = " ".join(query.split())
    if not query:
        return None
    if NUMBER_RE.match(query):
        return Q(number="K" + query[-7:])
    if POSTAL_CODE_RE.match(query):
        return Q(postal_code=query)
    if "@" in query:
        return Q(email=query.lower())
    if PHONE_RE.match(query) and sum(ch.isdigit() for ch in query) >= 6:
        customer_ids = PhoneNumber.objects.filter(normalized=PhoneNumber.normalize(query)).values(
            "customer_id"
        )
        return Q(pk__in=customer_ids)
    words = search_text(query.replace(",", " ")).split()
    if len(words) == 1:
        return Q(search_name__startswith=words[0])
    first, rest = words[0], " ".join(words[1:])
    return Q(search_name__startswith=" ".join(words)) | Q(search_name__startswith=f"{rest} {first}")


SEARCH_PAGE_SIZE = 25
INVOICE_PAGE_SIZE = 50


def is_exact_lookup(query: str) -> bool:
    """A customer number, e-mail or phone number: one hit means "open it"."""
    query = query.strip()
    return bool(NUMBER_RE.match(query)) or "@" in query


def customer_search(
    *, query: str, after: tuple[str, int] | None = None, limit: int = SEARCH_PAGE_SIZE
):
    """One page of matches ordered by name, plus one row to tell whether more follow.

    `after` is the (search_name, id) of the last row shown (keyset pagination: every page
    costs the same, however many customers there are)."""
    condition = search_filter(query)
    if condition is None:
        return []
    rows = Customer.objects.filter(condition).order_by("search_name", "id")
    if after is not None:
        name, pk = after
        # The redundant `>=` lets PostgreSQL use it as an index condition, not a filter.
        rows = rows.filter(search_name__gte=name).filter(
            Q(search_name__gt=name) | Q(search_name=name, id__gt=pk)
        )
    return list(rows.only(*LIST_FIELDS)[: limit + 1])


LIST_FIELDS = (
    "id",
    "number",
    "first_name",
    "last_name",
    "company",
    "street",
    "postal_code",
    "city",
    "segment",
    "search_name",
    "email",
)


@dataclass
class CustomerOverview:
    """Everything the agent's customer page shows, loaded with a fixed number of queries."""

    customer: Customer
    contracts: list[Contract]
    invoices: list[Invoice]
    orders: list
    connections: list[Connection]
    notes: list[CustomerNote]
    attempts: list[VerificationAttempt]


def customer_overview(*, customer: Customer) -> CustomerOverview:
    """Seven queries whatever the number of contracts, invoices or notes."""
    contracts = list(customer.contracts.select_related("product"))
    invoices = list(customer.invoices.all()[:INVOICE_SECTION_LIMIT])
    orders = list(customer.orders.all()[:SECTION_LIMIT])
    connections = list(
        customer.connections.prefetch_related(
            Prefetch("numbers", queryset=PhoneNumber.objects.order_by("number"))
        )
    )
    notes = list(customer.notes.select_related("author")[:SECTION_LIMIT])
    attempts = list(customer.verification_attempts.select_related("agent")[:SECTION_LIMIT])
    return CustomerOverview(customer, contracts, invoices, orders, connections, notes, attempts)


def customer_queryset() -> QuerySet:
    """Customers as the record page needs them (contact numbers prefetched)."""
    return Customer.objects.prefetch_related(
        Prefetch("phones", queryset=PhoneNumber.objects.filter(connection=None))
    )


@dataclass
class InvoicePage:
    rows: list[Invoice]
    next_after: str | None


def invoice_page(*, customer: Customer, after: str = "") -> InvoicePage:
    """Newest invoices first; `after` is "YYYY-MM-DD|id" of the last row shown."""
    rows = Invoice.objects.filter(customer=customer).order_by("-issued_on", "-id")
    day, _sep, pk = after.rpartition("|")
    if pk.isdigit() and re.match(r"^\d{4}-\d{2}-\d{2}$", day):
        rows = rows.filter(Q(issued_on__lt=day) | Q(issued_on=day, id__lt=int(pk)))
    found = list(rows[: INVOICE_PAGE_SIZE + 1])
    next_after = None
    if len(found) > INVOICE_PAGE_SIZE:
        found = found[:INVOICE_PAGE_SIZE]
        next_after = f"{found[-1].issued_on.isoformat()}|{found[-1].pk}"
    return InvoicePage(found, next_after)


def contracts_of(*, customer: Customer) -> QuerySet:
    return customer.contracts.select_related("product")


def invoices_of(*, customer: Customer) -> QuerySet:
    return customer.invoices.all()
