"""Inbound mail for tests: real .eml files from tests/mail/messages/ and messages built
with the stdlib, as a customer's mail program would send them."""

from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest

MESSAGES = Path(__file__).resolve().parent / "messages"

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a0e5a7d60000000049454e44ae426082"
)
EXE = b"MZ\x90\x00" + bytes(300)
SUPPORT = "support@helpdesk.example"


def eml(name: str, **values: str) -> bytes:
    """A stored message; `{reference}` and the like are filled in."""
    raw = (MESSAGES / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"{{{key}}}".encode(), value.encode())
    return raw


def mail(
    *,
    subject: str = "Störung am Anschluss",
    sender: str = "Erika Musterfrau <erika@example.de>",
    to: str = SUPPORT,
    cc: str = "",
    body: str = "Guten Tag,\n\nseit heute früh geht das Internet nicht.\n\nGrüße\nErika",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    headers: dict[str, str] | None = None,
    cte: str = "quoted-printable",
) -> bytes:
    """A message as a mail program writes it (RFC 2047 subject, QP text, base64 files)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id or make_msgid(domain="example.de")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, cte=cte)
    if html:
        message.add_alternative(html, subtype="html", cte="base64")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


@pytest.fixture
def media(settings, tmp_path):
    """Attachments and kept raw messages land in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def mail_settings(settings):
    settings.DEFAULT_FROM_EMAIL = "Kundenservice <helpdesk@helpdesk.example>"
    settings.MAIL_INBOUND_ADDRESSES = [SUPPORT]
    return settings
