"""Celery tasks of the tickets app: thin, they take primary keys and call services."""
