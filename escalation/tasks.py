"""Celery tasks of the escalation app: thin, they take primary keys and call services."""
