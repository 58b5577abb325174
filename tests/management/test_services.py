"""Requests to management and the proposals loop, through the services only: who gets the
request, when it is due, what each kind of proposal refuses (and that a refusal writes
nothing), and what accepting carries out."""

# ruff: noqa: F811 - fixtures imported from other conftest modules are redefined as arguments

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from customers import services as customer_services
from customers.choices import ContractStatus, InvoiceStatus
from customers.models import CreditNote, CustomerEvent, add_months
from escalation.choices import (
    NotificationKind,
    ProposalKind,
    ProposalStatus,
    RequestSource,
    RequestStatus,
)
from escalation.models import ManagementRequest, ManagementRequestEvent, Notification, Proposal
from escalation.services import management as services
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from helpdesk.errors import DomainError, StaleEdit
from mail.choices import OutboundKind
from mail.models import OutboundMail
from tests.management.conftest import _contract
from tests.tickets.conftest import area, bob_agent, tina_agent  # noqa: F401
from tickets import permissions as ticket_permissions
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.models import Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db

FINDINGS = "Die Leitung war vom 1. bis 21. gestört."


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _rows() -> dict[str, int]:
    """Everything a request or proposal writes, counted."""
    models = (
        ManagementRequest,
        ManagementRequestEvent,
        Proposal,
        CreditNote,
        CustomerEvent,
        OutboundMail,
        Notification,
        Ticket,
        TicketMessage,
        TicketEvent,
    )
    return {model.__name__: model.objects.count() for model in models}


def _refused(call, field: str | None, error=DomainError) -> DomainError:
    """The call is refused naming `field`, and nothing at all is written."""
    before = _rows()
    with pytest.raises(error) as caught:
        call()
    assert caught.value.field == field, caught.value.message
    assert _rows() == before
    return caught.value


