"""The calls services and selectors directly: matching, ending, the admin, the demo."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from calls import selectors, services
from calls.choices import Match
from calls.models import Call
from helpdesk.errors import DomainError
from tests.calls.conftest import call_of
from tests.customers.conftest import erika_voip
from tickets.models import Agent

pytestmark = pytest.mark.django_db
voip = erika_voip


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1234567", "K1234567"),
        ("k1234567", "K1234567"),
        (" K 123 4567 ", "K1234567"),
        ("123456", None),
        ("K12345678", None),
        ("#", None),
        ("", None),
    ],
)
def test_what_a_caller_types_as_customer_number(typed, number):
    assert selectors.customer_number_clean(typed) == number


def test_a_number_registered_on_a_voip_line_finds_its_customer(erika, voip):
    found = selectors.customer_match(customer_number="", caller_normalized="0221555001")
    assert found.customer == erika and found.match == Match.PHONE_NUMBER


def test_short_digit_strings_never_match(erika):
    erika.phones.create(number="110", normalized="110")
    found = selectors.customer_match(customer_number="", caller_normalized="110")
    assert found.customer is None and found.match == Match.NONE


def test_an_inactive_agents_extension_gives_no_notice(bob, bob_agent):
    bob.is_active = False
    bob.save()
    assert selectors.agent_for_extension("201") is None
    assert selectors.agent_for_extension(" 201 ") is None


def test_an_extension_is_matched_exactly(bob_agent):
    assert selectors.agent_for_extension("201") == bob_agent
    assert selectors.agent_for_extension("20") is None
    assert selectors.agent_for_extension("") is None
    assert Agent.objects.filter(extension="").exists() is False


def test_an_empty_call_id_is_refused(erika, team):
    with pytest.raises(DomainError) as refused:
        services.call_report(external_id="  ", wait_seconds=1, actor=None)
    assert refused.value.field == "call_id"
    assert not Call.objects.exists()


def test_the_end_computes_talk_time_and_is_idempotent(erika_call):
    ended = erika_call.answered_at + timedelta(seconds=75)
    call, changed = services.call_end(call=erika_call, ended_at=ended, actor=None)
    assert changed and call.duration_seconds == 75
    again, changed = services.call_end(call=Call.objects.get(), ended_at=ended, actor=None)
    assert not changed and again.duration_seconds == 75


def test_an_end_racing_another_keeps_the_first(erika_call):
    stale = Call.objects.get(pk=erika_call.pk)
    services.call_end(call=erika_call, duration_seconds=10, actor=None)
    call, changed = services.call_end(call=stale, duration_seconds=99, actor=None)
    assert not changed and call.duration_seconds == 10


def test_an_end_a_moment_ahead_of_our_clock_is_accepted(erika_call):
    ahead = timezone.now() + timedelta(minutes=2)
    call, changed = services.call_end(call=erika_call, ended_at=ahead, actor=None)
    assert changed and call.ended_at == ahead


def test_a_call_noted_without_a_customer_match_is_flagged(erika, team):
    call = call_of(caller_number="")
    assert call.warnings == ["no_customer"]
    assert str(call).endswith("?")


def test_the_admin_shows_calls_and_changes_none(client, django_user_model, erika_call):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    assert client.get(reverse("admin:calls_call_changelist")).status_code == 200
    assert client.get(reverse("admin:calls_call_change", args=[erika_call.pk])).status_code == 200
    assert client.get(reverse("admin:calls_call_add")).status_code == 403
    delete = client.post(reverse("admin:calls_call_delete", args=[erika_call.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Call.objects.filter(pk=erika_call.pk).exists()


def test_the_demo_adds_calls_once_and_two_wait_for_bob(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Calls:" in out.getvalue()
    calls = Call.objects.count()
    waiting = Call.objects.filter(external_id__startswith="demo-now", agent__user__username="bob")
    assert waiting.count() == 2 and not waiting.exclude(notice_seen_at=None).exists()
    assert Call.objects.exclude(outcome="").count() == 5
    call_command("seed_demo", stdout=StringIO())
    assert Call.objects.count() == calls
