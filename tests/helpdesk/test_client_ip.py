"""Where a request came from: REMOTE_ADDR, or X-Forwarded-For only behind our own proxies.

The address goes into the audit trail, the session list, the sign-in lock-out (axes) and
the API rate; a header a caller makes up must not change any of them.
"""

import pytest
from django.test import Client, RequestFactory

from helpdesk.choices import AuditAction
from helpdesk.http import client_ip
from helpdesk.models import AuditEvent
from tests.conftest import PASSWORD

CLIENT, PROXY, SPOOFED = "198.51.100.23", "10.0.0.5", "203.0.113.99"


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from(CLIENT, SPOOFED)) == CLIENT


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, CLIENT, CLIENT),  # one proxy appended what it saw
        (1, f"{SPOOFED}, {CLIENT}", CLIENT),  # the caller's own header is left of it
        (2, f"{SPOOFED}, {CLIENT}, {PROXY}", CLIENT),  # two proxies
        (1, None, PROXY),  # no header after all: the proxy's address
        (2, CLIENT, PROXY),  # fewer hops than proxies: not trusted
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_proxies_the_address_the_outermost_proxy_saw(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(request_from(PROXY, forwarded)) == expected


@pytest.mark.django_db
def test_a_failed_sign_in_behind_the_proxy_records_the_clients_address(settings, bob):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}")
    client.post("/agent/login/", {"username": "bob", "password": "wrong"})
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.ip_address == CLIENT


@pytest.mark.django_db
def test_a_made_up_header_cannot_dodge_the_sign_in_lock_out(settings, bob):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.AXES_FAILURE_LIMIT = 2
    for n in range(2):
        spoofing = Client(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        spoofing.post("/agent/login/", {"username": "bob", "password": "wrong"})
    locked = Client(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="203.0.113.77")
    response = locked.post("/agent/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()