def _kinds(request: ManagementRequest) -> list[str]:
    return list(
        ManagementRequestEvent.objects.filter(request=request)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


def _create(customer, actor, **extra) -> ManagementRequest:
    return services.management_request_create(
        customer=customer,
        subject=extra.pop("subject", "Beschwerde"),
        text=extra.pop("text", "Seit Wochen keine Lösung."),
        actor=actor,
        **extra,
    )


@pytest.fixture
def mia(db):
    """A second manager: every manager gets the notice."""
    user = User.objects.create_user(username="mia", first_name="Mia", last_name="Berg")
    helpdesk_services.user_role_grant(user=user, role=Role.MANAGEMENT)
    return user


@pytest.fixture
def erika_ticket(erika, alice, bob_agent):
    """Erika's billing question with customer service, first line."""
    return ticket_services.ticket_create(
        customer=erika,
        subject="Rechnung doppelt abgebucht",
        body="Mir wurde die Rechnung zweimal abgebucht.",
        channel=Channel.PHONE,
        support_area=area("invoice-question"),
        actor=alice,
    )


# --- Writing to management -------------------------------------------------------------------


def test_a_request_lands_only_with_management(
    erika, alice, bob, tina, max_, mia, bob_agent, tina_agent
):
    request = _create(erika, alice, subject="  Drei   Wochen ohne Internet ")
    ticket = request.ticket
    assert ticket.queue.department.slug == "management"
    assert ticket.channel == Channel.PORTAL and ticket.customer == erika
    assert request.source == RequestSource.PORTAL and request.status == RequestStatus.OPEN
    assert request.subject == ticket.subject == "Drei Wochen ohne Internet"
    # Customer service and its team lead never see it; management and the customer do.
    assert not ticket_permissions.tickets_visible_to(bob).filter(pk=ticket.pk).exists()
    assert not ticket_permissions.tickets_visible_to(tina).filter(pk=ticket.pk).exists()
    assert ticket_permissions.tickets_visible_to(max_).filter(pk=ticket.pk).exists()
    assert ticket_permissions.tickets_visible_to(alice).filter(pk=ticket.pk).exists()
    # One acknowledgement, the request's own (not the ticket's generic one).
    mails = OutboundMail.objects.filter(ticket=ticket)
    assert list(mails.values_list("kind", "to_address")) == [
        (OutboundKind.MANAGEMENT, "erika@example.de")
    ]
    notices = Notification.objects.filter(management_request=request)
    assert sorted(notices.values_list("recipient__username", flat=True)) == ["max", "mia"]
    assert set(notices.values_list("kind", flat=True)) == {NotificationKind.MANAGEMENT_REQUEST}
    assert _kinds(request) == ["request.created"]
    event = request.events.get()
    assert event.actor == alice and event.data["ticket"] == ticket.reference


def test_the_answer_is_due_after_two_working_days_on_the_management_calendar(erika, alice):
    friday = date(2026, 3, 6)
    assert friday.weekday() == 4
    request = _create(erika, alice, now=_aware(friday, 16))
    # 1 h on Friday, 8 h on Monday, 7 h on Tuesday: 960 business minutes.
    assert timezone.localtime(request.answer_due_at) == _aware(date(2026, 3, 10), 16)
    assert request.created_at == request.ticket.created_at == _aware(friday, 16)


def test_a_request_written_at_night_counts_from_the_next_opening(erika, alice, settings):
    settings.MANAGEMENT_ANSWER_MINUTES = 60
    request = _create(erika, alice, now=_aware(date(2026, 3, 9), 22))  # Monday night
    assert timezone.localtime(request.answer_due_at) == _aware(date(2026, 3, 10), 10)


def test_a_customer_may_have_only_so_many_open_requests(erika, alice, max_, settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 2
    first = _create(erika, alice)
    _create(erika, alice)
    _refused(lambda: _create(erika, alice), None)
    # A settled request no longer counts.
    proposal = services.proposal_make(
        request=first,
        kind=ProposalKind.INDIVIDUAL,
        findings=FINDINGS,
        text="Ein Router.",
        actor=max_,
    )
    services.proposal_answer(proposal=proposal, accept=True, comment="", actor=alice)
    third = _create(erika, alice)
    assert ManagementRequest.objects.filter(customer=erika).count() == 3
    assert third.status == RequestStatus.OPEN


def test_other_customers_counts_do_not_matter(erika, alice, malte, mallory, settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 1
    _create(malte, mallory)
    assert _create(erika, alice).customer == erika


def test_related_tickets_and_contract_are_stored(erika, alice, erika_ticket, erika_hosting):
    request = _create(
        erika, alice, related_tickets=[erika_ticket, erika_ticket], contract=erika_hosting
    )
    assert list(request.related_tickets.all()) == [erika_ticket]
    assert request.contract == erika_hosting
    data = request.events.get().data
    assert data["related"] == [erika_ticket.reference] and data["contract"] == erika_hosting.number


def test_another_customers_ticket_or_contract_is_refused(
    erika, alice, malte, mallory, malte_hosting
):
    malte_ticket = ticket_services.ticket_create(
        customer=malte,
        subject="Website offline",
        body="Seit gestern.",
        channel=Channel.PORTAL,
        support_area=area("invoice-question"),
        actor=mallory,
    )
    _refused(lambda: _create(erika, alice, related_tickets=[malte_ticket]), "related_tickets")
    _refused(lambda: _create(erika, alice, contract=malte_hosting), "contract")


def test_too_many_related_tickets_are_refused(erika, alice):
    tickets = [
        ticket_services.ticket_create(
            customer=erika,
            subject=f"Frage {n}",
            body="Frage.",
            channel=Channel.PORTAL,
            support_area=area("invoice-question"),
            actor=alice,
        )
        for n in range(services.RELATED_TICKETS_MAX + 1)
    ]
    _refused(lambda: _create(erika, alice, related_tickets=tickets), "related_tickets")


@pytest.mark.parametrize(
    ("subject", "text", "field"),
    [
        ("Beschwerde\x07", "Text", "subject"),
        ("Beschwerde", "Text mit \x00 Nullbyte", "text"),
        ("Beschwerde", "Umgedreht \u202e txet", "text"),
        ("", "Text", "subject"),
        ("Beschwerde", "   ", "text"),
        ("x" * 201, "Text", "subject"),
        ("Beschwerde", "x" * 5001, "text"),
    ],
)
def test_bad_texts_are_refused(erika, alice, subject, text, field):
    _refused(lambda: _create(erika, alice, subject=subject, text=text), field)


# --- An agent escalates ----------------------------------------------------------------------


def test_an_agent_escalates_a_ticket_to_management(erika_ticket, bob, max_, mia):
    request = services.management_escalate(
        ticket=erika_ticket, reason="Kunde droht mit Kündigung.", actor=bob
    )
    ticket = Ticket.objects.select_related("queue__department").get(pk=erika_ticket.pk)
    assert request.ticket == ticket and ticket.queue.department.slug == "management"
    assert request.source == RequestSource.AGENT and request.text == "Kunde droht mit Kündigung."
    assert request.subject == ticket.subject and request.customer_id == ticket.customer_id
    handoff = TicketEvent.objects.get(ticket=ticket, kind="ticket.handed_off")
    assert handoff.actor == bob and handoff.data["note"] == "Kunde droht mit Kündigung."
    assert TicketEvent.objects.filter(ticket=ticket, kind="management.escalated").count() == 1
    assert _kinds(request) == ["request.escalated"]
    assert OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.MANAGEMENT).count() == 1
    assert Notification.objects.filter(management_request=request).count() == 2
    # Out of bob's department now.
    assert not ticket_permissions.tickets_visible_to(bob).filter(pk=ticket.pk).exists()


def test_escalating_twice_is_refused(erika_ticket, bob):
    services.management_escalate(ticket=erika_ticket, reason="Bitte übernehmen.", actor=bob)
    ticket = Ticket.objects.get(pk=erika_ticket.pk)
    _refused(
        lambda: services.management_escalate(ticket=ticket, reason="Noch mal.", actor=bob),
        "reason",
    )


def test_a_done_ticket_cannot_go_to_management(erika_ticket, bob):
    ticket_services.ticket_transition(ticket=erika_ticket, to=Status.RESOLVED, actor=bob)
    _refused(
        lambda: services.management_escalate(ticket=erika_ticket, reason="Zu spät.", actor=bob),
        "reason",
    )


def test_a_ticket_without_customer_cannot_go_to_management(bob, bob_agent):
    ticket = ticket_services.ticket_create(
        customer=None,
        contact_email="unbekannt@example.org",
        subject="Frage",
        body="Wer bin ich?",
        channel=Channel.EMAIL,
        support_area=area("invoice-question"),
        actor=None,
    )
    _refused(
        lambda: services.management_escalate(ticket=ticket, reason="Bitte.", actor=bob), "reason"
    )


@pytest.mark.parametrize("reason", ["", "   ", "Grund\x1b[31m"])
def test_escalating_needs_a_clean_reason(erika_ticket, bob, reason):
    _refused(
        lambda: services.management_escalate(ticket=erika_ticket, reason=reason, actor=bob),
        "reason",
    )


# --- Proposals: every bad input is refused and writes nothing ----------------------------------


def _propose(request, actor, **fields):
    return services.proposal_make(
        request=request, findings=fields.pop("findings", FINDINGS), actor=actor, **fields
    )


@pytest.mark.parametrize(
    "amount", ["0", "0.00", "-5", "59.95", "1000", "10.005", "abc", "", None, "NaN", "Infinity"]
)
def test_a_bad_credit_note_amount_is_refused(erika_request, erika_invoice, max_, amount):
    _refused(
        lambda: _propose(
            erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount=amount, invoice=erika_invoice
        ),
        "amount",
    )


def test_the_whole_invoice_may_be_credited_with_a_comma(erika_request, erika_invoice, max_):
    proposal = _propose(
        erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="59,94", invoice=erika_invoice
    )
    assert proposal.amount == Decimal("59.94")


def test_a_credit_note_beyond_what_is_left_after_an_earlier_one_is_refused(
    erika_request, erika_invoice, max_
):
    customer_services.credit_note_create(
        invoice=erika_invoice, amount=Decimal("40.00"), reason="Kulanz", actor=max_
    )
    _refused(
        lambda: _propose(
            erika_request,
            max_,
            kind=ProposalKind.CREDIT_NOTE,
            amount="19.95",
            invoice=erika_invoice,
        ),
        "amount",
    )
    proposal = _propose(
        erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="19.94", invoice=erika_invoice
    )
    assert proposal.amount == Decimal("19.94")


def test_a_credit_note_needs_the_customers_own_invoice(erika_request, malte_invoice, max_):
    _refused(
        lambda: _propose(
            erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="5", invoice=malte_invoice
        ),
        "invoice",
    )
    _refused(
        lambda: _propose(
            erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="5", invoice=None
        ),
        "invoice",
    )


def _terminate(request, actor, contract, end_date, **extra):
    return _propose(
        request, actor, kind=ProposalKind.TERMINATION, contract=contract, end_date=end_date, **extra
    )


def test_a_termination_needs_the_customers_own_running_contract(
    erika_request, erika_hosting, malte_hosting, max_
):
    soon = timezone.localdate() + timedelta(days=14)
    _refused(lambda: _terminate(erika_request, max_, malte_hosting, soon), "contract")
    _refused(lambda: _terminate(erika_request, max_, None, soon), "contract")
    customer_services.contract_terminate_early(
        contract=erika_hosting,
        end_date=soon,
        refund_amount=Decimal("0"),
        free_month=False,
        actor=max_,
    )
    erika_hosting.refresh_from_db()
    _refused(lambda: _terminate(erika_request, max_, erika_hosting, soon), "contract")


def test_an_ended_contract_cannot_end_early(erika_request, erika_hosting, max_):
    erika_hosting.status = ContractStatus.ENDED
    erika_hosting.save()
    _refused(
        lambda: _terminate(erika_request, max_, erika_hosting, timezone.localdate()), "contract"
    )


def test_a_termination_needs_an_end_date_from_today_to_the_contracts_own_end(
    erika_request, erika_hosting, max_
):
    today = timezone.localdate()
    _refused(lambda: _terminate(erika_request, max_, erika_hosting, None), "end_date")
    _refused(
        lambda: _terminate(erika_request, max_, erika_hosting, today - timedelta(days=1)),
        "end_date",
    )
    # Notice already given: it ends on its own in 20 days.
    erika_hosting.status = ContractStatus.CANCELLATION_REQUESTED
    erika_hosting.end_date = today + timedelta(days=20)
    erika_hosting.save()
    _refused(
        lambda: _terminate(erika_request, max_, erika_hosting, today + timedelta(days=21)),
        "end_date",
    )
    proposal = _terminate(erika_request, max_, erika_hosting, today + timedelta(days=20))
    assert proposal.end_date == today + timedelta(days=20)


def test_today_is_a_valid_end_date(erika_request, erika_hosting, max_):
    proposal = _terminate(erika_request, max_, erika_hosting, timezone.localdate())
    assert proposal.refund_amount == erika_hosting.refund_after(timezone.localdate())


def test_an_individual_solution_needs_its_text(erika_request, max_):
    _refused(lambda: _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL), "text")
    _refused(lambda: _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="  "), "text")


