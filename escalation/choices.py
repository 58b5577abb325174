"""Statuses and kinds of the escalation app (TextChoices)."""
