"""The call note: from a notice or from the customer record, with the verification widget
and the support area from the IVR; solved on first contact, a ticket opened, escalated or
handed off, or the call logged on an open ticket, all through the ticket services and all
or nothing; only the agent who took the call reaches it."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calls import services
from calls.choices import Match, Outcome
from calls.models import Call
from customers.models import VerificationAttempt
from helpdesk.errors import DomainError, StaleEdit
from mail.choices import OutboundKind
from tests.calls.conftest import call_of, note_url, signed_in
from tests.customers.conftest import PHONE_PASSWORD
from tests.tickets.conftest import area, department, queue
from tickets import services as tickets_services
from tickets.choices import Channel, MessageKind, Status
from tickets.models import Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db


def note(client, call_or_url, **fields):
    url = call_or_url if isinstance(call_or_url, str) else note_url(call_or_url)
    data = {
        "note-outcome": Outcome.FIRST_CONTACT_SOLVED,
        "note-summary": "Router neu gestartet.",
        "note-support_area": area("no-internet").pk,
    }
    data.update({f"note-{key}": value for key, value in fields.items()})
    return client.post(url, data)


def world() -> tuple:
    """Everything a refused note must leave as it was."""
    return (
        list(Call.objects.order_by("pk").values()),
        list(Ticket.objects.order_by("pk").values()),
        list(TicketMessage.objects.order_by("pk").values_list("pk", "body")),
        list(TicketEvent.objects.order_by("pk").values_list("pk", "kind")),
    )


@pytest.fixture
def as_bob(client, bob, team):
    return signed_in(client, bob)


@pytest.fixture
def erika_ticket(erika, alice, team):
    return tickets_services.ticket_create(
        customer=erika,
        subject="Rechnung doppelt abgebucht",
        body="Die Rechnung kam zweimal.",
        channel=Channel.PORTAL,
        support_area=area("invoice-question"),
        actor=alice,
    )


# --- The page ---------------------------------------------------------------------------


def test_the_page_presets_the_area_from_the_ivr_and_focuses_the_summary(as_bob, erika_call):
    response = as_bob.get(note_url(erika_call))
    assert response.status_code == 200
    page = response.content.decode()
    form = response.context["form"]
    assert form["support_area"].value() == area("no-internet").pk
    assert form["outcome"].value() == Outcome.FIRST_CONTACT_SOLVED
    summary = page[page.index("<textarea") : page.index("</textarea>")]
    assert 'name="note-summary"' in summary and "autofocus" in summary
    assert 'id="verification"' in page  # the customers app's widget
    assert reverse("customers:customer-verify", args=["K1000001"]) in page
    assert "Ctrl</kbd>+<kbd>Enter</kbd>" in page and "js/calls.js" in page
    assert "0221 1234567" in page and "52 s" in page


@pytest.mark.parametrize("tickets", [0, 3])
def test_the_page_costs_a_fixed_number_of_queries(
    as_bob, erika_call, alice, tickets, django_assert_num_queries
):
    for number in range(tickets):
        tickets_services.ticket_create(
            customer=erika_call.customer,
            subject=f"Anliegen {number}",
            body="Bitte melden.",
            channel=Channel.PORTAL,
            support_area=area("general"),
            actor=alice,
        )
    as_bob.get(note_url(erika_call))  # the first visit marks the notice seen
    # session, user, roles, call with joins, open tickets, verification (2), support
    # areas, departments
    with django_assert_num_queries(9):
        assert as_bob.get(note_url(erika_call)).status_code == 200


def test_opening_the_note_marks_the_notice_seen(as_bob, erika_call):
    as_bob.get(note_url(erika_call))
    erika_call.refresh_from_db()
    assert erika_call.notice_seen_at is not None


def test_another_agents_call_is_a_404(client, carol, carol_on_phone, tina, max_, erika_call):
    before = world()
    for user in (carol, tina, max_):
        signed_in(client, user)
        assert client.get(note_url(erika_call)).status_code == 404
        assert note(client, erika_call).status_code == 404
    assert client.get(reverse("calls:call-note", args=[2**63])).status_code == 404
    assert world() == before


def test_customers_and_integrations_never_reach_the_pages(client, alice, phone_system, erika_call):
    before = world()
    urls = [
        note_url(erika_call),
        reverse("calls:customer-call-note", args=["K1000001"]),
        reverse("calls:call-list"),
    ]
    for user in (alice, phone_system):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403
            assert note(client, url).status_code == 403
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to the sign-in
    assert world() == before


# --- Outcomes ---------------------------------------------------------------------------


def test_solved_on_first_contact_opens_and_resolves_a_phone_ticket_and_counts_it(
    as_bob, bob, erika_call
):
    response = note(as_bob, erika_call, summary="Router neu gestartet.\nLäuft wieder.", subject="")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer-detail", args=["K1000001"])
    ticket = Ticket.objects.get()
    assert ticket.status == Status.RESOLVED and ticket.channel == Channel.PHONE
    assert ticket.subject == "Router neu gestartet." and ticket.support_area == area("no-internet")
    assert ticket.messages.get().body == "Router neu gestartet.\nLäuft wieder."
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert "call.solved_on_first_contact" in kinds and "ticket.status_changed" in kinds
    event = ticket.events.get(kind="call.solved_on_first_contact")
    assert event.actor == bob and event.data["call"] == erika_call.pk
    assert event.data["caller_verified"] is False
    erika_call.refresh_from_db()
    assert erika_call.outcome == Outcome.FIRST_CONTACT_SOLVED and erika_call.ticket == ticket
    assert erika_call.noted_by == bob and erika_call.notice_seen_at is not None


def test_the_caller_solved_on_the_line_gets_no_acknowledgement_only_the_resolution(
    as_bob, erika_call
):
    note(as_bob, erika_call)
    kinds = set(Ticket.objects.get().outbound_mails.values_list("kind", flat=True))
    assert OutboundKind.ACKNOWLEDGEMENT not in kinds
    assert kinds == {OutboundKind.STATUS}  # "resolved", with the reference to answer to


def test_a_ticket_opened_from_a_call_is_acknowledged(as_bob, erika_call):
    note(as_bob, erika_call, outcome=Outcome.TICKET_OPENED)
    kinds = set(Ticket.objects.get().outbound_mails.values_list("kind", flat=True))
    assert kinds == {OutboundKind.ACKNOWLEDGEMENT}


def test_a_ticket_opened_from_a_call_stays_open_in_its_queue(as_bob, erika_call):
    response = note(
        as_bob,
        erika_call,
        outcome=Outcome.TICKET_OPENED,
        subject="Rückruf zur Rechnung",
        support_area=area("invoice-question").pk,
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == ticket.get_absolute_url()  # bob works this queue
    assert ticket.status == Status.NEW and ticket.queue == queue("customer-service", 1)
    assert ticket.subject == "Rückruf zur Rechnung"
    assert ticket.events.filter(kind="call.logged", data__outcome="ticket_opened").exists()


def test_escalating_moves_the_new_ticket_up_a_line_with_the_reason(as_bob, erika_call):
    note(
        as_bob,
        erika_call,
        outcome=Outcome.ESCALATED,
        support_area=area("email-setup").pk,
        note="Postfach gesperrt, braucht 2nd Level.",
    )
    ticket = Ticket.objects.get()
    assert ticket.queue == queue("customer-service", 2)
    escalated = ticket.events.get(kind="ticket.escalated")
    assert escalated.data["note"] == "Postfach gesperrt, braucht 2nd Level."
    assert Call.objects.get().outcome == Outcome.ESCALATED


def test_an_escalation_beyond_the_last_line_leaves_nothing_behind(as_bob, erika_call):
    before = world()
    response = note(
        as_bob,
        erika_call,
        outcome=Outcome.ESCALATED,
        support_area=area("cancellation").pk,  # contracts has a first line only
        note="Bitte Kulanz prüfen.",
    )
    assert response.status_code == 200
    assert "has no line 2 to escalate to" in " ".join(response.context["form"].errors["note"])
    assert world() == before
    assert response.context["form"]["summary"].value() == "Router neu gestartet."


def test_handing_off_moves_the_new_ticket_to_the_department(as_bob, erika_call):
    response = note(
        as_bob,
        erika_call,
        outcome=Outcome.HANDED_OFF,
        support_area=area("invoice-question").pk,
        department=department("billing").pk,
        note="Doppelte Abbuchung, bitte erstatten.",
    )
    assert response["Location"] == reverse("customers:customer-detail", args=["K1000001"])
    ticket = Ticket.objects.get()
    assert ticket.queue == queue("billing", 1)
    assert ticket.events.get(kind="ticket.handed_off").data["note"].startswith("Doppelte")


def test_handing_off_to_the_own_department_is_refused_and_nothing_written(as_bob, erika_call):
    before = world()
    response = note(
        as_bob,
        erika_call,
        outcome=Outcome.HANDED_OFF,
        support_area=area("invoice-question").pk,
        department=department("customer-service").pk,
        note="Bitte übernehmen.",
    )
    assert response.status_code == 200
    assert "escalate it instead" in " ".join(response.context["form"].errors["department"])
    assert world() == before


def test_logging_on_an_open_ticket_adds_an_internal_note(as_bob, bob, erika_call, erika_ticket):
    response = note(
        as_bob,
        erika_call,
        outcome=Outcome.LOGGED_ON_TICKET,
        ticket=erika_ticket.reference,
        summary="Kundin fragt nach dem Stand.",
    )
    assert response["Location"] == erika_ticket.get_absolute_url()
    assert Ticket.objects.count() == 1
    message = erika_ticket.messages.get(kind=MessageKind.NOTE)
    assert message.author == bob
    assert "0221 1234567" in message.body and "52 s" in message.body
    assert message.body.endswith("Kundin fragt nach dem Stand.")
    assert erika_ticket.events.filter(kind="call.logged").count() == 1
    call = Call.objects.get()
    assert call.outcome == Outcome.LOGGED_ON_TICKET and call.ticket == erika_ticket


def test_a_call_cannot_be_logged_on_another_customers_or_a_closed_ticket(
    as_bob, erika_call, erika_ticket, malte, mallory
):
    theirs = tickets_services.ticket_create(
        customer=malte,
        subject="Tarif",
        body="Wechsel.",
        channel=Channel.PORTAL,
        support_area=area("tariff-change"),
        actor=mallory,
    )
    before = world()
    for reference in (theirs.reference, "2026-999999", ""):
        response = note(as_bob, erika_call, outcome=Outcome.LOGGED_ON_TICKET, ticket=reference)
        assert response.status_code == 200 and "ticket" in response.context["form"].errors
    assert world() == before
    # resolved after the page was shown: the service refuses it
    tickets_services.ticket_transition(ticket=erika_ticket, to=Status.RESOLVED, actor=None)
    with pytest.raises(DomainError):
        services.call_note_record(
            call=erika_call,
            customer=erika_call.customer,
            actor=erika_call.agent.user,
            outcome=Outcome.LOGGED_ON_TICKET,
            summary="x",
            ticket=Ticket.objects.get(pk=erika_ticket.pk),
        )
    assert not Call.objects.exclude(outcome="").exists()


def test_log_on_a_ticket_is_not_offered_without_open_tickets(as_bob, erika_call):
    page = as_bob.get(note_url(erika_call)).content.decode()
    assert 'value="logged_on_ticket"' not in page


BAD_NOTES = [
    ({"summary": ""}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"summary": "x" * 20_001}, "summary"),
    ({"subject": "s" * 201}, "subject"),
    ({"outcome": "shrugged"}, "outcome"),
    ({"outcome": ""}, "outcome"),
    ({"support_area": ""}, "support_area"),
    ({"support_area": "999999"}, "support_area"),
    ({"outcome": Outcome.ESCALATED, "note": " "}, "note"),
    ({"outcome": Outcome.HANDED_OFF, "note": "Bitte.", "department": ""}, "department"),
    ({"outcome": Outcome.HANDED_OFF, "department": "999999", "note": "x"}, "department"),
    ({"outcome": Outcome.HANDED_OFF, "department": "1"}, "note"),
    ({"outcome": Outcome.LOGGED_ON_TICKET, "ticket": ""}, "outcome"),  # erika has no open one
    ({"note": "n" * 2001, "outcome": Outcome.ESCALATED}, "note"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_NOTES)
def test_bad_input_is_shown_next_to_its_field_and_changes_nothing(
    as_bob, erika_call, fields, field
):
    before = world()
    data = {"support_area": area("no-internet").pk, **fields}
    response = note(as_bob, erika_call, **data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert world() == before


def test_a_second_submit_is_refused_and_makes_no_second_ticket(as_bob, erika_call):
    note(as_bob, erika_call)
    again = note(as_bob, erika_call)
    assert again.status_code == 302
    assert Ticket.objects.count() == 1
    page = as_bob.get(note_url(erika_call))
    assert "call-noted" in page.content.decode()
    assert Ticket.objects.get().reference in page.content.decode()


def test_a_racing_second_note_is_refused_by_the_guard(erika_call, bob):
    """Two submits past the page's check at once: the guarded update refuses the second."""
    stale = Call.objects.get(pk=erika_call.pk)
    services.call_note_record(
        call=erika_call,
        customer=erika_call.customer,
        actor=bob,
        outcome=Outcome.FIRST_CONTACT_SOLVED,
        summary="Erledigt.",
        support_area=area("no-internet"),
    )
    with pytest.raises(StaleEdit):
        services.call_note_record(
            call=stale,
            customer=stale.customer,
            actor=bob,
            outcome=Outcome.TICKET_OPENED,
            summary="Noch einmal.",
            support_area=area("no-internet"),
        )
    assert Ticket.objects.count() == 1


