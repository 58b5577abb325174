"""The security audit trail's search page, under /agent/audit/ (namespace `audit`)."""

from django.urls import path

from helpdesk import audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.event_list, name="event-list"),
]
