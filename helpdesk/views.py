from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpdesk import forms, permissions
from helpdesk.health import health_report


def home(request):
    """Landing page: signed-in users go to their own home, others choose a sign-in."""
    if request.user.is_authenticated:
        target = permissions.home_url_for(request.user)
        if target != request.path:
            return HttpResponseRedirect(target)
    return render(request, "home.html")


class AgentLoginView(auth_views.LoginView):
    form_class = forms.AgentLoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    extra_context = {"login_side": "workspace"}

    def get_default_redirect_url(self) -> str:
        return permissions.home_url_for(self.request.user)


class PortalLoginView(AgentLoginView):
    form_class = forms.PortalLoginForm
    extra_context = {"login_side": "portal"}


@permissions.workspace_required
def agent_home(request):
    return render(request, "agent/home.html")


@permissions.portal_required
def portal_home(request):
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request):
    """200 with each dependency's state; 503 only when the database is unreachable."""
    report = health_report(now=timezone.now())
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)
