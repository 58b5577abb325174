"""Strict parsing of environment variables for settings.

Every reader raises EnvError naming the variable, so `manage.py`, the WSGI/ASGI entry
points and the Celery app can stop start-up with one clear line instead of a traceback.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class EnvError(ImproperlyConfigured):
    """A missing or malformed environment variable."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise EnvError(f"{name} must be 'true' or 'false', not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise EnvError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    raw = os.environ.get(name, "").strip() or default
    scheme = urlsplit(raw).scheme
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise EnvError(f"{name} must be a sqlite:// or postgres:// URL, not {_redact(raw)!r}")
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:
        raise EnvError(f"{name} is not a valid database URL ({exc})") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise EnvError(f"{name} must name a database, e.g. postgres://user@host:5432/helpdesk")
    return config


def env_redis_url(name: str) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise EnvError(f"{name} must be a redis:// or rediss:// URL, not {_redact(raw)!r}")
    return raw


def env_email(name: str, default: str) -> dict:
    raw = os.environ.get(name, "").strip() or default
    try:
        return environ.Env.email_url_config(raw)
    except Exception:
        raise EnvError(
            f"{name} must be an e-mail URL such as smtp+tls://user:pass@host:587 or consolemail://"
        ) from None


def secret_key(*, debug: bool, var_dir: Path) -> str:
    """SECRET_KEY from the environment; in debug mode generated once into var/."""
    raw = os.environ.get("SECRET_KEY", "").strip()
    if raw:
        if not debug and (len(raw) < 40 or raw.startswith("django-insecure")):
            raise EnvError("SECRET_KEY is too weak for production: use 50 random characters")
        return raw
    if not debug:
        raise EnvError("SECRET_KEY must be set when DEBUG is false")
    path = var_dir / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _redact(url: str) -> str:
    """The URL without its password, safe for an error line."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url


def load_settings_or_exit() -> None:
    """Import the settings now; a bad environment value ends the process with one line."""
    import sys

    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the attribute access imports the settings
    except EnvError as exc:
        sys.exit(f"helpdesk: configuration error: {exc}")


def fernet_keys(*, debug: bool, var_dir: Path) -> list[str]:
    """FIELD_ENCRYPTION_KEY: comma-separated Fernet keys, newest first (old ones still decrypt).

    In debug mode a key is generated once into var/; production must set it, and must keep
    it: data encrypted with a lost key cannot be read again.
    """
    raw = os.environ.get("FIELD_ENCRYPTION_KEY", "").strip()
    if not raw:
        if not debug:
            raise EnvError("FIELD_ENCRYPTION_KEY must be set when DEBUG is false")
        path = var_dir / "field_encryption_key"
        if not path.exists():
            from cryptography.fernet import Fernet

            var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        raw = path.read_text().strip()
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    from cryptography.fernet import Fernet

    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise EnvError(
                "FIELD_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64 bytes), "
                "e.g. from `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from None
    return keys
