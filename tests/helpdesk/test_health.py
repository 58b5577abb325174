"""/healthz tells operators and load balancers what works."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone

from helpdesk import services
from helpdesk.tasks import health_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A private cache: the real one is shared with the worker test and a running product."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }


def test_reports_every_dependency(client):
    services.beat_tick_record(now=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["cache"]["ok"] and body["broker"]["ok"]
    assert body["beat"]["ok"] and body["beat"]["age_seconds"] <= 5


def test_a_stale_beat_is_degraded_but_still_200(client, settings):
    services.beat_tick_record(now=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["beat"]["ok"] is False


def test_the_health_task_records_the_beat_tick(client):
    result = health_task.delay().get()
    assert result["status"] == "ok"
    assert client.get("/healthz").json()["beat"]["last_tick"] == result["at"]


def test_database_down_is_503(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


def test_health_leaks_no_connection_details(client, settings):
    body = client.get("/healthz").content.decode()
    assert "://" not in body
    assert settings.SECRET_KEY not in body


def test_health_answers_only_get(client):
    assert client.post("/healthz").status_code == 405


def test_load_balancers_may_call_it_by_ip_address(client, settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example.com"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400
