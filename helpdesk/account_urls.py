"""The signed-in user's own security pages (staff and customers): second factor,
sessions, web password. Included under /account/ with the namespace `account`."""

from django.urls import path

from helpdesk import account_views as views

app_name = "account"

urlpatterns = [
    path("", views.security, name="security"),
    path("sessions/end/", views.sessions_end, name="sessions-end"),
    path("password/", views.password_change, name="password-change"),
    path("two-factor/", views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path(
        "two-factor/recovery-codes/",
        views.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path(
        "two-factor/recovery-codes/renew/",
        views.two_factor_recovery_renew,
        name="two-factor-recovery-renew",
    ),
    path("two-factor/off/", views.two_factor_disable, name="two-factor-disable"),
]
