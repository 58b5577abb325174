"""Reading raw mail: real MIME (multipart, base64, quoted-printable, RFC 2047 umlauts),
sanitised HTML, machine mail, damaged input, and the quoted history the views fold."""

import base64

import pytest

from mail import parsing
from tests.mail.inbound_fixtures import EXE, PDF, PNG, eml, mail

# --- A customer's mail --------------------------------------------------------------------


def test_a_multipart_mail_is_decoded_with_its_umlauts_and_files():
    parsed = parsing.mail_parse(eml("multipart_alternative.eml"))

    assert parsed.message_id == "<20261123091358.4711@mail.example.de>"
    assert not parsed.message_id_synthesized
    assert parsed.subject == "Störung am DSL-Anschluss \N{EN DASH} bitte um Rückruf"
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.from_address == "juergen.mueller@example.de"  # stored lower-case
    assert parsed.recipient_count == 1
    # The text part was ISO-8859-1 in quoted-printable, with a soft line break.
    assert "eine Störung am DSL-Anschluss. Die Lampe blinkt rot. Im Anhang" in parsed.text
    assert parsed.text.endswith("Mit freundlichen Grüßen\nJürgen Müller")
    # The HTML part was UTF-8 in base64.
    assert "<b>Störung</b>" in parsed.html
    names = [(a.filename, a.content_type, a.inline) for a in parsed.attachments]
    assert names == [
        ("Rechnung März.pdf", "application/pdf", False),
        ("router.png", "image/png", False),
        ("tool.exe", "application/octet-stream", False),
    ]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")
    assert parsed.attachments[1].content.startswith(b"\x89PNG")
    assert parsed.auto_reason == ""
    assert not parsed.damaged


def test_a_mail_built_by_a_mail_program_round_trips():
    raw = mail(
        subject="Rückfrage zu Ihrer Rechnung Nr. 4711 \N{EN DASH} Überweisung",
        sender='"Müller, Hans" <Hans.Mueller@Example.de>',
        cc="Büro <buero@example.de>, chef@example.de",
        body="Grüße aus Köln\n" * 3,
        html="<p>Grüße aus <i>Köln</i></p>",
        attachments=(("Überweisung.pdf", "application/pdf", PDF), ("b.png", "image/png", PNG)),
        cte="base64",
    )
    parsed = parsing.mail_parse(raw)
    assert parsed.subject == "Rückfrage zu Ihrer Rechnung Nr. 4711 \N{EN DASH} Überweisung"
    assert parsed.from_name == "Müller, Hans"
    assert parsed.from_address == "hans.mueller@example.de"
    assert parsed.recipient_count == 3
    assert parsed.text == ("Grüße aus Köln\n" * 3).strip()
    assert parsed.html == "<p>Grüße aus <i>Köln</i></p>"
    assert [a.filename for a in parsed.attachments] == ["Überweisung.pdf", "b.png"]
    assert parsed.attachments[0].content == PDF


def test_html_only_mail_is_sanitised_and_gets_a_text():
    parsed = parsing.mail_parse(eml("html_only_script.eml"))
    html = parsed.html
    forbidden = ["<script", "alert", "steal", "onload", "onclick", "style", "<iframe", "<form"]
    forbidden += ["<input", "tracker.example", "cid:", "javascript:", "<title"]
    for word in forbidden:
        assert word not in html, word
    assert '<img alt="Logo">' in html  # the image is blocked, its alt text stays
    assert (
        '<a href="https://example.de/abmelden?id=1" target="_blank" rel="noopener noreferrer">'
        in html
    )
    assert "\n" not in html  # whitespace collapsed: reads the same in a pre-wrap box
    # No text part: the text is derived from the sanitised HTML, the quote marked as such.
    assert parsed.text.startswith("Hallo, der Link zur Abmeldung führt ins Leere.")
    assert "Abmelden <https://example.de/abmelden?id=1>" in parsed.text
    assert "> Alte Nachricht" in parsed.text
    assert "alert" not in parsed.text and "document.cookie" not in parsed.text


