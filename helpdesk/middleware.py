from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from helpdesk import sessions, views

_request: ContextVar = ContextVar("helpdesk_request", default=None)

# The last-seen stamp is rewritten at most this often, so a busy page is not a write each.
SEEN_RESOLUTION_SECONDS = 60


def current_request():
    """The request being served, for signals that Django fires without one (admin saves)."""
    return _request.get()


class HealthCheckMiddleware:
    """Answer /healthz before host validation and HTTPS redirects.

    Container health checks and load balancers call it by IP address over plain HTTP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise refuse.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return views.healthz(request)
        return self.get_response(request)


class SessionSecurityMiddleware:
    """Idle and absolute time-outs, and the second factor before anything else.

    Runs after AuthenticationMiddleware and reads only the session, which the
    authentication has loaded already: no query of its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self._guarded(request)
        finally:
            _request.reset(token)

    def _guarded(self, request):
        session = request.session
        if SESSION_KEY not in session:
            return self.get_response(request)
        now = timezone.now()
        if self._timed_out(session, now):
            from helpdesk import services
            from helpdesk.choices import AuditAction

            # request.user is lazy: read it before the flush empties the session.
            user = request.user if request.user.is_authenticated else None
            session.flush()
            request.user = AnonymousUser()
            if user is not None:
                services.audit_record(
                    action=AuditAction.SESSION_EXPIRED, request=request, actor=user
                )
            messages.info(request, _("Your session has timed out. Please sign in again."))
            return self.get_response(request)
        seen = datetime.fromisoformat(session[sessions.SEEN_AT])
        if (now - seen).total_seconds() > SEEN_RESOLUTION_SECONDS:
            session[sessions.SEEN_AT] = now.isoformat()
        if session.get(sessions.TWO_FACTOR) not in ("ok", "none"):
            return self._second_factor_owed(request)
        return self.get_response(request)

    @staticmethod
    def _timed_out(session, now) -> bool:
        signed_in, seen = session.get(sessions.SIGNED_IN_AT), session.get(sessions.SEEN_AT)
        if not signed_in or not seen:
            return True  # a session our sign-in did not stamp: fail closed
        try:
            signed_in, seen = datetime.fromisoformat(signed_in), datetime.fromisoformat(seen)
        except (TypeError, ValueError):
            return True
        return now - seen > settings.SESSION_IDLE_TIMEOUT or (
            now - signed_in > settings.SESSION_ABSOLUTE_TIMEOUT
        )

    def _second_factor_owed(self, request):
        """Until the code is entered (or an authenticator set up), only the two-factor
        pages, sign-out and the language switch answer."""
        allowed = {
            reverse("account:two-factor-verify"),
            reverse("account:two-factor-setup"),
            reverse("logout"),
            reverse("set-language"),
        }
        if request.path in allowed:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Enter your second factor first.")}, status=403)
        target = reverse("account:two-factor-verify")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