@pytest.mark.parametrize("kind", ["gift", "", "CREDIT_NOTE", None])
def test_an_unknown_kind_is_refused(erika_request, max_, kind):
    _refused(lambda: _propose(erika_request, max_, kind=kind, text="Etwas."), "kind")


@pytest.mark.parametrize("findings", ["", "  ", "Befund\x00", "x" * 5001])
def test_findings_are_required_and_clean(erika_request, max_, findings):
    _refused(
        lambda: _propose(
            erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Etwas.", findings=findings
        ),
        "findings",
    )


def test_one_open_proposal_at_a_time(credit_proposal, erika_request, max_):
    _refused(
        lambda: _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Noch etwas."),
        None,
    )


def test_no_proposal_on_a_settled_request(credit_proposal, erika_request, alice, max_):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    _refused(
        lambda: _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Noch etwas."),
        None,
    )


# --- Making, answering, carrying out ---------------------------------------------------------


def test_a_proposal_waits_for_the_customer_and_stamps_the_first_response(erika_request, max_):
    ticket = erika_request.ticket
    assert ticket.first_response_at is None
    proposal = _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Ein neuer Router.")
    ticket.refresh_from_db()
    erika_request.refresh_from_db()
    assert erika_request.status == RequestStatus.PROPOSED and erika_request.version == 2
    assert proposal.status == ProposalStatus.OPEN and proposal.created_by == max_
    assert ticket.status == Status.WAITING_CUSTOMER and ticket.first_response_at is not None
    reply = TicketMessage.objects.filter(ticket=ticket, kind="reply").get()
    assert FINDINGS in reply.body and "Ein neuer Router." in reply.body
    assert _kinds(erika_request) == ["request.created", "proposal.made"]
    mails = OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.MANAGEMENT)
    assert mails.count() == 2  # received, proposal (the reply itself is not mailed)
    assert not OutboundMail.objects.filter(ticket=ticket).exclude(kind=OutboundKind.MANAGEMENT)


