"""Pages of the feature_requests app: thin, they call selectors and services."""
