"""What management agrees with a customer, in the customers app: credit notes against an
invoice, an early end of a contract, and the refund of what was paid in advance."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services
from customers.choices import ContractStatus, InvoiceStatus
from customers.models import Contract, CreditNote, CustomerEvent, Invoice
from helpdesk.errors import DomainError, StaleEdit

pytestmark = pytest.mark.django_db


# --- refund_after: what was paid for the days after the end ------------------------------------


def _prepaid(price: str, until: date | None) -> Contract:
    return Contract(monthly_price=Decimal(price), prepaid_until=until)


@pytest.mark.parametrize(
    ("price", "prepaid_until", "end", "refund"),
    [
        # Nothing paid in advance, or nothing after the end.
        ("9.99", None, date(2026, 5, 10), "0.00"),
        ("9.99", date(2026, 5, 1), date(2026, 5, 10), "0.00"),
        ("9.99", date(2026, 5, 10), date(2026, 5, 10), "0.00"),
        # Exact whole months.
        ("9.99", date(2026, 4, 30), date(2026, 1, 31), "29.97"),
        ("9.99", date(2026, 6, 15), date(2026, 3, 15), "29.97"),
        ("9.99", date(2027, 3, 15), date(2026, 3, 15), "119.88"),
        ("4.99", date(2026, 12, 31), date(2026, 11, 30), "4.99"),
        # One day more: a whole month and a day of the next.
        ("31.00", date(2026, 5, 1), date(2026, 3, 31), "32.00"),
        # Part of a month, by its days: 14 of February's 28 (half up: 4.995 -> 5.00) ...
        ("9.99", date(2026, 2, 14), date(2026, 1, 31), "5.00"),
        # ... and of a leap year's 29.
        ("9.99", date(2028, 2, 14), date(2028, 1, 31), "4.82"),
        ("29.00", date(2028, 2, 29), date(2028, 2, 28), "1.00"),
        # Whole months and the rest: 2 months + 10 of June's 30 days.
        ("30.00", date(2026, 6, 10), date(2026, 3, 31), "70.00"),
        # Month ends clamp: from 31 January a month runs to 27/28 February ...
        ("31.00", date(2026, 2, 27), date(2026, 1, 30), "31.00"),
        ("29.00", date(2028, 2, 28), date(2028, 1, 30), "29.00"),
        # ... and the rest after it is a part of the month from 28 February to 30 March,
        # never more than a whole month.
        ("31.00", date(2026, 3, 29), date(2026, 1, 30), "61.00"),
        ("31.00", date(2026, 3, 30), date(2026, 1, 30), "62.00"),
        # From 31 August, September has 30 days.
        ("30.00", date(2026, 9, 29), date(2026, 8, 30), "30.00"),
        ("30.00", date(2026, 10, 15), date(2026, 8, 30), "45.48"),
    ],
)
def test_refund_after(price, prepaid_until, end, refund):
    assert _prepaid(price, prepaid_until).refund_after(end) == Decimal(refund)


@pytest.mark.parametrize(
    "prepaid_until", [date(2026, 3, 29), date(2028, 2, 29), date(2026, 12, 31)]
)
def test_a_later_end_never_refunds_more(prepaid_until):
    """Day by day over a year before `prepaid_until`, the refund only shrinks, and always
    lies between a day's price in a month of 31 and of 28 days for each day left."""
    contract = _prepaid("31.00", prepaid_until)
    end = prepaid_until - timedelta(days=400)
    previous = contract.refund_after(end)
    while end < prepaid_until:
        end += timedelta(days=1)
        refund = contract.refund_after(end)
        assert refund <= previous, (end, previous, refund)
        days_left = (prepaid_until - end).days
        assert days_left <= refund <= Decimal(days_left * 31) / 28, (end, refund)
        previous = refund
    assert previous == 0


# --- Credit notes ------------------------------------------------------------------------------


@pytest.fixture
def invoice(erika):
    return Invoice.objects.create(
        customer=erika,
        number="R-2026-0001",
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 15),
        amount=Decimal("59.94"),
        status=InvoiceStatus.PAID,
    )


def _counts() -> tuple[int, int, str]:
    invoice = Invoice.objects.get()
    return CreditNote.objects.count(), CustomerEvent.objects.count(), invoice.status


