"""The customer portal for requests: alice (erika's login) opens, follows, answers and
closes her own requests; mallory and staff never get in; internal notes never show.

Pages render in German; expected texts go through the same catalogue (`de`), so the
tests hold before and after the German translations are added.
"""

import html
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from helpdesk.choices import Role
from mail import services as mail_services
from tests.conftest import PASSWORD
from tests.tickets.conftest import area, queue
from tickets import services
from tickets.choices import Channel, MessageKind, Status
from tickets.models import Attachment, SupportArea, Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504E470D0A1A0A0000000D49484452000000010000000108060000001F15C489"
    "0000000D49444154789C6360000000000500010D0A2DB40000000049454E44AE426082"
)


def de(text: str) -> str:
    """`text` as the German page shows it: translated (once the catalogue has it), escaped."""
    with translation.override("de"):
        return html.escape(translation.gettext(text))


def page_of(response) -> str:
    return response.content.decode()


def url(name: str, ticket: Ticket | None = None) -> str:
    args = [ticket.reference] if ticket is not None else []
    return reverse(f"portal_tickets:{name}", args=args)


def pdf(name: str = "rechnung.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_in(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def counts(media) -> dict:
    return {
        "tickets": Ticket.objects.count(),
        "messages": TicketMessage.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": TicketEvent.objects.count(),
        "files": len(files_in(media)),
    }


@pytest.fixture
def alice_client(client, alice, erika):
    client.force_login(alice)
    return client


@pytest.fixture
def mallory_client(client, mallory, malte):
    client.force_login(mallory)
    return client


def _resolve(ticket: Ticket, agent: User, *, days_ago: int = 0) -> Ticket:
    services.ticket_reply(ticket=ticket, actor=agent, body="Erledigt.")
    ticket.refresh_from_db()
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=agent)
    if days_ago:
        Ticket.objects.filter(pk=ticket.pk).update(
            resolved_at=timezone.now() - timedelta(days=days_ago)
        )
    ticket.refresh_from_db()
    return ticket


# --- Who gets in ------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_portal_sign_in(client, ticket):
    for path in (url("ticket-list"), url("ticket-create"), url("ticket-detail", ticket)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/portal/login/?next={path}"
    for path in (url("ticket-reply", ticket), url("ticket-close", ticket)):
        assert client.post(path, {"body": "Hallo"})["Location"].startswith("/portal/login/")
    assert ticket.messages.count() == 1


def test_staff_get_403_on_portal_request_pages(client, ticket, bob, max_):
    for user in (bob, max_):
        client.force_login(user)
        for path in (
            reverse("portal-home"),
            url("ticket-list"),
            url("ticket-create"),
            url("ticket-detail", ticket),
            url("ticket-close", ticket),
        ):
            assert client.get(path).status_code == 403
        assert client.post(url("ticket-reply", ticket), {"body": "x"}).status_code == 403
        assert client.post(url("ticket-close", ticket)).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.messages.count() == 1


def test_mallory_gets_404_on_alices_request_and_changes_nothing(mallory_client, ticket, media):
    before = counts(media)
    for path in (url("ticket-detail", ticket), url("ticket-close", ticket)):
        response = mallory_client.get(path)
        assert response.status_code == 404
        assert ticket.subject not in page_of(response)
    response = mallory_client.post(
        url("ticket-reply", ticket), {"body": "Ich bin nicht Erika", "attachments": [pdf()]}
    )
    assert response.status_code == 404
    assert mallory_client.post(url("ticket-close", ticket)).status_code == 404
    assert counts(media) == before
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_an_unknown_reference_is_404_like_a_foreign_one(alice_client):
    assert alice_client.get("/portal/requests/1999-000001/").status_code == 404
    assert alice_client.get("/portal/requests/nonsense/").status_code == 404


def test_mallory_does_not_see_alices_requests_in_her_lists(mallory_client, ticket, malte_ticket):
    for path in (reverse("portal-home"), url("ticket-list")):
        page = page_of(mallory_client.get(path))
        assert malte_ticket.reference in page
        assert ticket.reference not in page


# --- Home and list ----------------------------------------------------------------------


def test_home_shows_open_requests_with_status_and_a_new_request_button(
    alice_client, ticket, tech_ticket, bob
):
    _resolve(tech_ticket, bob)
    page = page_of(alice_client.get(reverse("portal-home")))
    assert f'href="{url("ticket-create")}"' in page
    assert f'href="{url("ticket-detail", ticket)}"' in page
    assert html.escape(ticket.subject) in page
    assert de("Received") in page
    assert tech_ticket.reference not in page  # solved: under "solved and closed"
    assert f'href="{url("ticket-list")}?show=closed"' in page


def test_home_without_requests_says_so(alice_client):
    page = page_of(alice_client.get(reverse("portal-home")))
    assert 'data-testid="no-open-requests"' in page
    assert de("You have no open requests.") in page


def test_list_separates_open_from_solved_and_closed(alice_client, ticket, tech_ticket, bob):
    _resolve(tech_ticket, bob)
    open_page = page_of(alice_client.get(url("ticket-list")))
    done_page = page_of(alice_client.get(url("ticket-list") + "?show=closed"))
    assert ticket.reference in open_page and tech_ticket.reference not in open_page
    assert tech_ticket.reference in done_page and ticket.reference not in done_page
    assert de("Solved") in done_page


def test_list_shows_the_latest_reply_as_last_update(alice_client, ticket, bob):
    services.ticket_take(ticket=ticket, actor=bob)  # open: the reply changes no status
    earlier = timezone.now() - timedelta(hours=3)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=earlier, updated_at=earlier)
    ticket.refresh_from_db()
    reply = services.ticket_reply(ticket=ticket, actor=bob, body="Antwort")
    page = page_of(alice_client.get(url("ticket-list")))
    with translation.override("de"):
        shown = timezone.localtime(reply.created_at).strftime("%d.%m.%Y %H:%M")
        before = timezone.localtime(earlier).strftime("%d.%m.%Y %H:%M")
    assert shown in page
    assert before not in page


