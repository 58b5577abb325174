from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk import api, views
from tickets import views as tickets_views

api_v1 = [
    path("me/", api.MeView.as_view(), name="me"),
    path("", include("customers.api")),
    path("", include("tickets.api")),
    path("", include("escalation.api")),
    path("", include("feature_requests.api")),
    path("", include("calls.api")),
    path("", include("mail.api")),
]

handler403 = "helpdesk.views.permission_denied"

urlpatterns = [
    path("", views.home, name="home"),
    path("agent/login/", views.AgentLoginView.as_view(), name="agent-login"),
    path("portal/login/", views.PortalLoginView.as_view(), name="portal-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("helpdesk.account_urls")),
    path("agent/", views.agent_home, name="agent-home"),
    path("portal/", views.portal_home, name="portal-home"),
    path("portal/", include("customers.portal_urls")),
    path("portal/requests/", include("tickets.portal_urls")),
    path("portal/visits/", include("tickets.visit_portal_urls")),
    path("portal/management/", include("escalation.portal_urls")),
    path("status/", include("tickets.status_urls")),
    path("wait-times/", include("escalation.wait_urls")),
    path("management/", include("escalation.management_urls")),
    path("files/<str:token>/", tickets_views.attachment_download, name="attachment-download"),
    path("agent/customers/", include("customers.urls")),
    path("agent/tickets/", include("tickets.urls")),
    path("agent/escalation/", include("escalation.urls")),
    path("agent/feature-requests/", include("feature_requests.urls")),
    path("agent/calls/", include("calls.urls")),
    path("agent/outages/", include("tickets.outage_urls")),
    path("agent/visits/", include("tickets.visit_urls")),
    path("agent/audit/", include("helpdesk.audit_urls")),
    path("i18n/setlang/", set_language, name="set-language"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
