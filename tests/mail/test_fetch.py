"""Reading the mailbox: a real Maildir and a stand-in IMAP server. A message leaves the
mailbox only once filed; one that fails, or is too large to read, goes to the error folder;
a database outage leaves everything in place. The command, the beat task and the setting."""

import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from mail import inbound, tasks
from mail.choices import InboundOutcome, InboundSource
from mail.inbound import MailSource
from mail.models import InboundMail
from tests.mail import inbound_fixtures
from tests.mail.inbound_fixtures import PDF, eml, mail
from tickets.models import Ticket

media = inbound_fixtures.media
mail_settings = inbound_fixtures.mail_settings

pytestmark = pytest.mark.usefixtures("media", "mail_settings")

ROOT = Path(__file__).resolve().parents[2]
FAILING_ID = "<fails@example.de>"


@pytest.fixture
def small_limit(settings):
    """Anything over 20 KB is "too large" here, so the test needs no 30 MB files."""
    settings.MAIL_INBOUND_MAX_BYTES = 20 * 1024
    return settings.MAIL_INBOUND_MAX_BYTES


@pytest.fixture
def messages(ticket):
    """One of each: a new request, an auto-reply, one that breaks, one too large."""
    return {
        "new": mail(subject="Neue Frage", message_id="<new@example.de>"),
        "auto": eml("auto_reply.eml", reference=ticket.reference),
        "fails": mail(subject="Kaputt", message_id=FAILING_ID),
        "large": mail(
            message_id="<large@example.de>",
            attachments=(("scan.pdf", "application/pdf", PDF + bytes(50_000)),),
        ),
    }


@pytest.fixture
def breaks_on_one(monkeypatch):
    """Filing fails hard (a bug, say) for the message with FAILING_ID only."""
    real = inbound.inbound_mail_process

    def process(*, raw, **kwargs):
        if FAILING_ID.encode() in raw:
            raise RuntimeError("boom")
        return real(raw=raw, **kwargs)

    monkeypatch.setattr(inbound, "inbound_mail_process", process)


def maildir(tmp_path, *raws: bytes) -> mailbox.Maildir:
    """A real Maildir (new/, cur/, tmp/) with the messages delivered into it."""
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in raws:
        box.add(raw)
    box.url = f"maildir://{tmp_path / 'Maildir'}"
    return box


def url_of(box: mailbox.Maildir) -> str:
    return box.url


def contents(box: mailbox.Maildir) -> set[bytes]:
    return {box.get_bytes(key) for key in box.iterkeys()}


def stored(raw: bytes) -> bytes:
    """How `mailbox` hands a message back: with LF line ends, whatever is on disk."""
    return raw.replace(b"\r\n", b"\n")


# --- Maildir ----------------------------------------------------------------------------------


def test_a_maildir_run_files_moves_and_reports(
    tmp_path, messages, small_limit, breaks_on_one, capsys
):
    box = maildir(tmp_path, *messages.values())
    call_command("mail_fetch", url=url_of(box))

    out = capsys.readouterr().out
    assert out.startswith("4 messages: 0 attached, 1 created, 1 ignored, 1 rejected")
    assert "1 failed" in out
    assert contents(box) == set()  # the inbox is empty …
    errors = box.get_folder("Error")
    # … and what could not be filed is kept whole in the error folder.
    assert contents(errors) == {stored(messages["fails"]), stored(messages["large"])}
    rows = dict(InboundMail.objects.values_list("message_id", "outcome"))
    assert rows == {
        "<new@example.de>": InboundOutcome.CREATED,
        "<auto-reply-1@example.com>": InboundOutcome.IGNORED,
        "<large@example.de>": InboundOutcome.REJECTED,
    }
    large = InboundMail.objects.get(message_id="<large@example.de>")
    assert large.raw_path == "" and large.size == len(messages["large"])
    assert Ticket.objects.filter(subject="Neue Frage", channel="email").count() == 1
    assert InboundMail.objects.get(message_id="<new@example.de>").source == InboundSource.MAILDIR


def test_a_second_run_finds_nothing_and_a_redelivery_is_a_duplicate(tmp_path, erika, team):
    raw = mail(message_id="<once@example.de>")
    box = maildir(tmp_path, raw)
    assert inbound.inbound_mail_fetch(url=url_of(box))["created"] == 1
    assert sum(inbound.inbound_mail_fetch(url=url_of(box)).values()) == 0
    box.add(raw)  # the MTA delivered it once more
    counts = inbound.inbound_mail_fetch(url=url_of(box))
    assert counts["duplicate"] == 1 and contents(box) == set()
    assert Ticket.objects.count() == 1


