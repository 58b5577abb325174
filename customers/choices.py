"""Statuses and kinds of the customers app (TextChoices)."""
