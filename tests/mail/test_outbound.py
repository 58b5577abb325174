"""The outbox: which changes mail the customer, in which language, threaded how, and that a
mail is neither lost nor doubled when sending fails, a worker dies or a task runs twice."""

import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone, translation

from customers import services as customer_services
from mail import inbound, services
from mail.choices import InboundOutcome, InboundSource, OutboundKind, OutboundState
from mail.models import InboundMail, OutboundMail
from tests.tickets.conftest import area
from tickets import services as tickets
from tickets.choices import Channel, MessageKind, Status
from tickets.models import Ticket


def _new_ticket(customer, actor, *, acknowledge=True, subject="Router startet ständig neu"):
    return tickets.ticket_create(
        customer=customer,
        subject=subject,
        body="Seit gestern startet die FRITZ!Box alle zehn Minuten neu.",
        channel=Channel.PORTAL,
        support_area=area("no-internet"),
        actor=actor,
        acknowledge=acknowledge,
    )


@pytest.fixture
def english(erika):
    erika.language = "en"
    erika.save(update_fields=["language"])
    return erika


def test_a_new_request_is_acknowledged_once_in_the_customers_language(
    english, alice, team, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _new_ticket(english, alice)
    (sent,) = mailoutbox
    row = OutboundMail.objects.get(ticket=ticket)
    assert row.kind == OutboundKind.ACKNOWLEDGEMENT and row.state == OutboundState.SENT
    assert sent.to == ["erika@example.de"]
    assert sent.subject == (
        f"[#{ticket.reference}] We have received your request: Router startet ständig neu"
    )
    message = sent.message()
    assert message["Message-ID"] == row.message_id
    assert row.message_id.startswith(f"<{ticket.reference}.acknowledgement.")
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Hello Erika Musterfrau," in sent.body
    assert f"/portal/requests/{ticket.reference}/" in sent.body
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html" and ticket.reference in html


def test_the_acknowledgement_is_german_by_default(
    erika, alice, team, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _new_ticket(erika, alice)
    assert mailoutbox[0].subject == (
        f"[#{ticket.reference}] Wir haben Ihre Anfrage erhalten: Router startet ständig neu"
    )
    assert "Guten Tag Erika Musterfrau," in mailoutbox[0].body


def test_a_polish_customer_gets_polish_mail(erika, alice, team):
    erika.language = "pl"
    erika.save(update_fields=["language"])
    ticket = _new_ticket(erika, alice)
    row = OutboundMail.objects.get(ticket=ticket)
    with translation.override("pl"):
        expected = translation.gettext("We have received your request: %(subject)s")
    assert row.language == "pl"
    assert row.subject == f"[#{ticket.reference}] " + expected % {"subject": ticket.subject}
    assert "Otrzymaliśmy" in row.subject


def test_no_acknowledgement_when_asked_not_to_or_without_an_address(alice, erika, team):
    _new_ticket(erika, alice, acknowledge=False)
    nobody = customer_services.customer_create(
        number="K1000077",
        first_name="Otto",
        last_name="Ohnemail",
        street="Weg 1",
        postal_code="50667",
        city="Köln",
        email="",
    )
    _new_ticket(nobody, alice)
    assert OutboundMail.objects.count() == 0


def test_a_reply_is_mailed_in_the_thread_of_the_acknowledgement(
    english, alice, bob, team, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = _new_ticket(english, alice)
    ack = OutboundMail.objects.get(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        reply = tickets.ticket_reply(ticket=ticket, actor=bob, body="Bitte <b>Stecker</b> ziehen.")
    row = reply.outbound_mails.get()
    sent = mailoutbox[-1]
    assert sent.subject == f"[#{ticket.reference}] Router startet ständig neu"
    headers = sent.message()
    assert headers["In-Reply-To"] == ack.message_id
    assert headers["References"] == ack.message_id
    assert headers["Message-ID"] == row.message_id
    assert headers["Auto-Submitted"] is None  # written by a person
    assert "Bitte <b>Stecker</b> ziehen." in sent.body  # the text part is plain text
    html = sent.alternatives[0][0]
    assert "Bitte &lt;b&gt;Stecker&lt;/b&gt; ziehen." in html
    assert "Bob" in sent.body


def test_the_acknowledgement_of_an_e_mail_answers_that_mail_and_carries_x_loop(
    erika, team, mailoutbox, django_capture_on_commit_callbacks
):
    raw = (
        b"From: Erika Musterfrau <erika@example.de>\r\n"
        b"To: support@example.net\r\n"
        b"Subject: =?utf-8?q?St=C3=B6rung?=\r\n"
        b"Message-ID: <first.1@mail.example.de>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Kein Internet seit heute.\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbound.inbound_mail_process(raw=raw, source=InboundSource.API)
    ack = OutboundMail.objects.get(kind=OutboundKind.ACKNOWLEDGEMENT)
    assert ack.ticket.subject == "Störung"
    headers = mailoutbox[0].message()
    assert headers["In-Reply-To"] == "<first.1@mail.example.de>"
    assert headers["References"] == "<first.1@mail.example.de>"
    assert headers["X-Loop"] == "helpdesk@localhost"


def test_a_reply_answers_the_customers_latest_mail(english, alice, bob, team):
    ticket = _new_ticket(english, alice)
    ack = OutboundMail.objects.get(ticket=ticket)
    customer_message = tickets.ticket_customer_message_add(
        ticket=ticket, actor=None, body="Immer noch.", channel=Channel.EMAIL
    )
    InboundMail.objects.create(
        message_id="<abc.123@mail.example.de>",
        source=InboundSource.API,
        sha256="0" * 64,
        outcome=InboundOutcome.ATTACHED,
        ticket=ticket,
        ticket_message=customer_message,
        received_at=timezone.now() + timedelta(seconds=1),
    )
    reply = tickets.ticket_reply(ticket=ticket, actor=bob, body="Wir schalten den Port neu.")
    row = reply.outbound_mails.get()
    assert row.in_reply_to == "<abc.123@mail.example.de>"
    assert row.references == f"{ack.message_id} <abc.123@mail.example.de>"


def test_a_reply_that_resolves_is_one_mail_naming_the_status(english, alice, bob, team):
    ticket = _new_ticket(english, alice, acknowledge=False)
    tickets.ticket_reply(ticket=ticket, actor=bob, body="Erledigt.", status=Status.RESOLVED)
    (row,) = OutboundMail.objects.filter(ticket=ticket)
    assert row.kind == OutboundKind.REPLY
    assert "Status of your request: Resolved" in row.body_text


def test_resolving_without_a_reply_mails_the_status_with_the_reopen_period(
    english, alice, bob, team
):
    ticket = _new_ticket(english, alice, acknowledge=False)
    tickets.ticket_transition(ticket=ticket, to=Status.OPEN, actor=bob)
    tickets.ticket_transition(ticket=ticket, to=Status.WAITING_CUSTOMER, actor=bob)
    assert OutboundMail.objects.count() == 0  # neither is announced on its own
    tickets.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    (row,) = OutboundMail.objects.filter(ticket=ticket)
    assert row.kind == OutboundKind.STATUS
    assert row.subject == f"[#{ticket.reference}] Resolved: Router startet ständig neu"
    assert "within 14 days" in row.body_text


def test_the_customer_closing_their_own_request_gets_no_mail(english, alice, bob, team):
    ticket = _new_ticket(english, alice, acknowledge=False)
    tickets.ticket_reply(ticket=ticket, actor=bob, body="Erledigt.", status=Status.RESOLVED)
    ticket.refresh_from_db()
    tickets.ticket_close_by_customer(ticket=ticket, actor=alice)
    assert OutboundMail.objects.filter(kind=OutboundKind.STATUS).count() == 0


def test_a_rolled_back_reply_leaves_no_mail(english, alice, bob, team, mailoutbox):
    ticket = _new_ticket(english, alice, acknowledge=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.ticket_reply(ticket=ticket, actor=bob, body="Entwurf")
        raise RuntimeError("the request failed after the reply")
    assert OutboundMail.objects.count() == 0
    assert mailoutbox == []


def test_a_mail_is_sent_once_when_the_task_runs_twice(english, alice, team, mailoutbox):
    _new_ticket(english, alice)
    row = OutboundMail.objects.get()
    assert services.outbound_mail_send(mail_id=row.pk) is True
    assert services.outbound_mail_send(mail_id=row.pk) is False
    assert services.outbound_mails_due_send(now=timezone.now() + timedelta(days=1)) == 0
    assert len(mailoutbox) == 1


def _failing_send(monkeypatch):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)


def test_a_failed_send_is_retried_later_with_the_same_message_id(
    english, alice, team, mailoutbox, monkeypatch
):
    _new_ticket(english, alice)
    row = OutboundMail.objects.get()
    now = timezone.now()
    _failing_send(monkeypatch)
    assert services.outbound_mail_send(mail_id=row.pk, now=now) is False
    row.refresh_from_db()
    assert row.state == OutboundState.PENDING and row.attempts == 1
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert "SMTPServerDisconnected" in row.last_error
    monkeypatch.undo()
    assert services.outbound_mails_due_send(now=now + timedelta(seconds=30)) == 0  # not yet
    assert services.outbound_mails_due_send(now=now + timedelta(minutes=1)) == 1
    row.refresh_from_db()
    assert row.state == OutboundState.SENT and row.last_error == "" and row.attempts == 2
    assert mailoutbox[0].message()["Message-ID"] == row.message_id


def test_a_mail_that_keeps_failing_is_given_up_after_six_attempts(
    english, alice, team, mailoutbox, monkeypatch
):
    _new_ticket(english, alice)
    row = OutboundMail.objects.get()
    _failing_send(monkeypatch)
    now = timezone.now()
    for _attempt in range(services.MAX_ATTEMPTS):
        now += timedelta(days=1)
        services.outbound_mails_due_send(now=now)
    row.refresh_from_db()
    assert row.state == OutboundState.FAILED and row.attempts == services.MAX_ATTEMPTS
    assert services.outbound_mails_due_send(now=now + timedelta(days=1)) == 0
    assert mailoutbox == []


def test_a_worker_that_died_mid_send_is_relieved_after_the_claim_runs_out(
    english, alice, team, mailoutbox
):
    _new_ticket(english, alice)
    row = OutboundMail.objects.get()
    now = timezone.now()
    assert services._claim(row.pk, now)  # the first worker claims it, then dies
    assert services.outbound_mails_due_send(now=now + timedelta(minutes=5)) == 0
    assert services.outbound_mails_due_send(now=now + services.CLAIM_FOR) == 1
    assert len(mailoutbox) == 1


def test_line_breaks_in_a_subject_never_reach_a_header(english, alice, bob, team, mailoutbox):
    ticket = _new_ticket(english, alice, acknowledge=False)
    Ticket.objects.filter(pk=ticket.pk).update(subject="Hallo\r\nBcc: boss@example.com\nX: y")
    ticket.refresh_from_db()
    reply = tickets.ticket_reply(ticket=ticket, actor=bob, body="Antwort")
    services.outbound_mail_send(mail_id=reply.outbound_mails.get().pk)
    (sent,) = mailoutbox
    headers = sent.message()
    assert "Bcc" not in headers and "X" not in headers
    assert "\n" not in headers["Subject"] and "\r" not in headers["Subject"]
    assert sent.subject == f"[#{ticket.reference}] Hallo Bcc: boss@example.com X: y"
    assert sent.recipients() == ["erika@example.de"]


def test_header_safe_strips_every_control_character():
    assert services.header_safe("a\r\nb\tc\x00d\x7fe") == "a b c d e"
    assert services.header_safe("x" * 300) == "x" * 200


def test_notes_are_never_mailed(english, alice, bob, team):
    ticket = _new_ticket(english, alice, acknowledge=False)
    tickets.ticket_note_add(ticket=ticket, actor=bob, body="Intern: Kunde ist genervt.")
    assert OutboundMail.objects.count() == 0
    note = ticket.messages.get(kind=MessageKind.NOTE)
    with pytest.raises(ValueError):
        services.ticket_reply_queue(message=note)


def test_agents_see_whether_each_reply_reached_the_mail_server(
    client, english, alice, bob, tina, team
):
    ticket = _new_ticket(english, alice, acknowledge=False)
    first = tickets.ticket_reply(ticket=ticket, actor=bob, body="Erste Antwort")
    second = tickets.ticket_reply(ticket=ticket, actor=bob, body="Zweite Antwort")
    third = tickets.ticket_reply(ticket=ticket, actor=bob, body="Dritte Antwort")
    services.outbound_mail_send(mail_id=first.outbound_mails.get().pk)
    OutboundMail.objects.filter(ticket_message=third).update(state=OutboundState.FAILED)
    client.force_login(tina)  # the ticket is tech's: bob would get a 404
    page = client.get(ticket.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    states = [
        html.split(f'id="message-{message.pk}"')[1].split("</header>")[0]
        for message in (first, second, third)
    ]
    assert "mailed" in states[0]
    assert "mail waiting" in states[1]
    assert "mail failed" in states[2]
    assert html.count('data-testid="mail-state"') == 3  # not on the customer's own message


def test_the_portal_shows_no_mail_state(client, english, alice, bob, team):
    ticket = _new_ticket(english, alice, acknowledge=False)
    tickets.ticket_reply(ticket=ticket, actor=bob, body="Antwort")
    client.force_login(alice)
    page = client.get(f"/portal/requests/{ticket.reference}/")
    assert page.status_code == 200 and b'data-testid="mail-state"' not in page.content


def test_an_administrator_sends_failed_mails_again_from_the_admin(
    client, english, alice, bob, team, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = _new_ticket(english, alice)
    failed = OutboundMail.objects.get(ticket=ticket)
    OutboundMail.objects.filter(pk=failed.pk).update(state=OutboundState.FAILED, attempts=6)
    pending = tickets.ticket_reply(ticket=ticket, actor=bob, body="Antwort").outbound_mails.get()
    admin_user = User.objects.create_superuser("root", "root@example.com", "x-very-secret-1")
    client.force_login(admin_user)
    listing = client.get("/admin/mail/outboundmail/?state=failed")
    assert listing.status_code == 200 and ticket.reference.encode() in listing.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/mail/outboundmail/",
            {"action": "send_again", "_selected_action": [failed.pk, pending.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.state == OutboundState.SENT and failed.attempts == 1
    assert pending.state == OutboundState.PENDING  # not failed: left to its own task
    assert [sent.subject for sent in mailoutbox] == [failed.subject]


def test_staff_without_admin_rights_cannot_reach_the_outbox(client, bob, team):
    client.force_login(bob)
    assert client.get("/admin/mail/outboundmail/").status_code == 302
