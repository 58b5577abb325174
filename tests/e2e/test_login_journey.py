"""Sign-in journeys in a real browser: German by default (Accept-Language de-DE), English on
request, each person on their own side of the product.

Assertions use Playwright's `expect`, which polls until the page matches or its timeout runs
out, so the tests wait for navigations without sleeping.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import second_factor_pass

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Kennwort").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden", exact=True).click()
    second_factor_pass(page, username)


def test_agent_signs_in_switches_to_english_and_signs_out(page, live_server, bob):
    page.goto(f"{live_server.url}/agent/")
    expect(page).to_have_url(re.compile(r"/agent/login/\?next=/agent/$"))
    expect(_heading(page)).to_have_text("Am Arbeitsplatz anmelden")

    _sign_in(page, "bob")
    expect(page).to_have_url(f"{live_server.url}/agent/")
    expect(_heading(page)).to_have_text("Arbeitsplatz")
    expect(page.get_by_role("banner").get_by_text("Bob Bauer")).to_be_visible()

    page.get_by_role("button", name="EN", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/agent/")
    expect(_heading(page)).to_have_text("Workspace")
    expect(page.get_by_role("banner").get_by_text("Bob Bauer")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(_heading(page)).to_have_text("Welcome to the helpdesk")
    expect(page.get_by_role("banner").get_by_text("Bob Bauer")).to_have_count(0)

    page.goto(f"{live_server.url}/agent/")
    expect(page).to_have_url(re.compile(r"/agent/login/\?next=/agent/$"))


def test_customer_signs_in_to_the_portal_and_switches_to_english(page, live_server, alice):
    page.goto(f"{live_server.url}/portal/login/")
    expect(_heading(page)).to_have_text("Im Kundenportal anmelden")

    _sign_in(page, "alice")
    expect(page).to_have_url(f"{live_server.url}/portal/")
    expect(_heading(page)).to_have_text("Meine Anliegen")
    expect(page.get_by_role("banner").get_by_text("Alice Schmidt")).to_be_visible()

    page.get_by_role("button", name="EN", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/portal/")
    expect(_heading(page)).to_have_text("My requests")


def test_each_side_turns_away_the_other_sides_people(page, live_server, alice, bob):
    page.goto(f"{live_server.url}/agent/login/")
    _sign_in(page, "alice")
    expect(page.get_by_role("alert")).to_contain_text("Diese Anmeldung ist für Mitarbeitende")
    expect(page).to_have_url(f"{live_server.url}/agent/login/")
    expect(_heading(page)).to_have_text("Am Arbeitsplatz anmelden")
    expect(page.get_by_role("banner").get_by_text("Alice Schmidt")).to_have_count(0)

    _sign_in(page, "bob")
    expect(page).to_have_url(f"{live_server.url}/agent/")

    response = page.goto(f"{live_server.url}/portal/")
    assert response is not None and response.status == 403
    expect(_heading(page)).to_have_text("Kein Zugriff")
    expect(page.get_by_text("Diese Seite gehört zum Kundenportal.")).to_be_visible()


def test_wrong_password_is_refused_in_german(page, live_server, bob):
    page.goto(f"{live_server.url}/agent/login/")
    _sign_in(page, "bob", "not-" + PASSWORD)

    # Django's own German text: "Bitte Benutzername und Passwort eingeben. Beide Felder
    # berücksichtigen die Groß-/Kleinschreibung."
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Passwort eingeben")
    expect(alert).to_contain_text("Groß-/Kleinschreibung")
    expect(page).to_have_url(f"{live_server.url}/agent/login/")
    expect(page.get_by_label("Benutzername")).to_have_value("bob")
    expect(page.get_by_label("Kennwort")).to_have_value("")
    expect(page.get_by_role("banner").get_by_text("Bob Bauer")).to_have_count(0)
