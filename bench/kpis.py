"""KPIs over a year of support: the nightly roll-up, the KPI report and the management board
at 1,000,000 tickets and 300,000 calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/kpis.py [--tickets 1000000] [--calls 300000] [--runs 20]
                                       [--rebuild] [--explain-full]

Works in `bench_kpis` (created next to the configured database, kept between runs, never
the real one; PostgreSQL only). The year of data is built once with INSERT … SELECT
generate_series and kept (the table comment of `tickets_ticket` records the version, the
sizes and the moment the year ends, which every measurement uses as "now"). Each run
rolls up all 365 days again, then times `kpi_report` over 30 and 365 days (whole, per
channel, per department), the board's selectors, and EXPLAINs the queries of a day's
roll-up and of the report. It prints figures and plans and exits with status 1 only if a
plan reads `tickets_ticket` sequentially or a query count depends on the data: the
500 ms target is printed, not asserted (timings depend on the machine). See bench/README.md.
"""

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bulk  # noqa: E402 - bench/bulk.py: INSERT … SELECT
import django  # noqa: E402

BENCH_DB = "bench_kpis"
DATA_VERSION = 1
BUILD_MARK = "bench/kpis.py v{version}: tickets={tickets} calls={calls} now={now}"
DAYS = 365
CUSTOMERS = 5_000
CHUNK = 250_000
SEED = 2026
TARGET_MS = 500
# Tables a KPI query must never read from end to end.
BIG_TABLES = (
    "tickets_ticket",
    "tickets_ticketmessage",
    "tickets_ticketevent",
    "escalation_slaclock",
    "calls_call",
)

# Shares as a regional provider sees them.
CHANNELS = [
    ("phone", 0.40),
    ("email", 0.30),
    ("portal", 0.15),
    ("chat", 0.08),
    ("api", 0.05),
    ("letter", 0.02),
]
AREAS = [  # support area slug, share (the rest of the first queue comes from the migration)
    ("no-internet", 0.30),
    ("tv-decoder", 0.06),
    ("email-setup", 0.08),
    ("domain-transfer", 0.04),
    ("invoice-question", 0.17),
    ("payment-check", 0.08),
    ("tariff-change", 0.10),
    ("cancellation", 0.06),
    ("general", 0.106),
    ("management", 0.004),
]
ESCALATED = 0.12  # moved up a line where the department has one
HANDED_OFF = 0.04  # handed to billing (or to customer service from billing)
REOPENED = 0.03  # of the resolved ones
RESPONDED = 0.93
TWO_REPLIES = 0.35  # of the responded ones
BREACHED = 0.07  # resolution clocks that broke
CALL_ANSWERED = 0.88


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def step(title: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    say(f"  {title:<56}{time.perf_counter() - started:>8.1f} s")


def setup() -> None:
    """Django on `bench_kpis`, migrated; nothing enqueued reaches a running app's worker."""
    os.environ["VAR_DIR"] = str(ROOT / "var" / BENCH_DB)
    os.environ["REDIS_URL"] = ""
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    bulk.bench_db_use(BENCH_DB, "kpis.py")


sql = bulk.sql
weighted = bulk.weighted
p95 = bulk.percentile_95


# --- Data ---------------------------------------------------------------------------------


def built() -> re.Match | None:
    """The last complete build's mark (tickets, calls, end of the year), or None."""
    mark = sql("SELECT coalesce(obj_description('tickets_ticket'::regclass), '')")[0][0]
    found = re.fullmatch(
        BUILD_MARK.format(version=DATA_VERSION, tickets=r"(\d+)", calls=r"(\d+)", now="(.+)"),
        mark,
    )
    return found


def lookup_tables() -> None:
    """Support areas with their queues and SLA policy, drawn by share."""
    from escalation.models import SlaPolicy
    from tickets.models import Department, Queue, SupportArea

    queues = {(q.department_id, q.line): q.pk for q in Queue.objects.all()}
    billing = Department.objects.get(slug="billing")
    service = Department.objects.get(slug="customer-service")
    default = SlaPolicy.objects.get(is_default=True).pk
    by_department = dict(
        SlaPolicy.objects.filter(priority=None, segment="")
        .exclude(department=None)
        .values_list("department_id", "pk")
    )
    sql("DROP TABLE IF EXISTS bench_area")
    sql(
        "CREATE TEMP TABLE bench_area (low float, high float, area_id bigint, first_queue bigint, "
        "second_queue bigint, handoff_queue bigint, policy_id bigint, ivr text)"
    )
    low = 0.0
    for slug, share in AREAS:
        area = SupportArea.objects.select_related("first_queue").get(slug=slug)
        department = area.first_queue.department_id
        target = service if department == billing.pk else billing
        sql(
            "INSERT INTO bench_area VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                low,
                low + share if slug != AREAS[-1][0] else 1.01,
                area.pk,
                area.first_queue_id,
                queues.get((department, area.first_queue.line + 1)),
                queues[(target.pk, 1)],
                by_department.get(department, default),
                area.ivr_choice or "",
            ],
        )
        low += share


