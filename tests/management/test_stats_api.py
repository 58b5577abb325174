"""GET /api/v1/stats/: the KPI report as JSON for reporting tools (token scope
`stats:read`) and for management and team leads signed in; bad input is a 400 naming the
field; the figures are those of the known week."""

import pytest
import time_machine

from helpdesk import services as helpdesk_services
from tests.management import kpi_scenario as week
from tests.tickets import conftest as tickets_fixtures

pytestmark = pytest.mark.django_db

# The organisation and Erika's record from the tickets tests.
bob_agent = tickets_fixtures.bob_agent
carol_agent = tickets_fixtures.carol_agent
tina_agent = tickets_fixtures.tina_agent
trent = tickets_fixtures.trent
team = tickets_fixtures.team
erika = tickets_fixtures.erika

STATS = "/api/v1/stats/"
WEEK = {"start": "2026-03-09", "end": "2026-03-10"}


@pytest.fixture(autouse=True)
def _english(settings):
    """Integrations without Accept-Language get the default language; match English here."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def now():
    with time_machine.travel(week.NOW, tick=False):
        yield week.NOW


def token_for(user, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def reporting(phone_system):
    """A reporting tool's token."""
    return token_for(phone_system, "stats:read")


@pytest.fixture
def known_week(erika, alice, bob, team):
    return week.build(customer=erika, customer_user=alice, agent=bob)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


# --- Who may read it ----------------------------------------------------------------------


def test_a_token_with_the_stats_scope_reads_the_report(client, reporting, now):
    response = client.get(STATS, WEEK, **reporting)
    assert response.status_code == 200
    assert response.json()["period"] == {"start": "2026-03-09", "end": "2026-03-10"}


def test_a_token_without_the_stats_scope_is_refused(client, phone_system, now):
    headers = token_for(phone_system, "tickets:read", "sla:read")
    assert client.get(STATS, WEEK, **headers).status_code == 403


def test_without_credentials_the_api_asks_for_them(client):
    assert client.get(STATS, WEEK).status_code in (401, 403)


@pytest.mark.parametrize("persona", ["alice", "mallory", "bob", "carol"])
def test_customers_and_agents_are_refused(client, persona, request, now):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(STATS, WEEK)
    assert response.status_code == 403
    assert "errors" in response.json()


@pytest.mark.parametrize("persona", ["tina", "max_"])
def test_team_leads_and_management_read_it_signed_in(client, persona, request, now):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(STATS, WEEK).status_code == 200


def test_writing_is_not_allowed(client, reporting):
    assert client.post(STATS, WEEK, **reporting).status_code in (403, 405)


# --- The figures ----------------------------------------------------------------------------


def test_the_figures_of_the_known_week(client, reporting, known_week, now):
    body = client.get(STATS, WEEK, **reporting).json()
    assert body["totals"] == week.TOTALS
    assert body["days_missing"] == 0 and body["channel"] is None and body["department"] is None
    channels = {row["channel"]: row for row in body["by_channel"]}
    assert set(channels) == set(week.BY_CHANNEL)
    for channel, expected in week.BY_CHANNEL.items():
        assert {key: channels[channel][key] for key in expected} == expected
    departments = {row["department"]: row for row in body["by_department"]}
    for slug, expected in week.BY_DEPARTMENT.items():
        assert {key: departments[slug][key] for key in expected} == expected
    assert departments["billing"]["median_first_response_minutes"] == 120.0  # office hours
    assert [day["day"] for day in body["daily"]] == ["2026-03-09", "2026-03-10"]
    assert [day["received"] for day in body["daily"]] == [5, 2]
    assert "median_first_response_minutes" not in body["daily"][0]
    assert body["backlog"] == [
        {
            "department": "customer-service",
            "under_1_day": 1,
            "1_to_3_days": 0,
            "3_to_7_days": 0,
            "7_to_30_days": 0,
            "over_30_days": 0,
            "total": 1,
        }
    ]


def test_filters_by_channel_and_department(client, reporting, known_week, now):
    phone = client.get(STATS, {**WEEK, "channel": "phone"}, **reporting).json()
    assert phone["channel"] == "phone"
    assert phone["totals"]["received"] == 1 and phone["totals"]["calls"] == 4
    billing = client.get(STATS, {**WEEK, "department": "billing"}, **reporting).json()
    assert billing["department"] == "billing"
    assert billing["totals"]["received"] == 1 and billing["totals"]["handled"] == 2
    every = client.get(STATS, {**WEEK, "channel": "", "department": ""}, **reporting).json()
    assert every["totals"] == week.TOTALS


def test_without_dates_the_last_30_days_are_reported(client, reporting, now):
    body = client.get(STATS, **reporting).json()
    assert body["period"] == {"start": "2026-02-10", "end": "2026-03-11"}


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-10", "end": "2026-03-09"}, "end"),
        ({"start": "2024-01-01", "end": "2026-03-11"}, "end"),
        ({"start": "9.3.2026", "end": "2026-03-10"}, "start"),
        ({"start": "2026-03-09", "end": "tomorrow"}, "end"),
        ({"channel": "fax"}, "channel"),
        ({"department": "nowhere"}, "department"),
        ({"departmnet": "billing"}, "departmnet"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, reporting, now, query, field):
    response = client.get(STATS, query, **reporting)
    assert response.status_code == 400
    assert fields(response) == [field]


def test_the_period_error_says_what_is_wrong(client, reporting, now):
    response = client.get(STATS, {"start": "2026-03-10", "end": "2026-03-09"}, **reporting)
    assert response.json()["errors"][0]["message"] == "The end of the period is before its start."


# --- Cost and documentation ---------------------------------------------------------------


def test_the_api_costs_a_fixed_number_of_queries(
    client, reporting, known_week, now, django_assert_num_queries
):
    client.get(STATS, WEEK, **reporting)  # the token's last use is stamped once a minute
    # The token, the roll-up rows, the departments, the backlog, and the first ticket and
    # call and the roll-up markers for the days not rolled up: a week or a year alike.
    with django_assert_num_queries(7):
        short = client.get(STATS, WEEK, **reporting)
    with django_assert_num_queries(7):
        long = client.get(STATS, {"start": "2025-03-12", "end": "2026-03-10"}, **reporting)
    assert short.json()["totals"] == long.json()["totals"] == week.TOTALS


def test_the_schema_documents_the_stats_endpoint_and_its_scope(client, bob):
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    stats = schema["paths"]["/api/v1/stats/"]["get"]
    assert stats["x-required-scope"] == "stats:read"
    assert {parameter["name"] for parameter in stats["parameters"]} == {
        "start",
        "end",
        "channel",
        "department",
    }
    assert set(stats["responses"]) >= {"200", "400", "403"}
    figures = schema["components"]["schemas"]["StatsOut"]["properties"]
    assert {"totals", "by_channel", "by_department", "daily", "backlog"} <= set(figures)
