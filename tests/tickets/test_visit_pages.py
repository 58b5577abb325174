"""Technician visit pages in the agent workspace: the ticket page's card, booking and moving,
cancelling, and the dispatcher's day plan with its windows.

Pages are read in English (Accept-Language), so the assertions do not depend on the state
of the German translation. A refused form shows its reason and changes nothing: the rows a
form could touch are compared before and after.
"""

import html
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.tickets.conftest import area
from tickets import services
from tickets.choices import AppointmentStatus, Channel, MissedReason, Priority, Status
from tickets.models import (
    Appointment,
    Technician,
    Ticket,
    TicketEvent,
    TicketMessage,
    VisitWindow,
)
from tickets.services import visits

pytestmark = pytest.mark.django_db

DASH = "\u2013"  # the en dash between the hours of a window


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    """The page as a reader sees it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.content.decode())


def snapshot() -> tuple:
    """Every row a visit form could change; equal before and after a refused form."""
    return (
        list(
            VisitWindow.objects.order_by("pk").values_list(
                "pk", "region_id", "date", "starts", "ends", "capacity", "booked"
            )
        ),
        list(
            Appointment.objects.order_by("pk").values_list(
                "pk",
                "status",
                "window_id",
                "technician_id",
                "version",
                "missed_reason",
                "outcome",
                "move_requested_at",
                "is_priority",
            )
        ),
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "priority", "version")),
        TicketEvent.objects.count(),
        TicketMessage.objects.count(),
    )


def queries_for(client, url: str, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **extra).status_code == 200
    return len(captured.captured_queries)


def card_url(ticket) -> str:
    return reverse("visits:ticket-visits", args=[ticket.reference])


def book_url(ticket) -> str:
    return reverse("visits:book", args=[ticket.reference])


def day_url(day: date, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"day": day.isoformat(), **params}.items())
    return f"{reverse('visits:day')}?{query}"


def book(ticket, window, actor, **kwargs) -> Appointment:
    return visits.appointment_book(ticket=ticket, window=window, actor=actor, **kwargs)


def begun(appointment: Appointment) -> Appointment:
    """Time passes: the visit's window lies in the past now (yesterday, same hours)."""
    VisitWindow.objects.filter(pk=appointment.window_id).update(
        date=timezone.localdate() - timedelta(days=1)
    )
    return Appointment.objects.select_related("window").get(pk=appointment.pk)


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def tech_ticket_of(customer, actor, subject="Router ohne Sync") -> Ticket:
    return services.ticket_create(
        customer=customer,
        subject=subject,
        body="Bitte Techniker schicken.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=actor,
    )


@pytest.fixture
def as_trent(client, trent):
    return signed_in(client, trent)


@pytest.fixture
def as_dana(client, dana, team):
    return signed_in(client, dana)


@pytest.fixture
def first(cologne_windows):
    return cologne_windows[0]


@pytest.fixture
def visit(tech_ticket, first, trent, ole):
    """Erika's confirmed visit in the first Cologne window, Ole goes."""
    return book(tech_ticket, first, trent, technician=ole, note="Hund im Garten, bitte klingeln.")


# --- The ticket page's card -------------------------------------------------------------------


def test_a_tech_ticket_page_loads_the_visit_card_lazily(as_trent, tech_ticket):
    page = text(as_trent.get(tech_ticket.get_absolute_url()))
    assert 'data-testid="visits-slot"' in page
    assert f'hx-get="{card_url(tech_ticket)}"' in page and 'hx-trigger="load"' in page
    assert f'<a href="{card_url(tech_ticket)}">' in page  # without JavaScript: a plain link


def test_other_tickets_have_no_visit_card(client, bob, ticket):
    page = text(signed_in(client, bob).get(ticket.get_absolute_url()))
    assert "visits-slot" not in page and card_url(ticket) not in page


def test_the_ticket_page_costs_the_same_queries_with_or_without_visits(
    as_trent, trent, tech_ticket, cologne_windows, ole, alice, django_assert_num_queries
):
    url = tech_ticket.get_absolute_url()
    few = queries_for(as_trent, url)
    first = book(tech_ticket, cologne_windows[0], trent, technician=ole)
    moved = visits.appointment_reschedule(appointment=first, window=cologne_windows[1], actor=trent)
    visits.appointment_move_request(appointment=moved, actor=alice, text="Lieber nachmittags.")
    assert TicketEvent.objects.filter(ticket=tech_ticket, kind__startswith="visit.").count() == 3
    with django_assert_num_queries(few):
        as_trent.get(url)


