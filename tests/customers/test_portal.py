"""The customer portal: a customer sees and changes only their own account.

Alice owns K3000001, mallory owns K3000002; bob is an agent and never enters the portal.
Pages render in German (the default language); expected texts are looked up through the
same catalogue, so the tests hold before and after the German translations are added.
"""

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from customers import services
from customers.choices import ContractStatus, InvoiceStatus, Segment, ServiceKind
from customers.models import Contract, Customer, CustomerEvent, Invoice, Product, add_months
from helpdesk.errors import DomainError
from tests.conftest import PASSWORD
from tickets.choices import Channel
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NEW_PHONE_PASSWORD = "Kleiner gruener Kaktus"


def de(text: str) -> str:
    """`text` as the German page shows it: translated (once the catalogue has it), escaped."""
    with translation.override("de"):
        return html.escape(translation.gettext(text))


def de_date(day: date, fmt: str = "SHORT_DATE_FORMAT") -> str:
    with translation.override("de"):
        return formats.date_format(day, fmt)


def page_of(response) -> str:
    return response.content.decode()


# --- Data -------------------------------------------------------------------------------


@pytest.fixture
def alice_customer(alice):
    return services.customer_create(
        number="K3000001",
        first_name="Alice",
        last_name="Schmidt",
        street="Lindenstraße 5",
        postal_code="10115",
        city="Berlin",
        email="Alice.Schmidt@Example.de",
        birth_date=date(1985, 3, 14),
        segment=Segment.BUSINESS,
        company="Schmidt Webdesign",
        user=alice,
        phones=("030 1234567",),
    )


@pytest.fixture
def mallory_customer(mallory):
    return services.customer_create(
        number="K3000002",
        first_name="Mallory",
        last_name="Meier",
        street="Hafenstraße 9",
        postal_code="20095",
        city="Hamburg",
        email="mallory@example.de",
        user=mallory,
        phones=("040 7654321",),
    )


@pytest.fixture
def tariff(db):
    return Product.objects.create(
        name="Glasfaser 500",
        kind=ServiceKind.DSL,
        monthly_price=Decimal("49.90"),
        minimum_term_months=24,
        notice_period_months=1,
    )


def contract_of(customer, product, number: str, start: date, **extra) -> Contract:
    return Contract.objects.create(
        customer=customer,
        product=product,
        number=number,
        start_date=start,
        minimum_term_months=product.minimum_term_months,
        notice_period_months=product.notice_period_months,
        monthly_price=product.monthly_price,
        **extra,
    )


@pytest.fixture
def alice_contract(alice_customer, tariff):
    """Past its minimum term: a cancellation ends it one month after notice."""
    start = add_months(timezone.localdate(), -30)
    return contract_of(alice_customer, tariff, "V-3000001-1", start)


@pytest.fixture
def alice_new_contract(alice_customer, tariff):
    """Three months old: a cancellation ends it only at the end of the minimum term."""
    start = add_months(timezone.localdate(), -3)
    return contract_of(alice_customer, tariff, "V-3000001-2", start)


@pytest.fixture
def alice_ended_contract(alice_customer, tariff):
    return contract_of(
        alice_customer,
        tariff,
        "V-3000001-0",
        date(2019, 5, 1),
        status=ContractStatus.ENDED,
        end_date=date(2021, 4, 30),
    )


@pytest.fixture
def mallory_contract(mallory_customer, tariff):
    return contract_of(mallory_customer, tariff, "V-3000002-1", date(2020, 1, 1))


def invoices_for(customer, count: int, *, overdue: int = 0) -> list[Invoice]:
    """`count` monthly invoices, newest first; the newest `overdue` of them overdue."""
    today = timezone.localdate()
    return Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            number=f"R{customer.number[1:]}-{i:03}",
            issued_on=add_months(today, -i),
            due_on=add_months(today, -i) + timedelta(days=14),
            amount=Decimal("49.90"),
            status=InvoiceStatus.OVERDUE if i < overdue else InvoiceStatus.PAID,
        )
        for i in range(count)
    )


# --- Who gets in --------------------------------------------------------------------------

PORTAL_PAGES = [
    "/portal/account/",
    "/portal/contracts/",
    "/portal/invoices/",
    "/portal/phone-password/",
    "/portal/password/",
]


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_anonymous_is_sent_to_the_portal_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/login/?next={path}"


