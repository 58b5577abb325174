"""Two-factor sign-in: who must use it, set-up with a QR code, codes from the app, recovery
codes, throttling, replays, and the gate in front of every page and the API.

These tests sign in through the real forms (`client.post` to the sign-in page), not with
`force_login`, which the suite's conftest counts as a complete sign-in.
"""

import html
import logging
from base64 import b32encode
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk import services, sessions
from helpdesk.account_views import RECOVERY_CODES
from helpdesk.choices import AuditAction
from helpdesk.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SETUP = "/account/two-factor/setup/"
VERIFY = "/account/two-factor/"
# A fixed moment in the middle of a 30-second step, so a test never crosses into the next.
NOON = datetime(2025, 3, 3, 11, 0, 10, tzinfo=UTC)


WRONG_CODE_MSGID = "That code is not right or has been used already. Enter the current code."


# --- helpers (imported by the other test modules of this folder) --------------------------


def code_for(device, *, steps_ahead: int = 0) -> str:
    """The code the user's app shows now (or `steps_ahead` time steps later)."""
    device.refresh_from_db()
    t0 = device.t0 - steps_ahead * device.step
    value = totp(device.bin_key, step=device.step, t0=t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def add_app(user: User) -> TOTPDevice:
    """A confirmed authenticator for the user, with ten recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="Helpdesk", confirmed=True)
    services._recovery_codes_new(user=user)
    return device


def recovery_codes_of(user: User) -> list[str]:
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def de(text: str) -> str:
    """`text` as the German page shows it: translated (once the catalogue has it), escaped."""
    with translation.override("de"):
        return html.escape(translation.gettext(text))


def sign_in(client, username: str, *, url: str = "/agent/login/", next_url: str = "", **extra):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(url, data, **extra)


def actions_of(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user).order_by("pk").values_list("action", flat=True)
    )


@pytest.fixture(autouse=True)
def _at_noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


# --- who owes a second factor -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["bob", "tina", "max_"])
def test_staff_without_an_app_are_sent_to_set_one_up(client, persona, request):
    user = request.getfixturevalue(persona)
    response = sign_in(client, user.username)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fagent%2F"
    assert client.session[sessions.TWO_FACTOR] == "pending"


def test_staff_with_an_app_are_asked_for_the_code(client, bob):
    add_app(bob)
    response = sign_in(client, "bob")
    assert response["Location"] == f"{VERIFY}?next=%2Fagent%2F"
    page = client.get(response["Location"]).content.decode()
    assert de("Confirm it is you") in page
    assert 'autocomplete="one-time-code"' in page


def test_a_pending_session_opens_no_page_but_the_second_factor(client, max_):
    add_app(max_)
    sign_in(client, "max")
    for path in ("/agent/", "/management/", "/agent/tickets/", "/admin/", "/account/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{VERIFY}?next="), path
    assert client.get(VERIFY).status_code == 200


def test_a_pending_session_shows_no_navigation(client, bob):
    add_app(bob)
    sign_in(client, "bob")
    page = client.get(VERIFY).content.decode()
    assert 'class="mainnav"' not in page
    assert "Abmelden" in page  # signing out is always possible


def test_api_call_with_a_pending_session_gets_403(client, bob):
    add_app(bob)
    sign_in(client, "bob")
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_management_cannot_skip_even_when_agents_may(client, max_, settings):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    response = sign_in(client, "max")
    assert response["Location"].startswith(SETUP)
    assert client.get("/management/")["Location"].startswith(VERIFY)


def test_agent_signs_in_without_a_second_factor_when_it_is_optional(client, bob, settings):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    response = sign_in(client, "bob")
    assert response["Location"] == "/agent/"
    assert client.session[sessions.TWO_FACTOR] == "none"
    assert client.get("/agent/").status_code == 200


def test_agent_who_set_up_an_app_is_asked_for_it_even_when_optional(client, bob, settings):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    add_app(bob)
    assert sign_in(client, "bob")["Location"].startswith(VERIFY)


def test_admin_sign_in_meets_the_same_gate(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    gate = client.get("/admin/")
    assert gate["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.get(gate["Location"])["Location"] == f"{SETUP}?next=%2Fadmin%2F"
    assert client.get("/admin/auth/user/")["Location"].startswith(VERIFY)
    device = services.two_factor_enrol_start(user=admin)
    client.post(SETUP, {"code": code_for(device), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


# --- set-up -------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret_for_typing(client, bob):
    sign_in(client, "bob")
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=bob)
    assert not device.confirmed
    assert 'src="data:image/svg+xml' in page
    secret = b32encode(device.bin_key).decode()
    assert f"<span>{secret[:4]}</span><span>{secret[4:8]}</span>" in page
    # A reload shows the same secret: the app the user is scanning with stays valid.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=bob).count() == 1
    assert 'name="password"' not in page  # right after the password: no second ask


def test_setup_confirms_with_the_first_code_and_shows_recovery_codes_once(client, bob):
    sign_in(client, "bob")
    client.get(SETUP)
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=bob)
    response = client.post(SETUP, {"code": code_for(device), "next": "/agent/tickets/"})
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/recovery-codes/?next=%2Fagent%2Ftickets%2F"
    assert client.session.session_key != before
    assert client.session[sessions.TWO_FACTOR] == "ok"
    device.refresh_from_db()
    assert device.confirmed
    codes = recovery_codes_of(bob)
    assert len(codes) == 10 and len(set(codes)) == 10

    page = client.get(response["Location"]).content.decode()
    for code in codes:
        assert services.recovery_code_format(code) in page
    assert de("I have stored them – continue") in page
    done = client.post(response["Location"], {"next": "/agent/tickets/"})
    assert done["Location"] == "/agent/tickets/"
    assert RECOVERY_CODES not in client.session
    assert client.get("/account/two-factor/recovery-codes/")["Location"] == "/account/"
    assert AuditAction.TWO_FACTOR_ENROLLED in actions_of(bob)


def test_a_set_up_is_confirmed_once(bob):
    device = services.two_factor_enrol_start(user=bob)
    _confirmed, codes = services.two_factor_enrol_confirm(user=bob, code=code_for(device))
    again = code_for(device, steps_ahead=1)
    with pytest.raises(
        services.DomainError, match=de("The set-up has expired. Please start again.")
    ):
        services.two_factor_enrol_confirm(user=bob, code=again)
    assert sorted(recovery_codes_of(bob)) == sorted(c.replace("-", "") for c in codes)
    assert actions_of(bob).count(AuditAction.TWO_FACTOR_ENROLLED) == 1


def test_setup_refuses_a_wrong_code_clearly_and_counts_it(client, bob):
    sign_in(client, "bob")
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        de("That code is not right. Check the time on your phone and enter the current code.")
        in page
    )
    device = TOTPDevice.objects.get(user=bob)
    assert not device.confirmed and device.throttling_failure_count == 1
    assert client.session[sessions.TWO_FACTOR] == "pending"
    failed = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_FAILED)
    assert failed.details == {"method": "set-up", "failures": 1}


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef"])
def test_setup_refuses_what_is_not_six_digits_without_counting(client, bob, code):
    sign_in(client, "bob")
    client.get(SETUP)
    page = client.post(SETUP, {"code": code}).content.decode()
    assert "field-error" in page
    assert TOTPDevice.objects.get(user=bob).throttling_failure_count == 0


def test_someone_with_an_app_cannot_set_up_another_to_skip_the_code(client, max_):
    device = add_app(max_)
    sign_in(client, "max")
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response["Location"].startswith(VERIFY)
    assert client.session[sessions.TWO_FACTOR] == "pending"


def test_a_new_phone_needs_the_password_and_replaces_the_old_app(client, bob):
    old = add_app(bob)
    client.force_login(bob)
    page = client.get(SETUP).content.decode()
    assert de("Set up a new authenticator app") in page
    new = TOTPDevice.objects.get(user=bob, confirmed=False)
    refused = client.post(SETUP, {"code": code_for(new), "password": "wrong"})
    assert de("Your current web password is not right.") in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=old.pk).exists()
    response = client.post(SETUP, {"code": code_for(new, steps_ahead=1), "password": PASSWORD})
    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=bob).values_list("pk", flat=True)) == [new.pk]


# --- the code at sign-in ------------------------------------------------------------------


def test_the_right_code_completes_the_sign_in_with_a_new_session_id(client, bob):
    device = add_app(bob)
    sign_in(client, "bob", next_url="/agent/tickets/")
    after_password = client.session.session_key
    response = client.post(VERIFY, {"code": code_for(device), "next": "/agent/tickets/"})
    assert response["Location"] == "/agent/tickets/"
    assert client.session.session_key != after_password
    assert client.session[sessions.TWO_FACTOR] == "ok"
    assert client.get("/agent/").status_code == 200
    assert actions_of(bob)[-1] == AuditAction.TWO_FACTOR_VERIFIED


def test_a_wrong_code_gets_a_clear_error_and_is_audited_without_the_code(client, bob):
    add_app(bob)
    sign_in(client, "bob")
    response = client.post(VERIFY, {"code": "123 456"})
    assert response.status_code == 200
    assert de(WRONG_CODE_MSGID) in response.content.decode()
    assert client.session[sessions.TWO_FACTOR] == "pending"
    failed = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_FAILED)
    assert failed.details == {"method": "authenticator", "failures": 1}
    assert "123456" not in str(failed.details) and "123 456" not in failed.object_label


def test_a_code_cannot_be_used_twice(client, bob):
    device = add_app(bob)
    code = code_for(device)
    sign_in(client, "bob")
    assert client.post(VERIFY, {"code": code})["Location"] == "/agent/"
    client.post(reverse("logout"))
    sign_in(client, "bob")
    replay = client.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert de(WRONG_CODE_MSGID) in replay.content.decode()
    assert client.session[sessions.TWO_FACTOR] == "pending"


def test_wrong_codes_slow_down_guessing(client, bob, _at_noon):
    device = add_app(bob)
    sign_in(client, "bob")
    client.post(VERIFY, {"code": "000000"})
    client.post(VERIFY, {"code": "000001"})  # within the second: refused unchecked
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    _at_noon.shift(1.5)
    client.post(VERIFY, {"code": "000002"})
    right = code_for(device)
    throttled = client.post(VERIFY, {"code": right})  # 2 s wait after the second failure
    assert (
        de("Too many wrong codes. Please wait %(seconds)s seconds and try again.").split("%")[0]
        in throttled.content.decode()
    )
    assert client.session[sessions.TWO_FACTOR] == "pending"
    _at_noon.shift(3)
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response["Location"] == "/agent/"
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_ten_wrong_codes_lock_for_minutes(bob, _at_noon):
    device = add_app(bob)
    for _attempt in range(10):
        with pytest.raises(services.DomainError):
            services.two_factor_verify(user=bob, code="000000")
        _at_noon.shift(600)
    _at_noon.shift(-600 + 60)  # a minute after the tenth failure: 512 s wait
    with pytest.raises(services.DomainError, match="453"):  # seconds still to wait
        services.two_factor_verify(user=bob, code=code_for(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 10  # a refused try is not counted again


def test_a_recovery_code_signs_in_once(client, bob):
    add_app(bob)
    code = recovery_codes_of(bob)[0]
    sign_in(client, "bob")
    page = client.get(f"{VERIFY}?method=recovery&next=/agent/").content.decode()
    assert 'name="recovery_code"' in page
    response = client.post(VERIFY, {"recovery_code": services.recovery_code_format(code).upper()})
    assert response["Location"] == "/agent/"
    left = translation.ngettext(
        "You signed in with a recovery code; %(count)d is left. "
        "Make new ones on your security page.",
        "You signed in with a recovery code; %(count)d are left. "
        "Make new ones on your security page.",
        9,
    )
    with translation.override("de"):
        assert html.escape(left % {"count": 9}) in client.get("/agent/").content.decode()
    assert AuditAction.TWO_FACTOR_RECOVERY_USED in actions_of(bob)
    assert code not in recovery_codes_of(bob)
    client.post(reverse("logout"))
    sign_in(client, "bob")
    again = client.post(VERIFY, {"recovery_code": code})
    assert de("That recovery code is not right or has been used already.") in again.content.decode()
    assert client.session[sessions.TWO_FACTOR] == "pending"


def test_the_verify_page_links_between_app_code_and_recovery_code(client, bob):
    add_app(bob)
    sign_in(client, "bob")
    page = client.get(f"{VERIFY}?next=/agent/").content.decode()
    assert de("Use a recovery code") in page
    assert "method=recovery&amp;next=%2Fagent%2F" in page


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/", "http://testserver.evil.example/"]
)
def test_next_to_another_site_is_refused(client, bob, evil):
    device = add_app(bob)
    sign_in(client, "bob")
    response = client.post(VERIFY, {"code": code_for(device), "next": evil})
    assert response["Location"] == "/agent/"


def test_next_to_another_site_is_refused_from_the_sign_in_on(client, bob):
    add_app(bob)
    response = sign_in(client, "bob", next_url="https://evil.example/")
    assert response["Location"] == f"{VERIFY}?next=%2Fagent%2F"


def test_a_finished_sign_in_is_sent_on_from_the_verify_page(client, bob):
    client.force_login(bob)
    assert client.get(f"{VERIFY}?next=/agent/tickets/")["Location"] == "/agent/tickets/"


def test_anonymous_visitors_of_the_verify_page_go_to_the_sign_in(client, db):
    assert client.get(VERIFY)["Location"].startswith("/agent/login/")


# --- recovery codes, switching off ----------------------------------------------------------


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(client, bob):
    add_app(bob)
    old = recovery_codes_of(bob)
    client.force_login(bob)
    url = reverse("account:two-factor-recovery-renew")
    refused = client.post(url, {"password": "wrong"})
    assert de("Your current web password is not right.") in refused.content.decode()
    assert recovery_codes_of(bob) == old
    response = client.post(url, {"password": PASSWORD})
    assert response["Location"].startswith("/account/two-factor/recovery-codes/")
    new = recovery_codes_of(bob)
    assert len(new) == 10 and not set(new) & set(old)
    page = client.get(response["Location"]).content.decode()
    assert services.recovery_code_format(new[0]) in page
    assert AuditAction.TWO_FACTOR_RECOVERY_RENEWED in actions_of(bob)
    assert StaticDevice.objects.filter(user=bob).count() == 1


def test_management_cannot_switch_two_factor_off(client, max_, settings):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    device = add_app(max_)
    client.force_login(max_)
    url = reverse("account:two-factor-disable")
    assert client.get(url).status_code == 403
    assert client.post(url, {"password": PASSWORD, "code": code_for(device)}).status_code == 403
    assert TOTPDevice.objects.filter(user=max_, confirmed=True).exists()
    assert de("Switch off two-factor sign-in") not in client.get("/account/").content.decode()
    with pytest.raises(services.DomainError):
        services.two_factor_disable(user=max_, password=PASSWORD, code=code_for(device))


def test_agents_cannot_switch_it_off_while_it_is_required(client, bob):
    add_app(bob)
    client.force_login(bob)
    assert client.get(reverse("account:two-factor-disable")).status_code == 403


def test_customer_opts_in_from_the_portal_and_then_signs_in_with_a_code(client, alice):
    client.force_login(alice)
    home = client.get("/account/").content.decode()
    assert de("Set up two-factor sign-in") in home
    page = client.get(SETUP).content.decode()
    assert 'name="password"' in page  # signed in already: the password is asked again
    device = TOTPDevice.objects.get(user=alice)
    refused = client.post(SETUP, {"code": code_for(device), "password": ""})
    assert "field-error" in refused.content.decode()
    response = client.post(SETUP, {"code": code_for(device), "password": PASSWORD})
    assert response["Location"].startswith("/account/two-factor/recovery-codes/")
    client.post(reverse("logout"))
    signed_in = sign_in(client, "alice", url="/portal/login/")
    assert signed_in["Location"] == f"{VERIFY}?next=%2Fportal%2F"
    assert client.get("/portal/")["Location"].startswith(VERIFY)
    # The set-up used this time step's code; the app shows the next one 30 s later.
    next_code = code_for(device, steps_ahead=1)
    assert client.post(VERIFY, {"code": next_code})["Location"] == "/portal/"


def test_customer_switches_it_off_with_password_and_code(client, alice, _at_noon):
    device = add_app(alice)
    client.force_login(alice)
    url = reverse("account:two-factor-disable")
    assert de("Switch off two-factor sign-in") in client.get("/account/").content.decode()
    wrong_password = client.post(url, {"password": "wrong", "code": code_for(device)})
    assert de("Your current web password is not right.") in wrong_password.content.decode()
    wrong_code = client.post(url, {"password": PASSWORD, "code": "000000"})
    assert de(WRONG_CODE_MSGID) in wrong_code.content.decode()
    assert TOTPDevice.objects.filter(user=alice).exists()
    _at_noon.shift(2)  # past the wait a wrong code costs
    _at_one_step_later = code_for(device, steps_ahead=1)
    response = client.post(url, {"password": PASSWORD, "code": _at_one_step_later})
    assert response["Location"] == "/account/"
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert AuditAction.TWO_FACTOR_DISABLED in actions_of(alice)
    client.post(reverse("logout"))
    assert sign_in(client, "alice", url="/portal/login/")["Location"] == "/portal/"


def test_a_recovery_code_may_switch_it_off_for_a_customer(client, alice):
    add_app(alice)
    client.force_login(alice)
    code = recovery_codes_of(alice)[3]
    response = client.post(
        reverse("account:two-factor-disable"), {"password": PASSWORD, "code": code}
    )
    assert response["Location"] == "/account/"
    assert not TOTPDevice.objects.filter(user=alice).exists()


# --- nothing secret is written down ---------------------------------------------------------


def test_codes_and_secrets_reach_no_audit_entry_and_no_log(client, bob, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in(client, "bob")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=bob)
    client.post(SETUP, {"code": "111111"})
    code = code_for(device)
    client.post(SETUP, {"code": code})
    secrets = [code, "111111", device.key, *recovery_codes_of(bob)]
    secrets.append(b32encode(device.bin_key).decode())
    written = " ".join(
        str(row) for row in AuditEvent.objects.values_list("details", "object_label", "actor_label")
    )
    written += caplog.text
    for secret in secrets:
        assert secret not in written


def test_account_page_fits_the_users_side(client, alice, bob):
    client.force_login(bob)
    staff = client.get("/account/").content.decode()
    assert "side-workspace" in staff and 'href="/account/password/"' in staff
    client.force_login(alice)
    customer = client.get("/account/").content.decode()
    assert "side-portal" in customer and 'href="/portal/password/"' in customer


def test_integration_users_have_no_account_pages(client, phone_system):
    client.force_login(phone_system)
    assert client.get("/account/").status_code == 403


def test_account_page_has_a_fixed_number_of_queries(client, bob, django_assert_num_queries):
    add_app(bob)
    client.force_login(bob)
    for _other in range(3):
        other = type(client)()
        other.force_login(bob)
    with django_assert_num_queries(7):
        page = client.get("/account/")
    assert page.content.decode().count("<tr") == 1 + 4


def test_the_name_in_the_header_opens_the_account_page(client, bob, alice):
    client.force_login(bob)
    assert (
        'class="whoami" data-testid="whoami" href="/account/"'
        in client.get("/agent/").content.decode()
    )
    client.force_login(alice)
    assert 'href="/account/"' in client.get("/portal/").content.decode()