def test_a_verified_caller_is_recorded_with_the_note(as_bob, erika_call):
    as_bob.post(
        reverse("customers:customer-verify", args=["K1000001"]),
        {"phone_password": PHONE_PASSWORD},
    )
    assert VerificationAttempt.objects.filter(result="success").exists()
    page = as_bob.get(note_url(erika_call)).content.decode()
    assert 'data-testid="verification-state">Verified until' in page
    note(as_bob, erika_call)
    assert Call.objects.get().caller_verified is True


# --- Calls without a matched customer ----------------------------------------------------


def test_an_unknown_caller_is_chosen_by_customer_number(as_bob, erika, team):
    call = call_of(caller_number="0170 5550123")
    page = as_bob.get(note_url(call))
    assert 'data-testid="customer-chooser"' in page.content.decode()
    assert 'name="note-summary"' not in page.content.decode()
    unknown = as_bob.get(note_url(call), {"customer": "K9999999"})
    assert "No customer with this number." in unknown.content.decode()
    chosen = as_bob.get(note_url(call), {"customer": "1000001"})
    assert chosen.context["customer"] == erika
    response = note(as_bob, note_url(call) + "?customer=K1000001")
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.customer == erika and call.match == Match.NONE
    assert call.outcome == Outcome.FIRST_CONTACT_SOLVED


