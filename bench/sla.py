"""The SLA timer at volume: one sweep pass at 10,000, 100,000 and 1,000,000 open tickets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/sla.py [--steps 10000,100000,1000000] [--runs 5]
                                      [--dead 100000,300000] [--profile]

Works in `bench_sla` (created next to the configured database, kept between runs, never
the real one or `bench_helpdesk`; PostgreSQL only). It grows the open tickets step by step
with set-based SQL (INSERT … SELECT generate_series), each ticket with a first-response
and a resolution clock, and at each step times `escalation.services.sla_sweep`: a pass
with nothing due, a pass with 1,000 clocks due for breach (warning and breach fire, the
tickets' priority is raised and they move to line 2) and a pass with 1,000 warnings. It
prints median and maximum, the SQL statements of a 1,000-due pass, and at the largest
step the plan of the timer's query and the idle pass over dead index entries; it exits
with status 1 if a target (1,000 due under 1 s, nothing due under 50 ms at the largest
step) is missed. See bench/README.md.
"""

import argparse
import cProfile
import io
import itertools
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

# The project root goes first: `import tickets` must find the app.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bulk  # noqa: E402 - bench/bulk.py: INSERT … SELECT
import django  # noqa: E402

BENCH_DB = "bench_sla"
STEPS = (10_000, 100_000, 1_000_000)
DUE = 1_000
IDLE_RUNS = 20
DUE_RUNS = 5
TARGET_DUE_MS = 1_000
TARGET_IDLE_MS = 50
SEED = 2026
DATA_VERSION = 1
BUILD_MARK = "bench/sla.py v{version}: open={open}"
BUILD_CHUNK = 250_000  # tickets per INSERT, so the temporary draw table stays small

# Open tickets only (the timer never looks at done ones): a tenth wait for the customer,
# which pauses their clocks (no fire_at, outside the timer's partial index).
STATUSES = [
    ("new", 0.30),
    ("open", 0.35),
    ("waiting_customer", 0.10),
    ("waiting_third_party", 0.15),
    ("scheduled", 0.10),
]
PRIORITIES = [(1, 0.10), (2, 0.65), (3, 0.20), (4, 0.05)]  # low, normal, high, urgent
CHANNELS = [("phone", 0.45), ("email", 0.30), ("portal", 0.15), ("chat", 0.10)]
SECOND_LINE = 0.10  # share already escalated to line 2 where the department has one
ASSIGNED = 0.60  # share of the worked (not new) tickets with an assignee
AGENTS_PER_DEPARTMENT = 3  # plus one team lead, who gets the breach notices
SUBJECTS = ["Kein Internet seit heute Morgen", "Frage zur Rechnung", "Tarifwechsel gewünscht"]


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def step(title: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    say(f"  {title:<52}{time.perf_counter() - started:>8.1f} s")


def setup() -> None:
    """Django on `bench_sla`, migrated; anything the sweep enqueues stays in var/bench_sla."""
    # The sweep hands notice mails to the broker after each batch: a broker of its own
    # (the filesystem one under var/bench_sla), so no worker of a running app ever reads
    # notification ids that only exist in this database. Set before settings are read.
    os.environ["VAR_DIR"] = str(ROOT / "var" / BENCH_DB)
    # Nobody consumes that broker: drop what earlier runs left there.
    for message in (ROOT / "var" / BENCH_DB / "celery" / "queue").glob("*"):
        message.unlink()
    os.environ["REDIS_URL"] = ""
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            "bench/sla.py needs PostgreSQL: set DATABASE_URL, e.g. "
            f"postgres://postgres@127.0.0.1:5432/helpdesk (it works in {BENCH_DB})."
        )
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    # serialize=False: the test runner's JSON snapshot of the database would take minutes.
    name = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    if name != BENCH_DB or connection.settings_dict["NAME"] != BENCH_DB:
        raise SystemExit(f"Refusing to run: would write to {name!r}, not {BENCH_DB!r}.")
    # Timings as in production: no query log kept in memory (CaptureQueriesContext turns
    # it on for the one pass whose statements are counted).
    settings.DEBUG = False
    # An interrupted run may have left autovacuum held off (measure_dead).
    sql("ALTER TABLE escalation_slaclock RESET (autovacuum_enabled)")


