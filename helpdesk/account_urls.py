"""The signed-in user's own security pages (staff and customers): second factor,
sessions, web password. Included under /account/ with the namespace `account`."""

from django.urls import path

from helpdesk import account_views as views

app_name = "account"

urlpatterns = [
    path("two-factor/", views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
]
