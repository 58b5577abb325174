"""Messages that came by e-mail in the workspace and the portal: quoted history folded,
text escaped, HTML shown only as sanitised again while rendering."""

import re

import pytest
from django.urls import reverse

from mail import inbound
from mail.choices import InboundSource
from tests.mail import inbound_fixtures
from tests.mail.inbound_fixtures import eml, mail
from tests.tickets.conftest import area
from tickets import services as tickets
from tickets.choices import Channel

media = inbound_fixtures.media
mail_settings = inbound_fixtures.mail_settings

pytestmark = pytest.mark.usefixtures("media", "mail_settings")

REPLY = (
    "Danke, <b>jetzt</b> geht es wieder.\n\nGruß\nErika\n\n"
    "Am Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Kundenservice <support@helpdesk.example>:\n"
    "> Bitte starten Sie den Router neu.\n"
)


def quoted_blocks(html: str) -> list[str]:
    pattern = r'<details class="msg-quote"><summary>[^<]+</summary>(.*?)</details>'
    return re.findall(pattern, html, re.DOTALL)


@pytest.fixture
def answered(ticket):
    """Erika answered by mail, quoting the team's mail below her text."""
    row = inbound.inbound_mail_process(
        raw=mail(subject=f"Re: [#{ticket.reference}] Rechnung", body=REPLY),
        source=InboundSource.API,
    )
    return row.ticket_message


def test_the_workspace_folds_the_quote_and_escapes_the_text(client, bob, answered):
    client.force_login(bob)
    page = client.get(answered.ticket.get_absolute_url()).content.decode()
    body = page.split(f'id="message-{answered.pk}"')[1].split("</article>")[0]
    assert "Danke, &lt;b&gt;jetzt&lt;/b&gt; geht es wieder.<br><br>Gruß<br>Erika" in body
    (quote,) = quoted_blocks(body)
    assert quote.startswith("Am Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Kundenservice")
    assert quote.endswith("&gt; Bitte starten Sie den Router neu.")


def test_the_portal_folds_the_quote_too(client, alice, answered):
    client.force_login(alice)
    url = reverse("portal_tickets:ticket-detail", args=[answered.ticket.reference])
    page = client.get(url).content.decode()
    body = page.split(f'id="message-{answered.pk}"')[1].split("</li>")[0]
    inner = body.split('<div class="msg-body">')[1]
    # The box is white-space: pre-wrap: line breaks stay characters, and no stray
    # whitespace surrounds the message.
    assert inner.startswith(
        "Danke, &lt;b&gt;jetzt&lt;/b&gt; geht es wieder.\n\nGruß\nErika<details"
    )
    (quote,) = quoted_blocks(body)
    assert quote.endswith(":\n&gt; Bitte starten Sie den Router neu.")
    assert "<br>" not in inner.split("</div>")[0]


def test_outlook_history_is_folded(client, bob, ticket):
    row = inbound.inbound_mail_process(
        raw=eml("outlook_reply.eml", reference=ticket.reference), source=InboundSource.API
    )
    client.force_login(bob)
    page = client.get(ticket.get_absolute_url()).content.decode()
    body = page.split(f'id="message-{row.ticket_message.pk}"')[1].split("</article>")[0]
    (quote,) = quoted_blocks(body)
    assert quote.startswith("-----Ursprüngliche Nachricht-----<br>Von: Kundenservice")
    assert "Vielen Dank, die Gutschrift ist angekommen." in body.split("<details")[0]


def test_html_is_shown_sanitised_whoever_stored_it(client, bob, alice, erika, team):
    # Written past the parser on purpose: the page must not trust the column.
    ticket = tickets.ticket_create(
        customer=erika,
        subject="HTML",
        body="Text",
        body_html='<p onclick="x()">Hallo <b>Team</b></p><script>alert(1)</script>'
        '<img src="https://tracker.example/p.gif" alt="Logo">'
        "<blockquote>Alte Nachricht</blockquote>",
        channel=Channel.EMAIL,
        support_area=area("general"),
        actor=None,
    )
    for user, url in (
        (bob, ticket.get_absolute_url()),
        (alice, reverse("portal_tickets:ticket-detail", args=[ticket.reference])),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert '<div class="msg-html"><p>Hallo <b>Team</b></p><img alt="Logo">' in page
        assert "alert(1)" not in page and "tracker.example" not in page
        assert "onclick" not in page
        assert quoted_blocks(page) == ["<blockquote>Alte Nachricht</blockquote>"]


def test_a_plain_message_renders_as_before(client, bob, ticket):
    client.force_login(bob)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert (
        '<div class="wmsg-body">Hallo, mir wurde die Rechnung vom Oktober zweimal abgebucht.</div>'
        in page
    )
    assert "msg-quote" not in page
