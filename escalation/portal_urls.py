"""The customer's side: write to management, follow the request, answer proposals."""

from django.urls import path

from escalation import portal_views

app_name = "portal_management"
urlpatterns = [
    path("", portal_views.request_list, name="request-list"),
    path("new/", portal_views.request_create, name="request-create"),
    path("<int:request_id>/", portal_views.request_detail, name="request-detail"),
    path(
        "proposals/<int:proposal_id>/answer/", portal_views.proposal_answer, name="proposal-answer"
    ),
]
