"""`manage.py seed_demo`: users of every role, safe to run again."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from helpdesk.demo import DEMO_PASSWORD
from helpdesk.models import ApiToken
from helpdesk.permissions import roles_of

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_every_role_and_prints_the_logins(settings):
    settings.DEBUG = True
    output = seed()
    for username in ("bob", "carol", "tina", "max", "alice", "mallory", "admin"):
        assert username in output
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in output
    roles = {user.username: roles_of(user) for user in User.objects.all()}
    assert roles["bob"] == {"agent"} and roles["alice"] == {"customer"}
    assert roles["tina"] == {"team_lead"} and roles["max"] == {"management"}
    assert roles["phone-system"] == {"integration"}
    assert "API token for phone-system" in output


def test_running_it_twice_changes_nothing(settings):
    settings.DEBUG = True
    seed()
    users = User.objects.count()
    second = seed()
    assert User.objects.count() == users
    assert ApiToken.objects.count() == 2  # the phone system and network monitoring
    assert "API token" not in second  # the key is shown once only


def test_it_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        seed()
    assert not User.objects.exists()
