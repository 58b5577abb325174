"""`manage.py seed_demo` for customers: 200 realistic customers, created once."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from customers import demo, services
from customers.choices import (
    CredentialKind,
    InvoiceStatus,
    LineState,
    PhoneKind,
    ServiceKind,
    VerificationResult,
)
from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerEvent,
    CustomerNote,
    Invoice,
    Order,
    PhoneNumber,
    PrivateCredential,
    Product,
)
from helpdesk import crypto

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

MODELS = [
    Product,
    Customer,
    PhoneNumber,
    Contract,
    Connection,
    Invoice,
    CreditNote,
    Order,
    CustomerNote,
    PrivateCredential,
    CustomerEvent,
]


@pytest.fixture
def seed(settings):
    settings.DEBUG = True
    # seed_demo hashes a dozen passwords; PBKDF2's real cost would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def run() -> str:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    return run


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_running_it_twice_creates_nothing_new(seed):
    seed()
    first = counts()
    seed()
    assert counts() == first
    assert first["Customer"] == 200 and first["Product"] == 10


def test_every_run_plans_the_same_customers():
    def planned():
        products = {
            name: Product(name=name, kind=kind, monthly_price=Decimal(price))
            for name, kind, price, _term, _notice in demo.PRODUCTS
        }
        planner = demo._Planner(products=products, today=date(2026, 3, 1), now=NOW)
        return [
            (
                p.customer.number,
                p.customer.full_name,
                p.customer.street,
                p.customer.email,
                [c.number for c in p.contracts],
                [i.amount for i in p.invoices],
            )
            for p in planner.plans()
        ]

    assert planned() == planned()


def test_it_creates_200_german_customers_with_their_records(seed):
    seed()
    numbers = set(Customer.objects.values_list("number", flat=True))
    assert numbers == {f"K{1000001 + i}" for i in range(200)}
    places = {(code, city) for code, city, _area in demo.PLACES}
    for customer in Customer.objects.all():
        assert (customer.postal_code, customer.city) in places
        assert customer.search_name == Customer.search_name_for(
            customer.first_name, customer.last_name
        )
        assert customer.street[-1].isdigit() or customer.street[-1] == "a"
    assert Customer.objects.filter(segment="business").exclude(company="").count() >= 15
    assert Customer.objects.exclude(language="de").exists()
    assert not Customer.objects.filter(contracts=None).exists()
    assert not Customer.objects.filter(invoices=None).exists()
    assert not Customer.objects.filter(phones=None).exists()


def test_it_has_overdue_credited_and_open_invoices(seed):
    seed()
    assert Invoice.objects.filter(status=InvoiceStatus.OVERDUE).count() >= 5
    assert Invoice.objects.filter(status=InvoiceStatus.OPEN).exists()
    credited = Invoice.objects.filter(status=InvoiceStatus.CREDITED)
    assert credited.exists()
    assert CreditNote.objects.filter(invoice__in=credited).count() == credited.count()
    assert Contract.objects.filter(status="cancellation_requested", end_date__isnull=False).exists()


def test_it_has_lines_offline_unstable_and_voip_numbers(seed):
    seed()
    assert Connection.objects.filter(state=LineState.OFFLINE).count() >= 10
    assert Connection.objects.filter(kind=ServiceKind.DSL, sync_drops_24h__gte=3).count() >= 10
    for voip in Connection.objects.filter(kind=ServiceKind.VOIP):
        registered = voip.numbers.filter(kind=PhoneKind.REGISTERED)
        assert 1 <= registered.count() <= 3
    for domain in Connection.objects.filter(kind=ServiceKind.DOMAIN):
        assert domain.identifier.endswith(".de")
        assert crypto.decrypt(domain.auth_code_encrypted)


def test_it_links_alice_and_mallory_to_their_customers(seed):
    seed()
    assert Customer.objects.get(number="K1000001").user == User.objects.get(username="alice")
    assert Customer.objects.get(number="K1000002").user == User.objects.get(username="mallory")


def test_demo_phone_passwords_verify_and_are_printed(seed):
    output = seed()
    tina = User.objects.get(username="tina")
    assert tina.is_staff
    assert len(demo.DEMO_PHONE_PASSWORDS) >= 6
    for number, phone_password in demo.DEMO_PHONE_PASSWORDS.items():
        customer = Customer.objects.get(number=number)
        assert services.phone_password_problems(customer=customer, raw=phone_password) == []
        assert phone_password not in customer.phone_password
        state = services.phone_password_verify(customer=customer, spoken=phone_password, agent=tina)
        assert state.result == VerificationResult.SUCCESS
        assert f"{number} → {phone_password}" in output
    assert Customer.objects.exclude(phone_password="").count() == len(demo.DEMO_PHONE_PASSWORDS)


def test_private_credentials_are_stored_encrypted(seed):
    seed()
    credentials = list(PrivateCredential.objects.all())
    assert {c.kind for c in credentials} == set(CredentialKind.values)
    for credential in credentials:
        plaintext = crypto.decrypt(credential.secret_encrypted)
        assert plaintext
        assert plaintext.encode() not in bytes(credential.secret_encrypted)
        assert credential.connection.customer_id == credential.customer_id
