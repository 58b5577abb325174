"""Customer portal pages, included under /portal/ (no namespace: `portal-…` names)."""

from django.urls import path

from customers import portal_views as views

urlpatterns = [
    path("account/", views.account, name="portal-account"),
    path("contracts/", views.contracts, name="portal-contracts"),
    path(
        "contracts/<int:contract_id>/cancel/",
        views.contract_cancel,
        name="portal-contract-cancel",
    ),
    path("invoices/", views.invoices, name="portal-invoices"),
    path("data/", views.data_export, name="portal-data-export"),
    path("data/download/", views.data_download, name="portal-data-download"),
    path("phone-password/", views.phone_password, name="portal-phone-password"),
    path("password/", views.WebPasswordChangeView.as_view(), name="portal-password"),
    path("password-reset/", views.PasswordResetView.as_view(), name="portal-password-reset"),
    path(
        "password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="portal-password-reset-done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="portal-password-reset-confirm",
    ),
    path(
        "reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="portal-password-reset-complete",
    ),
]
