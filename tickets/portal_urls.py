"""Customer portal pages for requests (tickets), mounted at /portal/requests/."""

from django.urls import path, re_path

from tickets import portal_views as views

app_name = "portal_tickets"

# A reference looks like 2026-004711; matching only that keeps "new/" and typos apart.
REFERENCE = r"(?P<reference>\d{4}-\d{6,7})"

urlpatterns = [
    path("", views.ticket_list, name="ticket-list"),
    path("new/", views.ticket_create, name="ticket-create"),
    re_path(rf"^{REFERENCE}/$", views.ticket_detail, name="ticket-detail"),
    re_path(rf"^{REFERENCE}/reply/$", views.ticket_reply, name="ticket-reply"),
    re_path(rf"^{REFERENCE}/close/$", views.ticket_close, name="ticket-close"),
]