def test_relative_links_and_data_images_do_not_survive():
    html = parsing.html_sanitise(
        '<a href="/agent/tickets/">x</a><img src="data:image/png;base64,AAAA" alt="a">'
        '<a href="vbscript:x">y</a><a href="mailto:erika@example.de">z</a>'
    )
    assert "/agent/" not in html and "data:" not in html and "vbscript" not in html
    assert 'href="mailto:erika@example.de"' in html


def test_a_forwarded_mail_is_one_attachment_not_part_of_the_text():
    inner = mail(subject="Originalrechnung", body="Innerer Text")
    outer = mail(body="Siehe unten.")
    from email import message_from_bytes, policy

    message = message_from_bytes(outer, policy=policy.SMTP)
    message.add_attachment(message_from_bytes(inner, policy=policy.SMTP))
    parsed = parsing.mail_parse(message.as_bytes())
    assert parsed.text == "Siehe unten."
    (forwarded,) = parsed.attachments
    assert forwarded.filename == "Originalrechnung.eml"
    assert b"Innerer Text" in forwarded.content


def test_file_names_lose_their_paths_and_control_characters():
    raw = mail(attachments=(("..\\..\\windows\\evil.pdf", "application/pdf", PDF),))
    raw = raw.replace(b"evil.pdf", b"ev\x01il.pdf")
    (attachment,) = parsing.mail_parse(raw).attachments
    assert attachment.filename == "evil.pdf"


def test_a_nameless_inline_image_gets_a_name_and_counts_as_inline():
    raw = mail(html='<p>Screenshot:</p><img src="cid:shot@example.de">')
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.SMTP)
    html_part = message.get_body(("html",))
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<shot@example.de>")
    (image,) = parsing.mail_parse(message.as_bytes()).attachments
    assert image.inline and image.filename == "attachment-1.png" and image.content == PNG


# --- Threading and identity -------------------------------------------------------------


def test_thread_ids_put_in_reply_to_first_then_references_newest_first():
    raw = mail(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>")
    raw = raw.replace(b"<b@x> <c@x>", b"<b@x>\r\n <c@x>")  # folded, as mailers do
    parsed = parsing.mail_parse(raw)
    assert parsed.thread_ids() == ["<c@x>", "<b@x>", "<a@x>"]


def test_a_missing_message_id_is_made_up_from_the_bytes():
    raw = mail().replace(b"Message-ID:", b"X-Old-Message-ID:")
    first, again = parsing.mail_parse(raw), parsing.mail_parse(raw)
    other = parsing.mail_parse(raw.replace(b"Erika", b"Erica"))
    assert first.message_id_synthesized
    assert first.message_id == again.message_id == f"<{first.sha256}@inbound.invalid>"
    assert other.message_id != first.message_id


def test_a_message_id_without_brackets_or_too_long_is_normalised():
    assert parsing.mail_parse(mail(message_id="abc@example.de")).message_id == "<abc@example.de>"
    long_id = "<" + "x" * 300 + "@example.de>"
    parsed = parsing.mail_parse(mail(message_id=long_id))
    assert len(parsed.message_id) < 255 and parsed.message_id.endswith("@long-id.invalid>")
    assert parsed.message_id == parsing.mail_parse(mail(message_id=long_id)).message_id


def test_recipients_are_counted_over_to_and_cc():
    to = ", ".join(f"kunde{n}@example.de" for n in range(300))
    cc = ", ".join(f"kunde{n}@example.com" for n in range(200))
    assert parsing.mail_parse(mail(to=to, cc=cc)).recipient_count == 500


def test_headers_only_reads_the_start_of_a_huge_message():
    raw = mail(attachments=(("big.pdf", "application/pdf", PDF + bytes(100_000)),))
    parsed = parsing.mail_parse(raw[: parsing.HEAD_BYTES], headers_only=True, size=30_000_000)
    assert parsed.size == 30_000_000 and not parsed.complete
    assert parsed.from_address == "erika@example.de" and parsed.subject
    assert parsed.text == "" and parsed.attachments == []


# --- Machine mail -----------------------------------------------------------------------


def test_an_auto_reply_is_recognised():
    parsed = parsing.mail_parse(eml("auto_reply.eml", reference="2026-000001"))
    assert parsed.auto_reason == "Auto-Submitted: auto-replied"
    assert parsed.subject == "Automatische Antwort: Ihre Anfrage [#2026-000001]"


def test_a_delivery_status_notification_is_recognised():
    parsed = parsing.mail_parse(eml("dsn_bounce.eml"))
    assert parsed.auto_reason
    assert parsed.from_address == "mailer-daemon@mx.example.com"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto-Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"X-Autoreply": "yes"}, "X-Autoreply header"),
        ({"X-Autorespond": "Out of office"}, "X-Autorespond header"),
        ({"Return-Path": "<>"}, "Bounce (empty Return-Path)"),
        ({"X-OTRS-Loop": "yes"}, "Loop header of another helpdesk"),
    ],
)
def test_machine_headers_are_recognised(headers, expected):
    assert parsing.mail_parse(mail(headers=headers)).auto_reason == expected


