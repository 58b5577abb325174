"""Technician visits in the customer portal: the visit on the request page, confirming,
cancelling and asking to move it; another customer's visit stays out of reach (404).

Pages are read in English (Accept-Language), so the assertions do not depend on the state of
the German translation.
"""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets.choices import AppointmentStatus, MissedReason, Status
from tickets.models import Appointment, Ticket, TicketEvent, TicketMessage, VisitWindow
from tickets.services import visits

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def snapshot() -> tuple:
    return (
        list(VisitWindow.objects.order_by("pk").values_list("pk", "capacity", "booked")),
        list(
            Appointment.objects.order_by("pk").values_list(
                "pk", "status", "window_id", "version", "move_requested_at", "move_request"
            )
        ),
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "version")),
        TicketEvent.objects.count(),
        TicketMessage.objects.count(),
    )


def request_url(ticket) -> str:
    return reverse("portal_tickets:ticket-detail", args=[ticket.reference])


def action_url(name: str, appointment) -> str:
    return reverse(f"portal_visits:{name}", args=[appointment.pk])


@pytest.fixture
def as_alice(client, alice):
    return signed_in(client, alice)


@pytest.fixture
def first(cologne_windows):
    return cologne_windows[0]


@pytest.fixture
def proposed(tech_ticket, first, trent, ole):
    """Trent proposed a visit; Erika (alice) has not confirmed it yet."""
    return visits.appointment_book(
        ticket=tech_ticket, window=first, actor=trent, technician=ole, confirmed=False
    )


@pytest.fixture
def confirmed(tech_ticket, first, trent):
    return visits.appointment_book(ticket=tech_ticket, window=first, actor=trent)


def test_the_request_page_shows_the_visit_in_words(as_alice, proposed, first):
    page = text(as_alice.get(request_url(proposed.ticket)))
    assert 'data-testid="visit-box"' in page and "Your technician visit" in page
    assert first.date.strftime("%A") in page and first.date.strftime("%B") in page
    assert f"between {first.starts:%H:%M} and {first.ends:%H:%M}" in page
    assert "Proposed: please confirm" in page and "Your technician: Ole Brandt" in page
    for name in ("confirm", "move", "cancel"):
        assert action_url(name, proposed) in page, name
    assert "When would suit you better?" in page


def test_a_request_without_visits_shows_no_box(as_alice, ticket):
    assert 'data-testid="visit-box"' not in text(as_alice.get(request_url(ticket)))


def test_the_customer_confirms_a_proposed_visit(as_alice, proposed):
    response = as_alice.post(action_url("confirm", proposed))
    assert response.status_code == 302
    assert response["Location"] == f"{request_url(proposed.ticket)}#visit"
    assert Appointment.objects.get(pk=proposed.pk).status == AppointmentStatus.CONFIRMED
    page = text(as_alice.get(response["Location"]))
    assert "your appointment is confirmed" in page
    assert action_url("confirm", proposed) not in page


def test_confirming_twice_says_why_and_changes_nothing(as_alice, confirmed):
    before = snapshot()
    response = as_alice.post(action_url("confirm", confirmed))
    assert response.status_code == 400
    assert "cannot become" in text(response)
    assert snapshot() == before


