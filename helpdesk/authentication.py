"""API token authentication and scoped access.

Kept apart from `helpdesk.api`: DRF reads its DEFAULT_*_CLASSES while it defines APIView,
so this module must not import `rest_framework.views`.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework import permissions as permissions_drf

from helpdesk import permissions
from helpdesk.models import ApiToken

# Writing last_used_at on every call would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; the key is compared by its SHA-256 digest."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(key), revoked_at=None)
            .first()
        )
        now = timezone.now()
        if token is None or not token.is_usable(now=now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


# `me` only tells a caller who it is: any token with at least one scope may ask.
ANY_SCOPE = "any"


def scope_of(view, request) -> str | None:
    """The scope a view declares for this request: by action (viewsets) or method (views).

    HEAD reads what GET reads; OPTIONS (DRF's `metadata`) is declared by no view and so is
    refused: the schema at /api/schema/ documents the API instead.
    """
    scopes = getattr(view, "scopes", None) or {}
    action = getattr(view, "action", None)
    if action:
        return scopes.get(action)
    method = request.method
    return scopes.get(method) or (scopes.get("GET") if method == "HEAD" else None)


class ScopedAccess(permissions_drf.BasePermission):
    """Every API view names the scope each action needs (`view.scopes`, fail closed).

    A token must carry that scope; a browser session must belong to staff (customers use
    the portal, never the API).
    """

    message = _("This token lacks the scope for this action.")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = scope_of(view, request)
        if scope is None:
            return False
        if isinstance(request.auth, ApiToken):
            if scope == ANY_SCOPE:
                return bool(request.auth.scopes)
            return request.auth.allows(scope)
        return permissions.is_staff_member(request.user)
