"""Phone-password verification: window, lock, audit, bad input, and the identity check."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services
from customers.choices import VerificationResult
from customers.models import Customer, VerificationAttempt
from helpdesk.errors import DomainError
from tests.customers.conftest import PHONE_PASSWORD

pytestmark = pytest.mark.django_db


def verify(customer, agent, spoken, now=None):
    return services.phone_password_verify(customer=customer, spoken=spoken, agent=agent, now=now)


def test_the_right_password_verifies_for_that_agent_for_fifteen_minutes(erika, bob, carol):
    now = timezone.now()
    state = verify(erika, bob, PHONE_PASSWORD, now)
    assert state.verified and state.verified_until == now + timedelta(minutes=15)
    later = services.verification_state(customer=erika, agent=bob, now=now + timedelta(minutes=14))
    assert later.verified
    expired = services.verification_state(
        customer=erika, agent=bob, now=now + timedelta(minutes=16)
    )
    assert not expired.verified
    other_agent = services.verification_state(customer=erika, agent=carol, now=now)
    assert not other_agent.verified


@pytest.mark.parametrize(
    "spoken",
    [
        "sonnenblume 42",
        "  SONNENBLUME   42 ",
        "".join(chr(ord(c) + 0xFEE0) for c in "Sonnenblume") + " 42",
    ],
)
def test_case_spacing_and_width_do_not_matter_on_the_phone(erika, bob, spoken):
    assert verify(erika, bob, spoken).verified


def test_five_failures_lock_the_customer_and_show_when_it_unlocks(erika, bob, carol):
    now = timezone.now()
    lefts = [
        verify(erika, bob, f"wrong {i}", now + timedelta(seconds=i)).attempts_left for i in range(5)
    ]
    assert lefts == [4, 3, 2, 1, 0]
    erika.refresh_from_db()
    state = services.verification_state(customer=erika, agent=carol, now=now + timedelta(seconds=6))
    assert state.locked_until == now + timedelta(seconds=4) + timedelta(minutes=15)
    refused = verify(erika, carol, PHONE_PASSWORD, now + timedelta(minutes=5))
    assert refused.result == VerificationResult.LOCKED and not refused.verified
    after = verify(erika, carol, PHONE_PASSWORD, now + timedelta(minutes=20))
    assert after.verified


def test_failures_older_than_the_window_do_not_count(erika, bob):
    start = timezone.now()
    for i in range(4):
        verify(erika, bob, "wrong", start + timedelta(seconds=i))
    state = verify(erika, bob, "wrong", start + timedelta(minutes=16))
    assert state.attempts_left == 4 and state.locked_until is None


def test_a_success_resets_the_failure_count(erika, bob):
    now = timezone.now()
    for i in range(3):
        verify(erika, bob, "wrong", now + timedelta(seconds=i))
    verify(erika, bob, PHONE_PASSWORD, now + timedelta(seconds=5))
    assert verify(erika, bob, "wrong", now + timedelta(seconds=6)).attempts_left == 4


def test_every_attempt_is_audited_with_agent_result_and_ticket(erika, bob):
    services.phone_password_verify(
        customer=erika, spoken="nope", agent=bob, ticket_reference="2026-004711"
    )
    verify(erika, bob, PHONE_PASSWORD)
    attempts = list(
        VerificationAttempt.objects.order_by("id").values_list(
            "agent__username", "result", "ticket_reference"
        )
    )
    assert attempts == [("bob", "failure", "2026-004711"), ("bob", "success", "")]


@pytest.mark.parametrize("spoken", ["", "   ", "\n"])
def test_empty_input_is_refused_and_not_counted(erika, bob, spoken):
    with pytest.raises(DomainError) as error:
        verify(erika, bob, spoken)
    assert error.value.field == "phone_password"
    assert not VerificationAttempt.objects.exists()


@pytest.mark.parametrize(
    "spoken", ["x" * 10240, "Sonnen\u202eblume 42", "Sonnen\u200dblume 42", "💥" * 50]
)
def test_huge_or_odd_input_is_a_counted_failure_and_nothing_else_changes(erika, bob, spoken):
    before = Customer.objects.values().get(pk=erika.pk)
    state = verify(erika, bob, spoken)
    assert state.result == VerificationResult.FAILURE and state.attempts_left == 4
    assert Customer.objects.values().get(pk=erika.pk) == before


def test_without_a_phone_password_the_agent_is_told_so(malte, bob):
    malte.phone_password = ""
    malte.save()
    state = verify(malte, bob, "anything")
    assert not state.has_password and state.result == VerificationResult.NO_PASSWORD
    assert state.attempts_left == 5  # not the caller's fault: nothing counted against them


def test_account_changes_need_an_open_verification(erika, bob):
    with pytest.raises(DomainError):
        services.verification_require(customer=erika, agent=bob)
    verify(erika, bob, PHONE_PASSWORD)
    services.verification_require(customer=erika, agent=bob)


def test_identity_check_compares_loosely_and_never_verifies(erika, bob):
    answers = {
        "first_name": " erika ",
        "last_name": "MUSTERFRAU",
        "street": "Heidestrasse 17",
        "postal_code": "51147",
        "city": "köln",
    }
    assert services.identity_check(customer=erika, agent=bob, answers=answers)
    assert not services.identity_check(
        customer=erika, agent=bob, answers={**answers, "city": "Bonn"}
    )
    assert not services.verification_state(customer=erika, agent=bob, now=timezone.now()).verified
    assert VerificationAttempt.objects.filter(method="identity").count() == 2


def test_identity_check_needs_all_five_answers(erika, bob):
    with pytest.raises(DomainError):
        services.identity_check(customer=erika, agent=bob, answers={"first_name": "Erika"})
    assert not VerificationAttempt.objects.exists()
