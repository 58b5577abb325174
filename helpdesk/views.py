from django.contrib.auth import views as auth_views
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import csrf as csrf_views
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from escalation import permissions as sla_permissions
from escalation import selectors as sla_selectors
from feature_requests import selectors as feature_selectors
from helpdesk import account_views, forms, permissions, services, sessions
from helpdesk.health import health_report
from tickets import permissions as ticket_permissions
from tickets import selectors as ticket_selectors
from tickets.selectors import outages as outage_selectors


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

    def form_valid(self, form):
        """After a correct password, someone who owes a second factor goes to its step
        (enter the code, or set up an app first), taking the safe `next` along."""
        response = super().form_valid(form)
        if self.request.session.get(sessions.TWO_FACTOR) == "pending":
            return HttpResponseRedirect(
                account_views.second_factor_url(self.request.user, response["Location"])
            )
        return response


class PortalLoginView(AgentLoginView):
    form_class = forms.PortalLoginForm
    extra_context = {"login_side": "portal"}


@permissions.workspace_required
def agent_home(request):
    """The agent's start: their queues with counts, their tickets, notices, a ticket search;
    team leads and management also see whether the SLA timer keeps up."""
    # Without an agent profile nobody can assign the user a ticket: no count to ask for.
    has_profile = ticket_permissions.agent_of(request.user) is not None
    return render(
        request,
        "agent/home.html",
        {
            "queues": ticket_selectors.queue_overview(user=request.user),
            "has_agent_profile": has_profile,
            "my_ticket_count": ticket_selectors.my_ticket_count(user=request.user)
            if has_profile
            else 0,
            "notices": sla_selectors.notice_list(user=request.user),
            "reviews": feature_selectors.review_queue_counts(user=request.user),
            "timer": sla_selectors.timer_status(now=timezone.now())
            if sla_permissions.can_watch_timer(request.user)
            else None,
        },
    )


@permissions.portal_required
def portal_home(request):
    """The customer's start page: outages at their address, their open requests, then the
    account pages."""
    open_requests = ticket_selectors.portal_ticket_list(user=request.user, done=False)
    try:
        customer = request.user.customer
    except ObjectDoesNotExist:
        customer = None
    outages = outage_selectors.outages_for_customer(customer=customer)
    return render(request, "portal/home.html", {"open_requests": open_requests, "outages": outages})


def permission_denied(request, exception=None):
    """Every refused page (403): audited once, then Django's own 403 page, unchanged."""
    services.access_denied_record(request=request, path=request.path, method=request.method)
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """A form refused for a missing or wrong CSRF token: audited like any refusal (the
    reason, never the token), then Django's own explanation."""
    services.access_denied_record(request=request, path=request.path, method=request.method)
    return csrf_views.csrf_failure(request, reason=reason)


@never_cache
@require_GET
def healthz(request):
    """200 with each dependency's state; 503 only when the database is unreachable."""
    report = health_report(now=timezone.now())
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)
