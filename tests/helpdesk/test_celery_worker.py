"""A real Celery worker process on the configured broker: kombu's filesystem transport under
var/ locally, Redis in CI (REDIS_URL). The unit tests run tasks eagerly; this is the one place
that proves a message crosses the broker, a worker runs it and /healthz sees the result.

The worker process uses the real DATABASE_URL, not pytest's test database; the health task
only touches the cache, which both processes share.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.utils import timezone

from helpdesk.celery import app as celery_app
from helpdesk.health import health_report
from helpdesk.tasks import health_task
from tests.conftest import IN_CI, skip_or_fail

pytestmark = [pytest.mark.services, pytest.mark.xdist_group("worker")]

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT = 60  # seconds: worker start-up (Django setup) plus one task


def _require_redis_if_configured() -> None:
    if not settings.REDIS_URL:
        return
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError:
        skip_or_fail("Redis at REDIS_URL does not answer")


def _output(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no output)"


def _wait_for_result(async_result, worker: subprocess.Popen, log: Path) -> dict:
    """Poll for the task's result in one-second slices, so a worker that dies early fails
    the test at once with its own output instead of after the whole timeout."""
    for _ in range(RESULT_TIMEOUT):
        if worker.poll() is not None:
            pytest.fail(f"worker exited early with {worker.returncode}:\n{_output(log)}")
        try:
            return async_result.get(timeout=1)
        except CeleryTimeout:
            continue
    pytest.fail(f"no result from the worker within {RESULT_TIMEOUT} s:\n{_output(log)}")


@pytest.fixture
def worker_queue(tmp_path):
    """A worker listening on a queue of its own, so no other worker steals the message."""
    _require_redis_if_configured()
    queue = f"test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
        "--loglevel=INFO", "--concurrency=1", "--pool=solo", "-Q", queue,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=REPO_ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield queue, worker, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_a_real_worker_runs_the_health_task_and_healthz_sees_the_tick(db, worker_queue):
    queue, worker, log = worker_queue
    celery_app.conf.task_always_eager = False

    sent = health_task.apply_async(queue=queue)
    result = _wait_for_result(sent, worker, log)
    sent.forget()

    assert result["status"] == "ok"
    beat = health_report(now=timezone.now())["beat"]
    assert beat["last_tick"] == result["at"]
    assert beat["ok"] is True


def test_ci_runs_the_worker_test_on_redis():
    if not IN_CI:
        pytest.skip("outside CI the filesystem broker is fine; CI must prove Redis")
    # Only the scheme is compared, so a failure never prints a password from the URL.
    assert settings.REDIS_URL != "", "CI must set REDIS_URL"
    assert settings.CELERY_BROKER_URL.split("://", 1)[0] == "redis"
