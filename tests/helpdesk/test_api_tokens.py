"""API tokens: an admin creates them with scopes and an expiry, sees the key once, lists
them by prefix and revokes them with immediate effect; every step is audited, never the key."""

import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from helpdesk import services
from helpdesk.choices import AuditAction
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES, ApiToken, AuditEvent

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:helpdesk_apitoken_add")
LIST_URL = reverse("admin:helpdesk_apitoken_changelist")
KEY_MARK = "hd_"


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _future(days: int = 30) -> str:
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _create(admin, phone_system, **overrides):
    data = {
        "user": phone_system.pk,
        "name": "Phone system Berlin",
        "scopes": ["calls:write", "tickets:read"],
        "expires_at": _future(),
    }
    data.update(overrides)
    return admin.post(ADD_URL, {k: v for k, v in data.items() if v is not None})


def _key_in(response) -> str:
    page = response.content.decode()
    start = page.index('id="token-key">') + len('id="token-key">')
    return page[start : page.index("<", start)]


def _api(client, key: str):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def _everything_audited() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


# --- Creating -------------------------------------------------------------------------


def test_the_add_form_offers_integration_users_and_every_scope_with_its_meaning(
    admin, phone_system, bob
):
    page = admin.get(ADD_URL).content.decode()
    assert "phone-system" in page
    assert "bob" not in page
    for scope, description in SCOPES.items():
        assert f'value="{scope}"' in page
        assert str(description) in page
    assert 'type="datetime-local"' in page


def test_the_admin_creates_a_token_and_sees_the_key_exactly_once(admin, phone_system, client):
    response = _create(admin, phone_system)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = _key_in(response)
    assert key.startswith(KEY_MARK) and len(key) > 40
    token = ApiToken.objects.get()
    assert token.digest == ApiToken.digest_of(key)
    assert token.prefix == key[:8]
    assert token.scopes == ["calls:write", "tickets:read"]
    assert token.user == phone_system
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    # Shown once: neither the list nor the token's page ever shows it again.
    for url in (LIST_URL, reverse("admin:helpdesk_apitoken_change", args=[token.pk])):
        page = admin.get(url).content.decode()
        assert token.prefix in page
        assert key not in page and key[8:20] not in page
        assert token.digest not in page
    assert _api(client, key).status_code == 200


def test_creating_a_token_is_audited_without_the_key(admin, admin_user, phone_system):
    key = _key_in(_create(admin, phone_system))
    entry = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED)
    token = ApiToken.objects.get()
    assert entry.actor == admin_user
    assert entry.object_id == str(token.pk)
    assert entry.details["name"] == "Phone system Berlin"
    assert entry.details["scopes"] == ["calls:write", "tickets:read"]
    assert entry.details["prefix"] == token.prefix
    assert entry.details["expires_at"] == token.expires_at.isoformat()
    assert key not in _everything_audited()
    assert key[8:] not in _everything_audited()


def test_a_token_without_expiry_is_valid_until_revoked(admin, phone_system):
    _create(admin, phone_system, expires_at="")
    assert ApiToken.objects.get().expires_at is None


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("scopes", {"scopes": []}),
        ("scopes", {"scopes": ["tickets:read", "inbound-email:write"]}),
        ("expires_at", {"expires_at": "2001-01-01T10:00"}),
        ("expires_at", {"expires_at": "tomorrow"}),
        ("name", {"name": "   "}),
        ("user", {"user": "bob"}),
        ("user", {"user": "disabled"}),
    ],
)
def test_bad_input_is_a_form_error_and_creates_nothing(admin, phone_system, bob, field, overrides):
    if overrides.get("user") == "bob":
        overrides["user"] = bob.pk
    elif overrides.get("user") == "disabled":
        User.objects.filter(pk=phone_system.pk).update(is_active=False)
        overrides["user"] = phone_system.pk
    response = _create(admin, phone_system, **overrides)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "errornote" in response.content.decode()
    assert 'id="token-key"' not in response.content.decode()
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED).exists()


def test_staff_without_the_permission_cannot_create_tokens(client, tina, phone_system):
    client.force_login(tina)
    assert client.get(ADD_URL).status_code in (302, 403)
    client.post(ADD_URL, {"user": phone_system.pk, "name": "x", "scopes": ["tickets:read"]})
    assert not ApiToken.objects.exists()


# --- The service and the command ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("scopes", {"scopes": []}),
        ("scopes", {"scopes": ["inbound-email:write"]}),
        ("expires_at", {"expires_at": timezone.now() - timedelta(seconds=1)}),
    ],
)
def test_the_service_refuses_what_the_form_refuses(phone_system, field, kwargs):
    with pytest.raises(DomainError) as error:
        services.api_token_create(
            **{"user": phone_system, "name": "PBX", "scopes": ["calls:write"], **kwargs}
        )
    assert error.value.field == field
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED).exists()


