"""The security audit trail: each event kind is written when it happens (who, what, which
object, from where, when in UTC), exactly once, and nobody can change or delete it."""

from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from helpdesk import services
from helpdesk.choices import AuditAction, Role
from helpdesk.models import AuditEvent
from tests.conftest import PASSWORD, skip_or_fail
from tests.customers import conftest as customer_fixtures
from tests.customers.conftest import PHONE_PASSWORD

pytestmark = pytest.mark.django_db
erika = customer_fixtures.erika  # Erika Musterfrau, K1000001, alice's customer record

IP = "203.0.113.7"
CSV = "/management/kpis/export.csv"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def the_event(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, [(e.action, e.actor_label, e.details) for e in found]
    return found[0]


def sign_in(client, username: str, password: str = PASSWORD, url_name: str = "agent-login"):
    return client.post(
        reverse(url_name), {"username": username, "password": password}, REMOTE_ADDR=IP
    )


def assert_fresh_utc(event: AuditEvent) -> None:
    assert event.at.utcoffset() == timedelta(0)
    assert abs(timezone.now() - event.at) < timedelta(minutes=1)


# --- Sign-in -----------------------------------------------------------------------------


def test_a_sign_in_is_recorded_with_who_from_where_and_when(client, bob):
    sign_in(client, "bob")
    event = the_event(AuditAction.LOGIN)
    assert event.actor == bob and event.actor_label == "bob"
    assert event.ip_address == IP
    assert_fresh_utc(event)
    assert event.at.tzinfo is not None and event.at.astimezone(UTC) == event.at


def test_a_failed_sign_in_names_the_user_tried_but_no_password(client, bob):
    sign_in(client, "bob", "wrong-guess-123")
    event = the_event(AuditAction.LOGIN_FAILED)
    assert event.actor is None and event.actor_label == "bob"
    assert event.object_type == "user" and event.object_label == "bob"
    assert event.ip_address == IP
    assert "wrong-guess-123" not in repr(event.details)


def test_too_many_failures_record_a_lock_out(client, bob, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "bob", "wrong")
    assert not events(AuditAction.LOCKED_OUT)
    sign_in(client, "bob", "wrong")
    event = the_event(AuditAction.LOCKED_OUT)
    assert event.actor_label == "bob" and event.ip_address == IP
    assert len(events(AuditAction.LOGIN_FAILED)) == settings.AXES_FAILURE_LIMIT
    # Each attempt while locked out is refused and recorded as such, never as a sign-in.
    assert sign_in(client, "bob").status_code == 429
    assert len(events(AuditAction.LOCKED_OUT)) == 2
    assert not events(AuditAction.LOGIN)


def test_signing_out_is_recorded(client, bob):
    sign_in(client, "bob")
    client.post(reverse("logout"), REMOTE_ADDR=IP)
    event = the_event(AuditAction.LOGOUT)
    assert event.actor == bob and event.ip_address == IP


# --- Phone password ----------------------------------------------------------------------


def verify(client, number: str, spoken: str):
    return client.post(
        reverse("customers:customer-verify", args=[number]),
        {"phone_password": spoken, "ticket_reference": ""},
        REMOTE_ADDR=IP,
    )


def test_a_phone_password_check_is_recorded_with_result_and_customer_number_only(
    client, bob, erika
):
    client.force_login(bob)
    verify(client, erika.number, PHONE_PASSWORD)
    event = the_event(AuditAction.PHONE_PASSWORD_CHECKED)
    assert event.actor == bob and event.ip_address == IP
    assert event.object_type == "customer" and event.object_id == str(erika.pk)
    assert event.object_label == erika.number  # no name
    assert event.details == {"result": "success", "channel": "agent"}
    assert_fresh_utc(event)


def test_failed_and_locked_phone_password_checks_are_recorded(client, bob, erika, settings):
    client.force_login(bob)
    for _attempt in range(settings.PHONE_VERIFICATION_FAILURE_LIMIT):
        verify(client, erika.number, "Falsche Blume 1")
    verify(client, erika.number, PHONE_PASSWORD)  # right, but locked now
    results = [event.details["result"] for event in events(AuditAction.PHONE_PASSWORD_CHECKED)]
    assert results == ["failure"] * settings.PHONE_VERIFICATION_FAILURE_LIMIT + ["locked"]
    for event in events(AuditAction.PHONE_PASSWORD_CHECKED):
        assert "blume" not in repr(event.details).lower()
        assert "Erika" not in event.object_label


def test_a_check_by_the_phone_system_names_the_integration_and_the_channel(
    client, phone_token, phone_system, erika
):
    url = f"/api/v1/customers/{erika.number}/verify-phone-password/"
    response = client.post(
        url,
        {"phone_password": PHONE_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {phone_token}",
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 200, response.content
    event = the_event(AuditAction.PHONE_PASSWORD_CHECKED)
    assert event.actor == phone_system
    assert event.details == {"result": "success", "channel": "ivr"}
    assert event.ip_address == IP


def test_a_check_for_an_unknown_customer_number_is_recorded_too(client, phone_token):
    response = client.post(
        "/api/v1/customers/K9999999/verify-phone-password/",
        {"phone_password": "irgendwas 12"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {phone_token}",
    )
    assert response.status_code == 404
    event = the_event(AuditAction.PHONE_PASSWORD_CHECKED)
    assert event.object_label == "K9999999" and event.object_id == ""
    assert event.details == {"result": "unknown_customer", "channel": "ivr"}


def test_a_phone_password_change_is_recorded(client, alice, erika):
    client.force_login(alice)
    response = client.post(
        reverse("portal-phone-password"),
        {
            "current_password": PASSWORD,
            "phone_password": "Gartenzwerg 93",
            "phone_password_again": "Gartenzwerg 93",
        },
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    event = the_event(AuditAction.PHONE_PASSWORD_CHANGED)
    assert event.actor == alice and event.ip_address == IP
    assert event.object_label == erika.number
    assert event.details["change"] == "changed"
    assert "gartenzwerg" not in repr(event.details).lower()


# --- Refusals ----------------------------------------------------------------------------


def test_a_refused_page_is_recorded_once_and_the_page_is_unchanged(client, bob):
    client.force_login(bob)
    response = client.get("/agent/audit/?who=tina", REMOTE_ADDR=IP)
    assert response.status_code == 403
    assert "Kein Zugriff" in response.content.decode()
    event = the_event(AuditAction.PERMISSION_DENIED)
    assert event.actor == bob and event.ip_address == IP
    assert event.details == {"path": "/agent/audit/", "method": "GET"}  # no query string


def test_a_customer_refused_the_workspace_is_recorded(client, alice):
    client.force_login(alice)
    assert client.post("/agent/", REMOTE_ADDR=IP).status_code == 403
    event = the_event(AuditAction.PERMISSION_DENIED)
    assert event.actor == alice and event.details == {"path": "/agent/", "method": "POST"}


def test_a_form_without_its_csrf_token_is_refused_and_recorded(bob):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    client.force_login(bob)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    event = AuditEvent.objects.filter(action=AuditAction.PERMISSION_DENIED).get()
    assert event.actor == bob and event.ip_address == IP
    assert event.details == {"path": "/logout/", "method": "POST"}
    assert client.get("/agent/").status_code == 200  # still signed in: the POST did nothing


def test_a_refused_download_is_recorded_without_its_file_token(bob):
    request = RequestFactory().get("/files/Zk3secretdownloadtoken/")
    request.user = bob
    request.resolver_match = resolve(request.path)
    event = services.access_denied_record(request=request, path=request.path, method="GET")
    assert event.details == {"path": "/files/<str:token>/", "method": "GET"}
    row = AuditEvent.objects.get(pk=event.pk)
    assert "Zk3secret" not in f"{row.details} {row.object_label} {row.object_id}"


def test_a_refusal_still_answers_403_when_the_audit_cannot_be_written(client, bob, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    client.force_login(bob)
    monkeypatch.setattr(services, "audit_record", broken)
    response = client.get("/agent/audit/")
    assert response.status_code == 403
    assert "Kein Zugriff" in response.content.decode()


def test_a_refused_api_call_is_recorded_once(client, phone_system):
    _token, key = services.api_token_create(
        user=phone_system, name="Monitoring", scopes=["outages:read"]
    )
    response = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=IP)
    assert response.status_code == 403
    event = the_event(AuditAction.PERMISSION_DENIED)
    assert event.actor == phone_system and event.ip_address == IP
    assert event.details == {"path": "/api/v1/customers/", "method": "GET"}
    assert key not in repr(event.details) and key[:12] not in event.object_label


def test_a_customer_session_refused_by_the_api_is_recorded(client, alice):
    client.force_login(alice)
    assert client.get("/api/v1/customers/").status_code == 403
    assert the_event(AuditAction.PERMISSION_DENIED).actor == alice


def test_a_wrong_token_is_recorded_but_a_call_without_credentials_is_not(client):
    assert client.get("/api/v1/customers/").status_code == 401
    assert not events(AuditAction.PERMISSION_DENIED)
    response = client.get("/api/v1/customers/", HTTP_AUTHORIZATION="Token hd_not-a-real-key")
    assert response.status_code == 401
    event = the_event(AuditAction.PERMISSION_DENIED)
    assert event.actor is None and "hd_not-a-real-key" not in repr(event.details)


def test_a_refused_api_call_still_answers_when_the_audit_cannot_be_written(
    client, alice, monkeypatch
):
    client.force_login(alice)
    monkeypatch.setattr(
        services, "audit_record", lambda **kwargs: (_ for _ in ()).throw(DatabaseError("x"))
    )
    response = client.get("/api/v1/customers/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


# --- Exports, roles, users ---------------------------------------------------------------


def test_the_kpi_export_is_recorded_with_its_filter(client, max_):
    client.force_login(max_)
    response = client.get(
        CSV, {"start": "2026-03-01", "end": "2026-03-07", "channel": "phone"}, REMOTE_ADDR=IP
    )
    assert response.status_code == 200
    event = the_event(AuditAction.EXPORTED)
    assert event.actor == max_ and event.ip_address == IP
    assert event.details == {
        "export": "kpis",
        "start": "2026-03-01",
        "end": "2026-03-07",
        "channel": "phone",
        "department": "",
    }


def test_a_refused_kpi_filter_exports_nothing_and_records_nothing(client, max_):
    client.force_login(max_)
    assert client.get(CSV, {"start": "gestern"}).status_code == 400
    assert not events(AuditAction.EXPORTED)


def test_roles_granted_and_taken_away_are_recorded(bob, tina):
    services.user_role_grant(user=bob, role=Role.TEAM_LEAD)
    granted = events(AuditAction.ROLE_GRANTED)[-1]
    assert granted.object_label == "bob" and granted.details == {"roles": ["team_lead"]}
    bob.groups.remove(Group.objects.get(name=Role.TEAM_LEAD))
    revoked = the_event(AuditAction.ROLE_REVOKED)
    assert revoked.object_type == "user" and revoked.object_id == str(bob.pk)
    assert revoked.details == {"roles": ["team_lead"]}


def test_disabling_a_user_in_the_admin_is_recorded_with_the_admin_as_actor(client, bob):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin)
    data = {
        "username": "bob",
        "first_name": "Bob",
        "last_name": "Bauer",
        "email": "bob@example.com",
        "is_active": "",
        "groups": [Group.objects.get(name=Role.AGENT).pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "08:00:00",
    }
    response = client.post(reverse("admin:auth_user_change", args=[bob.pk]), data, REMOTE_ADDR=IP)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = the_event(AuditAction.USER_DISABLED)
    assert event.actor == admin and event.object_label == "bob" and event.ip_address == IP


# --- Append-only -------------------------------------------------------------------------


@pytest.fixture
def entry(bob):
    return services.audit_record(action=AuditAction.LOGIN, actor=bob)


def test_the_orm_refuses_to_change_or_delete_entries(entry):
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError):
        entry.delete()
    entry.actor_label = "someone else"
    with pytest.raises(TypeError):
        entry.save()
    entry.refresh_from_db()
    assert entry.actor_label == "bob"


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin)
    return client


def test_the_admin_shows_entries_but_cannot_add_change_or_delete(admin_client, entry):
    listing = admin_client.get(reverse("admin:helpdesk_auditevent_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "bob" in page
    assert 'value="delete_selected"' not in page and 'name="action"' not in page
    assert admin_client.get(reverse("admin:helpdesk_auditevent_add")).status_code == 403
    change_url = reverse("admin:helpdesk_auditevent_change", args=[entry.pk])
    view = admin_client.get(change_url)
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert admin_client.post(change_url, {"actor_label": "x"}).status_code == 403
    delete_url = reverse("admin:helpdesk_auditevent_delete", args=[entry.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:helpdesk_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert entry.actor_label == "bob"
    assert AuditEvent.objects.filter(pk=entry.pk).exists()


def test_the_admin_searches_and_filters_entries(admin_client, entry, tina):
    services.audit_record(action=AuditAction.LOGIN_FAILED, actor_label="tina")
    url = reverse("admin:helpdesk_auditevent_changelist")
    page = admin_client.get(url, {"q": "tina"}).content.decode()
    assert "auth.login_failed" in page or "Sign-in failed" in page or "Anmeldung" in page
    assert admin_client.get(url, {"action__exact": AuditAction.LOGIN}).status_code == 200


# --- PostgreSQL: the database itself refuses ---------------------------------------------


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): the append-only trigger is SQL")


def test_postgresql_refuses_raw_updates_and_deletes(postgresql, entry):
    table = AuditEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET actor_label = 'x' WHERE id = %s",  # noqa: S608 - our table name
        f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    entry.refresh_from_db()
    assert entry.actor_label == "bob"


def test_postgresql_lets_pseudonymise_rewrite_the_names_only(postgresql, entry):
    changed = AuditEvent.objects.filter(pk=entry.pk).pseudonymise(label_of_actor="person-1")
    assert changed == 1
    entry.refresh_from_db()
    assert entry.actor_label == "person-1" and entry.action == AuditAction.LOGIN
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_label = 'x' WHERE id = %s", [entry.pk])  # noqa: S608
