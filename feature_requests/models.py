"""Data and invariants of the feature_requests app."""
