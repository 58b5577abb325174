"""Browser fixtures: Debian's headless Chromium driven by Playwright's sync API.

Playwright never downloads a browser here (`playwright install` is not part of the setup);
the tests use the system Chromium from CHROMIUM_PATH or PATH. The machine running the
suite may have no network, so Chromium is started with every background connection off:
otherwise it waits on update, sync and QUIC probes and the first page load hangs.
"""

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, skip_or_fail

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "e2e"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so `page` knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright_session():
    executable = _chromium_path()
    if executable is None:
        skip_or_fail("chromium not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the main thread for as long
    # as it is started, and Django refuses ORM calls from a thread with a running loop.
    # The fixtures and the test bodies are plain synchronous code, so the check is lifted
    # exactly while Playwright runs and restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        yield playwright, executable
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_session):
    playwright, executable = playwright_session
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS * 2
    )
    yield browser
    browser.close()


@pytest.fixture
def page(request, browser):
    """A fresh German-speaking browser (no cookies) per test; a screenshot if it fails."""
    context = browser.new_context(locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page, url: str, username: str) -> None:
    """Sign in on the page at `url` with the test password, by the form's field names;
    if the second factor is asked for, enter a code (second_factor_pass)."""
    page.goto(url)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=username]) button[type=submit]").click()
    second_factor_pass(page, username)


def second_factor_pass(page, username: str) -> None:
    """On the second-factor step (enter a code, or set up an app first), give the user an
    authenticator in the database if they have none and type its current code."""
    path = urlsplit(page.url).path
    if path not in ("/account/two-factor/", "/account/two-factor/setup/"):
        return
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
    if path.endswith("/setup/"):
        page.goto(page.url.replace("/two-factor/setup/", "/two-factor/"))
    page.locator("input[name=code]").fill(totp_code(device))
    with page.expect_navigation():
        page.locator("form:has(input[name=code]) button[type=submit]").click()


def totp_code(device) -> str:
    """The code the user's app shows now, or the next one if this one was used already
    (the server accepts one step ahead and never the same step twice)."""
    from django_otp.oath import totp

    device.refresh_from_db()
    while True:
        now_t = int((time.time() - device.t0) // device.step)
        ahead = max(0, device.last_t + 1 - now_t)
        if ahead <= 1:
            break
        time.sleep(1)
    value = totp(device.bin_key, device.step, device.t0 - ahead * device.step, device.digits)
    return f"{value:0{device.digits}d}"
