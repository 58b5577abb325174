"""Customer records for the personas: alice owns K1000001, mallory owns K1000002."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from customers import services
from customers.choices import CredentialKind, InvoiceStatus, LineState, PhoneKind, ServiceKind
from customers.models import Connection, Contract, Invoice, PhoneNumber, Product

PHONE_PASSWORD = "Sonnenblume 42"
CANARY = "CANARY-dsl-secret-7f3a"


@pytest.fixture
def dsl_100(db):
    return Product.objects.create(name="DSL 100", kind=ServiceKind.DSL, monthly_price="39.99")


@pytest.fixture
def dsl_250(db):
    return Product.objects.create(name="DSL 250", kind=ServiceKind.DSL, monthly_price="49.99")


@pytest.fixture
def domain_product(db):
    return Product.objects.create(
        name="Domain .de", kind=ServiceKind.DOMAIN, monthly_price="0.99", minimum_term_months=12
    )


def _with_phone_password(customer, raw: str):
    customer.phone_password = make_password(services.phone_password_normalize(raw))
    customer.save(update_fields=["phone_password"])
    return customer


@pytest.fixture
def erika(alice):
    customer = services.customer_create(
        number="K1000001",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="Erika@Example.de",
        birth_date=date(1964, 8, 12),
        user=alice,
        phones=("0221 1234567",),
    )
    return _with_phone_password(customer, PHONE_PASSWORD)


@pytest.fixture
def malte(mallory):
    customer = services.customer_create(
        number="K1000002",
        first_name="Malte",
        last_name="Meier",
        street="Lindenallee 3",
        postal_code="10115",
        city="Berlin",
        email="malte@example.de",
        user=mallory,
        phones=("+49 30 9876543",),
    )
    return _with_phone_password(customer, "Regenbogen 7")


@pytest.fixture
def erika_contract(erika, dsl_100):
    return Contract.objects.create(
        customer=erika,
        product=dsl_100,
        number="V-1000001-1",
        start_date=date(2025, 3, 1),
        minimum_term_months=24,
        notice_period_months=1,
        monthly_price=dsl_100.monthly_price,
    )


@pytest.fixture
def malte_contract(malte, dsl_100):
    return Contract.objects.create(
        customer=malte,
        product=dsl_100,
        number="V-1000002-1",
        start_date=date(2020, 1, 1),
        minimum_term_months=24,
        notice_period_months=1,
        monthly_price=dsl_100.monthly_price,
    )


@pytest.fixture
def erika_line(erika, erika_contract):
    line = Connection.objects.create(
        customer=erika,
        contract=erika_contract,
        kind=ServiceKind.DSL,
        identifier="DEU.1234.5678",
        state=LineState.OFFLINE,
        sync_drops_24h=7,
        last_sync_at=timezone.now(),
    )
    services.credential_store(
        customer=erika, connection=line, kind=CredentialKind.DSL_PASSWORD, secret=CANARY
    )
    return line


@pytest.fixture
def erika_domain(erika, domain_product):
    domain = Connection.objects.create(
        customer=erika, kind=ServiceKind.DOMAIN, identifier="musterfrau.de"
    )
    services.connection_auth_code_store(connection=domain, auth_code="AUTH-xyz-123")
    return domain


@pytest.fixture
def erika_voip(erika):
    line = Connection.objects.create(customer=erika, kind=ServiceKind.VOIP, identifier="VOIP-1")
    PhoneNumber.objects.create(
        customer=erika,
        connection=line,
        kind=PhoneKind.REGISTERED,
        number="0221 555001",
        normalized="0221555001",
    )
    return line


def make_invoices(customer, count: int, status=InvoiceStatus.PAID) -> None:
    first = Invoice.objects.filter(customer=customer).count()
    Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            number=f"R{customer.number}-{i:04}",
            issued_on=date(2026, 1, 1).replace(day=1 + i % 28),
            due_on=date(2026, 2, 1),
            amount=Decimal("39.99"),
            status=status,
        )
        for i in range(first, first + count)
    )
