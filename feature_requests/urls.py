"""Page URLs of the feature_requests app (under /agent/feature-requests/)."""

from django.urls import path

from feature_requests import views

app_name = "feature_requests"
urlpatterns = [
    path("", views.request_list, name="request-list"),
    path("new/", views.request_create, name="request-create"),
    path("similar/", views.request_similar, name="request-similar"),
    path("<int:request_id>/", views.request_detail, name="request-detail"),
    path("<int:request_id>/ask/", views.request_ask, name="request-ask"),
    path("<int:request_id>/transition/", views.request_transition, name="request-transition"),
    path("<int:request_id>/merge/", views.request_merge, name="request-merge"),
    path("<int:request_id>/edit/", views.request_edit, name="request-edit"),
]
