"""The agent workspace's ticket pages: home, queue lists, my tickets, search, the ticket
page and its actions, the customer record's tickets section.

Pages are read in English (Accept-Language), so the assertions do not depend on the
state of the German translation.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.tickets.conftest import area, department, queue
from tickets import selectors, services
from tickets.choices import Channel, Priority, Status
from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def as_bob(client, bob, team):
    return signed_in(client, bob)


def action_url(verb: str, ticket: Ticket) -> str:
    return reverse(f"tickets:ticket-{verb}", args=[ticket.reference])


def act(client, ticket: Ticket, verb: str, data: dict | None = None, *, version=None, **extra):
    """Post one action form as the page does: prefixed fields and the ticket's version."""
    prefix = verb.replace("-", "_")
    current = Ticket.objects.get(pk=ticket.pk).version
    payload = {f"{prefix}-version": current if version is None else version}
    for key, value in (data or {}).items():
        payload[f"{prefix}-{key}"] = value
    return client.post(action_url(verb, ticket), payload, **extra)


def state(ticket: Ticket) -> tuple:
    """Everything an action could change; equal before and after a refused action."""
    row = Ticket.objects.get(pk=ticket.pk)
    return (
        row.version,
        row.status,
        row.queue_id,
        row.previous_queue_id,
        row.assignee_id,
        row.priority,
        row.subject,
        TicketEvent.objects.filter(ticket=row).count(),
        TicketMessage.objects.filter(ticket=row).count(),
        Attachment.objects.count(),
    )


def text(response) -> str:
    return response.content.decode()


def make_tickets(count: int, *, actor, customer, slug="invoice-question", **fields) -> list:
    return [
        services.ticket_create(
            customer=customer,
            subject=f"Frage {i:03}",
            body=f"Text {i}",
            channel=Channel.EMAIL,
            support_area=area(slug),
            actor=actor,
            **fields,
        )
        for i in range(count)
    ]


# --- Agent home -----------------------------------------------------------------------------


def test_home_shows_my_queues_with_counts_and_my_tickets(as_bob, bob, ticket, erika, alice):
    make_tickets(2, actor=alice, customer=erika, priority=Priority.URGENT)
    services.ticket_take(ticket=ticket, actor=bob)
    response = as_bob.get(reverse("agent-home"))
    page = text(response)
    overview = {entry["queue"].pk: entry for entry in response.context["queues"]}
    first = overview[queue("customer-service", 1).pk]
    assert (first["active"], first["unassigned"], first["new"], first["urgent"]) == (3, 2, 2, 2)
    assert queue("customer-service", 1).get_absolute_url() in page
    assert response.context["my_ticket_count"] == 1
    assert reverse("tickets:my-tickets") in page
    assert f'action="{reverse("tickets:ticket-search")}"' in page
    assert "Your access" in page  # the account facts stay, folded away


def test_home_of_an_agent_without_profile_explains_it(client, bob):
    page = text(signed_in(client, bob).get(reverse("agent-home")))
    assert "You work no queue yet" in page


# --- Queue list -----------------------------------------------------------------------------


def queue_url(slug="customer-service", line=1) -> str:
    return reverse("tickets:queue-detail", args=[queue(slug, line).pk])


def listed(response) -> list[str]:
    return [row.reference for row in response.context["page"].rows]


def test_queue_lists_its_tickets_with_the_columns(as_bob, ticket, tech_ticket):
    response = as_bob.get(queue_url())
    page = text(response)
    assert listed(response) == [ticket.reference]
    for value in (ticket.reference, ticket.subject, "Erika Musterfrau", "K1000001", "New"):
        assert value in page, value
    assert "Frage zur Rechnung" in page and "Normal" in page and "nobody" in page
    assert 'class="sla-slot"' in page  # the SLA issue fills this column
    assert action_url("take", ticket) in page


