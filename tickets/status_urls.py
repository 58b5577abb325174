"""The public status page (no login), mounted at /status/ (`tickets.outage_views`)."""

from django.urls import path

from tickets import outage_views as views

app_name = "status"
urlpatterns = [
    path("", views.status_page, name="status-page"),
]
