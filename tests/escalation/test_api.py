"""SLA API: calendars and policies to read, policies to create and change, calendars to
create; bad input is a 400 naming the field and changes nothing; scopes and roles."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import BusinessCalendar, ClosedDay, OpeningHours, SlaClock, SlaPolicy
from helpdesk import services as helpdesk_services
from tests.tickets import conftest as tickets_fixtures
from tests.tickets.conftest import (  # noqa: F401 (fixtures)
    bob_agent,
    carol_agent,
    department,
    erika,
    team,
    tina_agent,
    trent,
)
from tickets import services as tickets_services
from tickets.choices import Priority

pytestmark = pytest.mark.django_db

ticket = tickets_fixtures.ticket

JSON = "application/json"
CALENDARS = "/api/v1/sla-calendars/"
POLICIES = "/api/v1/sla-policies/"


@pytest.fixture(autouse=True)
def _english(settings):
    """Integrations without Accept-Language get the default language; match English here."""
    settings.LANGUAGE_CODE = "en"


def token_for(user, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def reader(phone_system):
    return token_for(phone_system, "sla:read")


@pytest.fixture
def rw(phone_system):
    """A reporting tool's token that may read and change SLA settings."""
    return token_for(phone_system, "sla:read", "sla:write")


def call(client, method: str, url: str, data=None, **extra):
    if method == "get":
        return client.get(url, data or {}, **extra)
    return getattr(client, method)(url, data or {}, content_type=JSON, **extra)


def state() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(BusinessCalendar.objects.order_by("pk").values()),
        list(OpeningHours.objects.order_by("pk").values()),
        list(ClosedDay.objects.order_by("pk").values()),
        list(SlaPolicy.objects.order_by("pk").values()),
        list(SlaClock.objects.order_by("pk").values()),
    )


def policy(name: str) -> SlaPolicy:
    return SlaPolicy.objects.get(name=name)


def error_fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def messages(response) -> str:
    return " ".join(error["message"] for error in response.json()["errors"])


def mondays(weeks: int = 60) -> list[str]:
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday())
    return [(first + timedelta(weeks=n)).isoformat() for n in range(weeks)]


# --- Reading ----------------------------------------------------------------------------


def test_calendars_come_with_their_week_and_upcoming_closed_days(client, reader):
    office = BusinessCalendar.objects.get(slug="office")
    today = timezone.localdate()
    soon = today + timedelta(days=3)
    ClosedDay.objects.create(calendar=office, date=soon, reason="Betriebsfeier")
    ClosedDay.objects.create(calendar=office, date=today - timedelta(days=3), reason="vorbei")
    response = client.get(CALENDARS, **reader)
    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert set(rows) == {"hotline", "office", "management"}
    body = rows["office"]
    assert body["time_zone"] == "Europe/Berlin"
    assert body["holiday_country"] == "DE" and body["holiday_subdivision"] == "NW"
    assert body["hours"][0] == {"weekday": 0, "opens": "08:00:00", "closes": "18:00:00"}
    assert [h["weekday"] for h in body["hours"]] == [0, 1, 2, 3, 4]
    assert body["closed_days"] == [{"date": soon.isoformat(), "reason": "Betriebsfeier"}]
    one = client.get(f"{CALENDARS}{office.pk}/", **reader)
    assert one.status_code == 200 and one.json() == body


def test_policies_read_with_names_and_null_for_any(client, reader):
    response = client.get(POLICIES, **reader)
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert len(rows) == SlaPolicy.objects.count()
    assert rows["Standard"] == {
        "id": policy("Standard").pk,
        "name": "Standard",
        "is_default": True,
        "is_active": True,
        "calendar": "hotline",
        "priority": None,
        "channel": None,
        "segment": None,
        "department": None,
        "first_response_minutes": 240,
        "next_update_minutes": 480,
        "resolution_minutes": 2400,
        "warning_percent": 80,
        "breach_raises_priority": True,
        "breach_moves_up": True,
    }
    assert rows["Geschäftskunden dringend"]["priority"] == "urgent"
    assert rows["Geschäftskunden dringend"]["segment"] == "business"
    assert rows["Buchhaltung"]["department"] == "billing"
    assert rows["Buchhaltung"]["calendar"] == "office"


