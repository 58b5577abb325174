"""Attachment downloads: only for people who may see the ticket and the message.

bob works customer service (erika's `ticket` is there), carol billing, trent tech; max is
management. An internal note's file is for staff only.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def reply_file(ticket, bob):
    """A PDF the agent sent with a public reply."""
    message = services.ticket_reply(
        ticket=ticket,
        actor=bob,
        body="Die Gutschrift anbei.",
        attachments=[SimpleUploadedFile("Gutschrift Oktober.pdf", PDF)],
    )
    return message.attachments.get()


@pytest.fixture
def note_file(ticket, bob):
    """A log file on an internal note."""
    message = services.ticket_note_add(
        ticket=ticket,
        actor=bob,
        body="Protokoll der Abbuchung",
        attachments=[SimpleUploadedFile("abbuchung.log", "Lastschrift zurück".encode())],
    )
    return message.attachments.get()


def download(client, user, attachment):
    if user is not None:
        client.force_login(user)
    return client.get(attachment.get_absolute_url())


def test_the_customer_downloads_a_file_of_her_request(client, alice, reply_file):
    response = download(client, alice, reply_file)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Type"] == reply_file.content_type
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Gutschrift" in disposition
    assert b"".join(response.streaming_content) == PDF


def test_a_text_file_keeps_its_stored_type(client, bob, note_file):
    response = download(client, bob, note_file)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_agent_of_the_tickets_department_may_download(client, bob, reply_file):
    assert download(client, bob, reply_file).status_code == 200


def test_management_may_download_every_file(client, max_, reply_file, note_file):
    assert download(client, max_, reply_file).status_code == 200
    client.logout()
    assert download(client, max_, note_file).status_code == 200


def test_an_agent_of_another_department_gets_404(client, carol, trent, reply_file, note_file):
    for user in (carol, trent):
        for attachment in (reply_file, note_file):
            client.logout()
            assert download(client, user, attachment).status_code == 404


def test_another_customer_gets_404(client, mallory, malte, reply_file):
    assert download(client, mallory, reply_file).status_code == 404


def test_anonymous_gets_nothing(client, reply_file):
    response = download(client, None, reply_file)
    assert response.status_code in (302, 404)
    assert b"PDF" not in response.content


def test_the_customer_never_gets_an_internal_notes_file(client, alice, note_file, reply_file):
    assert download(client, alice, note_file).status_code == 404
    client.logout()
    assert download(client, alice, reply_file).status_code == 200


def test_an_unknown_token_is_404(client, alice, bob):
    path = reverse("attachment-download", args=["0" * 32])
    for user in (alice, bob):
        client.force_login(user)
        assert client.get(path).status_code == 404


def test_files_are_stored_under_a_random_name(reply_file, media):
    stored = [path for path in media.rglob("*") if path.is_file()]
    assert len(stored) == 1
    assert "Gutschrift" not in str(stored[0])
    assert stored[0].name == reply_file.token
