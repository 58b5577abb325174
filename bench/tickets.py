"""Tickets at volume: queue page, ticket page, the API list and API creation over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/tickets.py [--tickets 1000000] [--rebuild] [--explain]

Works in `bench_helpdesk` (created next to the configured database, kept between runs,
never the real one; PostgreSQL only). The first run builds 100,000 customers, 31 agents,
1,000,000 tickets, 3,000,000 messages and about 3,000,000 events with set-based SQL
(INSERT … SELECT generate_series) and prints how long each step took; later runs reuse
them. It then starts the app under gunicorn (2 sync workers, DEBUG off) on a free port of
127.0.0.1 and, from this process, times the busiest queue page, random ticket pages and
`GET /api/v1/tickets/?queue=…` (median and p95 over 200 requests each), counts the SQL
queries of each (in-process, for a big and a small object: they must be equal), and
drives `POST /api/v1/tickets/` from 8 threads for 20 s. It prints the figures and exits
with status 1 if a target (median < 100 ms, fixed queries, 200 creations/s) is missed.
See bench/README.md.
"""

import argparse
import http.client
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlencode

# The project root goes first: this file is bench/tickets.py, and `import tickets` must
# find the app, not this script.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bulk  # noqa: E402 - bench/bulk.py: INSERT … SELECT
import customer_search  # noqa: E402 - bench/customer_search.py: setup and customers
import django  # noqa: E402

SEED = 2026
SPAN = timedelta(days=730)  # tickets were opened over the last two years
MESSAGES_PER_TICKET = 3  # 1 to 5, exactly 3 on average
LOAD_PASSWORD = "bench-lead-password-2026"  # noqa: S105 - a benchmark login, bench DB only
REQUESTS = 200
WARMUP = 20
CREATE_SECONDS = 20
CREATE_THREADS = 8
TARGET_MS = 100
TARGET_CREATES = 200

# What tickets are about: share of all tickets, and subjects customers write.
AREAS: dict[str, tuple[float, list[str]]] = {
    "no-internet": (
        0.35,
        ["Kein Internet seit heute Morgen", "DSL-Lampe blinkt", "Internet bricht ständig ab"],
    ),
    "tv-decoder": (0.07, ["Receiver zeigt kein Bild", "TV-Sender fehlen", "Fehler E-105"]),
    "email-setup": (0.09, ["E-Mail-Postfach einrichten", "Outlook fragt nach Passwort"]),
    "domain-transfer": (0.04, ["Domain-Umzug: Auth-Code", "Umzug meiner Domain"]),
    "invoice-question": (0.15, ["Rechnung doppelt abgebucht", "Frage zur Rechnung"]),
    "payment-check": (0.08, ["Zahlung nicht verbucht", "Mahnung trotz Zahlung"]),
    "tariff-change": (0.10, ["Tarifwechsel gewünscht", "Wechsel auf DSL 250"]),
    "cancellation": (0.08, ["Kündigung zum Vertragsende", "Kündigung wegen Umzug"]),
    "general": (0.04, ["Allgemeine Frage", "Rückrufbitte", "Adresse ändern"]),
}
# Where tickets end up inside their first department: share per line (escalations).
LINES: dict[str, tuple[float, ...]] = {
    "customer-service": (0.88, 0.12),
    "tech": (0.78, 0.17, 0.05),
    "billing": (0.85, 0.15),
    "contracts": (1.0,),
    "management": (1.0,),
}
HANDOFF_TO_MANAGEMENT = 0.004  # complaints that went to leadership
# Agents per department, by their highest line (a line-2 agent also works line 1).
AGENTS: dict[str, tuple[int, ...]] = {
    "customer-service": (8, 3),
    "tech": (6, 3, 2),
    "billing": (3, 1),
    "contracts": (2,),
    "management": (2,),
}
CHANNELS = [
    ("phone", 0.40),
    ("email", 0.30),
    ("portal", 0.15),
    ("chat", 0.08),
    ("api", 0.05),
    ("letter", 0.02),
]
PRIORITIES = [(1, 0.10), (2, 0.65), (3, 0.20), (4, 0.05)]  # low, normal, high, urgent
# Active tickets with more than the first message (a single message means "new").
WORKING_STATUSES = [
    ("open", 0.45),
    ("waiting_customer", 0.30),
    ("waiting_third_party", 0.15),
    ("scheduled", 0.10),
]