def test_the_card_shows_the_planned_visit_and_what_the_agent_can_do(as_trent, visit, first):
    response = as_trent.get(card_url(visit.ticket), HTTP_HX_REQUEST="true")
    page = text(response)
    assert "<html" not in page  # the partial the slot swaps in
    assert 'data-testid="visits-card"' in page
    for value in (
        first.date.strftime("%d.%m.%Y"),
        f"{first.starts:%H:%M}{DASH}{first.ends:%H:%M}",
        "Köln",
        "Ole Brandt",
        "NetzBau Rhein GmbH",
        "Confirmed",
        "Hund im Garten, bitte klingeln.",
    ):
        assert value in page, value
    assert reverse("visits:reschedule", args=[visit.pk]) in page
    assert reverse("visits:cancel", args=[visit.pk]) in page
    assert reverse("visits:day") in page  # a tech agent reads the day plan from here


def test_the_card_shows_a_move_request_and_the_earlier_visits(
    as_trent, trent, alice, visit, cologne_windows
):
    moved = visits.appointment_reschedule(appointment=visit, window=cologne_windows[2], actor=trent)
    visits.appointment_move_request(appointment=moved, actor=alice, text="Nur nach 16 Uhr bitte.")
    response = as_trent.get(card_url(visit.ticket), HTTP_HX_REQUEST="true")
    page = text(response)
    assert "Customer wants to move:" in page and "Nur nach 16 Uhr bitte." in page
    assert response.context["active"].pk == moved.pk
    assert [v.status for v in response.context["history"]] == [AppointmentStatus.RESCHEDULED]
    assert 'data-testid="visit-history"' in page and "Rescheduled" in page


def test_without_htmx_the_card_is_a_page_with_the_way_back(as_trent, visit):
    page = text(as_trent.get(card_url(visit.ticket)))
    assert "<html" in page and visit.ticket.get_absolute_url() in page
    assert 'data-testid="visits-card"' in page


def test_a_ticket_without_visit_offers_booking(as_trent, tech_ticket, cologne_windows):
    page = text(as_trent.get(card_url(tech_ticket), HTTP_HX_REQUEST="true"))
    assert "No visit planned." in page and book_url(tech_ticket) in page


def test_after_a_missed_visit_the_card_offers_a_priority_rebooking(as_trent, trent, visit):
    visits.appointment_missed(
        appointment=begun(visit), actor=trent, reason=MissedReason.CUSTOMER_ABSENT
    )
    page = text(as_trent.get(card_url(visit.ticket), HTTP_HX_REQUEST="true"))
    assert "The last visit did not take place." in page and "Customer was not at home" in page
    assert f"{book_url(visit.ticket)}?rebook={visit.pk}" in page
    assert "Rebook with priority" in page


def test_the_card_costs_the_same_queries_for_one_or_many_visits(
    as_trent, trent, tech_ticket, cologne_windows, ole, django_assert_num_queries
):
    current = book(tech_ticket, cologne_windows[0], trent, technician=ole)
    url = card_url(tech_ticket)
    few = queries_for(as_trent, url, HTTP_HX_REQUEST="true")
    for window in cologne_windows[1:6]:
        current = visits.appointment_reschedule(appointment=current, window=window, actor=trent)
    assert Appointment.objects.filter(ticket=tech_ticket).count() == 6
    with django_assert_num_queries(few):
        as_trent.get(url, HTTP_HX_REQUEST="true")


def test_other_departments_reach_no_card(client, bob, carol_agent, carol, ticket, visit):
    assert signed_in(client, bob).get(card_url(ticket)).status_code == 404  # not a tech ticket
    assert client.get(card_url(visit.ticket)).status_code == 404  # bob does not see it
    assert signed_in(client, carol).get(card_url(visit.ticket)).status_code == 404


# --- Booking ----------------------------------------------------------------------------------


