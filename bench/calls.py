"""Screen-pop latency: from the phone system's `POST /api/v1/calls/` to the moment the
agent's poll brings the notice, over HTTP against the app as it runs in production.

    .venv/bin/python bench/calls.py                                   # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk .venv/bin/python bench/calls.py
    options: [--calls 60] [--agents 50] [--history 100000] [--interval 0.9] [--workers 3]

Works in a database of its own (`bench_calls` next to the configured PostgreSQL database,
or var/bench_calls.sqlite3; created once and kept, never the app's). The first run adds
`--agents` agents with extensions 7000… and `--history` earlier calls (all seen, spread
over 90 days) so the poll runs against a table of realistic size; later runs reuse them.

It starts gunicorn as the Dockerfile does (`--workers` sync workers, DEBUG off, its own
VAR_DIR under var/bench_calls) on a free port, signs every agent in (sessions made in the
database, as a sign-in would), and lets each poll `GET /agent/calls/notices/?shown=…`
every `--interval` seconds from its own thread, the way htmx does on every workspace page
(a timer, not waiting for the answer; the state of the notices on screen sent along, 204
while unchanged). Then, `--calls` times, at a random moment, the phone system reports a
call for the first agent; the time from sending the POST to the first poll answer that
holds the call's notice is the screen-pop latency (then the notice is marked seen, as the
agent opening it would). It prints median, p95 and maximum of
that, of the POST and of the polls (204 and 200), and exits with status 1 if any screen
pop took a second or more. gunicorn is stopped at the end, also on errors.
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
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "bench_calls"
VAR_DIR = ROOT / "var" / "bench_calls"
PREFIX = "bench-agent-"
TARGET_MS = 1000
SEED = 2026

# Shared by this process and the server it starts: sessions made here must be valid there.
os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
os.environ["VAR_DIR"] = str(VAR_DIR)
os.environ["REDIS_URL"] = ""
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def setup() -> str:
    """Open (and migrate) the bench database; returns the server's DATABASE_URL."""
    django.setup()
    from django.conf import settings
    from django.db import connection

    real_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(VAR_DIR / f"{BENCH_DB}.sqlite3")
    else:
        connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    name = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    if name == real_name or connection.settings_dict["NAME"] != name:
        raise SystemExit(f"Refusing to run: would write to {real_name!r}.")
    settings.DEBUG = False  # no query log kept in memory
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )


# --- Data ---------------------------------------------------------------------------------


def agents_ensure(count: int) -> list:
    """`count` agents in customer service, first line, extensions 7000…; made once."""
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role
    from tickets import services as tickets_services
    from tickets.models import Department

    service = Department.objects.get(slug="customer-service")
    users = []
    for index in range(count):
        user, created = User.objects.get_or_create(
            username=f"{PREFIX}{index}", defaults={"first_name": "Bench", "last_name": str(index)}
        )
        if created:
            user.set_unusable_password()
            user.save()
            helpdesk_services.user_role_grant(user=user, role=Role.AGENT)
            tickets_services.agent_profile_set(
                user=user, departments=[service], highest_line=1, extension=str(7000 + index)
            )
        users.append(user)
    return users


def customer_ensure():
    """The caller: a customer with a landline, matched by number as in real calls."""
    from customers import services as customers_services
    from customers.models import Customer

    return Customer.objects.filter(number="K7000001").first() or (
        customers_services.customer_create(
            number="K7000001",
            first_name="Erika",
            last_name="Musterfrau",
            street="Heidestraße 17",
            postal_code="51147",
            city="Köln",
            phones=("0221 7000001",),
        )
    )


def history_ensure(total: int, agents: list) -> None:
    """Earlier calls, all seen and noted or not, over 90 days: the table the poll reads."""
    from django.db import transaction
    from django.utils import timezone

    from calls.choices import Match
    from calls.models import Call
    from tickets.models import Agent, SupportArea

    have = Call.objects.filter(external_id__startswith="history-").count()
    if have >= total:
        say(f"{have:,} earlier calls present.")
        return
    rng = random.Random(SEED)  # noqa: S311 - benchmark data, not secrets
    agent_ids = list(Agent.objects.filter(user__in=agents).values_list("pk", flat=True))
    areas = list(SupportArea.objects.values_list("pk", flat=True))
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    for index in range(have, total):
        at = now - timedelta(seconds=rng.randint(3 * 3600, 90 * 86400))
        wait = rng.randint(0, 300)
        batch.append(
            Call(
                external_id=f"history-{index}",
                caller_number=f"0221 {rng.randint(10**6, 10**7 - 1)}",
                match=Match.NONE,
                support_area_id=rng.choice(areas),
                wait_seconds=wait,
                extension="7000",
                agent_id=rng.choice(agent_ids),
                started_at=at - timedelta(seconds=wait),
                answered_at=at,
                ended_at=at + timedelta(seconds=rng.randint(30, 900)),
                notice_seen_at=at + timedelta(seconds=5),
                created_at=at,
            )
        )
        if len(batch) == 5000:
            with transaction.atomic():
                Call.objects.bulk_create(batch)
            batch = []
    with transaction.atomic():
        Call.objects.bulk_create(batch)
    say(f"Added {total - have:,} earlier calls in {time.perf_counter() - started:.1f} s.")


def sessions_for(users: list) -> list[str]:
    """A signed-in session per agent, as the sign-in form would leave it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return keys


def token_create():
    from django.contrib.auth.models import User

    from helpdesk import services as helpdesk_services
    from helpdesk.choices import Role

    user, _created = User.objects.get_or_create(username="bench-phone-system")
    helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
    return helpdesk_services.api_token_create(user=user, name="bench", scopes=["calls:write"])


# --- The server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, method: str, path: str, *, body=None, headers=None):
    """One request on its own connection (sync workers close it after each response)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        data = reply.read()
        return reply.status, data, (time.perf_counter() - started) * 1000
    finally:
        connection.close()