def _many_tickets(erika, alice, count: int) -> None:
    for number in range(count):
        services.ticket_create(
            customer=erika,
            subject=f"Anliegen {number}",
            body="Text",
            channel=Channel.PORTAL,
            support_area=area("general"),
            actor=alice,
        )


def test_list_pages_with_a_more_link(alice_client, erika, alice, team):
    _many_tickets(erika, alice, 25)
    first = alice_client.get(url("ticket-list"))
    assert first.context["page"].next_cursor
    assert page_of(first).count('data-testid="request-') == 20
    cursor = first.context["page"].next_cursor
    second = page_of(alice_client.get(url("ticket-list"), {"cursor": cursor}))
    assert second.count('data-testid="request-') == 5
    assert 'data-testid="more"' not in second
    garbage = alice_client.get(url("ticket-list"), {"cursor": "not-a-cursor"})
    assert garbage.status_code == 200


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/portal/", "/portal/requests/", "/portal/requests/?show=closed"])
def test_request_lists_need_the_same_queries_for_1_and_30_requests(
    alice_client, erika, alice, team, path, django_assert_num_queries
):
    _many_tickets(erika, alice, 1)
    one = _queries(alice_client, path)
    _many_tickets(erika, alice, 29)
    Ticket.objects.filter(subject__startswith="Anliegen 1").update(status=Status.CLOSED)
    with django_assert_num_queries(one):
        alice_client.get(path)
    # session, user, roles, customer (home), one page of requests; the home page also
    # checks for outages at the customer's address (their services, the outages).
    assert one <= (7 if path == "/portal/" else 5)


# --- New request ------------------------------------------------------------------------


def test_the_form_offers_only_active_portal_areas_and_states_the_file_rules(alice_client, settings):
    SupportArea.objects.filter(slug="payment-check").update(in_portal=False)
    SupportArea.objects.filter(slug="domain-transfer").update(is_active=False)
    page = page_of(alice_client.get(url("ticket-create")))
    assert area("no-internet").name in page
    assert area("payment-check").name not in page
    assert area("domain-transfer").name not in page
    assert 'accept=".csv,.docx,' in page and ".pdf" in page and ".exe" not in page
    assert 'enctype="multipart/form-data"' in page
    assert "pdf, png" in page
    assert f"{settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB" in page