DRAW_SQL = """
CREATE TEMP TABLE bench_draw AS
SELECT d.*, a.area_id, a.first_queue, a.second_queue, a.handoff_queue, a.policy_id,
       CASE WHEN d.r_move < %(escalated)s AND a.second_queue IS NOT NULL THEN 'escalated'
            WHEN d.r_move >= %(escalated)s AND d.r_move < %(moved)s THEN 'handed_off'
            ELSE '' END AS move,
       d.created_at + (5 + 2880 * d.r_response ^ 3) * interval '1 minute' AS response_at,
       d.created_at + (30 + 4320 * d.r_resolve ^ 2) * interval '1 minute' AS resolve_at
FROM (
    SELECT g.i,
           %(start)s::timestamptz + ((g.i - 1) + random()) * %(step)s * interval '1 second'
               AS created_at,
           random() AS r_area, random() AS r_channel, random() AS r_move,
           random() AS r_response, random() AS r_resolve, random() AS r_replies,
           random() AS r_breach, random() AS r_reopen, random() AS r_responded
    FROM generate_series(%(low)s, %(high)s) AS g(i)
) d
JOIN bench_area a ON d.r_area >= a.low AND d.r_area < a.high
"""

TICKETS_FROM = """
FROM (
    SELECT d.*,
           d.r_responded < %(responded)s AND d.response_at < %(now)s AS responded,
           d.resolve_at < %(now)s AND (d.resolve_at < %(now)s - interval '3 days'
                                       OR d.r_resolve < 0.7) AS resolved
    FROM bench_draw d
) p
ORDER BY p.i
"""

TICKET_VALUES = {
    "id": "p.i",
    "reference": "to_char(p.created_at, 'YYYY') || '-' || lpad(p.i::text, 8, '0')",
    "customer_id": "(SELECT min(id) FROM customers_customer) + p.i %% %(customers)s",
    "contact_email": "'kunde' || p.i %% %(customers)s || '@example.net'",
    "subject": "'Anliegen ' || p.i",
    "channel": weighted("p.r_channel", CHANNELS),
    "support_area_id": "p.area_id",
    "queue_id": "CASE p.move WHEN 'escalated' THEN p.second_queue "
    "WHEN 'handed_off' THEN p.handoff_queue ELSE p.first_queue END",
    "previous_queue_id": "CASE WHEN p.move <> '' THEN p.first_queue END",
    "priority": "2",
    "status": "CASE WHEN NOT p.resolved THEN "
    "(CASE WHEN p.responded THEN 'waiting_customer' ELSE 'new' END) "
    "WHEN p.resolve_at < %(now)s - interval '7 days' THEN 'closed' ELSE 'resolved' END",
    "version": "1",
    "created_at": "p.created_at",
    "updated_at": "p.created_at",
    "first_response_at": "CASE WHEN p.responded THEN least(p.response_at, "
    "CASE WHEN p.resolved THEN p.resolve_at END) END",
    "resolved_at": "CASE WHEN p.resolved THEN p.resolve_at END",
    "closed_at": "CASE WHEN p.resolved AND p.resolve_at < %(now)s - interval '7 days' "
    "THEN p.resolve_at + interval '7 days' END",
    "last_message_at": "p.created_at",
    "sla_policy_id": "p.policy_id",
}

