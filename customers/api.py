"""API of the customers app, mounted under /api/v1/ (serializers, viewsets, actions)."""

urlpatterns: list = []