def test_the_booking_page_offers_the_regions_next_free_windows(
    as_trent, tech_ticket, cologne_windows, ole, berlin
):
    full = cologne_windows[1]
    VisitWindow.objects.filter(pk=full.pk).update(booked=full.capacity)
    Technician.objects.create(name="Bea Berlin").regions.add(berlin)
    response = as_trent.get(book_url(tech_ticket))
    page = text(response)
    assert response.status_code == 200
    assert "Köln" in page and "Heidestraße 17, 51147 Köln" in page
    shown = [window.pk for window in response.context["windows"]]
    assert shown[0] == cologne_windows[0].pk and full.pk not in shown
    first = cologne_windows[0]
    assert f"{first.starts:%H:%M}{DASH}{first.ends:%H:%M}" in page
    assert "2 places left" in page
    assert "Ole Brandt (NetzBau Rhein GmbH)" in page and "Bea Berlin" not in page
    assert "The customer agreed on the phone" in page


def test_booking_with_the_customers_agreement_confirms_and_schedules_the_ticket(
    as_trent, tech_ticket, first, ole
):
    response = as_trent.post(
        book_url(tech_ticket),
        {"window": first.pk, "technician": ole.pk, "note": "2. OG links", "confirmed": "on"},
    )
    assert response.status_code == 302 and response["Location"] == tech_ticket.get_absolute_url()
    appointment = Appointment.objects.get(ticket=tech_ticket)
    assert (appointment.status, appointment.technician, appointment.note) == (
        AppointmentStatus.CONFIRMED,
        ole,
        "2. OG links",
    )
    assert VisitWindow.objects.get(pk=first.pk).booked == 1
    page = text(as_trent.get(tech_ticket.get_absolute_url()))
    assert 'data-testid="status">Scheduled<' in page
    assert "Visit booked for" in page


def test_booking_without_agreement_proposes_the_visit(as_trent, tech_ticket, first):
    response = as_trent.post(book_url(tech_ticket), {"window": first.pk}, follow=True)
    appointment = Appointment.objects.get(ticket=tech_ticket)
    assert appointment.status == AppointmentStatus.PROPOSED and appointment.technician is None
    assert "the customer confirms it in the portal" in text(response)
    assert Ticket.objects.get(pk=tech_ticket.pk).status == Status.SCHEDULED


