"""Backup and restore as the README describes it, on PostgreSQL: dump, erase a customer,
restore the older dump into a fresh database, migrate, replay the erasure log.

The restored database must show the customer erased again, with their ticket references
and invoices still there. The commands run as an operator would run them: `pg_dump -Fc`,
`createdb`, `pg_restore`, and `manage.py migrate` / `manage.py erasures_replay` in their
own process pointed at the restored database through DATABASE_URL.
"""

# ruff: noqa: F811

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection

from customers.models import Customer, Invoice
from customers.services import privacy
from tests.conftest import skip_or_fail
from tests.customers.conftest import make_invoices
from tests.tickets.conftest import (  # noqa: F401
    bob_agent,
    carol_agent,
    team,
    ticket,
    tina_agent,
    trent,
)

BASE_DIR = Path(django_settings.BASE_DIR)


def _postgres_or_skip() -> dict:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    return connection.settings_dict


def _pg_env(db: dict) -> dict:
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _pg_args(db: dict) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    return args


def _run(args: list, *, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args[0]} failed: {result.stderr[-2000:]}"
    return result


def _url(db: dict, name: str) -> str:
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{name}"


def _query(db: dict, name: str, sql: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(_url(db, name)) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_restored_dump_gets_its_erasures_replayed(erika, ticket, tmp_path, settings):
    db = _postgres_or_skip()
    env = _pg_env(db)
    settings.ERASURE_LOG_PATH = tmp_path / "erasures.jsonl"
    settings.MEDIA_ROOT = tmp_path / "media"
    make_invoices(erika, 3)
    admin = User.objects.create_superuser("root", "root@example.com", "x")

    dump = tmp_path / "helpdesk.dump"
    _run(["pg_dump", "-Fc", *_pg_args(db), "-d", db["NAME"], "-f", str(dump)], env=env)

    privacy.customer_erase(customer=erika, actor=admin, reason="Antrag per Brief")
    assert Customer.objects.get(pk=erika.pk).last_name != "Musterfrau"

    restored = f"restore_{uuid.uuid4().hex[:12]}"
    _run(["createdb", *_pg_args(db), restored], env=env)
    try:
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", *_pg_args(db), "-d", restored, dump],
            env=env,
        )
        number = "K1000001"
        sql = "SELECT last_name, email FROM customers_customer WHERE number = %s"
        assert _query(db, restored, sql, [number]) == [("Musterfrau", "erika@example.de")]

        manage = {
            **env,
            "DATABASE_URL": _url(db, restored),
            "ERASURE_LOG_PATH": str(settings.ERASURE_LOG_PATH),
            "VAR_DIR": str(tmp_path / "var"),
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
        python = [sys.executable, str(BASE_DIR / "manage.py")]
        _run([*python, "migrate", "--noinput"], env=manage)
        replay = _run([*python, "erasures_replay"], env=manage)
        assert "1 re-applied" in replay.stdout

        first, last, email, street = _query(
            db,
            restored,
            "SELECT first_name, last_name, email, street FROM customers_customer WHERE number = %s",
            [number],
        )[0]
        assert (first, last, email, street) == (
            privacy.ERASED_FIRST_NAME,
            privacy.pseudonym_for(number),
            "",
            "",
        )
        subjects = _query(
            db,
            restored,
            "SELECT subject FROM tickets_ticket WHERE reference = %s",
            [ticket.reference],
        )
        assert subjects == [(privacy.PLACEHOLDER,)]
        invoices = _query(
            db,
            restored,
            "SELECT count(*) FROM customers_invoice i JOIN customers_customer c "
            "ON c.id = i.customer_id WHERE c.number = %s",
            [number],
        )
        assert invoices == [(Invoice.objects.filter(customer=erika).count(),)] == [(3,)]
        erasures = _query(db, restored, "SELECT customer_number, reason FROM customers_erasure", [])
        assert erasures == [(number, "Antrag per Brief")]
        users = _query(
            db, restored, "SELECT is_active FROM auth_user WHERE username = %s", ["alice"]
        )
        assert users == []  # renamed to the pseudonym and disabled

        again = _run([*python, "erasures_replay"], env=manage)
        assert "0 re-applied, 1 already recorded" in again.stdout
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", "--force", *_pg_args(db), restored],
            env=env,
            capture_output=True,
            timeout=120,
        )