def test_the_termination_refund_is_fixed_when_proposed(termination_proposal, erika_hosting):
    end = timezone.localdate() + timedelta(days=14)
    assert termination_proposal.end_date == end and termination_proposal.free_month
    assert termination_proposal.refund_amount == erika_hosting.refund_after(end) > 0
    event = termination_proposal.request.events.get(kind="proposal.made")
    assert event.data["refund"] == str(termination_proposal.refund_amount)
    assert event.data["contract"] == erika_hosting.number


def test_a_proposal_is_answered_once(credit_proposal, alice):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="Danke.", actor=alice)
    for accept in (True, False):
        fresh = Proposal.objects.get(pk=credit_proposal.pk)
        _refused(
            lambda accept=accept, fresh=fresh: services.proposal_answer(
                proposal=fresh, accept=accept, comment="Doch nicht.", actor=alice
            ),
            None,
            StaleEdit,
        )
    assert CreditNote.objects.count() == 1


def test_a_withdrawn_proposal_cannot_be_answered(credit_proposal, erika_request, alice, max_):
    services.proposal_withdraw(proposal=credit_proposal, reason="Falscher Betrag.", actor=max_)
    erika_request.refresh_from_db()
    assert erika_request.status == RequestStatus.OPEN
    assert _kinds(erika_request)[-1] == "proposal.withdrawn"
    _refused(
        lambda: services.proposal_answer(
            proposal=credit_proposal, accept=True, comment="", actor=alice
        ),
        None,
        StaleEdit,
    )
    _refused(
        lambda: services.proposal_withdraw(
            proposal=credit_proposal, reason="Noch mal.", actor=max_
        ),
        None,
        StaleEdit,
    )


