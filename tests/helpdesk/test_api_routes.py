"""Every API route, read from the URL conf (so a new endpoint cannot be forgotten), declares
the scope each of its methods needs, and nobody reaches it without that scope: not
anonymous callers, not tokens lacking it, not customers or disabled users.

Path parameters are dummies: the scope is checked before any lookup (DRF runs permissions
before the handler), so a 404 here instead of a 403 would be a finding.
"""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from helpdesk.authentication import ANY_SCOPE, ScopedAccess, scope_of
from helpdesk.models import SCOPES, ApiToken

pytestmark = pytest.mark.django_db

WRITES = {"post", "put", "patch", "delete"}
_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern


def _api_root() -> URLResolver:
    (root,) = [
        pattern
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLResolver) and pattern.namespace == "api"
    ]
    return root


def _path(route: str) -> str:
    """A concrete path for a route: regex groups and converters filled with a dummy id."""
    path = route.replace("^", "").replace("$", "")
    path = _GROUP.sub("1", path)
    path = _CONVERTER.sub("1", path)
    return "/" + path.replace("\\", "")


def _methods(callback) -> list[str]:
    """The HTTP methods a view answers (lower case), as DRF dispatches them."""
    cls = callback.cls
    actions = getattr(callback, "actions", None)
    if actions is not None:
        methods = [method for method in actions if method in cls.http_method_names]
    else:
        methods = [
            method
            for method in cls.http_method_names
            if method not in ("options", "head") and hasattr(cls, method)
        ]
    if "get" in methods:
        methods.append("head")
    return methods


def _declared_scope(callback, method: str) -> str | None:
    view = callback.cls()
    actions = getattr(callback, "actions", None)
    if actions is not None:
        view.action = actions.get("get" if method == "head" else method)
    return scope_of(view, SimpleNamespace(method=method.upper()))


def _routes():
    seen = []
    for route, pattern in _walk(_api_root().url_patterns, str(_api_root().pattern)):
        for method in _methods(pattern.callback):
            seen.append(pytest.param(route, pattern, method, id=f"{method.upper()} {_path(route)}"))
    return seen


ROUTES = _routes()


def test_the_walk_finds_the_api():
    paths = {_path(route) for route, _pattern in _walk(_api_root().url_patterns, "api/v1/")}
    assert {"/api/v1/me/", "/api/v1/tickets/", "/api/v1/inbound-email/"} <= paths
    assert "/api/v1/calls/1/end/" in paths
    assert len(ROUTES) >= 40


@pytest.mark.parametrize(("route", "pattern", "method"), ROUTES)
def test_every_route_declares_a_scope_for_every_method(route, pattern, method):
    path = _path(route)
    match = resolve(path)
    assert match.func is pattern.callback, f"{path} does not resolve back to its view"
    cls = pattern.callback.cls
    assert any(issubclass(permission, ScopedAccess) for permission in cls.permission_classes), (
        f"{cls.__name__} dropped ScopedAccess from its permission classes"
    )
    scope = _declared_scope(pattern.callback, method)
    assert scope in SCOPES or scope == ANY_SCOPE, f"{method.upper()} {path} declares no scope"


@pytest.fixture
def token_with(phone_system):
    """An integration token with exactly these scopes (made directly: the service refuses
    an empty list, older rows might still have one)."""

    def make(scopes) -> str:
        key = ApiToken.new_key()
        ApiToken.objects.create(
            user=phone_system,
            name="walk",
            prefix=key[:8],
            digest=ApiToken.digest_of(key),
            scopes=sorted(scopes),
        )
        return key

    return make


def _call(client, path: str, method: str, **headers):
    if method in WRITES:
        return getattr(client, method)(path, data="{}", content_type="application/json", **headers)
    return getattr(client, method)(path, **headers)


def _as_token(client, path, method, key):
    return _call(client, path, method, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.mark.parametrize(("route", "pattern", "method"), ROUTES)
def test_no_route_is_reachable_without_its_scope(
    client, route, pattern, method, token_with, alice, bob
):
    path = _path(route)
    scope = _declared_scope(pattern.callback, method)

    anonymous = _call(client, path, method)
    assert anonymous.status_code in (401, 403), f"anonymous {method.upper()} {path}"

    assert _as_token(client, path, method, token_with([])).status_code == 403

    if scope != ANY_SCOPE:
        all_but = token_with(set(SCOPES) - {scope})
        assert _as_token(client, path, method, all_but).status_code == 403, (
            f"{method.upper()} {path} answered a token without {scope}"
        )

    # The scope is what opens it: the same call with it is not refused.
    allowed = _as_token(client, path, method, token_with([next(iter(SCOPES))]))
    if scope != ANY_SCOPE:
        allowed = _as_token(client, path, method, token_with([scope]))
    assert allowed.status_code not in (401, 403), f"{method.upper()} {path} with {scope}"

    client.force_login(alice)
    assert _call(client, path, method).status_code == 403, f"customer {method.upper()} {path}"

    client.force_login(bob)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert _call(client, path, method).status_code in (401, 403), f"disabled {method.upper()}"


@pytest.mark.parametrize(
    "path", sorted({_path(route) for route, _pattern, _method in (p.values for p in ROUTES)})
)
def test_options_is_refused_to_everybody(client, path, token_with):
    """No view declares OPTIONS: the schema documents the API, not each endpoint."""
    assert client.options(path).status_code in (401, 403)
    every_scope = token_with(SCOPES)
    assert client.options(path, HTTP_AUTHORIZATION=f"Token {every_scope}").status_code == 403


def test_me_needs_a_token_with_some_scope(client, token_with):
    assert _as_token(client, "/api/v1/me/", "get", token_with(["stats:read"])).status_code == 200
    assert _as_token(client, "/api/v1/me/", "get", token_with([])).status_code == 403
