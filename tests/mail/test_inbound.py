"""Filing inbound mail: new tickets, follow-ups, forged tags, reopening, machine mail,
limits, damaged input, duplicates (also racing on PostgreSQL) and nothing half-written."""

import threading
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from customers import services as customer_services
from mail import inbound
from mail.choices import InboundOutcome, InboundSource, OutboundKind
from mail.inbound import Problem
from mail.models import InboundMail, OutboundMail
from tests.conftest import skip_or_fail
from tests.mail import inbound_fixtures
from tests.mail.inbound_fixtures import EXE, PDF, PNG, SUPPORT, eml, mail
from tickets import services as tickets
from tickets.choices import Channel, MessageKind, Status
from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage

media = inbound_fixtures.media
mail_settings = inbound_fixtures.mail_settings

pytestmark = pytest.mark.usefixtures("media", "mail_settings")

API = InboundSource.API


def process(raw: bytes, **kwargs) -> InboundMail:
    return inbound.inbound_mail_process(raw=raw, source=InboundSource.MAILDIR, **kwargs)


def acknowledgements(ticket: Ticket) -> int:
    return OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.ACKNOWLEDGEMENT).count()


def notes(ticket: Ticket) -> list[str]:
    return list(ticket.messages.filter(kind=MessageKind.NOTE).values_list("body", flat=True))


# --- New tickets ----------------------------------------------------------------------------


def test_a_customers_mail_becomes_a_ticket_with_text_html_and_files(erika, team):
    raw = mail(
        subject="Störung am DSL-Anschluss",
        sender="Erika Musterfrau <Erika@Example.DE>",
        html="<p>Seit heute <b>früh</b> kein Internet.</p><script>alert(1)</script>",
        attachments=(("Rechnung März.pdf", "application/pdf", PDF), ("foto.png", "image/png", PNG)),
    )
    row = process(raw)

    assert row.outcome == InboundOutcome.CREATED and not row.duplicate and not row.flagged
    ticket = row.ticket
    assert ticket.customer == erika and ticket.contact_email == "erika@example.de"
    assert ticket.subject == "Störung am DSL-Anschluss"
    assert ticket.channel == Channel.EMAIL and ticket.status == Status.NEW
    assert ticket.support_area.slug == "general"
    message = row.ticket_message
    assert message.kind == MessageKind.CUSTOMER and message.author is None
    assert message.body.startswith("Guten Tag,\n\nseit heute früh geht das Internet nicht.")
    assert message.body_html == "<p>Seit heute <b>früh</b> kein Internet.</p>"
    files = {a.filename: a for a in message.attachments.all()}
    assert set(files) == {"Rechnung März.pdf", "foto.png"}
    assert files["Rechnung März.pdf"].file.read() == PDF
    assert notes(ticket) == []  # nothing dropped, nothing to tell
    assert row.raw_path == ""  # nothing lost on the way: no need to keep the raw mail
    assert acknowledgements(ticket) == 1
    assert ticket.events.filter(kind="ticket.created").count() == 1


def test_the_real_multipart_mail_keeps_what_is_allowed_and_names_what_is_not(team, media):
    row = process(eml("multipart_alternative.eml"))

    ticket = row.ticket
    assert ticket.customer is None and ticket.contact_email == "juergen.mueller@example.de"
    assert ticket.subject == "Störung am DSL-Anschluss \N{EN DASH} bitte um Rückruf"
    names = set(row.ticket_message.attachments.values_list("filename", flat=True))
    assert names == {"Rechnung März.pdf", "router.png"}
    (note,) = notes(ticket)
    assert "tool.exe" in note and row.raw_path in note
    # Nothing lost: the original, exe included, is kept byte for byte.
    assert (media / row.raw_path).read_bytes() == eml("multipart_alternative.eml")
    assert row.reason_code == ""


def test_an_unknown_sender_opens_a_ticket_on_the_address_only(team):
    row = process(mail(sender="Neukunde <neu@example.org>"))
    assert row.ticket.customer is None and row.ticket.contact_email == "neu@example.org"


def test_two_customers_with_one_address_are_not_guessed(erika, team):
    customer_services.customer_create(
        number="K1000009",
        first_name="Erik",
        last_name="Muster",
        street="Weg 1",
        postal_code="50667",
        city="Köln",
        email="erika@example.de",
    )
    row = process(mail())
    assert row.ticket.customer is None and row.ticket.contact_email == "erika@example.de"