def test_queue_filters_by_status_priority_area_age_and_assignee(as_bob, bob, ticket, erika, alice):
    urgent, general = make_tickets(2, actor=alice, customer=erika)
    services.ticket_priority_change(ticket=urgent, priority=Priority.URGENT, actor=bob)
    Ticket.objects.filter(pk=general.pk).update(support_area=area("general"))
    services.ticket_take(ticket=ticket, actor=bob)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    url = queue_url()

    assert set(listed(as_bob.get(url))) == {urgent.reference, general.reference}
    assert listed(as_bob.get(url, {"status": "done"})) == [ticket.reference]
    assert listed(as_bob.get(url, {"status": "resolved"})) == [ticket.reference]
    assert len(listed(as_bob.get(url, {"status": "all"}))) == 3
    assert listed(as_bob.get(url, {"priority": Priority.URGENT})) == [urgent.reference]
    assert listed(as_bob.get(url, {"support_area": area("general").pk})) == [general.reference]
    assert listed(as_bob.get(url, {"older_than": "1d"})) == []
    assert listed(as_bob.get(url, {"status": "all", "assignee": "me"})) == [ticket.reference]
    assert ticket.reference not in listed(as_bob.get(url, {"status": "all", "assignee": "none"}))


def test_queue_ignores_nonsense_filters(as_bob, bob, ticket, erika, alice):
    response = as_bob.get(queue_url(), {"priority": "99", "status": "<x>", "sort": "drop table"})
    assert response.status_code == 200
    assert listed(response) == [ticket.reference]
    (urgent,) = make_tickets(1, actor=alice, customer=erika, priority=Priority.URGENT)
    response = as_bob.get(queue_url(), {"priority": Priority.URGENT, "older_than": "forever"})
    assert listed(response) == [urgent.reference]  # the sensible filter still applies


def test_queue_sorts_by_priority_and_age(as_bob, bob, erika, alice, team):
    low, high, normal = make_tickets(3, actor=alice, customer=erika)
    services.ticket_priority_change(ticket=low, priority=Priority.LOW, actor=bob)
    services.ticket_priority_change(ticket=high, priority=Priority.HIGH, actor=bob)
    order = listed(as_bob.get(queue_url(), {"sort": "priority"}))
    assert order == [high.reference, normal.reference, low.reference]
    assert listed(as_bob.get(queue_url(), {"sort": "newest"}))[0] == normal.reference
    assert listed(as_bob.get(queue_url(), {"sort": "oldest"}))[0] == low.reference


def test_queue_pages_with_a_cursor(as_bob, erika, alice, team):
    make_tickets(selectors.PAGE_SIZE + 3, actor=alice, customer=erika)
    first = as_bob.get(queue_url())
    assert len(listed(first)) == selectors.PAGE_SIZE
    assert first.context["next_url"]
    second = as_bob.get(first.context["next_url"])
    assert len(listed(second)) == 3
    assert not set(listed(first)) & set(listed(second))
    assert second.context["next_url"] is None


