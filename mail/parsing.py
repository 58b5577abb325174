"""Reading inbound e-mail: raw RFC 822 bytes in, a `ParsedMail` out. No database, no settings.

Mail from the outside is often broken (a missing closing boundary, bad base64, unencoded
umlauts in headers, an unknown charset): parsing never raises on it. It reads what can be
read and lists the damage in `defects`; whoever files the mail decides what that means.

HTML is sanitised here with nh3 (ammonia): no scripts, styles, event handlers, forms or
frames; no images from anywhere (a remote image is a tracking pixel, a `cid:` image is an
attachment); links only to http(s), mailto and tel, opened with rel=noopener noreferrer.
The same sanitiser runs again when a message is shown (`html_segments`), so what reaches
a browser is clean whoever wrote the column.

Quoted history is recognised in `text_segments` and `html_segments` for the views, which
fold it into a "show quoted text" element.
"""

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from pathlib import PurePosixPath, PureWindowsPath

import nh3

# When a message is too large to be read whole, this much of its start holds the headers.
HEAD_BYTES = 64 * 1024
# Beyond these, a message is built to hurt a parser, not to say something.
MAX_PARTS = 100
MAX_DEPTH = 10
# Many thread references are junk; the newest ones are the ones that point at us.
MAX_THREAD_IDS = 50
MESSAGE_ID_MAX_LENGTH = 255  # InboundMail.message_id

_ID = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")

# Damage that can cost text or files; other defects (an odd header) change nothing we keep.
BODY_DEFECTS = frozenset(
    {
        "StartBoundaryNotFoundDefect",
        "CloseBoundaryNotFoundDefect",
        "FirstHeaderLineIsContinuationDefect",
        "MissingHeaderBodySeparatorDefect",
        "MultipartInvariantViolationDefect",
        "NoBoundaryInMultipartDefect",
        "InvalidBase64PaddingDefect",
        "InvalidBase64CharactersDefect",
        "InvalidBase64LengthDefect",
        "InvalidMultipartContentTransferEncodingDefect",
        "TooManyParts",
        "TooDeeplyNested",
    }
)

# Subjects auto-responders use where they set no Auto-Submitted header (older Exchange,
# some hosting control panels). Only at the very start and with the colon, so a customer
# writing about "automatic replies" is not caught.
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto-reply|autoreply|auto response|out of office|"
    r"automatische antwort|abwesenheitsnotiz|abwesend|"
    r"odpowied[zź] automatyczna|automatyczna odpowied[zź]|"
    r"undeliverable|undelivered mail returned to sender|unzustellbar|"
    r"delivery status notification|mail delivery failed|"
    r"returned mail|niedostarczona)\s*:",
    re.IGNORECASE,
)
BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool  # shown inside the text (a pasted screenshot, a logo), not attached


