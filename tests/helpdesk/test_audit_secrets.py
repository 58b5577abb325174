"""Passwords, phone passwords and API token keys never reach the audit trail, the
verification log, customer events or any log line, whatever flow handles them.

The flows run with every logger at DEBUG and SQL logged too (as with DEBUG on a server);
the only place a key may appear is the one line `api_token_create` prints on purpose.
"""

import io
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from customers.models import CustomerEvent, VerificationAttempt
from helpdesk.choices import AuditAction
from helpdesk.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD
from tests.customers import conftest as customer_fixtures
from tests.customers.conftest import PHONE_PASSWORD

pytestmark = pytest.mark.django_db
erika = customer_fixtures.erika  # Erika Musterfrau, K1000001, alice's customer record

WRONG_WEB_PASSWORD = "Wr0ng-Web-Guess-5531"
NEW_WEB_PASSWORD = "Neues-Web-Passwort-8842"
NEW_PHONE_PASSWORD = "Leuchtturm Amrum 77"
WRONG_PHONE_PASSWORD = "Falscher Kuckuck 19"


def _texts(rows) -> list[str]:
    return [repr(row) for row in rows]


@pytest.fixture
def debug_sql():
    """SQL statements logged with their parameters, as with DEBUG on a server."""
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = False


def test_no_secret_reaches_the_trail_the_logs_or_the_events(
    client, caplog, capsys, debug_sql, bob, alice, erika, phone_system
):
    caplog.set_level(logging.DEBUG)  # the root logger, where every logger propagates
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level > logging.DEBUG:
            caplog.set_level(logging.DEBUG, logger=name)  # "django", "axes", … say more too
    secrets = {
        PASSWORD,
        WRONG_WEB_PASSWORD,
        NEW_WEB_PASSWORD,
        PHONE_PASSWORD,
        NEW_PHONE_PASSWORD,
        WRONG_PHONE_PASSWORD,
    }

    # Web sign-in: a wrong and the right password, at both sign-ins.
    client.post(reverse("agent-login"), {"username": "bob", "password": WRONG_WEB_PASSWORD})
    signed_in = client.post(reverse("agent-login"), {"username": "bob", "password": PASSWORD})
    assert signed_in.status_code == 302  # on to the workspace, or to the second factor
    client.post(reverse("logout"))
    client.post(reverse("portal-login"), {"username": "alice", "password": PASSWORD})

    # The customer changes the web password, then sets a new phone password.
    response = client.post(
        reverse("portal-password"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_WEB_PASSWORD,
            "new_password2": NEW_WEB_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        reverse("portal-phone-password"),
        {
            "current_password": NEW_WEB_PASSWORD,
            "phone_password": NEW_PHONE_PASSWORD,
            "phone_password_again": NEW_PHONE_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # A wrong current password is refused (and must not be echoed anywhere either).
    client.post(
        reverse("portal-phone-password"),
        {
            "current_password": WRONG_WEB_PASSWORD,
            "phone_password": "Anderes Wort 55",
            "phone_password_again": "Anderes Wort 55",
        },
    )
    client.post(reverse("logout"))

    # An agent verifies a caller: wrong, then right.
    client.force_login(bob)
    verify_url = reverse("customers:customer-verify", args=[erika.number])
    client.post(verify_url, {"phone_password": WRONG_PHONE_PASSWORD})
    client.post(verify_url, {"phone_password": NEW_PHONE_PASSWORD})
    client.post(reverse("logout"))

    # An admin creates a token for the phone system; the system uses it to verify.
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create",
        "phone-system",
        "--name",
        "Phone system",
        "--scope",
        "customers:verify",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().split()[0]
    assert key.startswith("hd_") and ApiToken.objects.filter(user=phone_system).count() == 1
    secrets.add(key)
    api_url = f"/api/v1/customers/{erika.number}/verify-phone-password/"
    for spoken in (WRONG_PHONE_PASSWORD, NEW_PHONE_PASSWORD):
        response = client.post(
            api_url,
            {"phone_password": spoken},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
        assert response.status_code == 200
    # A token with a typo, and a refused scope: both audited, neither with the key.
    client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {key}x")
    client.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Token {key}")

    # The flows happened and were audited.
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        AuditAction.LOGIN,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGOUT,
        AuditAction.PHONE_PASSWORD_CHANGED,
        AuditAction.PHONE_PASSWORD_CHECKED,
        AuditAction.TOKEN_CREATED,
        AuditAction.PERMISSION_DENIED,
    } <= actions
    assert caplog.records, "nothing was logged: the capture does not work"
    assert any("SELECT" in record.getMessage() for record in caplog.records)

    # The one print of the key is the command's stdout; nothing else carries a secret.
    printed = capsys.readouterr()
    stored = (
        _texts(AuditEvent.objects.values())
        + _texts(VerificationAttempt.objects.values())
        + _texts(CustomerEvent.objects.values())
        + _texts(AccessAttempt.objects.values())
        + _texts(AccessFailureLog.objects.values())
    )
    logged = [record.getMessage() for record in caplog.records] + [
        repr(record.args) + repr(getattr(record, "request", "")) for record in caplog.records
    ]
    elsewhere = [printed.out, printed.err, err.getvalue()] + [
        message.subject + message.body for message in mail.outbox
    ]
    for secret in secrets:
        variants = {secret, secret.lower(), " ".join(secret.casefold().split())}
        for variant in variants:
            assert not [text for text in stored if variant in text], f"{variant!r} stored"
            assert not [text for text in logged if variant in text], f"{variant!r} logged"
            assert not [text for text in elsewhere if variant in text], f"{variant!r} leaked"
    assert key in out.getvalue()  # shown once to the admin, on purpose
