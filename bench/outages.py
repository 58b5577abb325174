"""Outages at volume: the check on every customer page, and resolving 20,000 linked tickets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/outages.py [--customers 1000000] [--active 50]
                                          [--resolved 5000] [--tickets 20000]
                                          [--checks 300] [--page-runs 50] [--rebuild]
                                          [--redis redis://127.0.0.1:6379/15]

Works in `bench_outages` (created next to the configured database, kept between runs,
never the real one; PostgreSQL only). The first run builds 1,000,000 customers on
realistic German postal codes (8,000 codes over 01067-99998, a few cities dense, most
codes sparse) with their DSL, VoIP and TV lines, 50 active outages over a few postal-code
ranges each and 5,000 resolved ones, all with set-based SQL or bulk inserts; later runs
reuse them.

It then measures, in this process with DEBUG off:

1. `tickets.selectors.outages.outages_affecting` for a few hundred random customers (their
   postal code and line kinds): SQL queries per check (must be 1: the script stops
   otherwise), median/p95/max ms, and the plan of the query (EXPLAIN ANALYZE) with a
   verdict on the indexes `outage_active` and `outage_area_range`;
2. the customer page (`/agent/customers/<number>/`, Django's test client, an agent signed
   in) for a customer under an active outage and one outside every outage;
3. resolving an outage with 20,000 open linked tickets (customers with e-mail addresses,
   both SLA clocks running): `outage_resolve` as the web request does it, then the batches
   exactly as the Celery task runs them (`outage_tickets_resolve_batch` with
   settings.OUTAGE_BATCH_SIZE until finished), then checks that every ticket is resolved
   once, with one status event and one mail;
4. a worker dying: a second outage with 20,000 tickets, some batches, a batch rolled back
   halfway (the worker died before its commit), the beat pass `outages_work_resume`, and
   two workers draining the rest at once; the counts must still be exact.

It exits with status 1 when a check fails or the resolution is not exact. See
bench/README.md.
"""

import argparse
import os
import random
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path

# The project root goes first: `import tickets` must find the app, not bench/tickets.py.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "bench_outages"
# Resolving an outage enqueues its task and one send task per mail: they go to the
# filesystem broker under var/bench_outages (set before Django reads its settings), so no
# worker of a running app ever sees ids that exist only in this database.
os.environ["VAR_DIR"] = str(ROOT / "var" / BENCH_DB)
os.environ["REDIS_URL"] = ""
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import bulk  # noqa: E402 - bench/bulk.py: INSERT … SELECT
import django  # noqa: E402

SEED = 2026
DATA_VERSION = 1
BUILD_MARK = (
    "bench/outages.py v{version}: customers={customers} active={active} resolved={resolved}"
)
BUILD_CHUNK = 250_000  # customers per INSERT
POSTAL_CODES = 8_000  # Germany has about 8,200
# Leading digits no German postal code uses (00, 05, 11, 43, 62).
UNUSED_PREFIXES = {"00", "05", "11", "43", "62"}
AGENT = "bench-outages-agent"
RUN_PREFIX = "bench-run-"  # external ids of the outages a run opens (deleted by the next run)

