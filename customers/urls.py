"""Page URLs of the customers app in the agent workspace (under /agent/customers/)."""

from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_search, name="customer-search"),
    path("<str:number>/", views.customer_detail, name="customer-detail"),
    path("<str:number>/verify/", views.customer_verify, name="customer-verify"),
    path("<str:number>/identity/", views.customer_identity_check, name="customer-identity"),
    path("<str:number>/notes/", views.customer_note_add, name="customer-note-add"),
    path("<str:number>/invoices/", views.customer_invoices, name="customer-invoices"),
    path(
        "<str:number>/contracts/<int:contract_id>/cancel/",
        views.contract_cancel,
        name="contract-cancel",
    ),
    path(
        "<str:number>/contracts/<int:contract_id>/tariff/",
        views.contract_change_product,
        name="contract-change-product",
    ),
    path(
        "<str:number>/connections/<int:connection_id>/auth-code/",
        views.connection_auth_code,
        name="connection-auth-code",
    ),
]
