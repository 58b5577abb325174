"""Data and invariants of the escalation app."""
