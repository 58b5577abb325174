"""Contract end dates and the account changes that need a verified caller."""

from datetime import date

import pytest
from django.utils import formats, translation

from customers import services
from customers.choices import ContractStatus
from customers.models import Contract, CustomerEvent, add_months
from helpdesk.errors import DomainError, StaleEdit
from tests.customers.conftest import PHONE_PASSWORD
from tickets.choices import Channel, MessageKind, Status
from tickets.models import SupportArea, Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 3, 1), 24, date(2027, 3, 1)),
    ],
)
def test_months_are_added_like_a_calendar(start, months, expected):
    assert add_months(start, months) == expected


def test_within_the_minimum_term_the_contract_runs_to_its_end(erika_contract):
    assert erika_contract.minimum_term_end == date(2027, 2, 28)
    assert erika_contract.earliest_end(notice_given_on=date(2026, 11, 23)) == date(2027, 2, 28)


def test_after_the_minimum_term_one_month_notice_applies(malte_contract):
    assert malte_contract.earliest_end(notice_given_on=date(2026, 11, 23)) == date(2026, 12, 23)


def test_the_customer_cancels_their_own_contract(erika_contract, alice):
    contract = services.contract_cancel(
        contract=erika_contract, actor=alice, notice_given_on=date(2026, 11, 23)
    )
    assert contract.status == ContractStatus.CANCELLATION_REQUESTED
    assert contract.end_date == date(2027, 2, 28)
    event = CustomerEvent.objects.get(kind="contract.cancellation_requested")
    assert event.actor == alice and event.data["end_date"] == "2027-02-28"


def test_cancelling_twice_is_refused(erika_contract, alice):
    services.contract_cancel(contract=erika_contract, actor=alice)
    with pytest.raises(StaleEdit):
        services.contract_cancel(contract=erika_contract, actor=alice)
    assert CustomerEvent.objects.filter(kind="contract.cancellation_requested").count() == 1


def test_an_agent_cancels_only_for_a_verified_caller(erika, erika_contract, bob):
    with pytest.raises(DomainError):
        services.contract_cancel(contract=erika_contract, actor=bob)
    assert Contract.objects.get(pk=erika_contract.pk).status == ContractStatus.ACTIVE
    services.phone_password_verify(customer=erika, spoken=PHONE_PASSWORD, agent=bob)
    assert services.contract_cancel(contract=erika_contract, actor=bob).end_date


def test_another_customer_cannot_cancel(erika_contract, mallory):
    with pytest.raises(DomainError):
        services.contract_cancel(contract=erika_contract, actor=mallory)
    assert Contract.objects.get(pk=erika_contract.pk).status == ContractStatus.ACTIVE


def de_date(day: date) -> str:
    with translation.override("de"):
        return formats.date_format(day, "DATE_FORMAT")


def test_a_customers_cancellation_opens_a_ticket_for_the_contracts_department(
    erika_contract, alice
):
    services.contract_cancel(
        contract=erika_contract, actor=alice, notice_given_on=date(2026, 11, 23)
    )
    ticket = Ticket.objects.get()
    assert ticket.queue.department.slug == "contracts"
    assert ticket.support_area.slug == "cancellation"
    assert ticket.customer == erika_contract.customer
    assert ticket.channel == Channel.PORTAL and ticket.status == Status.NEW
    assert "V-1000001-1" in ticket.subject
    message = ticket.messages.get()
    assert message.kind == MessageKind.CUSTOMER and message.author == alice
    assert "V-1000001-1" in message.body and "DSL 100" in message.body
    assert de_date(date(2027, 2, 28)) in message.body  # the requested end date
    assert de_date(date(2026, 11, 23)) in message.body  # notice given on
    assert ticket.events.get(kind="ticket.created").actor == alice
    event = CustomerEvent.objects.get(kind="contract.cancellation_requested")
    assert event.data["ticket"] == ticket.reference


def test_an_agents_cancellation_opens_a_phone_ticket_in_the_agents_name(erika, erika_contract, bob):
    services.phone_password_verify(customer=erika, spoken=PHONE_PASSWORD, agent=bob)
    services.contract_cancel(contract=erika_contract, actor=bob)
    ticket = Ticket.objects.get()
    assert ticket.queue.department.slug == "contracts"
    assert ticket.channel == Channel.PHONE
    assert ticket.messages.get().author == bob
    assert ticket.events.get(kind="ticket.created").actor == bob