def test_a_database_outage_stops_the_run_and_keeps_every_message(tmp_path, team, monkeypatch):
    def away(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(inbound, "inbound_mail_process", away)
    box = maildir(tmp_path, mail(), mail())
    with pytest.raises(OperationalError):
        inbound.inbound_mail_fetch(url=url_of(box))
    assert len(contents(box)) == 2 and "Error" not in box.list_folders()


def test_the_limit_takes_the_oldest_first(tmp_path, erika, team):
    box = maildir(tmp_path, *(mail(subject=f"Nr. {n}") for n in range(3)))
    assert inbound.inbound_mail_fetch(url=url_of(box), limit=2)["created"] == 2
    assert len(contents(box)) == 1


# --- IMAP (a stand-in server) ------------------------------------------------------------------


class FakeImap:
    """What `mail.inbound` asks of imaplib.IMAP4, answering as a server does."""

    def __init__(self, messages: list[bytes], *, copy_works: bool = True):
        self.folders: dict[str, dict[int, bytes]] = {
            "INBOX": {uid: raw for uid, raw in enumerate(messages, start=1)}
        }
        self.deleted: set[int] = set()
        self.copy_works = copy_works
        self.fetched: list[tuple[int, str]] = []
        self.selected = ""
        self.logged_out = False

    @staticmethod
    def _name(quoted: str) -> str:
        return quoted.strip('"')

    def select(self, mailbox):
        if self._name(mailbox) not in self.folders:
            return "NO", [b"Mailbox does not exist"]
        self.selected = self._name(mailbox)
        return "OK", [str(len(self.folders[self.selected])).encode()]

    def uid(self, command, *args):
        box = self.folders[self.selected]
        if command == "SEARCH":
            assert args == ("UNDELETED",)
            uids = [str(uid).encode() for uid in sorted(box) if uid not in self.deleted]
            return "OK", [b" ".join(uids)]
        uid = int(args[0])
        if uid not in box:
            return "OK", [None]
        raw = box[uid]
        if command == "FETCH":
            self.fetched.append((uid, args[1]))
            if args[1] == "(RFC822.SIZE)":
                return "OK", [f"{uid} (UID {uid} RFC822.SIZE {len(raw)})".encode()]
            part = raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n" if "HEADER" in args[1] else raw
            return "OK", [(f"{uid} (UID {uid} BODY[] {{{len(part)}}}".encode(), part), b")"]
        if command == "STORE":
            assert args[1:] == ("+FLAGS", "(\\Deleted)")
            self.deleted.add(uid)
            return "OK", [b""]
        if command == "COPY":
            target = self._name(args[1])
            if not self.copy_works or target not in self.folders:
                return "NO", [b"[TRYCREATE] Mailbox doesn't exist"]
            self.folders[target][len(self.folders[target]) + 1] = raw
            return "OK", [b""]
        raise AssertionError(command)

    def create(self, mailbox):
        self.folders.setdefault(self._name(mailbox), {})
        return "OK", [b""]

    def expunge(self):
        box = self.folders[self.selected]
        for uid in sorted(self.deleted):
            box.pop(uid, None)
        self.deleted.clear()
        return "OK", [b""]

    def close(self):
        return "OK", [b""]

    def logout(self):
        self.logged_out = True
        return "BYE", [b""]


IMAP_URL = "imaps://helpdesk%40example.net:s3cr%3At@imap.example.net/INBOX"


def connect_to(server: FakeImap, monkeypatch) -> list[MailSource]:
    seen: list[MailSource] = []

    def connect(source):
        seen.append(source)
        return server

    monkeypatch.setattr(inbound, "_imap_connect", connect)
    return seen


def test_an_imap_run_files_deletes_and_moves(messages, small_limit, breaks_on_one, monkeypatch):
    server = FakeImap(list(messages.values()))
    seen = connect_to(server, monkeypatch)
    counts = inbound.inbound_mail_fetch(url=IMAP_URL)

    assert counts == {
        "attached": 0,
        "created": 1,
        "ignored": 1,
        "rejected": 1,
        "duplicate": 0,
        "failed": 1,
    }
    assert seen[0].username == "helpdesk@example.net" and seen[0].password == "s3cr:t"
    assert server.folders["INBOX"] == {}  # filed ones deleted and expunged
    assert set(server.folders["Error"].values()) == {messages["fails"], messages["large"]}
    assert (4, "(BODY.PEEK[HEADER])") in server.fetched  # the large one was not read whole
    assert server.logged_out
    assert InboundMail.objects.get(message_id="<new@example.de>").source == InboundSource.IMAP


def test_an_imap_message_that_cannot_be_moved_stays_where_it_is(
    messages, breaks_on_one, monkeypatch
):
    server = FakeImap([messages["fails"], messages["new"]], copy_works=False)
    connect_to(server, monkeypatch)
    counts = inbound.inbound_mail_fetch(url=IMAP_URL)
    assert counts["failed"] == 1 and counts["created"] == 1
    assert list(server.folders["INBOX"].values()) == [messages["fails"]]


def test_a_missing_imap_folder_is_a_clear_error(monkeypatch, team):
    connect_to(FakeImap([]), monkeypatch)
    with pytest.raises(CommandError, match="no folder 'Archiv'"):
        call_command("mail_fetch", url="imaps://u:p@imap.example.net/Archiv")


# --- Configuration, command and task ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("maildir:///var/mail/helpdesk", MailSource(kind="maildir", path="/var/mail/helpdesk")),
        (
            "imaps://u%40x.de:p%2Fw@imap.x.de/Kunden%20Post",
            MailSource(
                kind="imap",
                host="imap.x.de",
                port=993,
                username="u@x.de",
                password="p/w",
                folder="Kunden Post",
                security="ssl",
            ),
        ),
        (
            "imap://u:p@localhost:1143?starttls=false",
            MailSource(
                kind="imap",
                host="localhost",
                port=1143,
                username="u",
                password="p",
                security="none",
            ),
        ),
        (
            "imap://u:p@mail.x.de",
            MailSource(
                kind="imap",
                host="mail.x.de",
                port=143,
                username="u",
                password="p",
                security="starttls",
            ),
        ),
    ],
)
def test_mailbox_urls(url, expected):
    assert inbound.mail_source(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pop3://u:p@x", "must start with imaps://"),
        ("maildir://relative/path", "absolute path"),
        ("imaps://imap.x.de/INBOX", "user and a host"),
    ],
)
def test_bad_mailbox_urls_stop_the_command(url, message, db):
    with pytest.raises(CommandError, match=message):
        call_command("mail_fetch", url=url)