# Cities by first digit of the postal code (customers.demo.PLACES gives the real ones).
FIRST_NAMES = [
    "Anna", "Lena", "Lea", "Mia", "Emma", "Sophie", "Marie", "Laura", "Julia", "Sarah",
    "Katharina", "Sabine", "Monika", "Petra", "Ursula", "Renate", "Claudia", "Andrea",
    "Jonas", "Leon", "Lukas", "Paul", "Felix", "Max", "Tim", "Jan", "Niklas", "Tobias",
    "Michael", "Thomas", "Andreas", "Stefan", "Peter", "Klaus", "Wolfgang", "Jürgen",
    "Hans", "Uwe", "Frank", "Markus", "Piotr", "Anna-Lena", "Oliver", "Emily",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
    "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
    "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann",
    "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer",
    "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung",
    "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger",
    "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster",
    "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer",
    "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt",
    "Haas", "Schreiber", "Graf", "Nowak", "Kowalski", "Yilmaz", "Kaya", "Smith",
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße",
    "Bergstraße", "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße",
    "Schillerstraße", "Goethestraße", "Mühlenweg", "Amselweg", "Jahnstraße", "Wiesenweg",
]  # fmt: skip
# Ticket statuses of the open tickets under an outage (new and open mostly: they were
# filed in the hours since it began).
STATUSES = [
    ("new", 0.45),
    ("open", 0.30),
    ("waiting_customer", 0.10),
    ("waiting_third_party", 0.10),
    ("scheduled", 0.05),
]
PRIORITIES = [(1, 0.05), (2, 0.70), (3, 0.20), (4, 0.05)]
CHANNELS = [("phone", 0.55), ("email", 0.20), ("portal", 0.20), ("chat", 0.05)]
SUBJECTS = [
    "Kein Internet seit heute Morgen",
    "Telefon tot, Internet auch weg",
    "DSL-Lampe blinkt nur noch",
    "No internet since this morning",
    "Brak internetu od rana",
]
OUTAGE_TITLES = [
    "DSL-Störung {}",
    "Telefonie gestört {}",
    "TV-Empfang gestört {}",
    "Glasfaserschaden {}",
    "Stromausfall im Verteiler {}",
    "Wartungsarbeiten mit Ausfall {}",
]
SERVICE_SETS = [["dsl"], ["dsl", "voip"], ["voip"], ["tv"], ["dsl", "voip", "tv"]]


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def step(title: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    say(f"  {title:<52}{time.perf_counter() - started:>8.1f} s")


def broker_empty(redis_url: str) -> None:
    """Drop the tasks a run enqueued: nobody consumes this broker."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.delete("celery", *client.keys("_kombu.binding*.celery"))
        return
    for message in (ROOT / "var" / BENCH_DB / "celery" / "queue").glob("*"):
        message.unlink()


def setup(redis_url: str) -> None:
    """Django on `bench_outages`, migrated; refuses any other database."""
    broker_empty(redis_url)  # what an interrupted run left
    django.setup()
    bulk.bench_db_use(BENCH_DB, "outages.py")


sql = bulk.sql
weighted = bulk.weighted
percentile_95 = bulk.percentile_95


# --- Data ---------------------------------------------------------------------------------


def postal_codes(rng: random.Random) -> list[tuple[str, str]]:
    """(code, city) of POSTAL_CODES distinct codes spread over Germany's ranges; the city is
    the demo place nearest by number (customers.demo.PLACES), so pages read plausibly."""
    from customers.demo import PLACES

    pool = [f"{n:05}" for n in range(1_067, 99_999) if f"{n:05}"[:2] not in UNUSED_PREFIXES]
    codes = sorted(rng.sample(pool, POSTAL_CODES))
    places = sorted((int(code), city) for code, city, _area in PLACES)
    return [
        (code, min(places, key=lambda place, c=int(code): abs(place[0] - c))[1]) for code in codes
    ]


def built_mark() -> str:
    return sql("SELECT coalesce(obj_description('tickets_outage'::regclass), '')")[0][0]


# Customers pick a postal code with a skew: the code table is shuffled, and the draw
# favours its first rows (power 2.2), so a few codes hold thousands of customers (city
# centres) and most a few dozen, as a provider's customer base does.
CUSTOMERS_FROM = """
FROM (
    SELECT g.i, random() AS r_code, random() AS r_first, random() AS r_last,
           random() AS r_street, random() AS r_house, random() AS r_lang, random() AS r_mail,
           random() AS r_segment, random() AS r_age
    FROM generate_series(%(low)s, %(high)s) AS g(i)
) d
JOIN bench_code c ON c.n = floor(power(d.r_code, 2.2) * %(codes)s)::int
ORDER BY d.i
"""

CUSTOMERS_VALUES = {
    "id": "d.i",
    "number": "'K' || (1000000 + d.i)",
    "first_name": "(%(first)s::text[])[1 + floor(d.r_first * %(first_n)s)::int]",
    "last_name": "(%(last)s::text[])[1 + floor(d.r_last * %(last_n)s)::int]",
    "company": "''",
    "street": "(%(streets)s::text[])[1 + floor(d.r_street * %(streets_n)s)::int] || ' ' "
    "|| (1 + floor(d.r_house * 120)::int)",
    "postal_code": "c.code",
    "city": "c.city",
    # 8 % without an address: the resolution mails only those who have one.
    "email": "CASE WHEN d.r_mail < 0.92 THEN 'kunde' || d.i || '@example.net' ELSE '' END",
    "language": weighted("d.r_lang", [("de", 0.90), ("en", 0.05), ("pl", 0.05)]),
    "segment": "CASE WHEN d.r_segment < 0.12 THEN 'business' ELSE 'private' END",
    "search_name": "lower((%(last)s::text[])[1 + floor(d.r_last * %(last_n)s)::int] || ' ' "
    "|| (%(first)s::text[])[1 + floor(d.r_first * %(first_n)s)::int])",
    "phone_password": "''",
    "created_at": "%(now)s::timestamptz - d.r_age * interval '3650 days'",
}

# Lines: every customer a DSL line, a third VoIP, a fifth TV (kinds drawn from the id, so
# the same customers get the same lines on every build).
LINES = [
    ("dsl", "true", "'DEU.' || lpad((c.id %% 10000)::text, 4, '0') || '.' || c.id"),
    ("voip", "c.id %% 3 = 0", "'0' || (200 + c.id %% 700) || ' ' || (2000000 + c.id)"),
    ("tv", "c.id %% 5 = 0", "'SC-' || c.id"),
]


def build(*, customers: int, active: int, resolved: int, rebuild: bool) -> None:
    """Customers with lines, and the outages (active and resolved), once."""
    from django.db import transaction

    from customers.models import Connection, Customer

    mark = BUILD_MARK.format(
        version=DATA_VERSION, customers=customers, active=active, resolved=resolved
    )
    if built_mark() == mark and not rebuild:
        say(f"Data present ({mark}); nothing to build.")
        return
    say("Building the data:")
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 - benchmark data, not secrets
    codes = postal_codes(rng)
    now = datetime.now().astimezone()
    with transaction.atomic():
        with step("empty the tables (TRUNCATE)"):
            sql(
                "TRUNCATE customers_customer, customers_connection, tickets_outage, "
                "tickets_outagearea, tickets_outageupdate, tickets_ticket "
                "RESTART IDENTITY CASCADE"
            )
        sql("SET LOCAL work_mem = '256MB'")
        sql("SELECT setseed(%s)", [SEED / 10_000])
        shuffled = codes[:]
        rng.shuffle(shuffled)
        sql("DROP TABLE IF EXISTS bench_code")
        sql(
            "CREATE TEMP TABLE bench_code AS SELECT (n - 1)::int AS n, code, city "
            "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS t(code, city, n)",
            [[code for code, _city in shuffled], [city for _code, city in shuffled]],
        )
        sql("ANALYZE bench_code")
        columns, selects, defaults = bulk.insert_select(Customer, CUSTOMERS_VALUES)
        params = {
            "codes": len(codes),
            "first": FIRST_NAMES,
            "first_n": len(FIRST_NAMES),
            "last": LAST_NAMES,
            "last_n": len(LAST_NAMES),
            "streets": STREETS,
            "streets_n": len(STREETS),
            "now": now,
            **defaults,
        }
        for low in range(1, customers + 1, BUILD_CHUNK):
            high = min(low + BUILD_CHUNK - 1, customers)
            with step(f"customers {low:,}…{high:,}"):
                sql(
                    f"INSERT INTO customers_customer ({columns}) SELECT {selects} {CUSTOMERS_FROM}",
                    {**params, "low": low, "high": high},
                )
        sql(
            "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
            "(SELECT max(id) FROM customers_customer))"
        )
        with step("lines (DSL every customer, VoIP a third, TV a fifth)"):
            for kind, where, identifier in LINES:
                line_columns, line_selects, line_defaults = bulk.insert_select(
                    Connection,
                    {
                        "customer_id": "c.id",
                        "kind": f"'{kind}'",
                        "identifier": identifier,
                        "state": "CASE WHEN c.id %% 50 = 0 THEN 'offline' ELSE 'online' END",
                        "sync_drops_24h": "CASE WHEN c.id %% 17 = 0 THEN 4 ELSE 0 END",
                        "last_sync_at": "%(now)s::timestamptz - (c.id %% 600) * interval '1 hour'",
                    },
                )
                sql(
                    f"INSERT INTO customers_connection ({line_columns}) "  # noqa: S608
                    f"SELECT {line_selects} FROM customers_customer c WHERE {where} ORDER BY c.id",
                    {**line_defaults, "now": now},
                )
        with step(f"outages: {active} active, {resolved:,} resolved, areas, updates"):
            outages_build(codes=[code for code, _city in codes], active=active,
                          resolved=resolved, now=now, rng=rng)  # fmt: skip
        sql("DROP TABLE bench_code")
        sql(f"COMMENT ON TABLE tickets_outage IS '{mark}'")  # our own constant
        committing = time.perf_counter()
    say(f"  {'commit (deferred foreign-key checks)':<52}{time.perf_counter() - committing:>8.1f} s")
    with step("VACUUM ANALYZE"):
        for table in (
            "customers_customer",
            "customers_connection",
            "tickets_outage",
            "tickets_outagearea",
            "tickets_outageupdate",
        ):
            sql(f"VACUUM (ANALYZE) {table}")
    say(f"  {'total':<52}{time.perf_counter() - started:>8.1f} s")


def outages_build(
    *, codes: list[str], active: int, resolved: int, now: datetime, rng: random.Random
) -> None:
    """Outages as monitoring and agents open them: each over one to four ranges of real
    codes (a street cabinet's few codes up to a town's), active ones from the last two days,
    resolved ones over three years; one to three updates each."""
    from tickets.models import Outage, OutageArea, OutageUpdate
    from tickets.services.outages import postal_ranges_text

    outages, area_lists = [], []
    for index in range(active + resolved):
        is_active = index < active
        ranges = []
        for _ in range(rng.randint(2, 4) if is_active else rng.randint(1, 4)):
            first = rng.choice(codes)
            last = f"{min(int(first) + rng.choice([0, 0, 2, 10, 30, 80]), 99_998):05}"
            ranges.append((first, last))
        merged: list[tuple[str, str]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
            else:
                merged.append((first, last))
        if is_active:
            started = now - timedelta(minutes=rng.randint(10, 2 * 24 * 60))
            status = rng.choice(["investigating", "identified", "monitoring"])
            ended = None
        else:
            started = now - timedelta(minutes=rng.randint(3 * 24 * 60, 3 * 365 * 24 * 60))
            status = "resolved"
            ended = started + timedelta(minutes=rng.randint(30, 3 * 24 * 60))
        title = rng.choice(OUTAGE_TITLES).format(f"{merged[0][0][:2]}xxx")
        outages.append(
            Outage(
                title=title,
                description="Ursache wird untersucht.",
                services=rng.choice(SERVICE_SETS),
                area=postal_ranges_text(merged),
                status=status,
                started_at=started,
                expected_end_at=started + timedelta(hours=rng.randint(2, 12)),
                resolved_at=ended,
                tickets_resolved_at=ended,
                external_id=f"bench-build-{index}",
                created_at=started,
                updated_at=ended or started,
            )
        )
        area_lists.append(merged)
    Outage.objects.bulk_create(outages, batch_size=2_000)
    OutageArea.objects.bulk_create(
        (
            OutageArea(outage=outage, first=first, last=last)
            for outage, ranges in zip(outages, area_lists, strict=True)
            for first, last in ranges
        ),
        batch_size=5_000,
    )
    updates = []
    for outage in outages:
        for number in range(rng.randint(1, 3)):
            updates.append(
                OutageUpdate(
                    outage=outage,
                    text=f"Stand {number + 1}: Techniker sind vor Ort.",
                    status=outage.status if outage.status != "resolved" else "identified",
                    created_at=outage.started_at + timedelta(minutes=20 * (number + 1)),
                )
            )
    OutageUpdate.objects.bulk_create(updates, batch_size=5_000)


def describe_data() -> None:
    customers, lines = sql(
        "SELECT (SELECT count(*) FROM customers_customer), "
        "(SELECT count(*) FROM customers_connection)"
    )[0]
    codes, top, median = sql(
        "SELECT count(*), max(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM "
        "(SELECT postal_code, count(*) AS n FROM customers_customer GROUP BY 1) s"
    )[0]
    active, resolved, areas, updates = sql(
        "SELECT count(*) FILTER (WHERE status <> 'resolved'), "
        "count(*) FILTER (WHERE status = 'resolved'), "
        "(SELECT count(*) FROM tickets_outagearea), (SELECT count(*) FROM tickets_outageupdate) "
        "FROM tickets_outage WHERE external_id LIKE 'bench-build-%%'"
    )[0]
    covered = sql(
        "SELECT count(*) FROM customers_customer c WHERE EXISTS (SELECT 1 FROM tickets_outage o "
        "JOIN tickets_outagearea a ON a.outage_id = o.id WHERE o.status <> 'resolved' "
        "AND a.first <= c.postal_code AND a.last >= c.postal_code)"
    )[0][0]
    say()
    say(
        f"Data: {customers:,} customers with {lines:,} lines on {codes:,} postal codes "
        f"(customers per code: median {median:,.0f}, most {top:,}); outages {active} active, "
        f"{resolved:,} resolved, {areas:,} ranges, {updates:,} updates; "
        f"{covered:,} customers ({covered / customers:.1%}) live under an active outage"
    )


# --- 1. The check -------------------------------------------------------------------------


def sample_customers(count: int, rng: random.Random) -> list[tuple[int, str, str, list[str]]]:
    """(id, number, postal code, line kinds) of `count` random customers."""
    top = sql("SELECT max(id) FROM customers_customer")[0][0]
    ids = rng.sample(range(1, top + 1), count)
    rows = sql(
        "SELECT c.id, c.number, c.postal_code, array_agg(DISTINCT k.kind ORDER BY k.kind) "
        "FROM customers_customer c JOIN customers_connection k ON k.customer_id = c.id "
        "WHERE c.id = ANY(%s) GROUP BY c.id",
        [ids],
    )
    rng.shuffle(rows)
    return rows


def bench_check(samples, *, failures: list[str]) -> tuple[list[float], str, str]:
    """Time the check for each sampled customer; (ms list, SQL of a hit, SQL of a miss)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.selectors import outages as selectors

    for _id, _number, code, kinds in samples[:20]:  # warm-up: plans and caches
        selectors.outages_affecting(postal_code=code, kinds=kinds)
    ms, hits, queries = [], 0, set()
    hit_sql = miss_sql = ""
    for _id, _number, code, kinds in samples:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            found = selectors.outages_affecting(postal_code=code, kinds=kinds)
            ms.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured))
        if found:
            hits += 1
            hit_sql = hit_sql or captured[0]["sql"]
        else:
            miss_sql = miss_sql or captured[0]["sql"]
    say()
    say(f"1. outages_affecting(postal_code=…, kinds=…) for {len(samples)} random customers")
    say(
        f"   SQL queries per check: {', '.join(map(str, sorted(queries)))}; "
        f"{hits} of {len(samples)} customers under an active outage for one of their services"
    )
    say(
        f"   ms: median {statistics.median(ms):.2f}, p95 {percentile_95(ms):.2f}, max {max(ms):.2f}"
    )
    if queries != {1}:
        failures.append(f"the check sent {sorted(queries)} queries, not exactly 1")
    return ms, hit_sql, miss_sql