@pytest.mark.parametrize(
    "subject", ["Automatic reply: Ihre Anfrage", "Abwesenheitsnotiz: Urlaub", "Unzustellbar: x"]
)
def test_auto_reply_subjects_are_recognised(subject):
    assert parsing.mail_parse(mail(subject=subject)).auto_reason == "Auto-reply subject"


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({"Auto-Submitted": "no"}, "Störung"),
        ({"Precedence": "normal"}, "Störung"),
        ({}, "Frage zu automatischen Antworten: wie abschalten?"),
        ({}, "Re: Out of office settings in my mailbox"),
    ],
)
def test_a_persons_mail_is_not_taken_for_a_machines(headers, subject):
    assert parsing.mail_parse(mail(headers=headers, subject=subject)).auto_reason == ""


# --- Damaged input ------------------------------------------------------------------------


def test_damaged_mime_is_read_as_far_as_it_goes():
    parsed = parsing.mail_parse(eml("malformed.eml"))
    assert parsed.from_name == "Hans Müller"  # unencoded Latin-1 in the header
    assert parsed.from_address == "hans.mueller@example.de"
    assert parsed.subject == "Rückruf erbeten"
    assert "Meine Nummer: 0221 1234567. Grüße" in parsed.text
    assert parsed.damaged
    assert "CloseBoundaryNotFoundDefect" in parsed.defects
    assert [a.filename for a in parsed.attachments] == ["vertrag.pdf"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x00" * 50,
        b"not a mail at all\n\njust text",
        b"From: \nSubject: =?utf-8?B?!!!?=\nContent-Type: multipart/mixed\n\nno boundary",
        b"From: <@@@>\nTo: ,,,;;;\nMessage-ID: <>\n\nx",
        b"Content-Type: text/plain; charset=utf-1234\nFrom: a@b.de\n\n\xff\xfe\x00",
        b"Content-Type: multipart/mixed; boundary=a\n\n"
        + b"--a\nContent-Type: multipart/mixed; boundary=a\n\n" * 200,
    ],
)
def test_garbage_never_raises(raw):
    parsed = parsing.mail_parse(raw)
    assert parsed.message_id.startswith("<") and parsed.sha256
    assert "\x00" not in parsed.text


def test_an_unknown_charset_falls_back_to_utf8_then_cp1252():
    raw = b"From: a@b.de\nContent-Type: text/plain; charset=x-foo\n\nGr\xfc\xdfe"
    assert parsing.mail_parse(raw).text == "Grüße"
    raw = b"From: a@b.de\nContent-Type: text/plain; charset=x-foo\n\n" + "Grüße".encode()
    assert parsing.mail_parse(raw).text == "Grüße"


def test_too_many_parts_are_cut_off_and_called_damage():
    parts = "".join(f"--b\nContent-Type: text/plain\n\nTeil {n}\n" for n in range(300))
    parsed = parsing.mail_parse(
        f"From: a@b.de\nContent-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n".encode()
    )
    assert parsed.damaged and "Teil 0" in parsed.text and "Teil 299" not in parsed.text


def test_base64_with_bad_padding_still_yields_the_file():
    data = base64.b64encode(PDF).decode().rstrip("=")
    raw = (
        "From: a@b.de\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        "Content-Type: application/pdf; name=x.pdf\nContent-Transfer-Encoding: base64\n\n"
        f"{data}\n--b--\n"
    ).encode()
    (attachment,) = parsing.mail_parse(raw).attachments
    assert attachment.content.startswith(b"%PDF-1.4")