def test_without_a_customer_nothing_is_noted(as_bob, erika, team):
    call = call_of(caller_number="0170 5550123")
    before = world()
    response = note(as_bob, call)
    assert response.status_code == 200
    assert "Choose the customer first." in response.content.decode()
    assert world() == before


def test_a_customer_the_phone_system_matched_can_be_corrected(as_bob, erika_call, malte):
    response = note(as_bob, note_url(erika_call) + "?customer=K1000002")
    assert response.status_code == 302
    assert Ticket.objects.get().customer == malte
    assert Call.objects.get().customer == malte


# --- From the customer record ---------------------------------------------------------------


def test_the_customer_record_offers_a_call_note(as_bob, erika):
    page = as_bob.get(erika.get_absolute_url()).content.decode()
    assert reverse("calls:customer-call-note", args=["K1000001"]) in page


def test_a_note_from_the_customer_record_belongs_to_the_agents_last_call(as_bob, erika_call):
    url = reverse("calls:customer-call-note", args=["K1000001"])
    assert as_bob.get(url)["Location"] == note_url(erika_call)


def test_an_unmatched_last_call_is_offered_for_this_customer(as_bob, erika, team):
    call = call_of(caller_number="0170 5550123")
    response = as_bob.get(reverse("calls:customer-call-note", args=["K1000001"]))
    assert response["Location"] == note_url(call) + "?customer=K1000001"