def test_the_command_needs_a_mailbox_and_an_existing_maildir(settings, tmp_path, db):
    settings.MAIL_INBOUND_URL = ""
    with pytest.raises(CommandError, match="No mailbox"):
        call_command("mail_fetch")
    with pytest.raises(CommandError, match="Maildir"):
        call_command("mail_fetch", url=f"maildir://{tmp_path}/missing")
    with pytest.raises(CommandError, match="--limit"):
        call_command("mail_fetch", url=f"maildir://{tmp_path}", limit=0)


def test_the_task_reads_the_configured_mailbox_and_may_run_twice(settings, tmp_path, erika, team):
    box = maildir(tmp_path, mail(message_id="<task@example.de>"))
    settings.MAIL_INBOUND_URL = url_of(box)
    assert tasks.inbound_mail_fetch_task.delay().get()["created"] == 1
    assert sum(tasks.inbound_mail_fetch_task.delay().get().values()) == 0
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1


def test_the_task_does_nothing_without_a_mailbox(settings, db):
    settings.MAIL_INBOUND_URL = ""
    assert tasks.inbound_mail_fetch_task.delay().get() == {}


def _settings_with(**environ: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--verbosity=0",
            "-c",
            "from django.conf import settings as s; "
            "print(s.CELERY_BEAT_SCHEDULE.get('mail-fetch'))",
        ],
        cwd=ROOT,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_beat_reads_the_mailbox_only_when_one_is_configured():
    assert _settings_with(MAIL_INBOUND_URL="").stdout.strip() == "None"
    configured = _settings_with(
        MAIL_INBOUND_URL="maildir:///srv/mail", MAIL_INBOUND_FETCH_SECONDS="30"
    )
    assert "'task': 'mail.tasks.inbound_mail_fetch_task'" in configured.stdout
    assert "'schedule': 30.0" in configured.stdout
    refused = _settings_with(MAIL_INBOUND_URL="pop3://x")
    assert refused.returncode == 1
    assert "MAIL_INBOUND_URL must start with imaps://" in refused.stderr
    assert "Traceback" not in refused.stderr
