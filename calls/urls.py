"""Page URLs of the calls app in the agent workspace (under /agent/calls/)."""

from django.urls import path

from calls import views

app_name = "calls"
urlpatterns = [
    path("", views.call_list, name="call-list"),
    path("notices/", views.notice_list, name="notice-list"),
    path("<int:call_id>/seen/", views.call_seen, name="call-seen"),
    path("<int:call_id>/note/", views.call_note, name="call-note"),
    path("new/<str:number>/", views.customer_call_note, name="customer-call-note"),
]
