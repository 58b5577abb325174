"""The management board: who may open it, what it shows, and that it costs the same
queries with a handful of rows or many.

Pages are read in English (Accept-Language), so the assertions do not depend on the
state of the German translation.
"""

# Fixtures come from the tickets tests; ruff reads their use as arguments as redefinitions.
# ruff: noqa: F401, F811

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.models import ManagementRequest, SlaClock
from escalation.services import management as services
from feature_requests import services as feature_services
from feature_requests.choices import AskKind, TargetDepartment
from tests.calls.conftest import call_of
from tests.tickets.conftest import (
    area,
    bob_agent,
    carol_agent,
    department,
    team,
    tina_agent,
    trent,
)
from tickets import services as ticket_services
from tickets.choices import Channel

pytestmark = pytest.mark.django_db

BOARD = reverse("management:board")


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def new_request(customer, actor, subject="Ich bin unzufrieden"):
    return services.management_request_create(
        customer=customer, subject=subject, text="Seit Wochen keine Lösung.", actor=actor
    )


def new_ticket(customer, actor, subject="Kein Internet"):
    return ticket_services.ticket_create(
        customer=customer,
        subject=subject,
        body="Die Leitung ist tot.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=actor,
    )


@pytest.fixture
def many_allowed(settings):
    settings.MANAGEMENT_OPEN_REQUESTS_MAX = 200


# --- Who may enter --------------------------------------------------------------------------


def test_management_sees_the_board(max_):
    response = signed_in(max_).get(BOARD)
    assert response.status_code == 200
    assert reverse("management:kpis") in text(response)
    assert reverse("management:request-list") in text(response)


@pytest.mark.parametrize("persona", ["bob", "carol", "tina", "alice", "mallory"])
def test_everyone_else_is_refused(request, persona):
    user = request.getfixturevalue(persona)
    assert signed_in(user).get(BOARD).status_code == 403


def test_anonymous_is_sent_to_the_agent_login(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("agent-login"))


# --- What it shows --------------------------------------------------------------------------


def test_open_requests_show_age_state_and_overdue(max_, erika, alice, malte, mallory):
    old = new_request(erika, alice, "Drei Wochen ohne Internet")
    fresh = new_request(malte, mallory, "Website offline")
    now = timezone.now()
    ManagementRequest.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(days=3, hours=2), answer_due_at=now - timedelta(hours=5)
    )
    page = text(signed_in(max_).get(BOARD))
    old_row = page.split(f'data-testid="board-request-{old.pk}"', 1)[1].split("</tr>", 1)[0]
    fresh_row = page.split(f'data-testid="board-request-{fresh.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Drei Wochen ohne Internet" in old_row
    assert old.get_absolute_url() in old_row
    assert "K1000001" in old_row
    assert "for 3 days" in old_row
    assert 'data-testid="overdue"' in old_row
    assert 'data-testid="overdue"' not in fresh_row
    assert "mg-status-open" in fresh_row
    assert 'data-testid="unsettled-count">2<' in page
    # Oldest first.
    assert page.index(f"board-request-{old.pk}") < page.index(f"board-request-{fresh.pk}")


def test_a_settled_request_leaves_the_board(max_, credit_proposal, alice):
    services.proposal_answer(proposal=credit_proposal, accept=True, comment="", actor=alice)
    page = text(signed_in(max_).get(BOARD))
    assert f"board-request-{credit_proposal.request_id}" not in page
    assert 'data-testid="no-requests"' in page


def test_more_requests_than_shown_are_counted_and_linked(max_, erika, alice, many_allowed):
    for n in range(17):
        new_request(erika, alice, f"Anliegen {n}")
    page = text(signed_in(max_).get(BOARD))
    assert 'data-testid="unsettled-count">17<' in page
    assert page.count('data-testid="board-request-') == 15
    assert "2 more unsettled requests" in page


def test_breaches_moves_wishes_and_calls(max_, erika, alice, tina, team, bob):
    escalated = new_ticket(erika, alice, "Eskaliert")
    ticket_services.ticket_escalate(ticket=escalated, actor=tina, reason="Zweite Ebene nötig")
    handed = new_ticket(erika, alice, "Übergeben")
    ticket_services.ticket_handoff(
        ticket=handed, actor=tina, department=department("billing"), note="Gutschrift prüfen"
    )
    breached = new_ticket(erika, alice, "Verletzt")
    clock = SlaClock.objects.filter(ticket=breached).first()
    SlaClock.objects.filter(pk=clock.pk).update(breached_at=timezone.now())
    wish = feature_services.feature_request_create(
        title="Rechnung per Post", department=TargetDepartment.BILLING, kind=AskKind.WISH, actor=bob
    )
    call_of(external_id="pbx-board-1", answered_at=timezone.now())

    page = text(signed_in(max_).get(BOARD))
    breached.refresh_from_db()
    assert f'data-testid="breaches-{breached.queue_id}"' in page
    assert 'data-testid="moves-escalated">1<' in page
    assert 'data-testid="moves-handed-off">1<' in page
    assert 'data-testid="moves-table"' in page and "<svg" in page
    assert f'data-testid="wish-{wish.pk}"' in page and wish.get_absolute_url() in page
    assert 'data-testid="calls-today">1<' in page
    assert 'data-testid="timer-status"' in page
    assert 'style="' not in page  # the CSP allows no inline styles


# --- Fixed number of queries ----------------------------------------------------------------


def test_the_board_costs_the_same_queries_for_few_or_many_rows(
    max_, erika, alice, malte, mallory, tina, team, bob, many_allowed, django_assert_num_queries
):
    def grow(count: int, tag: str) -> None:
        for n in range(count):
            new_request(erika if n % 2 else malte, alice if n % 2 else mallory, f"{tag} {n}")
            ticket = new_ticket(erika, alice, f"{tag} Ticket {n}")
            ticket_services.ticket_escalate(ticket=ticket, actor=tina, reason="Zweite Ebene")
            clock = SlaClock.objects.filter(ticket=ticket).first()
            SlaClock.objects.filter(pk=clock.pk).update(breached_at=timezone.now())
            feature_services.feature_request_create(
                title=f"{tag} Wunsch {n}",
                department=TargetDepartment.TECH,
                kind=AskKind.WISH,
                actor=bob,
            )
            call_of(external_id=f"pbx-{tag}-{n}", answered_at=timezone.now())

    # From 15 unsettled requests on, the board also counts them all (one query more than
    # below); both states here are past that.
    grow(15, "a")
    client = signed_in(max_)
    few = queries_for(client, BOARD)
    # Session, user, roles; requests and their count; moves; breaches and their queues;
    # wishes; timer; calls and their 90th percentile.
    assert few == 12
    grow(15, "b")
    with django_assert_num_queries(few):
        response = client.get(BOARD)
    assert response.status_code == 200


def test_an_empty_board_costs_no_more(max_, django_assert_max_num_queries):
    client = signed_in(max_)
    client.get(BOARD)
    with django_assert_max_num_queries(9):
        assert client.get(BOARD).status_code == 200
