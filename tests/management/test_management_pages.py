"""Management's request pages: the list, one request with its whole history, making and
withdrawing proposals, and an agent passing a ticket to management.

Pages are read in English (Accept-Language), so the assertions do not depend on the
state of the German translation.
"""

# Fixtures come from the tickets tests; ruff reads their use as arguments as redefinitions.
# ruff: noqa: F401, F811

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import services as customer_services
from escalation.choices import ProposalKind, ProposalStatus, RequestSource, RequestStatus
from escalation.models import ManagementRequest, ManagementRequestEvent, Proposal
from escalation.services import management as services
from tests.tickets.conftest import (
    area,
    bob_agent,
    carol_agent,
    malte_ticket,
    team,
    tech_ticket,
    ticket,
    tina_agent,
    trent,
)
from tickets import services as ticket_services
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

LIST = reverse("management:request-list")
STAFF_OUTSIDERS = ["bob", "carol", "tina"]
CUSTOMERS = ["alice", "mallory"]


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def detail(item) -> str:
    return reverse("management:request-detail", args=[item.pk])


def propose_url(item) -> str:
    return reverse("management:proposal-make", args=[item.pk])


def withdraw_url(proposal) -> str:
    return reverse("management:proposal-withdraw", args=[proposal.pk])


def escalate_url(ticket) -> str:
    return reverse("management:ticket-escalate", args=[ticket.reference])


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def state(item) -> tuple:
    """Everything a proposal action could change; equal before and after a refusal."""
    row = ManagementRequest.objects.get(pk=item.pk)
    return (
        row.status,
        row.version,
        row.answer_due_at,
        Proposal.objects.count(),
        list(Proposal.objects.order_by("pk").values_list("status", flat=True)),
        ManagementRequestEvent.objects.count(),
    )


@pytest.fixture
def as_max(max_) -> Client:
    return signed_in(max_)


@pytest.fixture
def many_allowed(settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 200


def credit_data(invoice, /, **changes) -> dict:
    data = {
        "kind": ProposalKind.CREDIT_NOTE,
        "findings": "Die Leitung war drei Wochen gestört.",
        "text": "",
        "amount": "25.00",
        "invoice": invoice.pk,
        "contract": "",
        "end_date": "",
    }
    data.update(changes)
    return data


def termination_data(contract, /, **changes) -> dict:
    data = {
        "kind": ProposalKind.TERMINATION,
        "findings": "Wir können die Leitung nicht stabil liefern.",
        "text": "",
        "amount": "",
        "invoice": "",
        "contract": contract.pk,
        "end_date": (timezone.localdate() + timedelta(days=14)).isoformat(),
        "free_month": "on",
    }
    data.update(changes)
    return data


# --- Who may enter --------------------------------------------------------------------------


def test_management_opens_the_list_and_the_request(as_max, erika_request):
    assert as_max.get(LIST).status_code == 200
    assert as_max.get(detail(erika_request)).status_code == 200


@pytest.mark.parametrize("persona", STAFF_OUTSIDERS + CUSTOMERS)
def test_the_list_is_refused_to_everyone_else(request, persona):
    user = request.getfixturevalue(persona)
    assert signed_in(user).get(LIST).status_code == 403


@pytest.mark.parametrize("persona", STAFF_OUTSIDERS)
def test_other_staff_get_404_for_a_request_and_its_actions(
    request, persona, erika_request, erika_invoice, credit_proposal
):
    client = signed_in(request.getfixturevalue(persona))
    before = state(erika_request)
    assert client.get(detail(erika_request)).status_code == 404
    assert client.post(propose_url(erika_request), credit_data(erika_invoice)).status_code == 404
    assert client.post(withdraw_url(credit_proposal), {"reason": "weg"}).status_code == 404
    assert state(erika_request) == before


@pytest.mark.parametrize("persona", CUSTOMERS)
def test_customers_are_refused_even_their_own_request(
    request, persona, erika_request, erika_invoice, credit_proposal
):
    client = signed_in(request.getfixturevalue(persona))
    before = state(erika_request)
    assert client.get(detail(erika_request)).status_code in (403, 404)
    assert client.post(propose_url(erika_request), credit_data(erika_invoice)).status_code in (
        403,
        404,
    )
    assert client.post(withdraw_url(credit_proposal), {"reason": "weg"}).status_code in (403, 404)
    assert state(erika_request) == before


def test_anonymous_is_sent_to_the_login(client, erika_request, credit_proposal, ticket):
    for url in [LIST, detail(erika_request), escalate_url(ticket)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("agent-login"))
    response = client.post(withdraw_url(credit_proposal), {"reason": "weg"})
    assert response.status_code == 302
    assert Proposal.objects.get(pk=credit_proposal.pk).status == ProposalStatus.OPEN


def test_missing_or_huge_ids_give_404(as_max):
    assert as_max.get(reverse("management:request-detail", args=[999999])).status_code == 404
    assert as_max.get(f"/management/requests/{10**30}/").status_code == 404
    assert (
        as_max.post(f"/management/proposals/{10**30}/withdraw/", {"reason": "x"}).status_code == 404
    )


# --- The list -------------------------------------------------------------------------------


def test_the_list_filters_by_status(as_max, erika_request, malte_request, credit_proposal, alice):
    third = services.management_request_create(
        customer=erika_request.customer, subject="Noch eins", text="Text", actor=alice
    )
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)

    def shown(query: str) -> set[int]:
        page = text(as_max.get(LIST + query))
        return {
            pk for pk in (erika_request.pk, malte_request.pk, third.pk) if f'"request-{pk}"' in page
        }

    assert shown("") == {malte_request.pk, third.pk}
    assert shown("?status=open") == {malte_request.pk, third.pk}
    assert shown("?status=settled") == {erika_request.pk}
    assert shown("?status=proposed") == set()
    assert shown("?status=nonsense") == {malte_request.pk, third.pk}


