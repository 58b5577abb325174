"""The checks behind /healthz: database, cache, Celery broker, last beat tick, SLA timer lag."""

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from escalation import selectors as sla_selectors
from helpdesk.celery import app as celery_app
from helpdesk.services import BEAT_TICK_KEY


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _cache() -> dict:
    try:
        cache.set("helpdesk:health:probe", "1", timeout=10)
        ok = cache.get("helpdesk:health:probe") == "1"
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": ok}


def _broker() -> dict:
    transport = settings.CELERY_BROKER_URL.split(":", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": type(exc).__name__}
    return {"ok": True, "transport": transport}


def _beat(cache_state: dict, now: datetime) -> dict:
    raw = cache.get(BEAT_TICK_KEY) if cache_state["ok"] else None
    if raw is None:
        return {"ok": False, "last_tick": None, "age_seconds": None}
    last = datetime.fromisoformat(raw)
    age = (now - last).total_seconds()
    stale = settings.HEALTH_BEAT_STALE_AFTER.total_seconds()
    return {"ok": age <= stale, "last_tick": raw, "age_seconds": round(age)}


def _sla_timer(database: dict, now: datetime) -> dict:
    """The timer's lag: how long the oldest due warning or breach has waited unfired."""
    if not database["ok"]:
        return {"ok": False, "lag_seconds": None, "oldest_due": None}
    lag = sla_selectors.timer_lag(now=now)
    return {"ok": lag["lag_seconds"] <= settings.SLA_TIMER_LAG_ALERT.total_seconds(), **lag}


def health_report(*, now: datetime) -> dict:
    """State of each dependency; `status` is "ok", "degraded" or "down" (database gone)."""
    database = _database()
    cache_state = _cache()
    report = {
        "database": database,
        "cache": cache_state,
        "broker": _broker(),
        "beat": _beat(cache_state, now),
        "sla_timer": _sla_timer(database, now),
    }
    if not database["ok"]:
        status = "down"
    elif all(part["ok"] for part in report.values()):
        status = "ok"
    else:
        status = "degraded"
    return {"status": status, **report}
