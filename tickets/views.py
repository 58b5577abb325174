"""Pages of the tickets app: thin, they call selectors and services."""
