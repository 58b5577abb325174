"""Customers API: scopes, search, records without private data, verification, line state."""

import pytest
from django.contrib.auth.models import User

from customers.models import Connection, VerificationAttempt
from helpdesk import services as helpdesk_services
from tests.customers.conftest import CANARY, PHONE_PASSWORD, make_invoices

pytestmark = pytest.mark.django_db


def token_for(user: User, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def monitoring(db):
    from helpdesk.choices import Role

    user = User.objects.create_user(username="monitoring")
    helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
    return user


def test_search_by_name_with_a_read_token(client, phone_token, erika, malte):
    response = client.get(
        "/api/v1/customers/?q=musterfrau", HTTP_AUTHORIZATION=f"Token {phone_token}"
    )
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == ["K1000001"]


def test_detail_has_no_private_data(client, phone_token, erika, erika_line):
    response = client.get("/api/v1/customers/K1000001/", HTTP_AUTHORIZATION=f"Token {phone_token}")
    body = response.content.decode()
    assert response.json()["phones"] == ["0221 1234567"]
    assert response.json()["has_phone_password"] is True
    assert CANARY not in body and "pbkdf2" not in body and "md5$" not in body
    assert 'phone_password"' not in body.replace("has_phone_password", "")


def test_contracts_and_invoices_are_paginated(client, phone_token, erika, erika_contract):
    make_invoices(erika, 60)
    auth = {"HTTP_AUTHORIZATION": f"Token {phone_token}"}
    contracts = client.get("/api/v1/customers/K1000001/contracts/", **auth).json()
    assert contracts["results"][0]["number"] == "V-1000001-1"
    assert contracts["results"][0]["minimum_term_end"] == "2027-02-28"
    invoices = client.get("/api/v1/customers/K1000001/invoices/", **auth).json()
    assert len(invoices["results"]) == 50 and invoices["next"]


def test_list_costs_a_fixed_number_of_queries(
    client, phone_token, erika, malte, django_assert_num_queries
):
    auth = {"HTTP_AUTHORIZATION": f"Token {phone_token}"}
    client.get("/api/v1/customers/", **auth)
    with django_assert_num_queries(4):  # token+user, roles, customers, phones
        client.get("/api/v1/customers/", **auth)


def test_ivr_verifies_with_the_same_lock_rules(client, phone_token, erika):
    auth = {"HTTP_AUTHORIZATION": f"Token {phone_token}"}
    url = "/api/v1/customers/K1000001/verify-phone-password/"
    wrong = client.post(url, {"phone_password": "falsch"}, content_type="application/json", **auth)
    assert wrong.json() == {
        "verified": False,
        "result": "failure",
        "attempts_left": 4,
        "locked_until": None,
        "verified_until": None,
    }
    right = client.post(
        url,
        {"phone_password": PHONE_PASSWORD, "ticket_reference": "2026-000001"},
        content_type="application/json",
        **auth,
    ).json()
    assert right["verified"] is True and right["verified_until"]
    attempt = VerificationAttempt.objects.latest("id")
    assert (
        attempt.channel == "ivr"
        and attempt.agent is None
        and attempt.ticket_reference == "2026-000001"
    )


def test_verification_locks_after_five_failures(client, phone_token, erika):
    auth = {"HTTP_AUTHORIZATION": f"Token {phone_token}"}
    url = "/api/v1/customers/K1000001/verify-phone-password/"
    for _attempt in range(5):
        last = client.post(url, {"phone_password": "x"}, content_type="application/json", **auth)
    assert last.json()["locked_until"]
    refused = client.post(
        url, {"phone_password": PHONE_PASSWORD}, content_type="application/json", **auth
    )
    assert refused.json()["verified"] is False and refused.json()["result"] == "locked"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "phone_password"),
        ({"phone_password": ""}, "phone_password"),
        ({"phone_password": "x" * 20000}, "phone_password"),
        ({"phone_password": "x", "ticket_reference": "y" * 50}, "ticket_reference"),
    ],
)
def test_bad_verify_input_is_a_field_error_and_no_attempt(
    client, phone_token, erika, payload, field
):
    response = client.post(
        "/api/v1/customers/K1000001/verify-phone-password/",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {phone_token}",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not VerificationAttempt.objects.exists()


def test_ten_kilobytes_are_a_counted_failure(client, phone_token, erika):
    response = client.post(
        "/api/v1/customers/K1000001/verify-phone-password/",
        {"phone_password": "x" * 10240},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {phone_token}",
    )
    assert response.status_code == 200 and response.json()["attempts_left"] == 4


def test_unknown_customer_is_404_without_an_attempt(client, phone_token, erika):
    response = client.post(
        "/api/v1/customers/K9999999/verify-phone-password/",
        {"phone_password": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {phone_token}",
    )
    assert response.status_code == 404
    assert not VerificationAttempt.objects.exists()


def test_agent_session_verifies_for_that_agent(client, bob, erika):
    client.force_login(bob)
    response = client.post(
        "/api/v1/customers/K1000001/verify-phone-password/",
        {"phone_password": PHONE_PASSWORD},
        content_type="application/json",
    )
    assert response.json()["verified"] is True
    assert VerificationAttempt.objects.get().agent == bob


def test_monitoring_reports_line_state(client, monitoring, erika_line):
    auth = token_for(monitoring, "connections:write")
    response = client.patch(
        f"/api/v1/connections/{erika_line.pk}/",
        {"state": "online", "sync_drops_24h": 0},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200 and response.json()["state"] == "online"
    erika_line.refresh_from_db()
    assert erika_line.state == "online" and erika_line.sync_drops_24h == 0
    assert erika_line.customer.events.filter(kind="connection.state_changed").count() == 1


@pytest.mark.parametrize(
    "payload", [{}, {"state": "exploded"}, {"sync_drops_24h": -1}, {"last_sync_at": "yesterday"}]
)
def test_bad_line_reports_change_nothing(client, monitoring, erika_line, payload):
    before = Connection.objects.values().get(pk=erika_line.pk)
    response = client.patch(
        f"/api/v1/connections/{erika_line.pk}/",
        payload,
        content_type="application/json",
        **token_for(monitoring, "connections:write"),
    )
    assert response.status_code == 400 and response.json()["errors"][0]["message"]
    assert Connection.objects.values().get(pk=erika_line.pk) == before


def test_unknown_connection_is_404(client, monitoring, erika_line):
    response = client.patch(
        "/api/v1/connections/999999/",
        {"state": "online"},
        content_type="application/json",
        **token_for(monitoring, "connections:write"),
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("scopes", "method", "url", "expected"),
    [
        (("stats:read",), "get", "/api/v1/customers/", 403),
        (("connections:write",), "get", "/api/v1/customers/K1000001/", 403),
        (("customers:read",), "post", "/api/v1/customers/K1000001/verify-phone-password/", 403),
        (("customers:verify",), "get", "/api/v1/customers/K1000001/invoices/", 403),
        (("customers:read", "customers:verify"), "patch", "/api/v1/connections/{line}/", 403),
        (("customers:read",), "delete", "/api/v1/customers/K1000001/", 403),
        (("customers:read",), "put", "/api/v1/customers/K1000001/", 403),
    ],
)
def test_a_token_does_only_what_its_scopes_allow(
    client, monitoring, erika, erika_line, scopes, method, url, expected
):
    before_state = erika_line.state
    response = getattr(client, method)(
        url.format(line=erika_line.pk),
        {"phone_password": PHONE_PASSWORD, "state": "online"},
        content_type="application/json",
        **token_for(monitoring, *scopes),
    )
    assert response.status_code == expected
    assert not VerificationAttempt.objects.exists()
    assert Connection.objects.get(pk=erika_line.pk).state == before_state


@pytest.mark.parametrize("persona", ["alice", "mallory"])
def test_customers_cannot_use_the_customers_api(client, request, persona, erika, erika_line):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/api/v1/customers/").status_code == 403
    assert client.get("/api/v1/customers/K1000001/").status_code == 403
    assert client.get("/api/v1/customers/K1000001/invoices/").status_code == 403
    response = client.post(
        "/api/v1/customers/K1000001/verify-phone-password/",
        {"phone_password": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (
        client.patch(
            f"/api/v1/connections/{erika_line.pk}/",
            {"state": "online"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert not VerificationAttempt.objects.exists()


def test_anonymous_gets_401(client, erika):
    assert client.get("/api/v1/customers/").status_code == 401


def test_revoked_token_is_refused_at_once(client, monitoring, erika):
    auth = token_for(monitoring, "customers:read")
    assert client.get("/api/v1/customers/", **auth).status_code == 200
    helpdesk_services.api_token_revoke(token=monitoring.api_tokens.get())
    assert client.get("/api/v1/customers/", **auth).status_code == 401


def test_every_api_route_declares_a_scope():
    """Fail closed: a new viewset action without a scope is unreachable by tokens."""
    from customers.api import router

    for _prefix, viewset, _basename in router.registry:
        actions = {"list", "retrieve", "partial_update"} & set(dir(viewset))
        actions |= {a.__name__ for a in viewset.get_extra_actions()}
        assert actions <= set(viewset.scopes), viewset
