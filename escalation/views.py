"""Pages of the escalation app: thin, they call selectors and services."""