def test_an_unknown_policy_or_calendar_is_a_json_404(client, rw):
    for url in (f"{POLICIES}999999/", f"{CALENDARS}999999/", f"{POLICIES}99999999999/"):
        response = client.get(url, **rw)
        assert response.status_code == 404, url
        assert response.json()["errors"][0]["code"] == "not_found"
    assert call(client, "patch", f"{POLICIES}999999/", {"name": "x"}, **rw).status_code == 404
    assert client.get(f"{POLICIES}abc/", **rw).status_code == 404


def test_the_lists_cost_the_same_for_few_or_many(client, reader, django_assert_num_queries):
    client.get(POLICIES, **reader)  # stamps the token's last use
    with django_assert_num_queries(3):  # token+user, roles, one page of policies with joins
        client.get(POLICIES, **reader)
    with django_assert_num_queries(5):  # token+user, roles, calendars, hours, closed days
        client.get(CALENDARS, **reader)
    hotline = BusinessCalendar.objects.get(slug="hotline")
    SlaPolicy.objects.bulk_create(
        SlaPolicy(
            name=f"Extra {n}",
            calendar=hotline,
            first_response_minutes=60,
            next_update_minutes=60,
            resolution_minutes=600,
            is_active=False,
        )
        for n in range(20)
    )
    for n in range(10):
        extra = BusinessCalendar.objects.create(name=f"Kalender {n}", slug=f"kalender-{n}")
        OpeningHours.objects.create(calendar=extra, weekday=n % 7, opens="08:00", closes="12:00")
        ClosedDay.objects.create(calendar=extra, date=timezone.localdate() + timedelta(days=n))
    with django_assert_num_queries(3):
        assert len(client.get(POLICIES, **reader).json()["results"]) == 29
    with django_assert_num_queries(5):
        assert len(client.get(CALENDARS, **reader).json()["results"]) == 13


def test_a_staff_session_reads_at_a_fixed_cost(client, bob, django_assert_num_queries):
    client.force_login(bob)
    with django_assert_num_queries(4):  # session, user, roles, policies
        assert client.get(POLICIES).status_code == 200


# --- Policies: create and change --------------------------------------------------------