MESSAGES_SQL = """
INSERT INTO tickets_ticketmessage (ticket_id, kind, body, body_html, channel, created_at)
SELECT t.id, m.kind, m.body, '', t.channel, m.at
FROM tickets_ticket t
JOIN bench_draw d ON d.i = t.id
CROSS JOIN LATERAL (VALUES
    ('customer', 'Bitte helfen Sie mir.', t.created_at),
    ('reply', 'Wir kümmern uns darum.', t.first_response_at),
    ('reply', 'Ist es jetzt behoben?',
     CASE WHEN d.r_replies < %(two)s THEN t.first_response_at + interval '1 hour' END)
) AS m(kind, body, at)
WHERE m.at IS NOT NULL
ORDER BY m.at
"""

EVENTS_SQL = """
INSERT INTO tickets_ticketevent (ticket_id, kind, data, created_at)
SELECT t.id, e.kind, e.data, e.at
FROM tickets_ticket t
JOIN bench_draw d ON d.i = t.id
CROSS JOIN LATERAL (VALUES
    ('ticket.created', '{}'::jsonb, t.created_at),
    ('ticket.' || d.move,
     jsonb_build_object('from_queue', t.previous_queue_id, 'to_queue', t.queue_id),
     CASE WHEN d.move <> '' THEN t.created_at + interval '20 minutes' END),
    ('ticket.status_changed', '{"from": "open", "to": "resolved"}'::jsonb, t.resolved_at),
    ('ticket.status_changed', '{"from": "resolved", "to": "open"}'::jsonb,
     CASE WHEN d.r_reopen < %(reopened)s THEN t.resolved_at - interval '1 minute' END)
) AS e(kind, data, at)
WHERE e.at IS NOT NULL
ORDER BY e.at
"""

CLOCKS_SQL = """
INSERT INTO escalation_slaclock (ticket_id, kind, policy_id, target_minutes, started_at,
    paused_minutes, warn_at, due_at, breached_at, stopped_at, met)
SELECT t.id, k.kind, t.sla_policy_id, k.target, t.created_at, 0,
       t.created_at + k.target * 0.8 * interval '1 minute',
       t.created_at + k.target * interval '1 minute', k.breached, k.stopped,
       k.stopped IS NOT NULL AND k.breached IS NULL
FROM tickets_ticket t
JOIN bench_draw d ON d.i = t.id
CROSS JOIN LATERAL (VALUES
    ('first_response', 240, t.first_response_at, NULL::timestamptz),
    ('resolution', 2400, t.resolved_at,
     CASE WHEN d.r_breach < %(breached)s THEN t.created_at + interval '40 hours' END)
) AS k(kind, target, stopped, breached)
ORDER BY t.id, k.kind
"""

CALLS_SQL = """
INSERT INTO calls_call ({columns})
SELECT {selects}
FROM (
    SELECT g.i, %(start)s::timestamptz + ((g.i - 1) + random()) * %(step)s * interval '1 second'
               AS started_at,
           random() AS r_area, random() AS r_answered, random() AS r_wait
    FROM generate_series(1, %(calls)s) AS g(i)
) c
LEFT JOIN bench_area a ON c.r_area >= a.low AND c.r_area < a.high AND a.ivr <> ''
ORDER BY c.i
"""