def test_the_support_area_comes_from_the_setting(erika, team, settings):
    settings.MAIL_INBOUND_SUPPORT_AREA = "no-internet"
    assert process(mail()).ticket.support_area.slug == "no-internet"
    settings.MAIL_INBOUND_SUPPORT_AREA = "no-such-area"
    assert process(mail()).ticket.support_area.is_active


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("", "E-Mail von erika@example.de"),
        ("   ", "E-Mail von erika@example.de"),
        ("AW: WG: Re: Router", "Router"),
        ("x" * 300, "x" * 200),
    ],
)
def test_subjects_are_cleaned_or_made_up(erika, team, subject, expected):
    assert process(mail(subject=subject)).ticket.subject == expected


def test_a_mail_without_text_still_becomes_a_ticket(erika, team):
    row = process(mail(body="", attachments=(("a.pdf", "application/pdf", PDF),)))
    assert row.outcome == InboundOutcome.CREATED
    assert row.ticket_message.body == "(Die E-Mail enthielt keinen Text.)"
    assert row.ticket_message.attachments.count() == 1


def test_a_text_over_the_limit_is_shortened_and_kept_whole(erika, team, settings, media):
    settings.TICKET_MESSAGE_MAX_CHARS = 1000
    text = "Zeile mit Text\n" * 200
    row = process(mail(body=text))
    message = row.ticket_message
    assert len(message.body) <= 1000 and "message.txt" in message.body
    (full,) = message.attachments.all()
    assert full.filename == "message.txt" and full.file.read().decode() == text.strip()
    assert row.raw_path and (media / row.raw_path).exists()


def test_more_files_than_allowed_keeps_the_first_and_names_the_rest(erika, team):
    files = tuple((f"scan{n}.pdf", "application/pdf", PDF) for n in range(7))
    row = process(mail(attachments=files))
    assert row.ticket_message.attachments.count() == 5
    (note,) = notes(row.ticket)
    assert "scan5.pdf" in note and "scan6.pdf" in note and "scan4.pdf" not in note


def test_damaged_mime_becomes_a_ticket_with_a_warning_and_the_original(team, media):
    row = process(eml("malformed.eml"))
    assert row.outcome == InboundOutcome.CREATED
    assert row.ticket.subject == "Rückruf erbeten"
    assert "0221 1234567" in row.ticket_message.body
    (note,) = notes(row.ticket)
    assert "CloseBoundaryNotFoundDefect" in note
    assert (media / row.raw_path).read_bytes() == eml("malformed.eml")


# --- Follow-ups ------------------------------------------------------------------------------


def test_a_tagged_answer_from_the_contact_lands_on_the_ticket(ticket, bob):
    tickets.ticket_transition(ticket=ticket, to=Status.WAITING_CUSTOMER, actor=bob)
    row = process(eml("outlook_reply.eml", reference=ticket.reference))

    assert row.outcome == InboundOutcome.ATTACHED and row.ticket == ticket
    assert row.ticket_message.ticket == ticket and row.ticket_message.channel == Channel.EMAIL
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # waiting for the customer ended
    assert Ticket.objects.count() == 1
    assert ticket.events.filter(kind="message.received").count() == 1


def test_an_answer_to_our_outgoing_mail_is_threaded_without_a_tag(ticket):
    ours = OutboundMail.objects.get(ticket=ticket)  # the acknowledgement
    row = process(mail(subject="Noch eine Frage", in_reply_to=ours.message_id))
    assert row.outcome == InboundOutcome.ATTACHED and row.ticket == ticket


def test_a_follow_up_to_the_customers_own_mail_is_threaded(erika, team):
    first = process(mail(message_id="<first@example.de>"))
    again = process(mail(subject="Nachtrag", references="<first@example.de>"))
    assert again.outcome == InboundOutcome.ATTACHED and again.ticket == first.ticket


def test_the_sender_address_matches_case_insensitively(ticket):
    raw = mail(subject=f"Re: [#{ticket.reference}] x", sender="ERIKA@EXAMPLE.DE")
    assert process(raw).outcome == InboundOutcome.ATTACHED


def test_a_resolved_ticket_reopens_within_the_period(ticket, bob):
    tickets.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    later = timezone.now() + timedelta(days=13)
    row = process(mail(subject=f"Re: [#{ticket.reference}] Doch nicht gelöst"), now=later)
    assert row.outcome == InboundOutcome.ATTACHED
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_too_late_for_reopening_opens_a_new_ticket_naming_the_old(ticket, bob):
    tickets.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=bob)
    later = timezone.now() + timedelta(days=15)
    row = process(mail(subject=f"AW: [#{ticket.reference}] Rechnung"), now=later)

    assert row.outcome == InboundOutcome.CREATED and row.ticket != ticket
    assert row.reason_code == Problem.TICKET_CLOSED
    assert row.ticket.subject == "Rechnung" and row.ticket.customer == ticket.customer
    (note,) = notes(row.ticket)
    assert ticket.reference in note
    event = row.ticket.events.get(kind="mail.closed_ticket_followed_up")
    assert event.data["reference"] == ticket.reference and event.actor is None
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.messages.count() == 1


