"""The SLA timer with the real thing: Celery worker and beat as processes of their own, on
Redis and on this test's PostgreSQL database (STYLE R5, R6).

test_sweep.py calls the sweep directly with a fixed clock; these tests prove the deployed
shape: beat queues `sla_sweep_task` every second, a worker runs it, and every warning and
breach lands exactly once, also when the worker is killed in the middle of a batch or
Redis goes away for a while. Deadlines are moved into the past by writing the clocks
directly, so nothing waits for minutes.

They need PostgreSQL (the processes must see the rows the test commits; SQLite's test
database lives in memory) and Redis: outside CI they skip without them, in CI they fail.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu import pools as kombu_pools

from escalation.choices import ClockKind
from escalation.models import SlaClock
from helpdesk.celery import app as celery_app
from tests.conftest import skip_or_fail
from tests.tickets.conftest import area, bob_agent  # noqa: F401 (fixture)
from tickets import services
from tickets.choices import Channel, Priority, Status
from tickets.models import Ticket, TicketEvent

pytestmark = [
    pytest.mark.services,
    pytest.mark.xdist_group("worker"),
    pytest.mark.django_db(transaction=True),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 45  # the longest any one step may take: process start-up plus a few sweeps
POLL_SECONDS = 0.5
# Workers and beat of these tests talk to their own Redis database, so a worker started by
# another test (or a developer's `make run` on database 0) never takes their messages.
REDIS_DB = 14
SWEEP_DONE = re.compile(r"sla_sweep_task\[[^\]]+\] succeeded")
FR, RES = ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION


# --- Processes ----------------------------------------------------------------------------


class Process:
    """One child process in a session of its own, so a kill takes its whole group."""

    def __init__(self, name: str, command: list[str], *, env: dict, log: Path):
        self.name = name
        self.log = log
        self.expected_dead = False
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                command,
                cwd=log.parent,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.expected_dead = True
        if self.popen.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


class Processes:
    """Workers, beat and Redis servers of one test; all stopped when the test ends."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path = tmp_path
        self.env = env
        self.started: list[Process] = []

    def _start(self, name: str, command: list[str], env: dict | None = None) -> Process:
        log = self.tmp_path / f"{name}-{len(self.started)}.log"
        process = Process(name, command, env=env or self.env, log=log)
        self.started.append(process)
        return process

    def _celery(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "helpdesk", *args, "--loglevel=INFO"]

    def _env(self, redis_url: str | None) -> dict:
        return {**self.env, "REDIS_URL": redis_url} if redis_url else self.env

    def worker(self, name: str = "worker", *, redis_url: str | None = None) -> Process:
        command = self._celery(
            "worker", "--pool=solo", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-n", f"sla-{uuid.uuid4().hex[:8]}@%h",
        )  # fmt: skip
        return self._start(name, command, self._env(redis_url))

    def beat(self, *, redis_url: str | None = None) -> Process:
        schedule = self.tmp_path / f"beat-schedule-{uuid.uuid4().hex[:8]}"
        command = self._celery("beat", "-s", str(schedule))
        return self._start("beat", command, self._env(redis_url))

    def redis_server(self, port: int) -> Process:
        command = [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.tmp_path),
        ]  # fmt: skip
        process = self._start("redis", command)
        client = redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=1)
        self.wait_until(lambda: _answers(client), f"redis-server on port {port}")
        return process

    def outputs(self) -> str:
        return "\n".join(
            f"--- {p.name} (pid {p.popen.pid}, exit {p.popen.poll()}) ---\n{p.output()[-3000:]}"
            for p in self.started
        )

    def check_alive(self) -> None:
        for process in self.started:
            if not process.expected_dead and process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited early:\n{self.outputs()}")

    def wait_until(self, condition: Callable[[], object], what: str) -> None:
        """Poll in short slices; fail at once with the output when a process died."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            self.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {WAIT_SECONDS} s:\n{self.outputs()}")
            time.sleep(POLL_SECONDS)

    def hold(self, seconds: float) -> None:
        """Let the processes run for a while, failing if one of them dies meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            time.sleep(POLL_SECONDS)

    def stop_all(self) -> None:
        running = [process for process in self.started if process.popen.poll() is None]
        for process in running:  # all at once: each warm shutdown takes a second or two
            with suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in running:
            process.kill(signal.SIGTERM)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sweeps_done(worker: Process) -> int:
    return len(SWEEP_DONE.findall(worker.output()))


# --- Environment for the processes --------------------------------------------------------


def _database_url() -> str:
    """This test's database (test_…), as a URL the processes' settings parse."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host, query = db["HOST"] or "", ""
    if host.startswith("/"):  # a socket directory travels as a parameter
        host, query = "", "?" + urlencode({"host": db["HOST"]})
    port = f":{db['PORT']}" if db["PORT"] else ""
    name = quote(db["NAME"], safe="")
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{name}{query}"


def _redis_url_on_db(url: str, number: int) -> str:
    """The same Redis server, another database number."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [q for q in parts.query.split("&") if q and not q.startswith("db=")]
        return urlunsplit(parts._replace(query="&".join([*query, f"db={number}"])))
    return urlunsplit(parts._replace(path=f"/{number}"))


