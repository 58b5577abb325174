"""Portal actions on technician visits, mounted at /portal/visits/ (`tickets.visit_views`)."""

from django.urls import path

from tickets import visit_views as views

app_name = "portal_visits"
urlpatterns = [
    path("<int:appointment_id>/", views.portal_visit, name="visit"),
    path("<int:appointment_id>/confirm/", views.portal_confirm, name="confirm"),
    path("<int:appointment_id>/cancel/", views.portal_cancel, name="cancel"),
    path("<int:appointment_id>/move/", views.portal_move, name="move"),
]
