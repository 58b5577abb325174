"""The phone system's API: a reported call is stored and matched, whatever did not match is
named in `warnings`; a retry is answered with the stored call; bad input is a 400 naming
the field and writes nothing; only integration tokens with `calls:write` get in."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from calls import permissions, services
from calls.choices import Match
from calls.models import Call
from customers import services as customers_services
from helpdesk import services as helpdesk_services
from helpdesk.models import ApiToken
from tests.calls.conftest import CALLS_URL, JSON, call_of, end_url, token_for
from tickets.models import Agent

pytestmark = pytest.mark.django_db


def rows() -> list:
    return list(Call.objects.order_by("pk").values())


def warning_codes(response) -> list[str]:
    return [warning["code"] for warning in response.json()["warnings"]]


def error_fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


# --- Reporting a call ---------------------------------------------------------------------


def test_a_call_is_matched_by_the_callers_number_and_given_to_the_agent(api, erika, team):
    response = api.report(
        call_id="1700000000.42",
        caller_number="+49 221 1234567",
        ivr_choice="1",
        queue="Technik",
        extension="201",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["call_id"] == "1700000000.42"
    assert body["customer"] == "K1000001" and body["customer_match"] == "phone_number"
    assert body["support_area"] == "no-internet" and body["agent"] == "bob"
    assert body["wait_seconds"] == 52 and body["warnings"] == []
    call = Call.objects.get()
    assert call.caller_normalized == "02211234567" and call.queue_name == "Technik"
    assert call.answered_at is not None
    assert call.started_at == call.answered_at - timedelta(seconds=52)


def test_a_retried_report_returns_the_stored_call_and_changes_nothing(api, erika, team):
    first = api.report(caller_number="0221 1234567", extension="201")
    before = rows()
    again = api.report(caller_number="0000 000000", extension="999", wait_seconds=7)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert rows() == before


def test_two_deliveries_at_once_store_one_call(api, erika, team, monkeypatch):
    """The second delivery misses the first in its lookup and hits the unique constraint."""
    api.report(caller_number="0221 1234567", extension="201")
    lookups = iter([None])
    original = services._reported
    monkeypatch.setattr(services, "_reported", lambda cid: next(lookups, None) or original(cid))
    response = api.report(caller_number="0221 1234567", extension="201")
    assert response.status_code == 200
    assert response.json()["customer"] == "K1000001"
    assert Call.objects.count() == 1


def test_the_customer_number_typed_into_the_ivr_wins_over_the_callers_number(
    api, erika, malte, team
):
    response = api.report(caller_number="0221 1234567", customer_number=" 1000002 ")
    assert response.json()["customer"] == "K1000002"
    assert response.json()["customer_match"] == "customer_number"


def test_an_unknown_customer_number_falls_back_to_the_callers_number(api, erika, team):
    response = api.report(caller_number="0221 1234567", customer_number="9999999")
    assert response.status_code == 201
    assert response.json()["customer"] == "K1000001"
    assert warning_codes(response) == ["unknown_customer_number"]


def test_a_number_several_customers_share_matches_none_and_offers_them(api, erika, malte, team):
    customers_services.customer_create(
        number="K1000003",
        first_name="Max",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        phones=("0221/1234567",),
    )
    response = api.report(caller_number="0221 1234567", extension="201")
    assert response.status_code == 201
    assert response.json()["customer"] is None
    assert warning_codes(response) == ["several_customers"]
    call = Call.objects.get()
    assert call.match == Match.AMBIGUOUS
    assert call.candidates == [
        {"number": "K1000001", "name": "Erika Musterfrau"},
        {"number": "K1000003", "name": "Max Musterfrau"},
    ]


@pytest.mark.parametrize("number", ["0170 5550123", "", "anonymous", "201"])
def test_unknown_and_withheld_numbers_are_stored_without_a_customer(api, erika, team, number):
    response = api.report(caller_number=number, extension="201")
    assert response.status_code == 201
    assert response.json()["customer"] is None
    assert warning_codes(response) == ["no_customer"]
    assert Call.objects.get().caller_number == number


def test_an_unknown_ivr_choice_is_kept_and_flagged(api, erika, team):
    response = api.report(caller_number="0221 1234567", ivr_choice="77")
    assert response.status_code == 201
    assert response.json()["support_area"] is None and response.json()["ivr_choice"] == "77"
    assert warning_codes(response) == ["unknown_ivr_choice"]
    assert Call.objects.get().ivr_unknown is True


def test_no_ivr_choice_is_no_warning(api, erika, team):
    response = api.report(caller_number="0221 1234567", ivr_choice="")
    assert response.json()["support_area"] is None and response.json()["warnings"] == []


def test_an_unknown_extension_stores_the_call_without_an_agent(api, erika, team):
    response = api.report(caller_number="0221 1234567", extension="999")
    assert response.status_code == 201
    assert response.json()["agent"] is None and response.json()["extension"] == "999"
    assert warning_codes(response) == ["unknown_extension"]


def test_an_extension_two_agents_share_gives_nobody_the_notice(api, erika, team, trent):
    Agent.objects.filter(user=trent).update(extension="201")
    response = api.report(caller_number="0221 1234567", extension="201")
    assert response.status_code == 201
    assert response.json()["agent"] is None
    assert warning_codes(response) == ["unknown_extension"]


def test_a_call_nobody_took_is_stored_unanswered(api, erika, team):
    response = api.report(caller_number="0221 1234567", extension="", wait_seconds=300)
    assert response.status_code == 201
    call = Call.objects.get()
    assert call.answered_at is None and call.agent is None
    assert timezone.now() - call.started_at >= timedelta(seconds=300)


def test_the_phone_systems_answer_time_is_kept(api, erika, team):
    response = api.report(
        caller_number="0221 1234567",
        extension="201",
        answered_at="2026-03-02T10:15:00+01:00",
        wait_seconds=30,
    )
    assert response.json()["answered_at"] == "2026-03-02T10:15:00+01:00"
    assert response.json()["started_at"] == "2026-03-02T10:14:30+01:00"


BAD_REPORTS = [
    ({"call_id": ""}, "call_id"),
    ({"call_id": "a/b"}, "call_id"),
    ({"call_id": "-leading-dash"}, "call_id"),
    ({"call_id": "x" * 65}, "call_id"),
    ({"call_id": None}, "call_id"),
    ({"wait_seconds": -1}, "wait_seconds"),
    ({"wait_seconds": "soon"}, "wait_seconds"),
    ({"wait_seconds": 86401}, "wait_seconds"),
    ({"caller_number": "0" * 41}, "caller_number"),
    ({"caller_number": "0221\x00123"}, "caller_number"),
    ({"ivr_choice": "1" * 21}, "ivr_choice"),
    ({"extension": "2" * 21}, "extension"),
    ({"queue": "q" * 81}, "queue"),
    ({"answered_at": "yesterday"}, "answered_at"),
    ({"answered_at": "2099-01-01T10:00:00+01:00"}, "answered_at"),
    ({"answered_at": "2026-03-02T10:15:00+01:00", "extension": ""}, "extension"),
    ({"agent": "bob"}, "agent"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_REPORTS)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(api, erika, team, fields, field):
    response = api.report(**{"caller_number": "0221 1234567", "extension": "201", **fields})
    assert response.status_code == 400, response.json()
    assert field in error_fields(response)
    assert Call.objects.count() == 0


def test_a_missing_wait_and_a_body_that_is_no_object_are_refused(api, erika, team):
    assert "wait_seconds" in error_fields(api.post(CALLS_URL, {"call_id": "x"}))
    assert api.post(CALLS_URL, "[1, 2]").status_code == 400
    assert api.post(CALLS_URL, "{not json").status_code == 400
    assert Call.objects.count() == 0


def test_reporting_a_call_costs_a_fixed_number_of_queries(
    api, erika, team, django_assert_num_queries
):
    api.end("warm-up")  # the token's first use of the minute writes `last_used_at`
    report = {"caller_number": "0221 1234567", "ivr_choice": "1", "extension": "201"}
    # token+user, roles, the id looked up, customer by phone, support area, agent, insert;
    # the service's transaction and the insert's savepoint: 4 statements in a test
    with django_assert_num_queries(11):
        assert api.report(**report).status_code == 201
    with django_assert_num_queries(5):  # token+user, roles, the stored call (in a savepoint)
        assert api.report(**report).status_code == 200


# --- The end of a call ----------------------------------------------------------------------


def test_the_end_records_the_talk_time_from_the_answer(api, erika_call):
    ended = erika_call.answered_at + timedelta(minutes=3, seconds=12)
    response = api.end("pbx-1", ended_at=ended.isoformat())
    assert response.status_code == 200
    assert response.json()["duration_seconds"] == 192
    erika_call.refresh_from_db()
    assert erika_call.ended_at == ended and erika_call.duration_seconds == 192


def test_the_phone_systems_duration_is_taken_as_sent(api, erika_call):
    response = api.end("pbx-1", duration_seconds=95)
    assert response.status_code == 200 and response.json()["duration_seconds"] == 95
    assert response.json()["ended_at"] is not None


def test_a_second_end_changes_nothing(api, erika_call):
    first = api.end("pbx-1", duration_seconds=95)
    before = rows()
    second = api.end("pbx-1", duration_seconds=500)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert rows() == before


def test_a_call_nobody_answered_ends_without_talk_time(api, erika, team):
    call_of(extension="")
    response = api.end("pbx-1")
    assert response.status_code == 200
    assert response.json()["duration_seconds"] is None and response.json()["ended_at"]


def test_the_end_of_an_unknown_call_is_a_json_404(api, erika_call):
    response = api.end("pbx-404")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert Call.objects.get().ended_at is None


def test_a_call_noted_by_hand_is_no_call_of_the_phone_system(erika, bob_agent, phone_system):
    Call.objects.create(match=Match.AGENT, customer=erika, agent=bob_agent)
    with pytest.raises(Http404):
        permissions.reported_call_for(phone_system, "")


BAD_ENDS = [
    ({"ended_at": "2099-01-01T10:00:00+01:00"}, "ended_at"),
    ({"ended_at": "2020-01-01T10:00:00+01:00"}, "ended_at"),
    ({"ended_at": "later"}, "ended_at"),
    ({"duration_seconds": -5}, "duration_seconds"),
    ({"duration_seconds": 86401}, "duration_seconds"),
    ({"duration": 5}, "duration"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_ENDS)
def test_a_bad_end_is_refused_naming_the_field(api, erika_call, fields, field):
    response = api.end("pbx-1", **fields)
    assert response.status_code == 400
    assert field in error_fields(response)
    erika_call.refresh_from_db()
    assert erika_call.ended_at is None and erika_call.duration_seconds is None


def test_ending_a_call_costs_a_fixed_number_of_queries(api, erika_call, django_assert_num_queries):
    api.end("warm-up")
    with django_assert_num_queries(6):  # token+user, roles, the call, update (in a savepoint)
        assert api.end("pbx-1").status_code == 200


# --- Who may report ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "scopes", [("sla:read",), ("tickets:write",), ("customers:read", "customers:verify")]
)
def test_a_token_without_calls_write_gets_403_and_writes_nothing(
    client, phone_system, erika_call, scopes
):
    auth = token_for(phone_system, *scopes)
    report = client.post(
        CALLS_URL, {"call_id": "pbx-2", "wait_seconds": 1}, content_type=JSON, **auth
    )
    end = client.post(end_url("pbx-1"), {}, content_type=JSON, **auth)
    assert (report.status_code, end.status_code) == (403, 403)
    assert Call.objects.count() == 1 and Call.objects.get().ended_at is None


def test_staff_sessions_and_customers_cannot_report_calls(client, bob, alice, max_, erika_call):
    for user in (bob, max_, alice):
        client.force_login(user)
        report = client.post(CALLS_URL, {"call_id": "pbx-2", "wait_seconds": 1}, content_type=JSON)
        end = client.post(end_url("pbx-1"), {}, content_type=JSON)
        assert (report.status_code, end.status_code) == (403, 403), user
    assert Call.objects.count() == 1 and Call.objects.get().ended_at is None


def test_without_a_token_nothing_is_reported(client, erika_call):
    response = client.post(CALLS_URL, {"call_id": "pbx-2", "wait_seconds": 1}, content_type=JSON)
    assert response.status_code in (401, 403)
    assert Call.objects.count() == 1


def test_a_revoked_token_is_refused(client, phone_system, erika, team):
    auth = token_for(phone_system, "calls:write")
    helpdesk_services.api_token_revoke(token=ApiToken.objects.get())
    body = {"call_id": "x", "wait_seconds": 1}
    response = client.post(CALLS_URL, body, content_type=JSON, **auth)
    assert response.status_code == 401
    assert Call.objects.count() == 0


# --- Schema -----------------------------------------------------------------------------


def test_every_action_names_its_scope():
    from calls.api import router

    for _prefix, viewset, _basename in router.registry:
        actions = {"list", "retrieve", "create", "partial_update"} & set(dir(viewset))
        for extra in viewset.get_extra_actions():
            actions |= set(extra.mapping.values())
        assert actions == set(viewset.scopes), viewset


def test_the_schema_documents_the_calls_api_and_its_scope(client, bob):
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    report = paths["/api/v1/calls/"]["post"]
    assert report["x-required-scope"] == "calls:write"
    assert set(report["responses"]) >= {"200", "201", "400", "403"}
    end = paths["/api/v1/calls/{call_id}/end/"]["post"]
    assert end["x-required-scope"] == "calls:write"
    assert "Integration users only" in end["description"]


def test_the_schema_builds_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