CUSTOMER_BODIES = [
    "Hallo, seit gestern Abend funktioniert mein Internet nicht mehr. Der Router zeigt eine "
    "rote Lampe, ein Neustart hat nichts geändert. Ich arbeite von zu Hause und brauche die "
    "Leitung dringend. Bitte melden Sie sich schnell. Viele Grüße",
    "Guten Tag, auf meiner letzten Rechnung ist der Betrag doppelt abgebucht worden. Ich bitte "
    "um Prüfung und Erstattung des zu viel gezahlten Betrags auf mein bekanntes Konto.",
    "Ich möchte meinen Vertrag zum nächstmöglichen Termin kündigen, da ich ins Ausland ziehe. "
    "Bitte bestätigen Sie mir die Kündigung und das Vertragsende schriftlich.",
    "Hallo, ich habe Ihre Antwort erhalten, leider besteht das Problem weiterhin. Ich habe "
    "alles wie beschrieben versucht, die Verbindung bricht alle paar Minuten ab.",
    "Sehr geehrte Damen und Herren, bitte rufen Sie mich zurück, ich erreiche Sie telefonisch "
    "nicht. Ich bin werktags ab 17 Uhr unter der hinterlegten Nummer erreichbar.",
]
REPLY_BODIES = [
    "Guten Tag, vielen Dank für Ihre Nachricht. Wir haben Ihre Leitung geprüft und einen Fehler "
    "im Anschlussbereich gefunden. Ein Techniker behebt ihn bis morgen. Bitte starten Sie "
    "danach Ihren Router einmal neu. Mit freundlichen Grüßen, Ihr Kundenservice",
    "Hallo, die doppelte Abbuchung haben wir storniert; der Betrag wird in den nächsten Tagen "
    "Ihrem Konto gutgeschrieben. Wir entschuldigen uns für die Unannehmlichkeiten.",
    "Guten Tag, Ihre Kündigung haben wir zum Ende der Mindestlaufzeit vorgemerkt. Die "
    "Bestätigung erhalten Sie zusätzlich per Post.",
    "Hallo, könnten Sie uns bitte sagen, welche Lampen am Router leuchten und seit wann genau "
    "die Störung besteht? Dann können wir gezielt weiterhelfen.",
]
NOTE_BODIES = [
    "Leitung gemessen: Sync-Abbrüche nachts, Port getauscht.",
    "Kunde telefonisch informiert, wartet auf Gutschrift.",
    "Rückfrage bei der Buchhaltung, Lastschrift wurde zweimal eingereicht.",
]


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def step(title: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    say(f"  {title:<48}{time.perf_counter() - started:>8.1f} s")


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            "bench/tickets.py needs PostgreSQL: set DATABASE_URL, e.g. "
            "postgres://postgres@127.0.0.1:5432/helpdesk (it works in bench_helpdesk)."
        )
    customer_search.setup()  # bench_helpdesk, migrated; refuses to touch the real database


