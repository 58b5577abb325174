"""Technician visits in a real browser, from the phone call to the priority rebooking.

Trent (tech) has Erika on the phone: he books the first free window for her ticket (after
a refused try without a window), and the ticket is "Scheduled". Erika (alice) sees the visit
in the portal and asks to move it; trent moves it to the next window. Dana, the dispatcher,
sends Ole (a subcontractor) on the day plan. Time passes (the window is moved into the past
through the ORM); nobody opened the door, so Dana records the visit as missed. Trent rebooks
with priority, and Dana's plan shows Erika's visit first in its window, marked "Priority".

The browsers speak English so the test does not depend on the state of the translations.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from customers import services as customer_services
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import AppointmentStatus, Channel, Status
from tickets.models import Appointment, Department, SupportArea, Technician, Ticket, VisitWindow
from tickets.services import visits

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

WISH = "Bitte lieber nachmittags, vormittags bin ich bei der Arbeit."


def _staff(username: str, first: str, last: str, role: str, line: int) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, first_name=first, last_name=last
    )
    helpdesk_services.user_role_grant(user=user, role=role)
    services.agent_profile_set(
        user=user, departments=[Department.objects.get(slug="tech")], highest_line=line
    )
    return user


def _customer(number: str, first: str, last: str, postal_code: str, user=None):
    return customer_services.customer_create(
        number=number,
        first_name=first,
        last_name=last,
        street="Heidestraße 17" if user else "Domkloster 4",
        postal_code=postal_code,
        city="Köln",
        email=f"{first.lower()}@example.de",
        user=user,
    )


def _tech_ticket(customer, actor, subject: str) -> Ticket:
    return services.ticket_create(
        customer=customer,
        subject=subject,
        body="Die DSL-Lampe blinkt nur noch.",
        channel=Channel.PHONE,
        support_area=SupportArea.objects.get(slug="no-internet"),
        actor=actor,
    )


@pytest.fixture
def scene(alice):
    trent = _staff("trent", "Trent", "Roth", Role.AGENT, 3)
    _staff("dana", "Dana", "Richter", Role.DISPATCHER, 1)
    cologne = visits.visit_region_save(
        name="Köln",
        area="50667-51149",
        default_windows=[["08:00", "12:00", 2], ["12:00", "15:00", 2], ["15:00", "17:00", 1]],
    )
    visits.visit_windows_fill(
        region=cologne, first_day=timezone.localdate() + timedelta(days=1), days=7
    )
    windows = list(VisitWindow.objects.filter(region=cologne).order_by("date", "starts"))
    ole = Technician.objects.create(name="Ole Brandt", company="NetzBau Rhein GmbH")
    ole.regions.add(cologne)
    erika = _customer("K4000031", "Erika", "Musterfrau", "51147", user=alice)
    hans = _customer("K4000032", "Hans", "Becker", "50667")
    # Hans has the other place in the first window: a priority visit goes before him.
    hans_visit = visits.appointment_book(
        ticket=_tech_ticket(hans, trent, "Telefon tot"), window=windows[0], actor=trent
    )
    ticket = _tech_ticket(erika, alice, "Kein Internet seit heute Morgen")
    return {"ticket": ticket, "windows": windows, "hans_visit": hans_visit, "ole": ole}


def test_book_move_dispatch_miss_and_rebook_with_priority(browser, live_server, scene):
    contexts = [browser.new_context(locale="en-US") for _ in range(3)]
    try:
        trent_page, alice_page, dana_page = (context.new_page() for context in contexts)
        errors = []
        for page in (trent_page, alice_page, dana_page):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    message.type == "error"
                    and "Content Security Policy" in message.text
                    and errors.append(message.text)
                ),
            )
        sign_in(trent_page, f"{live_server.url}/agent/login/", "trent")
        sign_in(alice_page, f"{live_server.url}/portal/login/", "alice")
        sign_in(dana_page, f"{live_server.url}/agent/login/", "dana")

        _trent_books_on_the_phone(live_server, trent_page, scene)
        _alice_asks_to_move(live_server, alice_page, scene)
        _trent_moves_the_visit(live_server, trent_page, scene)
        _dana_sends_ole_then_records_missed(live_server, dana_page, scene)
        _trent_rebooks_with_priority(live_server, trent_page, scene)
        _dana_sees_the_priority_visit_first(live_server, dana_page, scene)
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def _visit(scene) -> Appointment:
    return Appointment.objects.filter(ticket=scene["ticket"]).latest("id")


def _trent_books_on_the_phone(live_server, page, scene):
    ticket, first = scene["ticket"], scene["windows"][0]
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    card = page.get_by_test_id("visits-card")  # loaded into the ticket page by htmx
    expect(card).to_contain_text("No visit planned.")
    card.get_by_role("link", name="Book a visit").click()

    expect(page.get_by_role("heading", name="Book a technician visit")).to_be_visible()
    expect(page.get_by_test_id("visit-region")).to_have_text("Köln")
    # Without a window the booking is refused and nothing is booked.
    page.get_by_role("button", name="Book the visit").click()
    expect(page.get_by_test_id("window-error")).to_have_text("Choose a time window.")
    assert not Appointment.objects.filter(ticket=ticket).exists()

    window_card = page.get_by_test_id(f"window-{first.pk}")
    expect(window_card).to_contain_text("1 place left")
    window_card.click()
    page.get_by_label("Note for the technician").fill("Hausanschluss im Keller, Hund bellt.")
    page.get_by_label("The customer agreed on the phone").check()
    page.get_by_role("button", name="Book the visit").click()

    expect(page.get_by_test_id("status")).to_have_text("Scheduled")
    expect(page.get_by_role("status")).to_contain_text("Visit booked for")
    card = page.get_by_test_id("visits-card")
    expect(card.get_by_test_id("visit-status")).to_have_text("Confirmed")
    expect(card).to_contain_text("Hausanschluss im Keller")
    visit = _visit(scene)
    assert (visit.status, visit.window_id) == (AppointmentStatus.CONFIRMED, first.pk)


def _alice_asks_to_move(live_server, page, scene):
    ticket, first = scene["ticket"], scene["windows"][0]
    page.goto(f"{live_server.url}/portal/requests/{ticket.reference}/")
    box = page.get_by_test_id("visit-box")
    expect(box.get_by_test_id("visit-when")).to_contain_text(
        f"between {first.starts:%H:%M} and {first.ends:%H:%M}"
    )
    expect(box.get_by_test_id("visit-status")).to_have_text("Confirmed")
    box.get_by_text("The time does not suit me").click()
    box.get_by_label("When would suit you better?").fill(WISH)
    box.get_by_role("button", name="Send my wish").click()
    expect(page.get_by_role("status")).to_contain_text("We have your wish")
    expect(page.get_by_test_id("visit-move-requested")).to_contain_text(WISH)
    assert _visit(scene).move_request == WISH


def _trent_moves_the_visit(live_server, page, scene):
    ticket, target = scene["ticket"], scene["windows"][1]
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    card = page.get_by_test_id("visits-card")
    expect(card.get_by_test_id("visit-move-request")).to_contain_text(WISH)
    card.get_by_role("link", name="Move to another window").click()

    expect(page.get_by_test_id("visit-current")).to_contain_text(WISH)
    page.get_by_test_id(f"window-{target.pk}").click()
    page.get_by_role("button", name="Move the visit").click()

    expect(page.get_by_role("status")).to_contain_text("Visit moved to")
    expect(page.get_by_test_id("status")).to_have_text("Scheduled")
    card = page.get_by_test_id("visits-card")
    expect(card).to_contain_text(f"{target.starts:%H:%M}\u2013{target.ends:%H:%M}")
    expect(card.get_by_test_id("visit-history")).to_contain_text("Rescheduled")
    assert _visit(scene).window_id == target.pk


def _show_day(live_server, page, day):
    page.locator("#day-input").fill(day.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(f"day={day.isoformat()}"))


def _dana_sends_ole_then_records_missed(live_server, page, scene):
    visit, ole = _visit(scene), scene["ole"]
    page.goto(f"{live_server.url}/agent/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Visit planning"
    ).click()
    _show_day(live_server, page, visit.window.date)
    row = page.get_by_test_id(f"visit-{visit.pk}")
    expect(row).to_contain_text("Erika Musterfrau")
    expect(row).to_contain_text("51147 Köln")
    expect(
        page.get_by_test_id(f"window-{visit.window_id}").get_by_test_id("window-load")
    ).to_have_text("1/2 booked")
    row.get_by_label("Technician").select_option(label=str(ole))
    row.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Ole Brandt")
    assert _visit(scene).technician_id == ole.pk

    # Time passes: the visit's window lies in the past now.
    yesterday = timezone.localdate() - timedelta(days=1)
    VisitWindow.objects.filter(pk=visit.window_id).update(date=yesterday)
    _show_day(live_server, page, yesterday)
    row = page.get_by_test_id(f"visit-{visit.pk}")
    row.get_by_text("Not met / missed").click()
    row.get_by_label("Why").select_option(label="Customer was not at home")
    row.get_by_label("Note").fill("Zweimal geklingelt, Karte eingeworfen.")
    row.get_by_role("button", name="Record as missed").click()
    expect(page.get_by_role("status")).to_contain_text("recorded as missed")
    expect(page.get_by_test_id(f"visit-{visit.pk}").get_by_test_id("visit-status")).to_have_text(
        "Missed"
    )
    assert Ticket.objects.get(pk=visit.ticket_id).status == Status.OPEN


def _trent_rebooks_with_priority(live_server, page, scene):
    ticket, first = scene["ticket"], scene["windows"][0]
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    card = page.get_by_test_id("visits-card")
    expect(card.get_by_test_id("visit-missed")).to_contain_text("Customer was not at home")
    card.get_by_role("link", name="Rebook with priority").click()

    expect(page.get_by_role("heading", name="Rebook with priority")).to_be_visible()
    page.get_by_test_id(f"window-{first.pk}").click()
    page.get_by_label("The customer agreed on the phone").check()
    page.get_by_role("button", name="Book the visit").click()

    expect(page.get_by_test_id("status")).to_have_text("Scheduled")
    expect(page.get_by_test_id("visits-card")).to_contain_text("Priority")
    visit = _visit(scene)
    assert visit.is_priority and visit.window_id == first.pk


def _dana_sees_the_priority_visit_first(live_server, page, scene):
    first, hans_visit = scene["windows"][0], scene["hans_visit"]
    _show_day(live_server, page, first.date)
    window = page.get_by_test_id(f"window-{first.pk}")
    expect(window.get_by_test_id("window-load")).to_have_text("2/2 booked")
    rows = window.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Erika Musterfrau")
    expect(rows.first.get_by_test_id("priority")).to_have_text("Priority")
    expect(rows.nth(1)).to_have_attribute("data-testid", f"visit-{hans_visit.pk}")
