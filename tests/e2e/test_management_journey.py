"""A request to management in a real browser, from the portal to an early termination.

Erika (alice) is unhappy and writes to management from the customer menu. Max
(management) finds it on his board, proposes a credit note; Erika rejects it with a
comment. Max computes the refund for ending her prepaid hosting contract early, proposes
the termination with one more month free; Erika accepts. The portal shows what was
carried out, the contract has ended early with the refund recorded, and Max's request
page holds the whole history.

The browsers speak English so the test does not depend on the state of the translations.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers import services as customer_services
from customers.choices import ContractStatus, InvoiceStatus, ServiceKind
from customers.models import Contract, Invoice, Product
from escalation.choices import ProposalStatus, RequestStatus
from escalation.models import ManagementRequest
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


@pytest.fixture
def scene(alice, max_):
    erika = customer_services.customer_create(
        number="K4000041",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )
    hosting = Product.objects.create(
        name="Webhosting M", kind=ServiceKind.HOSTING, monthly_price="9.99", minimum_term_months=12
    )
    today = timezone.localdate()
    contract = Contract.objects.create(
        customer=erika,
        product=hosting,
        number="V-4000041-1",
        start_date=today - timedelta(days=200),
        minimum_term_months=12,
        notice_period_months=3,
        monthly_price=hosting.monthly_price,
        prepaid_until=today + timedelta(days=180),
    )
    invoice = Invoice.objects.create(
        customer=erika,
        number="R-2026-4711",
        issued_on=today - timedelta(days=20),
        due_on=today - timedelta(days=6),
        amount=Decimal("119.88"),
        status=InvoiceStatus.PAID,
    )
    return {"erika": erika, "contract": contract, "invoice": invoice}


def test_write_propose_reject_propose_accept(browser, live_server, scene):
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    try:
        alice_page, max_page = (context.new_page() for context in contexts)
        errors = []
        for page in (alice_page, max_page):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    message.type == "error"
                    and "Content Security Policy" in message.text
                    and errors.append(message.text)
                ),
            )
        sign_in(alice_page, f"{live_server.url}/portal/login/", "alice")
        sign_in(max_page, f"{live_server.url}/agent/login/", "max")

        request = _alice_writes_to_management(live_server, alice_page)
        _max_proposes_a_credit_note(live_server, max_page, request, scene)
        _alice_rejects(live_server, alice_page, request)
        _max_proposes_the_termination(live_server, max_page, request, scene)
        _alice_accepts(live_server, alice_page, request, scene)
        _max_reads_the_history(live_server, max_page, request)
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def _alice_writes_to_management(live_server, page) -> ManagementRequest:
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Write to management").first.click()
    page.get_by_role("link", name="Write to management").last.click()
    # An empty request is refused and nothing is sent.
    page.get_by_role("button", name="Send to management").click()
    expect(page.locator(".field-error").first).to_be_visible()
    assert not ManagementRequest.objects.exists()

    page.get_by_label("Subject").fill("Drei Wochen ohne Website")
    page.get_by_label("Your message to management").fill(
        "Meine Website war drei Wochen lang offline, niemand hat geholfen."
    )
    page.get_by_role("button", name="Send to management").click()
    request = ManagementRequest.objects.get()
    expect(page).to_have_url(f"{live_server.url}/portal/management/{request.pk}/")
    expect(page.get_by_role("heading", name="Drei Wochen ohne Website")).to_be_visible()
    assert request.ticket.queue.department.slug == "management"
    return request


def _max_proposes_a_credit_note(live_server, page, request, scene):
    page.goto(f"{live_server.url}/management/")
    page.get_by_role("link", name="Drei Wochen ohne Website").click()
    expect(page).to_have_url(f"{live_server.url}/management/requests/{request.pk}/")
    form = page.get_by_test_id("proposal-form")
    form.get_by_label("Credit note").check()
    form.get_by_label("What we found").fill("Der Server war vom 1. bis 21. gestört.")
    form.get_by_label("Amount in €").fill("25,00")
    form.get_by_label("Invoice").select_option(str(scene["invoice"].pk))
    form.get_by_test_id("propose").click()
    expect(page.get_by_test_id("proposal-form")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == RequestStatus.PROPOSED


def _alice_rejects(live_server, page, request):
    page.goto(f"{live_server.url}/portal/management/{request.pk}/")
    proposal = page.get_by_test_id("open-proposal")
    expect(proposal.get_by_test_id("proposal-words")).to_contain_text("25.00")
    reject = proposal.get_by_test_id("reject-form")
    # Rejecting needs a reason.
    reject.get_by_role("button", name="Reject proposal").click()
    expect(page.get_by_test_id("open-proposal")).to_be_visible()
    page.get_by_test_id("reject-form").get_by_label("Why do you reject it?").fill(
        "25 € decken den Schaden nicht, ich möchte lieber kündigen."
    )
    page.get_by_test_id("reject-form").get_by_role("button", name="Reject proposal").click()
    expect(page.get_by_test_id("open-proposal")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN


def _max_proposes_the_termination(live_server, page, request, scene):
    contract = scene["contract"]
    page.goto(f"{live_server.url}/management/requests/{request.pk}/")
    expect(page.locator("main")).to_contain_text("ich möchte lieber kündigen")
    form = page.get_by_test_id("proposal-form")
    form.get_by_label("Early termination").check()
    form.get_by_label("What we found").fill("Wir können den Server nicht stabil liefern.")
    end = timezone.localdate() + timedelta(days=14)
    form.get_by_label(contract.number, exact=False).check()
    form.get_by_label("Ends on").fill(end.isoformat())
    form.get_by_test_id("preview").click()
    refund = contract.refund_after(end)
    expect(page.get_by_test_id(f"refund-{contract.pk}")).to_contain_text(f"{refund:.2f}")
    form = page.get_by_test_id("proposal-form")
    form.get_by_label("One more month free of charge", exact=False).check()
    form.get_by_test_id("propose").click()
    expect(page.get_by_test_id("proposal-form")).to_have_count(0)


def _alice_accepts(live_server, page, request, scene):
    contract = scene["contract"]
    page.goto(f"{live_server.url}/portal/management/{request.pk}/")
    accept = page.get_by_test_id("accept-form")
    accept.get_by_label("I accept this proposal.").check()
    accept.get_by_role("button", name="Accept proposal").click()
    expect(page.get_by_test_id("outcome")).to_contain_text(contract.number)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.CANCELLED
    assert contract.end_date == timezone.localdate() + timedelta(days=14)
    assert contract.refund_amount == contract.refund_after(contract.end_date) > 0
    assert contract.free_until is not None
    request.refresh_from_db()
    assert request.status == RequestStatus.SETTLED
    assert [p.status for p in request.proposals.order_by("id")] == [
        ProposalStatus.REJECTED,
        ProposalStatus.ACCEPTED,
    ]


def _max_reads_the_history(live_server, page, request):
    page.goto(f"{live_server.url}/management/requests/{request.pk}/")
    main = page.locator("main")
    expect(main).to_contain_text("Settled")
    expect(main).to_contain_text("25 € decken den Schaden nicht")
    request.ticket.refresh_from_db()
    assert request.ticket.status == "resolved"
