"""Workspace pages of outages, mounted at /agent/outages/ (views in `tickets.outage_views`)."""

from django.urls import path

from tickets import outage_views as views
from tickets import urls as ticket_urls  # noqa: F401  (registers the ticket_reference converter)

app_name = "outages"
urlpatterns = [
    path("", views.outage_list, name="outage-list"),
    path("new/", views.outage_create, name="outage-create"),
    path("<int:outage_id>/", views.outage_detail, name="outage-detail"),
    path("<int:outage_id>/update/", views.outage_update, name="outage-update"),
    path("<int:outage_id>/resolve/", views.outage_resolve, name="outage-resolve"),
    path("<int:outage_id>/edit/", views.outage_edit, name="outage-edit"),
    path(
        "tickets/<ticket_reference:reference>/link/",
        views.ticket_outage_link,
        name="ticket-link",
    ),
    path(
        "tickets/<ticket_reference:reference>/unlink/",
        views.ticket_outage_unlink,
        name="ticket-unlink",
    ),
]
