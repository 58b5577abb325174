"""The one place where access to customer data is decided (see STYLE.md R7).

Staff (agents, team leads, management) may read every customer record; account changes
additionally need an open phone-password verification (checked in services). A customer
reaches only their own record. Private credentials are never readable through any of it.
Line state is reported by network monitoring only (an integration, never a staff session).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from customers.models import Connection, Contract, Customer, Invoice
from helpdesk import permissions as roles


def customers_visible_to(user):
    if roles.is_staff_member(user) or roles.is_integration(user):
        return Customer.objects.all()  # integrations are further limited by token scopes
    if roles.can_use_portal(user):
        return Customer.objects.filter(user=user)
    return Customer.objects.none()


def customer_for(user, number: str, queryset=None) -> Customer:
    """The customer with that number if the user may see it; 404 for missing and not yours."""
    visible = customers_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, number=number)


def own_customer(user) -> Customer:
    """The signed-in customer's own record (portal pages)."""
    customer = Customer.objects.filter(user=user).first() if roles.can_use_portal(user) else None
    if customer is None:
        raise Http404
    return customer


def own_contract(user, contract_id: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("product", "customer"),
        pk=contract_id,
        customer__user=user,
    )


def own_invoices(user):
    return Invoice.objects.filter(customer__user=user)


def can_report_line_state(user) -> bool:
    """Line state comes from network monitoring (an integration's token with
    `connections:write`); a person never reports it on the monitoring's behalf."""
    return roles.is_integration(user)


def ensure_can_report_line_state(user) -> None:
    if not can_report_line_state(user):
        raise PermissionDenied


def connection_for(user, connection_id: int, *, customer: Customer | None = None) -> Connection:
    """A connection of a customer the user may see (of `customer`, when given)."""
    rows = Connection.objects.select_related("customer").filter(
        customer__in=customers_visible_to(user)
    )
    if customer is not None:
        rows = rows.filter(customer=customer)
    return get_object_or_404(rows, pk=connection_id)


def contract_for(user, contract_id: int, *, customer: Customer | None = None) -> Contract:
    """A contract of a customer the user may see (of `customer`, when given)."""
    rows = Contract.objects.select_related("product", "customer").filter(
        customer__in=customers_visible_to(user)
    )
    if customer is not None:
        rows = rows.filter(customer=customer)
    return get_object_or_404(rows, pk=contract_id)