def test_an_answer_to_a_closed_ticket_opens_a_new_one(ticket, bob):
    tickets.ticket_close_by_customer(ticket=ticket, actor=bob)
    row = process(mail(subject=f"Re: [#{ticket.reference}] x"))
    assert row.outcome == InboundOutcome.CREATED and row.ticket != ticket


def test_a_forged_tag_does_not_attach_but_opens_a_flagged_ticket(ticket, malte):
    raw = mail(
        subject=f"Re: [#{ticket.reference}] Bitte Kontodaten ändern",
        sender="Malte Meier <malte@example.de>",
    )
    row = process(raw)

    assert row.outcome == InboundOutcome.CREATED and row.flagged
    assert row.reason_code == Problem.REFERENCE_MISMATCH
    assert row.ticket != ticket and row.ticket.customer == malte
    (note,) = notes(row.ticket)
    assert ticket.reference in note and "malte@example.de" in note
    event = row.ticket.events.get(kind="mail.reference_mismatch")
    assert event.data["reference"] == ticket.reference
    # Erika's ticket is untouched: no message, no event, no status change.
    assert ticket.messages.count() == 1
    assert not ticket.events.filter(kind__startswith="mail.").exists()
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_forged_thread_headers_do_not_attach_either(ticket, malte):
    ours = OutboundMail.objects.get(ticket=ticket)
    row = process(mail(sender="malte@example.de", in_reply_to=ours.message_id))
    assert row.flagged and row.ticket != ticket and ticket.messages.count() == 1


def test_an_unknown_reference_opens_a_new_ticket(erika, team):
    row = process(mail(subject="Re: [#2020-999999] Alt"))
    assert row.outcome == InboundOutcome.CREATED and not row.flagged
    assert row.reason_code == Problem.UNKNOWN_REFERENCE
    assert "2020-999999" in notes(row.ticket)[0]


# --- Machine mail and loops -----------------------------------------------------------------


def test_an_auto_reply_never_touches_a_ticket(ticket):
    row = process(eml("auto_reply.eml", reference=ticket.reference))
    assert row.outcome == InboundOutcome.IGNORED and row.reason_code == Problem.AUTO_REPLY
    assert row.ticket is None and "Auto-Submitted" in row.reason
    assert ticket.messages.count() == 1 and Ticket.objects.count() == 1


def test_a_bounce_is_ignored(team):
    row = process(eml("dsn_bounce.eml"))
    assert row.outcome == InboundOutcome.IGNORED and not Ticket.objects.exists()
    assert row.raw_path == ""


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("Kundenservice <helpdesk@helpdesk.example>", {}),
        (f"Support <{SUPPORT}>", {}),
        ("someone@example.de", {"X-Loop": SUPPORT}),
        ("someone@example.de", {"X-Loop": "yes"}),
    ],
)
def test_our_own_mail_coming_back_is_a_loop(team, sender, headers):
    row = process(mail(sender=sender, headers=headers))
    assert row.outcome == InboundOutcome.IGNORED and row.reason_code == Problem.LOOP
    assert not Ticket.objects.exists()


def test_our_own_outgoing_message_id_coming_back_is_a_loop(ticket):
    ours = OutboundMail.objects.get(ticket=ticket)
    row = process(mail(message_id=ours.message_id, sender="weiterleitung@example.org"))
    assert row.outcome == InboundOutcome.IGNORED and row.reason_code == Problem.LOOP


def test_a_flood_from_one_sender_is_filed_but_no_longer_acknowledged(erika, team):
    now = timezone.now()
    rows = [process(mail(subject=f"Nr. {n}"), now=now + timedelta(minutes=n)) for n in range(7)]
    assert all(row.outcome == InboundOutcome.CREATED for row in rows)
    assert [acknowledgements(row.ticket) for row in rows] == [1, 1, 1, 1, 1, 0, 0]
    assert rows[5].reason_code == Problem.ACK_SUPPRESSED
    # An hour after the first five, the sender is acknowledged again.
    later = process(mail(subject="Später"), now=now + timedelta(minutes=65))
    assert acknowledgements(later.ticket) == 1


def test_a_no_reply_sender_is_filed_without_acknowledgement(team):
    row = process(mail(sender="Shop <no-reply@shop.example>"))
    assert row.outcome == InboundOutcome.CREATED and acknowledgements(row.ticket) == 0


# --- Rejections: nothing half-written, nothing lost ------------------------------------------