def test_the_list_pages_at_the_same_query_cost(
    as_max, erika, alice, many_allowed, django_assert_num_queries
):
    def grow(count: int) -> None:
        for n in range(count):
            services.management_request_create(
                customer=erika, subject=f"Anliegen {n}", text="Text", actor=alice
            )

    grow(1)
    few = queries_for(as_max, LIST)
    grow(40)
    with django_assert_num_queries(few):
        page = text(as_max.get(LIST))
    assert len(re.findall(r'data-testid="request-\d+"', page)) == 25
    assert 'rel="next"' in page
    assert as_max.get(LIST + "?page=2").status_code == 200


# --- One request ----------------------------------------------------------------------------


def test_the_request_page_shows_the_whole_history(
    as_max, erika_request, erika_invoice, erika_hosting, max_, alice
):
    services.proposal_make(
        request=erika_request,
        kind=ProposalKind.CREDIT_NOTE,
        findings="Erster Befund",
        amount="10.00",
        invoice=erika_invoice,
        actor=max_,
    )
    first = Proposal.objects.get()
    services.proposal_withdraw(proposal=first, reason="Betrag falsch", actor=max_)
    services.proposal_make(
        request=erika_request,
        kind=ProposalKind.CREDIT_NOTE,
        findings="Zweiter Befund",
        amount="20.00",
        invoice=erika_invoice,
        actor=max_,
    )
    second = Proposal.objects.latest("pk")
    services.proposal_answer(proposal=second, accept=False, comment="Zu wenig", actor=alice)
    services.proposal_make(
        request=erika_request,
        kind=ProposalKind.TERMINATION,
        findings="Dritter Befund",
        contract=erika_hosting,
        end_date=timezone.localdate() + timedelta(days=10),
        free_month=True,
        actor=max_,
    )
    third = Proposal.objects.latest("pk")
    services.proposal_answer(proposal=third, accept=True, comment="Einverstanden", actor=alice)

    page = text(as_max.get(detail(erika_request)))
    assert erika_request.subject in page
    assert reverse("customers:customer-detail", args=["K1000001"]) in page
    assert reverse("tickets:ticket-detail", args=[erika_request.ticket.reference]) in page
    assert "Ich bin seit drei Wochen ohne Internet" in page
    for proposal in (first, second, third):
        assert f'data-testid="proposal-{proposal.pk}"' in page
    assert page.index("Erster Befund") < page.index("Zweiter Befund") < page.index("Dritter")
    assert "mg-proposal-withdrawn" in page and "mg-proposal-rejected" in page
    assert "mg-proposal-accepted" in page
    assert "Zu wenig" in page and "Einverstanden" in page
    third.refresh_from_db()
    assert f"{third.refund_amount:.2f}" in page
    for kind in [
        "request.created",
        "proposal.made",
        "proposal.withdrawn",
        "proposal.rejected",
        "proposal.accepted",
        "outcome.termination",
    ]:
        assert f'data-testid="event-{kind}"' in page
    assert "Proposal 1 withdrawn" in page and "Betrag falsch" in page
    assert "Proposal 2 rejected by the customer" in page
    assert "Contract ended early" in page
    # Settled: no form any more.
    assert 'data-testid="proposal-form"' not in page
    assert 'style="' not in page


