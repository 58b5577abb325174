from celery import shared_task
from django.utils import timezone

from helpdesk import services


@shared_task(bind=True, max_retries=5)
def email_send_task(self, subject: str, body: str, to: list[str]) -> None:
    """Mail rendered by the request, sent by a worker: the SMTP round trip (and its
    timing) stays out of the page."""
    try:
        services.email_send(subject=subject, body=body, to=to)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(name="helpdesk.health", ignore_result=False)
def health_task() -> dict:
    """Scheduled by beat every 30 s: proves beat, broker and a worker all work."""
    now = timezone.now()
    services.beat_tick_record(now=now)
    return {"status": "ok", "at": now.isoformat()}


@shared_task
def sessions_clear_expired_task() -> None:
    """Hourly: delete sessions past their cookie age (Django's `clearsessions`)."""
    services.sessions_clear_expired()