def test_alice_opens_a_request_with_files_and_sees_its_reference(alice_client, erika, alice, media):
    response = alice_client.post(
        url("ticket-create"),
        {
            "support_area": area("no-internet").pk,
            "subject": "Kein Internet",
            "body": "Seit heute früh.\nDie Lampe blinkt.",
            "attachments": [pdf(), SimpleUploadedFile("lampe.png", PNG)],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("ticket-detail", ticket)
    assert ticket.customer == erika and ticket.channel == Channel.PORTAL
    assert ticket.queue == queue("tech", 1) and ticket.status == Status.NEW
    message = ticket.messages.get()
    assert message.kind == MessageKind.CUSTOMER and message.author == alice
    assert message.body == "Seit heute früh.\nDie Lampe blinkt."
    assert sorted(message.attachments.values_list("filename", flat=True)) == [
        "lampe.png",
        "rechnung.pdf",
    ]
    assert len(files_in(media)) == 2

    page = page_of(alice_client.get(response["Location"]))
    assert 'data-testid="request-received"' in page
    assert ticket.reference in page
    assert "lampe.png" in page
    again = page_of(alice_client.get(response["Location"]))
    assert 'data-testid="request-received"' not in again  # greeted once


def test_a_follow_up_link_prefills_topic_and_subject(alice_client, ticket):
    response = alice_client.get(url("ticket-create"), {"follow_up": ticket.reference})
    form = response.context["form"]
    assert form.initial["support_area"] == ticket.support_area_id
    assert ticket.reference in form.initial["subject"]


def test_a_follow_up_of_someone_elses_request_prefills_nothing(alice_client, malte_ticket):
    response = alice_client.get(url("ticket-create"), {"follow_up": malte_ticket.reference})
    assert response.context["form"].initial == {}
    assert malte_ticket.subject not in page_of(response)


GOOD = {"subject": "Frage", "body": "Ein Text."}


def _exe():
    return SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 100)


def _fake_pdf():
    return SimpleUploadedFile("rechnung.pdf", b"<html>not a pdf</html>")


def _big_pdf(settings):
    return SimpleUploadedFile("big.pdf", PDF + b"0" * settings.TICKET_ATTACHMENT_MAX_BYTES)


BAD_REQUESTS = {
    "empty subject": ({"subject": "  "}, "subject", "Give the request a subject."),
    "empty text": ({"body": ""}, "body", "Write a message first."),
    "1 MB of text": ({"body": "x" * 1_000_000}, "body", None),
    "unknown area": ({"support_area": 999999}, "support_area", None),
    "area not in the portal": ("payment-check", "support_area", None),
    "retired area": ("retired", "support_area", None),
    ".exe file": ({"attachments": _exe}, "attachments", None),
    "pdf that is not one": ({"attachments": _fake_pdf}, "attachments", None),
    "oversized file": ({"attachments": "big"}, "attachments", None),
    "too many files": ({"attachments": "many"}, "attachments", None),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_input_is_refused_with_a_clear_error_and_creates_nothing(
    alice_client, erika, media, settings, case
):
    change, field, message = BAD_REQUESTS[case]
    data = {**GOOD, "support_area": area("general").pk}
    if change == "payment-check":
        SupportArea.objects.filter(slug="payment-check").update(in_portal=False)
        data["support_area"] = area("payment-check").pk
    elif change == "retired":
        SupportArea.objects.filter(slug="general").update(is_active=False)
    else:
        data.update(change)
    if data.get("attachments") == "big":
        data["attachments"] = [_big_pdf(settings)]
    elif data.get("attachments") == "many":
        count = settings.TICKET_ATTACHMENTS_PER_MESSAGE + 1
        data["attachments"] = [pdf(f"{n}.pdf") for n in range(count)]
    elif callable(data.get("attachments")):
        data["attachments"] = [data["attachments"]()]
    before = counts(media)

    response = alice_client.post(url("ticket-create"), data)

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    page = page_of(response)
    assert 'class="field-error"' in page
    if message:
        assert de(message) in page
    assert counts(media) == before


def test_markup_in_subject_and_text_is_shown_escaped(alice_client, erika, media):
    alice_client.post(
        url("ticket-create"),
        {
            "support_area": area("general").pk,
            "subject": '<b>fett</b> & "zitiert"',
            "body": "<script>alert('x')</script>\nZweite Zeile",
        },
    )
    ticket = Ticket.objects.get()
    for path in (url("ticket-detail", ticket), reverse("portal-home"), url("ticket-list")):
        page = page_of(alice_client.get(path))
        assert "<b>fett</b>" not in page
        assert "&lt;b&gt;fett&lt;/b&gt; &amp; &quot;zitiert&quot;" in page
    page = page_of(alice_client.get(url("ticket-detail", ticket)))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;\nZweite Zeile" in page


def test_a_login_without_a_customer_record_cannot_open_requests(client, db):
    from tests.conftest import _person

    nobody = _person("nobody", Role.CUSTOMER, "No", "Body")
    client.force_login(nobody)
    assert client.get(url("ticket-create")).status_code == 404
    assert f'href="{url("ticket-create")}"' not in page_of(client.get(reverse("portal-home")))


# --- Request page -----------------------------------------------------------------------


def test_the_page_shows_public_messages_only_and_no_internal_details(
    alice_client, ticket, bob, media
):
    services.ticket_note_add(
        ticket=ticket,
        actor=bob,
        body="INTERN: Kundin ruft oft an",
        attachments=[SimpleUploadedFile("intern-notiz.txt", b"geheim")],
    )
    services.ticket_reply(
        ticket=ticket,
        actor=bob,
        body="Wir prüfen das.\nBis morgen.",
        attachments=[pdf("gutschrift.pdf")],
        status=Status.WAITING_CUSTOMER,
    )
    note_file = Attachment.objects.get(filename="intern-notiz.txt")
    reply_file = Attachment.objects.get(filename="gutschrift.pdf")

    page = page_of(alice_client.get(url("ticket-detail", ticket)))

    assert "Wir prüfen das.\nBis morgen." in page  # newlines kept
    assert ticket.messages.get(kind=MessageKind.CUSTOMER).body in page
    assert "INTERN" not in page
    assert "intern-notiz.txt" not in page and note_file.get_absolute_url() not in page
    assert f'href="{reply_file.get_absolute_url()}"' in page
    assert "Bob" in page and "Bauer" not in page  # first name only
    assert ticket.queue.department.name not in page  # no internal queue names
    assert de("Waiting for your answer") in page
    assert page.count('data-testid="message"') == 2


def test_the_request_page_needs_the_same_queries_for_1_and_30_messages(
    alice_client, ticket, bob, media, django_assert_num_queries
):
    path = url("ticket-detail", ticket)
    one = _queries(alice_client, path)
    for number in range(29):
        services.ticket_reply(
            ticket=ticket, actor=bob, body=f"Antwort {number}", attachments=[pdf(f"{number}.pdf")]
        )
        services.ticket_note_add(ticket=ticket, actor=bob, body=f"Notiz {number}")
    with django_assert_num_queries(one):
        response = alice_client.get(path)
    assert page_of(response).count('data-testid="message"') == 30
    assert one <= 7  # session, user, roles, ticket (with its outage), messages, attachments, visits


# --- Replies ----------------------------------------------------------------------------


def test_alice_answers_with_a_file_and_a_waiting_request_goes_back_to_work(
    alice_client, ticket, alice, bob, media
):
    services.ticket_reply(
        ticket=ticket, actor=bob, body="Welche Rechnung?", status=Status.WAITING_CUSTOMER
    )
    response = alice_client.post(
        url("ticket-reply", ticket), {"body": "Die vom Oktober.", "attachments": [pdf()]}
    )
    message = ticket.messages.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"{url('ticket-detail', ticket)}#message-{message.pk}"
    assert message.kind == MessageKind.CUSTOMER and message.channel == Channel.PORTAL
    assert message.author == alice and message.attachments.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    page = page_of(alice_client.get(response["Location"]))
    assert "Die vom Oktober." in page
    assert de("Thank you. Your message has been sent.") in page


@pytest.mark.parametrize(
    "data",
    [
        {"body": "   "},
        {"body": "x" * 1_000_000},
        {"body": "Mit Datei", "attachments": "exe"},
        {"body": "Mit Datei", "attachments": "fake"},
    ],
    ids=["empty", "1 MB", "exe", "fake pdf"],
)
def test_a_bad_answer_is_refused_and_keeps_the_page(alice_client, ticket, media, data):
    data = dict(data)
    if data.get("attachments") == "exe":
        data["attachments"] = [_exe()]
    elif data.get("attachments") == "fake":
        data["attachments"] = [_fake_pdf()]
    before = counts(media)
    response = alice_client.post(url("ticket-reply", ticket), data)
    assert response.status_code == 400
    page = page_of(response)
    assert 'class="field-error"' in page
    assert 'data-testid="reply-form"' in page and html.escape(ticket.subject) in page
    assert counts(media) == before


def test_answering_a_closed_request_is_refused_and_points_to_a_new_one(
    alice_client, ticket, alice, media
):
    services.ticket_close_by_customer(ticket=ticket, actor=alice)
    page = page_of(alice_client.get(url("ticket-detail", ticket)))
    assert 'data-testid="reply-form"' not in page
    assert 'data-testid="closed-note"' in page
    assert f"{url('ticket-create')}?follow_up={ticket.reference}" in page
    before = counts(media)
    response = alice_client.post(url("ticket-reply", ticket), {"body": "Noch was"})
    assert response.status_code == 302
    assert counts(media) == before
    after = page_of(alice_client.get(response["Location"]))
    assert 'data-testid="closed-note"' in after


def test_an_answer_reopens_a_request_solved_within_the_period(alice_client, ticket, bob, settings):
    _resolve(ticket, bob, days_ago=settings.TICKET_REOPEN_DAYS - 1)
    page = page_of(alice_client.get(url("ticket-detail", ticket)))
    assert 'data-testid="reopen-note"' in page and 'data-testid="reply-form"' in page
    response = alice_client.post(url("ticket-reply", ticket), {"body": "Geht doch nicht."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    assert de("Thank you. We have reopened your request.") in page_of(
        alice_client.get(response["Location"])
    )


def test_an_answer_after_the_period_is_refused(alice_client, ticket, bob, settings, media):
    _resolve(ticket, bob, days_ago=settings.TICKET_REOPEN_DAYS + 1)
    page = page_of(alice_client.get(url("ticket-detail", ticket)))
    assert 'data-testid="reply-form"' not in page and 'data-testid="closed-note"' in page
    before = counts(media)
    response = alice_client.post(url("ticket-reply", ticket), {"body": "Geht doch nicht."})
    assert response.status_code == 302
    assert counts(media) == before
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


# --- Closing ----------------------------------------------------------------------------


def test_closing_asks_first_then_closes(alice_client, ticket, alice):
    confirm = alice_client.get(url("ticket-close", ticket))
    assert confirm.status_code == 200
    assert 'data-testid="close-form"' in page_of(confirm)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW

    response = alice_client.post(url("ticket-close", ticket))
    assert response.status_code == 302
    assert response["Location"] == url("ticket-detail", ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert ticket.events.filter(kind="ticket.status_changed", actor=alice).count() == 2
    page = page_of(alice_client.get(response["Location"]))
    assert de("Closed") in page
    assert 'data-testid="close-box"' not in page


def test_closing_twice_is_refused(alice_client, ticket, alice):
    alice_client.post(url("ticket-close", ticket))
    events = TicketEvent.objects.count()
    again = alice_client.post(url("ticket-close", ticket))
    assert again.status_code == 400
    with translation.override("de"):
        refusal = translation.gettext("This request is already closed.")
    assert html.escape(refusal) in page_of(again)
    assert 'data-testid="close-form"' not in page_of(again)
    assert TicketEvent.objects.count() == events


def test_the_reply_mail_links_to_the_request_page(ticket, bob, mailoutbox, settings):
    message = services.ticket_reply(ticket=ticket, actor=bob, body="Antwort")
    assert mail_services.outbound_mail_send(mail_id=message.outbound_mails.get().pk)
    assert f"{settings.SITE_URL}{url('ticket-detail', ticket)}" in mailoutbox[-1].body


def test_signing_in_from_the_mail_link_lands_on_the_request(client, ticket, alice, erika):
    path = url("ticket-detail", ticket)
    login = client.get(path)["Location"]
    response = client.post(login, {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == path
    assert html.escape(ticket.subject) in page_of(response)
