"""Admin registrations of the feature_requests app."""
