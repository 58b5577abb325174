"""Workspace pages of technician visits, mounted at /agent/visits/ (`tickets.visit_views`)."""

app_name = "visits"
urlpatterns: list = []
