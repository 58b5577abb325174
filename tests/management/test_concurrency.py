"""Requests to management under real parallel transactions (threads with their own
connections): one proposal accepted twice at once, two credit notes racing for one
invoice, two early ends of one contract, and a customer's requests racing past the
limit. SQLite serialises every write, so only PostgreSQL can show that nothing is
carried out twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from customers.choices import ContractStatus
from customers.models import Contract, CreditNote, Customer, CustomerEvent
from escalation.choices import ProposalKind, ProposalStatus, RequestStatus
from escalation.models import ManagementRequest, ManagementRequestEvent, Proposal
from escalation.services import management as services
from helpdesk.errors import DomainError, StaleEdit
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): SQLite's test database is not shared")


def _race(*actions) -> list:
    """Run the actions at the same moment, each in its own thread and connection."""
    start = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            start.wait(timeout=30)
            outcomes[index] = action()
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _accept(proposal_pk: int, actor):
    def action():
        return services.proposal_answer(
            proposal=Proposal.objects.get(pk=proposal_pk), accept=True, comment="", actor=actor
        )

    return action


def _split(outcomes, error=DomainError) -> tuple[list, list]:
    won = [outcome for outcome in outcomes if isinstance(outcome, Proposal)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, error)]
    assert len(won) + len(refused) == len(outcomes), outcomes
    return won, refused


def _second_request(erika, alice) -> ManagementRequest:
    return services.management_request_create(
        customer=erika, subject="Noch eine Beschwerde", text="Auch das Hosting.", actor=alice
    )


def _still_waiting(proposal: Proposal) -> None:
    """A refused acceptance left no trace: the proposal open, the request waiting."""
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN and proposal.answered_at is None
    request = ManagementRequest.objects.get(pk=proposal.request_id)
    assert request.status == RequestStatus.PROPOSED and request.settled_at is None
    kinds = set(
        ManagementRequestEvent.objects.filter(request=request).values_list("kind", flat=True)
    )
    assert kinds == {"request.created", "proposal.made"}


def test_one_proposal_accepted_twice_at_once_is_carried_out_once(credit_proposal, alice):
    outcomes = _race(_accept(credit_proposal.pk, alice), _accept(credit_proposal.pk, alice))
    won, refused = _split(outcomes, StaleEdit)
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert CreditNote.objects.count() == 1
    assert CustomerEvent.objects.filter(kind="invoice.credited").count() == 1
    events = ManagementRequestEvent.objects.filter(request=credit_proposal.request_id)
    assert events.filter(kind="proposal.accepted").count() == 1
    assert events.filter(kind="outcome.credit_note").count() == 1
    credit_proposal.refresh_from_db()
    assert credit_proposal.status == ProposalStatus.ACCEPTED and credit_proposal.credit_note


def test_two_credit_notes_accepted_at_once_cannot_exceed_the_invoice(
    erika, alice, erika_request, erika_invoice, max_
):
    other = _second_request(erika, alice)
    forty, thirty = (
        services.proposal_make(
            request=request,
            kind=ProposalKind.CREDIT_NOTE,
            findings="Ausfall.",
            amount=amount,
            invoice=erika_invoice,
            actor=max_,
        )
        for request, amount in ((erika_request, "40.00"), (other, "30.00"))
    )
    outcomes = _race(_accept(forty.pk, alice), _accept(thirty.pk, alice))
    won, refused = _split(outcomes)
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert refused[0].field == "amount"
    notes = list(CreditNote.objects.values_list("amount", flat=True))
    assert len(notes) == 1 and sum(notes) <= erika_invoice.amount
    _still_waiting(thirty if won[0].pk == forty.pk else forty)


def test_two_terminations_of_one_contract_accepted_at_once_end_it_once(
    erika, alice, erika_request, erika_hosting, max_
):
    other = _second_request(erika, alice)
    today = timezone.localdate()
    first, second = (
        services.proposal_make(
            request=request,
            kind=ProposalKind.TERMINATION,
            findings="Wir lassen Sie ziehen.",
            contract=erika_hosting,
            end_date=today + timedelta(days=days),
            free_month=True,
            actor=max_,
        )
        for request, days in ((erika_request, 10), (other, 20))
    )
    outcomes = _race(_accept(first.pk, alice), _accept(second.pk, alice))
    won, refused = _split(outcomes, StaleEdit)
    assert len(won) == 1 and len(refused) == 1, outcomes
    contract = Contract.objects.get(pk=erika_hosting.pk)
    assert contract.status == ContractStatus.CANCELLED
    assert contract.end_date == won[0].end_date
    assert contract.refund_amount == won[0].refund_amount
    assert CustomerEvent.objects.filter(kind="contract.terminated_early").count() == 1
    _still_waiting(second if won[0].pk == first.pk else first)


def test_requests_written_at_once_stop_at_the_limit(erika, alice, erika_request, settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 3  # one is open: two more may come

    def write(n: int):
        return lambda: services.management_request_create(
            customer=Customer.objects.get(pk=erika.pk),
            subject=f"Beschwerde {n}",
            text="Ich warte seit Wochen.",
            actor=alice,
        )

    outcomes = _race(*(write(n) for n in range(5)))
    created = [outcome for outcome in outcomes if isinstance(outcome, ManagementRequest)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(created) == 2 and len(refused) == 3, outcomes
    assert ManagementRequest.objects.filter(customer=erika).count() == 3
    assert ManagementRequestEvent.objects.filter(kind="request.created").count() == 3