def test_anonymous_is_sent_to_sign_in_from_the_cancel_page(client, alice_contract):
    path = reverse("portal-contract-cancel", args=[alice_contract.pk])
    response = client.post(path)
    assert response["Location"].startswith("/portal/login/")
    alice_contract.refresh_from_db()
    assert alice_contract.status == ContractStatus.ACTIVE


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_agents_get_403_on_portal_pages(client, bob, path):
    client.force_login(bob)
    response = client.get(path)
    assert response.status_code == 403
    assert "Diese Seite gehört zum Kundenportal." in page_of(response)


def test_agent_gets_403_on_a_customers_cancel_page(client, bob, alice_contract):
    client.force_login(bob)
    path = reverse("portal-contract-cancel", args=[alice_contract.pk])
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
    alice_contract.refresh_from_db()
    assert alice_contract.status == ContractStatus.ACTIVE


# --- Home and account ---------------------------------------------------------------------


def test_account_shows_the_customers_own_data(
    client, alice, alice_customer, mallory_customer, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("portal-account"))
    page = page_of(response)
    assert response.status_code == 200
    assert "Kundenportal" in page
    for value in (
        "K3000001",
        "Alice Schmidt",
        "Schmidt Webdesign",
        "Lindenstraße 5",
        "10115 Berlin",
        "alice.schmidt@example.de",
        "030 1234567",
        de("Business"),
    ):
        assert value in page
    assert "K3000002" not in page and "Hafenstraße" not in page


def test_account_and_home_point_to_the_phone_password_while_none_is_set(
    client, alice, alice_customer
):
    client.force_login(alice)
    setup_url = reverse("portal-phone-password")
    for url in (reverse("portal-account"), reverse("portal-home")):
        page = page_of(client.get(url))
        assert 'data-testid="phone-password-hint"' in page
        assert f'href="{setup_url}"' in page
        assert de("You have not set a phone password yet.") in page


def test_hint_disappears_once_the_phone_password_is_set(client, alice, alice_customer):
    services.customer_phone_password_set(
        customer=alice_customer,
        phone_password=NEW_PHONE_PASSWORD,
        current_web_password=PASSWORD,
        actor=alice,
    )
    client.force_login(alice)
    for url in (reverse("portal-account"), reverse("portal-home")):
        assert 'data-testid="phone-password-hint"' not in page_of(client.get(url))
    assert de("Change phone password") in page_of(client.get(reverse("portal-account")))


def test_home_still_greets_in_german_and_links_the_portal_pages(client, alice, alice_customer):
    client.force_login(alice)
    page = page_of(client.get(reverse("portal-home")))
    assert "Meine Anliegen" in page
    for name in ("portal-account", "portal-contracts", "portal-invoices"):
        assert f'href="{reverse(name)}"' in page


def test_customer_login_without_a_record_gets_404_not_someone_elses(
    client, alice, mallory_customer
):
    client.force_login(alice)
    assert client.get(reverse("portal-account")).status_code == 404
    assert client.get(reverse("portal-phone-password")).status_code == 404
    assert client.get(reverse("portal-home")).status_code == 200


# --- Contracts and cancellation -----------------------------------------------------------


def test_contract_list_offers_cancellation_only_for_active_contracts(
    client, alice, alice_contract, alice_ended_contract, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("portal-contracts"))
    page = page_of(response)
    assert "Glasfaser 500" in page
    assert "49,90 €" in page  # German number format
    assert de_date(alice_contract.start_date) in page
    cancel_url = reverse("portal-contract-cancel", args=[alice_contract.pk])
    assert f'href="{cancel_url}"' in page
    ended_url = reverse("portal-contract-cancel", args=[alice_ended_contract.pk])
    assert ended_url not in page
    assert de("Ended") in page
    assert de_date(date(2021, 4, 30)) in page


def test_contract_list_query_count_does_not_grow_with_contracts(
    client, alice, alice_customer, tariff, django_assert_max_num_queries
):
    for i in range(25):
        contract_of(alice_customer, tariff, f"V-3000001-{i + 10}", date(2022, 1, 1))
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        first = page_of(client.get(reverse("portal-contracts")))
    with django_assert_max_num_queries(6):
        second = page_of(client.get(reverse("portal-contracts") + "?page=2"))
    assert first.count('data-testid="contract-') == 20
    assert second.count('data-testid="contract-') == 5


