"""Statuses and kinds of the tickets app (TextChoices)."""
