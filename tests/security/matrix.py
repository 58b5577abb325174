"""Machinery of the permission matrix: every URL pattern of the project, a concrete path for
each (built from the security world), the roles, and what one request answered.

The expectations live in `test_permission_matrix.py`; this module only walks and asks.
"""

import copy
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import urlsafe_base64_encode

from tickets.models import Queue, Ticket

ADMIN = "admin"


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name (or, unnamed, its route), route text and view."""

    key: str
    route: str
    params: tuple[str, ...]
    callback: object

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.key.startswith(f"{ADMIN}:")


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def _params(route: str) -> tuple[str, ...]:
    return tuple(m.group("name") or m.group("group") for m in _PARAM.finditer(route))


def routes() -> list[Route]:
    """Every URL pattern of the project, includes followed (admin, API, apps)."""
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = pattern.name or route
                key = f"{namespace}:{name}" if namespace else name
                found.append(Route(key, route, _params(route), pattern.callback))

    walk(get_resolver().url_patterns, "", None)
    return found


def concrete(route: str, values: dict) -> str:
    """The route with its parameters replaced by `values` (plain routes and regexes alike)."""

    def fill(match) -> str:
        return str(values[match.group("name") or match.group("group")])

    path = _PARAM.sub(fill, route)
    return "/" + path.replace("^", "").replace("$", "")


def path_values(world, route: Route, side) -> dict:
    """Parameters for the route, pointing at `side`'s objects (customer A's by default)."""
    tickets = side.tickets
    values = {
        "contract_id": side.contract.pk,
        "uidb64": urlsafe_base64_encode(str(side.user.pk).encode()),
        "token": side.reply.token,
        "reference": tickets.cs.reference,
        "appointment_id": side.visit.pk,
        "request_id": side.request.pk,
        "proposal_id": side.proposal.pk,
        "number": side.customer.number,
        "connection_id": side.domain.pk,
        "queue_id": Queue.objects.get(department__slug="customer-service", line=1).pk,
        "module_id": world.text_module.pk,
        "call_id": world.call.pk,
        "outage_id": world.outage.pk,
        "window_id": world.window.pk,
        "content_type_id": ContentType.objects.get_for_model(Ticket).pk,
        "object_id": tickets.cs.pk,
        "id": side.user.pk,
        "app_label": "tickets",
        "url": "nothing-here/",
    }
    key = route.key
    if key == "portal-password-reset-confirm":
        values["token"] = "set-password"
    if key.startswith("visits:") or key.startswith("portal_visits:"):
        values["reference"] = tickets.tech.reference
    if key.startswith("api:"):
        values["pk"] = {
            "api:connection-detail": side.line.pk,
            "api:outage-detail": world.outage.pk,
            "api:outage-resolve": world.outage.pk,
            "api:outage-updates": world.outage.pk,
            "api:sla-calendar-detail": 1,
            "api:sla-policy-detail": 1,
        }.get(key, world.wish.pk)
        values["call_id"] = world.call.external_id
    elif key.startswith("feature_requests:"):
        values["request_id"] = world.wish.pk
    elif route.is_admin:
        values = _Zero(values)  # custom admin views (e.g. <int:customer_id>): no row 0
        model = _admin_model(key)
        row = model.objects.order_by("pk").first() if model else None
        values["object_id"] = row.pk if row else 0
        values["pk"] = row.pk if row else 0
    return values


class _Zero(dict):
    def __missing__(self, key):
        return 0


def _admin_model(key: str):
    """The model an admin URL name is about (`admin:tickets_ticket_change` → Ticket)."""
    name = key.split(":", 1)[1]
    for model in apps.get_models():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            return model
    if "/" in name:  # unnamed: admin/<app>/<model>/<path:object_id>/
        parts = name.split("/")
        try:
            return apps.get_model(parts[1], parts[2])
        except (LookupError, IndexError):
            return None
    return None


API_METHODS = ("get", "post", "put", "patch", "delete")


def api_methods(route: Route) -> list[str]:
    """Every method the API route answers, GET first (each is a cell of its own)."""
    actions = getattr(route.callback, "actions", None)
    if actions is not None:
        allowed = getattr(getattr(route.callback, "cls", None), "http_method_names", API_METHODS)
        methods = set(actions) & set(allowed)
    else:
        view = getattr(route.callback, "cls", None) or getattr(route.callback, "view_class", None)
        methods = {m for m in API_METHODS if view and hasattr(view, m)}
    return [method for method in API_METHODS if method in methods] or ["get"]


def cells(route: Route) -> list[tuple[str, str | None]]:
    """(expectation key, method) for the route: pages are one cell (GET, or POST where GET
    is refused with 405); an API route is one cell per method, its first named plainly and
    the others `name METHOD` (`api:ticket-list POST`)."""
    if not route.is_api:
        return [(route.key, None)]
    methods = api_methods(route)
    return [(route.key if i == 0 else f"{route.key} {m.upper()}", m) for i, m in enumerate(methods)]


# --- Outcomes ------------------------------------------------------------------------------

OK = "ok"  # 200/201/204: the page or answer
REDIRECT = "redirect"  # 302 somewhere that is not a sign-in page
LOGIN = "login"  # 302 to a sign-in page
INVALID = "invalid"  # 400/409/415/422: let in, but the (empty) input was refused
UNAUTHENTICATED = "401"
FORBIDDEN = "403"
MISSING = "404"
METHOD = "405"

LOGIN_PATHS = ("/agent/login/", "/portal/login/", "/admin/login/")


def outcome(response) -> str:
    code = response.status_code
    if code in (200, 201, 204):
        return OK
    if code in (301, 302, 303):
        location = urlsplit(response["Location"]).path
        return LOGIN if location.startswith(LOGIN_PATHS) else REDIRECT
    if code in (400, 409, 415, 422):
        return INVALID
    return {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: MISSING, 405: METHOD}.get(code, str(code))


def ask(client: Client, path: str, only: str | None, *, headers: dict) -> tuple[str, str, int]:
    """(method, outcome, status) of one request; nothing it changes outlives it.

    Pages are asked with GET, and with an empty POST where GET is not allowed; API routes
    with the method their view reads or writes with. Each request runs in a savepoint that
    is rolled back, so an empty POST that succeeds (take a ticket) changes no later cell.
    """
    for method in [only] if only else ["get", "post"]:
        cookies = copy.deepcopy(client.cookies)  # a sign-out must not sign out later cells
        with transaction.atomic():
            if method in ("get", "delete"):
                response = getattr(client, method)(path, **headers)
            elif method == "post":
                response = client.post(path, {}, **headers)
            else:
                response = getattr(client, method)(path, {}, "application/json", **headers)
            transaction.set_rollback(True)
        client.cookies = cookies
        result = outcome(response)
        if result != METHOD:
            break
    return method.upper(), result, response.status_code
