"""Management's pages: the board, requests to management and proposals, KPIs."""

from django.urls import path

from escalation import kpi_views, management_views

app_name = "management"
urlpatterns = [
    path("", management_views.board, name="board"),
    path("requests/", management_views.request_list, name="request-list"),
    path("requests/<int:request_id>/", management_views.request_detail, name="request-detail"),
    path(
        "requests/<int:request_id>/propose/", management_views.proposal_make, name="proposal-make"
    ),
    path(
        "proposals/<int:proposal_id>/withdraw/",
        management_views.proposal_withdraw,
        name="proposal-withdraw",
    ),
    path("escalate/<str:reference>/", management_views.ticket_escalate, name="ticket-escalate"),
    path("kpis/", kpi_views.kpi_page, name="kpis"),
    path("kpis/export.csv", kpi_views.kpi_csv, name="kpis-csv"),
]
