"""Celery tasks of the feature_requests app: thin, they take primary keys and call services."""

from celery import shared_task

from feature_requests import services


@shared_task(acks_late=True)
def feature_request_rereview_task(request_id: int) -> bool:
    """Reopen the review if the request still qualifies (a second run finds nothing to do)."""
    return services.feature_request_rereview(request_id=request_id)


@shared_task(acks_late=True)
def feature_requests_rereview_due_task() -> int:
    return services.feature_requests_rereview_due()
