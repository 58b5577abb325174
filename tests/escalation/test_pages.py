"""SLA in the workspace: deadline column and sort, the ticket's clocks, notices, timer lag."""

import pytest
import time_machine
from django.urls import reverse

from escalation import services as sla
from escalation.models import Notification
from tests.escalation.conftest import MONDAY_10, at, open_at
from tests.tickets.conftest import area
from tickets import permissions, selectors, services
from tickets.choices import Status
from tickets.selectors import TicketFilter


def _open(customer, actor, subject: str, *, minutes_later: int = 0):
    return open_at(at(16, 10, minutes_later), customer=customer, actor=actor, subject=subject)


@pytest.fixture
def three(erika, alice, bob, team):
    """Three first-line tickets: one due soonest, one later, one waiting (no deadline)."""
    late = _open(erika, alice, "Später fällig", minutes_later=30)
    soon = _open(erika, alice, "Bald fällig", minutes_later=0)
    waiting = _open(erika, alice, "Wartet", minutes_later=5)
    services.ticket_reply(
        ticket=waiting, actor=bob, body="Bitte melden.", status="waiting_customer"
    )
    return soon, late, waiting


def test_the_queue_list_sorts_by_next_deadline_and_colours_it(client, bob, three):
    soon, late, waiting = three
    client.force_login(bob)
    with time_machine.travel(at(16, 13, 20), tick=False):  # soon warns at 13:12
        page = client.get(reverse("tickets:queue-detail", args=[soon.queue_id]))
    html = page.content.decode()
    positions = [html.index(t.reference) for t in (soon, late, waiting)]
    assert positions == sorted(positions)  # next deadline first, none last
    assert 'class="sla sla-warning"' in html
    assert ">40 Min.<" in html  # 13:20 → 14:00, German by default
    assert 'class="sla sla-paused"' in html


def test_paging_by_deadline_lists_every_ticket_once_including_those_without(
    erika, alice, bob, team
):
    made = [_open(erika, alice, f"Anliegen {n}", minutes_later=n % 4) for n in range(7)]
    for ticket in made[:3]:
        services.ticket_reply(ticket=ticket, actor=bob, body="?", status="waiting_customer")
    seen, cursor = [], ""
    visible = permissions.tickets_visible_to(bob)
    while True:
        page = selectors.ticket_list(
            tickets=visible, user=bob, filters=TicketFilter(sort="deadline"), cursor=cursor, size=2
        )
        seen += [row.pk for row in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(t.pk for t in made)
    assert seen[-3:] == sorted(t.pk for t in made[:3])  # no deadline: last, by id


def test_the_ticket_page_shows_the_policy_and_each_clock(client, bob, opened):
    client.force_login(bob)
    with time_machine.travel(at(16, 12), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Wir prüfen.")
        html = client.get(opened.get_absolute_url()).content.decode()
    assert "Richtlinie „Standard“" in html
    first = html.split('data-testid="sla-clock-first_response"', 1)[1].split("</li>", 1)[0]
    assert 'class="sla sla-met">Erfüllt<' in first  # answered at 12:00, due 14:00
    update = html.split('data-testid="sla-clock-next_update"', 1)[1].split("</li>", 1)[0]
    assert "8 Std. 00 Min." in update  # 480 business minutes from the reply
    assert 'data-testid="sla-clock-resolution"' in html


def test_the_customer_sees_no_sla_in_the_portal(client, alice, opened):
    client.force_login(alice)
    page = client.get(reverse("portal_tickets:ticket-detail", args=[opened.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "sla-card" not in html and "Standard" not in html


def test_the_home_shows_notices_and_the_timer_to_a_team_lead(client, tina, opened):
    sla.sla_sweep(now=at(16, 13, 12))
    client.force_login(tina)
    html = client.get(reverse("agent-home")).content.decode()
    assert opened.reference in html and 'data-testid="notices"' in html
    assert 'data-testid="timer-status"' in html


def test_an_agent_sees_no_timer_status(client, bob, opened):
    client.force_login(bob)
    html = client.get(reverse("agent-home")).content.decode()
    assert 'data-testid="timer-status"' not in html


def test_marking_notices_read_touches_only_ones_own(client, bob, tina, opened):
    sla.sla_sweep(now=at(16, 13, 12))  # unassigned: the warning goes to tina
    notice = Notification.objects.get(recipient=tina)
    client.force_login(bob)
    response = client.post(reverse("escalation:notices-read"), {"notice": notice.pk})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is None
    client.force_login(tina)
    client.post(reverse("escalation:notices-read"), {"notice": "not-a-number"})
    notice.refresh_from_db()
    assert notice.read_at is not None  # junk id: all of one's own are marked


def test_notices_read_refuses_get_customers_and_anonymous(client, alice, tina, opened):
    sla.sla_sweep(now=at(16, 13, 12))  # tina has an unread warning
    notice = Notification.objects.get(recipient=tina)
    url = reverse("escalation:notices-read")
    assert client.post(url, {"notice": notice.pk}).status_code == 302  # to the sign-in page
    client.force_login(alice)
    assert client.post(url, {"notice": notice.pk}).status_code in (302, 403)
    assert client.get(url).status_code == 405
    notice.refresh_from_db()
    assert notice.read_at is None


def test_notices_read_with_htmx_returns_the_empty_panel(client, tina, opened):
    sla.sla_sweep(now=at(16, 13, 12))
    client.force_login(tina)
    response = client.post(reverse("escalation:notices-read"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="notices"' in response.content.decode()
    assert not Notification.objects.filter(recipient=tina, read_at=None).exists()


def test_the_queue_page_with_deadlines_costs_the_same_for_one_or_eleven_tickets(
    client, bob, erika, alice, team, django_assert_num_queries
):
    _open(erika, alice, "Allgemein")
    client.force_login(bob)
    url = reverse("tickets:queue-detail", args=[area("general").first_queue_id])
    client.get(url)
    with time_machine.travel(MONDAY_10, tick=False), django_assert_num_queries(12) as few:
        client.get(url)
    for n in range(10):
        _open(erika, alice, f"Mehr {n}")
    same = len(few.captured_queries)
    with time_machine.travel(MONDAY_10, tick=False), django_assert_num_queries(same):
        client.get(url)


def test_a_resolved_ticket_shows_no_running_deadline(client, bob, opened):
    services.ticket_reply(ticket=opened, actor=bob, body="Erledigt.", status=Status.RESOLVED)
    opened.refresh_from_db()
    assert opened.sla_due_at is None
