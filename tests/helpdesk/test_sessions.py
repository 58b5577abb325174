"""Sessions: a new id at sign-in and after the second factor, idle and absolute time-outs,
sign-out on the server, disabled users and role changes, "end all other sessions", and
the web password change that needs the current one."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk import services, sessions
from helpdesk.choices import AuditAction, Role
from helpdesk.models import ApiToken, AuditEvent, UserSession
from tests.conftest import PASSWORD
from tests.helpdesk.test_two_factor import add_app, code_for, de, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Neu-und-lang-42"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def session_keys(user: User) -> set[str]:
    return set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))


# --- session ids --------------------------------------------------------------------------


def test_sign_in_gives_a_new_session_id_and_the_second_factor_another(client, bob):
    device = add_app(bob)
    client.get("/agent/login/")
    client.session.save()
    anonymous = client.session.session_key
    sign_in(client, "bob")
    after_password = client.session.session_key
    assert after_password != anonymous
    client.post("/account/two-factor/", {"code": code_for(device)})
    assert client.session.session_key not in (anonymous, after_password)
    assert session_keys(bob) == {client.session.session_key}  # the old ids are gone


def test_the_session_row_knows_user_ip_and_browser(client, bob, settings):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    sign_in(client, "bob", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    row = UserSession.objects.get(user=bob)
    assert row.ip_address == "127.0.0.1"
    assert "Firefox" in row.user_agent
    assert row.created_at is not None
    page = client.get("/account/").content.decode()
    assert "Firefox 128 · Linux" in page and "127.0.0.1" in page


# --- time-outs ----------------------------------------------------------------------------


def test_idle_time_out_signs_out_with_a_message_and_an_audit_entry(settings, bob):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(bob)
        assert client.get("/agent/").status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.get("/agent/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/agent/login/")
    assert de("Your session has timed out. Please sign in again.") in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED, actor=bob).count() == 1
    assert not session_keys(bob)


def test_activity_keeps_the_session_until_the_absolute_time_out(settings, bob):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    settings.SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(bob)
        for _step in range(5):  # 5 x 25 min = 125 min, never 30 min idle
            clock.shift(timedelta(minutes=25))
            response = client.get("/agent/")
            if _step < 4:
                assert response.status_code == 200, _step
        assert response.status_code == 302
        assert response["Location"].startswith("/agent/login/")
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED, actor=bob).exists()


def test_a_timed_out_api_session_is_not_signed_in(settings, bob):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(bob)
        clock.shift(timedelta(hours=1))
        assert client.get("/api/v1/me/").status_code in (401, 403)


# --- sign-out, disabled users, role changes -------------------------------------------------


def test_logout_deletes_the_session_on_the_server(bob):
    client = signed_in(bob)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()
    # The old cookie replayed by someone else opens nothing.
    thief = Client()
    thief.cookies["sessionid"] = key
    assert thief.get("/agent/").status_code == 302


def test_disabling_a_user_ends_all_sessions_and_tokens_at_once(bob, phone_system, phone_token):
    first, second = signed_in(bob), signed_in(bob)
    assert len(session_keys(bob)) == 2
    bob.is_active = False
    bob.save()
    assert not session_keys(bob)
    assert first.get("/agent/").status_code == 302 and second.get("/agent/").status_code == 302
    phone_system.is_active = False
    phone_system.save()
    assert not ApiToken.objects.filter(user=phone_system, revoked_at=None).exists()
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {phone_token}")
    assert response.status_code in (401, 403)
    assert AuditEvent.objects.filter(action=AuditAction.USER_DISABLED).count() == 2


def test_disabling_a_user_in_the_admin_ends_their_sessions(bob):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    victim_session = signed_in(bob)
    client = signed_in(admin)
    url = reverse("admin:auth_user_change", args=[bob.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "is_active", "groups", "user_permissions")
    }
    joined = timezone.localtime(bob.date_joined)
    data.update(
        {
            "date_joined_0": joined.strftime("%d.%m.%Y"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
            "groups": list(bob.groups.values_list("pk", flat=True)),
            "is_active": "",
        }
    )
    data.pop("is_active")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    bob.refresh_from_db()
    assert not bob.is_active
    assert not session_keys(bob)
    assert victim_session.get("/agent/").status_code == 302
    assert session_keys(admin)  # the admin's own session is untouched


def test_a_password_set_in_the_admin_ends_that_users_sessions_and_is_audited(bob):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    victim_session = signed_in(bob)
    client = signed_in(admin)
    url = reverse("admin:auth_user_password_change", args=[bob.pk])
    weak = client.post(url, {"password1": "kurz", "password2": "kurz"})
    assert weak.status_code == 200 and session_keys(bob)  # refused: nothing ended
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not session_keys(bob)
    assert victim_session.get("/agent/").status_code == 302
    assert client.get("/admin/").status_code == 200  # the administrator stays signed in
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert (event.actor, event.object_label) == (admin, "bob")
    assert event.details == {"by": "admin", "sessions_ended": 1}


def test_a_role_change_ends_the_users_sessions(bob):
    client = signed_in(bob)
    services.user_role_grant(user=bob, role=Role.TEAM_LEAD)
    assert not session_keys(bob)
    assert client.get("/agent/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.ROLE_GRANTED).exists()


# --- ending the other sessions ------------------------------------------------------------


def test_ending_other_sessions_keeps_this_one(bob):
    here, phone, laptop = signed_in(bob), signed_in(bob), signed_in(bob)
    url = reverse("account:sessions-end")
    refused = here.post(url, {"password": "wrong"})
    assert refused.status_code == 200
    assert de("Your current web password is not right.") in refused.content.decode()
    assert len(session_keys(bob)) == 3
    response = here.post(url, {"password": PASSWORD})
    assert response["Location"] == "/account/"
    assert session_keys(bob) == {here.session.session_key}
    assert here.get("/agent/").status_code == 200
    assert phone.get("/agent/").status_code == 302 and laptop.get("/agent/").status_code == 302
    entry = AuditEvent.objects.get(action=AuditAction.SESSIONS_ENDED)
    assert entry.details == {"sessions_ended": 2, "kept_current": True}


def test_ending_other_sessions_needs_a_post(bob):
    assert signed_in(bob).get(reverse("account:sessions-end")).status_code == 405


def test_account_page_lists_the_users_own_sessions(bob, carol, django_assert_num_queries):
    here = Client()
    here.force_login(bob)
    Client().force_login(bob)
    Client().force_login(carol)
    with django_assert_num_queries(6):  # session, user, roles, app, sessions count and page
        page = here.get("/account/").content.decode()
    assert page.count('class="row-current"') == 1
    assert page.count("<tr") == 1 + 2  # header and bob's two sessions, never carol's
    assert de("End all other sessions") in page


def test_account_sessions_list_is_paginated(bob):
    here = signed_in(bob)
    for _other in range(21):
        signed_in(bob)
    first = here.get("/account/").content.decode()
    assert first.count("<tr") == 1 + 20
    assert here.get("/account/?page=2").content.decode().count("<tr") == 1 + 2


# --- web passwords ------------------------------------------------------------------------


def test_staff_change_the_web_password_with_the_current_one(bob):
    here, elsewhere = signed_in(bob), signed_in(bob)
    url = reverse("account:password-change")
    wrong = here.post(
        url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert "Das alte Passwort war falsch." in wrong.content.decode()
    bob.refresh_from_db()
    assert bob.check_password(PASSWORD)
    response = here.post(
        url,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == "/account/"
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    assert here.get("/agent/").status_code == 200  # this session stays
    assert elsewhere.get("/agent/").status_code == 302
    assert session_keys(bob) == {here.session.session_key}
    entry = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert entry.details == {"sessions_ended": 1}
    assert PASSWORD not in str(entry.details) and NEW_PASSWORD not in str(entry.details)


def test_customers_change_their_password_in_the_portal(alice):
    assert (
        signed_in(alice).get(reverse("account:password-change"))["Location"] == "/portal/password/"
    )


def test_portal_password_change_is_audited_and_ends_the_other_sessions(alice):
    here, elsewhere = signed_in(alice), signed_in(alice)
    response = here.post(
        "/portal/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("portal-account")
    assert session_keys(alice) == {here.session.session_key}
    assert elsewhere.get("/portal/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED, actor=alice).exists()


def test_password_reset_is_audited_and_ends_every_session(client, alice):
    elsewhere = signed_in(alice)
    client.post(reverse("portal-password-reset"), {"email": alice.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/portal/reset/" in line)
    set_url = client.get("/" + link.split("://", 1)[1].split("/", 1)[1])["Location"]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not session_keys(alice)
    assert elsewhere.get("/portal/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET, actor=alice).exists()


def test_the_admins_own_password_form_leads_to_the_audited_one(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin)
    assert client.get("/admin/password_change/")["Location"] == "/account/password/"


def test_the_phone_password_needs_the_current_web_password(alice):
    from customers import services as customer_services

    alice_customer = customer_services.customer_create(
        number="K3000001",
        first_name="Alice",
        last_name="Schmidt",
        street="Lindenstraße 5",
        postal_code="10115",
        city="Berlin",
        user=alice,
    )
    client = signed_in(alice)
    response = client.post(
        reverse("portal-phone-password"),
        {
            "current_password": "not-mine",
            "phone_password": "blaue giraffe tanzt",
            "phone_password_again": "blaue giraffe tanzt",
        },
    )
    assert response.status_code == 200
    alice_customer.refresh_from_db()
    assert not alice_customer.phone_password


def test_session_flag_is_set_at_sign_in(client, alice):
    sign_in(client, "alice", url="/portal/login/")
    assert client.session[sessions.TWO_FACTOR] == "none"
