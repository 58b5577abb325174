"""Page URLs of the escalation app."""

from django.urls import path

from escalation import views

app_name = "escalation"
urlpatterns = [
    path("notices/read/", views.notices_read, name="notices-read"),
]