def test_mallory_sees_only_her_contracts(client, mallory, mallory_contract, alice_contract):
    client.force_login(mallory)
    page = page_of(client.get(reverse("portal-contracts")))
    assert mallory_contract.number in page
    assert alice_contract.number not in page


def test_cancel_page_shows_the_earliest_end_before_anything_changes(
    client, alice, alice_contract, django_assert_max_num_queries
):
    client.force_login(alice)
    expected = alice_contract.earliest_end(notice_given_on=timezone.localdate())
    assert expected == add_months(timezone.localdate(), 1)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("portal-contract-cancel", args=[alice_contract.pk]))
    page = page_of(response)
    assert response.status_code == 200
    assert de_date(expected, "DATE_FORMAT") in page
    assert 'data-testid="cancel-form"' in page
    alice_contract.refresh_from_db()
    assert alice_contract.status == ContractStatus.ACTIVE
    assert alice_contract.end_date is None
    assert not CustomerEvent.objects.filter(kind="contract.cancellation_requested").exists()


def test_cancel_within_the_minimum_term_shows_the_term_end(client, alice, alice_new_contract):
    client.force_login(alice)
    page = page_of(client.get(reverse("portal-contract-cancel", args=[alice_new_contract.pk])))
    assert de_date(alice_new_contract.minimum_term_end, "DATE_FORMAT") in page