def test_a_policy_is_created_with_criteria(client, rw):
    response = call(
        client,
        "post",
        POLICIES,
        {
            "name": "Technik Geschäftskunden",
            "calendar": "office",
            "segment": "business",
            "department": "tech",
            "first_response_minutes": 60,
            "next_update_minutes": 120,
            "resolution_minutes": 960,
            "warning_percent": 75,
        },
        **rw,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    created = policy("Technik Geschäftskunden")
    assert response["Location"] == f"http://testserver{POLICIES}{created.pk}/"
    assert body["id"] == created.pk and body["department"] == "tech"
    assert body["priority"] is None and body["channel"] is None and body["segment"] == "business"
    assert created.department == department("tech") and created.warning_percent == 75
    assert created.is_active and not created.is_default


def test_patch_changes_targets_and_recomputes_open_tickets(client, rw, ticket):
    on = ticket.sla_policy
    before = SlaClock.objects.get(ticket=ticket, kind="first_response").due_at
    response = call(
        client,
        "patch",
        f"{POLICIES}{on.pk}/",
        {"first_response_minutes": on.first_response_minutes * 2, "warning_percent": 50},
        **rw,
    )
    assert response.status_code == 200, response.json()
    assert response.json()["first_response_minutes"] == on.first_response_minutes * 2
    clock = SlaClock.objects.get(ticket=ticket, kind="first_response")
    assert clock.target_minutes == on.first_response_minutes * 2 and clock.due_at > before
    assert ticket.events.filter(kind="sla.recomputed").count() == 1


def test_patch_sets_and_clears_criteria_and_the_calendar(client, rw):
    low = policy("Niedrig")
    url = f"{POLICIES}{low.pk}/"
    response = call(client, "patch", url, {"channel": "email", "calendar": "office"}, **rw)
    assert response.status_code == 200, response.json()
    assert response.json()["channel"] == "email" and response.json()["calendar"] == "office"
    response = call(client, "patch", url, {"channel": None}, **rw)
    assert response.json()["channel"] is None
    low.refresh_from_db()
    assert low.channel == "" and low.calendar.slug == "office" and low.priority == 1


def test_a_policy_is_switched_off_and_its_tickets_move_to_another(client, rw, ticket, max_):
    tickets_services.ticket_details_change(ticket=ticket, actor=max_, priority=Priority.URGENT)
    ticket.refresh_from_db()
    urgent = policy("Dringend")
    assert ticket.sla_policy == urgent
    response = call(client, "patch", f"{POLICIES}{urgent.pk}/", {"is_active": False}, **rw)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.sla_policy == policy("Standard")
    assert SlaClock.objects.get(ticket=ticket, kind="first_response").target_minutes == 240


BAD_TARGET = "A target must be at least one business minute."
BAD_WARNING = "Warn between 1 and 99 percent of the target."


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes", BAD_TARGET),
        ({"next_update_minutes": -1}, "next_update_minutes", BAD_TARGET),
        ({"resolution_minutes": -600}, "resolution_minutes", BAD_TARGET),
        ({"resolution_minutes": 10**12}, "resolution_minutes", "at most 527040"),
        ({"resolution_minutes": "viel"}, "resolution_minutes", "valid integer"),
        ({"resolution_minutes": 1.5}, "resolution_minutes", "valid integer"),
        ({"warning_percent": 0}, "warning_percent", BAD_WARNING),
        ({"warning_percent": 100}, "warning_percent", BAD_WARNING),
        ({"calendar": "nowhere"}, "calendar", "No calendar with this short name."),
        ({"department": "nowhere"}, "department", "No department with this code."),
        ({"priority": "asap"}, "priority", "not a valid choice"),
        ({"name": "  "}, "name", "A policy needs a name."),
        ({"is_default": True}, "is_default", "cannot be changed"),
        ({"fire_at": "now"}, "fire_at", "cannot be set here"),
        ({}, None, "Send at least one field to change."),
    ],
)
def test_bad_patches_are_400_naming_the_field_and_change_nothing(
    client, rw, ticket, payload, field, message
):
    before = state()
    response = call(client, "patch", f"{POLICIES}{policy('Hoch').pk}/", payload, **rw)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert message in messages(response)
    assert state() == before


def new_policy(**changes) -> dict:
    return {
        "name": "Neu",
        "calendar": "hotline",
        "channel": "chat",
        "first_response_minutes": 30,
        "next_update_minutes": 60,
        "resolution_minutes": 600,
    } | changes


def without(field: str) -> dict:
    return {key: value for key, value in new_policy().items() if key != field}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (new_policy(first_response_minutes=0), "first_response_minutes"),
        (new_policy(next_update_minutes=-30), "next_update_minutes"),
        (new_policy(warning_percent=100), "warning_percent"),
        (without("resolution_minutes"), "resolution_minutes"),
        (without("calendar"), "calendar"),
        (new_policy(name=""), "name"),
    ],
)
def test_bad_new_policies_are_refused_and_nothing_is_written(client, rw, payload, field):
    before = state()
    response = call(client, "post", POLICIES, payload, **rw)
    assert response.status_code == 400
    assert field in error_fields(response)
    assert state() == before