def sql(statement: str, params: dict | list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# --- Data ---------------------------------------------------------------------------------

# Stored as the comment of tickets_ticket; a new DATA_VERSION (the generator changed) or
# another size makes the next run build again.
DATA_VERSION = 2
BUILD_MARK = "bench/tickets.py v{version}: tickets={tickets} messages={messages}"


def built_mark() -> str:
    return sql("SELECT coalesce(obj_description('tickets_ticket'::regclass), '')")[0][0]


def agents_place() -> dict[tuple[str, int], list[int]]:
    """Agents per department and line (idempotent); the load user `bench-lead` works all."""
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role
    from tickets import services
    from tickets.models import Department

    departments = {d.slug: d for d in Department.objects.all()}
    workers: dict[tuple[str, int], list[int]] = {}
    for slug, per_line in AGENTS.items():
        role = Role.MANAGEMENT if slug == "management" else Role.AGENT
        number = 0
        for line, count in enumerate(per_line, start=1):
            for _ in range(count):
                number += 1
                user, created = User.objects.get_or_create(
                    username=f"bench-{slug}-{number}",
                    defaults={"first_name": slug.title(), "last_name": f"Agent {number}"},
                )
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                helpdesk_services.user_role_grant(user=user, role=role)
                services.agent_profile_set(
                    user=user, departments=[departments[slug]], highest_line=line
                )
                for worked in range(1, line + 1):
                    workers.setdefault((slug, worked), []).append(user.pk)
    lead, _ = User.objects.get_or_create(
        username="bench-lead", defaults={"first_name": "Lena", "last_name": "Lead"}
    )
    lead.set_password(LOAD_PASSWORD)
    lead.save(update_fields=["password"])
    helpdesk_services.user_role_grant(user=lead, role=Role.TEAM_LEAD)
    services.agent_profile_set(
        user=lead, departments=departments.values(), highest_line=3, is_team_lead=True
    )
    return workers


def starts(shares) -> list[float]:
    """Where each share begins on [0, 1): the bounds `width_bucket` numbers buckets by."""
    return [float(sum(shares[:index])) for index in range(len(shares))]


def lookup_tables(workers: dict[tuple[str, int], list[int]]) -> None:
    """Temporary tables the generator joins: areas (number n by share) and queues."""
    from tickets.models import Queue, SupportArea

    sql("DROP TABLE IF EXISTS bench_area, bench_route")
    sql(
        "CREATE TEMP TABLE bench_area (n int, area_id bigint, first_queue_id bigint, "
        "department_id bigint, line_bounds float8[], subjects text[])"
    )
    sql(
        "CREATE TEMP TABLE bench_route (queue_id bigint, department_id bigint, line int, "
        "below_queue_id bigint, agents bigint[])"
    )
    areas = SupportArea.objects.select_related("first_queue__department").in_bulk(field_name="slug")
    for n, (slug, (_share, subjects)) in enumerate(AREAS.items(), start=1):
        area = areas[slug]
        department = area.first_queue.department
        sql(
            "INSERT INTO bench_area VALUES (%s, %s, %s, %s, %s, %s)",
            [
                n,
                area.pk,
                area.first_queue_id,
                department.pk,
                starts(LINES[department.slug]),
                subjects,
            ],
        )
    queues = {(q.department.slug, q.line): q for q in Queue.objects.select_related("department")}
    for (slug, line), queue in queues.items():
        below = queues.get((slug, line - 1))
        sql(
            "INSERT INTO bench_route VALUES (%s, %s, %s, %s, %s)",
            [queue.pk, queue.department_id, line, below and below.pk, workers[(slug, line)]],
        )
    sql("ANALYZE bench_area")
    sql("ANALYZE bench_route")


# One row per ticket with every random draw it needs; ids are 1…N in time order, so the
# heap is in creation order as in a real installation.
DRAWS_SQL = """
CREATE TEMP TABLE bench_draw AS
SELECT g.i,
       %(start)s::timestamptz + (g.i - 1 + random()) * %(step)s::interval AS created_at,
       1 + (g.i::bigint * 7919) %% 5 AS messages,
       random() AS r_area, random() AS r_line, random() AS r_handoff, random() AS r_active,
       random() AS r_status, random() AS r_priority, random() AS r_channel,
       random() AS r_customer, random() AS r_subject, random() AS r_agent,
       random() AS r_assigned, random() AS r_duration
FROM generate_series(1, %(n)s) AS g(i)
"""

# The derived ticket: queue (escalated or handed off), status by age (recent tickets are
# mostly active, the chance halving about every two weeks, and 0.3 % of any age still
# open: waiting for a third party or a technician), times, assignee.
PLAN_SQL_TEMPLATE = """
CREATE TEMP TABLE bench_plan AS
SELECT d.*, s.status, s.resolved_at,
       CASE WHEN s.status = 'closed' THEN s.resolved_at + interval '7 days' END AS closed_at,
       CASE WHEN d.messages = 1 THEN d.created_at
            WHEN s.resolved_at IS NOT NULL THEN s.resolved_at
            ELSE d.created_at + (%(now)s - d.created_at) * (0.3 + 0.6 * d.r_duration)
       END AS last_message_at
FROM (
    SELECT d.i, d.created_at, d.messages, a.area_id, a.first_queue_id, a.subjects,
           d.r_subject, d.r_customer, d.r_status, d.r_duration,
           CASE WHEN d.r_handoff < %(handoff)s THEN %(management)s ELSE r.queue_id END
               AS queue_id,
           CASE WHEN d.r_handoff < %(handoff)s THEN a.first_queue_id
                ELSE r.below_queue_id END AS previous_queue_id,
           CASE WHEN d.r_handoff < %(handoff)s THEN %(management_agents)s::bigint[]
                ELSE r.agents END AS agents,
           d.r_agent, d.r_assigned,
           d.r_active < 0.9 * exp(-extract(epoch FROM %(now)s - d.created_at)::float8
                                   / (20 * 86400)) + 0.003 AS active,
           {priority} AS priority,
           {channel} AS channel
    FROM bench_draw d
    JOIN bench_area a ON a.n = width_bucket(d.r_area, %(area_bounds)s::float8[])
    JOIN bench_route r ON r.department_id = a.department_id
                      AND r.line = width_bucket(d.r_line, a.line_bounds)
) d
CROSS JOIN LATERAL (
    SELECT CASE WHEN d.active AND d.messages = 1 THEN 'new'
                WHEN d.active THEN {working}
                WHEN r.resolved_at > %(now)s - interval '7 days' THEN 'resolved'
                ELSE 'closed' END AS status,
           CASE WHEN NOT d.active THEN r.resolved_at END AS resolved_at
    FROM (SELECT d.created_at + least(interval '30 minutes'
                                      + d.r_duration ^ 2 * interval '10 days',
                                      (%(now)s - d.created_at) * 0.9) AS resolved_at) r
) s
"""


def weighted(draw: str, choices: list[tuple[object, float]]) -> str:
    """SQL choosing one of (value, share) by the uniform random column `draw`."""
    branches, bound = [], 0.0
    for value, share in choices[:-1]:
        bound += share
        branches.append(f"WHEN {draw} < {bound:.4f} THEN {value!r}")
    return f"CASE {' '.join(branches)} ELSE {choices[-1][0]!r} END"


PLAN_SQL = PLAN_SQL_TEMPLATE.format(
    priority=weighted("d.r_priority", PRIORITIES),
    channel=weighted("d.r_channel", CHANNELS),
    working=weighted("d.r_status", WORKING_STATUSES),
)

TICKETS_VALUES = {
    "id": "p.i",
    "reference": "to_char(p.created_at AT TIME ZONE 'Europe/Berlin', 'YYYY') || '-' || "
    "lpad((row_number() OVER (PARTITION BY to_char(p.created_at AT TIME ZONE "
    "'Europe/Berlin', 'YYYY') ORDER BY p.i))::text, 6, '0')",
    "customer_id": "c.id",
    "contact_email": "coalesce(c.email, 'sender' || p.i || '@example.net')",
    "subject": "p.subjects[1 + floor(p.r_subject * cardinality(p.subjects))::int]",
    "channel": "p.channel",
    "support_area_id": "p.area_id",
    "queue_id": "p.queue_id",
    "previous_queue_id": "p.previous_queue_id",
    "assignee_id": "CASE WHEN p.status = 'new' OR (p.active AND p.r_assigned < 0.5) THEN NULL "
    "ELSE p.agents[1 + floor(p.r_agent * cardinality(p.agents))::int] END",
    "priority": "p.priority",
    "status": "p.status",
    "version": "1 + (p.previous_queue_id IS NOT NULL)::int + (p.status <> 'new')::int",
    "created_at": "p.created_at",
    "updated_at": "coalesce(p.closed_at, p.resolved_at, p.last_message_at)",
    "first_response_at": "CASE WHEN p.messages > 1 THEN p.created_at + "
    "(p.last_message_at - p.created_at) / (p.messages - 1) END",
    "resolved_at": "p.resolved_at",
    "closed_at": "p.closed_at",
    "last_message_at": "p.last_message_at",
}
# A tenth of the tickets come from the first 1,000 customers (businesses write often),
# 2 % from unknown senders without a customer record.
TICKETS_FROM = """
FROM bench_plan p
LEFT JOIN customers_customer c ON c.id = (
    CASE WHEN p.r_customer < 0.02 THEN NULL
         WHEN p.r_customer < 0.12 THEN (%(customers)s)[1 + floor(p.r_customer * 1e7)::int %% 1000]
         ELSE (%(customers)s)[1 + floor(p.r_customer * 1e9)::int %% %(customer_count)s]
    END)
ORDER BY p.i
"""

# Messages 1…k of each ticket: the customer's request, then replies and customer answers,
# some internal notes, an agent's reply last; inserted in time order (a real table
# interleaves tickets), with the text chosen after the sort so the sort stays small.
MESSAGES_SQL = """
INSERT INTO tickets_ticketmessage ({columns})
SELECT {selects} FROM (
    SELECT t.id AS ticket_id, j, k, kind,
           CASE WHEN kind = 'customer' THEN NULL
                ELSE coalesce(t.assignee_id, r.agents[1 + t.id %% cardinality(r.agents)])
           END AS author_id,
           CASE WHEN j = 1 OR kind = 'note' THEN t.channel ELSE 'email' END AS channel,
           t.created_at + (j - 1) * (t.last_message_at - t.created_at) / greatest(k - 1, 1)
               AS created_at
    FROM tickets_ticket t
    JOIN bench_route r ON r.queue_id = t.queue_id
    CROSS JOIN LATERAL (SELECT 1 + (t.id * 7919) %% 5 AS k) n
    CROSS JOIN LATERAL generate_series(1, k) AS j
    CROSS JOIN LATERAL (
        SELECT CASE WHEN j = 1 THEN 'customer' WHEN j = 2 OR j = k THEN 'reply'
                    WHEN (t.id + j) %% 7 = 0 THEN 'note'
                    WHEN j %% 2 = 0 THEN 'reply' ELSE 'customer' END AS kind
    ) c
    WHERE t.id <= %(n)s
    ORDER BY created_at
) m
"""


def _pick(texts: str) -> str:
    """SQL choosing one of the texts passed as parameter `texts`, varied per message."""
    array = f"%({texts})s::text[]"
    return f"({array})[1 + (m.ticket_id + m.j) %% cardinality({array})]"


MESSAGES_VALUES = {
    "ticket_id": "m.ticket_id",
    "kind": "m.kind",
    "author_id": "m.author_id",
    "body": f"CASE m.kind WHEN 'customer' THEN {_pick('customer_bodies')} "
    f"WHEN 'reply' THEN {_pick('reply_bodies')} ELSE {_pick('note_bodies')} END",
    "channel": "m.channel",
    "created_at": "m.created_at",
    "emailed_at": "CASE WHEN m.kind = 'reply' THEN m.created_at + interval '1 minute' END",
}

# The history: opened; each escalation one line up (or the handoff to management);
# resolved; closed by the system a week later. About 3 events per ticket.
EVENTS_SQL = """
INSERT INTO tickets_ticketevent ({columns})
SELECT {selects} FROM (
    SELECT t.id AS ticket_id, 'ticket.created' AS kind, NULL::bigint AS actor_id,
           jsonb_build_object('channel', t.channel, 'queue', a.first_queue_id,
                              'support_area', t.support_area_id, 'priority', t.priority) AS data,
           t.created_at
    FROM tickets_ticket t JOIN tickets_supportarea a ON a.id = t.support_area_id
    WHERE t.id <= %(n)s
  UNION ALL
    SELECT t.id, 'ticket.escalated', r.agents[1 + t.id %% cardinality(r.agents)],
           jsonb_build_object('from_queue', lower_q.id, 'to_queue', upper_q.id,
                              'note', 'Braucht die nächste Ebene.'),
           t.created_at + (coalesce(t.first_response_at, t.last_message_at) - t.created_at)
               * (l - 1) / 3
    FROM tickets_ticket t
    JOIN tickets_queue q ON q.id = t.queue_id
    JOIN bench_route r ON r.queue_id = t.queue_id
    CROSS JOIN LATERAL generate_series(2, q.line) AS l
    JOIN tickets_queue lower_q ON lower_q.department_id = q.department_id
                              AND lower_q.line = l - 1
    JOIN tickets_queue upper_q ON upper_q.department_id = q.department_id AND upper_q.line = l
    WHERE t.id <= %(n)s
  UNION ALL
    SELECT t.id, 'ticket.handed_off', r.agents[1 + t.id %% cardinality(r.agents)],
           jsonb_build_object('from_queue', t.previous_queue_id, 'to_queue', t.queue_id,
                              'note', 'Beschwerde an die Geschäftsleitung.'),
           t.created_at + interval '1 hour'
    FROM tickets_ticket t
    JOIN tickets_queue q ON q.id = t.queue_id
    JOIN tickets_queue p ON p.id = t.previous_queue_id
    JOIN bench_route r ON r.queue_id = t.previous_queue_id
    WHERE t.id <= %(n)s AND p.department_id <> q.department_id
  UNION ALL
    SELECT t.id, 'ticket.status_changed', t.assignee_id,
           jsonb_build_object('from', 'open', 'to', 'resolved'), t.resolved_at
    FROM tickets_ticket t WHERE t.id <= %(n)s AND t.resolved_at IS NOT NULL
  UNION ALL
    SELECT t.id, 'ticket.status_changed', NULL,
           jsonb_build_object('from', 'resolved', 'to', 'closed'), t.closed_at
    FROM tickets_ticket t WHERE t.id <= %(n)s AND t.closed_at IS NOT NULL
  ORDER BY created_at
) e
"""
EVENTS_VALUES = {
    "ticket_id": "e.ticket_id",
    "kind": "e.kind",
    "actor_id": "e.actor_id",
    "data": "e.data",
    "created_at": "e.created_at",
}


def build(*, tickets: int, customers: int, rebuild: bool) -> None:
    """Customers, agents, tickets, messages and events, unless already there at this size."""
    from django.db import transaction
    from django.utils import timezone

    from tickets.models import Queue, Ticket, TicketEvent, TicketMessage

    messages = tickets * MESSAGES_PER_TICKET
    mark = BUILD_MARK.format(version=DATA_VERSION, tickets=tickets, messages=messages)
    say("Customers:")
    started = time.perf_counter()
    customer_search.fill(customers)
    say(f"  {'customers':<48}{time.perf_counter() - started:>8.1f} s")
    with step("31 agents and the load user bench-lead"):
        workers = agents_place()
    if built_mark() == mark and not rebuild:
        say(f"Tickets: {tickets:,} tickets and {messages:,} messages present; nothing to build.")
        return
    say(f"Building {tickets:,} tickets, {messages:,} messages and their events:")
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    customer_ids = [row[0] for row in sql("SELECT id FROM customers_customer ORDER BY id")]
    with step("empty the ticket tables (TRUNCATE … CASCADE)"):
        sql(
            "TRUNCATE tickets_ticket, tickets_ticketmessage, tickets_ticketevent, "
            "tickets_attachment, tickets_ticketcounter RESTART IDENTITY CASCADE"
        )
    with transaction.atomic():
        sql("SET LOCAL work_mem = '256MB'")  # sorts of millions of rows, this session only
        sql("SELECT setseed(%s)", [SEED / 10_000])
        lookup_tables(workers)
        with step("draw and plan (temporary tables)"):
            sql(DRAWS_SQL, {"start": now - SPAN, "step": SPAN / tickets, "n": tickets})
            sql("ANALYZE bench_draw")
            management = Queue.objects.get(department__slug="management", line=1).pk
            plan = {
                "now": now,
                "handoff": HANDOFF_TO_MANAGEMENT,
                "management": management,
                "management_agents": workers[("management", 1)],
            }
            sql(PLAN_SQL, {**plan, "area_bounds": starts([s for s, _ in AREAS.values()])})
            sql("ANALYZE bench_plan")
        with step(f"{tickets:,} tickets"):
            columns, selects, params = bulk.insert_select(Ticket, TICKETS_VALUES)
            sql(
                f"INSERT INTO tickets_ticket ({columns}) SELECT {selects} {TICKETS_FROM}",
                {**params, "customers": customer_ids, "customer_count": len(customer_ids)},
            )
            sql(
                "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
                "(SELECT max(id) FROM tickets_ticket))"
            )
        with step(f"{messages:,} messages"):
            columns, selects, params = bulk.insert_select(TicketMessage, MESSAGES_VALUES)
            bodies = {
                "customer_bodies": CUSTOMER_BODIES,
                "reply_bodies": REPLY_BODIES,
                "note_bodies": NOTE_BODIES,
            }
            sql(
                MESSAGES_SQL.format(columns=columns, selects=selects),
                {**params, **bodies, "n": tickets},
            )
        with step("events"):
            columns, selects, params = bulk.insert_select(TicketEvent, EVENTS_VALUES)
            sql(EVENTS_SQL.format(columns=columns, selects=selects), {**params, "n": tickets})
        # API creation continues after the bulk references of each year.
        sql(
            "INSERT INTO tickets_ticketcounter (year, last) "
            "SELECT left(reference, 4)::int, max(right(reference, 6)::int) "
            "FROM tickets_ticket GROUP BY 1"
        )
        sql("DROP TABLE bench_draw, bench_plan, bench_area, bench_route")
        sql(f"COMMENT ON TABLE tickets_ticket IS '{mark}'")  # our own constant
        committing = time.perf_counter()
    say(f"  {'commit (deferred foreign-key checks)':<48}{time.perf_counter() - committing:>8.1f} s")
    with step("VACUUM ANALYZE"):
        for table in ("tickets_ticket", "tickets_ticketmessage", "tickets_ticketevent"):
            sql(f"VACUUM (ANALYZE) {table}")
        sql("ANALYZE")
    say(f"  {'total':<48}{time.perf_counter() - started:>8.1f} s")
    counts = sql(
        "SELECT (SELECT count(*) FROM tickets_ticket), (SELECT count(*) FROM "
        "tickets_ticketmessage), (SELECT count(*) FROM tickets_ticketevent)"
    )[0]
    say(f"  rows: {counts[0]:,} tickets, {counts[1]:,} messages, {counts[2]:,} events")


def earlier_creations_delete(*, tickets: int) -> None:
    """Delete what earlier runs created through the API (the tickets after the bulk rows
    and every row referring to them), so each run measures the same data."""
    from django.db import transaction

    with transaction.atomic():  # foreign keys are checked at commit: any order works
        deleted = _delete_where("tickets_ticket", "id > %s", [tickets])
    if deleted:
        for table in ("tickets_ticket", "tickets_ticketmessage", "tickets_ticketevent"):
            sql(f"VACUUM {table}")
        say(f"Deleted {deleted:,} tickets that earlier runs created through the API.")


def _delete_where(table: str, condition: str, params: list) -> int:
    """DELETE from `table` and, first, from every table whose foreign key points at those
    rows (messages, events, attachments, whatever later issues add)."""
    from django.db import connection

    referring = sql(
        "SELECT c.conrelid::regclass::text, quote_ident(a.attname) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND c.conrelid <> c.confrelid",
        [table],
    )
    # Table and column names come quoted from pg_catalog; values are parameters.
    for other, column in referring:
        inner = f"{column} IN (SELECT id FROM {table} WHERE {condition})"  # noqa: S608
        _delete_where(other, inner, params)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {condition}", params)  # noqa: S608
        return cursor.rowcount


# --- The app under gunicorn -------------------------------------------------------------


class Server(NamedTuple):
    port: int
    pid: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment() -> dict[str, str]:
    """Production mode (DEBUG off) on bench_helpdesk, with its own VAR_DIR (var/bench)."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    url = (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        # The keys the bench process uses, so anything encrypted stays readable.
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(ROOT / "var" / "bench"),
        # A load test is many calls with one token: the API rate limit would measure itself.
        "API_RATE_PER_MINUTE": "0",
        # No broker shared with a running app: anything enqueued stays in var/bench.
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def gunicorn(workers: int) -> Iterator[Server]:
    """Start the app as the Dockerfile does (sync workers) on a free port; stop it after."""
    env = server_environment()
    # Without DEBUG, templates need the static files' manifest; built once in var/bench.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "helpdesk.wsgi:application",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - fixed command
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Browser(port).request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not come up; see its output above.")
            time.sleep(0.2)
        say(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}, DEBUG off")
        yield Server(port, process.pid)
    finally:
        process.terminate()  # gunicorn stops its workers gracefully on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- CPU accounting (Linux /proc) -------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def backends_of_server() -> list[int]:
    """The PostgreSQL backends serving the gunicorn workers (everyone on bench_helpdesk
    but this process)."""
    return [
        row[0]
        for row in sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    ]


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU used by the gunicorn workers, their database backends, this process and the
    whole machine between start() and stop()."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def start(self) -> None:
        self.workers = {pid: cpu_seconds(pid) for pid in children_of(self.server.pid)}
        self.backends = {pid: cpu_seconds(pid) for pid in backends_of_server()}
        self.own = time.process_time()
        self.machine = machine_busy()

    def stop(self) -> dict[str, float]:
        backends = set(self.backends) | set(backends_of_server())  # reconnects after 60 s
        busy, total = machine_busy()
        return {
            "app": sum(cpu_seconds(pid) - before for pid, before in self.workers.items()),
            "database": sum(cpu_seconds(pid) - self.backends.get(pid, 0.0) for pid in backends),
            "driver": time.process_time() - self.own,
            "machine_busy": (busy - self.machine[0]) / max(total - self.machine[1], 1),
        }


# --- HTTP from this process -------------------------------------------------------------


class Response(NamedTuple):
    status: int
    body: bytes
    ms: float


class Browser:
    """A client on http.client that keeps cookies. gunicorn's sync workers close the
    connection after each response, so each request opens a TCP connection (as a
    browser talking to gunicorn directly would); the time includes it."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> Response:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=sent)
            reply = self.connection.getresponse()
            data = reply.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the next request opens a new connection
            raise
        ms = (time.perf_counter() - started) * 1000
        for cookie in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(reply.status, data, ms)

    def login(self, username: str, password: str) -> None:
        """The agent sign-in form, with its CSRF token, as a browser submits it."""
        form = self.request("GET", "/agent/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        if form.status != 200 or token is None:
            raise SystemExit(f"/agent/login/ answered {form.status} without a CSRF token")
        fields = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token.group(1).decode(),
        }
        done = self.request(
            "POST",
            "/agent/login/",
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if done.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"Sign-in as {username} failed ({done.status}).")


# --- Pages and the API list ---------------------------------------------------------------


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


class Target:
    """A page or endpoint: the paths to time, a big and a small case for the query count."""

    def __init__(self, label: str, paths: list[str], big: str, small: str, api: bool) -> None:
        self.label, self.paths, self.big, self.small, self.api = label, paths, big, small, api
        self.times: list[float] = []
        self.failures: dict[int, int] = {}
        self.queries: tuple[int, int] | None = None
        self.in_process_ms = self.sql_ms = 0.0
        self.slowest: tuple[float, str] = (0.0, "")


def targets(*, requests: int) -> list[Target]:
    """The busiest queue (most active tickets), random ticket pages, the API list."""
    from django.db.models import Count
    from django.urls import NoReverseMatch, reverse

    from tickets.choices import OPEN_STATUSES
    from tickets.models import Ticket

    by_activity = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values_list("queue")
        .annotate(active=Count("id"))
        .order_by("-active")
    )
    (busiest, busiest_active), (quietest, quietest_active) = by_activity[0], by_activity[-1]
    total = Ticket.objects.filter(queue=busiest).count()
    say(
        f"Busiest queue: id {busiest}, {busiest_active:,} active of {total:,} tickets; "
        f"quietest: id {quietest}, {quietest_active:,} active"
    )
    rng = random.Random(SEED)  # noqa: S311 - which tickets to open, not a secret
    last = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first()
    picked = [rng.randint(1, last) for _ in range(requests)]
    references = dict(Ticket.objects.filter(pk__in=picked).values_list("pk", "reference"))
    sample = [references[pk] for pk in picked if pk in references]
    # Ticket 1 has 5 messages, ticket 5 one (messages per ticket: 1 + id * 7919 % 5).
    five_messages, one_message = (Ticket.objects.get(pk=pk).reference for pk in (1, 5))

    def page(name: str, arg) -> str:
        try:
            return reverse(name, args=[arg])
        except NoReverseMatch:  # not written yet: time what answers, report the rest
            return f"/missing/{name}/{arg}/"

    queue_page, quiet_page = (page("tickets:queue-detail", q) for q in (busiest, quietest))
    api, active = "/api/v1/tickets/?queue={}", "/api/v1/tickets/?queue={}&status=active"
    return [
        Target(
            "queue page (busiest queue)", [queue_page] * requests, queue_page, quiet_page, False
        ),
        Target(
            "ticket page (random tickets)",
            [page("tickets:ticket-detail", reference) for reference in sample],
            page("tickets:ticket-detail", five_messages),
            page("tickets:ticket-detail", one_message),
            api=False,
        ),
        Target(
            "GET /api/v1/tickets/?queue=",
            [api.format(busiest)] * requests,
            api.format(busiest),
            api.format(quietest),
            api=True,
        ),
        Target(
            "  … &status=active",
            [active.format(busiest)] * requests,
            active.format(busiest),
            active.format(quietest),
            api=True,
        ),
    ]