CALL_VALUES = {
    "external_id": "'bench-' || c.i",
    "caller_number": "''",
    "caller_normalized": "''",
    "ivr_choice": "coalesce(a.ivr, '')",
    "typed_customer_number": "''",
    "match": "'none'",
    "queue_name": "''",
    "extension": "CASE WHEN c.r_answered < %(answered)s THEN '201' ELSE '' END",
    "support_area_id": "a.area_id",
    "wait_seconds": "(5 + 600 * c.r_wait ^ 2)::int",
    "started_at": "c.started_at",
    "answered_at": "CASE WHEN c.r_answered < %(answered)s "
    "THEN c.started_at + (5 + 600 * c.r_wait ^ 2)::int * interval '1 second' END",
    "created_at": "c.started_at",
}

REQUESTS_SQL = """
INSERT INTO escalation_managementrequest (ticket_id, customer_id, source, subject, text,
    status, answer_due_at, created_at, updated_at, settled_at, version)
SELECT t.id, t.customer_id, 'portal', t.subject, 'Ich möchte die Geschäftsleitung sprechen.',
       s.status, t.created_at + interval '2 days', t.created_at, t.created_at,
       CASE WHEN s.status = 'settled' THEN t.created_at + interval '5 days' END, 1
FROM tickets_ticket t
JOIN tickets_supportarea a ON a.id = t.support_area_id AND a.slug = 'management'
CROSS JOIN LATERAL (SELECT CASE WHEN t.created_at > %(now)s - interval '20 days'
                                THEN (CASE WHEN t.id %% 2 = 0 THEN 'open' ELSE 'proposed' END)
                                ELSE 'settled' END AS status) s
"""


def build(*, tickets: int, calls: int, now: datetime) -> None:
    """The year up to `now`: customers, tickets with messages, events and clocks, calls,
    requests to management. One transaction; then VACUUM ANALYZE."""
    from django.db import transaction

    from calls.models import Call
    from customers.models import Customer
    from tickets.models import Ticket

    say(f"Building a year of {tickets:,} tickets and {calls:,} calls up to {now:%Y-%m-%d %H:%M}:")
    started = time.perf_counter()
    start = now - timedelta(days=DAYS)
    params = {
        "now": now,
        "start": start,
        "step": DAYS * 86400 / tickets,
        "escalated": ESCALATED,
        "moved": ESCALATED + HANDED_OFF,
        "responded": RESPONDED,
        "two": TWO_REPLIES,
        "reopened": REOPENED,
        "breached": BREACHED,
        "customers": CUSTOMERS,
    }
    with step("empty the tables (TRUNCATE)"):
        sql(
            "TRUNCATE tickets_ticket, tickets_ticketmessage, tickets_ticketevent, "
            "tickets_attachment, tickets_ticketcounter, escalation_slaclock, "
            "escalation_notification, escalation_managementrequest, "
            "escalation_managementrequestevent, escalation_proposal, escalation_kpiday, "
            "escalation_kpirollup, calls_call, customers_customer RESTART IDENTITY CASCADE"
        )
    columns, selects, defaults = bulk.insert_select(
        Customer,
        {
            "number": "'K' || (2000000 + g.i)",
            "first_name": "'Kunde'",
            "last_name": "'Nummer ' || g.i",
            "company": "''",
            "street": "'Hauptstraße ' || g.i",
            "postal_code": "'50667'",
            "city": "'Köln'",
            "email": "'kunde' || g.i || '@example.net'",
            "search_name": "'kunde nummer ' || g.i",
            "phone_password": "''",
        },
    )
    with transaction.atomic():
        sql("SET LOCAL work_mem = '256MB'")
        sql("SELECT setseed(%s)", [SEED / 10_000])
        with step(f"{CUSTOMERS:,} customers"):
            sql(
                f"INSERT INTO customers_customer ({columns}) SELECT {selects} "  # noqa: S608
                "FROM generate_series(1, %(n)s) AS g(i)",
                {**defaults, "n": CUSTOMERS},
            )
        lookup_tables()
        t_columns, t_selects, t_defaults = bulk.insert_select(Ticket, TICKET_VALUES)
        for low in range(1, tickets + 1, CHUNK):
            high = min(low + CHUNK - 1, tickets)
            with step(f"tickets {low:,}…{high:,}, messages, events, clocks"):
                sql("DROP TABLE IF EXISTS bench_draw")
                sql(DRAW_SQL, {**params, "low": low, "high": high})
                sql("ANALYZE bench_draw")
                sql(
                    f"INSERT INTO tickets_ticket ({t_columns}) SELECT {t_selects} {TICKETS_FROM}",
                    {**params, **t_defaults},
                )
                sql(MESSAGES_SQL, params)
                sql(EVENTS_SQL, params)
                sql(CLOCKS_SQL, params)
        sql(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
            "(SELECT max(id) FROM tickets_ticket))"
        )
        c_columns, c_selects, c_defaults = bulk.insert_select(Call, CALL_VALUES)
        with step(f"{calls:,} calls"):
            sql(
                CALLS_SQL.format(columns=c_columns, selects=c_selects),
                {
                    **params,
                    **c_defaults,
                    "calls": calls,
                    "step": DAYS * 86400 / calls,
                    "answered": CALL_ANSWERED,
                },
            )
        with step("requests to management"):
            sql(REQUESTS_SQL, params)
        sql("DROP TABLE IF EXISTS bench_draw, bench_area")
        mark = BUILD_MARK.format(
            version=DATA_VERSION, tickets=tickets, calls=calls, now=now.isoformat()
        )
        sql(f"COMMENT ON TABLE tickets_ticket IS '{mark}'")  # our own constant
        committing = time.perf_counter()
    say(f"  {'commit (deferred foreign-key checks)':<56}{time.perf_counter() - committing:>8.1f} s")
    with step("VACUUM ANALYZE"):
        for table in (*BIG_TABLES, "escalation_managementrequest", "customers_customer"):
            sql(f"VACUUM (ANALYZE) {table}")
    say(f"  {'total':<56}{time.perf_counter() - started:>8.1f} s")