def test_an_accepted_credit_note_shows_its_number(as_max, credit_proposal, alice):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    credit_proposal.refresh_from_db()
    page = text(as_max.get(detail(credit_proposal.request)))
    assert f'data-testid="credit-note">{credit_proposal.credit_note.number}<' in page
    assert 'data-testid="event-outcome.credit_note"' in page


def test_the_form_offers_only_the_customers_invoices_and_contracts(
    as_max, erika_request, erika_invoice, erika_hosting, malte_invoice, malte_hosting
):
    page = text(as_max.get(detail(erika_request)))
    assert 'data-testid="proposal-form"' in page
    assert erika_invoice.number in page and malte_invoice.number not in page
    assert erika_hosting.number in page and malte_hosting.number not in page
    # The refund if the contract ended today, from the contract itself.
    refund = erika_hosting.refund_after(timezone.localdate())
    assert f'data-testid="refund-{erika_hosting.pk}">{refund:.2f} €<' in page


def test_the_request_page_costs_the_same_queries_with_related_tickets(
    as_max, erika_request, erika, alice, team, django_assert_num_queries
):
    few = queries_for(as_max, detail(erika_request))
    related = [
        ticket_services.ticket_create(
            customer=erika,
            subject=f"Frühere Anfrage {n}",
            body="Text",
            channel="portal",
            support_area=area("no-internet"),
            actor=alice,
        )
        for n in range(4)
    ]
    item = services.management_request_create(
        customer=erika, subject="Mit Bezug", text="Text", actor=alice, related_tickets=related
    )
    with django_assert_num_queries(few):
        page = text(as_max.get(detail(item)))
    assert all(ticket.reference in page for ticket in related)


def test_a_settled_request_page_reads_no_form_lists(
    as_max, credit_proposal, alice, django_assert_max_num_queries
):
    item = credit_proposal.request
    few = queries_for(as_max, detail(item))
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    with django_assert_max_num_queries(few):
        assert as_max.get(detail(item)).status_code == 200


def test_the_open_request_page_costs_the_same_with_many_proposals(
    as_max, erika_request, erika_invoice, max_, alice, django_assert_num_queries
):
    few = queries_for(as_max, detail(erika_request))
    for n in range(8):
        proposal = services.proposal_make(
            request=erika_request,
            kind=ProposalKind.CREDIT_NOTE,
            findings=f"Befund {n}",
            amount="1.00",
            invoice=erika_invoice,
            actor=max_,
        )
        services.proposal_answer(proposal=proposal, accept=False, comment="Nein", actor=alice)
    with django_assert_num_queries(few):
        page = text(as_max.get(detail(erika_request)))
    assert page.count('data-testid="proposal-') >= 8


# --- Making a proposal ----------------------------------------------------------------------


def test_management_proposes_a_credit_note(as_max, erika_request, erika_invoice):
    response = as_max.post(propose_url(erika_request), credit_data(erika_invoice))
    assert response.status_code == 302
    assert response["Location"] == detail(erika_request)
    proposal = Proposal.objects.get()
    assert (proposal.kind, proposal.amount, proposal.invoice_id) == (
        ProposalKind.CREDIT_NOTE,
        Decimal("25.00"),
        erika_invoice.pk,
    )
    assert ManagementRequest.objects.get(pk=erika_request.pk).status == RequestStatus.PROPOSED
    page = text(as_max.get(detail(erika_request)))
    assert 'data-testid="withdraw-form"' in page
    assert 'data-testid="proposal-form"' not in page


