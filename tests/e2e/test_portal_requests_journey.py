"""The requests journey in a real browser: the customer opens a request with a file in the
portal, an agent answers, the customer reads the answer, writes back and closes it."""

import pytest
from playwright.sync_api import Page, expect

from customers import services as customer_services
from tests.conftest import PASSWORD
from tests.e2e.conftest import second_factor_pass
from tickets import services
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PNG = bytes.fromhex(
    "89504E470D0A1A0A0000000D49484452000000010000000108060000001F15C489"
    "0000000D49444154789C6360000000000500010D0A2DB40000000049454E44AE426082"
)


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Kennwort").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden", exact=True).click()
    second_factor_pass(page, username)


def test_customer_opens_a_request_reads_the_answer_replies_and_closes_it(
    page: Page, live_server, alice, bob, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    customer_services.customer_create(
        number="K4000002",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )

    _sign_in(page, f"{live_server.url}/portal/login/", "alice")
    page.get_by_test_id("new-request").click()
    form = page.get_by_test_id("request-form")
    form.locator("select[name=support_area]").select_option(label="Kein Internet")
    form.locator("input[name=subject]").fill("Kein Internet seit heute Morgen")
    form.locator("textarea[name=body]").fill("Die DSL-Lampe blinkt.\nNeustart half nicht.")
    form.locator("input[name=attachments]").set_input_files(
        {"name": "lampe.png", "mimeType": "image/png", "buffer": PNG}
    )
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("request-received")).to_be_visible()
    ticket = Ticket.objects.get()
    expect(page.get_by_test_id("request-received")).to_contain_text(ticket.reference)
    expect(page.get_by_test_id("attachment")).to_have_text("lampe.png")
    assert ticket.customer.number == "K4000002"
    assert ticket.messages.get().attachments.count() == 1

    services.ticket_reply(
        ticket=ticket,
        actor=bob,
        body="Bitte ziehen Sie den Stecker für zehn Sekunden.",
        status=Status.WAITING_CUSTOMER,
    )
    services.ticket_note_add(ticket=ticket, actor=bob, body="Interne Notiz: Leitung prüfen")

    page.reload()
    conversation = page.get_by_test_id("conversation")
    expect(conversation).to_contain_text("Bitte ziehen Sie den Stecker für zehn Sekunden.")
    expect(conversation).to_contain_text("Bob")
    expect(conversation).not_to_contain_text("Interne Notiz")
    expect(page.get_by_test_id("request-received")).to_have_count(0)

    reply = page.get_by_test_id("reply-form")
    reply.locator("textarea[name=body]").fill("Hat leider nichts geändert.")
    reply.locator("button[type=submit]").click()
    expect(page.get_by_test_id("conversation")).to_contain_text("Hat leider nichts geändert.")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN

    page.get_by_test_id("close-link").click()
    page.get_by_test_id("close-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("closed-note")).to_be_visible()
    expect(page.get_by_test_id("reply-form")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