def test_a_refused_cancellation_opens_no_ticket(erika, erika_contract, alice, bob, mallory):
    with pytest.raises(DomainError):
        services.contract_cancel(contract=erika_contract, actor=bob)  # not verified
    with pytest.raises(DomainError):
        services.contract_cancel(contract=erika_contract, actor=mallory)
    services.contract_cancel(contract=erika_contract, actor=alice)
    with pytest.raises(StaleEdit):
        services.contract_cancel(contract=erika_contract, actor=alice)
    assert Ticket.objects.count() == 1


def test_without_the_cancellation_area_nothing_is_recorded(erika_contract, alice):
    SupportArea.objects.filter(slug="cancellation").update(is_active=False)
    with pytest.raises(DomainError):
        services.contract_cancel(contract=erika_contract, actor=alice)
    assert Contract.objects.get(pk=erika_contract.pk).status == ContractStatus.ACTIVE
    assert not Ticket.objects.exists()
    assert not CustomerEvent.objects.filter(kind="contract.cancellation_requested").exists()


def test_the_cancellation_ticket_is_written_in_the_customers_language(erika_contract, alice):
    erika_contract.customer.language = "en"
    erika_contract.customer.save(update_fields=["language"])
    with translation.override("de"):
        services.contract_cancel(contract=erika_contract, actor=alice)
    with translation.override("en"):
        expected = translation.gettext("Cancellation of contract %(number)s") % {
            "number": "V-1000001-1"
        }
    assert Ticket.objects.get().subject == expected


def test_tariff_change_needs_verification_and_the_same_kind(
    erika, erika_contract, dsl_250, domain_product, bob
):
    with pytest.raises(DomainError):
        services.contract_change_product(contract=erika_contract, product=dsl_250, actor=bob)
    services.phone_password_verify(customer=erika, spoken=PHONE_PASSWORD, agent=bob)
    with pytest.raises(DomainError):
        services.contract_change_product(contract=erika_contract, product=domain_product, actor=bob)
    contract = services.contract_change_product(contract=erika_contract, product=dsl_250, actor=bob)
    assert contract.product == dsl_250 and str(contract.monthly_price) == "49.99"
    assert CustomerEvent.objects.get(kind="contract.product_changed").data["to"] == "DSL 250"


def test_auth_code_is_shown_only_to_a_verified_agent_and_recorded(erika, erika_domain, bob):
    with pytest.raises(DomainError):
        services.connection_auth_code_reveal(connection=erika_domain, actor=bob)
    services.phone_password_verify(customer=erika, spoken=PHONE_PASSWORD, agent=bob)
    assert (
        services.connection_auth_code_reveal(connection=erika_domain, actor=bob) == "AUTH-xyz-123"
    )
    assert CustomerEvent.objects.filter(kind="connection.auth_code_shown", actor=bob).count() == 1


def test_auth_code_is_encrypted_at_rest(erika_domain):
    erika_domain.refresh_from_db()
    assert b"AUTH-xyz-123" not in bytes(erika_domain.auth_code_encrypted)


def test_notes_are_added_never_empty(erika, bob):
    with pytest.raises(DomainError):
        services.customer_note_add(customer=erika, author=bob, text="   ")
    note = services.customer_note_add(customer=erika, author=bob, text="Ruft oft abends an.")
    assert note.author == bob and erika.notes.count() == 1


def test_phone_password_provisioned_only_for_customers_without_a_login(erika, malte):
    erika.user = None
    erika.save()
    with pytest.raises(DomainError):
        services.customer_phone_password_provision(customer=erika, phone_password="K1000001")
    services.customer_phone_password_provision(customer=erika, phone_password="Gänseblümchen")
    assert erika.events.filter(kind="phone_password.changed", actor=None).exists()
    with pytest.raises(DomainError):
        services.customer_phone_password_provision(customer=malte, phone_password="Gänseblume")


def test_a_login_is_linked_to_one_customer_only(erika, malte, alice, bob):
    from customers.models import Customer

    erika.user = None
    erika.save()
    with pytest.raises(DomainError):
        services.customer_login_link(customer=erika, user=bob)  # staff, not a customer
    with pytest.raises(DomainError):
        services.customer_login_link(customer=erika, user=malte.user)  # mallory's already
    services.customer_login_link(customer=erika, user=alice)
    assert Customer.objects.get(pk=erika.pk).user == alice
