from celery import shared_task
from django.utils import timezone

from helpdesk import services


@shared_task(name="helpdesk.health")
def health_task() -> dict:
    """Scheduled by beat every 30 s: proves beat, broker and a worker all work."""
    now = timezone.now()
    services.beat_tick_record(now=now)
    return {"status": "ok", "at": now.isoformat()}
