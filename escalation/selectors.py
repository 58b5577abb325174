"""Read queries of the escalation app, used by pages and the API."""