def data_now(*, tickets: int, calls: int, rebuild: bool) -> datetime:
    """The moment the built year ends (built now when missing, stale or asked for)."""
    from django.utils import timezone

    found = None if rebuild else built()
    if found and int(found.group(1)) == tickets and int(found.group(2)) == calls:
        now = datetime.fromisoformat(found.group(3))
        say(
            f"Data present: {tickets:,} tickets, {calls:,} calls, "
            f"the year ending {now:%Y-%m-%d %H:%M}."
        )
        return now
    now = timezone.now().replace(microsecond=0)
    build(tickets=tickets, calls=calls, now=now)
    return now


def sizes() -> None:
    rows = sql(
        "SELECT relname, reltuples::bigint, pg_size_pretty(pg_total_relation_size(oid)) "
        "FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
        [list(BIG_TABLES)],
    )
    for name, count, size in rows:
        say(f"  {name:<32}{count:>12,} rows  {size:>10}")


# --- Measuring ----------------------------------------------------------------------------


class Timing:
    """Wall-clock ms of each run after two warm-ups, the bench process's CPU ms (less
    disturbed by other work on the machine), and the queries of one run with their time."""

    def __init__(self, call: Callable[[], object], runs: int) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(2):
            call()
        self.ms, self.cpu = [], []
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            call()
            self.ms.append((time.perf_counter() - started) * 1000)
            self.cpu.append((time.process_time() - cpu) * 1000)
        with CaptureQueriesContext(connection) as captured:
            call()
        self.queries = len(captured)
        self.sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000


