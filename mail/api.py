"""REST API of the mail app, mounted under /api/v1/."""

urlpatterns: list = []
