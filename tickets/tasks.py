"""Celery tasks of the tickets app: thin, they take primary keys and call services (STYLE R6).

Mass work on an outage runs one batch per task run: the task enqueues its successor
for the next batch, so a worker is never held for long, other tasks interleave, and a
worker dying halfway loses only its own batch (committed batches stay done).
"""

from celery import shared_task
from django.conf import settings

from tickets.services import outages, visits

# How long to wait when every remaining ticket was locked by an agent at that moment.
LOCKED_RETRY_SECONDS = 30


@shared_task(bind=True, acks_late=True, max_retries=None)
def outage_tickets_resolve_task(self, outage_id: int) -> int:
    """Resolve and mail the next batch of a resolved outage's tickets, then the next."""
    resolved, finished = outages.outage_tickets_resolve_batch(
        outage_id=outage_id, limit=settings.OUTAGE_BATCH_SIZE
    )
    if not finished:
        if resolved:
            outage_tickets_resolve_task.delay(outage_id)
        else:
            raise self.retry(countdown=LOCKED_RETRY_SECONDS)
    return resolved


@shared_task(acks_late=True)
def outage_update_notify_task(update_id: int) -> int:
    """Mail the next batch of an outage update to the linked customers, then the next."""
    sent, finished = outages.outage_update_notify_batch(
        update_id=update_id, limit=settings.OUTAGE_BATCH_SIZE
    )
    if not finished:
        outage_update_notify_task.delay(update_id)
    return sent


@shared_task
def outages_work_resume_task() -> int:
    """Beat: restart batched outage work a lost worker or broker left unfinished."""
    return outages.outages_work_resume()


@shared_task
def visit_windows_fill_task() -> int:
    """Beat, daily: keep every region's standard windows open for booking ahead."""
    return visits.visit_windows_fill_all()
