"""Text modules in a real browser: a team lead writes a module in the workspace; a first-line
agent types `::rou` in the reply box, picks it with the keyboard, finds it filled in for the
ticket (customer's name, reference, his own name) and sends it.

The browsers speak English so the test does not depend on the state of the translations.
"""

import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, SupportArea, TextModule

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


@pytest.fixture
def customer_service(alice, bob, tina):
    service = Department.objects.get(slug="customer-service")
    services.agent_profile_set(user=bob, departments=[service], highest_line=1)
    services.agent_profile_set(user=tina, departments=[service], highest_line=2, is_team_lead=True)
    # A module that also matches "::rou" and comes first: the agent has to choose.
    services.text_module_create(
        department=service,
        language="de",
        shortcut="rou-hinweis",
        title="Hinweis Routing",
        body="Bitte nicht verwenden.",
        actor=tina,
    )
    customer = customer_services.customer_create(
        number="K4000011",
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
        subject="Internet bricht abends ab",
        body="Seit Tagen fällt das Internet abends mehrmals aus.",
        channel=Channel.PORTAL,
        support_area=SupportArea.objects.get(slug="email-setup"),
        actor=alice,
    )


def test_a_lead_writes_a_module_and_an_agent_inserts_it_with_the_keyboard(
    browser, live_server, customer_service
):
    ticket = customer_service
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    try:
        lead, agent = (context.new_page() for context in contexts)
        # A script the CSP blocked, or one that failed, shows up here (other parts of the
        # page log their own htmx warnings, which are not this test's business).
        errors = []
        agent.on(
            "console",
            lambda message: (
                message.type == "error"
                and ("Content Security Policy" in message.text or "text_modules" in message.text)
                and errors.append(message.text)
            ),
        )
        agent.on("pageerror", lambda error: errors.append(str(error)))

        sign_in(lead, f"{live_server.url}/agent/login/", "tina")
        lead.get_by_role("link", name="Text modules").click()
        expect(lead.get_by_test_id("placeholders")).to_contain_text("{customer_name}")
        lead.get_by_role("link", name="New text module").click()
        lead.get_by_role("combobox", name="Department").select_option(label="Kundenservice")
        lead.get_by_role("combobox", name="Language").select_option(label="German")
        lead.get_by_label("Short name").fill("router-neustart")
        lead.get_by_label("Title").fill("Router neu starten")
        lead.get_by_label("Text", exact=True).fill(
            "Guten Tag {custmer_name},\n\nbitte starten Sie Ihren Router neu."
        )
        lead.get_by_role("button", name="Save text module").click()
        expect(lead.locator(".field-error")).to_contain_text("did you mean {customer_name}?")
        lead.get_by_label("Text", exact=True).fill(
            "Guten Tag {customer_name},\n\nbitte starten Sie Ihren Router neu "
            "(Vorgang {ticket_reference}).\n\nViele Grüße\n{agent_name}"
        )
        lead.get_by_role("button", name="Save text module").click()
        expect(lead.get_by_role("status")).to_contain_text("Text module ::router-neustart saved")
        expect(lead.get_by_test_id("text-module-router-neustart")).to_contain_text(
            "Router neu starten"
        )

        sign_in(agent, f"{live_server.url}/agent/login/", "bob")
        expect(agent.get_by_role("link", name="Text modules")).to_have_count(0)
        agent.goto(f"{live_server.url}{ticket.get_absolute_url()}")
        reply = agent.get_by_role("textbox", name="Reply to the customer")
        expect(reply).to_have_attribute(
            "placeholder", "Type :: and a short name to insert a text module."
        )
        reply.press_sequentially("::rou")
        options = agent.get_by_role("listbox").get_by_role("option")
        expect(options).to_have_count(2)
        expect(options.nth(0)).to_contain_text("::rou-hinweis")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        expect(options.nth(1)).to_contain_text("Router neu starten")

        # Esc closes the list for this "::" (Enter is a new line again); a new "::" opens it.
        reply.press("Escape")
        expect(agent.get_by_role("listbox")).to_be_hidden()
        reply.press_sequentially("t")
        expect(reply).to_have_value("::rout")
        expect(agent.get_by_role("listbox")).to_be_hidden()
        reply.press("ControlOrMeta+a")
        reply.press("Backspace")
        reply.press_sequentially("::rou")
        expect(options).to_have_count(2)
        # The arrow key chooses, Enter inserts in place of "::rou".
        reply.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        reply.press("Enter")
        expect(agent.get_by_role("listbox")).to_be_hidden()
        expected = (
            "Guten Tag Erika Musterfrau,\n\nbitte starten Sie Ihren Router neu "
            f"(Vorgang {ticket.reference}).\n\nViele Grüße\nBob Bauer"
        )
        expect(reply).to_have_value(expected)

        agent.get_by_role("button", name="Send reply").click()
        expect(agent.get_by_role("status")).to_have_text("Reply sent to the customer.")
        expect(agent.get_by_test_id("message-reply")).to_contain_text("Guten Tag Erika Musterfrau")
        assert ticket.messages.get(kind="reply").body.replace("\r\n", "\n") == expected
        assert TextModule.objects.get(shortcut="router-neustart").created_by.username == "tina"
        assert errors == []
    finally:
        for context in contexts:
            context.close()