@contextmanager
def gunicorn(database_url: str, workers: int) -> Iterator[int]:
    from django.conf import settings

    env = {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
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
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not come up; see its output above.")
            time.sleep(0.2)
        say(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}, DEBUG off")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The agents' polls and the calls ---------------------------------------------------------

NOTICE_ID = re.compile(rb'id="call-notice-(\d+)"')
STATE = re.compile(rb'name="shown" value="([^"]*)"')


class Poller(threading.Thread):
    """One agent's browser tab: polls every `interval` seconds on a timer, as htmx does."""

    def __init__(self, port: int, session: str, interval: float, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.interval, self.stop = port, interval, stop
        self.headers = {"Cookie": f"sessionid={session}", "HX-Request": "true"}
        self.state = "page"
        self.first_seen: dict[int, float] = {}
        self.times: dict[int, list[float]] = {200: [], 204: []}
        self.errors = 0

    def run(self) -> None:
        tick = time.perf_counter() + random.random() * self.interval  # noqa: S311
        while not self.stop.is_set():
            delay = tick - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            tick += self.interval
            try:
                path = f"/agent/calls/notices/?shown={self.state}"
                status, body, ms = request(self.port, "GET", path, headers=self.headers)
            except OSError:
                self.errors += 1
                continue
            seen_at = time.perf_counter()
            if status not in self.times:
                self.errors += 1
                continue
            self.times[status].append(ms)
            if status == 200:
                found = STATE.search(body)
                self.state = found.group(1).decode() if found else ""
                for pk in NOTICE_ID.findall(body):
                    self.first_seen.setdefault(int(pk), seen_at)


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<38} no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{label:<38} n={len(values):>5}  median {statistics.median(values):7.1f} ms"
        f"  p95 {p95:7.1f} ms  max {max(values):7.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.9, help="poll interval, s")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    database_url = setup()
    from django.db import connection
    from django.utils import timezone

    from calls.models import Call

    say(f"load average before: {os.getloadavg()[0]:.2f}; database: {connection.vendor}")
    agents = agents_ensure(args.agents)
    customer_ensure()
    history_ensure(args.history, agents)
    # Earlier runs' calls: seen, so the measured agent starts without notices.
    Call.objects.filter(external_id__startswith="bench-", notice_seen_at=None).update(
        notice_seen_at=timezone.now()
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_call")
    sessions = sessions_for(agents)
    token, key = token_create()
    rng = random.Random()  # noqa: S311 - when calls come is noise on purpose
    stop = threading.Event()
    run = secrets.token_hex(4)
    posts, latencies, missed = [], [], 0
    try:
        with gunicorn(database_url, args.workers) as port:
            pollers = [Poller(port, session, args.interval, stop) for session in sessions]
            for poller in pollers:
                poller.start()
            time.sleep(3 * args.interval)  # every tab has loaded its notices
            for poller in pollers:  # first answers of fresh workers are not what we measure
                poller.times = {200: [], 204: []}
            measured = pollers[0]
            api = {"Content-Type": "application/json", "Authorization": f"Token {key}"}
            say(
                f"{len(pollers)} agents polling every {args.interval:.2f} s "
                f"(~{len(pollers) / args.interval:.0f} polls/s); {args.calls} calls for agent 0"
            )
            for index in range(args.calls):
                time.sleep(rng.uniform(1.0, 2.0))
                body = json.dumps(
                    {
                        "call_id": f"bench-{run}-{index}",
                        "caller_number": "0221 7000001",
                        "ivr_choice": "1",
                        "queue": "Hotline",
                        "wait_seconds": rng.randint(5, 120),
                        "extension": "7000",
                    }
                )
                sent = time.perf_counter()
                status, reply, ms = request(port, "POST", "/api/v1/calls/", body=body, headers=api)
                if status != 201:
                    raise SystemExit(f"POST /api/v1/calls/ answered {status}: {reply[:200]!r}")
                posts.append(ms)
                pk = Call.objects.values_list("pk", flat=True).get(
                    external_id=f"bench-{run}-{index}"
                )
                deadline = sent + 5
                while pk not in measured.first_seen and time.perf_counter() < deadline:
                    time.sleep(0.005)
                if pk in measured.first_seen:
                    latencies.append((measured.first_seen[pk] - sent) * 1000)
                else:
                    missed += 1
                # The agent opens the call (its notice is seen), as after a real screen pop.
                Call.objects.filter(pk=pk).update(notice_seen_at=timezone.now())
            stop.set()
            for poller in pollers:
                poller.join(timeout=5)
    finally:
        stop.set()
        from helpdesk import services as helpdesk_services

        helpdesk_services.api_token_revoke(token=token)

    polls_204 = [ms for poller in pollers for ms in poller.times[204]]
    polls_200 = [ms for poller in pollers for ms in poller.times[200]]
    errors = sum(poller.errors for poller in pollers)
    say()
    say(summary("POST /api/v1/calls/", posts))
    say(summary("poll, nothing new (204)", polls_204))
    say(summary("poll with notices (200)", polls_200))
    say(summary("screen pop: POST sent -> notice shown", latencies))
    within = sum(1 for value in latencies if value < TARGET_MS)
    say(
        f"within {TARGET_MS} ms: {within} of {len(latencies) + missed}; not shown within 5 s: "
        f"{missed}; poll errors: {errors}; load average after: {os.getloadavg()[0]:.2f}"
    )
    return 0 if missed == 0 and within == len(latencies) and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