def test_queue_table_refreshes_itself_with_the_same_filters(as_bob, ticket):
    response = as_bob.get(queue_url(), {"priority": "2"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert "<html" not in page  # the partial only
    assert 'hx-trigger="every 30s"' in page
    assert "priority=2" in page
    assert ticket.reference in page


def test_take_in_the_row_with_one_click(as_bob, bob, ticket):
    response = as_bob.post(
        action_url("take", ticket),
        {"take-version": ticket.version, "row": "queue", "next": queue_url()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert text(response).lstrip().startswith("<tr")
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob


def test_take_in_the_row_without_javascript_returns_to_the_list(as_bob, bob, ticket):
    response = as_bob.post(
        action_url("take", ticket),
        {"take-version": ticket.version, "row": "queue", "next": queue_url() + "?sort=newest"},
    )
    assert response.status_code == 302 and response["Location"] == queue_url() + "?sort=newest"
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob


def test_take_never_redirects_elsewhere(as_bob, ticket):
    response = as_bob.post(
        action_url("take", ticket),
        {"take-version": ticket.version, "row": "queue", "next": "https://evil.example/"},
    )
    assert response["Location"] == ticket.get_absolute_url()


def test_another_departments_queue_is_404(as_bob, team):
    assert as_bob.get(queue_url("tech", 1)).status_code == 404
    assert as_bob.get(reverse("tickets:queue-detail", args=[99999])).status_code == 404


def test_my_tickets_lists_only_mine(as_bob, bob, tina, ticket, erika, alice):
    mine, theirs = make_tickets(2, actor=alice, customer=erika)
    services.ticket_take(ticket=mine, actor=bob)
    services.ticket_take(ticket=theirs, actor=tina)
    response = as_bob.get(reverse("tickets:my-tickets"))
    assert listed(response) == [mine.reference]
    assert "Kundenservice" in text(response)  # the queue column


# --- The ticket page ------------------------------------------------------------------------


def test_ticket_page_shows_header_conversation_and_sidebar(as_bob, bob, ticket, tech_ticket):
    services.ticket_reply(ticket=ticket, actor=bob, body="Wir prüfen das.")
    services.ticket_note_add(
        ticket=ticket,
        actor=bob,
        body="Kundin verärgert.",
        attachments=[SimpleUploadedFile("auszug.txt", b"Lastschrift 39,99\n" * 100)],
    )
    response = as_bob.get(ticket.get_absolute_url())
    page = text(response)
    assert response.status_code == 200
    assert f'data-testid="reference">{ticket.reference}<' in page
    assert ticket.subject in page and "Kundenservice · 1st line" in page
    assert reverse("customers:customer-detail", args=["K1000001"]) in page
    assert 'class="wmsg wmsg-note"' in page and "Internal note" in page
    assert 'class="wmsg wmsg-reply"' in page and 'class="wmsg wmsg-customer"' in page
    assert "auszug.txt" in page and "1.8\xa0KB" in page
    assert Attachment.objects.get().get_absolute_url() in page
    assert tech_ticket.reference in page  # the customer's other ticket, in the sidebar
    assert tech_ticket.subject not in page  # …but not what it says: another department
    assert 'name="reply-version"' in page and "autofocus" in page
    assert "Public reply sent" in page and "Internal note added" in page  # the timeline


def test_only_allowed_next_statuses_are_offered(as_bob, ticket):
    form = as_bob.get(ticket.get_absolute_url()).context["forms"]["status"]
    offered = {value for value, _label in form.fields["status"].widget.choices}
    assert offered == {"open", "waiting_customer", "waiting_third_party", "scheduled", "resolved"}


def test_handover_note_is_shown_to_the_receiving_team(client, bob, carol, ticket):
    services.ticket_handoff(
        ticket=ticket, actor=bob, department=department("billing"), note="Bitte Rückbuchung."
    )
    page = text(signed_in(client, carol).get(ticket.get_absolute_url()))
    assert 'data-testid="handover"' in page and "Bitte Rückbuchung." in page
    assert "Kundenservice · 1st line → Buchhaltung · 1st line" in page


def test_html_in_subject_and_body_is_shown_as_text(as_bob, erika):
    response = as_bob.post(
        reverse("tickets:ticket-create", args=[erika.number]),
        {
            "support_area": area("general").pk,
            "channel": Channel.PHONE,
            "priority": Priority.NORMAL,
            "subject": "<script>alert('s')</script>",
            "body": "<img src=x onerror=alert(1)>\nzweite Zeile",
        },
        follow=True,
    )
    page = text(response)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;s&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;<br>zweite Zeile" in page


# --- Actions: happy paths -------------------------------------------------------------------


def test_take_assigns_me_and_opens_the_ticket(as_bob, bob, ticket):
    response = act(as_bob, ticket, "take")
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    row = Ticket.objects.get(pk=ticket.pk)
    assert (row.assignee, row.status) == (bob, Status.OPEN)


def test_reply_with_status_and_attachment(
    as_bob, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("anleitung.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            as_bob,
            ticket,
            "reply",
            {"body": "Bitte senden Sie uns den Kontoauszug.", "status": "waiting_customer"},
        )
    assert response.status_code == 302
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == Status.WAITING_CUSTOMER and row.first_response_at
    assert row.messages.filter(kind="reply").count() == 1
    assert len(mailoutbox) == 1
    response = as_bob.post(
        action_url("reply", ticket),
        {"reply-version": row.version, "reply-body": "Anbei.", "reply-attachments": [upload]},
    )
    assert response.status_code == 302
    assert Attachment.objects.get().filename == "anleitung.pdf"


def test_reply_over_htmx_swaps_the_ticket_area(as_bob, ticket):
    response = act(as_bob, ticket, "reply", {"body": "Hallo!"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    assert 'id="ticket"' in page
    assert "Reply sent to the customer." in page and "Hallo!" in page


def test_note_stays_internal(as_bob, ticket, mailoutbox):
    act(as_bob, ticket, "note", {"body": "Nur für uns."})
    assert TicketMessage.objects.get(ticket=ticket, kind="note").body == "Nur für uns."
    assert mailoutbox == []


def test_status_change(as_bob, ticket):
    act(as_bob, ticket, "status", {"status": "waiting_third_party", "note": "Telekom"})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING_THIRD_PARTY
    assert TicketEvent.objects.get(ticket=ticket, kind="ticket.status_changed").data["note"] == (
        "Telekom"
    )


def test_priority_change(as_bob, ticket):
    act(as_bob, ticket, "priority", {"priority": Priority.HIGH})
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.HIGH


def test_escalate_moves_up_a_line(as_bob, ticket):
    response = act(as_bob, ticket, "escalate", {"reason": "Kulanz nötig"})
    assert response.status_code == 302
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.queue == queue("customer-service", 2)
    assert row.previous_queue == queue("customer-service", 1)


def test_handoff_then_hand_back(client, bob, carol, ticket):
    as_bob = signed_in(client, bob)
    response = act(
        as_bob, ticket, "handoff", {"department": department("billing").pk, "note": "Bitte prüfen"}
    )
    # Bob no longer sees the ticket: back to the queue it came from, with a message.
    assert response["Location"] == queue_url()
    assert Ticket.objects.get(pk=ticket.pk).queue == queue("billing", 1)
    as_carol = signed_in(client, carol)
    assert "Hand back to Kundenservice · 1st line" in text(as_carol.get(ticket.get_absolute_url()))
    act(as_carol, ticket, "hand-back", {"note": "Erledigt, Gutschrift gebucht"})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.queue == queue("customer-service", 1) and row.previous_queue is None


def test_handoff_over_htmx_leaves_for_the_queue(as_bob, ticket):
    response = act(
        as_bob,
        ticket,
        "handoff",
        {"department": department("billing").pk, "note": "Bitte prüfen"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Redirect"] == queue_url()


def test_team_lead_assigns_a_colleague(client, tina, bob, ticket):
    as_tina = signed_in(client, tina)
    form = as_tina.get(ticket.get_absolute_url()).context["forms"]["assign"]
    offered = {value for value, _label in form.fields["assignee"].widget.choices}
    assert offered == {bob.pk, tina.pk}  # who works customer service, 1st line
    act(as_tina, ticket, "assign", {"assignee": bob.pk})
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob
    act(as_tina, ticket, "unassign")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_agent_assigns_and_unassigns_himself(as_bob, bob, ticket):
    act(as_bob, ticket, "assign", {"assignee": bob.pk})
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob
    act(as_bob, ticket, "unassign")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


# --- Actions: bad input changes nothing ------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "data", "message"),
    [
        ("reply", {"body": "   "}, "Write a message first."),
        ("note", {"body": ""}, "Write a message first."),
        ("escalate", {"reason": ""}, "Say why the ticket goes up a line."),
        ("handoff", {"department": "", "note": "x"}, "This field is required."),
        ("hand-back", {"note": ""}, "Write a note for the colleagues."),
        ("status", {"status": "closed"}, "Resolve the ticket before closing it."),
        ("status", {"status": "flying"}, "Select a valid choice."),
        ("priority", {"priority": "9"}, "Select a valid choice."),
        ("reply", {"body": "x" * 1_000_000}, "at most 20000 characters"),
        ("reply", {"body": "Hallo", "status": "closed"}, "Resolve the ticket before closing it."),
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(as_bob, ticket, verb, data, message):
    before = state(ticket)
    response = act(as_bob, ticket, verb, data)
    assert response.status_code == 200
    assert message in text(response)
    assert state(ticket) == before


def test_handoff_needs_a_note(as_bob, ticket):
    before = state(ticket)
    response = act(as_bob, ticket, "handoff", {"department": department("billing").pk})
    assert "Write a note for the other department." in text(response)
    assert state(ticket) == before


def test_handoff_to_the_own_department_is_refused(as_bob, ticket):
    before = state(ticket)
    response = act(
        as_bob, ticket, "handoff", {"department": department("customer-service").pk, "note": "x"}
    )
    assert "already with Kundenservice; escalate it instead" in text(response)
    assert state(ticket) == before


def test_escalating_past_the_third_line_is_refused(client, trent, tech_ticket):
    as_trent = signed_in(client, trent)
    act(as_trent, tech_ticket, "escalate", {"reason": "Messung nötig"})
    act(as_trent, tech_ticket, "escalate", {"reason": "Backbone"})
    assert Ticket.objects.get(pk=tech_ticket.pk).queue == queue("tech", 3)
    before = state(tech_ticket)
    response = act(as_trent, tech_ticket, "escalate", {"reason": "noch höher"})
    assert "already with the third line" in text(response)
    assert state(tech_ticket) == before


def test_escalating_where_no_next_line_exists_is_refused(client, max_, erika, alice, team):
    cancellation = services.ticket_create(
        customer=erika,
        subject="Kündigung",
        body="Ich kündige.",
        channel=Channel.LETTER,
        support_area=area("cancellation"),
        actor=alice,
    )
    before = state(cancellation)
    response = act(signed_in(client, max_), cancellation, "escalate", {"reason": "schwierig"})
    assert "Verträge has no line 2 to escalate to." in text(response)
    assert state(cancellation) == before


def test_hand_back_without_a_previous_queue_is_refused(as_bob, ticket):
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert action_url("hand-back", ticket) not in page  # not offered at all
    before = state(ticket)
    response = act(as_bob, ticket, "hand-back", {"note": "zurück"})
    assert "This ticket has no queue to go back to." in text(response)
    assert state(ticket) == before


def test_reply_to_a_closed_ticket_is_refused(as_bob, bob, ticket):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=bob)
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert action_url("reply", ticket) not in page  # no reply form on a closed ticket
    before = state(ticket)
    response = act(as_bob, ticket, "reply", {"body": "Noch etwas"})
    assert "This ticket is closed" in text(response)
    assert state(ticket) == before


def test_forbidden_attachment_type_is_refused(as_bob, ticket):
    before = state(ticket)
    upload = SimpleUploadedFile("rechnung.exe", b"MZ\x90\x00" + b"\x00" * 100)
    response = as_bob.post(
        action_url("reply", ticket),
        {"reply-version": ticket.version, "reply-body": "Anbei", "reply-attachments": [upload]},
    )
    assert "rechnung.exe: this file type is not accepted" in text(response)
    assert state(ticket) == before


def test_missing_version_is_refused(as_bob, ticket):
    before = state(ticket)
    response = as_bob.post(action_url("escalate", ticket), {"escalate-reason": "x"})
    assert response.status_code == 200 and "This field is required." in text(response)
    assert state(ticket) == before


def test_actions_need_post(as_bob, ticket):
    assert as_bob.get(action_url("escalate", ticket)).status_code == 405


# --- Concurrent edits ----------------------------------------------------------------------


def test_stale_version_is_refused_with_a_message(client, bob, tina, ticket):
    as_bob = signed_in(client, bob)
    seen = Ticket.objects.get(pk=ticket.pk).version
    services.ticket_priority_change(ticket=ticket, priority=Priority.HIGH, actor=tina)
    before = state(ticket)
    response = act(as_bob, ticket, "escalate", {"reason": "Kulanz"}, version=seen)
    page = text(response)
    assert response.status_code == 200
    assert "Someone else changed this ticket meanwhile; reload it and try again." in page
    assert "Kulanz" in page  # what the agent typed is kept
    assert f'name="escalate-version" value="{before[0]}"' in page  # now the current one
    assert state(ticket) == before


def test_stale_status_change_over_htmx(as_bob, bob, tina, ticket):
    seen = Ticket.objects.get(pk=ticket.pk).version
    services.ticket_assign(ticket=ticket, assignee=tina, actor=tina)
    before = state(ticket)
    response = act(
        as_bob, ticket, "status", {"status": "resolved"}, version=seen, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="stale"' in text(response)
    assert state(ticket) == before


def test_of_two_agents_taking_the_same_ticket_one_gets_it(client, bob, tina, ticket):
    version = Ticket.objects.get(pk=ticket.pk).version  # both opened the page at this version
    as_bob = signed_in(client, bob)
    first = as_bob.post(action_url("take", ticket), {"take-version": version})
    as_tina = signed_in(client, tina)
    second = as_tina.post(action_url("take", ticket), {"take-version": version})
    assert first.status_code == 302
    assert "Bob Bauer has already taken this ticket." in text(second)
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob
    assert TicketEvent.objects.filter(ticket=ticket, kind="ticket.assigned").count() == 1


def test_second_take_in_a_row_shows_who_has_it(client, bob, tina, ticket):
    services.ticket_take(ticket=ticket, actor=tina)
    response = signed_in(client, bob).post(
        action_url("take", ticket),
        {"take-version": ticket.version, "row": "queue"},
        HTTP_HX_REQUEST="true",
    )
    assert "Tina Lehmann has already taken this ticket." in text(response)


# --- Who may do what ------------------------------------------------------------------------

VERBS = [
    ("take", {}),
    ("assign", {"assignee": "0"}),
    ("unassign", {}),
    ("reply", {"body": "x"}),
    ("note", {"body": "x"}),
    ("status", {"status": "open"}),
    ("escalate", {"reason": "x"}),
    ("handoff", {"department": "1", "note": "x"}),
    ("hand-back", {"note": "x"}),
    ("priority", {"priority": "3"}),
]


def test_customer_service_agent_gets_404_on_a_tech_ticket(as_bob, tech_ticket):
    assert as_bob.get(tech_ticket.get_absolute_url()).status_code == 404
    before = state(tech_ticket)
    for verb, data in VERBS:
        assert act(as_bob, tech_ticket, verb, data).status_code == 404, verb
    assert state(tech_ticket) == before


def test_billing_agent_cannot_act_on_a_customer_service_ticket(client, carol, ticket):
    as_carol = signed_in(client, carol)
    assert as_carol.get(ticket.get_absolute_url()).status_code == 404
    before = state(ticket)
    for verb, data in VERBS:
        assert act(as_carol, ticket, verb, data).status_code == 404, verb
    assert state(ticket) == before


def test_customer_gets_403_on_every_workspace_page(client, alice, ticket, erika):
    as_alice = signed_in(client, alice)
    for url in (
        reverse("agent-home"),
        queue_url(),
        reverse("tickets:my-tickets"),
        reverse("tickets:ticket-search") + "?q=Rechnung",
        reverse("tickets:ticket-create", args=[erika.number]),
        reverse("tickets:customer-tickets", args=[erika.number]),
        ticket.get_absolute_url(),
    ):
        assert as_alice.get(url).status_code == 403, url
    before = state(ticket)
    for verb, data in VERBS:
        assert act(as_alice, ticket, verb, data).status_code == 403, verb
    assert state(ticket) == before


def test_anonymous_is_sent_to_the_sign_in(client, ticket):
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith("/agent/login/")


def test_agent_cannot_assign_others_but_team_lead_can(client, bob, tina, ticket):
    as_bob = signed_in(client, bob)
    assert "assign" not in as_bob.get(ticket.get_absolute_url()).context["forms"]
    before = state(ticket)
    assert act(as_bob, ticket, "assign", {"assignee": tina.pk}).status_code == 403
    assert state(ticket) == before
    as_tina = signed_in(client, tina)
    assert act(as_tina, ticket, "assign", {"assignee": bob.pk}).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assignee == bob


def test_agent_cannot_unassign_a_colleague(client, bob, tina, ticket):
    services.ticket_take(ticket=ticket, actor=tina)
    before = state(ticket)
    assert act(signed_in(client, bob), ticket, "unassign").status_code == 403
    assert state(ticket) == before


def test_assigning_someone_outside_the_queue_is_refused(client, tina, carol, ticket):
    before = state(ticket)
    response = act(signed_in(client, tina), ticket, "assign", {"assignee": carol.pk})
    assert "This agent does not work this queue." in text(response)
    assert state(ticket) == before


def test_management_without_agent_profile_cannot_take(client, max_, ticket):
    before = state(ticket)
    response = act(signed_in(client, max_), ticket, "take")
    assert "You do not work this queue." in text(response)
    assert state(ticket) == before


# --- New ticket -----------------------------------------------------------------------------


def create_url(customer) -> str:
    return reverse("tickets:ticket-create", args=[customer.number])


def test_new_ticket_for_a_customer(as_bob, bob, erika):
    assert as_bob.get(create_url(erika)).status_code == 200
    response = as_bob.post(
        create_url(erika),
        {
            "support_area": area("email-setup").pk,
            "channel": Channel.PHONE,
            "priority": Priority.HIGH,
            "subject": "Outlook fragt nach Kennwort",
            "body": "Seit heute fragt Outlook ständig.",
            "attachments": [SimpleUploadedFile("fehler.txt", b"Fehler 0x800CCC0E\n")],
        },
    )
    new = Ticket.objects.get(subject="Outlook fragt nach Kennwort")
    assert response["Location"] == new.get_absolute_url()
    assert (new.customer, new.channel, new.priority) == (erika, Channel.PHONE, Priority.HIGH)
    assert new.queue == queue("customer-service", 1)
    message = new.messages.get()
    assert message.kind == "customer" and message.author == bob
    assert message.attachments.get().filename == "fehler.txt"


def test_new_ticket_for_another_department_returns_to_the_customer(as_bob, erika):
    response = as_bob.post(
        create_url(erika),
        {
            "support_area": area("no-internet").pk,
            "channel": Channel.PHONE,
            "priority": Priority.NORMAL,
            "subject": "Kein Internet",
            "body": "Seit heute früh.",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == erika.get_absolute_url()
    assert "opened in Technik · 1st line" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": ""}, "Give the request a subject."),
        ({"body": " "}, "Write a message first."),
        ({"channel": "portal"}, "Select a valid choice."),
        ({"support_area": "999"}, "Select a valid choice."),
        ({"body": "x" * 1_000_000}, "at most 20000 characters"),
    ],
)
def test_new_ticket_bad_input(as_bob, erika, data, message):
    payload = {
        "support_area": area("general").pk,
        "channel": Channel.PHONE,
        "priority": Priority.NORMAL,
        "subject": "Frage",
        "body": "Text",
        **data,
    }
    response = as_bob.post(create_url(erika), payload)
    assert response.status_code == 200 and message in text(response)
    assert not Ticket.objects.exists()


def test_new_ticket_with_a_forbidden_file_creates_nothing(as_bob, erika):
    response = as_bob.post(
        create_url(erika),
        {
            "support_area": area("general").pk,
            "channel": Channel.EMAIL,
            "priority": Priority.NORMAL,
            "subject": "Frage",
            "body": "Text",
            "attachments": [SimpleUploadedFile("bild.png", b"not a png at all")],
        },
    )
    assert "bild.png: the content does not match the file type." in text(response)
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_new_ticket_for_an_unknown_customer_is_404(as_bob):
    assert as_bob.get(reverse("tickets:ticket-create", args=["K9999999"])).status_code == 404


# --- Search ---------------------------------------------------------------------------------


def search(client, query: str, **extra):
    return client.get(reverse("tickets:ticket-search"), {"q": query}, **extra)


def test_exact_reference_opens_the_ticket(as_bob, ticket):
    response = search(as_bob, ticket.reference)
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert search(as_bob, f"#{ticket.reference}")["Location"] == ticket.get_absolute_url()


def test_search_by_words_customer_number_and_body(as_bob, ticket, tech_ticket, malte_ticket):
    assert listed(search(as_bob, "doppelt")) == [ticket.reference]  # subject
    assert listed(search(as_bob, "Oktober")) == [ticket.reference]  # message text
    assert listed(search(as_bob, "K1000001")) == [ticket.reference]  # not the tech ticket
    assert listed(search(as_bob, "musterfrau")) == [ticket.reference]  # customer name
    assert listed(search(as_bob, "Tarifwechsel")) == [malte_ticket.reference]


def test_search_never_finds_what_the_agent_may_not_see(as_bob, tech_ticket):
    assert search(as_bob, tech_ticket.reference).status_code == 200
    assert listed(search(as_bob, tech_ticket.reference)) == []
    assert "No ticket found" in text(search(as_bob, "DSL-Lampe"))


def test_empty_search_shows_the_form(as_bob):
    response = as_bob.get(reverse("tickets:ticket-search"))
    assert response.status_code == 200 and 'name="q"' in text(response)


# --- The customer record's tickets section ----------------------------------------------------


def test_customer_record_has_a_tickets_section(as_bob, erika):
    page = text(as_bob.get(reverse("customers:customer-detail", args=[erika.number])))
    assert 'id="tickets"' in page
    assert create_url(erika) in page
    assert reverse("tickets:customer-tickets", args=[erika.number]) in page
    assert reverse("tickets:ticket-search") + "?q=K1000001" in page  # without JavaScript


def test_customer_tickets_section_lists_recent_tickets(as_bob, ticket, tech_ticket, erika):
    response = as_bob.get(
        reverse("tickets:customer-tickets", args=[erika.number]), HTTP_HX_REQUEST="true"
    )
    page = text(response)
    assert ticket.reference in page and ticket.subject in page and "New" in page
    assert ticket.get_absolute_url() in page
    assert tech_ticket.reference in page and tech_ticket.subject not in page
    assert tech_ticket.get_absolute_url() not in page
    assert "2 active tickets" in page


def test_customer_tickets_without_javascript_is_the_search(as_bob, erika):
    response = as_bob.get(reverse("tickets:customer-tickets", args=[erika.number]))
    assert response["Location"] == reverse("tickets:ticket-search") + "?q=K1000001"


# --- Fixed number of queries ------------------------------------------------------------------


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url_of",
    [
        lambda: queue_url(),
        lambda: reverse("tickets:my-tickets"),
        lambda: reverse("tickets:ticket-search") + "?q=Frage",
        lambda: reverse("agent-home"),
    ],
    ids=["queue", "mine", "search", "home"],
)
def test_lists_cost_the_same_queries_for_1_or_30_tickets(
    as_bob, bob, erika, alice, team, django_assert_num_queries, url_of
):
    def grow(count):
        for new in make_tickets(count, actor=alice, customer=erika):
            services.ticket_take(ticket=new, actor=bob)
            services.ticket_reply(ticket=new, actor=bob, body="Antwort")

    url = url_of()
    grow(1)
    few = queries_for(as_bob, url)
    grow(29)
    with django_assert_num_queries(few):
        response = as_bob.get(url)
    assert response.status_code == 200


def test_ticket_page_costs_the_same_queries_for_many_messages_and_events(
    as_bob, bob, tina, alice, ticket, django_assert_num_queries, erika
):
    few = queries_for(as_bob, ticket.get_absolute_url())
    for i in range(30):
        services.ticket_reply(
            ticket=ticket,
            actor=bob,
            body=f"Antwort {i}",
            attachments=[SimpleUploadedFile(f"a{i}.txt", b"x\n")],
        )
        services.ticket_customer_message_add(ticket=ticket, actor=alice, body=f"Frage {i}")
        services.ticket_note_add(ticket=ticket, actor=tina, body=f"Notiz {i}")
    make_tickets(10, actor=alice, customer=erika)
    assert TicketEvent.objects.filter(ticket=ticket).count() > 90
    with django_assert_num_queries(few):
        page = text(as_bob.get(ticket.get_absolute_url()))
    assert "Notiz 29" in page and "a29.txt" in page


def test_team_lead_ticket_page_costs_a_fixed_number_of_queries(
    client, tina, ticket, django_assert_num_queries
):
    as_tina = signed_in(client, tina)
    few = queries_for(as_tina, ticket.get_absolute_url())
    services.ticket_escalate(ticket=ticket, actor=tina, reason="Kulanz")
    with django_assert_num_queries(few):
        as_tina.get(ticket.get_absolute_url())
