"""Celery tasks of the customers app: thin, they take primary keys and call services."""

from celery import shared_task

from customers.services import privacy


@shared_task(acks_late=True)
def personal_data_retention_task() -> dict:
    """The daily retention pass; idempotent, so a second run only finds nothing to do."""
    return privacy.personal_data_retention_run()
