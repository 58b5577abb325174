"""Workspace pages of outages, mounted at /agent/outages/ (views in `tickets.outage_views`)."""

app_name = "outages"
urlpatterns: list = []
