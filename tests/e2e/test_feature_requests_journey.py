"""Feature requests in a real browser. On a call about erika's ticket, bob records her wish:
while he types the title, the rejected request that already exists shows up with its answer
for customers, so he counts an ask there instead of filing a duplicate, and the ticket page
lists it. Then quality management (tina) passes a new wish on to billing from her review
queue, and billing's team lead (bert) rejects it with a reason, which the request shows as
the answer for customers.

The browsers speak English so the test does not depend on the state of the translations.
Screenshots of the list, one request and the create page land in /tmp/shots/.
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from customers import services as customer_services
from feature_requests import services as feature_services
from feature_requests.choices import AskKind, Status, TargetDepartment
from feature_requests.models import Ask, FeatureRequest
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, SupportArea

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REASON = (
    "Das Portal folgt der Systemeinstellung des Browsers; ein eigenes Design ist nicht geplant."
)
BILLING_REASON = "Papierrechnungen kosten 2,50 € Porto und Druck; wir bleiben bei der E-Mail."


@pytest.fixture
def scene(alice, bob, tina):
    service = Department.objects.get(slug="customer-service")
    services.agent_profile_set(user=bob, departments=[service], highest_line=1)
    services.agent_profile_set(user=tina, departments=[service], highest_line=2, is_team_lead=True)
    bert = User.objects.create_user(
        username="bert", password=PASSWORD, first_name="Bert", last_name="Brandt"
    )
    helpdesk_services.user_role_grant(user=bert, role=Role.TEAM_LEAD)
    services.agent_profile_set(
        user=bert,
        departments=[Department.objects.get(slug="billing")],
        highest_line=2,
        is_team_lead=True,
    )
    erika = customer_services.customer_create(
        number="K4000021",
        first_name="Erika",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        email="erika@example.de",
        user=alice,
    )
    ticket = services.ticket_create(
        customer=erika,
        subject="Portal ist mir zu hell",
        body="Gibt es das Kundenportal auch in dunkel? Abends blendet es sehr.",
        channel=Channel.PORTAL,
        support_area=SupportArea.objects.get(slug="invoice-question"),
        actor=alice,
    )
    dark = feature_services.feature_request_create(
        title="Dunkles Design für das Kundenportal",
        description="Mehrere Kunden fragen nach einem dunklen Modus.",
        department=TargetDepartment.WEBSITE,
        kind=AskKind.WISH,
        actor=bob,
    )
    feature_services.feature_request_transition(
        request=dark, to=Status.REJECTED, reason=REASON, actor=tina
    )
    paper = feature_services.feature_request_create(
        title="Rechnung wieder per Post",
        description="Ältere Kunden ohne E-Mail-Postfach möchten Papierrechnungen.",
        department=TargetDepartment.CUSTOMER_SERVICE,
        kind=AskKind.WISH,
        actor=bob,
    )
    for _ in range(3):
        feature_services.ask_record(request=paper, kind=AskKind.WISH, actor=bob)
    return {"ticket": ticket, "dark": dark, "paper": paper, "erika": erika}


def test_find_before_filing_then_review_and_reject(browser, live_server, scene):
    contexts = [browser.new_context(locale="en-US") for _ in range(3)]
    try:
        bob_page, tina_page, bert_page = (context.new_page() for context in contexts)
        errors = []
        bob_page.on("pageerror", lambda error: errors.append(str(error)))
        bob_page.on(
            "console",
            lambda message: (
                message.type == "error"
                and "Content Security Policy" in message.text
                and errors.append(message.text)
            ),
        )
        _bob_counts_an_ask(live_server, bob_page, scene)
        _tina_passes_to_billing(live_server, tina_page, scene)
        _bert_rejects(live_server, bert_page, scene)
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def _bob_counts_an_ask(live_server, page, scene):
    ticket, dark = scene["ticket"], scene["dark"]
    sign_in(page, f"{live_server.url}/agent/login/", "bob")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    card = page.get_by_test_id("fr-ticket-card")
    expect(card).to_contain_text("No wish recorded from this ticket yet.")
    card.get_by_role("link", name="Record a wish").click()

    expect(page.get_by_role("heading", name="Record a wish", exact=True)).to_be_visible()
    expect(page.get_by_label("Ticket")).to_have_value(ticket.reference)
    expect(page.get_by_label("Customer number")).to_have_value("K4000021")
    page.get_by_label("Title").press_sequentially("Portal in dunklem Design", delay=20)
    suggestion = page.get_by_test_id(f"suggestion-{dark.pk}")
    expect(suggestion).to_contain_text("Dunkles Design für das Kundenportal")
    expect(suggestion.get_by_test_id("suggestion-reason")).to_contain_text(REASON)
    expect(suggestion).to_contain_text("Rejected")
    page.get_by_label("Note").fill("Kundin fragt, weil es abends blendet.")

    suggestion.get_by_role("button", name="That's it: count an ask here").click()
    expect(page.get_by_role("status")).to_contain_text(f"Ask counted on #{dark.pk}")
    expect(page.get_by_test_id("answer")).to_contain_text(REASON)
    expect(page.get_by_test_id("fr-asks")).to_have_text("2")
    assert FeatureRequest.objects.count() == 2
    ask = Ask.objects.filter(request=dark).latest("id")
    assert (ask.ticket_id, ask.customer_id) == (ticket.pk, scene["erika"].pk)

    page.get_by_test_id("back-to-ticket").click()
    card = page.get_by_test_id("fr-ticket-card")
    expect(card.get_by_role("link", name=f"#{dark.pk} Dunkles Design")).to_be_visible()
    expect(card).to_contain_text("Rejected")


def _tina_passes_to_billing(live_server, page, scene):
    paper = scene["paper"]
    sign_in(page, f"{live_server.url}/agent/login/", "tina")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Feature requests"
    ).click()
    page.get_by_test_id("queue-qm").click()
    table = page.get_by_test_id("fr-table")
    expect(table).to_contain_text("Rechnung wieder per Post")
    expect(table).not_to_contain_text("Dunkles Design")
    table.get_by_role("link", name="Rechnung wieder per Post").click()

    page.get_by_role("button", name="Start the quality review").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Status set to “Review by quality management”"
    )
    page.get_by_label("Department that reviews it").select_option(label="Billing")
    page.get_by_role("button", name="Pass to the department").click()
    expect(page.get_by_role("status")).to_contain_text("Review by the department")
    expect(page.get_by_test_id("fr-department")).to_have_text("Billing")
    expect(page.get_by_test_id("fr-history")).to_contain_text("Customer service → Billing")
    row = FeatureRequest.objects.get(pk=paper.pk)
    assert (row.status, row.department) == (Status.DEPARTMENT_REVIEW, TargetDepartment.BILLING)


def _bert_rejects(live_server, page, scene):
    paper = scene["paper"]
    sign_in(page, f"{live_server.url}/agent/login/", "bert")
    page.goto(f"{live_server.url}/agent/feature-requests/")
    expect(page.get_by_test_id("queue-qm")).to_have_count(0)
    page.get_by_test_id("queue-department").click()
    page.get_by_test_id("fr-table").get_by_role("link", name="Rechnung wieder per Post").click()

    # Without a reason the rejection is refused and nothing changes.
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".field-error")).to_contain_text("Give the reason for the rejection")
    assert FeatureRequest.objects.get(pk=paper.pk).status == Status.DEPARTMENT_REVIEW

    page.get_by_label("Reason").fill(BILLING_REASON)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("Status set to “Rejected”")
    answer = page.get_by_test_id("answer")
    expect(answer).to_contain_text("Answer for customers")
    expect(answer).to_contain_text(BILLING_REASON)
    expect(answer).to_contain_text("Bert Brandt")
    assert FeatureRequest.objects.get(pk=paper.pk).status == Status.REJECTED