def _past_window(cologne) -> VisitWindow:
    return VisitWindow.objects.create(
        region=cologne, date=yesterday(), starts=time(8), ends=time(12), capacity=2
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("full", "This window is full; choose another one."),
        ("past", "This window has already begun; choose a later one."),
        ("elsewhere", "The customer's postal code 51147 is not in the region Berlin."),
        ("missing", "Choose a time window."),
        ("unknown", "This window no longer exists; choose another one."),
        ("technician", "This technician does not work in this region."),
        ("long_note", "at most 2000 characters"),
    ],
)
def test_a_refused_booking_says_why_and_changes_nothing(
    as_trent, tech_ticket, cologne, cologne_windows, berlin, case, message
):
    first = cologne_windows[0]
    data = {"window": first.pk, "confirmed": "on"}
    if case == "full":  # someone else took the last place meanwhile
        VisitWindow.objects.filter(pk=first.pk).update(booked=first.capacity)
    elif case == "past":
        data["window"] = _past_window(cologne).pk
    elif case == "elsewhere":
        visits.visit_windows_fill(region=berlin, first_day=first.date, days=1)
        data["window"] = VisitWindow.objects.filter(region=berlin).first().pk
    elif case == "missing":
        del data["window"]
    elif case == "unknown":
        data["window"] = 999999
    elif case == "technician":
        bea = Technician.objects.create(name="Bea Berlin")
        bea.regions.add(berlin)
        data["technician"] = bea.pk
    elif case == "long_note":
        data["note"] = "x" * 2001
    before = snapshot()
    response = as_trent.post(book_url(tech_ticket), data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


def test_a_customer_outside_every_region_gets_a_clear_message(
    as_trent, tech_ticket, erika, cologne_windows
):
    type(erika).objects.filter(pk=erika.pk).update(postal_code="99998")
    page = text(as_trent.get(book_url(tech_ticket)))
    assert "No visit region serves the postal code 99998" in page
    before = snapshot()
    response = as_trent.post(book_url(tech_ticket), {"window": cologne_windows[0].pk})
    assert response.status_code == 400
    assert "The customer's postal code 99998 is not in the region Köln." in text(response)
    assert snapshot() == before


def test_a_ticket_with_a_visit_is_sent_to_move_it(as_trent, visit, cologne_windows):
    page = text(as_trent.get(book_url(visit.ticket)))
    assert "This ticket already has a visit on" in page
    assert reverse("visits:reschedule", args=[visit.pk]) in page
    before = snapshot()
    response = as_trent.post(book_url(visit.ticket), {"window": cologne_windows[1].pk})
    assert response.status_code == 400
    assert "This ticket already has a visit booked; move that one instead." in text(response)
    assert snapshot() == before


def test_a_non_tech_ticket_cannot_book(client, bob, ticket, cologne_windows):
    signed_in(client, bob)
    response = client.get(book_url(ticket))
    assert response.status_code == 403
    assert "Only tickets of the tech department can book a technician visit." in text(response)
    before = snapshot()
    assert client.post(book_url(ticket), {"window": cologne_windows[0].pk}).status_code == 403
    assert snapshot() == before


def test_other_departments_cannot_book_on_a_tech_ticket(
    client, bob, carol, carol_agent, tech_ticket, first
):
    before = snapshot()
    for user in (bob, carol):  # they do not see tech tickets: 404, as for a missing one
        signed_in(client, user)
        assert client.get(book_url(tech_ticket)).status_code == 404
        assert client.post(book_url(tech_ticket), {"window": first.pk}).status_code == 404
    assert snapshot() == before


def test_a_customer_cannot_use_the_workspace_booking(client, alice, tech_ticket, first):
    signed_in(client, alice)
    assert client.get(book_url(tech_ticket)).status_code == 403
    assert client.post(book_url(tech_ticket), {"window": first.pk}).status_code == 403
    assert not Appointment.objects.exists()


def test_management_books_on_any_tech_ticket(client, max_, tech_ticket, first):
    signed_in(client, max_)
    assert client.post(book_url(tech_ticket), {"window": first.pk}).status_code == 302
    assert Appointment.objects.filter(ticket=tech_ticket).exists()


def test_a_missed_visit_is_rebooked_with_priority(as_trent, trent, visit, cologne_windows):
    missed = visits.appointment_missed(
        appointment=begun(visit), actor=trent, reason=MissedReason.TECHNICIAN_NO_SHOW
    )
    page = text(as_trent.get(f"{book_url(visit.ticket)}?rebook={missed.pk}"))
    assert "Rebook with priority" in page and f'value="{missed.pk}"' in page
    window = cologne_windows[3]
    response = as_trent.post(
        book_url(visit.ticket), {"window": window.pk, "rebooking_of": missed.pk, "confirmed": "on"}
    )
    assert response.status_code == 302
    new = Appointment.objects.get(ticket=visit.ticket, status=AppointmentStatus.CONFIRMED)
    assert new.is_priority and new.rebooking_of_id == missed.pk and new.window_id == window.pk


def test_only_a_missed_visit_of_the_ticket_is_rebooked(
    as_trent, trent, alice, erika, visit, cologne_windows
):
    other = tech_ticket_of(erika, alice)
    before = snapshot()
    for bogus in (visit.pk, 999999):
        response = as_trent.post(
            book_url(other), {"window": cologne_windows[2].pk, "rebooking_of": bogus}
        )
        assert response.status_code == 400
        assert "Only a missed visit of this ticket can be rebooked." in text(response)
    assert snapshot() == before


def test_the_booking_page_costs_a_fixed_number_of_queries(
    as_trent, trent, tech_ticket, cologne, cologne_windows, django_assert_num_queries
):
    url = book_url(tech_ticket)
    few = queries_for(as_trent, url)
    for i in range(5):
        Technician.objects.create(name=f"Techniker {i}").regions.add(cologne)
    visits.visit_windows_fill(
        region=cologne, first_day=timezone.localdate() + timedelta(days=8), days=14
    )
    with django_assert_num_queries(few):
        as_trent.get(url)


# --- Moving and cancelling --------------------------------------------------------------------


def move_url(appointment) -> str:
    return reverse("visits:reschedule", args=[appointment.pk])


def test_the_move_page_offers_the_other_windows(as_trent, visit, first, cologne_windows):
    response = as_trent.get(move_url(visit))
    page = text(response)
    assert "Planned now:" in page and "Move the visit" in page
    shown = [window.pk for window in response.context["windows"]]
    assert first.pk not in shown and cologne_windows[1].pk in shown


def test_moving_keeps_the_old_visit_as_history(as_trent, visit, first, cologne_windows):
    target = cologne_windows[2]
    response = as_trent.post(move_url(visit), {"window": target.pk, "version": visit.version})
    assert response.status_code == 302 and response["Location"] == visit.ticket.get_absolute_url()
    old = Appointment.objects.get(pk=visit.pk)
    new = Appointment.objects.get(ticket=visit.ticket, status=AppointmentStatus.CONFIRMED)
    assert old.status == AppointmentStatus.RESCHEDULED and new.window_id == target.pk
    assert VisitWindow.objects.get(pk=first.pk).booked == 0
    assert VisitWindow.objects.get(pk=target.pk).booked == 1


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("same", 400, "The visit is already in this window."),
        ("full", 400, "This window is full; choose another one."),
        ("stale", 409, "Someone else changed this visit meanwhile"),
        ("missing", 400, "Choose a time window."),
    ],
)
def test_a_refused_move_says_why_and_changes_nothing(
    as_trent, visit, first, cologne_windows, case, status, message
):
    target = cologne_windows[1]
    data = {"window": target.pk, "version": visit.version}
    if case == "same":
        data["window"] = first.pk
    elif case == "full":
        VisitWindow.objects.filter(pk=target.pk).update(booked=target.capacity)
    elif case == "stale":
        data["version"] = visit.version - 1 or 99
    elif case == "missing":
        del data["window"]
    before = snapshot()
    response = as_trent.post(move_url(visit), data)
    assert response.status_code == status
    assert message in text(response)
    assert snapshot() == before


