"""A request to management stays with management until the customer agreed."""

import pytest

from helpdesk.errors import DomainError
from tickets import services as ticket_services
from tickets.models import Department

pytestmark = pytest.mark.django_db


def test_an_open_request_cannot_be_handed_off_out_of_management(erika_request, max_):
    ticket = erika_request.ticket
    billing = Department.objects.get(slug="billing")
    with pytest.raises(DomainError, match="stays with management"):
        ticket_services.ticket_handoff(ticket=ticket, actor=max_, department=billing, note="Bitte")
    ticket.refresh_from_db()
    assert ticket.queue.department.slug == "management"


def test_a_settled_request_may_go_elsewhere(erika_request, credit_proposal, alice, max_):
    from escalation.services import management

    management.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    ticket = erika_request.ticket
    ticket.refresh_from_db()
    ticket_services.ticket_transition(ticket=ticket, to="open", actor=max_)
    billing = Department.objects.get(slug="billing")
    ticket_services.ticket_handoff(ticket=ticket, actor=max_, department=billing, note="Buchen")
    ticket.refresh_from_db()
    assert ticket.queue.department.slug == "billing"


def test_an_escalated_ticket_is_not_handed_back_while_open(erika, alice, bob, max_):
    from escalation.services import management
    from tickets.choices import Channel
    from tickets.models import SupportArea

    ticket = ticket_services.ticket_create(
        customer=erika,
        subject="Rechnung doppelt abgebucht",
        body="Zweimal abgebucht.",
        channel=Channel.PORTAL,
        support_area=SupportArea.objects.get(slug="invoice-question"),
        actor=alice,
    )
    management.management_escalate(ticket=ticket, reason="Kunde droht mit Kündigung", actor=bob)
    ticket.refresh_from_db()
    with pytest.raises(DomainError, match="stays with management"):
        ticket_services.ticket_hand_back(ticket=ticket, actor=max_, note="Zurück")
    ticket.refresh_from_db()
    assert ticket.queue.department.slug == "management"