def test_a_german_decimal_comma_is_understood(as_max, erika_request, erika_invoice):
    response = as_max.post(propose_url(erika_request), credit_data(erika_invoice, amount="12,50"))
    assert response.status_code == 302
    assert Proposal.objects.get().amount == Decimal("12.50")


def test_management_proposes_an_early_termination(as_max, erika_request, erika_hosting):
    end = timezone.localdate() + timedelta(days=14)
    response = as_max.post(propose_url(erika_request), termination_data(erika_hosting))
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.contract_id == erika_hosting.pk
    assert proposal.end_date == end
    assert proposal.free_month is True
    assert proposal.refund_amount == erika_hosting.refund_after(end) > 0


def test_management_proposes_an_individual_solution(as_max, erika_request):
    data = {
        "kind": ProposalKind.INDIVIDUAL,
        "findings": "Der Techniker kam dreimal nicht.",
        "text": "Wir schicken morgen unseren besten Techniker.",
    }
    assert as_max.post(propose_url(erika_request), data).status_code == 302
    assert Proposal.objects.get().text == "Wir schicken morgen unseren besten Techniker."


def test_the_refund_preview_saves_nothing(as_max, erika_request, erika_hosting):
    end = timezone.localdate() + timedelta(days=40)
    before = state(erika_request)
    response = as_max.post(
        propose_url(erika_request),
        termination_data(erika_hosting, end_date=end.isoformat(), findings="", preview="1"),
    )
    assert response.status_code == 200
    assert state(erika_request) == before
    page = text(response)
    refund = erika_hosting.refund_after(end)
    assert f'data-testid="refund-{erika_hosting.pk}">{refund:.2f} €<' in page
    assert refund != erika_hosting.refund_after(timezone.localdate())
    # What was typed stays, and no error is shown for fields not filled in yet.
    assert f'value="{end.isoformat()}"' in page
    assert f'value="{erika_hosting.pk}" id="propose-contract-{erika_hosting.pk}" checked' in page
    assert "field-error" not in page


def _refused(as_max, item, data, *, field: str | None = None, message: str | None = None):
    before = state(item)
    response = as_max.post(propose_url(item), data)
    assert response.status_code == 200
    assert state(item) == before
    page = text(response)
    assert "field-error" in page or "form-errors" in page
    if message:
        assert message in page
    return page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"findings": ""}, None),
        ({"findings": "   "}, None),
        ({"kind": ""}, None),
        ({"kind": "refund_everything"}, None),
        ({"amount": "0"}, "The amount must be more than 0."),
        ({"amount": "-5"}, "The amount must be more than 0."),
        ({"amount": "60.00"}, "not yet credited"),
        ({"amount": "25.001"}, "The amount has at most two decimal places."),
        ({"amount": "abc"}, "Enter an amount in euros"),
        ({"amount": "NaN"}, "Enter an amount in euros"),
        ({"amount": ""}, "Enter an amount in euros"),
        ({"invoice": ""}, "Choose the invoice the credit note is for."),
    ],
    ids=[
        "no-findings",
        "blank-findings",
        "no-kind",
        "unknown-kind",
        "zero",
        "negative",
        "more-than-left",
        "three-decimals",
        "abc",
        "nan",
        "no-amount",
        "no-invoice",
    ],
)
def test_bad_credit_notes_are_refused(as_max, erika_request, erika_invoice, changes, message):
    _refused(as_max, erika_request, credit_data(erika_invoice, **changes), message=message)


def test_a_credit_note_is_refused_beyond_what_is_left_of_the_invoice(
    as_max, erika_request, erika_invoice, max_
):
    customer_services.credit_note_create(
        invoice=erika_invoice, amount=Decimal("50.00"), reason="Kulanz", actor=max_
    )
    page = _refused(as_max, erika_request, credit_data(erika_invoice, amount="10.00"))
    assert "9.94" in page


def test_another_customers_invoice_is_refused(as_max, erika_request, malte_invoice):
    page = _refused(as_max, erika_request, credit_data(malte_invoice))
    assert "Choose one of the customer&#x27;s own invoices." in page


def test_another_customers_contract_is_refused(as_max, erika_request, malte_hosting):
    _refused(as_max, erika_request, termination_data(malte_hosting))


def test_an_end_date_in_the_past_is_refused(as_max, erika_request, erika_hosting):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    _refused(
        as_max,
        erika_request,
        termination_data(erika_hosting, end_date=yesterday),
        message="The end date cannot be in the past.",
    )


