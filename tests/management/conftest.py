"""Requests to management: Erika (alice) with a prepaid hosting contract and an invoice,
Malte (mallory) with his own, and max as management."""

# The customer records come from the customers tests' fixtures; the fixtures below take
# them as arguments, which ruff reads as redefining the imported names.
# ruff: noqa: F811

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.choices import InvoiceStatus, ServiceKind
from customers.models import Contract, Invoice, Product
from escalation.choices import ProposalKind
from escalation.services import management as services
from tests.customers.conftest import dsl_100, erika, erika_contract, malte  # noqa: F401


@pytest.fixture
def hosting(db):
    return Product.objects.create(
        name="Webhosting M", kind=ServiceKind.HOSTING, monthly_price="9.99", minimum_term_months=12
    )


def _contract(customer, product, number: str, *, prepaid_months: int | None = None) -> Contract:
    today = timezone.localdate()
    return Contract.objects.create(
        customer=customer,
        product=product,
        number=number,
        start_date=today - timedelta(days=200),
        minimum_term_months=12,
        notice_period_months=3,
        monthly_price=product.monthly_price,
        prepaid_until=today + timedelta(days=30 * prepaid_months) if prepaid_months else None,
    )


@pytest.fixture
def erika_hosting(erika, hosting):
    """Paid a year in advance: about six months are prepaid from today."""
    return _contract(erika, hosting, "V-1000001-2", prepaid_months=6)


@pytest.fixture
def malte_hosting(malte, hosting):
    return _contract(malte, hosting, "V-1000002-1", prepaid_months=6)


def _invoice(customer, number: str, amount: str) -> Invoice:
    today = timezone.localdate()
    return Invoice.objects.create(
        customer=customer,
        number=number,
        issued_on=today - timedelta(days=20),
        due_on=today - timedelta(days=6),
        amount=Decimal(amount),
        status=InvoiceStatus.PAID,
    )


@pytest.fixture
def erika_invoice(erika):
    return _invoice(erika, "R-2026-0001", "59.94")


@pytest.fixture
def malte_invoice(malte):
    return _invoice(malte, "R-2026-0002", "39.99")


@pytest.fixture
def erika_request(erika, alice):
    return services.management_request_create(
        customer=erika,
        subject="Drei Wochen ohne Internet",
        text="Ich bin seit drei Wochen ohne Internet und niemand hilft mir.",
        actor=alice,
    )


@pytest.fixture
def malte_request(malte, mallory):
    return services.management_request_create(
        customer=malte, subject="Beschwerde", text="Meine Website war offline.", actor=mallory
    )


@pytest.fixture
def credit_proposal(erika_request, erika_invoice, max_):
    return services.proposal_make(
        request=erika_request,
        kind=ProposalKind.CREDIT_NOTE,
        findings="Die Leitung war vom 1. bis 21. gestört.",
        amount="25.00",
        invoice=erika_invoice,
        actor=max_,
    )


@pytest.fixture
def termination_proposal(erika_request, erika_hosting, max_):
    return services.proposal_make(
        request=erika_request,
        kind=ProposalKind.TERMINATION,
        findings="Wir können die Leitung nicht stabil liefern.",
        contract=erika_hosting,
        end_date=timezone.localdate() + timedelta(days=14),
        free_month=True,
        actor=max_,
    )