def test_a_visit_no_longer_planned_cannot_be_moved(as_trent, trent, visit):
    visits.appointment_cancel(appointment=visit, actor=trent)
    response = as_trent.get(move_url(visit), follow=True)
    assert "This visit is no longer planned." in text(response)


def cancel(client, appointment, **data):
    payload = {"version": Appointment.objects.get(pk=appointment.pk).version, **data}
    return client.post(reverse("visits:cancel", args=[appointment.pk]), payload)


def test_cancelling_frees_the_place_and_reopens_the_ticket(as_trent, visit, first):
    response = cancel(as_trent, visit, reason="Kunde hat selbst repariert")
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert VisitWindow.objects.get(pk=first.pk).booked == 0
    assert Ticket.objects.get(pk=visit.ticket_id).status == Status.OPEN
    event = TicketEvent.objects.filter(ticket=visit.ticket, kind="visit.cancelled").get()
    assert event.data["reason"] == "Kunde hat selbst repariert"


def test_a_refused_cancellation_shows_the_reason_at_the_form(as_trent, visit):
    before = snapshot()
    response = cancel(as_trent, visit, reason="x" * 2001)
    assert response.status_code == 400 and "at most 2000 characters" in text(response)
    response = cancel(as_trent, visit, version=visit.version + 5)
    assert response.status_code == 409 and "Someone else changed this visit" in text(response)
    assert snapshot() == before


def test_an_agent_records_the_customers_confirmation(as_trent, tech_ticket, trent, first):
    proposed = book(tech_ticket, first, trent, confirmed=False)
    response = as_trent.post(reverse("visits:confirm", args=[proposed.pk]))
    assert response.status_code == 302
    assert Appointment.objects.get(pk=proposed.pk).status == AppointmentStatus.CONFIRMED


def test_others_cannot_move_cancel_or_confirm(client, bob, carol, carol_agent, alice, visit):
    before = snapshot()
    for user, expected in ((bob, 404), (carol, 404), (alice, 403)):
        signed_in(client, user)
        assert client.get(move_url(visit)).status_code == expected
        assert cancel(client, visit).status_code == expected
        assert client.post(reverse("visits:confirm", args=[visit.pk])).status_code == expected
    assert snapshot() == before