def test_a_second_active_policy_with_the_same_criteria_is_refused(client, rw):
    before = state()
    payload = new_policy(name="Auch dringend", channel=None, priority="urgent")
    response = call(client, "post", POLICIES, payload, **rw)
    assert response.status_code == 400
    assert error_fields(response) == [None]
    assert "Another active policy already has exactly these criteria (Dringend)" in messages(
        response
    )
    assert state() == before
    switched_off = call(client, "post", POLICIES, payload | {"is_active": False}, **rw)
    assert switched_off.status_code == 201
    twin = switched_off.json()["id"]
    before = state()
    response = call(client, "patch", f"{POLICIES}{twin}/", {"is_active": True}, **rw)
    assert response.status_code == 400 and error_fields(response) == [None]
    assert state() == before


def test_a_policy_without_criteria_would_twin_the_default(client, rw):
    response = call(client, "post", POLICIES, new_policy(channel=None), **rw)
    assert response.status_code == 400
    assert "(Standard)" in messages(response)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"priority": "urgent"}, "priority"),
        ({"channel": "phone"}, "channel"),
        ({"segment": "private"}, "segment"),
        ({"department": "billing"}, "department"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_the_default_policy_keeps_no_criteria_and_stays_on(client, rw, payload, field):
    before = state()
    response = call(client, "patch", f"{POLICIES}{policy('Standard').pk}/", payload, **rw)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert "default policy" in messages(response)
    assert state() == before


def test_policies_are_not_deleted_or_replaced_through_the_api(client, rw):
    url = f"{POLICIES}{policy('Standard').pk}/"
    # No scope names them, so the scope check refuses them first (as for tickets).
    assert client.delete(url, **rw).status_code == 403
    assert call(client, "put", url, new_policy(), **rw).status_code == 403
    assert policy("Standard").is_default


# --- Calendars: create ------------------------------------------------------------------


def week(*rows) -> list[dict]:
    return [{"weekday": day, "opens": opens, "closes": closes} for day, opens, closes in rows]


def new_calendar(**changes) -> dict:
    return {
        "name": "Technik",
        "slug": "technik",
        "hours": week((0, "08:00", "12:00"), (0, "13:00", "17:00"), (5, "20:00", "00:00")),
        "closed_days": [{"date": "2026-12-24", "reason": "Heiligabend"}],
    } | changes


def test_a_calendar_is_created_with_its_week(client, rw):
    response = call(client, "post", CALENDARS, new_calendar(), **rw)
    assert response.status_code == 201, response.json()
    created = BusinessCalendar.objects.get(slug="technik")
    assert response["Location"] == f"http://testserver{CALENDARS}{created.pk}/"
    assert created.time_zone == "Europe/Berlin" and created.holiday_country == "DE"
    assert [(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in created.hours.all()] == [
        (0, "08:00", "12:00"),
        (0, "13:00", "17:00"),
        (5, "20:00", "00:00"),
    ]
    assert created.closed_days.get().reason == "Heiligabend"
    assert response.json()["slug"] == "technik" and len(response.json()["hours"]) == 3
    usable = call(
        client, "patch", f"{POLICIES}{policy('Niedrig').pk}/", {"calendar": "technik"}, **rw
    )
    assert usable.status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"hours": week((0, "08:00", "12:00"), (0, "11:00", "14:00"))},
            "hours",
            "must not overlap",
        ),
        (
            {"hours": week((0, "18:00", "00:00"), (0, "20:00", "22:00"))},
            "hours",
            "must not overlap",
        ),
        ({"hours": week((2, "17:00", "09:00"))}, "hours", "close after they open"),
        ({"hours": []}, "hours", "at least one day"),
        (
            {"hours": week((0, "09:00", "17:00")), "closed_days": [{"date": d} for d in mondays()]},
            None,
            "no open time in the next year",
        ),
        ({"hours": week((7, "09:00", "17:00"))}, "hours.weekday", "not a valid choice"),
        ({"hours": week((0, "24:00", "17:00"))}, "hours.opens", "wrong format"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "Unknown country"),
        ({"slug": "office"}, "slug", "Another calendar already has this short name."),
        ({"slug": "kein slug"}, "slug", "letters"),
        ({"name": " "}, "name", "A calendar needs a name."),
        (
            {"closed_days": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]},
            "closed_days",
            "only once",
        ),
        ({"color": "red"}, "color", "cannot be set here"),
    ],
)
def test_bad_calendars_are_refused_and_nothing_is_written(client, rw, changes, field, message):
    before = state()
    response = call(client, "post", CALENDARS, new_calendar(**changes), **rw)
    assert response.status_code == 400
    assert field in error_fields(response)
    assert message in messages(response)
    assert state() == before


