"""Read queries of the feature_requests app, used by pages and the API."""
