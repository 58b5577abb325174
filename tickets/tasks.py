"""Celery tasks of the tickets app: thin, take primary keys, safe to run twice (STYLE R6)."""

from celery import shared_task

from tickets import services


@shared_task
def ticket_reply_emails_pending_task() -> int:
    """Beat, every minute: mail replies whose own task was lost while the broker was down."""
    return services.ticket_reply_emails_pending()


@shared_task(bind=True, max_retries=5)
def ticket_reply_email_send_task(self, message_id: int) -> bool:
    """Mail one public reply to the customer; a second run finds it sent and does nothing."""
    try:
        return services.ticket_reply_email_send(message_id=message_id)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=60) from exc