def sql(statement: str, params: dict | list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# --- Data ---------------------------------------------------------------------------------


def weighted(draw: str, choices: list[tuple[object, float]]) -> str:
    """SQL choosing one of (value, share) by the uniform random column `draw`."""
    branches, bound = [], 0.0
    for value, share in choices[:-1]:
        bound += share
        branches.append(f"WHEN {draw} < {bound:.4f} THEN {value!r}")
    return f"CASE {' '.join(branches)} ELSE {choices[-1][0]!r} END"


def built_open() -> int | None:
    """Open tickets of the last complete build, None if there is none of this version."""
    mark = sql("SELECT coalesce(obj_description('escalation_slaclock'::regclass), '')")[0][0]
    found = re.fullmatch(BUILD_MARK.format(version=DATA_VERSION, open=r"(\d+)"), mark)
    return int(found.group(1)) if found else None


def is_clean(now: datetime) -> bool:
    """Nothing left over from an interrupted run: the build writes no events or notices
    (each measured pass deletes its own), and no clock falls due within the hour."""
    events, notices, soon = sql(
        "SELECT (SELECT count(*) FROM tickets_ticketevent), "
        "(SELECT count(*) FROM escalation_notification), "
        "(SELECT count(*) FROM escalation_slaclock WHERE fire_at <= %s)",
        [now + timedelta(hours=1)],
    )[0]
    return events == notices == soon == 0


def agents_place() -> dict[int, list[int]]:
    """A team lead and a few agents per department (idempotent); user ids by department."""
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role
    from tickets import services
    from tickets.models import Department

    staff: dict[int, list[int]] = {}
    for department in Department.objects.prefetch_related("queues"):
        highest = max(queue.line for queue in department.queues.all())
        members = [("lead", Role.TEAM_LEAD, True)] + [
            (str(n), Role.AGENT, False) for n in range(1, AGENTS_PER_DEPARTMENT + 1)
        ]
        for suffix, role, lead in members:
            user, created = User.objects.get_or_create(
                username=f"bench-sla-{department.slug}-{suffix}",
                defaults={"email": f"{department.slug}-{suffix}@bench.example"},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            helpdesk_services.user_role_grant(user=user, role=role)
            services.agent_profile_set(
                user=user, departments=[department], highest_line=highest, is_team_lead=lead
            )
            if not lead:
                staff.setdefault(department.pk, []).append(user.pk)
    return staff


def lookup_table(staff: dict[int, list[int]]) -> None:
    """Temporary table the generator joins: support areas with their queues and agents."""
    from tickets.models import Queue, SupportArea

    sql("DROP TABLE IF EXISTS bench_area")
    sql(
        "CREATE TEMP TABLE bench_area (n int, area_id bigint, first_queue_id bigint, "
        "second_queue_id bigint, agents bigint[])"
    )
    second = dict(Queue.objects.filter(line=2).values_list("department_id", "pk"))
    areas = SupportArea.objects.select_related("first_queue").order_by("pk")
    for n, area in enumerate(areas):
        department = area.first_queue.department_id
        sql(
            "INSERT INTO bench_area VALUES (%s, %s, %s, %s, %s)",
            [n, area.pk, area.first_queue_id, second.get(department), staff[department]],
        )
    sql("ANALYZE bench_area")


# One row per ticket with every random draw; the first-response deadline 1 to 11 days
# ahead and the resolution 1 to 21 days after it (far enough that a run of this script
# finds nothing due but what it arms itself).
DRAWS_SQL = """
CREATE TEMP TABLE bench_draw AS
SELECT d.*, d.first_due + (1 + 20 * d.r_gap) * interval '1 day' AS resolution_due
FROM (
    SELECT g.i,
           %(now)s::timestamptz - random() * interval '14 days' AS created_at,
           %(now)s::timestamptz + (1 + 10 * random()) * interval '1 day' AS first_due,
           random() AS r_area, random() AS r_line, random() AS r_status, random() AS r_priority,
           random() AS r_channel, random() AS r_assigned, random() AS r_agent,
           random() AS r_subject, random() AS r_gap
    FROM generate_series(%(low)s, %(high)s) AS g(i)
) d
"""

TICKETS_FROM = f"""
FROM (
    SELECT d.*, a.area_id, a.agents,
           {weighted("d.r_status", STATUSES)} AS status,
           d.r_line < {SECOND_LINE} AND a.second_queue_id IS NOT NULL AS escalated,
           a.first_queue_id, a.second_queue_id
    FROM bench_draw d
    JOIN bench_area a ON a.n = floor(d.r_area * (SELECT count(*) FROM bench_area))::int
) p
ORDER BY p.i
"""  # noqa: S608 - the module's own constants

TICKETS_VALUES = {
    "id": "p.i",
    "reference": "%(year)s || '-' || lpad(p.i::text, 7, '0')",
    "customer_id": "NULL",
    "contact_email": "'sender' || p.i || '@example.net'",
    "subject": f"(%(subjects)s::text[])[1 + floor(p.r_subject * {len(SUBJECTS)})::int]",
    "channel": weighted("p.r_channel", CHANNELS),
    "support_area_id": "p.area_id",
    "queue_id": "CASE WHEN p.escalated THEN p.second_queue_id ELSE p.first_queue_id END",
    "previous_queue_id": "CASE WHEN p.escalated THEN p.first_queue_id END",
    "assignee_id": f"CASE WHEN p.status = 'new' OR p.r_assigned >= {ASSIGNED} THEN NULL "
    "ELSE p.agents[1 + floor(p.r_agent * cardinality(p.agents))::int] END",
    "priority": weighted("p.r_priority", PRIORITIES),
    "status": "p.status",
    "version": "1",
    "created_at": "p.created_at",
    "updated_at": "p.created_at",
    "last_message_at": "p.created_at",
    "sla_policy_id": "%(policy)s",
    # The earliest running deadline, mirrored as escalation.services._mirror does.
    "sla_due_at": "CASE WHEN p.status <> 'waiting_customer' THEN p.first_due END",
    "sla_warn_at": "CASE WHEN p.status <> 'waiting_customer' "
    "THEN p.first_due - %(first_warn_gap)s * interval '1 minute' END",
}

# Both clocks of each ticket under the default policy; a ticket waiting for the customer
# has them paused (no fire_at), every other has fire_at = warn_at.
CLOCKS_SQL = """
INSERT INTO escalation_slaclock (ticket_id, kind, policy_id, target_minutes, started_at,
    paused_minutes, paused_at, warn_at, due_at, warned_at, breached_at, stopped_at, met,
    fire_at)
SELECT t.id, k.kind, %(policy)s, k.target, t.created_at, 0, p.paused_at,
       k.due_at - k.warn_gap * interval '1 minute', k.due_at, NULL, NULL, NULL, false,
       CASE WHEN p.paused_at IS NULL THEN k.due_at - k.warn_gap * interval '1 minute' END
FROM tickets_ticket t
JOIN bench_draw d ON d.i = t.id AND t.id BETWEEN %(low)s AND %(high)s
CROSS JOIN LATERAL (
    SELECT CASE WHEN t.status = 'waiting_customer'
                THEN least(%(now)s, t.created_at + interval '2 hours') END AS paused_at
) p
CROSS JOIN LATERAL (VALUES
    ('first_response', %(first_target)s, d.first_due, %(first_warn_gap)s),
    ('resolution', %(resolution_target)s, d.resolution_due, %(resolution_warn_gap)s)
) AS k(kind, target, due_at, warn_gap)
ORDER BY t.id, k.kind
"""


def warn_gap(target: int, warning_percent: int) -> int:
    """Minutes between warning and deadline (wall-clock here; the app counts business time)."""
    return target - max(1, -(-target * warning_percent // 100))


def grow(*, target: int, now: datetime) -> None:
    """Open tickets 1…target with their clocks: reuse what is there, add what is missing,
    start over if there are more or the data is stale."""
    from django.db import transaction

    from escalation.models import SlaPolicy
    from tickets.models import Ticket

    have = built_open()
    if have == target and is_clean(now):
        say(f"{target:,} open tickets present; nothing to build.")
        return
    if have is None or have > target or not is_clean(now):
        with step("empty the ticket and clock tables (TRUNCATE)"):
            sql(
                "TRUNCATE tickets_ticket, tickets_ticketmessage, tickets_ticketevent, "
                "tickets_attachment, tickets_ticketcounter, escalation_slaclock, "
                "escalation_notification RESTART IDENTITY CASCADE"
            )
        have = 0
    say(f"Growing from {have:,} to {target:,} open tickets:")
    started = time.perf_counter()
    policy = SlaPolicy.objects.get(is_default=True)
    params = {
        "now": now,
        "year": str(now.year),
        "subjects": SUBJECTS,
        "policy": policy.pk,
        "first_target": policy.first_response_minutes,
        "resolution_target": policy.resolution_minutes,
        "first_warn_gap": warn_gap(policy.first_response_minutes, policy.warning_percent),
        "resolution_warn_gap": warn_gap(policy.resolution_minutes, policy.warning_percent),
    }
    staff = agents_place()
    columns, selects, defaults = bulk.insert_select(Ticket, TICKETS_VALUES)
    with transaction.atomic():
        sql("SET LOCAL work_mem = '256MB'")  # sorts of a chunk, this transaction only
        sql("SELECT setseed(%s)", [(SEED + have % 997) / 10_000])
        lookup_table(staff)
        for low in range(have + 1, target + 1, BUILD_CHUNK):
            high = min(low + BUILD_CHUNK - 1, target)
            with step(f"tickets {low:,}…{high:,} and their clocks"):
                sql("DROP TABLE IF EXISTS bench_draw")
                bounds = {"low": low, "high": high}
                sql(DRAWS_SQL, {**params, **bounds})
                sql("ANALYZE bench_draw")
                sql(
                    f"INSERT INTO tickets_ticket ({columns}) SELECT {selects} {TICKETS_FROM}",
                    {**params, **defaults},
                )
                sql(CLOCKS_SQL, {**params, **bounds})
        sql(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
            "(SELECT max(id) FROM tickets_ticket))"
        )
        # Tickets created in this database later continue after the bulk references.
        sql(
            "INSERT INTO tickets_ticketcounter (year, last) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last = EXCLUDED.last",
            [now.year, target],
        )
        sql("DROP TABLE bench_draw, bench_area")
        mark = BUILD_MARK.format(version=DATA_VERSION, open=target)
        sql(f"COMMENT ON TABLE escalation_slaclock IS '{mark}'")  # our own constant
        committing = time.perf_counter()
    say(f"  {'commit (deferred foreign-key checks)':<52}{time.perf_counter() - committing:>8.1f} s")
    with step("VACUUM ANALYZE"):
        for table in ("tickets_ticket", "escalation_slaclock"):
            sql(f"VACUUM (ANALYZE) {table}")
    say(f"  {'total':<52}{time.perf_counter() - started:>8.1f} s")


# --- Arming clocks and putting everything back ------------------------------------------


def candidates(rng: random.Random) -> list[int]:
    """Open first-line tickets with running clocks, shuffled: each repetition takes the
    next 1,000, so no repetition meets a ticket an earlier one moved."""
    ids = [
        row[0]
        for row in sql(
            "SELECT t.id FROM tickets_ticket t JOIN tickets_queue q ON q.id = t.queue_id "
            "WHERE q.line = 1 AND t.status IN ('new', 'open', 'waiting_third_party', "
            "'scheduled') ORDER BY t.id"
        )
    ]
    rng.shuffle(ids)
    return ids


def arm(ids: list[int], *, now: datetime, breach: bool) -> None:
    """Make the first-response clock of these tickets due: warning and breach in the past
    (both fire), or the warning only. Saves the rows first so `disarm` can restore them."""
    sql("DROP TABLE IF EXISTS bench_saved_ticket, bench_saved_clock")
    sql(
        "CREATE TEMP TABLE bench_saved_ticket AS SELECT * FROM tickets_ticket WHERE id = ANY(%s)",
        [ids],
    )
    sql(
        "CREATE TEMP TABLE bench_saved_clock AS "
        "SELECT * FROM escalation_slaclock WHERE ticket_id = ANY(%s)",
        [ids],
    )
    if breach:
        # The clocks started three hours ago, so the policy chosen after the priority
        # raise still puts the resolution deadline ahead (no second wave in this pass).
        sql(
            "UPDATE escalation_slaclock SET started_at = %(start)s WHERE ticket_id = ANY(%(ids)s)",
            {"start": now - timedelta(hours=3), "ids": ids},
        )
        warn, due = now - timedelta(minutes=30), now - timedelta(minutes=1)
    else:
        warn, due = now - timedelta(minutes=1), now + timedelta(hours=1)
    sql(
        "UPDATE escalation_slaclock SET warn_at = %(warn)s, due_at = %(due)s, fire_at = %(warn)s, "
        "warned_at = NULL, breached_at = NULL "
        "WHERE ticket_id = ANY(%(ids)s) AND kind = 'first_response'",
        {"warn": warn, "due": due, "ids": ids},
    )


def disarm() -> None:
    """Tickets and clocks as saved by `arm`; the pass's events and notices deleted (the
    build writes none, so every one is the pass's)."""
    from escalation.models import SlaClock
    from tickets.models import Ticket

    for model, saved in ((Ticket, "bench_saved_ticket"), (SlaClock, "bench_saved_clock")):
        table = model._meta.db_table
        columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
        assignments = ", ".join(f"{column} = s.{column}" for column in columns)
        sql(f"UPDATE {table} AS r SET {assignments} FROM {saved} AS s WHERE r.id = s.id")  # noqa: S608
    sql("DELETE FROM tickets_ticketevent")
    sql("DELETE FROM escalation_notification")


# --- Measuring ---------------------------------------------------------------------------


class Timing(NamedTuple):
    ms: list[float]
    fired: str

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def max(self) -> float:
        return max(self.ms)

    def cell(self) -> str:
        return f"{self.median:.1f} / {self.max:.1f}"


def sweep(now: datetime):
    from escalation import services

    return services.sla_sweep(now=now)


def timed_sweep() -> tuple[float, object]:
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    result = sweep(now)
    return (time.perf_counter() - started) * 1000, result


def fired_text(result) -> str:
    return f"{result.warnings} warnings + {result.breaches} breaches in {result.batches} batches"


def measure_idle(runs: int) -> Timing:
    timed_sweep()  # first-use caches are not what a pass costs
    times = []
    for _ in range(runs):
        ms, result = timed_sweep()
        if result.fired:
            raise SystemExit(f"A pass with nothing due fired {result.fired}: stale data?")
        times.append(ms)
    return Timing(times, "0")


def measure_due(
    runs: int, pool: Iterator[list[int]], *, breach: bool, around: Callable | None = None
) -> tuple[Timing, object]:
    """Warm-up and `runs` passes, each over 1,000 freshly armed tickets; `around`, if
    given, wraps one extra pass (counting statements, profiling) and returns its result."""
    from django.utils import timezone

    times, results, extra = [], [], None
    for run in range(runs + 1 + (around is not None)):
        arm(next(pool), now=timezone.now(), breach=breach)
        try:
            if run > runs:
                extra = around(timed_sweep)
                continue
            ms, result = timed_sweep()
        finally:
            disarm()
        if run:  # run 0 warms up
            times.append(ms)
            results.append(fired_text(result))
    fired = " | ".join(sorted(set(results)))
    return Timing(times, fired), extra


def statement_shape(statement: str) -> str:
    """A statement without its values: what kind of query it is."""
    shape = re.sub(r"'[^']*'|\b\d+\b", "?", statement)
    shape = re.sub(r"(\?(, )?)+", "…", shape)
    shape = re.sub(r"\(CASE WHEN .*? END\)", "(CASE …)", shape)
    return " ".join(shape.split())[:110]


class Statements(NamedTuple):
    count: int
    sql_ms: float
    wall_ms: float
    by_shape: list[tuple[str, int, float]]  # shape, count, ms


def count_statements(run: Callable) -> Statements:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        wall_ms, _result = run()
    shapes: dict[str, list[float]] = defaultdict(list)
    for query in captured.captured_queries:
        shapes[statement_shape(query["sql"])].append(float(query["time"]) * 1000)
    by_shape = sorted(
        ((shape, len(ms), sum(ms)) for shape, ms in shapes.items()), key=lambda row: -row[2]
    )
    total = sum(ms for _shape, _count, ms in by_shape)
    return Statements(len(captured), total, wall_ms, by_shape)


def profile(run: Callable) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def explain_due_query(label: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the timer's select exactly as Django sends it (in a
    transaction rolled back: it locks the rows it finds)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from escalation import services
    from escalation.models import SlaClock

    query = (
        SlaClock.objects.filter(fire_at__lte=timezone.now())
        .order_by("fire_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[: services.SWEEP_BATCH]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        statement, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return [label, *(f"  {line}" for line in lines)]


def explain_with_due(pool: Iterator[list[int]]) -> list[str]:
    from django.utils import timezone

    arm(next(pool), now=timezone.now(), breach=True)
    try:
        return explain_due_query("1,000 due:")
    finally:
        disarm()


def measure_dead(counts: list[int]) -> list[tuple[int, Timing, Timing]]:
    """The idle pass with N dead entries of sla_clock_due in the past, as N clocks that
    fired or were re-armed since the last VACUUM leave them (the timer's bitmap scan
    cannot mark them dead), and again after a VACUUM. Autovacuum is held off meanwhile."""
    from django.utils import timezone

    rows = []
    sql("ALTER TABLE escalation_slaclock SET (autovacuum_enabled = false)")
    try:
        for count in counts:
            sql("DROP TABLE IF EXISTS bench_dead")
            sql(
                "CREATE TEMP TABLE bench_dead AS SELECT id, fire_at FROM escalation_slaclock "
                "WHERE fire_at IS NOT NULL ORDER BY random() LIMIT %s",
                [count],
            )
            # Due for a moment, then back where they were: the due versions are now dead.
            sql(
                "UPDATE escalation_slaclock AS c SET fire_at = %s - random() * interval '1 day' "
                "FROM bench_dead AS d WHERE c.id = d.id",
                [timezone.now()],
            )
            sql(
                "UPDATE escalation_slaclock AS c SET fire_at = d.fire_at "
                "FROM bench_dead AS d WHERE c.id = d.id"
            )
            with_dead = measure_idle(IDLE_RUNS // 2)
            sql("VACUUM escalation_slaclock")
            rows.append((count, with_dead, measure_idle(IDLE_RUNS // 2)))
    finally:
        sql("ALTER TABLE escalation_slaclock RESET (autovacuum_enabled)")
        sql("DROP TABLE IF EXISTS bench_dead")
    return rows


class Row(NamedTuple):
    open: int
    armed: int
    index_mb: float
    idle: Timing
    due: Timing
    warn: Timing
    statements: Statements


def measure(
    *,
    open_tickets: int,
    runs: int,
    rng: random.Random,
    last: bool,
    profiling: bool,
    dead: list[int],
):
    say()
    # Fresh or reused, every step starts from a vacuumed table (no dead index entries).
    for table in ("tickets_ticket", "escalation_slaclock"):
        sql(f"VACUUM (ANALYZE) {table}")
    armed, index_bytes = sql(
        "SELECT (SELECT count(*) FROM escalation_slaclock WHERE fire_at IS NOT NULL), "
        "pg_relation_size('sla_clock_due')"
    )[0]
    say(
        f"Measuring at {open_tickets:,} open tickets ({armed:,} armed clocks, "
        f"index sla_clock_due {index_bytes / 2**20:.1f} MB)"
    )
    # Disjoint sets of 1,000 as far as they go (at 10,000 tickets they repeat; the
    # tickets and clocks are restored after each pass, so a repeat measures the same).
    # Only the sets needed are kept: a list of 700,000 ids would slow the collector.
    ids = candidates(rng)[: DUE * (2 * runs + 6)]
    pool = itertools.cycle([ids[i : i + DUE] for i in range(0, len(ids) - DUE + 1, DUE)])
    idle = measure_idle(IDLE_RUNS)
    say(f"  nothing due ({IDLE_RUNS} passes): median {idle.cell()} ms (median / max)")
    due, statements = measure_due(runs, pool, breach=True, around=count_statements)
    say(f"  1,000 due for breach ({runs} passes): {due.cell()} ms; fired {due.fired}")
    warn, _ = measure_due(runs, pool, breach=False)
    say(f"  1,000 warnings ({runs} passes): {warn.cell()} ms; fired {warn.fired}")
    # The passes above left dead entries in sla_clock_due (fire_at in the past, the rows
    # since updated) until autovacuum comes: the next idle pass walks over them.
    after = measure_idle(IDLE_RUNS)
    say(f"  nothing due again, right after those passes: {after.cell()} ms")
    say(
        f"  statements of a 1,000-due pass: {statements.count} "
        f"(SQL {statements.sql_ms:.0f} ms of {statements.wall_ms:.0f} ms, counted with the "
        "query log on)"
    )
    if last:
        say()
        say("  The statements of that pass by time (count, ms):")
        for shape, count, ms in statements.by_shape[:12]:
            say(f"    {count:>4} {ms:>7.1f}  {shape}")
        say()
        say("  EXPLAIN (ANALYZE, BUFFERS) of the timer's select (SWEEP_BATCH rows, FOR UPDATE):")
        for line in explain_due_query("nothing due:") + explain_with_due(pool):
            say(f"    {line}")
        if dead:
            say()
            say(
                "  Nothing due, with dead entries of sla_clock_due in the past (clocks fired "
                "or re-armed since the last VACUUM), ms median / max:"
            )
            for count, with_dead, vacuumed in measure_dead(dead):
                say(
                    f"    {count:>9,} dead entries: {with_dead.cell():>13}; "
                    f"after VACUUM {vacuumed.cell()}"
                )
        if profiling:
            say()
            say("  cProfile of one 1,000-due pass (cumulative):")
            _timing, text = measure_due(0, pool, breach=True, around=profile)
            for line in text.splitlines()[:60]:
                say(f"    {line}")
    return Row(open_tickets, armed, index_bytes / 2**20, idle, due, warn, statements)


def report(rows: list[Row]) -> bool:
    say()
    say(
        "Pass time in ms, median / max (nothing due: "
        f"{IDLE_RUNS} passes; 1,000 due: {len(rows[0].due.ms)} passes each)"
    )
    header = (
        f"  {'open tickets':>13} | {'armed clocks':>12} | {'nothing due':>13} | "
        f"{'1,000 due':>17} | {'1,000 warnings':>15} | {'statements':>10}"
    )
    say(header)
    say("  " + "-" * (len(header) - 2))
    for row in rows:
        say(
            f"  {row.open:>13,} | {row.armed:>12,} | {row.idle.cell():>13} | "
            f"{row.due.cell():>17} | {row.warn.cell():>15} | {row.statements.count:>10}"
        )
    biggest = rows[-1]
    ok_due = biggest.due.max < TARGET_DUE_MS
    ok_idle = biggest.idle.max < TARGET_IDLE_MS
    verdict = {True: "yes", False: "NO"}
    say()
    say(
        f"Targets at {biggest.open:,}: 1,000 due under {TARGET_DUE_MS} ms {verdict[ok_due]} "
        f"(max {biggest.due.max:.0f} ms); nothing due under {TARGET_IDLE_MS} ms "
        f"{verdict[ok_idle]} (max {biggest.idle.max:.1f} ms)"
    )
    return ok_due and ok_idle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        default=",".join(str(s) for s in STEPS),
        help="open tickets per step, growing (default %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=DUE_RUNS, help="passes per 1,000-due case")
    parser.add_argument("--profile", action="store_true", help="cProfile a 1,000-due pass")
    parser.add_argument(
        "--dead",
        default="100000,300000",
        help="at the last step, time the idle pass with this many dead index entries "
        "(default %(default)s; 0 skips)",
    )
    args = parser.parse_args()
    steps = [int(s.replace("_", "")) for s in args.steps.split(",")]
    dead = [int(n) for n in args.dead.replace("_", "").split(",") if n.strip() and int(n)]
    if steps != sorted(set(steps)) or steps[0] < 10_000:
        parser.error("steps must grow and start at 10,000 or more")
    setup()
    from django.db import connection
    from django.utils import timezone

    version = sql("SELECT version()")[0][0].split(" on ")[0]
    say(f"{version}, database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs")
    say(f"Load average: {os.getloadavg()[0]:.2f}")
    rng = random.Random(SEED)  # noqa: S311 - which tickets to arm, not a secret
    rows = []
    for index, open_tickets in enumerate(steps):
        say()
        grow(target=open_tickets, now=timezone.now())
        last = index == len(steps) - 1
        rows.append(
            measure(
                open_tickets=open_tickets,
                runs=args.runs,
                rng=rng,
                last=last,
                profiling=args.profile,
                dead=dead,
            )
        )
    return 0 if report(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
