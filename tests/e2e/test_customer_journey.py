"""The customers journey in a real browser: the customer sets a phone password in the
portal; later they call, the agent finds them, verifies them and records a cancellation."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from customers import services
from customers.models import Contract, Product
from tests.conftest import PASSWORD
from tests.e2e.conftest import second_factor_pass

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Kennwort").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden", exact=True).click()
    second_factor_pass(page, username)


def test_phone_password_set_in_portal_then_caller_verified_and_contract_cancelled(
    browser, live_server, alice, bob
):
    customer = services.customer_create(
        number="K4000001",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
        phones=("0221 1234567",),
    )
    product = Product.objects.create(name="DSL 100", kind="dsl", monthly_price="39.99")
    Contract.objects.create(
        customer=customer,
        product=product,
        number="V-4000001-1",
        start_date=date(2020, 1, 1),
        minimum_term_months=24,
        notice_period_months=1,
        monthly_price="39.99",
    )

    contexts = [browser.new_context(locale="de-DE") for _ in range(2)]
    try:
        _journey(live_server, *(context.new_page() for context in contexts))
    finally:
        for context in contexts:
            context.close()
    assert Contract.objects.get(number="V-4000001-1").status == "cancellation_requested"


def _journey(live_server, portal: Page, agent: Page) -> None:
    _sign_in(portal, f"{live_server.url}/portal/login/", "alice")
    portal.goto(f"{live_server.url}/portal/phone-password/")
    portal.get_by_label("Aktuelles Webkennwort").fill(PASSWORD)
    portal.get_by_label("Neues Telefonkennwort").fill("Sonnenblume 42")
    portal.get_by_label("Telefonkennwort wiederholen").fill("Sonnenblume 42")
    portal.get_by_role("button", name="Telefonkennwort speichern").click()
    expect(portal.get_by_role("status")).to_contain_text("Telefonkennwort")

    _sign_in(agent, f"{live_server.url}/agent/login/", "bob")
    agent.get_by_role("link", name="Kunden").click()
    agent.get_by_role("searchbox").fill("Musterfrau")
    agent.get_by_role("button", name="Suchen").click()
    agent.get_by_role("link", name="K4000001").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Erika Musterfrau")
    expect(agent.get_by_test_id("verification-state")).to_have_text("Nicht verifiziert.")

    field = agent.get_by_label("Telefonkennwort, wie der Anrufer es nennt")
    field.fill("Gänseblümchen")
    agent.get_by_role("button", name="Prüfen").click()
    expect(agent.get_by_test_id("verification-state")).to_have_text("Falsches Telefonkennwort.")
    expect(agent.get_by_test_id("attempts-left")).to_contain_text("Noch 4 Versuche")

    agent.get_by_label("Telefonkennwort, wie der Anrufer es nennt").fill("sonnenblume 42")
    agent.get_by_role("button", name="Prüfen").click()
    expect(agent.get_by_test_id("verification-state")).to_contain_text("Verifiziert bis")

    agent.get_by_role("link", name="Vertrag kündigen").click()
    expect(agent.get_by_test_id("end-date")).to_have_text(re.compile(r"\d+\. \w+ \d{4}"))
    agent.get_by_role("button", name="Kündigung erfassen").click()
    expect(agent.get_by_role("status")).to_contain_text("Kündigung erfasst")
    expect(agent.get_by_text("Kündigung eingegangen")).to_be_visible()