def test_the_command_prints_the_key_once_and_audits_the_prefix(phone_system, client, caplog):
    out = StringIO()
    with caplog.at_level(logging.DEBUG):
        call_command(
            "api_token_create",
            "phone-system",
            "--name=PBX",
            "--scope=calls:write",
            "--expires-days=30",
            stdout=out,
        )
    key = out.getvalue().split()[0]
    token = ApiToken.objects.get()
    assert token.digest == ApiToken.digest_of(key)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert out.getvalue().count(key) == 1
    assert key not in caplog.text
    entry = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED)
    assert entry.actor is None and entry.actor_label == "manage.py api_token_create"
    assert entry.details["prefix"] == token.prefix
    assert key not in _everything_audited()
    assert _api(client, key).status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        ["phone-system", "--name=PBX", "--scope=calls:write", "--expires-days=0"],
        ["phone-system", "--name=PBX"],
        ["phone-system", "--name=PBX", "--scope=inbound-email:write"],
        ["nobody", "--name=PBX", "--scope=calls:write"],
        ["bob", "--name=PBX", "--scope=calls:write"],
    ],
)
def test_the_command_refuses_bad_input(phone_system, bob, args):
    with pytest.raises(CommandError):
        call_command("api_token_create", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()


# --- Using and revoking ---------------------------------------------------------------


def test_an_expired_token_is_refused(client, phone_system):
    token, key = services.api_token_create(user=phone_system, name="PBX", scopes=["calls:write"])
    assert _api(client, key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _api(client, key).status_code == 401


def test_the_token_of_a_disabled_user_is_refused(client, phone_system):
    _token, key = services.api_token_create(user=phone_system, name="PBX", scopes=["calls:write"])
    User.objects.filter(pk=phone_system.pk).update(is_active=False)
    assert _api(client, key).status_code == 401


def test_the_revoke_action_takes_effect_at_once_and_is_audited(
    admin, admin_user, phone_system, client
):
    token, key = services.api_token_create(user=phone_system, name="PBX", scopes=["calls:write"])
    _other, other_key = services.api_token_create(
        user=phone_system, name="Spare", scopes=["calls:write"]
    )
    assert _api(client, key).status_code == 200
    response = admin.post(
        LIST_URL, {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    assert _api(client, key).status_code == 401
    assert _api(client, other_key).status_code == 200
    entry = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert entry.actor == admin_user
    assert entry.details == {"name": "PBX", "prefix": token.prefix}
    # A second revoke changes nothing and records nothing.
    admin.post(LIST_URL, {"action": "revoke", "_selected_action": [token.pk]})
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_the_change_page_is_read_only_with_a_revoke_button(admin, phone_system, client):
    token, key = services.api_token_create(user=phone_system, name="PBX", scopes=["calls:write"])
    url = reverse("admin:helpdesk_apitoken_change", args=[token.pk])
    page = admin.get(url).content.decode()
    revoke_url = reverse("admin:helpdesk_apitoken_revoke", args=[token.pk])
    assert revoke_url in page
    assert 'name="_save"' not in page
    assert 'name="name"' not in page  # shown, not editable
    assert admin.post(url, {"name": "renamed"}).status_code == 403
    assert admin.get(revoke_url).status_code == 405
    response = admin.post(revoke_url)
    assert response.status_code == 302 and response["Location"] == url
    assert _api(client, key).status_code == 401
    assert ApiToken.objects.get().name == "PBX"
    assert revoke_url not in admin.get(url).content.decode()  # nothing left to revoke
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_who_may_only_look_cannot_revoke(client, tina, phone_system):
    token, _key = services.api_token_create(user=phone_system, name="PBX", scopes=["calls:write"])
    tina.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(tina)
    page = client.get(reverse("admin:helpdesk_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    revoke_url = reverse("admin:helpdesk_apitoken_revoke", args=[token.pk])
    assert revoke_url not in page.content.decode()
    assert client.post(revoke_url).status_code == 403
    client.post(LIST_URL, {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get().revoked_at is None
    assert client.get(ADD_URL).status_code == 403


def test_the_list_costs_a_fixed_number_of_queries(
    admin, phone_system, django_assert_max_num_queries
):
    for number in range(3):
        services.api_token_create(user=phone_system, name=f"T{number}", scopes=["calls:write"])
    with django_assert_max_num_queries(12) as few:
        admin.get(LIST_URL)
    for number in range(10):
        services.api_token_create(user=phone_system, name=f"U{number}", scopes=["calls:write"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin.get(LIST_URL)


# --- The schema -----------------------------------------------------------------------


def test_the_schema_lists_every_scope_and_the_rate(client, bob):
    client.force_login(bob)
    schema = client.get("/api/schema/?format=json").json()
    description = schema["info"]["description"]
    for scope, text in SCOPES.items():
        assert f"`{scope}`" in description
        assert str(text) in description
    assert "Retry-After" in description
    operations = [
        operation
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert operations
    assert all("x-required-scope" in operation for operation in operations)