@dataclass
class ParsedMail:
    """What an inbound message says, decoded; `complete` is False when only the headers
    were read (a message over the size limit)."""

    message_id: str  # with angle brackets
    message_id_synthesized: bool
    sha256: str
    size: int
    subject: str = ""
    from_name: str = ""
    from_address: str = ""  # lower-case; "" when no address could be read
    recipient_count: int = 0
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""  # sanitised
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Why this looks like a machine's mail (auto-reply, bounce, list): "" for a person's.
    auto_reason: str = ""
    x_loop: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    complete: bool = True

    @property
    def damaged(self) -> bool:
        """Text or files may be missing: the parser had to guess at the structure."""
        return any(defect in BODY_DEFECTS for defect in self.defects)

    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, the most telling first: In-Reply-To, then
        References from the newest back."""
        ordered = [*self.in_reply_to, *reversed(self.references)]
        return list(dict.fromkeys(ordered))[:MAX_THREAD_IDS]


# --- Entry point ----------------------------------------------------------------------


def mail_parse(raw: bytes, *, headers_only: bool = False, size: int | None = None) -> ParsedMail:
    """Parse a raw message; never raises on bad input.

    `headers_only` reads just the header block (of a message too large to read whole);
    `size` is then the message's real size, `raw` its beginning.
    """
    sha256 = hashlib.sha256(raw).hexdigest()
    size = len(raw) if size is None else size
    # compat32, not policy.default: its structured headers re-parse Content-Type on every
    # question asked of a part, which was most of the time spent here; headers are
    # decoded below instead (RFC 2047, unencoded 8-bit text).
    try:
        if headers_only:
            message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:HEAD_BYTES])
        else:
            message = BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as error:  # the stdlib parser is lenient; this is the last resort
        return ParsedMail(
            message_id=_synthesized_id(sha256),
            message_id_synthesized=True,
            sha256=sha256,
            size=size,
            defects=[f"Unparseable: {type(error).__name__}"],
            complete=not headers_only,
        )
    headers = _Headers(message)
    message_id, synthesized = _message_id(headers, sha256)
    from_name, from_address = _sender(headers)
    parsed = ParsedMail(
        message_id=message_id,
        message_id_synthesized=synthesized,
        sha256=sha256,
        size=size,
        subject=_one_line(headers.first("Subject")),
        from_name=_one_line(from_name),
        from_address=from_address,
        recipient_count=_recipient_count(headers),
        in_reply_to=_ids(headers.first_raw("In-Reply-To"))[:MAX_THREAD_IDS],
        references=_ids(headers.first_raw("References"))[-MAX_THREAD_IDS:],
        x_loop=[_one_line(value) for value in headers.all("X-Loop")],
        defects=[type(defect).__name__ for defect in message.defects],
        complete=not headers_only,
    )
    parsed.auto_reason = _auto_reason(message, headers, parsed)
    if not headers_only:
        _read_body(message, parsed)
    return parsed


# --- Headers ----------------------------------------------------------------------------


def _unsurrogate(text: str) -> str:
    """Unencoded 8-bit header bytes arrive as surrogates: read them as UTF-8, else cp1252."""
    if not _has_surrogates(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


class _Headers:
    """A message's headers by lower-case name, raw (for addresses and ids) or decoded."""

    def __init__(self, message: Message) -> None:
        self.raw: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self.raw.setdefault(name.lower(), []).append(_unsurrogate(str(value)))

    def first_raw(self, name: str) -> str:
        values = self.raw.get(name.lower())
        return values[0] if values else ""

    def all(self, name: str) -> list[str]:
        return [_decode_raw_header(value) for value in self.raw.get(name.lower(), [])]

    def first(self, name: str) -> str:
        return _decode_raw_header(self.first_raw(name))


def _decode_raw_header(text: str) -> str:
    """RFC 2047 encoded words decoded; unencoded 8-bit text was decoded already."""
    if "=?" not in text:
        return _FOLD.sub(" ", text)
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # a broken encoded word: show it as it came
        return _FOLD.sub(" ", text)


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()


def _synthesized_id(sha256: str) -> str:
    # Stable for the same bytes, so a gateway delivering the very same message twice
    # is still recognised; `.invalid` can never be a real domain (RFC 2606).
    return f"<{sha256}@inbound.invalid>"


def _message_id(headers: _Headers, sha256: str) -> tuple[str, bool]:
    raw = headers.first_raw("Message-ID").strip()
    found = _ID.search(raw)
    if found:
        value = found.group(0)
    elif raw and "@" in raw and not _SPACES.search(raw):
        value = f"<{raw}>"  # some mailers drop the brackets
    else:
        return _synthesized_id(sha256), True
    value = _CONTROL.sub("", value)
    if len(value) > MESSAGE_ID_MAX_LENGTH:
        # Still stable per id, and still unique enough: a digest of the long id.
        return f"<{hashlib.sha256(value.encode()).hexdigest()}@long-id.invalid>", False
    return value, False


def _ids(raw: str) -> list[str]:
    return [value for value in _ID.findall(raw) if len(value) <= MESSAGE_ID_MAX_LENGTH]


def _valid_address(address: str) -> str:
    address = address.strip().strip("<>").lower()
    return address if _ADDRESS.fullmatch(address) and len(address) <= 254 else ""


def _sender(headers: _Headers) -> tuple[str, str]:
    # Split the raw header first: an encoded display name may hide a comma or brackets.
    raw = _FOLD.sub(" ", headers.first_raw("From"))
    name, address = parseaddr(raw)
    if not _valid_address(address):
        name, address = parseaddr(headers.first("From"))
    return _decode_raw_header(name), _valid_address(address)


def _recipient_count(headers: _Headers) -> int:
    fields = [_FOLD.sub(" ", value) for name in ("to", "cc") for value in headers.raw.get(name, [])]
    try:
        pairs = getaddresses(fields)
    except Exception:
        return 0
    return len({address.lower() for _name, address in pairs if "@" in address})


