"""Workspace pages of technician visits, mounted at /agent/visits/ (`tickets.visit_views`)."""

from django.urls import path

from tickets import visit_views as views
from tickets.urls import ReferenceConverter  # noqa: F401  (registers "ticket_reference")

app_name = "visits"
urlpatterns = [
    path("", views.visit_day, name="day"),
    path("ticket/<ticket_reference:reference>/", views.ticket_visits, name="ticket-visits"),
    path("book/<ticket_reference:reference>/", views.visit_book, name="book"),
    path("<int:appointment_id>/move/", views.visit_reschedule, name="reschedule"),
    path("<int:appointment_id>/cancel/", views.visit_cancel, name="cancel"),
    path("<int:appointment_id>/confirm/", views.visit_confirm, name="confirm"),
    path("<int:appointment_id>/technician/", views.visit_technician, name="technician"),
    path("<int:appointment_id>/done/", views.visit_done, name="done"),
    path("<int:appointment_id>/missed/", views.visit_missed, name="missed"),
    path("windows/new/", views.window_create, name="window-create"),
    path("windows/<int:window_id>/capacity/", views.window_capacity, name="window-capacity"),
    path("windows/fill/", views.windows_fill, name="windows-fill"),
]
