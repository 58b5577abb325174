"""Inbound mail throughput: messages filed per second by one worker, attachments stored.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/inbound_mail.py [--messages 2000] [--customers 5000]

Works in `bench_mail` (created next to the configured database, kept between runs, never
the real one), with attachments and kept raw mail in a temporary MEDIA_ROOT that is
removed afterwards. It builds N realistic messages first (not timed): new requests from
known customers with a text and an HTML part (umlauts in RFC 2047 headers), a fifth of
them with a 200 KB PDF, follow-ups of a sender to their own earlier mail (threaded by
In-Reply-To onto that ticket), auto-replies, redeliveries of a message already filed
and mail from unknown senders.
Then it files them one after the other through `mail.inbound.inbound_mail_process`, as
one Celery worker or one gateway process would, and prints messages per second, the
outcomes and the median and p95 per kind. Exits with status 1 under 50 messages/s.

Acknowledgement mails are written to the outbox as in production; handing their send
task to the broker is left out (a Redis round trip, not this code's cost).
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

BENCH_DB = "bench_mail"
TARGET_PER_SECOND = 50
SEED = 2026
ATTACHMENT_BYTES = 200 * 1024
MIX = [  # kind, share
    ("new", 0.45),
    ("new_with_pdf", 0.20),
    ("answer", 0.20),
    ("unknown_sender", 0.05),
    ("auto_reply", 0.05),
    ("redelivery", 0.05),
]
FIRST_NAMES = ["Jürgen", "Müller", "Björn", "Anna", "Özlem", "Grzegorz", "Łukasz", "Erika"]
SUBJECTS = [
    "Störung am DSL-Anschluss",
    "Rückfrage zur Rechnung vom Oktober",
    "Router startet ständig neu",
    "Domain-Umzug: Auth-Code benötigt",
    "Kündigung zum Monatsende",
    "E-Mail-Postfach voll \N{EN DASH} was tun?",
]


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def setup(media: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(settings.VAR_DIR / f"{BENCH_DB}.sqlite3")
    else:
        connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    real_name = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    if name == real_name or connection.settings_dict["NAME"] != name:
        raise SystemExit(f"Refusing to run: would write to {real_name!r}.")
    settings.DEBUG = False
    settings.MEDIA_ROOT = media
    settings.MAIL_INBOUND_ACK_LIMIT_PER_HOUR = 10**6  # many mails per sender here

    from helpdesk import services as helpdesk_services

    helpdesk_services.task_enqueue = lambda task, *args, **kwargs: True


def customers_ensure(total: int) -> list[str]:
    """Customers K2000001… with unique addresses; created once, kept between runs."""
    from customers.models import Customer

    have = set(Customer.objects.filter(number__startswith="K2").values_list("number", flat=True))
    Customer.objects.bulk_create(
        [
            Customer(
                number=f"K{2_000_001 + index}",
                first_name="Kundin",
                last_name=f"Nummer {index}",
                street="Heidestraße 17",
                postal_code="51147",
                city="Köln",
                email=f"kunde{index}@example.de",
                search_name=Customer.search_name_for("Kundin", f"Nummer {index}"),
            )
            for index in range(total)
            if f"K{2_000_001 + index}" not in have
        ],
        batch_size=5000,
    )
    return [f"kunde{index}@example.de" for index in range(total)]


def message(*, run: str, number: int, sender: str, subject: str, rng, pdf: bool = False,
            headers: dict | None = None) -> bytes:  # fmt: skip
    """One mail as a customer's mail program writes it, quoted history included."""
    name = rng.choice(FIRST_NAMES)
    mail = EmailMessage()
    mail["From"] = f"{name} Beispiel <{sender}>"
    mail["To"] = "Kundenservice <support@helpdesk.example>"
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = f"<{run}.{number}@example.de>"
    for key, value in (headers or {}).items():
        mail[key] = value
    text = (
        f"Guten Tag,\n\n{subject}. Seit gestern Abend funktioniert es nicht mehr, ich habe "
        "den Router schon neu gestartet. Bitte rufen Sie mich zurück.\n\n"
        f"Mit freundlichen Grüßen\n{name} Beispiel\n\n"
        "Am Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Kundenservice:\n> Guten Tag,\n> danke.\n"
    )
    mail.set_content(text, cte="quoted-printable")
    mail.add_alternative(
        f"<html><body><p>Guten Tag,</p><p><b>{subject}</b>. Seit gestern Abend …</p>"
        f"<img src='https://tracker.example/{number}.gif'><p>Grüße<br>{name}</p>"
        "<blockquote>Alte Nachricht</blockquote></body></html>",
        subtype="html",
    )
    if pdf:
        body = b"%PDF-1.4\n" + rng.randbytes(ATTACHMENT_BYTES - 9)
        mail.add_attachment(body, maintype="application", subtype="pdf", filename="Rechnung.pdf")
    return mail.as_bytes()


