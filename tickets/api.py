"""API of the tickets app, mounted under /api/v1/ (serializers, viewsets, actions)."""

urlpatterns: list = []
