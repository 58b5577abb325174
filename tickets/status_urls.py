"""The public status page (no login), mounted at /status/ (`tickets.outage_views`)."""

app_name = "status"
urlpatterns: list = []
