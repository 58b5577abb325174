"""The customer's side of the satisfaction guarantee: alice (Erika's login) writes to
management, follows her requests and answers the proposals; mallory never reaches hers,
staff never use these portal pages.

The pages render in German, and the new texts get their translations only at the end, so
the tests look at status codes, rows and stable markers (data-testid, numbers), not at
words.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Contract, CreditNote
from escalation.choices import ProposalKind, ProposalStatus, RequestStatus
from escalation.models import ManagementRequest, ManagementRequestEvent, Proposal
from escalation.services import management as services
from mail.choices import OutboundKind
from mail.models import OutboundMail
from tests.tickets.conftest import area
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

LIST = reverse("portal_management:request-list")
CREATE = reverse("portal_management:request-create")


def detail(request: ManagementRequest) -> str:
    return reverse("portal_management:request-detail", args=[request.pk])


def answer(proposal: Proposal) -> str:
    return reverse("portal_management:proposal-answer", args=[proposal.pk])


def page_of(response) -> str:
    return response.content.decode()


def levels(response) -> list[str]:
    return [message.level_tag for message in get_messages(response.wsgi_request)]


def _ticket(customer, user, subject: str) -> Ticket:
    return ticket_services.ticket_create(
        customer=customer,
        subject=subject,
        body="Text",
        channel=Channel.PORTAL,
        support_area=area("invoice-question"),
        actor=user,
    )


@pytest.fixture
def alice_client(client, alice, erika):
    client.force_login(alice)
    return client


@pytest.fixture
def mallory_client(client, mallory, malte):
    client.force_login(mallory)
    return client


@pytest.fixture
def erika_ticket(erika, alice):
    return _ticket(erika, alice, "Rechnung doppelt abgebucht")


@pytest.fixture
def malte_ticket(malte, mallory):
    return _ticket(malte, mallory, "Domain-Umzug hängt")


def state() -> dict:
    """Everything an answer or a new request could change."""
    return {
        "requests": ManagementRequest.objects.count(),
        "tickets": Ticket.objects.count(),
        "proposals": list(
            Proposal.objects.order_by("pk").values_list("pk", "status", "customer_comment")
        ),
        "request_states": list(
            ManagementRequest.objects.order_by("pk").values_list("pk", "status", "version")
        ),
        "events": ManagementRequestEvent.objects.count(),
        "credit_notes": CreditNote.objects.count(),
        "contracts": list(
            Contract.objects.order_by("pk").values_list("pk", "end_date", "refund_amount")
        ),
        "mails": OutboundMail.objects.count(),
    }


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


# --- Who gets in ----------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_portal_sign_in(client, credit_proposal, erika_request):
    before = state()
    for path in (LIST, CREATE, detail(erika_request)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/portal/login/?next={path}"
    response = client.post(answer(credit_proposal), {"decision": "accept", "confirm": "on"})
    assert response["Location"].startswith("/portal/login/")
    assert state() == before


def test_staff_get_403_on_the_portal_pages(client, bob, max_, credit_proposal, erika_request):
    before = state()
    for user in (bob, max_):
        client.force_login(user)
        for path in (LIST, CREATE, detail(erika_request)):
            assert client.get(path).status_code == 403
        response = client.post(answer(credit_proposal), {"decision": "accept", "confirm": "on"})
        assert response.status_code == 403
        assert client.post(CREATE, {"subject": "x", "text": "y"}).status_code == 403
    assert state() == before


def test_a_customer_without_a_customer_record_cannot_write(client, alice):
    client.force_login(alice)
    assert client.get(CREATE).status_code == 404
    assert client.post(CREATE, {"subject": "Hallo", "text": "Hallo"}).status_code == 404
    assert ManagementRequest.objects.count() == 0


def test_mallory_gets_404_on_alices_request_and_cannot_answer_her_proposal(
    mallory_client, erika_request, credit_proposal
):
    before = state()
    assert mallory_client.get(detail(erika_request)).status_code == 404
    for data in (
        {"decision": "accept", "confirm": "on"},
        {"decision": "reject", "comment": "Nein"},
    ):
        assert mallory_client.post(answer(credit_proposal), data).status_code == 404
    page = page_of(mallory_client.get(LIST))
    assert f'data-testid="management-request-{erika_request.pk}"' not in page
    assert erika_request.ticket.reference not in page
    assert state() == before


def test_ids_that_are_no_rows_give_404(alice_client, erika_request):
    for path in ("/portal/management/999999/", "/portal/management/99999999999999999999/"):
        assert alice_client.get(path).status_code == 404
    response = alice_client.post(
        "/portal/management/proposals/99999999999999999999/answer/", {"decision": "accept"}
    )
    assert response.status_code == 404


def test_the_answer_url_takes_only_post(alice_client, credit_proposal):
    assert alice_client.get(answer(credit_proposal)).status_code == 405


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_the_own_requests_with_status_and_the_guarantee(
    alice_client, erika_request, malte_request
):
    page = page_of(alice_client.get(LIST))
    assert f'data-testid="management-request-{erika_request.pk}"' in page
    assert erika_request.ticket.reference in page
    assert f'data-testid="management-request-{malte_request.pk}"' not in page
    assert 'data-status="open"' in page
    assert 'data-testid="guarantee"' in page
    assert f'href="{CREATE}"' in page
    assert 'data-testid="at-limit"' not in page


def test_the_list_needs_the_same_queries_for_one_and_three_requests(
    alice_client, erika, alice, erika_request, credit_proposal, django_assert_num_queries
):
    one = _queries(alice_client, LIST)
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    for subject in ("Zweites Anliegen", "Drittes Anliegen"):
        services.management_request_create(customer=erika, subject=subject, text="T", actor=alice)
    with django_assert_num_queries(one):
        response = alice_client.get(LIST)
    page = page_of(response)
    assert page.count('data-testid="management-request-') == 3
    assert 'data-status="settled"' in page
    # session, user, roles, the requests; the answer target: the management calendar and
    # its schedule (calendar, opening hours, closed days)
    assert one == 8


def test_at_the_limit_the_list_says_so_instead_of_offering_a_new_request(
    alice_client, erika, alice, erika_request, settings
):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 1
    page = page_of(alice_client.get(LIST))
    assert 'data-testid="at-limit"' in page
    assert 'data-testid="new-management-request"' not in page


def test_the_portal_home_links_to_management(alice_client):
    page = page_of(alice_client.get(reverse("portal-home")))
    assert 'data-testid="write-to-management"' in page
    assert f'href="{LIST}"' in page


# --- Writing to management -----------------------------------------------------------------


def test_the_form_offers_only_own_recent_requests_and_own_contracts(
    alice_client,
    erika,
    alice,
    erika_ticket,
    malte_ticket,
    erika_hosting,
    malte_hosting,
    erika_request,
):
    response = alice_client.get(CREATE)
    assert response.status_code == 200
    form = response.context["form"]
    offered = set(form.fields["related_tickets"].queryset)
    assert offered == {erika_ticket}  # not Malte's, not the request to management itself
    assert set(form.fields["contract"].queryset) == {erika_hosting}
    page = page_of(response)
    assert erika_ticket.reference in page and malte_ticket.reference not in page
    assert erika_hosting.number in page and malte_hosting.number not in page


def test_the_form_offers_the_20_most_recent_requests(alice_client, erika, alice):
    tickets = [_ticket(erika, alice, f"Anliegen {n}") for n in range(22)]
    form = alice_client.get(CREATE).context["form"]
    assert list(form.fields["related_tickets"].queryset) == tickets[:1:-1]


def test_the_form_needs_the_same_queries_for_few_and_many_choices(
    alice_client, erika, alice, erika_hosting, django_assert_num_queries
):
    _ticket(erika, alice, "Eins")
    one = _queries(alice_client, CREATE)
    for n in range(15):
        _ticket(erika, alice, f"Anliegen {n}")
    Contract.objects.create(
        customer=erika,
        product=erika_hosting.product,
        number="V-1000001-9",
        start_date=erika_hosting.start_date,
        minimum_term_months=12,
        notice_period_months=3,
        monthly_price="9.99",
    )
    with django_assert_num_queries(one):
        alice_client.get(CREATE)
    # session, user, roles, customer, the answer target (4), tickets, contracts
    assert one == 10


def test_writing_creates_the_request_with_mail_and_shows_its_page(
    alice_client, erika, erika_ticket, erika_hosting
):
    response = alice_client.post(
        CREATE,
        {
            "subject": "  Drei Wochen   ohne Internet ",
            "text": "Niemand hilft mir.\r\nBitte melden Sie sich.",
            "related_tickets": [erika_ticket.pk],
            "contract": erika_hosting.pk,
        },
    )
    created = ManagementRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(created)
    assert created.customer == erika
    assert created.subject == "Drei Wochen ohne Internet"
    assert created.text == "Niemand hilft mir.\nBitte melden Sie sich."
    assert created.contract == erika_hosting
    assert list(created.related_tickets.all()) == [erika_ticket]
    assert created.status == RequestStatus.OPEN
    assert created.answer_due_at > created.created_at
    assert created.ticket.queue.department.slug == "management"
    mail = OutboundMail.objects.get(ticket=created.ticket)
    assert mail.kind == OutboundKind.MANAGEMENT
    assert mail.to_address.lower() == "erika@example.de"
    assert levels(response) == ["success"]
    page = page_of(alice_client.get(response["Location"]))
    assert created.ticket.reference in page  # also named in the success message
    assert 'data-testid="answer-due"' in page
    related = reverse("portal_tickets:ticket-detail", args=[erika_ticket.reference])
    assert f'href="{related}"' in page
    assert erika_hosting.number in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"subject": "", "text": "Bitte helfen Sie mir."}, "subject"),
        ({"subject": "Beschwerde", "text": "   "}, "text"),
        ({"subject": "Beschwerde", "text": "x" * 1_000_000}, "text"),
        ({"subject": "x" * 201, "text": "Text"}, "subject"),
        ({"subject": "Beschwerde", "text": "Hallo\x07 Welt"}, "text"),
        ({"subject": "Beschwerde\u202e", "text": "Hallo"}, "subject"),
        ({"subject": "Beschwerde", "text": "Null\x00Byte"}, "text"),
    ],
    ids=["empty-subject", "blank-text", "1mb-text", "long-subject", "bell", "rtl", "nul"],
)
def test_bad_input_is_refused_with_a_field_error_and_nothing_is_saved(
    alice_client, erika, data, field
):
    before = state()
    response = alice_client.post(CREATE, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert state() == before


def test_too_many_open_requests_are_refused(alice_client, erika, alice, erika_request, settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 1
    before = state()
    response = alice_client.post(CREATE, {"subject": "Noch eins", "text": "Text"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert 'data-testid="non-field-error"' in page_of(response)
    assert state() == before


def test_a_settled_request_does_not_count_against_the_limit(
    alice_client, alice, credit_proposal, settings
):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 1
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    response = alice_client.post(CREATE, {"subject": "Neues Anliegen", "text": "Text"})
    assert response.status_code == 302
    assert ManagementRequest.objects.count() == 2


@pytest.mark.parametrize("forged", ["other", "missing", "junk"])
def test_a_forged_related_request_is_refused(
    alice_client, erika, erika_ticket, malte_ticket, forged
):
    value = {"other": malte_ticket.pk, "missing": 999999, "junk": "1 OR 1=1"}[forged]
    before = state()
    response = alice_client.post(
        CREATE,
        {"subject": "Beschwerde", "text": "Text", "related_tickets": [erika_ticket.pk, value]},
    )
    assert response.status_code == 400
    assert "related_tickets" in response.context["form"].errors
    assert state() == before


def test_a_request_to_management_cannot_be_its_own_related_request(alice_client, erika_request):
    before = state()
    response = alice_client.post(
        CREATE,
        {"subject": "Beschwerde", "text": "Text", "related_tickets": [erika_request.ticket_id]},
    )
    assert response.status_code == 400
    assert "related_tickets" in response.context["form"].errors
    assert state() == before


def test_more_related_requests_than_allowed_are_refused(alice_client, erika, alice):
    tickets = [_ticket(erika, alice, f"Anliegen {n}") for n in range(11)]
    before = state()
    response = alice_client.post(
        CREATE,
        {"subject": "Beschwerde", "text": "Text", "related_tickets": [t.pk for t in tickets]},
    )
    assert response.status_code == 400
    assert "related_tickets" in response.context["form"].errors
    assert state() == before


@pytest.mark.parametrize("forged", ["other", "missing", "junk"])
def test_a_forged_contract_is_refused(alice_client, erika, malte_hosting, forged):
    value = {"other": malte_hosting.pk, "missing": 999999, "junk": "abc"}[forged]
    before = state()
    response = alice_client.post(
        CREATE, {"subject": "Beschwerde", "text": "Text", "contract": value}
    )
    assert response.status_code == 400
    assert "contract" in response.context["form"].errors
    assert state() == before


# --- The request's page ----------------------------------------------------------------------


def test_the_page_shows_the_request_and_the_open_proposal_with_both_forms(
    alice_client, erika_request, credit_proposal
):
    response = alice_client.get(detail(erika_request))
    page = page_of(response)
    assert 'data-status="proposed"' in page
    assert 'data-testid="open-proposal"' in page
    assert 'data-testid="accept-form"' in page and 'data-testid="reject-form"' in page
    assert page.count(f'action="{answer(credit_proposal)}"') == 2
    assert 'name="decision" value="accept"' in page
    assert 'name="decision" value="reject"' in page
    assert "R-2026-0001" in page and "25,00" in page
    assert "Die Leitung war vom 1. bis 21. gestört." in page
    assert erika_request.text in page
    conversation = reverse("portal_tickets:ticket-detail", args=[erika_request.ticket.reference])
    assert f'href="{conversation}"' in page


def test_the_page_shows_a_termination_with_end_refund_and_service_until(
    alice_client, erika_request, termination_proposal
):
    page = page_of(alice_client.get(detail(erika_request)))
    assert 'data-testid="proposal-end"' in page
    assert f"{termination_proposal.refund_amount:.2f}".replace(".", ",") in page
    assert termination_proposal.service_until > termination_proposal.end_date
    assert 'data-testid="proposal-service-until"' in page


def test_the_page_needs_the_same_queries_for_one_and_three_proposals(
    alice_client,
    alice,
    max_,
    erika_request,
    erika_invoice,
    erika_ticket,
    credit_proposal,
    django_assert_num_queries,
):
    one = _queries(alice_client, detail(erika_request))
    erika_request.related_tickets.add(erika_ticket, _ticket(erika_request.customer, alice, "B"))
    services.proposal_answer(
        proposal=credit_proposal, accept=False, comment="Zu wenig", actor=alice
    )
    second = services.proposal_make(
        request=erika_request,
        kind=ProposalKind.INDIVIDUAL,
        findings="Wir haben nachgesehen.",
        text="Ein Techniker kommt kostenlos.",
        actor=max_,
    )
    services.proposal_withdraw(proposal=second, reason="Falscher Termin", actor=max_)
    services.proposal_make(
        request=erika_request,
        kind=ProposalKind.CREDIT_NOTE,
        findings="Noch einmal nachgerechnet.",
        amount="40.00",
        invoice=erika_invoice,
        actor=max_,
    )
    with django_assert_num_queries(one):
        response = alice_client.get(detail(erika_request))
    page = page_of(response)
    assert page.count('data-testid="proposal"') == 3
    assert 'data-testid="customer-comment"' in page and "Zu wenig" in page
    assert 'data-status="withdrawn"' in page
    # session, user, roles, the request with its proposals, the related requests
    assert one == 6


# --- Answering -----------------------------------------------------------------------------


def test_rejecting_without_a_comment_is_refused(alice_client, erika_request, credit_proposal):
    before = state()
    response = alice_client.post(answer(credit_proposal), {"decision": "reject", "comment": " "})
    assert response.status_code == 400
    assert "comment" in response.context["reject_form"].errors
    assert state() == before


def test_accepting_without_the_confirmation_is_refused(
    alice_client, erika_request, termination_proposal
):
    before = state()
    response = alice_client.post(answer(termination_proposal), {"decision": "accept"})
    assert response.status_code == 400
    assert "confirm" in response.context["accept_form"].errors
    assert state() == before


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "maybe", "confirm": "on", "comment": "x"},
        {"confirm": "on"},
        {"decision": ["accept", "reject"], "comment": "x"},
    ],
    ids=["bogus", "missing", "doubled"],
)
def test_a_bogus_decision_is_refused(alice_client, erika_request, credit_proposal, data):
    before = state()
    response = alice_client.post(answer(credit_proposal), data)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert levels(response) == ["error"]
    assert state() == before


def test_a_too_long_or_invisible_comment_is_refused(alice_client, erika_request, credit_proposal):
    before = state()
    for comment in ("x" * 2001, "Nein\x1b danke"):
        response = alice_client.post(
            answer(credit_proposal), {"decision": "reject", "comment": comment}
        )
        assert response.status_code == 400
        assert "comment" in response.context["reject_form"].errors
    assert state() == before


def test_rejecting_gives_management_the_turn_again(alice_client, erika_request, credit_proposal):
    response = alice_client.post(
        answer(credit_proposal), {"decision": "reject", "comment": "Das ist zu wenig."}
    )
    assert response.status_code == 302
    assert response["Location"] == detail(erika_request)
    assert levels(response) == ["success"]
    credit_proposal.refresh_from_db()
    erika_request.refresh_from_db()
    assert credit_proposal.status == ProposalStatus.REJECTED
    assert credit_proposal.customer_comment == "Das ist zu wenig."
    assert erika_request.status == RequestStatus.OPEN
    assert CreditNote.objects.count() == 0
    page = page_of(alice_client.get(detail(erika_request)))
    assert 'data-testid="open-proposal"' not in page
    assert 'data-testid="accept-form"' not in page
    assert 'data-status="rejected"' in page and 'data-testid="answer-due"' in page


def test_accepting_a_credit_note_creates_it_settles_and_resolves(
    alice_client, erika_request, erika_invoice, credit_proposal
):
    response = alice_client.post(
        answer(credit_proposal), {"decision": "accept", "confirm": "on", "comment": "Danke"}
    )
    assert response.status_code == 302
    assert levels(response) == ["success"]
    note = CreditNote.objects.get()
    assert note.amount == Decimal("25.00")
    assert note.invoice == erika_invoice
    assert note.customer == erika_request.customer
    credit_proposal.refresh_from_db()
    erika_request.refresh_from_db()
    assert credit_proposal.status == ProposalStatus.ACCEPTED
    assert credit_proposal.credit_note == note
    assert credit_proposal.customer_comment == "Danke"
    assert erika_request.status == RequestStatus.SETTLED
    assert erika_request.settled_at is not None
    assert Ticket.objects.get(pk=erika_request.ticket_id).status == Status.RESOLVED
    assert (
        OutboundMail.objects.filter(
            ticket=erika_request.ticket, kind=OutboundKind.MANAGEMENT
        ).count()
        == 3
    )  # received, proposal, settled
    page = page_of(alice_client.get(detail(erika_request)))
    assert 'data-testid="outcome-credit-note"' in page and note.number in page
    assert 'data-testid="accept-form"' not in page


def test_accepting_a_termination_ends_the_contract_with_refund_and_free_month(
    alice_client, erika_request, erika_hosting, termination_proposal
):
    assert termination_proposal.refund_amount > 0
    response = alice_client.post(
        answer(termination_proposal), {"decision": "accept", "confirm": "on"}
    )
    assert response.status_code == 302
    erika_hosting.refresh_from_db()
    assert erika_hosting.end_date == termination_proposal.end_date
    assert erika_hosting.refund_amount == termination_proposal.refund_amount
    assert erika_hosting.free_until == termination_proposal.service_until
    assert erika_hosting.early_termination_at is not None
    erika_request.refresh_from_db()
    assert erika_request.status == RequestStatus.SETTLED
    assert Ticket.objects.get(pk=erika_request.ticket_id).status == Status.RESOLVED
    page = page_of(alice_client.get(detail(erika_request)))
    assert 'data-testid="outcome-termination"' in page
    assert 'data-testid="outcome-free-until"' in page


def test_accepting_twice_is_refused_with_a_message_and_changes_nothing(
    alice_client, erika_request, credit_proposal
):
    data = {"decision": "accept", "confirm": "on"}
    assert alice_client.post(answer(credit_proposal), data).status_code == 302
    alice_client.get(detail(erika_request))  # shows (and so uses up) the success message
    before = state()
    for again in (data, {"decision": "reject", "comment": "Doch nicht"}):
        response = alice_client.post(answer(credit_proposal), again)
        assert response.status_code == 302
        assert response["Location"] == detail(erika_request)
        assert levels(response) == ["error"]
        alice_client.get(detail(erika_request))
    assert state() == before
    assert CreditNote.objects.count() == 1


def test_a_second_termination_of_the_same_contract_is_refused(
    alice_client, alice, erika, erika_hosting, max_, erika_request, termination_proposal
):
    second_request = services.management_request_create(
        customer=erika, subject="Noch einmal", text="Text", actor=alice
    )
    second = services.proposal_make(
        request=second_request,
        kind=ProposalKind.TERMINATION,
        findings="Auch hier.",
        contract=erika_hosting,
        end_date=timezone.localdate() + timedelta(days=7),
        actor=max_,
    )
    data = {"decision": "accept", "confirm": "on"}
    assert alice_client.post(answer(termination_proposal), data).status_code == 302
    alice_client.get(detail(erika_request))
    before = state()
    response = alice_client.post(answer(second), data)
    assert response.status_code == 302
    assert response["Location"] == detail(second_request)
    assert levels(response) == ["error"]
    assert state() == before  # the proposal stays open, the contract keeps the first end
    second.refresh_from_db()
    assert second.status == ProposalStatus.OPEN


def test_answering_a_withdrawn_proposal_is_refused(
    alice_client, max_, erika_request, credit_proposal
):
    services.proposal_withdraw(proposal=credit_proposal, reason="Falscher Betrag", actor=max_)
    before = state()
    response = alice_client.post(answer(credit_proposal), {"decision": "accept", "confirm": "on"})
    assert response.status_code == 302
    assert levels(response) == ["error"]
    assert state() == before
    page = page_of(alice_client.get(detail(erika_request)))
    assert 'data-status="withdrawn"' in page and 'data-testid="accept-form"' not in page