def test_withdrawing_needs_a_reason(credit_proposal, max_):
    _refused(
        lambda: services.proposal_withdraw(proposal=credit_proposal, reason=" ", actor=max_),
        "reason",
    )


@pytest.mark.parametrize("comment", ["", "   ", "Nein\x07"])
def test_rejecting_needs_a_clean_comment(credit_proposal, alice, comment):
    _refused(
        lambda: services.proposal_answer(
            proposal=credit_proposal, accept=False, comment=comment, actor=alice
        ),
        "comment",
    )


def test_a_rejection_gives_management_the_turn_again(
    credit_proposal, erika_request, alice, max_, mia
):
    before = erika_request.answer_due_at
    first_response = Ticket.objects.get(pk=erika_request.ticket_id).first_response_at
    services.proposal_answer(
        proposal=credit_proposal, accept=False, comment="Zu wenig.", actor=alice
    )
    credit_proposal.refresh_from_db()
    erika_request.refresh_from_db()
    ticket = Ticket.objects.get(pk=erika_request.ticket_id)
    assert credit_proposal.status == ProposalStatus.REJECTED
    assert credit_proposal.customer_comment == "Zu wenig." and credit_proposal.answered_at
    assert erika_request.status == RequestStatus.OPEN and erika_request.answer_due_at >= before
    assert ticket.status == Status.OPEN
    assert "Zu wenig." in TicketMessage.objects.filter(ticket=ticket, kind="customer").last().body
    assert _kinds(erika_request) == ["request.created", "proposal.made", "proposal.rejected"]
    notices = Notification.objects.filter(kind=NotificationKind.PROPOSAL_ANSWERED)
    assert sorted(notices.values_list("recipient__username", flat=True)) == ["max", "mia"]
    assert notices.first().data["accepted"] is False
    assert not CreditNote.objects.exists()
    # The next proposal keeps the first response where it was.
    second = _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Ein Router dazu.")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_CUSTOMER and ticket.first_response_at == first_response
    assert second.status == ProposalStatus.OPEN