# --- Who may --------------------------------------------------------------------------


WRITES = [
    ("post", POLICIES, new_policy()),
    ("patch", f"{POLICIES}{{pk}}/", {"resolution_minutes": 999}),
    ("post", CALENDARS, new_calendar()),
]
EVERYTHING = [
    ("get", POLICIES, None),
    ("get", f"{POLICIES}{{pk}}/", None),
    ("get", CALENDARS, None),
    ("get", f"{CALENDARS}{{calendar}}/", None),
    *WRITES,
]


def url_of(url: str) -> str:
    return url.format(pk=policy("Hoch").pk, calendar=BusinessCalendar.objects.first().pk)


@pytest.mark.parametrize(("method", "url", "payload"), EVERYTHING)
def test_anonymous_callers_get_401(client, method, url, payload):
    before = state()
    assert call(client, method, url_of(url), payload).status_code == 401
    assert state() == before


@pytest.mark.parametrize(("method", "url", "payload"), EVERYTHING)
def test_a_customer_session_gets_403_everywhere(client, alice, method, url, payload):
    client.force_login(alice)
    before = state()
    assert call(client, method, url_of(url), payload).status_code == 403
    assert state() == before


@pytest.mark.parametrize(("method", "url", "payload"), WRITES)
def test_agents_and_team_leads_read_but_do_not_write(client, bob, tina, method, url, payload):
    for user in (bob, tina):
        client.force_login(user)
        assert client.get(POLICIES).status_code == 200
        before = state()
        assert call(client, method, url_of(url), payload).status_code == 403
        assert state() == before


@pytest.mark.parametrize(("method", "url", "payload"), WRITES)
def test_management_writes(client, max_, method, url, payload):
    client.force_login(max_)
    response = call(client, method, url_of(url), payload)
    assert response.status_code in (200, 201), response.json()


@pytest.mark.parametrize(("method", "url", "payload"), WRITES)
def test_a_read_token_cannot_write(client, reader, method, url, payload):
    before = state()
    response = call(client, method, url_of(url), payload, **reader)
    assert response.status_code == 403
    assert state() == before


@pytest.mark.parametrize(("method", "url", "payload"), EVERYTHING)
def test_a_token_without_sla_scopes_gets_403(client, phone_system, method, url, payload):
    other = token_for(phone_system, "tickets:read", "tickets:write", "customers:read")
    assert call(client, method, url_of(url), payload, **other).status_code == 403


def test_every_action_names_its_scope():
    """Fail closed: a new action without a scope is unreachable by tokens; say so here."""
    from escalation.api import router

    for _prefix, viewset, _basename in router.registry:
        actions = {"list", "retrieve", "create", "partial_update"} & set(dir(viewset))
        for extra in viewset.get_extra_actions():
            actions |= set(extra.mapping.values())
        assert actions == set(viewset.scopes), viewset


def test_the_schema_documents_the_sla_api_and_its_scopes(client, bob):
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths[POLICIES]["get"]["x-required-scope"] == "sla:read"
    assert paths[POLICIES]["post"]["x-required-scope"] == "sla:write"
    assert paths["/api/v1/sla-policies/{id}/"]["patch"]["x-required-scope"] == "sla:write"
    assert set(paths["/api/v1/sla-policies/{id}/"]) == {"get", "patch"}
    assert set(paths[CALENDARS]) == {"get", "post"}