def line(label: str, timing: Timing, *, target: bool = False) -> None:
    median = statistics.median(timing.ms)
    verdict = ""
    if target:
        verdict = "  ok" if median < TARGET_MS else f"  OVER {TARGET_MS} ms"
    say(
        f"  {label:<44}{median:>9.1f}{p95(timing.ms):>9.1f}{max(timing.ms):>9.1f}"
        f"{statistics.median(timing.cpu):>9.1f}{timing.sql_ms:>9.1f}{timing.queries:>6}{verdict}"
    )


def header(title: str) -> None:
    say()
    say(title)
    say(f"  {'':<44}{'median':>9}{'p95':>9}{'max':>9}{'CPU':>9}{'SQL ms':>9}{'SQL':>6}")


def rollup(now: datetime) -> None:
    from django.utils import timezone

    from escalation.models import KpiDay, KpiRollup
    from escalation.services import kpis

    today = timezone.localdate(now)
    say()
    say("Nightly roll-up")
    sql("TRUNCATE escalation_kpiday, escalation_kpirollup")
    started = time.perf_counter()
    days = kpis.kpi_days_rollup(now=now, limit=DAYS + 10, lookback=DAYS + 10)
    total = time.perf_counter() - started
    say(
        f"  all {len(days)} days: {total:.1f} s ({total / len(days) * 1000:.0f} ms a day), "
        f"{KpiDay.objects.count():,} KpiDay rows, "
        f"{KpiRollup.objects.count()} days marked"
    )
    sql("VACUUM (ANALYZE) escalation_kpiday")
    day = today - timedelta(days=100)
    header(f"One day ({day}, {day:%A}) rolled up again, 5 runs (ms)")
    line("kpi_day_rollup", Timing(lambda: kpis.kpi_day_rollup(day=day, now=now), 5))
    line(
        "kpi_day_compute(today), live part of a report",
        Timing(lambda: kpis.kpi_day_compute(timezone.localdate(now)), 5),
    )


def reports(now: datetime, runs: int) -> bool:
    """Time the report; returns whether the query count is the same for every period."""
    from django.utils import timezone

    from escalation.selectors import kpis as report
    from tickets.models import Department

    today = timezone.localdate(now)
    tech = Department.objects.get(slug="tech")
    cases = [
        ("30 days to yesterday", today - timedelta(days=30), today - timedelta(days=1), {}),
        ("30 days with today (live)", today - timedelta(days=29), today, {}),
        ("365 days with today", today - timedelta(days=364), today, {}),
        ("365 days, channel phone", today - timedelta(days=364), today, {"channel": "phone"}),
        ("365 days, department tech", today - timedelta(days=364), today, {"department": tech}),
        (
            "365 days, e-mail x customer service",
            today - timedelta(days=364),
            today,
            {"channel": "email", "department": Department.objects.get(slug="customer-service")},
        ),
    ]
    header(f"kpi_report + kpi_report_as_dict, {runs} runs each (ms); target median < {TARGET_MS}")
    counts = set()
    for label, start, end, filters in cases:
        timing = Timing(
            lambda start=start, end=end, filters=filters: report.kpi_report_as_dict(
                report.kpi_report(start=start, end=end, now=now, **filters)
            ),
            runs,
        )
        line(label, timing, target=True)
        if end == today:
            counts.add(timing.queries)
    data = report.kpi_report_as_dict(
        report.kpi_report(start=today - timedelta(days=364), end=today, now=now)
    )
    totals = data["totals"]
    say(
        f"  365 days: {totals['received']:,} received, {totals['handled']:,} handled, "
        f"first contact {totals['first_contact_rate']} %, "
        f"breach rate {totals['sla_breach_rate']} %, "
        f"first response median {totals['median_first_response_minutes']} / average "
        f"{totals['average_first_response_minutes']} business minutes, "
        f"{totals['calls']:,} calls, average wait {totals['average_wait_seconds']} s, "
        f"days missing {data['days_missing']}"
    )
    return len(counts) == 1


