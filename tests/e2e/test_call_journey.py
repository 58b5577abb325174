"""The phone journey in a real browser: the phone system reports Erika's call through the
API, the notice pops up on bob's workspace page, one click opens the call note, bob
verifies her by phone password (the page reloads; what he had typed is kept) and saves
the note with the keyboard as solved on first contact.

The browser speaks English; the support area's name is data and stays German.
"""

import http.client
import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from calls.models import Call
from helpdesk import services as helpdesk_services
from tests.customers.conftest import PHONE_PASSWORD
from tests.customers.conftest import erika as erika_fixture
from tests.e2e.conftest import sign_in
from tickets import services as tickets_services
from tickets.choices import Channel, Status
from tickets.models import Department, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]
erika = erika_fixture


@pytest.fixture
def bob_on_the_phone(bob):
    return tickets_services.agent_profile_set(
        user=bob,
        departments=[Department.objects.get(slug="customer-service")],
        highest_line=1,
        extension="201",
    )


@pytest.fixture
def phone_system_key(phone_system) -> str:
    _token, key = helpdesk_services.api_token_create(
        user=phone_system, name="PBX", scopes=["calls:write"]
    )
    return key


def report_call(base_url: str, key: str, **fields) -> dict:
    """POST /api/v1/calls/ as the phone system does: over HTTP, with its token."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/calls/",
            body=json.dumps(fields),
            headers={"Content-Type": "application/json", "Authorization": f"Token {key}"},
        )
        response = connection.getresponse()
        assert response.status == 201
        return json.loads(response.read())
    finally:
        connection.close()


def test_a_reported_call_pops_up_and_is_solved_on_first_contact(
    browser, live_server, bob_on_the_phone, erika, phone_system_key
):
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        sign_in(page, f"{live_server.url}/agent/login/", "bob")
        expect(page.get_by_test_id("call-notices")).to_be_attached()
        expect(page.get_by_test_id("call-notice")).to_have_count(0)

        report_call(
            live_server.url,
            phone_system_key,
            call_id="1700000000.42",
            caller_number="+49 221 1234567",
            ivr_choice="1",
            queue="Hotline",
            wait_seconds=52,
            extension="201",
        )

        notice = page.get_by_test_id("call-notice")
        expect(notice).to_have_count(1, timeout=5_000)
        expect(notice).to_contain_text("K1000001 Erika Musterfrau, Kein Internet, waited 52 s")
        notice.get_by_role("button", name="New call note").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("Call note")
        expect(page.get_by_test_id("call-facts")).to_contain_text("52 s")
        expect(page.get_by_label("Support area")).to_have_value(
            str(Call.objects.get().support_area_id)
        )
        summary = page.get_by_label("Summary")
        expect(summary).to_be_focused()
        page.keyboard.type("Router neu gestartet, DSL-Sync wieder da.")

        page.get_by_label("Phone password as the caller says it").fill(PHONE_PASSWORD)
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_test_id("verification-state")).to_contain_text("Verified until")
        expect(page.get_by_label("Summary")).to_have_value(
            "Router neu gestartet, DSL-Sync wieder da."
        )  # kept across the reload that verification does
        solved = page.get_by_label("Solved on first contact (ticket opened and resolved)")
        expect(solved).to_be_checked()

        page.get_by_label("Summary").focus()
        page.keyboard.press("Control+Enter")

        expect(page.get_by_role("status")).to_contain_text("Solved on first contact: ticket")
        expect(page.get_by_test_id("call-notice")).to_have_count(0)
        ticket = Ticket.objects.get()
        assert ticket.status == Status.RESOLVED and ticket.channel == Channel.PHONE
        assert ticket.subject == "Router neu gestartet, DSL-Sync wieder da."
        call = Call.objects.get()
        assert call.outcome == "first_contact_solved" and call.caller_verified is True
        assert ticket.events.filter(kind="call.solved_on_first_contact").exists()
    finally:
        context.close()