# --- The dispatcher's day plan ----------------------------------------------------------------


def test_the_day_plan_lists_windows_and_visits_priority_first(
    as_dana, trent, alice, erika, cologne_windows, ole
):
    first = cologne_windows[0]
    early = book(tech_ticket_of(erika, alice, "Telefon tot"), first, trent)
    missed_before = book(tech_ticket_of(erika, alice, "Kein Sync"), cologne_windows[3], trent)
    missed = visits.appointment_missed(
        appointment=begun(missed_before), actor=trent, reason=MissedReason.CUSTOMER_ABSENT
    )
    rebooked = book(missed.ticket, first, trent, technician=ole, rebooking_of=missed)
    response = as_dana.get(day_url(first.date))
    page = text(response)
    assert response.status_code == 200
    window = response.context["plan"][0]["windows"][0]
    assert [visit.pk for visit in window.visits] == [rebooked.pk, early.pk]
    assert "2/2 booked" in page
    assert page.index(f'data-testid="visit-{rebooked.pk}"') < page.index(
        f'data-testid="visit-{early.pk}"'
    )
    assert 'data-testid="priority"' in page
    for value in ("Erika Musterfrau", "K1000001", "Heidestraße 17, 51147 Köln", "Köln"):
        assert value in page, value
    assert early.ticket.reference in page and early.ticket.get_absolute_url() in page
    assert reverse("visits:technician", args=[early.pk]) in page
    assert "Ole Brandt (NetzBau Rhein GmbH)" in page
    header = page[page.index('class="mainnav"') :]
    assert "Visit planning" in header[: header.index("</nav>")]  # the dispatcher's header


def test_the_day_plan_navigates_days_and_filters_regions(as_dana, cologne_windows, berlin):
    visits.visit_windows_fill(region=berlin, first_day=cologne_windows[0].date, days=1)
    day = cologne_windows[0].date
    response = as_dana.get(day_url(day, region=berlin.pk))
    assert [entry["region"] for entry in response.context["plan"]] == [berlin]
    page = text(response)
    assert day_url(day - timedelta(days=1), region=berlin.pk) in page
    assert day_url(day + timedelta(days=1), region=berlin.pk) in page
    both = as_dana.get(day_url(day))
    assert len(both.context["plan"]) == 2
    today = as_dana.get(f"{reverse('visits:day')}?day=kaputt")
    assert today.context["day"] == timezone.localdate()


def test_a_tech_agent_reads_the_day_plan_without_changing_it(as_trent, visit, first):
    response = as_trent.get(day_url(first.date))
    page = text(response)
    assert response.status_code == 200 and "Read only" in page
    assert "Ole Brandt" in page
    assert 'name="technician"' not in page and 'name="capacity"' not in page
    assert reverse("visits:window-create") not in page
    header = page[page.index('class="mainnav"') :]
    assert "Visit planning" not in header[: header.index("</nav>")]  # dispatchers' link


@pytest.mark.parametrize("who", ["bob", "carol", "alice"])
def test_others_cannot_open_the_day_plan(client, request, team, who):
    user = request.getfixturevalue(who)
    assert signed_in(client, user).get(reverse("visits:day")).status_code == 403


def test_the_day_plan_costs_the_same_queries_for_one_or_many_visits(
    as_dana,
    trent,
    alice,
    erika,
    malte,
    mallory,
    cologne,
    berlin,
    cologne_windows,
    ole,
    django_assert_num_queries,
):
    day = cologne_windows[0].date
    visits.visit_windows_fill(region=berlin, first_day=day, days=1)
    book(tech_ticket_of(erika, alice), cologne_windows[0], trent)
    few = queries_for(as_dana, day_url(day))
    VisitWindow.objects.filter(date=day).update(capacity=20)
    for i in range(4):
        Technician.objects.create(name=f"Techniker {i}").regions.add(cologne, berlin)
    for window in VisitWindow.objects.filter(date=day, region=cologne):
        for i in range(3):
            book(
                tech_ticket_of(erika, alice, f"Fall {window.pk}-{i}"), window, trent, technician=ole
            )
    berlin_window = VisitWindow.objects.get(date=day, region=berlin)
    for i in range(3):
        book(tech_ticket_of(malte, mallory, f"Berlin {i}"), berlin_window, trent)
    assert Appointment.objects.count() > 10
    with django_assert_num_queries(few):
        response = as_dana.get(day_url(day))
    assert sum(len(w.visits) for e in response.context["plan"] for w in e["windows"]) > 10


