"""Celery tasks of the mail app: thin, take primary keys, safe to run twice (STYLE R6)."""

from celery import shared_task

from mail import services


@shared_task
def outbound_mail_send_task(mail_id: int) -> bool:
    """Send one outbox row; a second run finds it claimed or sent and does nothing.

    No Celery retry: a failed attempt stays pending with its next attempt time, and the
    periodic pass below retries it, so retries survive a broker restart too.
    """
    return services.outbound_mail_send(mail_id=mail_id)


@shared_task
def outbound_mails_due_send_task() -> int:
    """Beat, every minute: send outbox rows whose task was lost or whose retry is due."""
    return services.outbound_mails_due_send()


# --- Inbound ---------------------------------------------------------------------------


@shared_task
def inbound_mail_fetch_task() -> dict[str, int]:
    """Beat, every MAIL_INBOUND_FETCH_SECONDS when a mailbox is configured: file new mail.

    Safe to run twice or overlapping: a message already filed is a duplicate by its
    Message-ID, and leaves the mailbox only after its row is committed.
    """
    # Imported here so the outbound imports above stay the outbound side's own.
    from mail import inbound

    return inbound.inbound_mail_fetch()
