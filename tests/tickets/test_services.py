"""Ticket use cases: creation and routing, status rules, movement, assignment, mail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from helpdesk.errors import DomainError, StaleEdit
from mail import services as mail_services
from mail.choices import OutboundState
from mail.models import OutboundMail
from tests.tickets.conftest import area, department, queue
from tickets import services
from tickets.choices import Channel, MessageKind, Priority, Status
from tickets.models import Attachment, Ticket, TicketCounter, TicketEvent, TicketMessage


@pytest.fixture(autouse=True)
def _english():
    """Refusals are matched by their English wording."""
    with translation.override("en"):
        yield


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _snapshot(ticket: Ticket) -> tuple:
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.queue_id,
        ticket.assignee_id,
        ticket.priority,
        ticket.version,
        ticket.events.count(),
        ticket.messages.count(),
    )


# --- Creation and routing ----------------------------------------------------------------


def test_a_new_ticket_lands_in_the_support_areas_first_queue(ticket, tech_ticket):
    assert ticket.queue == queue("customer-service", 1)
    assert tech_ticket.queue == queue("tech", 1)
    assert ticket.status == Status.NEW
    assert ticket.messages.get().kind == MessageKind.CUSTOMER
    assert ticket.events.exclude(kind__startswith="sla.").get().kind == "ticket.created"


def test_references_count_up_per_year_and_are_readable_on_the_phone(erika, alice, team):
    year = timezone.localtime().year
    first, second = (
        services.ticket_create(
            customer=erika,
            subject=f"Frage {n}",
            body="Text",
            channel=Channel.PHONE,
            support_area=area("general"),
            actor=alice,
        )
        for n in (1, 2)
    )
    assert first.reference == f"{year}-000001"
    assert second.reference == f"{year}-000002"
    assert TicketCounter.objects.get(year=year).last == 2


def test_a_refused_creation_does_not_use_up_a_reference(erika, alice, ticket):
    with pytest.raises(DomainError):
        services.ticket_create(
            customer=erika,
            subject=" ",
            body="Text",
            channel=Channel.PHONE,
            support_area=area("general"),
            actor=alice,
        )
    year = timezone.localtime().year
    assert TicketCounter.objects.get(year=year).last == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 1_000_000}, "body"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": 9}, "priority"),
        ({"customer": None}, "customer"),
    ],
)
def test_bad_input_creates_nothing(erika, alice, team, changes, field):
    arguments = {
        "customer": erika,
        "subject": "Frage",
        "body": "Text",
        "channel": Channel.PORTAL,
        "support_area": area("general"),
        "actor": alice,
        **changes,
    }
    with pytest.raises(DomainError) as error:
        services.ticket_create(**arguments)
    assert error.value.field == field
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()


def test_an_inactive_support_area_is_refused(erika, alice, team):
    general = area("general")
    general.is_active = False
    general.save()
    with pytest.raises(DomainError):
        services.ticket_create(
            customer=erika,
            subject="Frage",
            body="Text",
            channel=Channel.PORTAL,
            support_area=general,
            actor=alice,
        )
    assert not Ticket.objects.exists()


def test_subject_keeps_markup_as_plain_text_on_one_line(erika, alice, team):
    ticket = services.ticket_create(
        customer=erika,
        subject="<script>alert(1)</script>\nBcc: x@example.com",
        body="<b>fett</b>",
        channel=Channel.PORTAL,
        support_area=area("general"),
        actor=alice,
    )
    assert ticket.subject == "<script>alert(1)</script> Bcc: x@example.com"
    assert ticket.messages.get().body == "<b>fett</b>"


def test_subject_drops_direction_overrides_the_message_keeps_them(erika, alice, team):
    # "Rechnung.exe" disguised with a right-to-left override would read "Rechnungexe.pdf".
    disguised = "Rechnung\u202efdp.exe\u202c und \u2067Datei\u2069 Kabel\u200dsalat"
    ticket = services.ticket_create(
        customer=erika,
        subject=disguised,
        body=disguised,
        channel=Channel.PORTAL,
        support_area=area("general"),
        actor=alice,
    )
    assert ticket.subject == "Rechnungfdp.exe und Datei Kabel\u200dsalat"
    assert ticket.messages.get().body == disguised


# --- Attachments --------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def test_a_pdf_is_stored_outside_the_web_root_under_a_random_name(ticket, bob, media):
    upload = SimpleUploadedFile("Rechnung Oktober.pdf", PDF, content_type="text/html")
    message = services.ticket_note_add(ticket=ticket, actor=bob, body="Beleg", attachments=[upload])
    attachment = message.attachments.get()
    assert attachment.filename == "Rechnung Oktober.pdf"
    assert attachment.content_type == "application/pdf"  # from the bytes, not the browser
    assert attachment.size == len(PDF)
    (stored,) = _files(media)
    assert stored.read_bytes() == PDF
    assert "Rechnung" not in stored.name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.exe", b"MZ\x90\x00"),
        ("fake.pdf", b"<html><script>alert(1)</script></html>"),
        ("bild.png", PDF),
        ("notiz.txt", b"\x00\x01\x02binary"),
        ("leer.txt", b""),
    ],
)
def test_forbidden_or_disguised_files_are_refused_and_nothing_is_written(
    ticket, bob, media, name, content
):
    before = _snapshot(ticket)
    with pytest.raises(DomainError) as error:
        services.ticket_note_add(
            ticket=ticket, actor=bob, body="Anhang", attachments=[SimpleUploadedFile(name, content)]
        )
    assert error.value.field == "attachments"
    assert _snapshot(ticket) == before
    assert not Attachment.objects.exists() and not _files(media)


def test_an_oversized_file_is_refused(ticket, bob, media, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("log.txt", b"a" * 1025)
    with pytest.raises(DomainError, match="too large"):
        services.ticket_note_add(ticket=ticket, actor=bob, body="Log", attachments=[big])
    assert not _files(media)


def test_too_many_files_are_refused(ticket, bob, media, settings):
    uploads = [
        SimpleUploadedFile(f"{n}.txt", b"ok")
        for n in range(settings.TICKET_ATTACHMENTS_PER_MESSAGE + 1)
    ]
    with pytest.raises(DomainError):
        services.ticket_note_add(ticket=ticket, actor=bob, body="Logs", attachments=uploads)
    assert not Attachment.objects.exists()


def test_latin1_text_files_are_accepted(ticket, bob, media):
    upload = SimpleUploadedFile("router.log", "Störung: Sync verloren".encode("cp1252"))
    message = services.ticket_note_add(ticket=ticket, actor=bob, body="Log", attachments=[upload])
    assert message.attachments.get().content_type == "text/plain"


# --- Conversation ----------------------------------------------------------------------------


def test_first_reply_stamps_first_response_opens_and_mails_the_customer(
    ticket, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(ticket=ticket, actor=bob, body="Wir prüfen die Abbuchung.")
    ticket.refresh_from_db()
    assert ticket.first_response_at == reply.created_at
    assert ticket.status == Status.OPEN
    (sent,) = mail.outbox
    assert sent.to == ["erika@example.de"]
    assert sent.subject == f"[#{ticket.reference}] Rechnung doppelt abgebucht"
    assert "Wir prüfen die Abbuchung." in sent.body
    assert f"/portal/requests/{ticket.reference}/" in sent.body
    assert reply.outbound_mails.get().state == OutboundState.SENT


def test_the_reply_mail_goes_out_once_even_if_the_task_runs_twice(
    ticket, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(ticket=ticket, actor=bob, body="Antwort")
    assert mail_services.outbound_mail_send(mail_id=reply.outbound_mails.get().pk) is False
    assert len(mail.outbox) == 1


def test_a_later_reply_keeps_the_first_response_time(ticket, bob):
    services.ticket_reply(ticket=ticket, actor=bob, body="Erste Antwort")
    ticket.refresh_from_db()
    first = ticket.first_response_at
    services.ticket_reply(ticket=ticket, actor=bob, body="Zweite Antwort")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first


def test_reply_can_set_waiting_for_customer(ticket, bob):
    services.ticket_reply(
        ticket=ticket, actor=bob, body="Bitte Kontoauszug senden.", status=Status.WAITING_CUSTOMER
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_CUSTOMER


def test_internal_notes_are_never_mailed(ticket, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_note_add(ticket=ticket, actor=bob, body="Kunde klingt verärgert")
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_replying_to_a_closed_ticket_is_refused(ticket, bob, django_capture_on_commit_callbacks):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=bob)
    before = _snapshot(ticket)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(DomainError, match="closed"),
    ):
        services.ticket_reply(ticket=ticket, actor=bob, body="Noch etwas")
    assert _snapshot(ticket) == before
    assert mail.outbox == []


def test_a_customer_reply_ends_waiting(ticket, bob, alice):
    services.ticket_reply(
        ticket=ticket, actor=bob, body="Bitte Beleg", status=Status.WAITING_CUSTOMER
    )
    services.ticket_customer_message_add(ticket=ticket, actor=alice, body="Anbei der Beleg")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_customer_reply_reopens_a_resolved_ticket_within_the_period(ticket, bob, alice):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    services.ticket_customer_message_add(ticket=ticket, actor=alice, body="Doch nicht gelöst")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    assert ticket.events.filter(kind="ticket.status_changed", data__to="open").exists()


def test_a_customer_reply_after_the_period_is_refused(ticket, bob, alice, settings):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    later = timezone.now() + timedelta(days=settings.TICKET_REOPEN_DAYS, minutes=1)
    before = _snapshot(ticket)
    with pytest.raises(DomainError, match="new request"):
        services.ticket_customer_message_add(ticket=ticket, actor=alice, body="Hallo?", now=later)
    assert _snapshot(ticket) == before


# --- Status ---------------------------------------------------------------------------------


def test_closing_requires_resolving_first(ticket, bob):
    before = _snapshot(ticket)
    with pytest.raises(DomainError, match="Resolve"):
        services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=bob)
    assert _snapshot(ticket) == before


def test_resolve_and_close_stamp_their_times_and_record_events(ticket, bob):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=bob)
    ticket.refresh_from_db()
    assert ticket.resolved_at and ticket.closed_at
    moves = [
        (e.data["from"], e.data["to"]) for e in ticket.events.filter(kind="ticket.status_changed")
    ]
    assert moves == [("new", "resolved"), ("resolved", "closed")]


@pytest.mark.parametrize("target", ["open", "new", "bogus"])
def test_a_closed_ticket_goes_nowhere(ticket, bob, target):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=bob)
    with pytest.raises(DomainError):
        services.ticket_transition(ticket=ticket, to=target, actor=bob)


def test_customer_closes_their_own_request_through_resolved(ticket, alice):
    services.ticket_close_by_customer(ticket=ticket, actor=alice)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.resolved_at
    with pytest.raises(DomainError, match="already closed"):
        services.ticket_close_by_customer(ticket=ticket, actor=alice)


# --- Movement ---------------------------------------------------------------------------------


def test_escalation_moves_up_one_line_and_leaves_the_agents_list(tech_ticket, trent):
    services.ticket_take(ticket=tech_ticket, actor=trent)
    services.ticket_escalate(ticket=tech_ticket, actor=trent, reason="Leitung prüfen")
    tech_ticket.refresh_from_db()
    assert tech_ticket.queue == queue("tech", 2)
    assert tech_ticket.assignee is None
    event = tech_ticket.events.get(kind="ticket.escalated")
    assert event.data == {
        "from_queue": queue("tech", 1).pk,
        "to_queue": queue("tech", 2).pk,
        "note": "Leitung prüfen",
    }
    assert event.actor == trent


def test_escalating_past_the_third_line_is_refused(tech_ticket, trent):
    services.ticket_escalate(ticket=tech_ticket, actor=trent, reason="zu 2")
    services.ticket_escalate(ticket=tech_ticket, actor=trent, reason="zu 3")
    before = _snapshot(tech_ticket)
    with pytest.raises(DomainError, match="third line"):
        services.ticket_escalate(ticket=tech_ticket, actor=trent, reason="zu 4")
    assert _snapshot(tech_ticket) == before


def test_escalating_to_a_line_that_does_not_exist_is_refused(erika, alice, team, tina):
    cancellation = services.ticket_create(
        customer=erika,
        subject="Kündigung",
        body="Ich kündige.",
        channel=Channel.LETTER,
        support_area=area("cancellation"),
        actor=alice,
    )
    with pytest.raises(DomainError, match="no line 2"):
        services.ticket_escalate(ticket=cancellation, actor=tina, reason="schwierig")
    cancellation.refresh_from_db()
    assert cancellation.queue == queue("contracts", 1)


def test_escalation_needs_a_reason(ticket, bob):
    before = _snapshot(ticket)
    with pytest.raises(DomainError) as error:
        services.ticket_escalate(ticket=ticket, actor=bob, reason="  ")
    assert error.value.field == "reason"
    assert _snapshot(ticket) == before


def test_handoff_goes_to_the_departments_first_line_with_the_note(ticket, bob):
    services.ticket_take(ticket=ticket, actor=bob)
    services.ticket_handoff(
        ticket=ticket, actor=bob, department=department("billing"), note="Zahlung prüfen"
    )
    ticket.refresh_from_db()
    assert ticket.queue == queue("billing", 1)
    assert ticket.assignee is None
    assert ticket.previous_queue == queue("customer-service", 1)
    assert ticket.events.get(kind="ticket.handed_off").data["note"] == "Zahlung prüfen"


@pytest.mark.parametrize(("slug", "note"), [("billing", ""), ("customer-service", "hier")])
def test_handoff_without_note_or_to_the_own_department_is_refused(ticket, bob, slug, note):
    before = _snapshot(ticket)
    with pytest.raises(DomainError):
        services.ticket_handoff(ticket=ticket, actor=bob, department=department(slug), note=note)
    assert _snapshot(ticket) == before


def test_hand_back_returns_to_where_it_came_from(ticket, bob, carol):
    services.ticket_handoff(
        ticket=ticket, actor=bob, department=department("billing"), note="prüfen"
    )
    services.ticket_hand_back(ticket=ticket, actor=carol, note="Zahlung ist eingegangen")
    ticket.refresh_from_db()
    assert ticket.queue == queue("customer-service", 1)
    assert ticket.previous_queue is None
    with pytest.raises(DomainError, match="no queue to go back"):
        services.ticket_hand_back(ticket=ticket, actor=bob, note="nochmal")


def test_a_resolved_ticket_cannot_be_moved(ticket, bob):
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    with pytest.raises(DomainError):
        services.ticket_escalate(ticket=ticket, actor=bob, reason="doch")
    with pytest.raises(DomainError):
        services.ticket_handoff(ticket=ticket, actor=bob, department=department("tech"), note="x")


# --- Assignment, priority, stale edits ------------------------------------------------------


def test_taking_assigns_and_opens_a_new_ticket(ticket, bob):
    services.ticket_take(ticket=ticket, actor=bob)
    ticket.refresh_from_db()
    assert ticket.assignee == bob and ticket.status == Status.OPEN


def test_of_two_agents_taking_the_same_ticket_exactly_one_gets_it(ticket, bob, tina):
    seen_by_tina = Ticket.objects.get(pk=ticket.pk)
    services.ticket_take(ticket=ticket, actor=bob)
    with pytest.raises(StaleEdit, match="Bob Bauer has already taken"):
        services.ticket_take(ticket=seen_by_tina, actor=tina)
    ticket.refresh_from_db()
    assert ticket.assignee == bob
    assert ticket.events.filter(kind="ticket.assigned").count() == 1


def test_an_agent_outside_the_queue_cannot_take_it(ticket, carol):
    with pytest.raises(DomainError):
        services.ticket_take(ticket=ticket, actor=carol)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_a_first_line_agent_cannot_be_assigned_a_second_line_ticket(ticket, bob, tina):
    services.ticket_escalate(ticket=ticket, actor=tina, reason="Fachfrage")
    with pytest.raises(DomainError, match="does not work this queue"):
        services.ticket_assign(ticket=ticket, assignee=bob, actor=tina)
    services.ticket_assign(ticket=ticket, assignee=tina, actor=tina)
    ticket.refresh_from_db()
    assert ticket.assignee == tina


def test_a_stale_edit_is_refused_and_the_newer_change_stays(ticket, bob, tina):
    seen = ticket.version
    services.ticket_priority_change(
        ticket=ticket, priority=Priority.HIGH, actor=tina, expected_version=seen
    )
    with pytest.raises(StaleEdit):
        services.ticket_priority_change(
            ticket=ticket, priority=Priority.LOW, actor=bob, expected_version=seen
        )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert ticket.events.filter(kind="ticket.priority_changed").count() == 1


def test_a_stale_in_memory_ticket_is_refused_too(ticket, bob, tina):
    old_copy = Ticket.objects.get(pk=ticket.pk)
    services.ticket_escalate(ticket=ticket, actor=tina, reason="Fachfrage")
    with pytest.raises(StaleEdit):
        services.ticket_handoff(
            ticket=old_copy, actor=bob, department=department("billing"), note="prüfen"
        )
    assert not TicketEvent.objects.filter(kind="ticket.handed_off").exists()


def test_unassign_puts_it_back_and_records_who_had_it(ticket, bob):
    services.ticket_take(ticket=ticket, actor=bob)
    services.ticket_unassign(ticket=ticket, actor=bob)
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert ticket.events.get(kind="ticket.unassigned").data["from"]["name"] == "Bob Bauer"
    with pytest.raises(DomainError):
        services.ticket_unassign(ticket=ticket, actor=bob)


def test_agent_profiles_are_for_staff_only(alice):
    with pytest.raises(DomainError):
        services.agent_profile_set(user=alice, departments=[department("tech")])


def test_a_new_place_in_the_organisation_counts_at_once(ticket, carol):
    with pytest.raises(DomainError):
        services.ticket_take(ticket=ticket, actor=carol)  # billing: not her queue
    services.agent_profile_set(user=carol, departments=[department("customer-service")])
    services.ticket_take(ticket=ticket, actor=carol)
    ticket.refresh_from_db()
    assert ticket.assignee == carol


def test_a_reply_whose_mail_task_was_lost_is_mailed_by_the_outbox_pass(ticket, bob, mailoutbox):
    # No on-commit callbacks run here: as if the broker had been down at the reply.
    OutboundMail.objects.all().delete()  # the acknowledgement of the fixture's ticket
    message = services.ticket_reply(ticket=ticket, actor=bob, body="Wir haben erstattet.")
    assert mailoutbox == []
    later = message.created_at + timedelta(minutes=3)
    assert mail_services.outbound_mails_due_send(now=later) == 1
    assert len(mailoutbox) == 1 and ticket.reference in mailoutbox[0].subject
    assert "Wir haben erstattet." in mailoutbox[0].body
    assert mail_services.outbound_mails_due_send(now=later) == 0  # sent once