def explain(label: str, statement: str, *, failures: list[str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the check's SQL as Django sent it, with a verdict."""
    say()
    say(f"   EXPLAIN (ANALYZE, BUFFERS), {label}:")
    plan = [row[0] for row in sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")]  # our own SQL
    for line in plan:
        say(f"     {line}")
    text = "\n".join(plan)
    seq = sorted(set(re.findall(r"Seq Scan on (\w+)", text)))
    big = [table for table in seq if table in ("tickets_outage", "tickets_outagearea",
                                                "tickets_outageupdate")]  # fmt: skip
    verdict = {
        "outage_active": "outage_active" in text,
        "outage_area_range": "outage_area_range" in text,
    }
    say(
        "   verdict: "
        + ", ".join(f"{name} {'used' if used else 'NOT used'}" for name, used in verdict.items())
        + (f"; sequential scans: {', '.join(seq)}" if seq else "; no sequential scan")
    )
    if not all(verdict.values()) or big:
        failures.append(f"{label}: the plan does not use the outage indexes ({seq or 'see above'})")


# --- 2. The customer page -------------------------------------------------------------------


def agent_user():
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role
    from tickets import services
    from tickets.models import Department

    user, created = User.objects.get_or_create(
        username=AGENT, defaults={"first_name": "Bench", "last_name": "Agent"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    helpdesk_services.user_role_grant(user=user, role=Role.AGENT)
    services.agent_profile_set(
        user=user,
        departments=[Department.objects.get(slug="customer-service")],
        highest_line=1,
    )
    return user


def bench_page(samples, agent, runs: int) -> None:
    from django.test import Client
    from django.urls import reverse

    from tickets.selectors import outages as selectors

    affected = unaffected = None
    for _id, number, code, kinds in samples:
        found = selectors.outages_affecting(postal_code=code, kinds=kinds)
        if found and affected is None:
            affected = (number, found[0].title)
        if not found and unaffected is None:
            unaffected = (number, "")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(agent)
    say()
    say(f"2. customer page /agent/customers/<number>/ (test client, signed-in agent), {runs} runs")
    say(f"   {'':<40}{'median':>9}{'p95':>8}{'max':>8}{'q':>5}{'check ms':>10}  banner")
    for label, case in (("under an active outage", affected), ("outside every outage", unaffected)):
        if case is None:
            say(f"   {label:<40}no such customer among the samples")
            continue
        number, title = case
        url = reverse("customers:customer-detail", args=[number])
        client.get(url)  # warm-up
        ms = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            ms.append((time.perf_counter() - started) * 1000)
        with query_log(statements=True) as log:
            response = client.get(url)
        check = [ms for ms, statement in log if "tickets_outagearea" in statement]
        shown = "n/a"
        if title:
            shown = "shown" if title in response.content.decode() else "NOT shown"
        say(
            f"   {label + ' (' + number + ')':<40}{statistics.median(ms):>9.1f}"
            f"{percentile_95(ms):>8.1f}{max(ms):>8.1f}{len(log):>5}"
            f"{(f'{check[0]:.2f}' if check else 'none'):>10}  {shown}"
            + ("" if response.status_code == 200 else f"  (status {response.status_code})")
        )
    say("   (check ms: the outage query's own time on the page; 'none': the page does not ask)")


# --- 3. and 4. Resolving --------------------------------------------------------------------


def run_cleanup() -> None:
    """Drop what earlier runs made: their tickets (with events, clocks, mails) and outages."""
    sql(
        "TRUNCATE tickets_ticket, tickets_ticketevent, tickets_ticketmessage, "
        "tickets_ticketcounter, escalation_slaclock, mail_outboundmail RESTART IDENTITY CASCADE"
    )
    runs = f"SELECT id FROM tickets_outage WHERE external_id LIKE '{RUN_PREFIX}%%'"  # noqa: S608
    sql(f"DELETE FROM tickets_outageupdate WHERE outage_id IN ({runs})")  # noqa: S608
    sql(f"DELETE FROM tickets_outagearea WHERE outage_id IN ({runs})")  # noqa: S608
    sql(f"DELETE FROM tickets_outage WHERE id IN ({runs})")  # noqa: S608


TICKETS_FROM = """
FROM (
    SELECT d.*, %(first_id)s + row_number() OVER (ORDER BY d.r_order) - 1 AS i,
           {status} AS status
    FROM (
        SELECT c.id AS customer_id, random() AS r_order, random() AS r_status,
               random() AS r_priority, random() AS r_channel, random() AS r_subject,
               %(started)s::timestamptz + random() * (%(now)s::timestamptz - %(started)s)
                   AS created_at
        FROM customers_customer c
        WHERE c.postal_code BETWEEN %(first_code)s AND %(last_code)s AND c.email <> ''
        ORDER BY random() LIMIT %(count)s
    ) d
) p
ORDER BY p.i
""".format(status=weighted("d.r_status", STATUSES))  # noqa: S608 - the module's own constants

TICKETS_VALUES = {
    "id": "p.i",
    "reference": "%(year)s || '-' || lpad(p.i::text, 7, '0')",
    "customer_id": "p.customer_id",
    "contact_email": "''",
    "subject": f"(%(subjects)s::text[])[1 + floor(p.r_subject * {len(SUBJECTS)})::int]",
    "channel": weighted("p.r_channel", CHANNELS),
    "support_area_id": "%(area)s",
    "queue_id": "%(queue)s",
    "priority": weighted("p.r_priority", PRIORITIES),
    "status": "p.status",
    "version": "1",
    "created_at": "p.created_at",
    "updated_at": "p.created_at",
    "last_message_at": "p.created_at",
    "sla_policy_id": "%(policy)s",
    "sla_due_at": "CASE WHEN p.status <> 'waiting_customer' "
    "THEN p.created_at + %(first_target)s * interval '1 minute' END",
    "sla_warn_at": "CASE WHEN p.status <> 'waiting_customer' "
    "THEN p.created_at + %(first_warn)s * interval '1 minute' END",
    "outage_id": "%(outage)s",
    "line_snapshot": "'[]'::jsonb",
}

# Both clocks under the default policy; waiting for the customer has them paused.
CLOCKS_FROM = """
FROM tickets_ticket t
CROSS JOIN LATERAL (VALUES
    ('first_response', %(first_target)s, %(first_warn)s),
    ('resolution', %(resolution_target)s, %(resolution_warn)s)
) AS k(kind, target, warn)
WHERE t.outage_id = %(outage)s
ORDER BY t.id, k.kind
"""

CLOCKS_VALUES = {
    "ticket_id": "t.id",
    "kind": "k.kind",
    "policy_id": "%(policy)s",
    "target_minutes": "k.target",
    "started_at": "t.created_at",
    "paused_minutes": "0",
    "paused_at": "CASE WHEN t.status = 'waiting_customer' THEN t.created_at END",
    "warn_at": "t.created_at + k.warn * interval '1 minute'",
    "due_at": "t.created_at + k.target * interval '1 minute'",
    "met": "false",
    "fire_at": "CASE WHEN t.status <> 'waiting_customer' "
    "THEN t.created_at + k.warn * interval '1 minute' END",
}


def outage_with_tickets(*, label: str, count: int, first_code: str, last_code: str, actor):
    """An active outage (through the service) over these codes and `count` open tickets
    of customers there, linked to it, each with both SLA clocks running."""
    from escalation.models import SlaClock, SlaPolicy
    from tickets.models import SupportArea, Ticket
    from tickets.services import outages

    now = datetime.now().astimezone()
    started = now - timedelta(hours=5)
    outage, _new = outages.outage_create(
        title=f"DSL-Störung {label}",
        services=["dsl", "voip"],
        area=f"{first_code}-{last_code}",
        actor=actor,
        started_at=started,
        external_id=f"{RUN_PREFIX}{label}",
    )
    policy = SlaPolicy.objects.get(is_default=True)
    area = SupportArea.objects.get(slug="no-internet")
    first_id = (sql("SELECT coalesce(max(id), 0) FROM tickets_ticket")[0][0] or 0) + 1
    params = {
        "first_id": first_id,
        "started": started,
        "now": now,
        "first_code": first_code,
        "last_code": last_code,
        "count": count,
        "year": str(now.year),
        "subjects": SUBJECTS,
        "area": area.pk,
        "queue": area.first_queue_id,
        "policy": policy.pk,
        "outage": outage.pk,
        "first_target": policy.first_response_minutes,
        "first_warn": policy.first_response_minutes * (100 - policy.warning_percent) // 100,
        "resolution_target": policy.resolution_minutes,
        "resolution_warn": policy.resolution_minutes * (100 - policy.warning_percent) // 100,
    }
    columns, selects, defaults = bulk.insert_select(Ticket, TICKETS_VALUES)
    sql(
        f"INSERT INTO tickets_ticket ({columns}) SELECT {selects} {TICKETS_FROM}",
        {**params, **defaults},
    )
    columns, selects, defaults = bulk.insert_select(SlaClock, CLOCKS_VALUES)
    sql(
        f"INSERT INTO escalation_slaclock ({columns}) SELECT {selects} {CLOCKS_FROM}",
        {**params, **defaults},
    )
    sql(
        "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
        "(SELECT max(id) FROM tickets_ticket))"
    )
    made = Ticket.objects.filter(outage=outage).count()
    if made != count:
        raise SystemExit(
            f"Only {made:,} customers with e-mail in {first_code}-{last_code}: widen the range."
        )
    for table in ("tickets_ticket", "escalation_slaclock"):
        sql(f"ANALYZE {table}")
    return outage


@contextmanager
def timed_enqueues() -> Iterator[list[float]]:
    """ms spent handing tasks to the broker (the after-commit part of a batch)."""
    from helpdesk import services as helpdesk_services

    spent: list[float] = []
    original = helpdesk_services.task_enqueue

    def timed(task, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(task, *args, **kwargs)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    helpdesk_services.task_enqueue = timed
    try:
        yield spent
    finally:
        helpdesk_services.task_enqueue = original


@contextmanager
def query_log(*, statements: bool = False) -> Iterator[list]:
    """ms of every SQL statement the block sends, timed around the driver call; with
    `statements`, (ms, SQL) pairs."""
    from django.db import connection

    log: list = []

    def timed(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            log.append((ms, statement) if statements else ms)

    with connection.execute_wrapper(timed):
        yield log


class Batches:
    """The batches of one resolution as the task runs them, timed one by one."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.sql_ms: list[float] = []
        self.statements: list[int] = []
        self.enqueue_ms: list[float] = []
        self.counts: list[int] = []  # tickets resolved by each batch
        self.pick_ms: list[float] = []  # the statement that picks and locks the batch
        self.resolved = 0

    def run(
        self, outage_id: int, *, limit: int, stop_after: int | None = None, threaded: bool = False
    ) -> bool:
        """Batches until finished (True) or `stop_after` batches ran (False). In a thread
        the broker hand-off is not timed (that patches a module other threads share)."""
        from tickets.services import outages

        while stop_after is None or len(self.ms) < stop_after:
            enqueue_timing = nullcontext([]) if threaded else timed_enqueues()
            with enqueue_timing as enqueues, query_log(statements=True) as log:
                started = time.perf_counter()
                resolved, finished = outages.outage_tickets_resolve_batch(
                    outage_id=outage_id, limit=limit
                )
                self.ms.append((time.perf_counter() - started) * 1000)
            self.sql_ms.append(sum(ms for ms, _statement in log))
            self.statements.append(len(log))
            self.pick_ms.append(sum(ms for ms, statement in log if "SKIP LOCKED" in statement))
            self.enqueue_ms.append(sum(enqueues))
            self.counts.append(resolved)
            self.resolved += resolved
            if finished:
                return True
            if not resolved:
                time.sleep(0.05)  # every open ticket locked elsewhere: the task retries
        return False


def verify(outage, count: int, *, failures: list[str], label: str) -> None:
    """Every linked ticket resolved once: status, one event, one mail, clocks stopped."""
    (open_, resolved, events, evented, mails, mailed, running, addresses) = sql(
        """
        SELECT
          (SELECT count(*) FROM tickets_ticket WHERE outage_id = %(o)s AND status <> 'resolved'),
          (SELECT count(*) FROM tickets_ticket WHERE outage_id = %(o)s AND status = 'resolved'),
          (SELECT count(*) FROM tickets_ticketevent e JOIN tickets_ticket t ON t.id = e.ticket_id
             WHERE t.outage_id = %(o)s AND e.kind = 'ticket.status_changed'),
          (SELECT count(DISTINCT e.ticket_id) FROM tickets_ticketevent e
             JOIN tickets_ticket t ON t.id = e.ticket_id
             WHERE t.outage_id = %(o)s AND e.kind = 'ticket.status_changed'),
          (SELECT count(*) FROM mail_outboundmail m JOIN tickets_ticket t ON t.id = m.ticket_id
             WHERE t.outage_id = %(o)s AND m.kind = 'outage'),
          (SELECT count(DISTINCT m.ticket_id) FROM mail_outboundmail m
             JOIN tickets_ticket t ON t.id = m.ticket_id
             WHERE t.outage_id = %(o)s AND m.kind = 'outage'),
          (SELECT count(*) FROM escalation_slaclock k JOIN tickets_ticket t ON t.id = k.ticket_id
             WHERE t.outage_id = %(o)s AND k.stopped_at IS NULL),
          (SELECT count(*) FROM tickets_ticket t JOIN customers_customer c ON c.id = t.customer_id
             WHERE t.outage_id = %(o)s AND c.email <> '')
        """,
        {"o": outage.pk},
    )[0]
    outage.refresh_from_db()
    ok = (
        open_ == 0
        and resolved == count
        and events == evented == count
        and mails == mailed == addresses
        and running == 0
        and outage.tickets_resolved_at is not None
    )
    say(
        f"   check: {resolved:,} resolved, {open_} still open; {events:,} status events on "
        f"{evented:,} tickets; {mails:,} mails to {mailed:,} tickets ({addresses:,} have an "
        f"address); {running} clocks running; tickets_resolved_at "
        f"{'set' if outage.tickets_resolved_at else 'NOT set'}: {'exact' if ok else 'WRONG'}"
    )
    if not ok:
        failures.append(f"{label}: the resolution is not exact")


def batches_report(batches: Batches, total_s: float) -> None:
    ms = batches.ms
    say(
        f"   {len(ms)} batches (the last finds nothing and stamps the outage), "
        f"{batches.resolved:,} tickets in {total_s:.1f} s: {batches.resolved / total_s:,.0f} "
        "tickets/s"
    )
    full = [n for n, count in enumerate(batches.counts) if count] or list(range(len(ms)))
    say(
        f"   per batch ms: median {statistics.median(ms[n] for n in full):.0f}, "
        f"max {max(ms[n] for n in full):.0f}; of that SQL median "
        f"{statistics.median(batches.sql_ms[n] for n in full):.0f}, handing the mail tasks to "
        f"the broker median {statistics.median(batches.enqueue_ms[n] for n in full):.0f}; "
        f"statements per batch {min(batches.statements)}-{max(batches.statements)}"
    )
    if len(full) > 1:
        say(
            f"   picking and locking a batch: {batches.pick_ms[full[0]]:.1f} ms the first, "
            f"{batches.pick_ms[full[-1]]:.1f} ms the last (the open linked tickets are the "
            "cursor: later batches step over the resolved ones in ticket_outage)"
        )


def bench_resolve(agent, *, count: int, codes: tuple[str, str], failures: list[str]) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.services import outages

    say()
    say(f"3. resolving an outage with {count:,} open linked tickets "
        f"(OUTAGE_BATCH_SIZE {settings.OUTAGE_BATCH_SIZE})")  # fmt: skip
    started = time.perf_counter()
    outage = outage_with_tickets(
        label="resolve", count=count, first_code=codes[0], last_code=codes[1], actor=agent
    )
    say(f"   (tickets and clocks inserted in {time.perf_counter() - started:.1f} s)")
    with CaptureQueriesContext(connection) as captured, timed_enqueues() as enqueued:
        started = time.perf_counter()
        outages.outage_resolve(outage=outage, text="Die Störung ist behoben.", actor=agent)
        resolve_ms = (time.perf_counter() - started) * 1000
    say(
        f"   outage_resolve (the web request's part): {resolve_ms:.1f} ms, {len(captured)} "
        f"SQL statements, {len(enqueued)} task enqueued ({sum(enqueued):.1f} ms of it)"
    )
    batches = Batches()
    started = time.perf_counter()
    batches.run(outage.pk, limit=settings.OUTAGE_BATCH_SIZE)
    total = time.perf_counter() - started
    batches_report(batches, total)
    verify(outage, count, failures=failures, label="resolution")


def bench_worker_death(agent, *, count: int, codes: tuple[str, str], failures: list[str]) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from helpdesk import services as helpdesk_services
    from tickets import tasks
    from tickets.services import outages

    limit = settings.OUTAGE_BATCH_SIZE
    say()
    say(f"4. a worker dies: another outage with {count:,} tickets")
    outage = outage_with_tickets(
        label="worker-death", count=count, first_code=codes[0], last_code=codes[1], actor=agent
    )
    with timed_enqueues() as enqueued:
        started = time.perf_counter()
        outages.outage_resolve(outage=outage, text="Die Störung ist behoben.", actor=agent)
        resolve_ms = (time.perf_counter() - started) * 1000
    say(
        f"   outage_resolve again, the broker connection now warm: {resolve_ms:.1f} ms "
        f"({sum(enqueued):.1f} ms of it enqueueing)"
    )
    first = Batches()
    committed = max(1, count // limit // 2)
    first.run(outage.pk, limit=limit, stop_after=committed)

    class WorkerDied(Exception):
        pass

    try:  # the next batch does its work, and the worker dies before the commit
        with transaction.atomic():
            outages.outage_tickets_resolve_batch(outage_id=outage.pk, limit=limit)
            raise WorkerDied
    except WorkerDied:
        pass
    done = sql(
        "SELECT count(*) FROM tickets_ticket WHERE outage_id = %s AND status = 'resolved'",
        [outage.pk],
    )[0][0]
    say(
        f"   {committed} batches committed ({first.resolved:,} tickets), the next rolled back "
        f"with its worker: {done:,} resolved in the database"
    )
    enqueued: list[tuple[str, tuple]] = []
    original = helpdesk_services.task_enqueue
    helpdesk_services.task_enqueue = lambda task, *args: enqueued.append((task.name, args))
    try:
        resumed = outages.outages_work_resume(older_than=timedelta(0))
    finally:
        helpdesk_services.task_enqueue = original
    picked = (tasks.outage_tickets_resolve_task.name, (outage.pk,)) in enqueued
    say(
        f"   outages_work_resume (the beat pass; older_than=0 here, 5 minutes in beat): "
        f"{resumed} piece(s) of work enqueued again, this outage "
        f"{'among them' if picked else 'MISSING'}"
    )
    if not picked:
        failures.append("outages_work_resume did not pick up the unfinished outage")
    # The old task's retry and the resumed one both run: two workers drain at once.
    results: dict[str, Batches] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            batches = Batches()
            batches.run(outage.pk, limit=limit, threaded=True)
            results[name] = batches
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    if errors:
        raise errors[0]
    say(
        "   two workers then drained the rest at once: "
        + ", ".join(
            f"worker {name} {batches.resolved:,} tickets in {len(batches.ms)} batches"
            for name, batches in sorted(results.items())
        )
        + f" ({total:.1f} s)"
    )
    together = first.resolved + sum(batches.resolved for batches in results.values())
    say(f"   resolved by committed batches in all: {together:,} of {count:,}")
    if together != count:
        failures.append(f"worker death: {together} tickets resolved by batches, not {count}")
    verify(outage, count, failures=failures, label="worker death")


def outage_codes(count: int) -> tuple[str, str]:
    """A range of postal codes from 40000 (Rhein-Ruhr) holding twice `count` customers with
    an e-mail address, so each outage's tickets are a random draw of them."""
    rows = sql(
        "SELECT postal_code, count(*) FROM customers_customer WHERE email <> '' "
        "AND postal_code >= '40000' GROUP BY 1 ORDER BY 1"
    )
    total = 0
    for code, customers in rows:
        total += customers
        if total >= count * 2:
            return rows[0][0], code
    raise SystemExit("Not enough customers above 40000 for the resolution bench.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--active", type=int, default=50)
    parser.add_argument("--resolved", type=int, default=5_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--page-runs", type=int, default=50)
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument(
        "--redis",
        default="",
        metavar="URL",
        help="broker for the enqueued tasks instead of the filesystem one, e.g. "
        "redis://127.0.0.1:6379/15: a Redis database no worker reads (its 'celery' list is "
        "deleted at the end)",
    )
    args = parser.parse_args()
    if args.redis:
        os.environ["REDIS_URL"] = args.redis  # before Django reads its settings
    if args.customers < 10 * args.tickets:
        parser.error("use at least ten customers per ticket")
    setup(args.redis)
    from django.db import connection

    version = sql("SELECT version()")[0][0].split(" on ")[0]
    say(
        f"{version}, database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs, "
        f"broker {'Redis ' + args.redis if args.redis else 'filesystem (var/' + BENCH_DB + ')'}"
    )
    build(
        customers=args.customers,
        active=args.active,
        resolved=args.resolved,
        rebuild=args.rebuild,
    )
    run_cleanup()
    describe_data()
    load = os.getloadavg()[0]
    say()
    say(f"Load average before measuring: {load:.2f}")
    if load > 0.5:
        say("  Other work is using this machine's CPUs: expect slower figures than on a quiet one.")
    failures: list[str] = []
    rng = random.Random(SEED)  # noqa: S311
    samples = sample_customers(args.checks, rng)
    _ms, hit_sql, miss_sql = bench_check(samples, failures=failures)
    if hit_sql:
        explain("a customer under an active outage", hit_sql, failures=failures)
    if miss_sql:
        explain("a customer outside every outage", miss_sql, failures=failures)
    agent = agent_user()
    bench_page(samples, agent, args.page_runs)
    codes = outage_codes(args.tickets)
    bench_resolve(agent, count=args.tickets, codes=codes, failures=failures)
    bench_worker_death(agent, count=args.tickets, codes=codes, failures=failures)
    broker_empty(args.redis)  # the tasks this run enqueued: nobody will run them
    say()
    if failures:
        say("FAILED: " + "; ".join(failures))
        return 1
    say("All checks passed: one query per check, every resolution exact.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
