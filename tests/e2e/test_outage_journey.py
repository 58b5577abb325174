"""An outage in a real browser. Trent (tech) opens an outage for DSL in 51143-51149; bob
(customer service) opens Erika's record while she is on the phone, sees the banner, opens
her ticket and links it with one click. Trent posts an update that is mailed to the linked
customers, then resolves the outage, and Erika's ticket is resolved with it.

Celery runs eagerly in tests (tests/conftest.py `_eager_celery`), also for the live
server's thread, and the live server commits for real: the batched resolution and the
notification run right after the request that enqueued them.

The browsers speak English so the test does not depend on the state of the translations.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from customers import services as customer_services
from customers.choices import LineState, ServiceKind
from customers.models import Connection
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from mail.models import OutboundMail
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import Channel, OutageStatus, Status
from tickets.models import Department, Outage, SupportArea, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

TITLE = "DSL-Störung Köln-Porz"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "outage-journey",
        }
    }


@pytest.fixture
def scene(alice, bob):
    services.agent_profile_set(
        user=bob, departments=[Department.objects.get(slug="customer-service")], highest_line=1
    )
    trent = User.objects.create_user(
        username="trent", password=PASSWORD, first_name="Trent", last_name="Roth"
    )
    helpdesk_services.user_role_grant(user=trent, role=Role.AGENT)
    services.agent_profile_set(
        user=trent, departments=[Department.objects.get(slug="tech")], highest_line=3
    )
    erika = customer_services.customer_create(
        number="K4000071",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )
    Connection.objects.create(
        customer=erika,
        kind=ServiceKind.DSL,
        identifier="DEU.4000.0071",
        state=LineState.OFFLINE,
        sync_drops_24h=4,
        last_sync_at=timezone.now() - timedelta(hours=3),
    )
    ticket = services.ticket_create(
        customer=erika,
        subject="Internet geht nicht",
        body="Seit heute früh kein Internet, die DSL-Lampe blinkt.",
        channel=Channel.PHONE,
        support_area=SupportArea.objects.get(slug="general"),
        actor=bob,
    )
    return {"erika": erika, "ticket": ticket, "trent": trent}


def test_open_link_update_and_resolve_an_outage(browser, live_server, scene):
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    try:
        trent_page, bob_page = (context.new_page() for context in contexts)
        errors: list[str] = []
        for page in (trent_page, bob_page):
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
        sign_in(bob_page, f"{live_server.url}/agent/login/", "bob")
        outage = _trent_opens_the_outage(live_server, trent_page)
        _bob_sees_the_banner_and_links_the_ticket(live_server, bob_page, scene, outage)
        _trent_posts_an_update_and_resolves(live_server, trent_page, scene, outage)
        _bob_sees_the_ticket_resolved(live_server, bob_page, scene)
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def _trent_opens_the_outage(live_server, page) -> Outage:
    page.goto(f"{live_server.url}/agent/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Outages"
    ).click()
    expect(page.get_by_test_id("outage-empty")).to_contain_text("No active outage")
    page.get_by_test_id("new-outage").click()

    # A backwards range is refused at the field, and nothing is saved.
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("DSL").check()
    page.get_by_label("Affected postal codes").fill("51149-51143")
    page.get_by_role("button", name="Open outage").click()
    expect(page.locator(".field-error")).to_contain_text("runs backwards")
    assert Outage.objects.count() == 0

    page.get_by_label("Affected postal codes").fill("51143-51149")
    eta = timezone.localtime(timezone.now() + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Expected end").fill(eta)
    page.get_by_role("button", name="Open outage").click()
    expect(page.get_by_test_id("outage-title")).to_have_text(TITLE)
    expect(page.get_by_test_id("outage-area")).to_have_text("51143-51149")
    expect(page.get_by_role("status").first).to_contain_text("opened")
    return Outage.objects.get(title=TITLE)


def _bob_sees_the_banner_and_links_the_ticket(live_server, page, scene, outage):
    erika, ticket = scene["erika"], scene["ticket"]
    page.goto(f"{live_server.url}/agent/customers/{erika.number}/")
    banner = page.get_by_test_id("outage-banner")
    expect(banner).to_contain_text(TITLE)
    expect(banner).to_contain_text("Investigating")
    expect(banner).to_contain_text("expected to be fixed:")
    expect(page.get_by_test_id("line-flapping")).to_have_text("Unstable (flapping)")

    page.get_by_role("link", name=ticket.reference).click()
    expect(page.get_by_test_id("reference")).to_have_text(ticket.reference)
    offer = page.get_by_test_id("outage-offer")
    expect(offer).to_contain_text(TITLE)
    offer.get_by_role("button", name="Link with this outage").click()
    linked = page.get_by_test_id("outage-linked")
    expect(linked).to_contain_text("Belongs to the outage")
    expect(linked).to_contain_text(TITLE)
    expect(page.get_by_test_id("outage-offer")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).outage_id == outage.pk


def _trent_posts_an_update_and_resolves(live_server, page, scene, outage):
    ticket = scene["ticket"]
    page.goto(f"{live_server.url}{outage.get_absolute_url()}")
    expect(page.get_by_test_id("outage-counts")).to_contain_text("1 open of 1 linked")

    form = page.locator("#post-update")
    form.get_by_label("What is new").fill("Der Bagger hat ein Kabel getroffen; wir spleißen.")
    form.get_by_label("Status").select_option(label="Identified")
    form.get_by_label("Notify the customers of the linked tickets").check()
    form.get_by_role("button", name="Post update").click()
    expect(page.get_by_role("status").first).to_contain_text("being notified")
    update = page.get_by_test_id("outage-update").first
    expect(update).to_contain_text("Der Bagger hat ein Kabel getroffen")
    expect(update).to_contain_text("Trent Roth")
    expect(update.get_by_test_id("notify-state")).to_contain_text("customers notified")
    assert OutboundMail.objects.filter(ticket_id=ticket.pk, kind="outage").count() == 1

    resolve = page.locator("#resolve")
    expect(resolve.get_by_test_id("resolve-wording")).to_contain_text(
        "resolves the 1 open linked ticket and mails its customer"
    )
    resolve.get_by_role("button", name="Resolve outage and 1 ticket").click()
    expect(resolve.locator(".field-error")).to_be_visible()  # the text is required
    resolve = page.locator("#resolve")
    resolve.get_by_label("What was the cause, what was done").fill("Kabel repariert.")
    resolve.get_by_role("button", name="Resolve outage and 1 ticket").click()
    expect(page.get_by_test_id("outage-status").first).to_have_text("Resolved")
    expect(page.get_by_test_id("resolve-done")).to_contain_text("was resolved")
    assert Outage.objects.get(pk=outage.pk).status == OutageStatus.RESOLVED


def _bob_sees_the_ticket_resolved(live_server, page, scene):
    ticket = scene["ticket"]
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    expect(page.get_by_test_id("status")).to_have_text("Resolved")
    expect(page.get_by_test_id("outage-linked")).to_contain_text("resolved")
    expect(page.get_by_test_id("outage-unlink")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    mails = OutboundMail.objects.filter(ticket_id=ticket.pk, kind="outage")
    assert mails.count() == 2  # the update and the resolution
