"""API of the escalation app, mounted under /api/v1/ (serializers, viewsets, actions)."""

urlpatterns: list = []
