"""Personas shared by every test (STYLE R11): alice and mallory are customers, bob is a
first-line agent, carol a billing agent, tina a team lead, max management, and
phone_system an integration user."""

import os
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.test import Client

from helpdesk import services, sessions
from helpdesk.celery import app as celery_app
from helpdesk.choices import Role

PASSWORD = "correct-horse-battery"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing browser or service skips the test; inside CI it fails it."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's real cost belongs in production, not in hundreds of test logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_organisation(request):
    """Transactional tests (live server, threads, a real worker) flush the tables after each
    test, taking the departments and support areas the migrations created with them; put
    them back for every such test, with the default calendars and SLA policies and the
    support area of requests to management."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    organisation = import_module("tickets.migrations.0002_default_organisation")
    organisation.create(django_apps, None)
    sla_defaults = import_module("escalation.migrations.0002_default_calendars_and_policies")
    sla_defaults.create(django_apps, None)
    management_area = import_module("escalation.migrations.0006_management_support_area")
    management_area.create(django_apps, None)


@pytest.fixture(autouse=True)
def _second_factor_passed(monkeypatch):
    """`client.force_login` stands for a whole sign-in, second factor included, so page
    tests need not type codes; tests of the second factor sign in through the forms."""
    force_login = Client.force_login

    def force_login_with_second_factor(self, user, backend=None):
        force_login(self, user, backend)
        session = self.session
        if session.get(sessions.TWO_FACTOR) == "pending":
            session[sessions.TWO_FACTOR] = "ok"
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)


@pytest.fixture(autouse=True)
def _eager_celery():
    """Unit tests run tasks in-process; the worker test in test_celery_worker.py opts out."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _person(username: str, role: Role, first: str, last: str, **extra) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=first,
        last_name=last,
        email=f"{username}@example.com",
        **extra,
    )
    services.user_role_grant(user=user, role=role)
    return user


@pytest.fixture
def alice(db):
    return _person("alice", Role.CUSTOMER, "Alice", "Schmidt")


@pytest.fixture
def mallory(db):
    return _person("mallory", Role.CUSTOMER, "Mallory", "Meier")


@pytest.fixture
def bob(db):
    return _person("bob", Role.AGENT, "Bob", "Bauer")


@pytest.fixture
def carol(db):
    return _person("carol", Role.AGENT, "Carol", "Krause")


@pytest.fixture
def tina(db):
    return _person("tina", Role.TEAM_LEAD, "Tina", "Lehmann", is_staff=True)


@pytest.fixture
def max_(db):
    return _person("max", Role.MANAGEMENT, "Max", "Vogel", is_staff=True)


@pytest.fixture
def phone_system(db):
    user = User.objects.create_user(username="phone-system")
    user.set_unusable_password()
    user.save()
    services.user_role_grant(user=user, role=Role.INTEGRATION)
    return user


@pytest.fixture
def phone_token(phone_system):
    _token, key = services.api_token_create(
        user=phone_system, name="Phone system", scopes=["customers:read", "customers:verify"]
    )
    return key