def test_accepting_a_credit_note_creates_it_on_the_invoice(
    credit_proposal, erika_request, erika_invoice, alice
):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    note = CreditNote.objects.get()
    assert re.fullmatch(r"GS-\d{4}-\d{6}", note.number)
    assert note.number == f"GS-{timezone.localdate():%Y}-{note.pk:06d}"
    assert note.amount == Decimal("25.00") and note.invoice == erika_invoice
    assert erika_request.ticket.reference in note.reason
    credit_proposal.refresh_from_db()
    assert credit_proposal.status == ProposalStatus.ACCEPTED and credit_proposal.credit_note == note
    erika_invoice.refresh_from_db()
    assert erika_invoice.status == InvoiceStatus.PAID  # 34.94 € are not credited
    erika_request.refresh_from_db()
    assert erika_request.status == RequestStatus.SETTLED and erika_request.settled_at
    ticket = Ticket.objects.get(pk=erika_request.ticket_id)
    assert ticket.status == Status.RESOLVED and ticket.resolved_at
    assert _kinds(erika_request) == [
        "request.created",
        "proposal.made",
        "proposal.accepted",
        "outcome.credit_note",
    ]
    assert erika_request.events.get(kind="outcome.credit_note").data["credit_note"] == note.number
    assert CustomerEvent.objects.filter(kind="invoice.credited").count() == 1
    kinds = list(OutboundMail.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [OutboundKind.MANAGEMENT] * 3  # received, proposal, settled


def test_crediting_the_whole_invoice_marks_it_credited(erika_request, erika_invoice, alice, max_):
    proposal = _propose(
        erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="59.94", invoice=erika_invoice
    )
    services.proposal_answer(proposal=proposal, accept=True, comment="", actor=alice)
    erika_invoice.refresh_from_db()
    assert erika_invoice.status == InvoiceStatus.CREDITED
    assert customer_services.invoice_credit_left(erika_invoice) == 0


def test_accepting_a_termination_ends_the_contract(
    termination_proposal, erika_request, erika_hosting, alice
):
    services.proposal_answer(proposal=termination_proposal, accept=True, comment="Ok.", actor=alice)
    erika_hosting.refresh_from_db()
    end = termination_proposal.end_date
    assert erika_hosting.status == ContractStatus.CANCELLED and erika_hosting.end_date == end
    assert erika_hosting.refund_amount == termination_proposal.refund_amount > 0
    assert erika_hosting.free_until == add_months(end, 1) == termination_proposal.service_until
    assert erika_hosting.early_termination_at is not None
    outcome = erika_request.events.get(kind="outcome.termination").data
    assert outcome == {
        "proposal": termination_proposal.pk,
        "contract": erika_hosting.number,
        "end_date": end.isoformat(),
        "refund": str(erika_hosting.refund_amount),
        "free_until": erika_hosting.free_until.isoformat(),
    }
    assert Ticket.objects.get(pk=erika_request.ticket_id).status == Status.RESOLVED
    assert CustomerEvent.objects.filter(kind="contract.terminated_early").count() == 1


def test_a_termination_without_free_month_and_without_prepaid(
    erika_request, erika, hosting, alice, max_
):
    monthly = _contract(erika, hosting, "V-1000001-9")
    proposal = _terminate(erika_request, max_, monthly, timezone.localdate() + timedelta(days=3))
    assert proposal.refund_amount == Decimal("0.00") and proposal.service_until == proposal.end_date
    services.proposal_answer(proposal=proposal, accept=True, comment="", actor=alice)
    monthly.refresh_from_db()
    assert monthly.free_until is None and monthly.refund_amount == Decimal("0.00")


def test_an_individual_solution_settles_the_request(erika_request, alice, max_):
    proposal = _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Ein neuer Router.")
    services.proposal_answer(proposal=proposal, accept=True, comment="", actor=alice)
    erika_request.refresh_from_db()
    assert erika_request.status == RequestStatus.SETTLED
    assert _kinds(erika_request)[-2:] == ["proposal.accepted", "outcome.individual"]


def test_a_contract_ended_meanwhile_by_another_request_is_refused_and_rolled_back(
    erika, alice, erika_hosting, max_
):
    end = timezone.localdate() + timedelta(days=10)
    first, second = _create(erika, alice), _create(erika, alice)
    winner = _terminate(first, max_, erika_hosting, end)
    loser = _terminate(second, max_, erika_hosting, end + timedelta(days=1))
    services.proposal_answer(proposal=winner, accept=True, comment="", actor=alice)
    ticket_status = Ticket.objects.get(pk=second.ticket_id).status
    _refused(
        lambda: services.proposal_answer(proposal=loser, accept=True, comment="", actor=alice),
        None,
        StaleEdit,
    )
    loser.refresh_from_db()
    second.refresh_from_db()
    erika_hosting.refresh_from_db()
    assert loser.status == ProposalStatus.OPEN and loser.answered_at is None
    assert second.status == RequestStatus.PROPOSED and second.settled_at is None
    assert _kinds(second) == ["request.created", "proposal.made"]
    assert Ticket.objects.get(pk=second.ticket_id).status == ticket_status
    assert erika_hosting.end_date == end  # the first acceptance stands


def test_a_credit_note_beyond_the_invoice_at_acceptance_is_refused_and_rolled_back(
    erika, alice, erika_invoice, max_
):
    first, second = _create(erika, alice), _create(erika, alice)
    forty = _propose(first, max_, kind=ProposalKind.CREDIT_NOTE, amount="40", invoice=erika_invoice)
    thirty = _propose(
        second, max_, kind=ProposalKind.CREDIT_NOTE, amount="30", invoice=erika_invoice
    )
    services.proposal_answer(proposal=forty, accept=True, comment="", actor=alice)
    _refused(
        lambda: services.proposal_answer(proposal=thirty, accept=True, comment="", actor=alice),
        "amount",
    )
    thirty.refresh_from_db()
    assert thirty.status == ProposalStatus.OPEN and thirty.credit_note is None
    assert CreditNote.objects.get().amount == Decimal("40.00")
    # The customer may still reject it, and management can propose what is left.
    services.proposal_answer(proposal=thirty, accept=False, comment="Dann nicht.", actor=alice)
    second.refresh_from_db()
    assert second.status == RequestStatus.OPEN


def test_every_step_is_in_the_history(erika_request, erika_invoice, alice, max_):
    proposal = _propose(erika_request, max_, kind=ProposalKind.INDIVIDUAL, text="Ein Router.")
    services.proposal_answer(proposal=proposal, accept=False, comment="Reicht nicht.", actor=alice)
    proposal = _propose(
        erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="10", invoice=erika_invoice
    )
    services.proposal_withdraw(proposal=proposal, reason="Zu wenig angeboten.", actor=max_)
    proposal = _propose(
        erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="20", invoice=erika_invoice
    )
    services.proposal_answer(proposal=proposal, accept=True, comment="", actor=alice)
    assert _kinds(erika_request) == [
        "request.created",
        "proposal.made",
        "proposal.rejected",
        "proposal.made",
        "proposal.withdrawn",
        "proposal.made",
        "proposal.accepted",
        "outcome.credit_note",
    ]
    actors = list(
        erika_request.events.order_by("created_at", "id").values_list("actor__username", flat=True)
    )
    assert actors == ["alice", "max", "alice", "max", "max", "max", "alice", None]
    statuses = list(
        Proposal.objects.filter(request=erika_request)
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == [ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN, ProposalStatus.ACCEPTED]


def test_the_proposal_reads_in_the_customers_language(erika_request, erika_hosting, max_):
    proposal = _terminate(
        erika_request,
        max_,
        erika_hosting,
        timezone.localdate() + timedelta(days=14),
        free_month=True,
    )
    reply = TicketMessage.objects.get(ticket=erika_request.ticket, kind="reply")
    assert erika_hosting.number in reply.body
    assert str(proposal.refund_amount).replace(".", ",") in reply.body  # German number format


def test_an_invoice_of_another_customer_paid_later_is_not_leaked(
    malte_invoice, erika_request, max_
):
    """The refusal names the field but not the other customer's invoice figures."""
    error = _refused(
        lambda: _propose(
            erika_request, max_, kind=ProposalKind.CREDIT_NOTE, amount="1", invoice=malte_invoice
        ),
        "invoice",
    )
    assert malte_invoice.number not in error.message and "39" not in error.message


def test_the_managers_notices_are_mailed_after_commit(
    erika, alice, max_, mia, mailoutbox, django_capture_on_commit_callbacks
):
    max_.email, mia.email = "max@example.com", "mia@example.com"
    User.objects.bulk_update([max_, mia], ["email"])
    with django_capture_on_commit_callbacks(execute=True):
        request = _create(erika, alice, subject="Drei Wochen ohne Internet")
    mails = [m for m in mailoutbox if set(m.to) & {"max@example.com", "mia@example.com"}]
    assert sorted(m.to[0] for m in mails) == ["max@example.com", "mia@example.com"]
    assert all(request.ticket.reference in m.subject for m in mails)
    assert all(f"/management/requests/{request.pk}/" in m.body for m in mails)
    assert not Notification.objects.filter(management_request=request, emailed_at=None).exists()