def messages_build(total: int, addresses: list[str]) -> list[tuple[str, bytes]]:
    """The run's messages in order, each with its kind; a follow-up answers a mail its
    sender sent earlier in the run, so it is attached to that ticket."""
    rng = random.Random(SEED)  # noqa: S311 - benchmark data, not secrets
    run = f"{int(time.time())}-{os.getpid()}"
    kinds = [kind for kind, share in MIX for _ in range(round(total * share))]
    kinds = (kinds + ["new"] * total)[:total]
    rng.shuffle(kinds)
    # Answers and redeliveries need something before them: the first tenth is new mail.
    head = total // 10
    kinds[:head] = ["new"] * head
    built: list[tuple[str, bytes]] = []
    earlier: list[tuple[str, str]] = []  # (sender, Message-ID) of new requests
    for number, kind in enumerate(kinds):
        sender = rng.choice(addresses)
        subject = rng.choice(SUBJECTS)
        if kind == "answer":
            sender, first = rng.choice(earlier)
            raw = message(
                run=run,
                number=number,
                sender=sender,
                subject=f"AW: {subject}",
                rng=rng,
                headers={"In-Reply-To": first, "References": first},
            )
            built.append((kind, raw))
            continue
        if kind == "redelivery":
            built.append((kind, rng.choice([raw for k, raw in built if k.startswith("new")])))
            continue
        if kind == "unknown_sender":
            sender = f"fremd{number}@example.org"
        headers = {"Auto-Submitted": "auto-replied"} if kind == "auto_reply" else None
        if kind == "auto_reply":
            subject = f"Automatische Antwort: {subject}"
        raw = message(
            run=run,
            number=number,
            sender=sender,
            subject=subject,
            rng=rng,
            pdf=kind == "new_with_pdf",
            headers=headers,
        )
        built.append((kind, raw))
        if kind.startswith("new"):
            earlier.append((sender, f"<{run}.{number}@example.de>"))
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=5000)
    options = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="bench_mail_media_"))
    try:
        return run(options, media)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(options, media: Path) -> int:
    setup(media)
    from django.db import connection

    from mail import inbound
    from mail.choices import InboundSource
    from mail.models import InboundMail

    say(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    addresses = customers_ensure(options.customers)
    started = time.perf_counter()
    built = messages_build(options.messages, addresses)
    pdfs = sum(kind == "new_with_pdf" for kind, _raw in built)
    say(
        f"Built {len(built):,} messages ({pdfs} with a {ATTACHMENT_BYTES // 1024} KB PDF) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    outcomes: Counter = Counter()
    timings: dict[str, list[float]] = defaultdict(list)
    total_bytes = 0
    wall = time.perf_counter()
    first_id = InboundMail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for kind, raw in built:
        total_bytes += len(raw)
        begin = time.perf_counter()
        row = inbound.inbound_mail_process(raw=raw, source=InboundSource.API)
        timings[kind].append((time.perf_counter() - begin) * 1000)
        outcomes["duplicate" if row.duplicate else row.outcome] += 1
    elapsed = time.perf_counter() - wall
    rate = len(built) / elapsed

    say()
    say(f"Filed {len(built):,} messages ({total_bytes / 2**20:.1f} MB) in {elapsed:.2f} s:")
    say(f"  {rate:.1f} messages/s in one process (target: {TARGET_PER_SECOND}/s)")
    say("  outcomes: " + ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items())))
    say(f"  {'kind':<16} {'count':>6} {'median ms':>10} {'p95 ms':>8}")
    for kind, values in sorted(timings.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        say(f"  {kind:<16} {len(values):>6} {statistics.median(values):>10.2f} {p95:>8.2f}")
    stored = sum(1 for path in media.rglob("*") if path.is_file())
    rows = InboundMail.objects.filter(pk__gt=first_id).count()
    say(f"  files written under MEDIA_ROOT: {stored}; rows of this run: {rows}")
    if rate < TARGET_PER_SECOND:
        say(f"MISSED: {rate:.1f} < {TARGET_PER_SECOND} messages/s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
