"""The API rate limit: API_RATE_PER_MINUTE calls a minute per token (or signed-in user, or
address); over it 429 with Retry-After, counted in the cache, never in SQL."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from helpdesk import services
from helpdesk.throttling import ApiRateThrottle

pytestmark = pytest.mark.django_db

# Ten seconds into a minute: the window ends in fifty.
MID_MINUTE = datetime(2030, 3, 4, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def rate(settings, request):
    """A tiny rate in a cache of this test's own, so no count leaks between tests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"rate-{request.node.name}",
        }
    }
    settings.API_RATE_PER_MINUTE = 3
    return settings


def _token(user, name="PBX", scopes=("calls:write",)) -> str:
    return services.api_token_create(user=user, name=name, scopes=list(scopes))[1]


def _me(client, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return client.get("/api/v1/me/", **headers)


def test_calls_over_the_rate_get_429_with_retry_after(rate, client, phone_system):
    key = _token(phone_system)
    with time_machine.travel(MID_MINUTE, tick=False):
        assert [_me(client, key).status_code for _ in range(3)] == [200, 200, 200]
        refused = _me(client, key)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    error = refused.json()["errors"][0]
    assert error["code"] == "throttled" and error["message"] and error["field"] is None


def test_the_next_minute_opens_again(rate, client, phone_system):
    key = _token(phone_system)
    with time_machine.travel(MID_MINUTE, tick=False):
        for _ in range(4):
            _me(client, key)
        assert _me(client, key).status_code == 429
    with time_machine.travel(MID_MINUTE + timedelta(seconds=50), tick=False):
        assert _me(client, key).status_code == 200


def test_each_token_and_each_user_has_its_own_count(rate, client, phone_system, bob):
    busy, quiet = _token(phone_system), _token(phone_system, name="Spare")
    with time_machine.travel(MID_MINUTE, tick=False):
        for _ in range(4):
            _me(client, busy)
        assert _me(client, busy).status_code == 429
        assert _me(client, quiet).status_code == 200
        client.force_login(bob)
        assert [_me(client).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_writes_count_too(rate, client, phone_system):
    key = _token(phone_system)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    with time_machine.travel(MID_MINUTE, tick=False):
        answers = [
            client.post("/api/v1/calls/", {}, content_type="application/json", **headers)
            for _ in range(4)
        ]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]


def test_a_rate_of_zero_switches_the_limit_off(rate, client, phone_system):
    rate.API_RATE_PER_MINUTE = 0
    key = _token(phone_system)
    with time_machine.travel(MID_MINUTE, tick=False):
        assert {_me(client, key).status_code for _ in range(6)} == {200}


def test_callers_without_credentials_are_counted_by_address_not_by_header(rate):
    throttle = ApiRateThrottle()

    def anonymous(address, forwarded):
        return SimpleNamespace(
            auth=None,
            user=AnonymousUser(),
            META={"REMOTE_ADDR": address, "HTTP_X_FORWARDED_FOR": forwarded},
        )

    with time_machine.travel(MID_MINUTE, tick=False):
        spoofs = [
            throttle.allow_request(anonymous("192.0.2.7", f"10.0.0.{n}"), None) for n in range(4)
        ]
        assert spoofs == [True, True, True, False]
        assert throttle.allow_request(anonymous("192.0.2.8", ""), None)


def test_the_default_rate_is_documented_and_generous(settings):
    assert settings.API_RATE_PER_MINUTE == 600


def test_the_limit_adds_no_query(client, phone_system, django_assert_num_queries):
    key = _token(phone_system)
    _me(client, key)  # stamps last_used_at
    with django_assert_num_queries(2):  # token + user, roles: as without the limit
        assert _me(client, key).status_code == 200
