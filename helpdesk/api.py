"""API plumbing shared by every app: JSON errors, the token scheme in the schema, `me`."""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from helpdesk import permissions, services
from helpdesk.authentication import ANY_SCOPE
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES
from helpdesk.pagination import CursorPagination

# --- Shared by every app's API: scopes in the schema, error bodies, strict input, pages --


class ScopedSchema(AutoSchema):
    """Adds the token scope each operation needs (from the view's `scopes`) to the schema."""

    def _scope(self) -> str | None:
        action_name = getattr(self.view, "action", None) or self.method
        return getattr(self.view, "scopes", {}).get(action_name)

    def get_description(self) -> str:
        description = super().get_description() or ""
        scope = self._scope()
        if scope is None:
            return description
        if scope == ANY_SCOPE:
            needs = "Token scope: any (every token with at least one scope)."
        else:
            needs = f"Token scope: `{scope}`. Staff sessions: the workspace rules apply."
        return f"{description}\n\n{needs}".strip()

    def get_extensions(self) -> dict:
        scope = self._scope()
        return {"x-required-scope": scope} if scope else {}


def scopes_in_description(result, generator, request, public):
    """drf-spectacular hook: the API description lists every token scope and the rate."""
    lines = "\n".join(f"- `{scope}`: {SCOPES[scope]}" for scope in SCOPES)
    limit = settings.API_RATE_PER_MINUTE
    rate = (
        f"At most {limit} calls a minute per token; over it the answer is 429 with a "
        "`Retry-After` header (seconds)."
        if limit
        else "No rate limit is configured."
    )
    info = result.setdefault("info", {})
    info["description"] = (
        f"{info.get('description', '')}\n\n**Token scopes** (each operation names the one "
        f"it needs):\n\n{lines}\n\n**Rate limit.** {rate}"
    ).strip()
    return result


class ErrorOut(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    code = serializers.CharField()


class ErrorsOut(serializers.Serializer):
    errors = ErrorOut(many=True)


ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}


class StrictIn(serializers.Serializer):
    """Refuses fields it does not know: a misspelt or read-only field is an error, not ignored."""

    # What to use instead, for fields people expect to be writable.
    hints: dict = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [self.hints.get(name, _("This field cannot be set here."))]
                        for name in unknown
                    },
                    code="not_writable",
                )
        return super().to_internal_value(data)


class ListPagination(CursorPagination):
    ordering = ("id",)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`",
        }


def _flatten(detail, field: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else key
            errors += _flatten(value, f"{field}.{name}" if field and name else (name or field))
        return errors
    if isinstance(detail, list):
        return [error for item in detail for error in _flatten(item, field)]
    return [{"field": field, "message": str(detail), "code": getattr(detail, "code", "invalid")}]


def _audit_refusal(exc, context) -> None:
    """A refused call is audited: no permission, or credentials that were not accepted (a
    call without any is not: scanners would flood the trail). Never the header itself."""
    request = context.get("request")
    if request is None:
        return
    refused = isinstance(exc, exceptions.PermissionDenied) or (
        isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed)
        and bool(request.META.get("HTTP_AUTHORIZATION"))
    )
    if refused:
        services.access_denied_record(request=request, path=request.path, method=request.method)


def exception_handler(exc, context):
    """Every API error as `{"errors": [{"field": …, "message": …, "code": …}]}`."""
    if isinstance(exc, DomainError):
        return Response(
            {"errors": [{"field": exc.field, "message": exc.message, "code": "refused"}]},
            status=exc.status_code,
        )
    if isinstance(exc, RequestDataTooBig):
        message = _("The request is too large.")
        return Response(
            {"errors": [{"field": None, "message": message, "code": "too_large"}]},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    _audit_refusal(exc, context)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    response.data = {"errors": _flatten(detail)}
    return response


class MeView(APIView):
    """Who the caller is: lets an integration check its token."""

    scopes = {"GET": ANY_SCOPE}

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
                "language": serializers.CharField(),
            },
        )
    )
    def get(self, request):
        return Response(
            {
                "username": request.user.get_username(),
                "roles": sorted(permissions.roles_of(request.user)),
                "language": request.LANGUAGE_CODE,
            },
            status=status.HTTP_200_OK,
        )