def test_a_credit_note_gets_a_number_and_an_event(invoice, max_):
    note = services.credit_note_create(
        invoice=invoice, amount=Decimal("25.00"), reason="Kulanz " * 100, actor=max_
    )
    assert re.fullmatch(r"GS-\d{4}-\d{6}", note.number)
    assert note.number == f"GS-{timezone.localdate():%Y}-{note.pk:06d}"
    assert note.customer_id == invoice.customer_id and note.issued_on == timezone.localdate()
    assert len(note.reason) == 300
    event = CustomerEvent.objects.get(kind="invoice.credited")
    assert event.actor == max_
    assert event.data == {"invoice": "R-2026-0001", "credit_note": note.number, "amount": "25.00"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert services.invoice_credit_left(invoice) == Decimal("34.94")


def test_credit_notes_up_to_the_whole_invoice_mark_it_credited(invoice, max_):
    services.credit_note_create(invoice=invoice, amount=Decimal("50"), reason="a", actor=max_)
    services.credit_note_create(invoice=invoice, amount=Decimal("9.94"), reason="b", actor=max_)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CREDITED
    assert services.invoice_credit_left(invoice) == 0
    numbers = list(CreditNote.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 2


@pytest.mark.parametrize(
    "amount", [Decimal("0"), Decimal("-1"), Decimal("59.95"), Decimal("1.001"), None]
)
def test_a_bad_credit_note_is_refused_and_writes_nothing(invoice, max_, amount):
    before = _counts()
    with pytest.raises(DomainError) as caught:
        services.credit_note_create(invoice=invoice, amount=amount, reason="x", actor=max_)
    assert caught.value.field == "amount"
    assert _counts() == before


def test_what_was_credited_before_counts(invoice, max_):
    services.credit_note_create(invoice=invoice, amount=Decimal("59.00"), reason="a", actor=max_)
    assert services.credit_note_problem(invoice=invoice, amount=Decimal("0.95"))
    assert services.credit_note_problem(invoice=invoice, amount=Decimal("0.94")) is None
    before = _counts()
    with pytest.raises(DomainError):
        services.credit_note_create(invoice=invoice, amount=Decimal("0.95"), reason="b", actor=max_)
    assert _counts() == before


def test_a_stale_invoice_object_does_not_hide_earlier_credit_notes(invoice, max_):
    stale = Invoice.objects.get(pk=invoice.pk)
    services.credit_note_create(invoice=invoice, amount=Decimal("59.94"), reason="a", actor=max_)
    with pytest.raises(DomainError):
        services.credit_note_create(invoice=stale, amount=Decimal("1"), reason="b", actor=max_)
    assert CreditNote.objects.count() == 1


# --- Ending a contract early ---------------------------------------------------------------


@pytest.fixture
def contract(erika, dsl_100):
    return Contract.objects.create(
        customer=erika,
        product=dsl_100,
        number="V-1000001-1",
        start_date=date(2025, 3, 1),
        minimum_term_months=24,
        notice_period_months=1,
        monthly_price=dsl_100.monthly_price,
    )


def test_ending_early_sets_the_end_refund_and_free_month(contract, max_):
    ended = services.contract_terminate_early(
        contract=contract,
        end_date=date(2026, 1, 31),
        refund_amount=Decimal("12.34"),
        free_month=True,
        actor=max_,
    )
    contract.refresh_from_db()
    assert ended.status == contract.status == ContractStatus.CANCELLED
    assert contract.end_date == date(2026, 1, 31) and contract.free_until == date(2026, 2, 28)
    assert contract.refund_amount == Decimal("12.34") and contract.early_termination_at
    assert not contract.may_end_early
    event = CustomerEvent.objects.get(kind="contract.terminated_early")
    assert event.data == {
        "contract": "V-1000001-1",
        "end_date": "2026-01-31",
        "refund": "12.34",
        "free_until": "2026-02-28",
    }


def test_ending_early_without_free_month(contract, max_):
    services.contract_terminate_early(
        contract=contract,
        end_date=date(2026, 6, 30),
        refund_amount=Decimal("0"),
        free_month=False,
        actor=max_,
    )
    contract.refresh_from_db()
    assert contract.free_until is None and contract.end_date == date(2026, 6, 30)


def test_a_contract_with_notice_given_may_still_end_early(contract, max_):
    contract.status = ContractStatus.CANCELLATION_REQUESTED
    contract.end_date = date(2026, 9, 30)
    contract.save()
    services.contract_terminate_early(
        contract=contract,
        end_date=date(2026, 6, 30),
        refund_amount=Decimal("0"),
        free_month=False,
        actor=max_,
    )
    contract.refresh_from_db()
    assert contract.end_date == date(2026, 6, 30)


def _unchanged(contract: Contract, call, error=DomainError, field=None) -> None:
    before = (Contract.objects.filter(pk=contract.pk).values().get(), CustomerEvent.objects.count())
    with pytest.raises(error) as caught:
        call()
    assert caught.value.field == field
    assert (
        Contract.objects.filter(pk=contract.pk).values().get(),
        CustomerEvent.objects.count(),
    ) == before


def test_ending_early_twice_is_refused(contract, max_):
    def end():
        return services.contract_terminate_early(
            contract=contract,
            end_date=date(2026, 6, 30),
            refund_amount=Decimal("1"),
            free_month=True,
            actor=max_,
        )

    end()
    _unchanged(contract, end, StaleEdit)


@pytest.mark.parametrize("status", [ContractStatus.CANCELLED, ContractStatus.ENDED])
def test_an_ended_contract_cannot_end_early(contract, max_, status):
    contract.status = status
    contract.save()
    _unchanged(
        contract,
        lambda: services.contract_terminate_early(
            contract=contract,
            end_date=date(2026, 6, 30),
            refund_amount=Decimal("0"),
            free_month=False,
            actor=max_,
        ),
        StaleEdit,
    )


@pytest.mark.parametrize("refund", [Decimal("-0.01"), None])
def test_a_negative_refund_is_refused(contract, max_, refund):
    _unchanged(
        contract,
        lambda: services.contract_terminate_early(
            contract=contract,
            end_date=date(2026, 6, 30),
            refund_amount=refund,
            free_month=False,
            actor=max_,
        ),
        field="refund_amount",
    )
