"""API of the feature_requests app, mounted under /api/v1/ (serializers, viewsets, actions)."""

urlpatterns: list = []