def test_exe_is_read_like_any_file_the_filing_decides():
    (attachment,) = parsing.mail_parse(
        mail(attachments=(("setup.exe", "application/x-msdownload", EXE),))
    ).attachments
    assert attachment.filename == "setup.exe" and attachment.content == EXE


# --- Quoted history -----------------------------------------------------------------------


def test_a_german_reply_folds_the_attribution_and_the_quote():
    text = (
        "Hallo,\n\ndas Problem besteht weiterhin.\n\nGruß\nHans\n\n"
        "Am Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Kundenservice <\nsupport@helpdesk.example>:\n"
        "> Guten Tag,\n>\n> bitte starten Sie den Router neu.\n"
    )
    assert parsing.text_segments(text) == [
        ("Hallo,\n\ndas Problem besteht weiterhin.\n\nGruß\nHans", False),
        (
            "Am Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Kundenservice <\n"
            "support@helpdesk.example>:\n> Guten Tag,\n>\n> bitte starten Sie den Router neu.",
            True,
        ),
    ]


def test_outlook_history_folds_from_the_separator_to_the_end():
    text = eml("outlook_reply.eml", reference="2026-000001")
    body = parsing.mail_parse(text).text
    segments = parsing.text_segments(body)
    assert segments[0] == (
        "Vielen Dank, die Gutschrift ist angekommen.\n\nViele Grüße\nErika Musterfrau",
        False,
    )
    assert segments[1][1] and segments[1][0].startswith("-----Ursprüngliche Nachricht-----")
    assert segments[1][0].endswith("gutgeschrieben.")
    assert len(segments) == 2


def test_an_outlook_header_block_without_separator_folds_too():
    text = "Danke!\n\nFrom: Support <s@x>\nSent: Monday\nTo: Erika\nSubject: Test\n\nOld text"
    assert parsing.text_segments(text) == [
        ("Danke!", False),
        ("From: Support <s@x>\nSent: Monday\nTo: Erika\nSubject: Test\n\nOld text", True),
    ]


def test_inline_answers_between_quotes_stay_visible():
    text = (
        "On Mon, Nov 23, 2026 at 10:00 AM Support <s@x> wrote:\n"
        "> Router?\nFritzBox 7590\n> Seit wann?\nSeit gestern"
    )
    assert parsing.text_segments(text) == [
        ("On Mon, Nov 23, 2026 at 10:00 AM Support <s@x> wrote:\n> Router?", True),
        ("FritzBox 7590", False),
        ("> Seit wann?", True),
        ("Seit gestern", False),
    ]


def test_a_message_that_is_all_quote_is_not_folded_away():
    assert parsing.text_segments("> nur ein Zitat\n> sonst nichts") == [
        ("> nur ein Zitat\n> sonst nichts", False)
    ]


def test_plain_text_is_one_visible_segment():
    assert parsing.text_segments("Hallo\n\nWelt") == [("Hallo\n\nWelt", False)]
    assert parsing.text_segments("") == []


def test_html_blockquotes_fold_and_each_piece_is_whole():
    html = (
        "<div><p>Neue Antwort</p><div>On Mon wrote:</div>"
        "<blockquote>Alt <blockquote>älter</blockquote> alt</blockquote></div><p>Gruß</p>"
    )
    segments = parsing.html_segments(html)
    assert segments == [
        ("<div><p>Neue Antwort</p><div>On Mon wrote:</div></div>", False),
        ("<blockquote>Alt <blockquote>älter</blockquote> alt</blockquote>", True),
        ("<p>Gruß</p>", False),
    ]


def test_html_outlook_history_folds_to_the_end():
    html = "<p>Danke</p><hr><p><b>Von:</b> Support<br><b>Gesendet:</b> Montag</p><p>Alt</p>"
    (visible, history) = parsing.html_segments(html)
    assert visible == ("<p>Danke</p>", False)
    assert history[1] and history[0].startswith("<hr>") and "Alt" in history[0]


def test_html_segments_sanitise_again_whatever_was_stored():
    (only,) = parsing.html_segments('<p onclick="x()">Hallo</p><script>alert(1)</script>')
    assert only == ("<p>Hallo</p>", False)
