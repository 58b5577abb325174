"""Two-factor sign-in in a real browser: max (management) signs in for the first time, sets
up an authenticator app from the QR code page (typing the code an app would compute from
the secret shown), is shown his recovery codes once, works, signs out, signs in again with
a code, and ends his other sessions on the account page."""

import re
from base64 import b32decode

import pytest
from django.test import Client
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from helpdesk.models import UserSession
from tests.conftest import PASSWORD
from tests.e2e.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def de(text: str) -> str:
    """`text` as the German page shows it (once the catalogue has it)."""
    with translation.override("de"):
        return translation.gettext(text)


def _de_plural(singular: str, plural: str, count: int) -> str:
    with translation.override("de"):
        return translation.ngettext(singular, plural, count) % {"count": count}


def _password_step(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/agent/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Kennwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden", exact=True).click()


def test_first_sign_in_sets_up_the_app_then_signs_in_with_a_code(page: Page, live_server, max_):
    base = live_server.url
    _password_step(page, base, "max")

    # Step 2 of the first sign-in: set up the app.
    expect(page).to_have_url(re.compile(r"/account/two-factor/setup/\?next=%2Fagent%2F$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Set up two-factor sign-in"))
    expect(page.get_by_test_id("qr-code")).to_be_visible()
    expect(page.locator("nav.mainnav")).to_have_count(0)  # nothing else opens yet
    secret = re.sub(r"\s", "", page.get_by_test_id("secret").inner_text())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    code = totp(b32decode(secret))
    page.locator("input[name=code]").fill(f"{code:06d}")
    page.get_by_role("button", name=de("Confirm and continue")).click()

    # The recovery codes, shown once.
    expect(page).to_have_url(re.compile(r"/account/two-factor/recovery-codes/"))
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}$"))
    page.get_by_role("button", name=de("I have stored them – continue")).click()
    expect(page).to_have_url(f"{base}/agent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeitsplatz")

    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(f"{base}/")

    # The next sign-in asks for the code from the app.
    _password_step(page, base, "max")
    expect(page).to_have_url(re.compile(r"/account/two-factor/\?next=%2Fagent%2F$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Confirm it is you"))
    page.locator("input[name=code]").fill("000000")
    page.get_by_role("button", name=de("Confirm")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        de("That code is not right or has been used already. Enter the current code.")
    )
    page.wait_for_timeout(1100)  # django-otp's back-off after one wrong code: 1 s
    device = TOTPDevice.objects.get(user=max_, confirmed=True)
    page.locator("input[name=code]").fill(totp_code(device))
    page.get_by_role("button", name=de("Confirm")).click()
    expect(page).to_have_url(f"{base}/agent/")

    # Signed in elsewhere too; end that session from the account page.
    elsewhere = Client()
    elsewhere.force_login(max_)
    assert UserSession.objects.filter(user=max_).count() == 2
    page.get_by_test_id("whoami").click()  # the name in the header opens the account page
    expect(page).to_have_url(f"{base}/account/")
    sessions = page.get_by_test_id("sessions").locator("tbody tr")
    expect(sessions).to_have_count(2)
    expect(page.get_by_test_id("two-factor-card")).to_contain_text(de("On"))
    page.get_by_test_id("sessions").get_by_label(de("Current web password")).fill(PASSWORD)
    page.get_by_role("button", name=de("End all other sessions")).click()
    expect(page.get_by_role("status")).to_contain_text(
        _de_plural("%(count)d other session was ended.", "%(count)d other sessions were ended.", 1)
    )
    expect(sessions).to_have_count(1)
    expect(sessions.first).to_contain_text(de("this session"))
    assert elsewhere.get("/agent/").status_code == 302