def test_the_customers_own_call_goes_before_a_newer_unmatched_one(as_bob, erika_call):
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        call_of(external_id="later", caller_number="0170 5550123")
        response = as_bob.get(reverse("calls:customer-call-note", args=["K1000001"]))
    assert response["Location"] == note_url(erika_call)


def test_the_first_field_to_fix_gets_the_cursor(as_bob, erika_call):
    response = note(as_bob, erika_call, outcome=Outcome.ESCALATED, note="")
    form = response.context["form"]
    assert "autofocus" in form.fields["note"].widget.attrs
    assert "autofocus" not in form.fields["summary"].widget.attrs


def test_without_a_recent_call_the_note_records_one(as_bob, bob, bob_agent, erika, team):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        old = call_of()
    url = reverse("calls:customer-call-note", args=["K1000001"])
    page = as_bob.get(url)
    assert page.status_code == 200 and page.context["call"] is None
    response = note(
        as_bob, url + "?call=none", outcome=Outcome.TICKET_OPENED, support_area=area("general").pk
    )
    assert response.status_code == 302
    manual = Call.objects.exclude(pk=old.pk).get()
    assert manual.match == Match.AGENT and manual.external_id == ""
    assert manual.agent == bob_agent and manual.customer == erika and manual.wait_seconds is None
    assert manual.outcome == Outcome.TICKET_OPENED and manual.ticket.channel == Channel.PHONE
    old.refresh_from_db()
    assert old.outcome == Outcome.NONE


