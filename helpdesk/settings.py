"""Settings for the helpdesk, read from the environment only (see README, "Configuration")."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from helpdesk.env import (
    EnvError,
    env_bool,
    env_database,
    env_email,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    fernet_keys,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# An optional .env beside manage.py; variables already in the environment win.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = secret_key(debug=DEBUG, var_dir=VAR_DIR)
FIELD_ENCRYPTION_KEYS = fernet_keys(debug=DEBUG, var_dir=VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "helpdesk",
    "customers",
    "tickets",
    "escalation",
    "feature_requests",
    "mail",
    "calls",
]

MIDDLEWARE = [
    "helpdesk.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a time-out tells the user why they have to sign in again.
    "helpdesk.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one file: WAL lets readers and one writer coexist, and
    # IMMEDIATE transactions fail fast instead of deadlocking on lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Covering indexes (INCLUDE) are a PostgreSQL feature; SQLite builds the same index
    # without the extra columns, which is fine for a local run.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache; without it, nothing needs a server ----------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "helpdesk",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _results_dir = VAR_DIR / "celery" / "results"
    _control_dir = VAR_DIR / "celery" / "control"
    for _dir in (_queue_dir, _processed_dir, _results_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        "control_folder": str(_control_dir),
    }
    CELERY_RESULT_BACKEND = f"file://{_results_dir}"

# --- Celery ---------------------------------------------------------------------------
CELERY_TIMEZONE = "Europe/Berlin"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
# Nothing reads task results except the health check: storing none also means a sender
# does not first subscribe to the result store, which with Redis down blocked every
# .delay() for about 20 s before failing.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The SLA timer's beat interval; deadlines live in the database, so a longer interval only
# delays warnings and breaches, it never loses them.
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "health": {"task": "helpdesk.health", "schedule": 30.0},
    "outbox": {"task": "mail.tasks.outbound_mails_due_send_task", "schedule": 60.0},
    "sla-sweep": {
        "task": "escalation.tasks.sla_sweep_task",
        "schedule": float(SLA_SWEEP_SECONDS),
        # A pass missed while the worker was down is not worth queueing: the next one
        # catches up on everything due, because deadlines live in the database.
        "options": {"expires": float(SLA_SWEEP_SECONDS)},
    },
}
# A rejected feature request goes back to quality management after this many new asks.
FEATURE_REQUEST_REREVIEW_ASKS = env_int("FEATURE_REQUEST_REREVIEW_ASKS", 10, minimum=1)
CELERY_BEAT_SCHEDULE["feature-requests-rereview"] = {
    # Asks enqueue the check themselves; this pass catches what a lost task left behind.
    "task": "feature_requests.tasks.feature_requests_rereview_due_task",
    "schedule": 600.0,
    "options": {"expires": 600.0},
}
# Outages: tickets resolved (and mails written) per batch when an outage is resolved.
OUTAGE_BATCH_SIZE = env_int("OUTAGE_BATCH_SIZE", 500, minimum=1)
CELERY_BEAT_SCHEDULE["outages-resume"] = {
    # Resolutions and notices enqueue their own batches; this restarts what a lost
    # worker or broker left unfinished.
    "task": "tickets.tasks.outages_work_resume_task",
    "schedule": 300.0,
    "options": {"expires": 300.0},
}
# Technician visits: how many days ahead each region's standard windows are opened.
VISIT_WINDOW_DAYS_AHEAD = env_int("VISIT_WINDOW_DAYS_AHEAD", 21, minimum=1)
CELERY_BEAT_SCHEDULE["visit-windows-fill"] = {
    "task": "tickets.tasks.visit_windows_fill_task",
    "schedule": 3600.0 * 6,
    "options": {"expires": 3600.0},
}
# /healthz reports the SLA timer as behind when something has been due this long unfired.
# Requests to management: the answer target in business minutes on the management
# calendar (960 = two working days of 8 hours), and how many a customer may have open.
MANAGEMENT_ANSWER_MINUTES = env_int("MANAGEMENT_ANSWER_MINUTES", 960, minimum=1)
MANAGEMENT_OPEN_REQUESTS_MAX = env_int("MANAGEMENT_OPEN_REQUESTS_MAX", 3, minimum=1)
# KPIs: finished days are rolled up at night (and days missed before, a few per pass).
CELERY_BEAT_SCHEDULE["kpi-rollup"] = {
    "task": "escalation.tasks.kpi_days_rollup_task",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
# The public wait-time page's figures are computed at most this often.
WAIT_TIMES_CACHE_SECONDS = env_int("WAIT_TIMES_CACHE_SECONDS", 300, minimum=1)
SLA_TIMER_LAG_ALERT = timedelta(seconds=env_int("SLA_TIMER_LAG_ALERT_SECONDS", 300, minimum=30))
# The beat tick is "stale" on /healthz when the health task has not run for this long.
HEALTH_BEAT_STALE_AFTER = timedelta(seconds=env_int("HEALTH_BEAT_STALE_AFTER", 120, minimum=30))

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "agent-login"
LOGOUT_REDIRECT_URL = "home"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
# How many proxies of our own (load balancer, TLS proxy) stand in front of the web
# processes: the client's address is then read from X-Forwarded-For (helpdesk.http).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "helpdesk.http.client_ip"

# --- Sessions and the second factor ------------------------------------------------------
# Sessions live in the database with their user (helpdesk.sessions), so a disabled user's
# sessions end at once and a user can end their other sessions.
SESSION_ENGINE = "helpdesk.sessions"
# Signed out after this long without a request, and after this long in any case.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 60, minimum=5))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# Staff sign in with a TOTP code from an authenticator app. Management and admin accounts
# always; agents, team leads and dispatchers unless this says "optional" (for a demo).
TWO_FACTOR_FOR_AGENTS = env_str("TWO_FACTOR_FOR_AGENTS", "required").lower()
if TWO_FACTOR_FOR_AGENTS not in ("required", "optional"):
    raise EnvError("TWO_FACTOR_FOR_AGENTS must be 'required' or 'optional'")
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Helpdesk")
# The admin never shows a device's secret or QR code: whoever reads it holds the factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
CELERY_BEAT_SCHEDULE["sessions-clear"] = {
    "task": "helpdesk.tasks.sessions_clear_expired_task",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}

# --- Caller verification by phone password ---------------------------------------------
PHONE_PASSWORD_MIN_LENGTH = env_int("PHONE_PASSWORD_MIN_LENGTH", 6, minimum=4)
# A successful check lets that agent make account changes for this long.
PHONE_VERIFICATION_WINDOW = timedelta(minutes=env_int("PHONE_VERIFICATION_MINUTES", 15, minimum=1))
# This many failures within the failure window lock verification for the lock time.
PHONE_VERIFICATION_FAILURE_LIMIT = env_int("PHONE_VERIFICATION_FAILURE_LIMIT", 5, minimum=1)
PHONE_VERIFICATION_FAILURE_WINDOW = timedelta(
    minutes=env_int("PHONE_VERIFICATION_FAILURE_WINDOW_MINUTES", 15, minimum=1)
)
PHONE_VERIFICATION_LOCK = timedelta(
    minutes=env_int("PHONE_VERIFICATION_LOCK_MINUTES", 15, minimum=1)
)

# --- Tickets --------------------------------------------------------------------------
# A customer reply reopens a resolved ticket for this long; later it needs a new request.
TICKET_REOPEN_DAYS = env_int("TICKET_REOPEN_DAYS", 14, minimum=0)
TICKET_MESSAGE_MAX_CHARS = 20_000
TICKET_ATTACHMENT_MAX_BYTES = env_int("TICKET_ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
TICKET_ATTACHMENTS_PER_MESSAGE = 5
# The portal and the mail of a reply link here; set it to the public address in production.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Data protection (GDPR) -------------------------------------------------------------
# Every erasure is appended here as one JSON line, outside the database, so that after
# restoring an older database dump `manage.py erasures_replay` erases those customers
# again. Back it up separately from the database dumps, and never restore it from one.
ERASURE_LOG_PATH = Path(env_str("ERASURE_LOG_PATH", str(VAR_DIR / "erasures.jsonl")))
# Finished tickets lose subject, contact e-mail, messages and attachments this many days
# after they were closed (or resolved); caller verifications lose their customer after
# this many days (they only matter for the lock-out window and the statistics).
RETENTION_CLOSED_TICKET_DAYS = env_int("RETENTION_CLOSED_TICKET_DAYS", 1095, minimum=1)
RETENTION_VERIFICATION_DAYS = env_int("RETENTION_VERIFICATION_DAYS", 90, minimum=1)
CELERY_BEAT_SCHEDULE["personal-data-retention"] = {
    # Once a day; the pass is idempotent and batched, so a missed day is caught up next.
    "task": "customers.tasks.personal_data_retention_task",
    "schedule": 86400.0,
    "options": {"expires": 3600.0},
}

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English")), ("pl", _("Polish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"  # outside the web root; files are served by views that check access
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------
_email = env_email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "helpdesk@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Inbound mail ---------------------------------------------------------------------
# The mailbox `manage.py mail_fetch` (and beat) reads customer mail from:
# imaps://user:password@host[:993]/INBOX (TLS), imap://user:password@host/INBOX (STARTTLS;
# add ?starttls=false only for a local test server) or maildir:///var/mail/helpdesk.
# Empty: no mailbox is read; a mail gateway may still POST to /api/v1/inbound-email/.
MAIL_INBOUND_URL = env_str("MAIL_INBOUND_URL", "")
if MAIL_INBOUND_URL.partition("://")[0].lower() not in ("", "imap", "imaps", "maildir"):
    raise EnvError("MAIL_INBOUND_URL must start with imaps://, imap:// or maildir://")
# Messages that cannot be filed are moved here (an IMAP folder, a Maildir subfolder).
MAIL_INBOUND_ERROR_FOLDER = env_str("MAIL_INBOUND_ERROR_FOLDER", "Error")
MAIL_INBOUND_FETCH_SECONDS = env_int("MAIL_INBOUND_FETCH_SECONDS", 60, minimum=10)
MAIL_INBOUND_FETCH_LIMIT = env_int("MAIL_INBOUND_FETCH_LIMIT", 500, minimum=1)  # per run
# Larger messages are rejected (kept as they are, never half-filed).
MAIL_INBOUND_MAX_BYTES = env_int("MAIL_INBOUND_MAX_MB", 25, minimum=1) * 1024 * 1024
# More To+Cc recipients than this is mass mail, not a customer's request.
MAIL_INBOUND_MAX_RECIPIENTS = env_int("MAIL_INBOUND_MAX_RECIPIENTS", 100, minimum=1)
# New tickets from e-mail start in this support area (a slug; an active one if missing).
MAIL_INBOUND_SUPPORT_AREA = env_str("MAIL_INBOUND_SUPPORT_AREA", "general")
# The helpdesk's own addresses besides DEFAULT_FROM_EMAIL: mail from them is a loop.
MAIL_INBOUND_ADDRESSES = env_list("MAIL_INBOUND_ADDRESSES", [])
# A sender who opened this many tickets by e-mail within an hour gets no more
# acknowledgements (their mail is still filed): two auto-responders cannot ping-pong.
MAIL_INBOUND_ACK_LIMIT_PER_HOUR = env_int("MAIL_INBOUND_ACK_LIMIT_PER_HOUR", 5, minimum=1)
if MAIL_INBOUND_URL:
    CELERY_BEAT_SCHEDULE["mail-fetch"] = {
        "task": "mail.tasks.inbound_mail_fetch_task",
        "schedule": float(MAIL_INBOUND_FETCH_SECONDS),
        # A pass missed while the worker was down is not worth queueing: the next one
        # reads whatever is still in the mailbox.
        "options": {"expires": float(MAIL_INBOUND_FETCH_SECONDS)},
    }

# --- REST API -------------------------------------------------------------------------
# Calls a minute per token (a signed-in user, an address without credentials); over it the
# API answers 429 with Retry-After. 0 switches the limit off.
API_RATE_PER_MINUTE = env_int("API_RATE_PER_MINUTE", 600)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "helpdesk.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.authentication.ScopedAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["helpdesk.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "helpdesk.api.ScopedSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "REST API for integrations: phone system, network monitoring, mail gateway, "
    "reporting. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.scopes_in_description",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.choices.Status",
        "MessageKindEnum": "tickets.choices.MessageKind",
    },
}

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "helpdesk.views.csrf_failure"  # audited like every refusal
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # kombu warns that the embedded filesystem broker has no hostname: true and harmless.
    "loggers": {"axes": {"level": "WARNING"}, "kombu.connection": {"level": "ERROR"}},
}