def test_the_customer_asks_to_move_the_visit(as_alice, confirmed):
    response = as_alice.post(action_url("move", confirmed), {"text": "Lieber Donnerstag früh."})
    assert response.status_code == 302
    row = Appointment.objects.get(pk=confirmed.pk)
    assert row.move_requested_at is not None and row.move_request == "Lieber Donnerstag früh."
    assert row.status == AppointmentStatus.CONFIRMED  # still planned until an agent moves it
    assert Ticket.objects.get(pk=confirmed.ticket_id).status == Status.OPEN
    page = text(as_alice.get(request_url(confirmed.ticket)))
    assert "We have your wish and will get back to you." in page
    assert "Lieber Donnerstag früh." in page
    assert action_url("move", confirmed) not in page  # asked once is enough


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "   "}, "Please tell us when it would suit you better."),
        ({}, "Please tell us when it would suit you better."),
        ({"text": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_a_move_request_needs_a_wish(as_alice, confirmed, data, message):
    before = snapshot()
    response = as_alice.post(action_url("move", confirmed), data)
    assert response.status_code == 400 and message in text(response)
    assert snapshot() == before


def test_a_second_move_request_is_refused(as_alice, alice, confirmed):
    visits.appointment_move_request(appointment=confirmed, actor=alice, text="Montags nie.")
    before = snapshot()
    response = as_alice.post(action_url("move", confirmed), {"text": "Doch lieber Freitag."})
    assert response.status_code == 400
    assert "You have already asked to move this visit" in text(response)
    assert snapshot() == before


def test_the_customer_cancels_with_a_reason(as_alice, confirmed, first):
    response = as_alice.post(action_url("cancel", confirmed), {"reason": "Läuft wieder."})
    assert response.status_code == 302
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.CANCELLED
    assert VisitWindow.objects.get(pk=first.pk).booked == 0
    message = TicketMessage.objects.filter(ticket=confirmed.ticket).latest("id")
    assert "Läuft wieder." in message.body
    page = text(as_alice.get(request_url(confirmed.ticket)))
    assert "No technician visit is planned at the moment." in page
    assert 'data-testid="visit-history"' in page and "Cancelled" in page


def test_a_visit_that_has_begun_can_no_longer_be_changed(as_alice, confirmed):
    VisitWindow.objects.filter(pk=confirmed.window_id).update(
        date=timezone.localdate() - timedelta(days=1)
    )
    page = text(as_alice.get(request_url(confirmed.ticket)))
    assert "The appointment has begun. If something is wrong, please call us." in page
    assert action_url("cancel", confirmed) not in page
    before = snapshot()
    for name, data in (("cancel", {}), ("move", {"text": "später"})):
        response = as_alice.post(action_url(name, confirmed), data)
        assert response.status_code == 400
        assert "This visit has already begun; please call us." in text(response)
    assert snapshot() == before


def test_the_visit_page_shows_the_visit_and_the_way_back(as_alice, confirmed):
    page = text(as_alice.get(action_url("visit", confirmed)))
    assert "Your technician visit" in page and request_url(confirmed.ticket) in page


def test_earlier_visits_are_a_short_history(as_alice, trent, confirmed, cologne_windows):
    moved = visits.appointment_reschedule(
        appointment=confirmed, window=cologne_windows[2], actor=trent
    )
    VisitWindow.objects.filter(pk=moved.window_id).update(
        date=timezone.localdate() - timedelta(days=1)
    )
    visits.appointment_missed(
        appointment=Appointment.objects.get(pk=moved.pk),
        actor=trent,
        reason=MissedReason.CUSTOMER_ABSENT,
    )
    response = as_alice.get(request_url(confirmed.ticket))
    page = text(response)
    assert "No technician visit is planned at the moment." in page
    assert "Rescheduled" in page and "Missed" in page


def test_another_customer_cannot_see_or_change_the_visit(client, mallory, malte, confirmed):
    signed_in(client, mallory)
    before = snapshot()
    assert client.get(action_url("visit", confirmed)).status_code == 404
    assert client.post(action_url("confirm", confirmed)).status_code == 404
    assert client.post(action_url("cancel", confirmed), {"reason": "weg"}).status_code == 404
    assert client.post(action_url("move", confirmed), {"text": "nie"}).status_code == 404
    assert snapshot() == before


def test_staff_use_the_workspace_not_the_portal(client, trent, confirmed):
    signed_in(client, trent)
    assert client.get(action_url("visit", confirmed)).status_code == 403
    assert client.post(action_url("cancel", confirmed)).status_code == 403


def test_signed_out_visitors_are_sent_to_the_portal_login(client, confirmed):
    response = client.post(action_url("cancel", confirmed))
    assert response.status_code == 302 and reverse("portal-login") in response["Location"]
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.CONFIRMED


def test_the_request_page_costs_the_same_queries_for_one_or_many_visits(
    as_alice, trent, confirmed, cologne_windows, django_assert_num_queries
):
    url = request_url(confirmed.ticket)
    with CaptureQueriesContext(connection) as captured:
        as_alice.get(url)
    current = confirmed
    for window in cologne_windows[1:6]:
        current = visits.appointment_reschedule(appointment=current, window=window, actor=trent)
    with django_assert_num_queries(len(captured.captured_queries)):
        page = text(as_alice.get(url))
    assert page.count("Rescheduled") >= 5
