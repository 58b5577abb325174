"""The public expected-wait-times page (no login)."""

from django.urls import path

from escalation import wait_views

app_name = "wait_times"
urlpatterns = [path("", wait_views.wait_times, name="wait-times")]
