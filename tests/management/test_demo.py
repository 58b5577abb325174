"""`manage.py seed_demo` for requests to management: one request in each state, alice's
proposal in her portal, prepaid hosting, and the KPI history rolled up."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from customers.choices import ContractStatus, ServiceKind
from customers.models import Contract
from escalation.choices import ProposalKind, ProposalStatus, RequestSource, RequestStatus
from escalation.models import KpiDay, KpiRollup, ManagementRequest, ManagementRequestEvent
from escalation.selectors import management as selectors
from escalation.services import kpis

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings) -> str:
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _request(**filters) -> ManagementRequest:
    return ManagementRequest.objects.select_related("customer", "ticket__queue__department").get(
        **filters
    )


def _four_requests_in_every_state(seeded):
    assert "Requests to management: 4 created" in seeded
    requests = ManagementRequest.objects.all()
    assert requests.count() == 4
    assert set(requests.values_list("status", flat=True)) == set(RequestStatus.values)
    assert set(requests.values_list("source", flat=True)) == set(RequestSource.values)
    for request in requests.select_related("ticket__queue__department"):
        assert request.ticket.queue.department.slug == "management"
        kinds = ManagementRequestEvent.objects.filter(request=request).values_list(
            "kind", flat=True
        )
        assert kinds[0] in ("request.created", "request.escalated")


def _mallorys_request_waits_past_its_answer_target():
    request = _request(customer__number="K1000002")
    assert request.status == RequestStatus.OPEN
    assert request.answer_due_at < timezone.now()
    board, _count = selectors.board_requests(now=timezone.now())
    assert any(row.overdue and row.request.pk == request.pk for row in board)


def _alice_sees_a_credit_note_to_answer_in_her_portal():
    alice = User.objects.get(username="alice")
    request = _request(customer__number="K1000001")
    assert request.status == RequestStatus.PROPOSED
    assert [r.pk for r in selectors.portal_request_list(user=alice)] == [request.pk]
    detail = selectors.portal_request_detail(user=alice, request_id=request.pk)
    proposal = detail.open_proposal
    assert proposal.kind == ProposalKind.CREDIT_NOTE
    assert 0 < proposal.amount <= proposal.invoice.amount
    assert proposal.invoice.customer_id == request.customer_id
    assert request.ticket.status == "waiting_customer"


def _a_business_customer_ended_the_hosting_early():
    request = _request(customer__number="K1000003")
    assert request.status == RequestStatus.SETTLED and request.settled_at
    proposals = list(request.proposals.order_by("created_at", "id"))
    assert [(p.kind, p.status) for p in proposals] == [
        (ProposalKind.CREDIT_NOTE, ProposalStatus.REJECTED),
        (ProposalKind.TERMINATION, ProposalStatus.ACCEPTED),
    ]
    contract = Contract.objects.get(pk=proposals[1].contract_id)
    assert contract.product.kind == ServiceKind.HOSTING
    assert contract.status == ContractStatus.CANCELLED and contract.early_termination_at
    assert contract.refund_amount == proposals[1].refund_amount > 0
    assert contract.free_until == proposals[1].service_until > contract.end_date
    assert request.ticket.status == "resolved"


def _bob_escalated_a_ticket():
    request = _request(source=RequestSource.AGENT)
    assert request.created_by.username == "bob" and request.status == RequestStatus.OPEN
    assert request.ticket.events.filter(kind="ticket.handed_off").exists()


def _hosting_is_paid_in_advance():
    hosting = Contract.objects.filter(
        product__kind=ServiceKind.HOSTING, status=ContractStatus.ACTIVE
    )
    assert hosting.exists()
    today = timezone.localdate()
    for contract in hosting:
        assert contract.prepaid_until >= today, contract.number


def _the_demo_history_is_rolled_up(seeded):
    assert "KPI roll-up: " in seeded
    assert kpis.kpi_days_missing(now=timezone.now()) == []
    assert KpiRollup.objects.count() >= 7
    assert sum(KpiDay.objects.values_list("received", flat=True)) > 0
    assert sum(KpiDay.objects.values_list("calls", flat=True)) > 0


def test_the_demo_tells_each_story(seeded):
    """One seed (it takes seconds) checked story by story."""
    _four_requests_in_every_state(seeded)
    _mallorys_request_waits_past_its_answer_target()
    _alice_sees_a_credit_note_to_answer_in_her_portal()
    _a_business_customer_ended_the_hosting_early()
    _bob_escalated_a_ticket()
    _hosting_is_paid_in_advance()
    _the_demo_history_is_rolled_up(seeded)


def test_a_second_run_adds_no_requests(seeded):
    counts = (ManagementRequest.objects.count(), ManagementRequestEvent.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo requests exist, none added" in out.getvalue()
    assert "KPI roll-up: 0 day(s)" in out.getvalue()
    assert (ManagementRequest.objects.count(), ManagementRequestEvent.objects.count()) == counts