def _auto_reason(message: Message, headers: _Headers, parsed: ParsedMail) -> str:
    """Why this is a machine's mail that must never get a ticket or an answer (RFC 3834)."""
    auto_submitted = headers.first("Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if headers.first_raw(name):
            return f"{name} header"
    precedence = headers.first("Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    try:
        content_type = message.get_content_type()
    except Exception:
        content_type = ""
    if content_type == "multipart/report":
        return "Delivery or read report (multipart/report)"
    if headers.first_raw("Return-Path").strip() == "<>":
        return "Bounce (empty Return-Path)"
    if parsed.from_address.split("@")[0] in BOUNCE_SENDERS:
        return f"Sent by {parsed.from_address}"
    if headers.first_raw("X-OTRS-Loop") or headers.first_raw("RT-Loop-Prevention"):
        return "Loop header of another helpdesk"
    if AUTO_REPLY_SUBJECT.match(parsed.subject):
        return "Auto-reply subject"
    return ""


# --- Body: text, HTML and attachments -----------------------------------------------------


def _read_body(message: Message, parsed: ParsedMail) -> None:
    texts: list[str] = []
    htmls: list[str] = []
    budget = {"parts": 0}
    _walk(message, parsed, texts, htmls, depth=0, budget=budget)
    parsed.text = _text_clean("\n\n".join(text for text in texts if text.strip()))
    html = "".join(htmls)
    if html.strip():
        parsed.html = html_sanitise(html)
        if not parsed.text:
            parsed.text = _text_clean(html_to_text(parsed.html))


def _walk(part: Message, parsed: ParsedMail, texts, htmls, *, depth: int, budget: dict) -> None:
    if depth > MAX_DEPTH:
        parsed.defects.append("TooDeeplyNested")
        return
    budget["parts"] += 1
    if budget["parts"] > MAX_PARTS:
        if "TooManyParts" not in parsed.defects:
            parsed.defects.append("TooManyParts")
        return
    if depth:
        parsed.defects.extend(type(defect).__name__ for defect in part.defects)
    content_type = _content_type(part)
    if content_type in ("message/rfc822", "message/global"):
        _attach_forwarded(part, parsed)
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            _walk(sub, parsed, texts, htmls, depth=depth + 1, budget=budget)
        return
    disposition = _disposition(part)
    filename = _filename(part)
    if disposition != "attachment" and not filename and content_type in ("text/plain", "text/html"):
        text = _decode_text(_payload(part), _charset(part))
        (texts if content_type == "text/plain" else htmls).append(text)
        return
    content = _payload(part)
    if not content:
        return
    parsed.attachments.append(
        ParsedAttachment(
            filename=_attachment_name(filename, content_type, len(parsed.attachments) + 1),
            content_type=content_type,
            content=content,
            inline=disposition != "attachment",
        )
    )


def _attach_forwarded(part: Message, parsed: ParsedMail) -> None:
    """A forwarded message attached whole: kept as one .eml file, not mixed into the text."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    try:
        content = inner.as_bytes() if inner is not None else _payload(part)
    except Exception:
        content = _payload(part)
    if not content:
        return
    subject = _one_line(_Headers(inner).first("Subject")) if inner is not None else ""
    name = _filename(part) or f"{subject[:80] or 'message'}.eml"
    parsed.attachments.append(
        ParsedAttachment(
            filename=_attachment_name(name, "message/rfc822", len(parsed.attachments) + 1),
            content_type="message/rfc822",
            content=content,
            inline=False,
        )
    )


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        return ""
    if isinstance(name, tuple):  # an RFC 2231 value policy.default did not collapse
        name = name[2]
    name = _unsurrogate(str(name))
    if "=?" in name:  # RFC 2047 in a parameter: not allowed, but Outlook does it
        name = _decode_raw_header(name)
    return name


def _attachment_name(name: str, content_type: str, number: int) -> str:
    # Only the last path segment (either slash), no control characters, at most 200 long
    # with the extension kept: what the tickets app stores as the shown file name.
    name = PureWindowsPath(PurePosixPath(_one_line(name)).name).name.strip(". ")
    if not name:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{number}{extension}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 199 - len(extension)]}.{extension}" if dot else name[:200]
    return name


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _decode_text(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def _text_clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


# --- HTML -------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul",
}  # fmt: skip
# No `src` on images at all: a remote one tracks who read the mail and when, a `cid:` one
# is among the attachments anyway. The alt text stays, so the reader sees what was there.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"alt", "title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed with everything inside them (not just the tag).
CONTENT_REMOVED = {
    "script", "style", "title", "template", "iframe", "object", "embed", "svg", "math",
    "noscript", "textarea", "select", "button", "xml",
}  # fmt: skip
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=CONTENT_REMOVED,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "tel"},
    url_relative="deny",  # a relative link would point into the helpdesk itself
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)
_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL | re.IGNORECASE)


def html_sanitise(html: str) -> str:
    """Safe HTML to show inside our pages; whitespace collapsed outside <pre>, so it reads
    the same in a `white-space: pre-wrap` box as anywhere else."""
    clean = _CLEANER.clean(_CONTROL.sub("", html))
    pieces = _PRE.split(clean)
    return "".join(
        piece if index % 2 else _SPACES.sub(" ", piece) for index, piece in enumerate(pieces)
    ).strip()


_BLOCK_TAGS = {
    "p", "div", "table", "tr", "ul", "ol", "dl", "dd", "dt", "h1", "h2", "h3", "h4", "h5",
    "h6", "pre", "blockquote", "hr", "caption",
}  # fmt: skip


class _TextWriter(HTMLParser):
    """Sanitised HTML → plain text for `TicketMessage.body`: paragraphs, list items, links
    with their address, blockquotes as `> ` lines (so the folding in the views finds them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.buffer: list[str] = []
        self.depth = 0
        self.line_depth = 0
        self.pre = 0
        self.href: list[str | None] = []

    def _break(self) -> None:
        line = "".join(self.buffer).strip() if not self.pre else "".join(self.buffer)
        self.lines.append((self.line_depth, line))
        self.buffer = []
        self.line_depth = self.depth

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self._break()
        elif tag in _BLOCK_TAGS or tag == "li":
            if self.buffer:
                self._break()
            if tag == "blockquote":
                self.depth += 1
                self.line_depth = self.depth
            elif tag == "pre":
                self.pre += 1
            elif tag == "li":
                self.buffer.append("- ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.buffer.append(f"[{alt}]")
        elif tag in ("td", "th") and self.buffer:
            self.buffer.append("\t")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS or tag == "li":
            if self.buffer:
                self._break()
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
                self.line_depth = self.depth
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.href:
            href = self.href.pop()
            shown = "".join(self.buffer)
            if href and not href.startswith("mailto:") and href not in shown:
                self.buffer.append(f" <{href}>")

    def handle_data(self, data):
        if self.pre:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._break()
                self.buffer.append(part)
            return
        text = _SPACES.sub(" ", data)
        if not self.buffer or "".join(self.buffer).endswith((" ", "\t")):
            text = text.lstrip()
        self.buffer.append(text)

    def text(self) -> str:
        if self.buffer:
            self._break()
        out: list[str] = []
        for depth, line in self.lines:
            if not line.strip() and out and not out[-1].strip(">").strip():
                continue  # one blank line between blocks is enough
            out.append(("> " * depth + line).rstrip())
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """The text of (sanitised) HTML, for messages that came without a text part."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()


# --- Quoted history, for the views --------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|original-nachricht|"
    r"forwarded message|weitergeleitete nachricht|wiadomość oryginalna|"
    r"oryginalna wiadomość|wiadomość przekazana dalej)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_START = re.compile(r"^\s*\*?(from|von|od|de)\*?\s*:\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|cc|subject|gesendet|datum|an|betreff|wysłano|data|do|temat)\*?\s*:",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(
    r"^\s*(on|am|w dniu|le)\s.{3,300}?"
    r"(wrote|schrieb[^:]{0,200}|napisał\(a\)|napisał|napisała|a écrit)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTION_LOOSE = re.compile(r"^.{1,300}(wrote|schrieb[^:]{0,200}|napisał\(a\))\s*:\s*$")


def _is_history_start(lines: list[str], index: int) -> bool:
    """Outlook-style history: a separator line, or a From/Sent header block, to the end."""
    line = lines[index]
    if _SEPARATOR.match(line):
        return True
    if _HEADER_START.match(line):
        following = [text for text in lines[index + 1 : index + 5] if text.strip()]
        return sum(1 for text in following if _HEADER_NEXT.match(text)) >= 2
    return False


def _attribution_length(lines: list[str], index: int) -> int:
    """1 or 2 when an "On … wrote:" / "Am … schrieb …:" line (wrapped or not) starts here."""
    for length in (1, 2):
        chunk = " ".join(lines[index : index + length])
        if len(lines) >= index + length and _ATTRIBUTION.match(chunk):
            return length
    return 0


def _next_text(lines: list[str], index: int) -> str:
    for line in lines[index:]:
        if line.strip():
            return line
    return ""


def text_segments(text: str) -> list[tuple[str, bool]]:
    """The text as (piece, is_quoted) in order: `>` blocks with their attribution line,
    and Outlook-style history (separator or header block) to the end, are quoted.

    Inline answers between quotes stay visible. When everything would be folded, nothing
    is: a message must never look empty.
    """
    lines = (text or "").split("\n")
    marks = [False] * len(lines)
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_history_start(lines, index):
            for rest in range(index, len(lines)):
                marks[rest] = True
            break
        length = _attribution_length(lines, index)
        if not length and _ATTRIBUTION_LOOSE.match(line):
            length = 1 if _next_text(lines, index + 1).startswith(">") else 0
        if length:
            if _next_text(lines, index + length).startswith(">"):
                for offset in range(length):
                    marks[index + offset] = True
                index += length
                continue
            if _ATTRIBUTION.match(" ".join(lines[index : index + length])):
                for rest in range(index, len(lines)):  # unquoted history below it
                    marks[rest] = True
                break
        if line.startswith(">"):
            marks[index] = True
        index += 1
    # Blank lines between two quoted lines belong to the quote.
    for index, line in enumerate(lines):
        if not line.strip() and not marks[index]:
            before = next((marks[i] for i in range(index - 1, -1, -1) if lines[i].strip()), False)
            after = next((marks[i] for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            marks[index] = before and after is not False
    if not any(line.strip() for line, mark in zip(lines, marks, strict=True) if not mark):
        return [(text, False)] if text else []
    segments: list[tuple[str, bool]] = []
    for line, mark in zip(lines, marks, strict=True):
        if segments and segments[-1][1] == mark:
            segments[-1] = (segments[-1][0] + "\n" + line, mark)
        else:
            segments.append((line, mark))
    return [(piece.strip("\n"), mark) for piece, mark in segments if piece.strip()]


_BLOCKQUOTE = re.compile(r"<(/?)blockquote\b[^>]*>", re.IGNORECASE)
_HTML_HISTORY = re.compile(
    r"<hr>\s*(?:<[^>]+>\s*)*(?:from|von|od)\s*:"
    r"|-{2,}\s*(?:original message|ursprüngliche nachricht|original-nachricht|"
    r"wiadomość oryginalna|oryginalna wiadomość)\s*-{2,}",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<[^>]*>")


def html_segments(html: str) -> list[tuple[str, bool]]:
    """Sanitised HTML as (piece, is_quoted): each top-level <blockquote> is quoted, and so
    is Outlook-style history (a rule and a From: block, or an "Original Message" line) to
    the end. Each piece is sanitised again on its own, so cutting never leaves a tag open
    and nothing unsafe reaches the page whoever wrote the HTML."""
    html = html_sanitise(html or "")
    cuts: list[tuple[int, int]] = []
    depth = 0
    start = 0
    history = _HTML_HISTORY.search(html)
    limit = history.start() if history else len(html)
    for match in _BLOCKQUOTE.finditer(html, 0, limit):
        if match.group(1):
            depth -= 1
            if depth == 0:
                cuts.append((start, match.end()))
        else:
            if depth == 0:
                start = match.start()
            depth += 1
    if history:
        cuts.append((history.start(), len(html)))
    segments: list[tuple[str, bool]] = []
    position = 0
    for begin, end in cuts:
        segments.append((html[position:begin], False))
        segments.append((html[begin:end], True))
        position = end
    segments.append((html[position:], False))
    cleaned = [(html_sanitise(piece), quoted) for piece, quoted in segments]
    cleaned = [(piece, quoted) for piece, quoted in cleaned if piece.strip()]
    if not any(not quoted and _TAGS.sub("", piece).strip() for piece, quoted in cleaned):
        return [(html, False)] if html else []
    return cleaned
