# Production image for the helpdesk: one image runs web (gunicorn), worker and beat (celery)
# and the one-off `migrate`; see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first (own layer, rebuilt only when the lock changes); every file is hash-checked.
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/base.lock

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

COPY . .

# Static files are collected at build time so containers never need a writable static dir.
# These values exist only for this RUN step: the settings refuse a weak SECRET_KEY when
# DEBUG=false, so it is long, but it is NOT a secret and is never used at run time
# (compose / the orchestrator passes the real SECRET_KEY, DATABASE_URL, ...).
RUN DEBUG=false \
    SECRET_KEY=build-only-not-secret-q7Vd2kXp9LmZ4rTw8NbY3cHs6FjG1aUe5oRi0yKtWvQxEzB \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQta2V5LTAwMDA= \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/build.sqlite3 \
    && mkdir -p /app/var/media /app/erasures \
    && chown -R app:app /app/var /app/erasures

USER app

EXPOSE 8000

CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