def board(now: datetime, runs: int) -> None:
    from escalation.selectors import kpis as report
    from escalation.selectors import management

    header(f"Management board selectors, {runs} runs each (ms)")
    cases = [
        ("board_requests", lambda: management.board_requests(now=now)),
        ("breaches_by_queue (this week)", lambda: management.breaches_by_queue(now=now)),
        ("moves_per_day (14 days)", lambda: management.moves_per_day(now=now)),
        ("backlog_by_age", lambda: report.backlog_by_age(now=now)),
    ]
    for label, call in cases:
        line(label, Timing(call, runs))
    rows, count = management.board_requests(now=now)
    breaches = management.breaches_by_queue(now=now)
    moves = management.moves_per_day(now=now)
    say(
        f"  {count} unsettled requests ({len(rows)} shown), "
        f"{sum(b['breaches'] for b in breaches):,} breaches this week in {len(breaches)} queues, "
        f"{sum(m['escalated'] + m['handed_off'] for m in moves):,} moves in 14 days"
    )


def explain(now: datetime, full: bool) -> bool:
    """EXPLAIN (ANALYZE, BUFFERS) of each query a day's roll-up, the report and the board
    send; False if one reads a big table sequentially."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from escalation.selectors import kpis as report
    from escalation.selectors import management
    from escalation.services import kpis

    today = timezone.localdate(now)
    day = today - timedelta(days=100)
    groups = [
        (f"kpi_day_compute({day})", lambda: kpis.kpi_day_compute(day)),
        (
            "kpi_report(365 days with today)",
            lambda: report.kpi_report(start=today - timedelta(days=364), end=today, now=now),
        ),
        ("board_requests", lambda: management.board_requests(now=now)),
        ("breaches_by_queue", lambda: management.breaches_by_queue(now=now)),
        ("moves_per_day", lambda: management.moves_per_day(now=now)),
    ]
    say()
    say("EXPLAIN (ANALYZE, BUFFERS) of every SELECT that touches a big table")
    clean = True
    seen = set()
    for title, call in groups:
        with CaptureQueriesContext(connection) as captured:
            call()
        for query in captured.captured_queries:
            statement = query["sql"]
            if not statement.lstrip().upper().startswith("SELECT") or statement in seen:
                continue
            if not any(table in statement for table in (*BIG_TABLES, "escalation_kpiday")):
                continue
            seen.add(statement)
            plan = [row[0] for row in sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")]
            text = "\n".join(plan)
            scans = sorted({t for t in BIG_TABLES if re.search(rf"Seq Scan on {t}\b", text)})
            indexes = sorted(
                set(
                    re.findall(
                        r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)",
                        text,
                    )
                )
            )
            execution = re.search(r"Execution Time: ([\d.]+) ms", text)
            tables = [t for t in (*BIG_TABLES, "escalation_kpiday") if t in statement]
            verdict = "SEQ SCAN on " + ", ".join(scans) if scans else "no seq scan of a big table"
            say(
                f"  {title}: {', '.join(tables)} -> {execution.group(1) if execution else '?'} ms, "
                f"indexes {', '.join(indexes) or '-'}; {verdict}"
            )
            if "tickets_ticket" in scans:
                clean = False
            if full or scans:
                say("    " + statement[:400] + ("…" if len(statement) > 400 else ""))
                for row in plan:
                    say("      " + row)
    return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--explain-full", action="store_true")
    args = parser.parse_args()
    setup()
    say(f"Load average before measuring: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    now = data_now(tickets=args.tickets, calls=args.calls, rebuild=args.rebuild)
    sizes()
    rollup(now)
    same_queries = reports(now, args.runs)
    board(now, args.runs)
    clean = explain(now, args.explain_full)
    say()
    if not same_queries:
        say("FAILED: the report sends a different number of queries for different periods.")
    if not clean:
        say("FAILED: a plan reads tickets_ticket sequentially.")
    return 0 if same_queries and clean else 1


if __name__ == "__main__":
    sys.exit(main())
