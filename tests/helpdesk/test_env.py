"""Start-up refuses bad configuration with one clear line naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpdesk import env
from helpdesk.env import EnvError

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG must be 'true' or 'false'"),
        ("DATABASE_URL", "mysql://db/helpdesk", "DATABASE_URL must be a sqlite:// or postgres://"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must be a redis://"),
        ("LOGIN_FAILURE_LIMIT", "five", "LOGIN_FAILURE_LIMIT must be a whole number"),
        ("EMAIL_URL", "pigeon://loft", "EMAIL_URL must be an e-mail URL"),
    ],
)
def test_bad_value_stops_start_up_with_one_line(variable, value, expected):
    result = run_manage("check", **{variable: value})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"helpdesk: configuration error: {result.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_production_mode_refuses_the_missing_secret_key():
    result = run_manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_production_mode_refuses_a_weak_secret_key():
    result = run_manage("check", DEBUG="false", SECRET_KEY="django-insecure-changeme")
    assert result.returncode == 1
    assert "SECRET_KEY is too weak" in result.stderr


def test_production_mode_hardens_cookies_hsts_and_csp():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'), "
        "'default-src' in s.CONTENT_SECURITY_POLICY['DIRECTIVES'])"
    )
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DEBUG="false",
        SECRET_KEY="k" * 50,
        FIELD_ENCRYPTION_KEY="0" * 43 + "=",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "True"]


def test_database_password_is_not_echoed_in_the_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://user:s3cret@db/helpdesk")
    with pytest.raises(EnvError) as error:
        env.env_database("DATABASE_URL", "sqlite:///x")
    assert "s3cret" not in str(error.value)


def test_secret_key_is_generated_once_into_the_var_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(debug=True, var_dir=tmp_path)
    assert len(first) >= 50
    assert env.secret_key(debug=True, var_dir=tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("raw", "expected"), [("", True), ("true", True), ("False", False)])
def test_booleans_are_parsed_strictly(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG", True) is expected
