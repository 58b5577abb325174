"""Who sees which ticket: departments for agents, everything for management, own for
customers, nothing for staff without a place in the organisation."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tickets import permissions, services
from tickets.choices import MessageKind
from tickets.models import Ticket


def test_agents_see_their_departments_tickets_only(ticket, tech_ticket, bob, carol, trent):
    assert set(permissions.tickets_visible_to(bob)) == {ticket}
    assert set(permissions.tickets_visible_to(trent)) == {tech_ticket}
    assert not permissions.tickets_visible_to(carol).exists()


def test_a_team_lead_of_two_departments_sees_both(ticket, tech_ticket, tina):
    assert set(permissions.tickets_visible_to(tina)) == {ticket, tech_ticket}


def test_management_sees_every_ticket(ticket, tech_ticket, malte_ticket, max_):
    assert permissions.tickets_visible_to(max_).count() == 3


def test_staff_without_an_agent_profile_see_nothing(ticket, db):
    from helpdesk.choices import Role
    from tests.conftest import _person

    newcomer = _person("newcomer", Role.AGENT, "Nele", "Neu")
    assert not permissions.tickets_visible_to(newcomer).exists()


def test_customers_see_their_own_tickets_only(ticket, malte_ticket, alice, mallory):
    assert set(permissions.tickets_visible_to(alice)) == {ticket}
    assert set(permissions.tickets_visible_to(mallory)) == {malte_ticket}
    with pytest.raises(Http404):
        permissions.own_ticket(mallory, ticket.reference)


def test_staff_cannot_open_tickets_as_portal_pages(ticket, bob):
    with pytest.raises(Http404):
        permissions.own_ticket(bob, ticket.reference)


def test_an_unknown_and_a_foreign_reference_look_the_same(ticket, carol):
    for reference in (ticket.reference, "1999-000001"):
        with pytest.raises(Http404):
            permissions.ticket_for(carol, reference)


def test_customers_never_get_internal_notes(ticket, bob, alice):
    services.ticket_note_add(ticket=ticket, actor=bob, body="intern")
    services.ticket_reply(ticket=ticket, actor=bob, body="öffentlich")
    kinds = set(permissions.messages_visible_to(alice, ticket).values_list("kind", flat=True))
    assert kinds == {MessageKind.CUSTOMER, MessageKind.REPLY}
    assert permissions.messages_visible_to(bob, ticket).count() == 3


def test_only_team_leads_and_management_assign_others(ticket, bob, tina, max_):
    with pytest.raises(PermissionDenied):
        permissions.ensure_can_assign(bob, ticket, tina)
    permissions.ensure_can_assign(bob, ticket, bob)
    permissions.ensure_can_assign(tina, ticket, bob)
    permissions.ensure_can_assign(max_, ticket, bob)


def test_customers_and_other_departments_cannot_work_a_ticket(ticket, alice, carol, bob):
    assert permissions.can_work(bob, ticket)
    for outsider in (alice, carol):
        with pytest.raises(PermissionDenied):
            permissions.ensure_can_work(outsider, ticket)


def test_other_departments_tickets_are_listed_but_not_openable(ticket, tech_ticket, bob, max_):
    rows = list(Ticket.objects.select_related("queue").order_by("pk"))
    permissions.mark_visible(bob, rows)
    assert [row.visible for row in rows] == [True, False]
    permissions.mark_visible(max_, rows)
    assert [row.visible for row in rows] == [True, True]