def test_a_30_mb_message_is_rejected_and_kept(erika, team, media):
    raw = mail(attachments=(("fotos.pdf", "application/pdf", PDF + bytes(30 * 1024 * 1024)),))
    row = process(raw)
    assert row.outcome == InboundOutcome.REJECTED and row.reason_code == Problem.TOO_LARGE
    assert row.from_address == "erika@example.de" and row.size == len(raw)
    assert "25" in row.reason
    assert (media / row.raw_path).read_bytes() == raw
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_only_the_start_of_a_huge_message_is_recorded_the_source_keeps_it(erika, team):
    raw = mail()
    row = process(raw[:2000], size=40 * 1024 * 1024)
    assert row.outcome == InboundOutcome.REJECTED and row.reason_code == Problem.TOO_LARGE
    assert row.raw_path == "" and row.size == 40 * 1024 * 1024


def test_mass_mail_is_rejected(erika, team, media):
    to = ", ".join(f"kunde{n}@example.de" for n in range(500))
    row = process(mail(to=to))
    assert row.outcome == InboundOutcome.REJECTED
    assert row.reason_code == Problem.TOO_MANY_RECIPIENTS and "500" in row.reason
    assert (media / row.raw_path).exists() and not Ticket.objects.exists()


@pytest.mark.parametrize(
    "raw", [b"\x00\xff\xfe garbage" * 40, b"Subject: no sender\n\nhello", b"From: <@@>\n\nx"]
)
def test_unreadable_bytes_are_rejected_and_kept(team, media, raw):
    row = process(raw)
    assert row.outcome == InboundOutcome.REJECTED and row.reason_code == Problem.NO_SENDER
    assert (media / row.raw_path).read_bytes() == raw
    assert not Ticket.objects.exists()


def test_a_failure_midway_leaves_nothing_behind(erika, team, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tickets, "ticket_note_add", broken)
    raw = mail(attachments=(("setup.exe", "application/x-msdownload", EXE),))
    with pytest.raises(RuntimeError):
        process(raw)
    assert not InboundMail.objects.exists()
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()
    monkeypatch.undo()
    assert process(raw).outcome == InboundOutcome.CREATED  # a retry files it normally


def test_when_the_tickets_app_refuses_the_mail_is_rejected_whole(erika, team, media):
    from tickets.models import SupportArea

    SupportArea.objects.update(is_active=False)
    row = process(mail())
    assert row.outcome == InboundOutcome.REJECTED and row.reason_code == Problem.REFUSED
    assert row.ticket is None and (media / row.raw_path).exists()
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()


def test_an_unknown_source_is_a_programming_error(team):
    with pytest.raises(ValueError):
        inbound.inbound_mail_process(raw=mail(), source="pigeon")


# --- Duplicates ----------------------------------------------------------------------------


def test_the_same_message_id_twice_changes_nothing(erika, team):
    raw = mail(message_id="<once@example.de>")
    first = process(raw)
    counts = (Ticket.objects.count(), TicketMessage.objects.count(), TicketEvent.objects.count())
    again = inbound.inbound_mail_process(raw=raw + b"\r\nX-Relay: second", source=API)
    assert again.pk == first.pk and again.duplicate and not first.duplicate
    assert again.source == InboundSource.MAILDIR
    after = (Ticket.objects.count(), TicketMessage.objects.count(), TicketEvent.objects.count())
    assert after == counts and InboundMail.objects.count() == 1


def test_a_duplicate_of_a_rejected_message_stays_rejected(team):
    raw = b"Message-ID: <bad@x>\n\nno sender"
    assert process(raw).outcome == InboundOutcome.REJECTED
    again = process(raw)
    assert again.duplicate and again.outcome == InboundOutcome.REJECTED


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_file_one_ticket(erika, team):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): SQLite's test database is not shared")
    raw = mail(message_id="<race@example.de>")
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def deliver(index):
        start.wait()
        try:
            outcomes[index] = inbound.inbound_mail_process(raw=raw, source=API)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(row, InboundMail) for row in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert sorted(row.duplicate for row in outcomes) == [False, True]
    assert InboundMail.objects.count() == 1 and Ticket.objects.count() == 1
    assert not default_storage.exists("mail/raw")  # nothing was kept: nothing was dropped


# --- Admin -----------------------------------------------------------------------------------


def test_the_admin_shows_incoming_mail_read_only(client, django_user_model, erika, team):
    row = process(mail(subject="Im Admin"))
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    listing = client.get(reverse("admin:mail_inboundmail_changelist"), {"outcome": "created"})
    assert listing.status_code == 200 and b"erika@example.de" in listing.content
    change = client.get(reverse("admin:mail_inboundmail_change", args=[row.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert client.get(reverse("admin:mail_inboundmail_add")).status_code == 403
    delete = client.post(reverse("admin:mail_inboundmail_delete", args=[row.pk]), {"post": "yes"})
    assert delete.status_code == 403 and InboundMail.objects.filter(pk=row.pk).exists()
