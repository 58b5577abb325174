"""Calls for the personas (organisation and customers from the tickets and customers tests).

- bob takes calls on extension 201 (customer service, 1st line), carol on 401 (billing);
- erika (alice's record, K1000001) calls from 0221 1234567, malte (mallory's, K1000002)
  from +49 30 9876543;
- the phone system reports with a `calls:write` token (`api`).
"""

import pytest
from django.urls import reverse

from calls import services
from calls.models import Call
from helpdesk import services as helpdesk_services
from tests.tickets import conftest as tickets_fixtures
from tests.tickets.conftest import department
from tickets import services as tickets_services

bob_agent = tickets_fixtures.bob_agent
carol_agent = tickets_fixtures.carol_agent
tina_agent = tickets_fixtures.tina_agent
trent = tickets_fixtures.trent
team = tickets_fixtures.team
erika = tickets_fixtures.erika
malte = tickets_fixtures.malte

JSON = "application/json"
CALLS_URL = "/api/v1/calls/"


def end_url(call_id: str) -> str:
    return f"{CALLS_URL}{call_id}/end/"


def token_for(user, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def carol_on_phone(carol):
    return tickets_services.agent_profile_set(
        user=carol, departments=[department("billing")], highest_line=2, extension="401"
    )


@pytest.fixture
def calls_token(phone_system) -> dict:
    return token_for(phone_system, "calls:write")


@pytest.fixture
def api(client, calls_token):
    """The phone system: posts JSON with its token, reads English messages."""

    class PhoneSystem:
        def post(self, url: str, data: dict | str, **extra):
            return client.post(
                url,
                data,
                content_type=JSON,
                HTTP_ACCEPT_LANGUAGE="en",
                **calls_token,
                **extra,
            )

        def report(self, **fields):
            return self.post(CALLS_URL, {"call_id": "pbx-1", "wait_seconds": 52, **fields})

        def end(self, call_id: str, **fields):
            return self.post(end_url(call_id), fields)

    return PhoneSystem()


def call_of(*, external_id: str = "pbx-1", **fields) -> Call:
    """A call as the phone system reports it (through the service)."""
    values = {
        "caller_number": "0221 1234567",
        "ivr_choice": "1",
        "queue_name": "Hotline",
        "wait_seconds": 52,
        "extension": "201",
        **fields,
    }
    call, _created = services.call_report(external_id=external_id, actor=None, **values)
    return call


@pytest.fixture
def erika_call(erika, team):
    """Erika calls about her line; bob takes it after 52 s in the queue."""
    return call_of()


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def note_url(call: Call) -> str:
    return reverse("calls:call-note", args=[call.pk])
