"""The API skeleton: hashed tokens, session auth, JSON errors, cursor pagination, schema."""

import pytest
from django.contrib.auth.models import User
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIRequestFactory, force_authenticate

from helpdesk import services
from helpdesk.errors import DomainError
from helpdesk.models import ApiToken

pytestmark = pytest.mark.django_db


def test_token_opens_the_api_for_the_integration(client, phone_token):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {phone_token}")
    assert response.status_code == 200
    assert response.json()["username"] == "phone-system"
    assert response.json()["roles"] == ["integration"]


def test_only_the_digest_of_a_token_is_stored(phone_token):
    stored = ApiToken.objects.get()
    assert phone_token not in (stored.digest, stored.prefix, stored.name)
    assert stored.digest == ApiToken.digest_of(phone_token)
    assert stored.prefix == phone_token[:8]


@pytest.mark.parametrize(
    "header", ["Token hd_wrong", "Token", "Token a b", "Bearer whatever", "Token \xff"]
)
def test_bad_tokens_get_401_with_a_json_error(client, phone_token, header):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["field"] is None and error["message"]


def test_a_revoked_token_stops_working_at_once(client, phone_token):
    services.api_token_revoke(token=ApiToken.objects.get())
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {phone_token}")
    assert response.status_code == 401


def test_a_disabled_user_token_stops_working(client, phone_system, phone_token):
    User.objects.filter(pk=phone_system.pk).update(is_active=False)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {phone_token}")
    assert response.status_code == 401


def test_tokens_only_for_integration_users(bob):
    with pytest.raises(DomainError):
        services.api_token_create(user=bob, name="sneaky", scopes=[])
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(phone_system):
    with pytest.raises(DomainError) as error:
        services.api_token_create(user=phone_system, name="   ", scopes=[])
    assert error.value.field == "name"
    assert not ApiToken.objects.exists()


def test_browser_session_works_for_the_api(client, bob):
    client.force_login(bob)
    response = client.get("/api/v1/me/")
    assert response.json() == {"username": "bob", "roles": ["agent"], "language": "de"}


def test_anonymous_gets_a_json_401(client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]


def test_unknown_api_path_is_a_404(client, phone_token):
    response = client.get("/api/v1/nothing-here/", HTTP_AUTHORIZATION=f"Token {phone_token}")
    assert response.status_code == 404


def test_me_costs_a_fixed_number_of_queries(client, phone_token, django_assert_num_queries):
    client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {phone_token}")  # stamps last_used_at
    with django_assert_num_queries(2):  # token + user in one, roles in the other
        client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {phone_token}")


class _UserIn(serializers.Serializer):
    username = serializers.CharField(max_length=5)
    address = serializers.DictField(child=serializers.CharField(max_length=3))


class _UserViewSet(viewsets.ReadOnlyModelViewSet):
    """A throwaway list endpoint over users, to exercise the project-wide API defaults."""

    queryset = User.objects.all()
    permission_classes = [IsAuthenticated]
    serializer_class = type(
        "_UserOut",
        (serializers.ModelSerializer,),
        {"Meta": type("Meta", (), {"model": User, "fields": ["id", "username"]})},
    )

    def create(self, request):
        _UserIn(data=request.data).is_valid(raise_exception=True)

    def destroy(self, request, pk=None):
        raise DomainError("Nothing is deleted.", field="id")


def test_validation_errors_name_the_field_and_message(bob):
    view = _UserViewSet.as_view({"post": "create"})
    request = APIRequestFactory().post(
        "/", {"username": "too-long-name", "address": {"city": "Berlin"}}, format="json"
    )
    force_authenticate(request, user=bob)
    response = view(request)
    assert response.status_code == 400
    fields = {error["field"]: error for error in response.data["errors"]}
    assert set(fields) == {"username", "address.city"}
    assert "5" in fields["username"]["message"]
    assert fields["username"]["code"] == "max_length"


def test_domain_errors_become_400_with_the_field(bob):
    view = _UserViewSet.as_view({"delete": "destroy"})
    request = APIRequestFactory().delete("/1/")
    force_authenticate(request, user=bob)
    response = view(request, pk=bob.pk)
    assert response.status_code == 400
    assert response.data == {
        "errors": [{"field": "id", "message": "Nothing is deleted.", "code": "refused"}]
    }
    assert User.objects.filter(pk=bob.pk).exists()


def test_lists_are_cursor_paginated_by_default(bob, django_assert_num_queries):
    User.objects.bulk_create([User(username=f"user{i:03}") for i in range(120)])
    view = _UserViewSet.as_view({"get": "list"})
    factory = APIRequestFactory()

    def fetch(url):
        request = factory.get(url)
        force_authenticate(request, user=bob)
        return view(request).data

    with django_assert_num_queries(1):  # no COUNT(*): keyset pages cost the same at any size
        first = fetch("/")
    assert len(first["results"]) == 50
    assert set(first) == {"next", "previous", "results"}
    second = fetch(first["next"])
    assert {u["id"] for u in first["results"]}.isdisjoint({u["id"] for u in second["results"]})
    capped = fetch("/?page_size=10000")
    assert len(capped["results"]) == 121  # capped at 200; 121 users exist


def test_schema_and_docs_are_served(client, bob):
    client.force_login(bob)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.content.decode()
    assert "tokenAuth" in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()