def test_a_refused_note_from_the_customer_record_records_no_call(as_bob, erika, team):
    before = world()
    url = reverse("calls:customer-call-note", args=["K1000001"])
    response = note(
        as_bob, url, outcome=Outcome.ESCALATED, support_area=area("cancellation").pk, note="x"
    )
    assert response.status_code == 200
    assert world() == before


def test_an_unknown_customer_is_a_404(as_bob):
    assert as_bob.get(reverse("calls:customer-call-note", args=["K0000000"])).status_code == 404


def test_managers_without_an_agent_profile_note_calls_too(client, max_, erika, team):
    signed_in(client, max_)
    url = reverse("calls:customer-call-note", args=["K1000001"])
    response = note(client, url, support_area=area("general").pk)
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.agent is None and call.noted_by == max_


# --- My calls -----------------------------------------------------------------------------


def test_my_calls_lists_only_mine_newest_first_with_what_is_left_to_do(
    client, bob, carol, carol_on_phone, erika, team, django_assert_num_queries
):
    mine = [call_of(external_id=f"b{n}") for n in range(3)]
    call_of(external_id="c", extension="401")
    signed_in(client, bob)
    with django_assert_num_queries(4):  # session, user, roles, one page of calls with joins
        response = client.get(reverse("calls:call-list"))
    rows = response.context["page"].rows
    assert [call.pk for call in rows] == [call.pk for call in reversed(mine)]
    assert note_url(mine[0]) in response.content.decode()


def test_my_calls_are_paginated(client, bob, erika, team, monkeypatch):
    from calls import selectors

    monkeypatch.setattr(selectors, "CALL_PAGE_SIZE", 2)
    calls = [call_of(external_id=f"b{n}") for n in range(5)]
    signed_in(client, bob)
    first = client.get(reverse("calls:call-list")).context["page"]
    second = client.get(reverse("calls:call-list"), {"before": first.next_before}).context["page"]
    third = client.get(reverse("calls:call-list"), {"before": second.next_before}).context["page"]
    seen = [call.pk for page in (first, second, third) for call in page.rows]
    assert seen == [call.pk for call in reversed(calls)] and third.next_before is None
    junk = client.get(reverse("calls:call-list"), {"before": "yesterday|x"})
    assert junk.status_code == 200 and len(junk.context["page"].rows) == 2
