"""Admin registrations of the escalation app."""