@pytest.mark.parametrize("end_date", ["", "31.02.2026", "morgen"])
def test_a_missing_or_wrong_end_date_is_refused(as_max, erika_request, erika_hosting, end_date):
    _refused(as_max, erika_request, termination_data(erika_hosting, end_date=end_date))


def test_a_termination_without_a_contract_is_refused(as_max, erika_request, erika_hosting):
    _refused(
        as_max,
        erika_request,
        termination_data(erika_hosting, contract=""),
        message="Choose the contract that ends early.",
    )


def test_a_contract_already_ended_early_is_refused(as_max, erika_request, erika_hosting, max_):
    customer_services.contract_terminate_early(
        contract=erika_hosting,
        end_date=timezone.localdate() + timedelta(days=5),
        refund_amount=Decimal("0"),
        free_month=False,
        actor=max_,
    )
    page = _refused(as_max, erika_request, termination_data(erika_hosting))
    assert f'data-testid="contract-{erika_hosting.pk}"' not in page


def test_an_individual_solution_needs_words(as_max, erika_request):
    _refused(
        as_max,
        erika_request,
        {"kind": ProposalKind.INDIVIDUAL, "findings": "Befund", "text": ""},
    )


def test_a_second_proposal_while_one_is_open_is_refused(
    as_max, erika_request, erika_invoice, credit_proposal
):
    page = _refused(
        as_max,
        erika_request,
        credit_data(erika_invoice, amount="5.00"),
        message="The customer has not answered the last proposal yet; withdraw it first.",
    )
    assert Proposal.objects.count() == 1
    assert 'data-testid="proposal-form"' in page  # shown with the reason, what was typed kept


def test_a_settled_request_takes_no_proposal(as_max, credit_proposal, erika_invoice, alice):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    _refused(
        as_max,
        credit_proposal.request,
        credit_data(erika_invoice, amount="5.00"),
        message="This request is settled.",
    )


# --- Withdrawing ----------------------------------------------------------------------------


def test_management_withdraws_an_open_proposal_once(as_max, credit_proposal):
    item = credit_proposal.request
    response = as_max.post(withdraw_url(credit_proposal), {"reason": "Falscher Betrag"})
    assert response.status_code == 302
    assert response["Location"] == detail(item)
    assert Proposal.objects.get().status == ProposalStatus.WITHDRAWN
    assert ManagementRequest.objects.get(pk=item.pk).status == RequestStatus.OPEN
    page = text(as_max.get(detail(item)))
    assert 'data-testid="proposal-form"' in page  # a new proposal can be made

    before = state(item)
    again = as_max.post(withdraw_url(credit_proposal), {"reason": "Nochmal"})
    assert again.status_code == 200
    assert 'data-testid="stale"' in text(again)
    assert "already been answered or withdrawn" in text(again)
    assert state(item) == before
    assert ManagementRequestEvent.objects.filter(kind="proposal.withdrawn").count() == 1


def test_withdrawing_needs_a_reason(as_max, credit_proposal):
    before = state(credit_proposal.request)
    response = as_max.post(withdraw_url(credit_proposal), {"reason": "  "})
    assert response.status_code == 200
    assert "field-error" in text(response)
    assert state(credit_proposal.request) == before


def test_an_answered_proposal_cannot_be_withdrawn(as_max, credit_proposal, alice):
    services.proposal_answer(proposal=credit_proposal, accept=False, comment="Nein", actor=alice)
    before = state(credit_proposal.request)
    response = as_max.post(withdraw_url(credit_proposal), {"reason": "Zu spät"})
    assert response.status_code == 200
    assert state(credit_proposal.request) == before


def test_withdraw_and_propose_accept_posts_only(as_max, credit_proposal, erika_request):
    assert as_max.get(withdraw_url(credit_proposal)).status_code == 405
    assert as_max.get(propose_url(erika_request)).status_code == 405


# --- Passing a ticket to management ---------------------------------------------------------


