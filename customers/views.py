"""Pages of the customers app: thin, they call selectors and services."""
