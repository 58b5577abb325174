"""The SLA journey in a real browser: a team lead sees the first-line queue sorted by the
next deadline in colour, the timer fires a breach, the notice leads her to the ticket the
timer moved up a line, and her reply settles the first response as late.

The calendar is open around the clock here, so deadlines do not depend on the hour CI
runs at; the browsers speak English.
"""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers import services as customer_services
from escalation import services as sla
from escalation.models import BusinessCalendar, OpeningHours, SlaPolicy
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, SupportArea

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


@pytest.fixture
def around_the_clock(db):
    calendar = BusinessCalendar.objects.create(name="24/7", slug="always", holiday_country="")
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=day, opens=time(0), closes=time(0))
        for day in range(7)
    )
    SlaPolicy.objects.filter(is_default=True).update(calendar=calendar)
    SlaPolicy.objects.filter(is_default=False).update(is_active=False)


@pytest.fixture
def queue_of_three(around_the_clock, alice, bob, tina):
    services.agent_profile_set(
        user=tina,
        departments=[Department.objects.get(slug="customer-service")],
        highest_line=2,
        is_team_lead=True,
    )
    customer = customer_services.customer_create(
        number="K4000009",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )
    now = timezone.now()
    tickets = {}
    for name, hours_ago in (("late", 5), ("soon", 3.5), ("fresh", 0.2)):
        tickets[name] = services.ticket_create(
            customer=customer,
            subject=f"Anliegen {name}",
            body="Bitte melden Sie sich.",
            channel=Channel.EMAIL,
            support_area=SupportArea.objects.get(slug="general"),
            actor=alice,
            now=now - timedelta(hours=hours_ago),
        )
    return tickets


def test_deadlines_in_colour_then_the_timer_escalates_and_the_lead_answers(
    browser, live_server, queue_of_three
):
    late, soon, fresh = (queue_of_three[name] for name in ("late", "soon", "fresh"))
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        sign_in(page, f"{live_server.url}/agent/login/", "tina")
        page.get_by_test_id("queues").get_by_role("link", name="Kundenservice · 1st line").click()

        rows = page.locator("tbody tr")
        expect(rows.nth(0)).to_contain_text(late.reference)
        expect(rows.nth(1)).to_contain_text(soon.reference)
        expect(rows.nth(2)).to_contain_text(fresh.reference)
        expect(rows.nth(0).locator(".sla-breached")).to_be_visible()
        expect(rows.nth(1).locator(".sla-warning")).to_be_visible()
        expect(rows.nth(2).locator(".sla-ok")).to_be_visible()

        sla.sla_sweep()  # what beat does every 30 seconds

        page.get_by_role("link", name="Workspace", exact=True).first.click()
        notices = page.get_by_test_id("notices")
        expect(notices).to_contain_text(f"{late.reference}: First response overdue")
        notices.get_by_role("link", name=f"{late.reference}: First response overdue").click()

        expect(page.get_by_test_id("queue")).to_have_text("Kundenservice · 2nd line")
        expect(page.get_by_test_id("priority")).to_contain_text("High")
        card = page.get_by_test_id("sla-card")
        expect(card).to_contain_text("Policy “Standard”")
        expect(page.get_by_test_id("sla-clock-first_response")).to_contain_text("overdue")
        expect(page.get_by_test_id("timeline")).to_contain_text("SLA breached")

        page.get_by_role("textbox", name="Reply to the customer").fill(
            "Entschuldigung, wir sind dran."
        )
        page.get_by_role("button", name="Send reply").click()
        expect(page.get_by_role("status")).to_have_text("Reply sent to the customer.")
        expect(page.get_by_test_id("sla-clock-first_response")).to_contain_text("Met late")
        expect(page.get_by_test_id("sla-clock-next_update")).to_contain_text("On time")
    finally:
        context.close()
