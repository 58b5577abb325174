"""Two sign-ins, two homes: staff and customers never cross over."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.helpdesk.test_two_factor import add_app, code_for

pytestmark = pytest.mark.django_db


def sign_in(client, url_name: str, username: str, password: str = PASSWORD):
    return client.post(reverse(url_name), {"username": username, "password": password})


@pytest.mark.parametrize("persona", ["bob", "tina", "max_"])
def test_staff_land_on_the_workspace_after_the_second_factor(client, persona, request):
    user = request.getfixturevalue(persona)
    device = add_app(user)
    response = sign_in(client, "agent-login", user.username)
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?next=%2Fagent%2F"
    assert client.get("/agent/").status_code == 302  # not before the code
    done = client.post(response["Location"], {"code": code_for(device), "next": "/agent/"})
    assert done["Location"] == "/agent/"
    page = client.get("/agent/")
    assert page.status_code == 200
    assert "Arbeitsplatz" in page.content.decode()


def test_staff_without_an_app_set_one_up_first(client, bob):
    response = sign_in(client, "agent-login", "bob")
    assert response["Location"] == "/account/two-factor/setup/?next=%2Fagent%2F"


def test_agents_sign_in_with_the_password_alone_when_the_demo_relaxes_it(
    client, bob, tina, settings
):
    settings.TWO_FACTOR_FOR_AGENTS = "optional"
    assert sign_in(client, "agent-login", "bob")["Location"] == "/agent/"
    client.post(reverse("logout"))
    # tina may open the admin site: such accounts always need the second factor
    assert sign_in(client, "agent-login", "tina")["Location"].startswith("/account/two-factor/")


def test_customer_lands_on_the_portal(client, alice):
    response = sign_in(client, "portal-login", "alice")
    assert response["Location"] == "/portal/"
    assert "Meine Anliegen" in client.get("/portal/").content.decode()


def test_customer_cannot_sign_in_at_the_workspace(client, alice):
    response = sign_in(client, "agent-login", "alice")
    assert response.status_code == 200
    assert "Diese Anmeldung ist für Mitarbeitende" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_agent_cannot_sign_in_at_the_portal(client, bob):
    response = sign_in(client, "portal-login", "bob")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_integration_user_cannot_sign_in_anywhere(client, phone_system):
    for url_name in ("agent-login", "portal-login"):
        response = sign_in(client, url_name, "phone-system", "")
        assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_customer_never_opens_an_agent_page(client, alice):
    client.force_login(alice)
    response = client.get("/agent/")
    assert response.status_code == 403
    assert "Diese Seite gehört zum Arbeitsplatz" in response.content.decode()


def test_agent_never_opens_a_portal_page(client, bob):
    client.force_login(bob)
    assert client.get("/portal/").status_code == 403


def test_integration_user_opens_no_page(client, phone_system):
    client.force_login(phone_system)
    assert client.get("/agent/").status_code == 403
    assert client.get("/portal/").status_code == 403


@pytest.mark.parametrize(
    ("path", "login"), [("/agent/", "/agent/login/"), ("/portal/", "/portal/login/")]
)
def test_anonymous_is_sent_to_the_matching_sign_in(client, path, login):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{login}?next={path}"


def test_bad_password_gets_a_clear_error_and_no_session(client, bob):
    response = sign_in(client, "agent-login", "bob", "wrong")
    assert response.status_code == 200
    assert "Benutzername" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_login(client, bob, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "agent-login", "bob", "wrong")
    locked = sign_in(client, "agent-login", "bob")  # even the right password now
    assert locked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_start_page_offers_both_sign_ins_and_sends_users_home(client, bob):
    page = client.get("/").content.decode()
    assert "/portal/login/" in page and "/agent/login/" in page
    client.force_login(bob)
    assert client.get("/")["Location"] == "/agent/"


def test_logout_ends_the_session(client, bob):
    client.force_login(bob)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/agent/").status_code == 302


def test_language_switch_changes_the_page_language(client, bob):
    client.force_login(bob)
    assert "Arbeitsplatz" in client.get("/agent/").content.decode()
    client.post(reverse("set-language"), {"language": "en", "next": "/agent/"})
    english = client.get("/agent/").content.decode()
    assert "<h1>Workspace</h1>" in english
    client.post(reverse("set-language"), {"language": "pl", "next": "/agent/"})
    assert "Stanowisko pracy" in client.get("/agent/").content.decode()


def test_header_shows_who_is_signed_in_and_the_role_navigation(client, tina):
    client.force_login(tina)
    page = client.get("/agent/").content.decode()
    assert "Tina Lehmann" in page
    assert "Abmelden" in page
    assert 'href="/admin/"' in page  # team leads configure queues in the admin
    assert 'lang="en"' in page and 'lang="pl"' in page


def test_agent_home_has_a_fixed_number_of_queries(client, bob, django_assert_max_num_queries):
    client.force_login(bob)
    # one more than before SLA: the notices
    with django_assert_max_num_queries(5):
        assert client.get("/agent/").status_code == 200


def test_pages_send_a_content_security_policy(client):
    policy = client.get("/agent/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_htmx_is_served_locally_never_from_a_cdn(client):
    page = client.get("/").content.decode()
    assert "/static/django_htmx/htmx" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
