"""Statuses and kinds of the feature_requests app (TextChoices)."""