@pytest.fixture
def worker_env():
    """Environment for worker and beat: the test database, Redis, a sweep every second."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL): worker and beat must share the test DB")
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis (REDIS_URL) for a real broker")
    redis_url = _redis_url_on_db(settings.REDIS_URL, REDIS_DB)
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    if not _answers(client):
        skip_or_fail("Redis at REDIS_URL does not answer")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "SLA_SWEEP_SECONDS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }


@pytest.fixture
def worker_processes(worker_env, tmp_path, transactional_db):
    """Start processes with `.worker()`, `.beat()`, `.redis_server(port)`; all end with the
    test, before the database is flushed (a worker mid-transaction would block the flush)."""
    processes = Processes(tmp_path, worker_env)
    try:
        yield processes
    finally:
        processes.stop_all()


# --- Tickets and what fired ---------------------------------------------------------------


def _tickets(count: int) -> list[Ticket]:
    """Mails from senders without a customer record, as the mail gateway files them."""
    with transaction.atomic():  # one commit for all: hundreds of tickets in a few seconds
        return [
            services.ticket_create(
                customer=None,
                contact_email=f"kunde{i}@example.de",
                subject=f"Rechnung {i:03}",
                body="Die Rechnung wurde doppelt abgebucht.",
                channel=Channel.EMAIL,
                support_area=area("invoice-question"),
                actor=None,
            )
            for i in range(count)
        ]


def _make_due(tickets: list[Ticket], kinds=(FR,), *, warning_only: bool = False) -> None:
    """Move deadlines into the past, as if the business minutes had run out."""
    past = timezone.now() - timedelta(minutes=5)
    clocks = SlaClock.objects.filter(ticket__in=tickets, kind__in=kinds)
    if warning_only:
        clocks.update(warn_at=past, fire_at=past)
    else:
        clocks.update(warn_at=past - timedelta(minutes=1), due_at=past, fire_at=past)


def _fired(kind: str, tickets: list[Ticket] | None = None) -> Counter:
    """(ticket, clock) → how many `kind` events; more than one would be a double fire."""
    events = TicketEvent.objects.filter(kind=kind)
    if tickets is not None:
        events = events.filter(ticket__in=tickets)
    return Counter(events.values_list("ticket_id", "data__clock"))


def _each_once(tickets: list[Ticket], kinds=(FR,)) -> Counter:
    return Counter({(ticket.pk, kind): 1 for ticket in tickets for kind in kinds})


def _priority_events(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind="ticket.priority_changed").count()


def _wait_for_more_sweeps(processes: Processes, worker: Process, count: int) -> None:
    """Let the worker finish `count` more sweeps: anything that could fire twice would."""
    target = _sweeps_done(worker) + count
    processes.wait_until(lambda: _sweeps_done(worker) >= target, f"{count} more sweeps")


# --- A worker and beat on Redis -----------------------------------------------------------


def test_each_warning_and_breach_fires_once_with_a_real_worker_and_beat(worker_processes):
    processes = worker_processes
    worker = processes.worker()
    processes.beat()
    quiet, warned_first, breached, both = _tickets(4)

    _make_due([warned_first], warning_only=True)
    _make_due([breached])
    _make_due([both], kinds=(FR, RES))
    warnings = Counter({(warned_first.pk, FR): 1, (breached.pk, FR): 1})
    warnings += _each_once([both], (FR, RES))
    breaches = _each_once([breached]) + _each_once([both], (FR, RES))
    processes.wait_until(
        lambda: _fired("sla.warning") == warnings and _fired("sla.breached") == breaches,
        "warnings and breaches from the worker",
    )

    _make_due([warned_first])  # its deadline passes later: the breach, not a second warning
    breaches += _each_once([warned_first])
    processes.wait_until(lambda: _fired("sla.breached") == breaches, "the later breach")
    _wait_for_more_sweeps(processes, worker, 3)

    assert _fired("sla.warning") == warnings
    assert _fired("sla.breached") == breaches
    late = dict(
        TicketEvent.objects.filter(kind="sla.warning", data__clock=FR).values_list(
            "ticket_id", "data__late"
        )
    )
    assert late == {warned_first.pk: False, breached.pk: True, both.pk: True}
    assert not _fired("sla.warning", [quiet]) and not _fired("sla.breached", [quiet])
    assert not SlaClock.objects.filter(fire_at__lte=timezone.now()).exists()
    for ticket in (warned_first, breached):
        ticket.refresh_from_db()
        assert ticket.priority == Priority.HIGH and _priority_events(ticket) == 1


# --- A worker killed in the middle of a batch ---------------------------------------------


@contextmanager
def _ticket_row_locked(ticket: Ticket):
    """Hold a row lock on one ticket from a connection of our own; yields its backend pid."""
    with psycopg.connect(_database_url()) as holder:
        table = Ticket._meta.db_table
        holder.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [ticket.pk])  # noqa: S608
        try:
            yield holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        finally:
            holder.rollback()


def _blocked_by(pid: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid]
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_batch_leaves_no_deadline_missed_and_none_doubled(worker_processes):
    processes = worker_processes
    first_worker = processes.worker("first-worker")
    processes.beat()
    tickets = _tickets(300)
    done_before, in_flight = tickets[:150], tickets[150:]

    _make_due(done_before)
    processes.wait_until(
        lambda: _fired("sla.breached") == _each_once(done_before), "the first 150 breaches"
    )

    # The worker claims the next 150 clocks, then waits for our lock on one ticket when it
    # writes that ticket's events: killed there, it dies with the claims not yet committed.
    with _ticket_row_locked(in_flight[-1]) as holder:
        _make_due(in_flight)
        processes.wait_until(lambda: _blocked_by(holder) > 0, "the worker waiting mid-batch")
        assert (
            SlaClock.objects.filter(ticket__in=in_flight, kind=FR, breached_at=None).count() == 150
        )
        first_worker.kill(signal.SIGKILL)
    assert _fired("sla.breached", in_flight) == Counter()

    second_worker = processes.worker("second-worker")
    processes.wait_until(lambda: _fired("sla.breached") == _each_once(tickets), "all 300 breaches")
    _wait_for_more_sweeps(processes, second_worker, 2)

    assert _fired("sla.breached") == _each_once(tickets)
    assert _fired("sla.warning") == _each_once(tickets)
    priorities = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("priority")
    assert Counter(priorities) == Counter({(Priority.HIGH,): 300})  # all were normal
    steps = TicketEvent.objects.filter(kind="ticket.priority_changed").values_list("ticket_id")
    assert Counter(steps) == Counter({(ticket.pk,): 1 for ticket in tickets})


# --- Redis down ---------------------------------------------------------------------------


def _forget_broker_connections() -> None:
    # The Celery app keeps its broker pool and result backend once it has used them (the
    # worker test in tests/helpdesk does): drop them, so the URLs set now are the ones used.
    # kombu also keeps producer pools in a process-wide registry keyed by connection: a
    # pool closed here must not be handed out again to a later `.delay()` in this process.
    pool = celery_app._pool
    if pool is not None:
        pool.force_close_all()
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    vars(celery_app._local).pop("backend", None)


@contextmanager
def _web_app_on_redis(url: str, django_settings):
    """This process as the web app would run on `url`: broker, results and cache there,
    tasks queued rather than run in place (the autouse _eager_celery runs them in place)."""
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    django_settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    conf.update(task_always_eager=False, broker_url=url, result_backend=url)
    _forget_broker_connections()
    try:
        yield
    finally:
        conf.update(saved)
        _forget_broker_connections()


@pytest.mark.usefixtures("bob_agent")
def test_with_redis_down_replies_still_save_and_the_timer_catches_up_once_it_is_back(
    worker_processes, bob, client, caplog, settings
):
    if shutil.which("redis-server") is None:
        skip_or_fail("needs the redis-server binary to start and stop a Redis of its own")
    processes = worker_processes
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_server = processes.redis_server(port)
    worker = processes.worker(redis_url=url)
    processes.beat(redis_url=url)
    before, during, replied = _tickets(3)

    _make_due([before])
    processes.wait_until(lambda: _fired("sla.breached") == _each_once([before]), "a breach")
    redis_server.kill(signal.SIGKILL)
    # Once the worker has noticed, no sweep it took before the outage can still be running.
    processes.wait_until(lambda: "Connection to broker lost" in worker.output(), "the loss")
    _make_due([during])  # falls due while Redis is down

    # (a) The web app keeps working: the reply is saved, only its mail cannot be queued.
    client.force_login(bob)
    with _web_app_on_redis(url, settings), caplog.at_level("WARNING", "helpdesk.services"):
        started = time.monotonic()
        response = client.post(
            reverse("tickets:ticket-reply", args=[replied.reference]),
            {"reply-version": replied.version, "reply-body": "Wir prüfen das."},
        )
        took = time.monotonic() - started
    assert response.status_code == 302, response.content[:500]
    assert "outbound_mail_send_task not queued" in caplog.text
    replied.refresh_from_db()
    assert replied.status == Status.OPEN and replied.first_response_at is not None
    assert replied.messages.filter(kind="reply", body="Wir prüfen das.").count() == 1

    # (b) Nothing fires while Redis is down: beat cannot queue a sweep.
    processes.hold(2)
    assert _fired("sla.breached") == _each_once([before])
    assert _fired("sla.warning", [during]) == Counter()

    # (c) Redis back on the same port: worker and beat reconnect, the timer catches up.
    processes.redis_server(port)
    processes.wait_until(
        lambda: _fired("sla.breached") == _each_once([before, during]), "the catch-up breach"
    )
    _wait_for_more_sweeps(processes, worker, 2)
    assert _fired("sla.breached") == _each_once([before, during])
    assert _fired("sla.warning") == _each_once([before, during])
    assert not _fired("sla.warning", [replied])
    # Checked last, so that a slow reply does not hide what the timer did. A request must
    # not wait on the broker: gunicorn's sync workers would all be stuck in an outage.
    assert took < 5, f"the reply took {took:.1f} s with Redis down"
