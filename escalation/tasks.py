"""Celery tasks of the escalation app: thin, they take primary keys and call services."""

from celery import shared_task

from escalation import services


@shared_task(acks_late=True)
def sla_sweep_task() -> dict:
    """The SLA timer (beat, every SLA_SWEEP_SECONDS): fire what is due, each exactly once.

    Safe to run twice or side by side: the sweep claims each clock with a conditional
    UPDATE, so a retried or doubled run finds nothing left to fire.
    """
    result = services.sla_sweep()
    return {"warnings": result.warnings, "breaches": result.breaches}


@shared_task(bind=True, acks_late=True, max_retries=5)
def notifications_email_send_task(self, notification_ids: list[int]) -> int:
    """Mail SLA notices; a notice already mailed is skipped, so a second run sends nothing."""
    try:
        return services.notifications_email_send(notification_ids=notification_ids)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(acks_late=True)
def kpi_days_rollup_task() -> list[str]:
    """Roll up finished days not rolled up yet (beat, hourly: yesterday right after
    midnight, and days a stopped beat missed). Safe twice: a rolled-up day is skipped, and
    rolling one up again replaces its rows under the day's lock."""
    from escalation.services import kpis

    return [day.isoformat() for day in kpis.kpi_days_rollup()]
