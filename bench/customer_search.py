"""Customer search and the customer page at volume, on a database of their own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk \\
        .venv/bin/python bench/customer_search.py [--customers 100000]

Works in `bench_helpdesk` (created next to the configured database, kept between runs,
never the real one), fills it once, then times `selectors.customer_search` for each kind
of lookup and `selectors.customer_overview` for a small and a very large customer. See
bench/README.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "bench_helpdesk"
BATCH = 5_000
LOOKUPS = 200
OVERVIEW_RUNS = 50
FIRST_NUMBER = 1_000_001
EXTRAS_EVERY = 300  # every 300th customer has 10 invoices and 2 contracts
BIG_INDEX = 0  # K1000001: 500 invoices, 50 contracts
SMALL_INDEX = EXTRAS_EVERY  # K1000301: 10 invoices, 2 contracts
POSTAL_CODES = 1_000  # synthetic codes: about 100 customers share one at 100,000
SEED = 2026


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    # A database of its own: pytest and CI use test_<name>, the app uses <name>.
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(settings.VAR_DIR / f"{BENCH_DB}.sqlite3")
    else:
        connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    real_name = connection.settings_dict["NAME"]
    # serialize=False: the test runner's JSON snapshot of the database would take minutes.
    name = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    if name == real_name or connection.settings_dict["NAME"] != name:
        raise SystemExit(f"Refusing to run: would write to {real_name!r}.")
    # Timings as in production: no query log kept in memory.
    settings.DEBUG = False


# --- Data ---------------------------------------------------------------------------------


def name_pools(rng: random.Random) -> tuple[list[str], list[str]]:
    from faker import Faker

    faker = Faker("de_DE")
    faker.seed_instance(SEED)
    last = sorted({faker.last_name() for _ in range(20_000)})
    first = sorted({faker.first_name() for _ in range(5_000)})
    return first, last


def fill(total: int) -> None:
    """Create customers K1000001… up to `total`; resumable, deterministic per batch."""
    from django.db import transaction

    from customers import demo
    from customers.models import Customer, PhoneNumber

    have = Customer.objects.count()
    if have >= total:
        say(f"{have:,} customers present; nothing to create.")
        return
    started = time.perf_counter()
    first_names, last_names = name_pools(random.Random(SEED))  # noqa: S311
    codes = sorted(random.Random(SEED).sample(range(1_067, 99_999), POSTAL_CODES))  # noqa: S311
    for start in range(0, total, BATCH):
        indexes = range(start, min(start + BATCH, total))
        numbers = [f"K{FIRST_NUMBER + index}" for index in indexes]
        # Each batch is one transaction: it is there completely or not at all.
        if Customer.objects.filter(number__in=numbers).exists():
            continue
        # Seeded per batch, so an interrupted fill resumes with the same rows.
        rng = random.Random(SEED + start)  # noqa: S311 - benchmark data, not secrets
        customers, phones = [], []
        for index, number in zip(indexes, numbers, strict=True):
            first, last = rng.choice(first_names), rng.choice(last_names)
            _postal, city, area = rng.choice(demo.PLACES)
            customer = Customer(
                number=number,
                first_name=first,
                last_name=last,
                street=f"{rng.choice(demo.STREETS)} {rng.randint(1, 150)}",
                postal_code=f"{rng.choice(codes):05}",
                city=city,
                email=f"{demo._ascii(first)}.{demo._ascii(last)}.{index}@example.com",
                birth_date=date(1940, 1, 1) + timedelta(days=rng.randint(0, 60 * 365)),
                search_name=Customer.search_name_for(first, last),
            )
            customers.append(customer)
            landline = f"{area} {rng.randint(2 * 10**6, 10**7 - 1)}"
            mobile = f"+49 {rng.choice(demo.MOBILE_PREFIXES)[1:]} {rng.randint(10**6, 10**7 - 1)}"
            for raw in [landline, mobile][: rng.randint(1, 2)]:
                phones.append(
                    PhoneNumber(
                        customer=customer, number=raw, normalized=PhoneNumber.normalize(raw)
                    )
                )
        with transaction.atomic():
            Customer.objects.bulk_create(customers, batch_size=BATCH)
            PhoneNumber.objects.bulk_create(phones, batch_size=BATCH)
        say(f"  customers: {min(start + BATCH, total):,} / {total:,}")
    say(f"Created {total - have:,} customers in {time.perf_counter() - started:.1f} s.")


def fill_records() -> None:
    """Contracts and invoices for every 300th customer, and one customer with 500 invoices,
    50 contracts, 50 lines, 40 orders and 40 notes (the case a page must not slow down for)."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from customers.choices import LineState, OrderKind, PhoneKind, ServiceKind
    from customers.models import (
        Connection,
        Contract,
        Customer,
        CustomerNote,
        Invoice,
        Order,
        PhoneNumber,
        Product,
    )

    big = Customer.objects.get(number=f"K{FIRST_NUMBER + BIG_INDEX}")
    if big.invoices.count() >= 500:
        return
    rng = random.Random(SEED)  # noqa: S311
    product, _ = Product.objects.get_or_create(
        name="DSL 100", defaults={"kind": ServiceKind.DSL, "monthly_price": Decimal("39.99")}
    )
    author, _ = User.objects.get_or_create(username="bench-agent")
    numbers = [f"K{FIRST_NUMBER + i}" for i in range(0, Customer.objects.count(), EXTRAS_EVERY)]
    with transaction.atomic():
        for customer in Customer.objects.filter(number__in=numbers).order_by("number"):
            size = 50 if customer.pk == big.pk else 2
            contracts = Contract.objects.bulk_create(
                Contract(
                    customer=customer,
                    product=product,
                    number=f"V{customer.number[1:]}{i:03}",
                    start_date=date(2022, 1, 1) + timedelta(days=20 * i),
                    minimum_term_months=24,
                    notice_period_months=1,
                    monthly_price=product.monthly_price,
                )
                for i in range(size)
            )
            lines = Connection.objects.bulk_create(
                Connection(
                    customer=customer,
                    contract=contract,
                    kind=ServiceKind.DSL,
                    identifier=f"DEU.{rng.randint(1000, 9999)}.{rng.randint(1000, 9999)}",
                    state=LineState.ONLINE,
                )
                for contract in contracts
            )
            registered = [
                (line, f"030 {rng.randint(2 * 10**7, 10**8 - 1)}") for line in lines for _ in "12"
            ]
            PhoneNumber.objects.bulk_create(
                PhoneNumber(
                    customer=customer,
                    connection=line,
                    kind=PhoneKind.REGISTERED,
                    number=raw,
                    normalized=PhoneNumber.normalize(raw),
                )
                for line, raw in registered
            )
            invoices = 500 if customer.pk == big.pk else 10
            Invoice.objects.bulk_create(
                Invoice(
                    customer=customer,
                    number=f"R{customer.number[1:]}{i:04}",
                    issued_on=date(2020, 1, 1) + timedelta(days=7 * i),
                    due_on=date(2020, 1, 15) + timedelta(days=7 * i),
                    amount=Decimal("39.99"),
                    status="paid",
                )
                for i in range(invoices)
            )
            extras = 40 if customer.pk == big.pk else 1
            Order.objects.bulk_create(
                Order(customer=customer, kind=OrderKind.SHIPMENT, description="Router")
                for _ in range(extras)
            )
            CustomerNote.objects.bulk_create(
                CustomerNote(customer=customer, author=author, text="Bench note")
                for _ in range(extras)
            )
    say(f"Added contracts and invoices for {len(numbers):,} customers.")


