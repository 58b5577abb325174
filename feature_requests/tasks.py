"""Celery tasks of the feature_requests app: thin, they take primary keys and call services."""
