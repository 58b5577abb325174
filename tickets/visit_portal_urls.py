"""Portal actions on technician visits, mounted at /portal/visits/ (`tickets.visit_views`)."""

app_name = "portal_visits"
urlpatterns: list = []
