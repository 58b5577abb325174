"""Celery tasks of the customers app: thin, they take primary keys and call services."""