def test_cancelling_records_the_request_end_date_and_an_event(
    client, alice, alice_customer, alice_contract, django_assert_max_num_queries
):
    client.force_login(alice)
    expected = alice_contract.earliest_end(notice_given_on=timezone.localdate())
    # The cancellation and the contracts department's ticket (reference number, ticket,
    # first message, events, SLA clocks, line-status snapshot) are written in one transaction.
    with django_assert_max_num_queries(28):
        response = client.post(reverse("portal-contract-cancel", args=[alice_contract.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-contracts")
    alice_contract.refresh_from_db()
    assert alice_contract.status == ContractStatus.CANCELLATION_REQUESTED
    assert alice_contract.end_date == expected
    assert alice_contract.cancellation_requested_at is not None
    event = CustomerEvent.objects.get(kind="contract.cancellation_requested")
    assert event.customer == alice_customer
    assert event.actor == alice
    ticket = Ticket.objects.get()
    assert event.data == {
        "contract": "V-3000001-1",
        "end_date": expected.isoformat(),
        "ticket": ticket.reference,
    }
    listing = page_of(client.get(response["Location"]))
    assert de_date(expected, "DATE_FORMAT") in listing  # the success message
    assert de("Cancellation requested") in listing
    cancel_url = reverse("portal-contract-cancel", args=[alice_contract.pk])
    assert f'href="{cancel_url}"' not in listing
    # The contracts department confirms it; alice follows it under "My requests".
    assert ticket.queue.department.slug == "contracts"
    assert ticket.customer == alice_customer and ticket.channel == Channel.PORTAL
    assert "V-3000001-1" in ticket.subject
    assert ticket.reference in page_of(client.get(reverse("portal-home")))


def test_cancelling_twice_gives_a_clear_error_and_changes_nothing(client, alice, alice_contract):
    client.force_login(alice)
    url = reverse("portal-contract-cancel", args=[alice_contract.pk])
    client.post(url)
    alice_contract.refresh_from_db()
    first_end = alice_contract.end_date
    again = client.post(url)
    assert again.status_code == 409
    page = page_of(again)
    with translation.override("de"), pytest.raises(DomainError) as refusal:
        services.contract_cancel(contract=alice_contract, actor=alice)
    assert html.escape(refusal.value.message) in page  # the service's own words
    assert de_date(first_end) in page  # the status and end date it has now
    assert 'data-testid="cancel-form"' not in page
    alice_contract.refresh_from_db()
    assert alice_contract.end_date == first_end
    assert CustomerEvent.objects.filter(kind="contract.cancellation_requested").count() == 1
    assert Ticket.objects.count() == 1


def test_an_ended_contract_shows_its_state_and_cannot_be_cancelled(
    client, alice, alice_ended_contract
):
    client.force_login(alice)
    url = reverse("portal-contract-cancel", args=[alice_ended_contract.pk])
    page = page_of(client.get(url))
    assert de("Ended") in page
    assert de_date(date(2021, 4, 30)) in page
    assert 'data-testid="cancel-form"' not in page
    response = client.post(url)
    assert response.status_code == 409
    alice_ended_contract.refresh_from_db()
    assert alice_ended_contract.status == ContractStatus.ENDED
    assert alice_ended_contract.end_date == date(2021, 4, 30)
    assert not CustomerEvent.objects.filter(kind="contract.cancellation_requested").exists()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_mallory_gets_404_on_alices_cancel_page(
    client, mallory, mallory_customer, alice_contract, method
):
    client.force_login(mallory)
    url = reverse("portal-contract-cancel", args=[alice_contract.pk])
    response = getattr(client, method)(url)
    assert response.status_code == 404
    assert alice_contract.number not in page_of(response)
    alice_contract.refresh_from_db()
    assert alice_contract.status == ContractStatus.ACTIVE
    assert not CustomerEvent.objects.filter(kind="contract.cancellation_requested").exists()
    assert not Ticket.objects.exists()


def test_a_missing_contract_is_404_too(client, alice, alice_customer):
    client.force_login(alice)
    assert client.get(reverse("portal-contract-cancel", args=[999999])).status_code == 404


# --- Invoices -----------------------------------------------------------------------------


def test_invoices_are_paginated_20_a_page_with_a_fixed_number_of_queries(
    client, alice, alice_customer, django_assert_max_num_queries
):
    invoices_for(alice_customer, 45)
    client.force_login(alice)
    url = reverse("portal-invoices")
    shown = []
    for number, expected_rows in ((1, 20), (2, 20), (3, 5)):
        with django_assert_max_num_queries(5):
            response = client.get(f"{url}?page={number}")
        rows = page_of(response).split('data-testid="invoice-')[1:]
        assert len(rows) == expected_rows
        shown += [row.split('"', 1)[0] for row in rows]
    assert len(shown) == len(set(shown)) == 45  # every invoice once, none twice
    assert shown[0] == "R3000001-000" and shown[-1] == "R3000001-044"  # newest first
    assert 'rel="next"' in page_of(client.get(url))
    assert page_of(client.get(f"{url}?page=999")).count('data-testid="invoice-') == 5
    assert page_of(client.get(f"{url}?page=junk")).count('data-testid="invoice-') == 20


def test_invoices_show_status_badges_and_highlight_overdue_ones(client, alice, alice_customer):
    invoices_for(alice_customer, 3, overdue=1)
    client.force_login(alice)
    page = page_of(client.get(reverse("portal-invoices")))
    assert "Kundenportal" in page
    assert "49,90 €" in page
    assert 'data-testid="invoice-R3000001-000" class="row-overdue"' in page
    assert "badge-danger" in page and de("Overdue") in page
    assert page.count("badge-ok") == 2 and de("Paid") in page
    assert 'data-testid="invoice-R3000001-001" class="row-overdue"' not in page


def test_mallory_sees_only_her_own_invoices(client, mallory, mallory_customer, alice_customer):
    invoices_for(alice_customer, 4)
    invoices_for(mallory_customer, 2)
    client.force_login(mallory)
    page = page_of(client.get(reverse("portal-invoices")))
    assert page.count('data-testid="invoice-') == 2
    assert "R3000002-000" in page
    assert "R3000001" not in page


# --- Phone password -----------------------------------------------------------------------


def phone_form(current=PASSWORD, value=NEW_PHONE_PASSWORD, again=None) -> dict:
    return {
        "current_password": current,
        "phone_password": value,
        "phone_password_again": value if again is None else again,
    }


def assert_nothing_changed(customer: Customer) -> None:
    customer.refresh_from_db()
    assert customer.phone_password == ""
    assert customer.phone_password_set_at is None
    assert not customer.events.filter(kind__startswith="phone_password.").exists()


def test_phone_password_page_explains_the_rules(
    client, alice, alice_customer, settings, django_assert_max_num_queries
):
    settings.PHONE_PASSWORD_MIN_LENGTH = 7
    client.force_login(alice)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("portal-phone-password"))
    page = page_of(response)
    assert response.status_code == 200
    assert "Kundenportal" in page
    assert de("Set your phone password") in page
    rule = "Between %(min)s and %(max)s characters; a short phrase is easy to say on the phone."
    assert de(rule) % {"min": 7, "max": services.PHONE_PASSWORD_MAX_LENGTH} in page
    not_personal = (
        "Not your customer number, name, address or date of birth: "
        "anyone who has a letter from us knows those."
    )
    assert de(not_personal) in page
    assert 'type="password"' in page


def test_setting_the_phone_password_stores_a_hash_and_an_event(
    client, alice, alice_customer, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(9):  # one of them the audit entry
        response = client.post(reverse("portal-phone-password"), phone_form())
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-account")
    alice_customer.refresh_from_db()
    assert alice_customer.phone_password
    assert alice_customer.phone_password != NEW_PHONE_PASSWORD
    assert NEW_PHONE_PASSWORD.lower() not in alice_customer.phone_password
    normalized = services.phone_password_normalize(NEW_PHONE_PASSWORD)
    assert check_password(normalized, alice_customer.phone_password)
    assert alice_customer.phone_password_set_at is not None
    event = alice_customer.events.get(kind="phone_password.set")
    assert event.actor == alice
    account = page_of(client.get(response["Location"]))
    assert de("Your phone password is saved. Our hotline will ask you for it from now on.") in (
        account
    )
    assert NEW_PHONE_PASSWORD not in account


def test_changing_it_again_records_a_change(client, alice, alice_customer):
    client.force_login(alice)
    client.post(reverse("portal-phone-password"), phone_form())
    client.post(reverse("portal-phone-password"), phone_form(value="Blaue Giraffe tanzt"))
    alice_customer.refresh_from_db()
    assert check_password("blaue giraffe tanzt", alice_customer.phone_password)
    kinds = set(alice_customer.events.values_list("kind", flat=True))
    assert {"phone_password.set", "phone_password.changed"} <= kinds


def test_wrong_web_password_is_refused_and_nothing_changes(client, alice, alice_customer):
    client.force_login(alice)
    response = client.post(reverse("portal-phone-password"), phone_form(current="not-mine"))
    assert response.status_code == 200
    page = page_of(response)
    with translation.override("de"), pytest.raises(DomainError) as refusal:
        services.customer_phone_password_set(
            customer=alice_customer,
            phone_password=NEW_PHONE_PASSWORD,
            current_web_password="not-mine",
            actor=alice,
        )
    assert refusal.value.field == "current_password"
    assert html.escape(refusal.value.message) in page  # the service's own words
    assert NEW_PHONE_PASSWORD not in page and "not-mine" not in page  # never echoed
    assert_nothing_changed(alice_customer)


@pytest.mark.parametrize(
    "value",
    [
        "K3000001",
        "3000001",
        "Alice Schmidt",
        "schmidt",
        "14.03.1985",
        "14031985",
        "1985-03-14",
        "Berlin",
        "Lindenstraße 5",
    ],
)
def test_trivial_phone_passwords_are_refused(client, alice, alice_customer, value):
    client.force_login(alice)
    response = client.post(reverse("portal-phone-password"), phone_form(value=value))
    assert response.status_code == 200
    page = page_of(response)
    with translation.override("de"):
        expected = services.phone_password_problems(customer=alice_customer, raw=value)
    assert expected
    for problem in expected:
        assert html.escape(problem) in page
    assert f'value="{value}"' not in page
    assert_nothing_changed(alice_customer)


def test_a_10_kb_value_gets_a_clear_error_and_changes_nothing(client, alice, alice_customer):
    huge = "Kaktus " * 1500  # about 10 kB
    client.force_login(alice)
    response = client.post(reverse("portal-phone-password"), phone_form(value=huge))
    assert response.status_code == 200
    page = page_of(response)
    with translation.override("de"):
        expected = services.phone_password_problems(customer=alice_customer, raw=huge)
    assert len(expected) == 1
    assert str(services.PHONE_PASSWORD_MAX_LENGTH) in expected[0]  # "at most 64 characters"
    assert html.escape(expected[0]) in page
    assert "Kaktus Kaktus" not in page
    assert len(response.content) < 40_000
    assert_nothing_changed(alice_customer)


def test_the_repeat_must_match(client, alice, alice_customer):
    client.force_login(alice)
    response = client.post(
        reverse("portal-phone-password"), phone_form(again="Kleiner gruener Kaktu")
    )
    assert de("The two phone passwords differ.") in page_of(response)
    assert_nothing_changed(alice_customer)


def test_empty_form_shows_required_errors_in_german(client, alice, alice_customer):
    client.force_login(alice)
    response = client.post(reverse("portal-phone-password"), {})
    assert "Dieses Feld ist zwingend erforderlich." in page_of(response)  # Django's German
    assert_nothing_changed(alice_customer)


# --- Web password -------------------------------------------------------------------------


def test_web_password_page_shows_djangos_rules_in_german(
    client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("portal-password"))
    assert response.status_code == 200
    assert "Das Passwort muss mindestens 8 Zeichen enthalten." in page_of(response)


def test_web_password_change_needs_the_old_password(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("portal-password"),
        {
            "old_password": "wrong",
            "new_password1": "Neu-und-lang-42",
            "new_password2": "Neu-und-lang-42",
        },
    )
    assert "Das alte Passwort war falsch." in page_of(response)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_web_password_change_works_and_keeps_the_session(client, alice, alice_customer):
    client.force_login(alice)
    response = client.post(
        reverse("portal-password"),
        {
            "old_password": PASSWORD,
            "new_password1": "Neu-und-lang-42",
            "new_password2": "Neu-und-lang-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-account")
    alice.refresh_from_db()
    assert alice.check_password("Neu-und-lang-42")
    assert client.get(reverse("portal-account")).status_code == 200


# --- Password reset by e-mail -------------------------------------------------------------


def without_csrf(page: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r"\1", page)


def ask_for_reset(client, email: str):
    return client.post(reverse("portal-password-reset"), {"email": email}, follow=True)


def test_reset_form_is_public_and_german(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(reverse("portal-password-reset"))
    assert response.status_code == 200
    page = page_of(response)
    assert "(Berliner Zeit)" in page
    assert 'type="email"' in page


def test_reset_mails_a_customer_exactly_once(client, alice, alice_customer, mailoutbox):
    response = ask_for_reset(client, "ALICE@example.com")
    assert response.redirect_chain == [(reverse("portal-password-reset-done"), 302)]
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert "/portal/reset/" in message.body
    assert PASSWORD not in message.body


@pytest.mark.parametrize("email", ["bob@example.com", "nobody@example.com"])
def test_reset_sends_nothing_for_staff_or_unknown_addresses_and_looks_the_same(
    client, alice, bob, mailoutbox, email
):
    known = ask_for_reset(client, "alice@example.com")
    mailoutbox.clear()
    other = ask_for_reset(client, email)
    assert mailoutbox == []
    assert other.redirect_chain == known.redirect_chain
    assert without_csrf(page_of(other)) == without_csrf(page_of(known))


def test_reset_skips_inactive_customers(client, alice, mailoutbox):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    ask_for_reset(client, "alice@example.com")
    assert mailoutbox == []


def test_reset_link_sets_a_new_password_the_customer_can_sign_in_with(
    client, alice, alice_customer, mailoutbox, django_assert_max_num_queries
):
    ask_for_reset(client, "alice@example.com")
    link = next(line for line in mailoutbox[0].body.splitlines() if "/portal/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    with django_assert_max_num_queries(6):  # user, roles, session write
        to_form = client.get("/" + path)
    set_url = to_form["Location"]
    assert set_url.endswith("/set-password/")  # the token leaves the address bar
    with django_assert_max_num_queries(3):
        form_page = client.get(set_url)
    assert form_page.status_code == 200
    assert 'type="password"' in page_of(form_page)
    done = client.post(
        set_url,
        {"new_password1": "Frisch-gesetzt-77", "new_password2": "Frisch-gesetzt-77"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == reverse("portal-password-reset-complete")
    alice.refresh_from_db()
    assert alice.check_password("Frisch-gesetzt-77")
    client.logout()
    signed_in = client.post(
        reverse("portal-login"), {"username": "alice", "password": "Frisch-gesetzt-77"}
    )
    assert signed_in["Location"] == "/portal/"
    assert client.get("/" + path).status_code == 200  # used link: the "does not work" page
    assert 'type="password"' not in page_of(client.get("/" + path))


def test_a_staff_reset_token_is_refused_by_the_portal(client, bob):
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    token = default_token_generator.make_token(bob)
    response = client.get(reverse("portal-password-reset-confirm", args=[uid, token]), follow=True)
    assert 'type="password"' not in page_of(response)
    assert de("This link does not work") in page_of(response)