# --- Measurements -------------------------------------------------------------------------


def queries_and_ms(call) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - started) * 1000
    return len(captured.captured_queries), elapsed


def lookups(rng: random.Random, total: int) -> dict[str, list[str]]:
    from customers.models import Customer, PhoneNumber

    sample = [f"K{FIRST_NUMBER + rng.randrange(total)}" for _ in range(LOOKUPS)]
    rows = {c.number: c for c in Customer.objects.filter(number__in=sample)}
    phones = dict(
        PhoneNumber.objects.filter(customer__number__in=sample, connection=None).values_list(
            "customer__number", "number"
        )
    )
    picked = [rows[number] for number in sample]
    return {
        "number": [c.number for c in picked],
        "last-name prefix": [c.last_name[: rng.randint(3, 5)] for c in picked],
        "1-letter prefix": [c.last_name[0] for c in picked],
        "first last": [f"{c.first_name} {c.last_name}" for c in picked],
        "postal code": [c.postal_code for c in picked],
        "phone": [phones[c.number] for c in picked],
        "e-mail": [c.email.upper() if i % 4 == 0 else c.email for i, c in enumerate(picked)],
    }


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def bench_search(total: int) -> None:
    from customers import selectors
    from customers.models import Customer

    rng = random.Random(SEED + 1)  # noqa: S311
    kinds = lookups(rng, total)
    for query in kinds["first last"][:20]:  # warm the connection and caches
        selectors.customer_search(query=query)
    say()
    say(f"selectors.customer_search, {LOOKUPS} lookups each (one page: 25 rows + 1)")
    say(
        f"  {'lookup':<18}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'queries':>9}"
        f"{'matches (median)':>18}"
    )
    for kind, queries in kinds.items():
        times, counts, matches = [], set(), []
        for query in queries:
            found: list = []
            count, ms = queries_and_ms(
                lambda q=query, found=found: found.extend(selectors.customer_search(query=q))
            )
            times.append(ms)
            counts.add(count)
            if kind in ("number", "e-mail", "phone") and not found:
                raise SystemExit(f"{kind} lookup {query!r} found nobody: the bench is wrong")
            # Outside the timing: how many customers match in all (the page shows 25).
            matches.append(Customer.objects.filter(selectors.search_filter(query)).count())
        say(
            f"  {kind:<18}{statistics.median(times):>10.2f}{percentile_95(times):>9.2f}"
            f"{max(times):>9.2f}{'/'.join(map(str, sorted(counts))):>9}"
            f"{statistics.median(matches):>18,.0f}"
        )


