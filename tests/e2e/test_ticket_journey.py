"""The ticket journey in a real browser: a first-line agent takes a ticket from his queue,
answers the customer and hands it to billing with a note; billing reads the note and
escalates to its second line. The history shows every step.

The browsers speak English so the test does not depend on the state of the translations.
"""

import pytest
from playwright.sync_api import Page, expect

from customers import services as customer_services
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, Queue, SupportArea, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


@pytest.fixture
def journey_ticket(alice, bob, carol):
    services.agent_profile_set(
        user=bob, departments=[Department.objects.get(slug="customer-service")], highest_line=1
    )
    services.agent_profile_set(
        user=carol, departments=[Department.objects.get(slug="billing")], highest_line=2
    )
    customer = customer_services.customer_create(
        number="K4000003",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )
    return services.ticket_create(
        customer=customer,
        subject="Rechnung doppelt abgebucht",
        body="Mir wurde die Rechnung vom Oktober zweimal abgebucht.",
        channel=Channel.PORTAL,
        support_area=SupportArea.objects.get(slug="invoice-question"),
        actor=alice,
    )


def test_take_reply_hand_off_then_billing_escalates(
    browser, live_server, journey_ticket, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    try:
        bob_page, carol_page = (context.new_page() for context in contexts)
        _first_line(live_server, bob_page, journey_ticket)
        _billing(live_server, carol_page, journey_ticket)
    finally:
        for context in contexts:
            context.close()
    ticket = Ticket.objects.get(pk=journey_ticket.pk)
    assert ticket.queue == Queue.objects.get(department__slug="billing", line=2)
    kinds = ticket.events.exclude(kind__startswith="sla.").order_by("pk")
    assert list(kinds.values_list("kind", flat=True)) == [
        "ticket.created",
        "ticket.assigned",
        "ticket.status_changed",
        "message.replied",
        "ticket.handed_off",
        "ticket.escalated",
    ]


def _first_line(live_server, page: Page, ticket: Ticket) -> None:
    sign_in(page, f"{live_server.url}/agent/login/", "bob")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    page.get_by_test_id("queues").get_by_role("link", name="Kundenservice · 1st line").click()
    row = page.locator("tr", has_text=ticket.reference)
    row.get_by_role("button", name=f"Take {ticket.reference}").click()
    expect(row.get_by_text("Yours")).to_be_visible()  # swapped in place, no reload
    row.get_by_role("link", name=ticket.reference).click()

    expect(page.get_by_test_id("reference")).to_have_text(ticket.reference)
    expect(page.get_by_test_id("assignee")).to_contain_text("Bob Bauer")
    reply = page.get_by_role("textbox", name="Reply to the customer")
    expect(reply).to_be_focused()
    reply.fill("Hallo Frau Musterfrau,\nwir prüfen die doppelte Abbuchung.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Reply sent to the customer.")
    expect(page.get_by_test_id("message-reply")).to_contain_text("wir prüfen die doppelte")

    page.get_by_text("Hand off to another department").click()
    page.get_by_label("Department", exact=True).select_option(label="Buchhaltung")
    page.get_by_label("Note for the department").fill("Bitte Rückbuchung von 39,99 € prüfen.")
    page.get_by_role("button", name="Hand off", exact=True).click()
    # Bob does not see billing's tickets: he is back in his queue, told where it went.
    expect(page.get_by_role("heading", level=1)).to_have_text("Kundenservice · 1st line")
    expect(page.get_by_role("status")).to_contain_text("Handed off to Buchhaltung · 1st line")
    expect(page.get_by_text(ticket.reference)).to_have_count(0)


def _billing(live_server, page: Page, ticket: Ticket) -> None:
    sign_in(page, f"{live_server.url}/agent/login/", "carol")
    page.get_by_test_id("queues").get_by_role("link", name="Buchhaltung · 1st line").click()
    page.locator("tr", has_text=ticket.reference).get_by_role("link", name=ticket.subject).click()

    handover = page.get_by_test_id("handover")
    expect(handover).to_contain_text("Kundenservice · 1st line → Buchhaltung · 1st line")
    expect(handover).to_contain_text("Bitte Rückbuchung von 39,99 € prüfen.")
    expect(handover).to_contain_text("Bob Bauer")

    page.get_by_text("Escalate to the next line").click()
    page.get_by_label("Why it goes up a line").fill("Gutschrift über 30 € braucht die 2. Linie.")
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Escalated to Buchhaltung · 2nd line.")
    expect(page.get_by_test_id("queue")).to_have_text("Buchhaltung · 2nd line")

    timeline = page.get_by_test_id("timeline")
    for step in (
        "Ticket opened",
        "Assigned",
        "New → Open",
        "Public reply sent",
        "Handed off",
        "Bitte Rückbuchung von 39,99 € prüfen.",
        "Escalated",
        "Buchhaltung · 1st line → Buchhaltung · 2nd line",
        "Gutschrift über 30 € braucht die 2. Linie.",
    ):
        expect(timeline).to_contain_text(step)