# --- Dispatcher actions -----------------------------------------------------------------------


def test_the_dispatcher_assigns_and_takes_back_a_technician(
    as_dana, tech_ticket, trent, first, ole
):
    appointment = book(tech_ticket, first, trent)
    url = reverse("visits:technician", args=[appointment.pk])
    response = as_dana.post(url, {"technician": ole.pk, "back_day": first.date.isoformat()})
    assert response.status_code == 302 and response["Location"] == day_url(first.date)
    assert Appointment.objects.get(pk=appointment.pk).technician == ole
    as_dana.post(url, {"technician": ""})
    assert Appointment.objects.get(pk=appointment.pk).technician is None


def test_a_technician_of_another_region_is_refused(as_dana, berlin, visit, first):
    bea = Technician.objects.create(name="Bea Berlin")
    bea.regions.add(berlin)
    before = snapshot()
    response = as_dana.post(reverse("visits:technician", args=[visit.pk]), {"technician": bea.pk})
    assert response.status_code == 400
    assert "This technician does not work in this region." in text(response)
    assert snapshot() == before


def test_a_visit_is_recorded_as_done_once_its_window_has_begun(as_dana, visit):
    url = reverse("visits:done", args=[visit.pk])
    before = snapshot()
    response = as_dana.post(url, {"outcome": "APL getauscht", "version": visit.version})
    assert response.status_code == 400 and "This visit has not begun yet." in text(response)
    assert snapshot() == before

    visit = begun(visit)
    page = text(as_dana.get(day_url(yesterday())))
    assert url in page and reverse("visits:missed", args=[visit.pk]) in page
    response = as_dana.post(url, {"outcome": "APL getauscht", "version": visit.version})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.outcome) == (AppointmentStatus.DONE, "APL getauscht")
    assert Ticket.objects.get(pk=visit.ticket_id).status == Status.OPEN


def test_a_missed_visit_needs_a_reason_and_raises_the_priority(as_dana, visit):
    visit = begun(visit)
    url = reverse("visits:missed", args=[visit.pk])
    before = snapshot()
    response = as_dana.post(url, {"reason": "", "note": "", "version": visit.version})
    assert response.status_code == 400 and "Say why the visit was missed." in text(response)
    response = as_dana.post(url, {"reason": "customer_absent", "version": visit.version + 3})
    assert response.status_code == 409 and "Someone else changed this visit" in text(response)
    assert snapshot() == before
    response = as_dana.post(
        url, {"reason": "customer_absent", "note": "Niemand da", "version": visit.version}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.missed_reason) == (AppointmentStatus.MISSED, "customer_absent")
    assert Ticket.objects.get(pk=visit.ticket_id).priority == Priority.HIGH


def test_only_dispatchers_record_and_assign(client, trent, visit, ole):
    signed_in(client, trent)
    visit = begun(visit)
    before = snapshot()
    for name, data in (
        ("technician", {"technician": ole.pk}),
        ("done", {"version": visit.version}),
        ("missed", {"reason": "customer_absent", "version": visit.version}),
    ):
        assert client.post(reverse(f"visits:{name}", args=[visit.pk]), data).status_code == 403
    assert snapshot() == before


# --- Windows ----------------------------------------------------------------------------------


def add_window(client, **data):
    return client.post(reverse("visits:window-create"), data)


