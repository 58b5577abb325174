"""Private credentials and phone passwords never leave the database in readable form."""

import logging

import pytest
from django.db import connection
from django.urls import reverse

from customers.models import PrivateCredential
from tests.customers.conftest import CANARY, PHONE_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def sql_logged(caplog):
    caplog.set_level(logging.DEBUG)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False


def test_credentials_are_encrypted_at_rest(erika_line):
    stored = PrivateCredential.objects.get()
    assert CANARY.encode() not in bytes(stored.secret_encrypted)
    assert CANARY not in repr(stored) and CANARY not in str(stored)


def test_no_page_api_answer_or_log_line_shows_a_credential(
    client, sql_logged, bob, admin_user, erika, erika_line, erika_domain, phone_token
):
    client.force_login(bob)
    seen = [
        client.get(reverse("customers:customer-detail", args=[erika.number])),
        client.get(reverse("customers:customer-search"), {"q": "Musterfrau"}),
        client.post(
            reverse("customers:customer-verify", args=[erika.number]),
            {"phone_password": PHONE_PASSWORD},
            follow=True,
        ),
        client.get(reverse("customers:customer-detail", args=[erika.number])),
        client.get("/api/v1/customers/K1000001/"),
        client.get("/api/v1/customers/?q=K1000001"),
    ]
    client.force_login(admin_user)
    seen.append(client.get(f"/admin/customers/connection/{erika_line.pk}/change/"))
    seen.append(client.get("/admin/customers/customer/"))
    assert [response.status_code for response in seen[-2:]] == [200, 200]
    for response in seen:
        assert CANARY not in response.content.decode()
    assert CANARY not in sql_logged.text
    assert PHONE_PASSWORD not in sql_logged.text
    assert phone_token not in sql_logged.text


def test_phone_password_is_stored_as_a_hash_only(erika):
    erika.refresh_from_db()
    assert PHONE_PASSWORD.casefold() not in erika.phone_password.casefold()
    assert erika.phone_password.startswith(("pbkdf2_sha256$", "md5$", "argon2", "bcrypt"))