@contextmanager
def query_log() -> Iterator[list[tuple[float, str, object]]]:
    """(ms, sql, params) of every query the block sends, timed around the driver call."""
    from django.db import connection

    log: list[tuple[float, str, object]] = []

    def timed(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            log.append(((time.perf_counter() - started) * 1000, statement, params))

    with connection.execute_wrapper(timed):
        yield log


def count_queries(target: Target, *, lead, api_key: str) -> None:
    """In this process (test client, same code and database): queries per request for the
    big and the small case, and for the big one the time, the SQL time, the slowest query."""
    from django.db import connection
    from django.test import Client

    if target.api:
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {api_key}")
    else:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(lead)
    counts, runs = [], []
    for path in (target.big, target.small):
        client.get(path)  # first-use caches are not what a page costs
        with query_log() as log:
            started = time.perf_counter()
            if client.get(path).status_code != 200:
                return
            elapsed = (time.perf_counter() - started) * 1000
        counts.append(len(log))
        runs.append((elapsed, log))
    for _ in range(4):
        with query_log() as log:
            started = time.perf_counter()
            client.get(target.big)
            runs.append(((time.perf_counter() - started) * 1000, log))
    big_runs = [runs[0], *runs[2:]]
    target.queries = (counts[0], counts[1])
    target.in_process_ms = statistics.median(ms for ms, _log in big_runs)
    target.sql_ms = statistics.median(sum(q[0] for q in log) for _ms, log in big_runs)
    ms, statement, params = max(big_runs[-1][1], key=lambda query: query[0])
    target.slowest = (ms, connection.ops.compose_sql(statement, params))


def time_target(target: Target, browser: Browser) -> None:
    for path in target.paths[:WARMUP]:
        browser.request("GET", path)
    for path in target.paths:
        response = browser.request("GET", path)
        if response.status == 200:
            target.times.append(response.ms)
        else:
            target.failures[response.status] = target.failures.get(response.status, 0) + 1


def report_pages(results: list[Target]) -> bool:
    say()
    say(
        f"Over HTTP, {REQUESTS} requests each after {WARMUP} to warm up, one at a time "
        f"(target: median < {TARGET_MS} ms)"
    )
    say(f"  {'page':<32}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}  errors")
    ok = True
    for target in results:
        failures = ", ".join(
            f"{count} x HTTP {status}" for status, count in sorted(target.failures.items())
        )
        if not target.times:
            say(f"  {target.label:<32}{'-':>10}{'-':>9}{'-':>9}  {failures}")
            ok = False
            continue
        median = statistics.median(target.times)
        say(
            f"  {target.label:<32}{median:>10.1f}{percentile_95(target.times):>9.1f}"
            f"{max(target.times):>9.1f}  {failures or 0}"
        )
        ok = ok and median < TARGET_MS and not target.failures
    say()
    say("SQL per request, in-process (big case / small case: must be equal)")
    say(f"  {'page':<32}{'queries':>9}{'total ms':>10}{'SQL ms':>8}{'slowest query ms':>18}")
    for target in results:
        if target.queries is None:
            say(f"  {target.label:<32}{'not measured (no HTTP 200)':>45}")
            ok = False
            continue
        big, small = target.queries
        say(
            f"  {target.label:<32}{f'{big}/{small}':>9}{target.in_process_ms:>10.1f}"
            f"{target.sql_ms:>8.1f}{target.slowest[0]:>18.1f}"
        )
        ok = ok and big == small
    say()
    say("The slowest query of each (big case):")
    for target in results:
        if target.slowest[1]:
            say(f"  {target.label.strip()}: {' '.join(target.slowest[1].split())[:300]}")
    return ok


def explain(results: list[Target]) -> None:
    """EXPLAIN ANALYZE the slowest query of each page as Django sent it."""
    from django.db import connection

    for target in results:
        _ms, query = target.slowest
        if not query or not query.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
            plan = [row[0] for row in cursor.fetchall()]
        say()
        say(f"EXPLAIN ANALYZE, slowest query of: {target.label.strip()}")
        for line in plan:
            say(f"  {line}")


# --- Creating tickets through the API ---------------------------------------------------


def api_key_create() -> tuple[object, str]:
    """An integration user with a tickets:read/write token (a fresh token per run)."""
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role

    user, created = User.objects.get_or_create(username="bench-integration")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
    return helpdesk_services.api_token_create(
        user=user, name="bench/tickets.py", scopes=["tickets:read", "tickets:write"]
    )


def create_payload(rng: random.Random, numbers: list[str]) -> dict:
    """What a phone system sends when a caller reaches an agent and a ticket is opened."""
    area = rng.choice(list(AREAS))
    return {
        "customer": rng.choice(numbers),
        "subject": rng.choice(AREAS[area][1]),
        "body": rng.choice(CUSTOMER_BODIES),
        "support_area": area,
        "channel": "phone",
    }


def create_queries(*, api_key: str) -> int | None:
    """SQL statements of one POST /api/v1/tickets/, in-process (BEGIN/COMMIT not counted)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {api_key}")
    rng = random.Random(SEED)  # noqa: S311 - test data, not a secret
    counts = []
    for number in ("K1000001", "K1050000"):  # warm once, then count
        with query_log() as log:
            response = client.post(
                "/api/v1/tickets/",
                json.dumps(create_payload(rng, [number])),
                content_type="application/json",
            )
        if response.status_code != 201:
            return None
        counts.append(len(log))
    return counts[-1]


def create_load(
    *, server: Server, key: str, seconds: float, threads: int, queries: int | None
) -> bool:
    """POST /api/v1/tickets/ from `threads` connections for `seconds`; print the rate,
    latency, errors and where the CPU went."""
    from customers.models import Customer

    numbers = list(Customer.objects.values_list("number", flat=True))
    results: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def worker(index: int, deadline: float) -> None:
        rng = random.Random(SEED + index)  # noqa: S311 - test data, not a secret
        browser = Browser(server.port, {"Authorization": f"Token {key}"})
        created: list[float] = []
        while time.perf_counter() < deadline:
            payload = create_payload(rng, numbers)
            try:
                response = browser.request(
                    "POST",
                    "/api/v1/tickets/",
                    body=json.dumps(payload).encode(),
                    headers={"Content-Type": "application/json"},
                )
            except (http.client.HTTPException, OSError) as error:
                problem = type(error).__name__
            else:
                if response.status == 201:
                    created.append(response.ms)
                    continue
                problem = f"HTTP {response.status}: {response.body[:160].decode(errors='replace')}"
            with lock:
                errors[problem] = errors.get(problem, 0) + 1
        with lock:
            results.extend(created)

    meter = CpuMeter(server)
    meter.start()
    started = time.perf_counter()
    pool = [
        threading.Thread(target=worker, args=(index, started + seconds)) for index in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    rate = len(results) / elapsed
    say()
    say(
        f"POST /api/v1/tickets/ from {threads} client threads for {elapsed:.1f} s "
        f"(target: at least {TARGET_CREATES}/s, no errors)"
    )
    if results:
        say(
            f"  {len(results):,} created: {rate:.0f}/s; latency median "
            f"{statistics.median(results):.1f} ms, p95 {percentile_95(results):.1f} ms, "
            f"max {max(results):.1f} ms"
        )
        per = {name: cpu[name] / len(results) * 1000 for name in ("app", "database", "driver")}
        say(
            f"  CPU per created ticket: gunicorn workers {per['app']:.1f} ms, their "
            f"PostgreSQL backends {per['database']:.1f} ms, load driver {per['driver']:.1f} ms; "
            f"machine busy {cpu['machine_busy']:.0%} of {os.cpu_count()} CPUs"
        )
    say(f"  errors: {sum(errors.values())}; SQL statements per creation (in-process): {queries}")
    for problem, count in sorted(errors.items(), key=lambda item: -item[1])[:5]:
        say(f"    {count} x {problem}")
    return rate >= TARGET_CREATES and not errors


# --- Run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="build the tickets again")
    parser.add_argument("--build-only", action="store_true", help="build, measure nothing")
    parser.add_argument("--seconds", type=float, default=CREATE_SECONDS, help="API creation")
    parser.add_argument("--threads", type=int, default=CREATE_THREADS, help="API creation")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries")
    args = parser.parse_args()
    if args.tickets < 10_000 or args.tickets % 5:
        parser.error("use at least 10,000 tickets, a multiple of 5")
    setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from helpdesk import services as helpdesk_services

    version = sql("SELECT version()")[0][0].split(" on ")[0]
    say(f"{version}, database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs")
    build(tickets=args.tickets, customers=args.customers, rebuild=args.rebuild)
    if args.build_only:
        return 0
    earlier_creations_delete(tickets=args.tickets)
    load = os.getloadavg()[0]
    say()
    say(f"Load average before measuring: {load:.2f}")
    if load > 0.5:
        say("  Other work is using this machine's CPUs: expect slower figures than on a quiet one.")
    token, key = api_key_create()
    lead = User.objects.get(username="bench-lead")
    results = targets(requests=REQUESTS)
    for target in results:
        count_queries(target, lead=lead, api_key=key)
    queries = create_queries(api_key=key)
    try:
        with gunicorn(workers=2) as server:
            browser = Browser(server.port)
            browser.login("bench-lead", LOAD_PASSWORD)
            api = Browser(server.port, {"Authorization": f"Token {key}"})
            for target in results:
                time_target(target, api if target.api else browser)
            pages_ok = report_pages(results)
            creates_ok = create_load(
                server=server, key=key, seconds=args.seconds, threads=args.threads, queries=queries
            )
    finally:
        helpdesk_services.api_token_revoke(token=token)
    if args.explain:
        explain(results)
    verdict = {True: "yes", False: "NO"}
    say()
    say(f"Targets met: pages {verdict[pages_ok]}, creation {verdict[creates_ok]}")
    return 0 if pages_ok and creates_ok else 1


if __name__ == "__main__":
    sys.exit(main())
