"""REST API of the calls app, mounted under /api/v1/."""

urlpatterns: list = []