def bench_overview() -> bool:
    from customers import selectors
    from customers.models import Customer

    say()
    say(f"selectors.customer_overview, {OVERVIEW_RUNS} runs each")
    say(f"  {'customer':<42}{'queries':>8}{'median ms':>11}{'p95 ms':>9}")
    counts = []
    for index, label in ((SMALL_INDEX, "small"), (BIG_INDEX, "big")):
        customer = Customer.objects.get(number=f"K{FIRST_NUMBER + index}")
        described = (
            f"{label} {customer.number} ({customer.invoices.count()} invoices, "
            f"{customer.contracts.count()} contracts)"
        )
        runs = [queries_and_ms(lambda c=customer: selectors.customer_overview(customer=c))]
        runs += [
            queries_and_ms(lambda c=customer: selectors.customer_overview(customer=c))
            for _ in range(OVERVIEW_RUNS)
        ]
        times = [ms for _count, ms in runs[1:]]
        counts.append({count for count, _ms in runs})
        say(
            f"  {described:<42}{'/'.join(map(str, sorted(counts[-1]))):>8}"
            f"{statistics.median(times):>11.2f}{percentile_95(times):>9.2f}"
        )
    equal = len(counts[0]) == 1 and counts[0] == counts[1]
    say(f"  query counts equal: {'yes' if equal else 'NO'}")
    return equal


def explain(call) -> str:
    """EXPLAIN ANALYZE exactly the SQL that `call` sends (its last query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")  # the SQL Django just sent
        return "\n".join(row[0] for row in cursor.fetchall())


def explain_name_prefix(total: int) -> None:
    from django.db import connection

    from customers import selectors
    from customers.models import Customer

    if connection.vendor != "postgresql":
        say()
        say("EXPLAIN skipped: only meaningful on PostgreSQL.")
        return
    sample = Customer.objects.get(number=f"K{FIRST_NUMBER + total // 2}")
    short, letter = sample.last_name[:4], sample.last_name[0]
    first_page = selectors.customer_search(query=letter)
    after = (first_page[-2].search_name, first_page[-2].pk)
    cases = [
        (f"name prefix {short!r}, first page", short, None),
        (f"name prefix {letter!r}, first page", letter, None),
        (f"name prefix {letter!r}, next page (after {after[0]!r})", letter, after),
    ]
    for title, query, page_after in cases:
        matches = Customer.objects.filter(selectors.search_filter(query)).count()
        plan = explain(lambda q=query, a=page_after: selectors.customer_search(query=q, after=a))
        say()
        say(f"EXPLAIN ANALYZE {title}, {matches:,} matches:")
        for line in plan.splitlines():
            say(f"  {line}")
        used = "customer_search_name" in plan
        sorted_apart = "Sort Key" in plan
        say(
            f"  -> index customer_search_name {'used' if used else 'NOT used'}; "
            + (
                "all matches are fetched and sorted for one page"
                if sorted_apart
                else "rows come in index order"
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    if args.customers < EXTRAS_EVERY * 2:
        parser.error(f"use at least {EXTRAS_EVERY * 2} customers")
    setup()
    from django.db import connection

    fill(args.customers)
    fill_records()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    from customers.models import Customer

    total = Customer.objects.count()
    say()
    say(f"{version}, database {connection.settings_dict['NAME']}, {total:,} customers")
    bench_search(min(total, args.customers))
    equal = bench_overview()
    explain_name_prefix(min(total, args.customers))
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
