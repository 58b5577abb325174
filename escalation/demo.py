"""Demo data of the escalation app, added by `manage.py seed_demo`.

The calendars and policies come with the migrations; the demo tickets (tickets.demo)
start their clocks as they are made. One timer pass here fires what is already due, as
the running timer would within 30 seconds, so the first look at the demo is settled.
"""

from escalation import services


def seed(*, stdout) -> list[dict]:
    """Run the SLA timer once over the demo tickets; no logins of its own."""
    result = services.sla_sweep()
    stdout.write(f"SLA timer: {result.warnings} warnings, {result.breaches} breaches fired")
    return []