def test_bob_passes_his_ticket_to_management(bob, max_, ticket):
    as_bob = signed_in(bob)
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert f'href="{escalate_url(ticket)}"' in page  # the link on the ticket page
    form = as_bob.get(escalate_url(ticket))
    assert form.status_code == 200
    assert 'data-testid="escalate-form"' in text(form)
    queue_url = ticket.queue.get_absolute_url()

    response = as_bob.post(escalate_url(ticket), {"reason": "Kunde droht mit Kündigung."})
    assert response.status_code == 302
    assert response["Location"] == queue_url  # the ticket has left his department
    item = ManagementRequest.objects.get(ticket=ticket)
    assert item.source == RequestSource.AGENT
    assert item.text == "Kunde droht mit Kündigung."
    assert as_bob.get(ticket.get_absolute_url()).status_code == 404
    assert as_bob.get(escalate_url(ticket)).status_code == 404

    as_max = signed_in(max_)
    board = text(as_max.get(reverse("management:board")))
    assert f'data-testid="board-request-{item.pk}"' in board
    page = text(as_max.get(detail(item)))
    assert 'data-testid="event-request.escalated"' in page
    assert "Kunde droht mit Kündigung." in page
    # The ticket page links management to the request.
    ticket_page = text(as_max.get(ticket.get_absolute_url()))
    assert 'data-testid="management-request-link"' in ticket_page
    assert item.get_absolute_url() in ticket_page
    assert 'data-testid="escalate-to-management"' not in ticket_page


def test_management_escalating_lands_on_the_request(max_, ticket):
    response = signed_in(max_).post(escalate_url(ticket), {"reason": "Chefsache"})
    item = ManagementRequest.objects.get(ticket=ticket)
    assert response.status_code == 302
    assert response["Location"] == detail(item)


def test_an_empty_reason_is_refused(bob, ticket):
    response = signed_in(bob).post(escalate_url(ticket), {"reason": "   "})
    assert response.status_code == 200
    assert "field-error" in text(response)
    assert not ManagementRequest.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).queue_id == ticket.queue_id


def test_a_ticket_of_another_department_is_404(carol, bob, ticket, tech_ticket):
    assert signed_in(carol).get(escalate_url(ticket)).status_code == 404
    assert signed_in(carol).post(escalate_url(ticket), {"reason": "x"}).status_code == 404
    assert signed_in(bob).post(escalate_url(tech_ticket), {"reason": "x"}).status_code == 404
    assert (
        signed_in(bob).get(reverse("management:ticket-escalate", args=["nope"])).status_code == 404
    )
    assert not ManagementRequest.objects.exists()


@pytest.mark.parametrize("persona", CUSTOMERS)
def test_customers_cannot_escalate(request, persona, ticket):
    client = signed_in(request.getfixturevalue(persona))
    assert client.get(escalate_url(ticket)).status_code == 403
    assert client.post(escalate_url(ticket), {"reason": "x"}).status_code == 403
    assert not ManagementRequest.objects.exists()


def test_a_resolved_ticket_is_refused(bob, ticket):
    ticket_services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    client = signed_in(bob)
    page = text(client.get(escalate_url(ticket)))
    assert 'data-testid="blocked"' in page and 'data-testid="escalate-form"' not in page
    response = client.post(escalate_url(ticket), {"reason": "Trotzdem"})
    assert response.status_code == 200
    assert 'data-testid="blocked"' in text(response)
    assert not ManagementRequest.objects.exists()
    assert 'data-testid="escalate-to-management"' not in text(client.get(ticket.get_absolute_url()))


def test_a_ticket_already_with_management_is_refused(max_, ticket, bob):
    services.management_escalate(ticket=ticket, reason="Erstes Mal", actor=bob)
    client = signed_in(max_)
    page = text(client.get(escalate_url(ticket)))
    assert 'data-testid="blocked"' in page
    assert 'data-testid="existing-request"' in page
    response = client.post(escalate_url(ticket), {"reason": "Zweites Mal"})
    assert response.status_code == 200
    assert ManagementRequest.objects.count() == 1


def test_the_escalate_page_costs_a_fixed_number_of_queries(
    bob, ticket, erika, alice, django_assert_num_queries
):
    client = signed_in(bob)
    few = queries_for(client, escalate_url(ticket))
    for n in range(5):
        ticket_services.ticket_customer_message_add(ticket=ticket, actor=alice, body=f"Frage {n}")
    with django_assert_num_queries(few):
        client.get(escalate_url(ticket))
