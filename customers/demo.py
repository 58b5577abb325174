"""Demo data of the customers app, added by `manage.py seed_demo`."""


def seed(*, stdout) -> list[dict]:
    """Create the demo rows idempotently; return the demo logins this app adds."""
    return []