def test_the_dispatcher_adds_a_window(as_dana, cologne):
    day = timezone.localdate() + timedelta(days=2)
    response = add_window(
        as_dana, region=cologne.pk, date=day.isoformat(), starts="17:00", ends="19:00", capacity=2
    )
    assert response.status_code == 302 and response["Location"] == day_url(day)
    window = VisitWindow.objects.get(region=cologne, date=day)
    assert (window.starts, window.ends, window.capacity) == (time(17), time(19), 2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"starts": "09:00", "ends": "11:00"},
            f"This overlaps the window 08:00{DASH}12:00 of that day.",
        ),
        ({"date": "past"}, "This window would start in the past."),
        ({"capacity": "0"}, "The capacity is between 1 and 50 visits."),
        ({"capacity": "51"}, "The capacity is between 1 and 50 visits."),
        ({"capacity": "viele"}, "Enter a whole number."),
        ({"starts": "12:00", "ends": "10:00"}, "A window must end after it starts."),
        ({"starts": "25:00"}, "Enter a time."),
        ({"region": ""}, "Choose a region."),
        ({"date": ""}, "Enter a day."),
    ],
)
def test_a_refused_window_says_why_and_changes_nothing(as_dana, cologne_windows, change, message):
    day = cologne_windows[0].date
    data = {
        "region": cologne_windows[0].region_id,
        "date": day.isoformat(),
        "starts": "18:00",
        "ends": "20:00",
        "capacity": "2",
        **change,
    }
    if data["date"] == "past":
        data["date"] = yesterday().isoformat()
    before = snapshot()
    response = add_window(as_dana, **data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


def test_the_capacity_changes_but_never_below_what_is_booked(as_dana, visit, first):
    url = reverse("visits:window-capacity", args=[first.pk])
    assert as_dana.post(url, {"capacity": 5}).status_code == 302
    assert VisitWindow.objects.get(pk=first.pk).capacity == 5
    before = snapshot()
    for capacity, message in (
        ("0", "The capacity is between 1 and 50 visits."),
        ("", "Enter how many visits fit."),
    ):
        response = as_dana.post(url, {"capacity": capacity})
        assert response.status_code == 400 and message in text(response)
    other = tech_ticket_of(visit.ticket.customer, visit.created_by)
    book(other, first, visit.created_by)
    before = snapshot()
    response = as_dana.post(url, {"capacity": 1})
    assert response.status_code == 400
    assert "2 visits are booked in this window; the capacity cannot go below that." in text(
        response
    )
    assert snapshot() == before


def test_standard_windows_are_opened_for_the_next_days(as_dana, cologne, berlin):
    response = as_dana.post(reverse("visits:windows-fill"), {"region": cologne.pk, "days": 7})
    assert response.status_code == 302
    assert VisitWindow.objects.filter(region=cologne).count() >= 3 * 4
    assert not VisitWindow.objects.filter(region=berlin).exists()
    again = as_dana.post(reverse("visits:windows-fill"), {"region": "", "days": 7}, follow=True)
    assert VisitWindow.objects.filter(region=berlin).exists()
    assert "opened" in text(again)


@pytest.mark.parametrize(
    ("days", "message"),
    [("0", "At least one day."), ("61", "At most 60 days."), ("", "Enter how many days ahead.")],
)
def test_a_refused_fill_says_why(as_dana, cologne, days, message):
    before = snapshot()
    response = as_dana.post(reverse("visits:windows-fill"), {"region": cologne.pk, "days": days})
    assert response.status_code == 400 and message in text(response)
    assert snapshot() == before


def test_only_dispatchers_manage_windows(client, trent, bob, alice, team, cologne_windows):
    first = cologne_windows[0]
    before = snapshot()
    for user in (trent, bob, alice):
        signed_in(client, user)
        assert (
            add_window(
                client,
                region=first.region_id,
                date=first.date.isoformat(),
                starts="18:00",
                ends="20:00",
                capacity=1,
            ).status_code
            == 403
        )
        capacity_url = reverse("visits:window-capacity", args=[first.pk])
        assert client.post(capacity_url, {"capacity": 9}).status_code == 403
        fill_url = reverse("visits:windows-fill")
        assert client.post(fill_url, {"days": 3}).status_code == 403
    assert snapshot() == before


def test_a_technician_who_left_stays_shown_on_his_visit(as_dana, visit, first, ole):
    Technician.objects.filter(pk=ole.pk).update(is_active=False)
    response = as_dana.get(day_url(first.date))
    assert response.context["plan"][0]["technicians"] == []
    page = text(response)
    assert f'<option value="{ole.pk}" selected>Ole Brandt (NetzBau Rhein GmbH)</option>' in page
