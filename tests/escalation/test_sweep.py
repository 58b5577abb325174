"""The SLA timer: each warning and breach fires exactly once and acts (R5 of STYLE.md).

Deadlines are those of tests/escalation/test_clocks.py: a standard ticket opened Monday
10:00 warns at 13:12 and is due at 14:00 for its first response.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import selectors
from escalation import services as sla
from escalation.models import Notification, SlaClock, SlaPolicy
from helpdesk.health import health_report
from tests.escalation.conftest import MONDAY_10, at, clocks_of, open_at
from tests.tickets.conftest import queue
from tickets import services
from tickets.choices import Channel, Priority


def fired(ticket, kind: str) -> list[str]:
    return sorted(ticket.events.filter(kind=kind).values_list("data__clock", flat=True))


def test_nothing_fires_before_the_warning(opened):
    assert sla.sla_sweep(now=at(16, 13, 11)).fired == 0
    assert not opened.events.filter(kind__in=["sla.warning", "sla.breached"]).exists()


def test_the_warning_fires_once_and_tells_the_assignee(opened, bob):
    services.ticket_take(ticket=opened, actor=bob)
    first = sla.sla_sweep(now=at(16, 13, 12))
    assert (first.warnings, first.breaches) == (1, 0)
    assert sla.sla_sweep(now=at(16, 13, 12)).fired == 0
    assert sla.sla_sweep(now=at(16, 13, 50)).fired == 0
    assert fired(opened, "sla.warning") == ["first_response"]
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind) == (bob, "sla.warning")
    opened.refresh_from_db()
    assert opened.priority == Priority.NORMAL  # a warning changes nothing on the ticket


def test_an_unassigned_warning_goes_to_the_queues_team_lead(opened, tina):
    sla.sla_sweep(now=at(16, 13, 12))
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["tina"]


def test_the_breach_fires_once_raises_priority_and_moves_first_line_up(opened, tina):
    sla.sla_sweep(now=at(16, 13, 12))
    result = sla.sla_sweep(now=at(16, 14))
    assert (result.warnings, result.breaches) == (0, 1)
    assert sla.sla_sweep(now=at(16, 14, 30)).fired == 0
    opened.refresh_from_db()
    assert opened.priority == Priority.HIGH
    assert opened.queue == queue("customer-service", 2)
    assert opened.previous_queue == queue("customer-service", 1)
    assert opened.assignee is None
    assert fired(opened, "sla.breached") == ["first_response"]
    kinds = set(opened.events.values_list("kind", flat=True))
    assert {"ticket.priority_changed", "ticket.escalated", "sla.recomputed"} <= kinds
    escalated = opened.events.get(kind="ticket.escalated")
    assert escalated.actor is None and escalated.data["note"] == "SLA verletzt"  # house language
    breach_notices = Notification.objects.filter(kind="sla.breached")
    assert list(breach_notices.values_list("recipient__username", flat=True)) == ["tina"]
    # The higher priority chose the "Hoch" policy for the clocks still running.
    opened.refresh_from_db()
    assert opened.sla_policy.name == "Hoch"
    assert clocks_of(opened)["first_response"].breached_at == at(16, 14)


def test_a_stale_edit_after_the_timer_moved_the_ticket_is_refused(opened, bob):
    seen_version = opened.version
    sla.sla_sweep(now=at(16, 14))
    from helpdesk.errors import StaleEdit

    with pytest.raises(StaleEdit):
        services.ticket_priority_change(
            ticket=opened, priority=Priority.LOW, actor=bob, expected_version=seen_version
        )


def test_a_worker_that_was_down_catches_up_on_everything(opened, erika, alice, tina):
    other = open_at(MONDAY_10, customer=erika, actor=alice, subject="Zweites Anliegen")
    result = sla.sla_sweep(now=at(20, 12))  # Friday: everything fell due meanwhile
    assert result.breaches == 4  # first response and resolution of both tickets
    for ticket in (opened, other):
        assert fired(ticket, "sla.breached") == ["first_response", "resolution"]
        assert fired(ticket, "sla.warning") == ["first_response", "resolution"]
        ticket.refresh_from_db()
        assert ticket.priority == Priority.HIGH  # one step, however many clocks breached
    # Warnings overtaken by their breach are recorded as late and not sent.
    assert not Notification.objects.filter(kind="sla.warning").exists()
    assert sla.sla_sweep(now=at(20, 12)).fired == 0


def test_small_batches_still_fire_everything_once(opened, erika, alice, team):
    for number in range(4):
        open_at(MONDAY_10, customer=erika, actor=alice, subject=f"Anliegen {number}")
    result = sla.sla_sweep(now=at(16, 13, 12), batch_size=2)
    assert result.warnings == 5 and result.batches == 3
    assert SlaClock.objects.filter(warned_at__isnull=False).count() == 5


def test_paused_and_stopped_clocks_never_fire(opened, bob):
    with time_machine.travel(at(16, 11), tick=False):
        services.ticket_reply(
            ticket=opened, actor=bob, body="Bitte melden.", status="waiting_customer"
        )
    assert sla.sla_sweep(now=at(27, 12)).fired == 0


def test_contracts_tickets_stay_in_their_only_line(erika, alice, team):
    ticket = open_at(
        MONDAY_10, customer=erika, actor=alice, area="cancellation", channel=Channel.LETTER
    )
    assert sla.sla_sweep(now=at(30, 12)).breaches == 2
    ticket.refresh_from_db()
    assert ticket.queue == queue("contracts", 1)
    assert ticket.priority == Priority.HIGH


def test_a_policy_can_turn_the_breach_actions_off(opened):
    SlaPolicy.objects.filter(is_default=True).update(
        breach_raises_priority=False, breach_moves_up=False
    )
    SlaClock.objects.filter(ticket=opened).update(policy=SlaPolicy.objects.get(is_default=True))
    sla.sla_sweep(now=at(16, 14))
    opened.refresh_from_db()
    assert (opened.priority, opened.queue) == (Priority.NORMAL, queue("customer-service", 1))
    assert fired(opened, "sla.breached") == ["first_response"]


def test_notices_are_mailed_once(opened, bob, mailoutbox, django_capture_on_commit_callbacks):
    services.ticket_take(ticket=opened, actor=bob)
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep(now=at(16, 13, 12))
    assert [mail.to for mail in mailoutbox] == [["bob@example.com"]]
    assert opened.reference in mailoutbox[0].subject
    notice = Notification.objects.get()
    assert sla.notifications_email_send(notification_ids=[notice.pk]) == 0
    assert len(mailoutbox) == 1


def test_notices_whose_task_was_lost_are_mailed_by_a_later_pass(opened, bob, mailoutbox):
    services.ticket_take(ticket=opened, actor=bob)
    sla.sla_sweep(now=at(16, 13, 12))  # on-commit task never runs here: "broker down"
    assert mailoutbox == []
    sla.sla_sweep(now=at(16, 13, 20))
    assert [mail.to for mail in mailoutbox] == [["bob@example.com"]]


def test_the_inbox_lists_unread_notices_and_marks_only_ones_own_read(opened, bob, tina):
    sla.sla_sweep(now=at(16, 13, 12))
    sla.sla_sweep(now=at(16, 14))
    assert [n.kind for n in selectors.notification_inbox(user=tina)] == [
        "sla.breached",
        "sla.warning",
    ]
    assert sla.notifications_mark_read(user=bob) == 0
    assert len(selectors.notification_inbox(user=tina)) == 2
    assert sla.notifications_mark_read(user=tina) == 2
    assert selectors.notification_inbox(user=tina) == []


def test_the_timer_lag_is_the_oldest_unfired_deadline(opened):
    assert selectors.timer_lag(now=at(16, 13))["lag_seconds"] == 0
    assert selectors.timer_lag(now=at(16, 13, 22))["lag_seconds"] == 600
    sla.sla_sweep(now=at(16, 13, 22))
    assert selectors.timer_lag(now=at(16, 13, 22))["lag_seconds"] == 0


def test_healthz_reports_a_stalled_timer(opened, settings):
    settings.SLA_TIMER_LAG_ALERT = timedelta(minutes=5)
    fresh = health_report(now=at(16, 13, 14))["sla_timer"]
    assert fresh["ok"] is True and fresh["lag_seconds"] == 120
    stalled = health_report(now=at(16, 13, 30))["sla_timer"]
    assert stalled["ok"] is False and stalled["lag_seconds"] == 1080


def test_the_sweep_task_runs_the_sweep(opened):
    from escalation.tasks import sla_sweep_task

    with time_machine.travel(at(16, 13, 15), tick=False):
        assert sla_sweep_task.delay().get() == {"warnings": 1, "breaches": 0}
        assert sla_sweep_task.delay().get() == {"warnings": 0, "breaches": 0}


def test_an_unreachable_broker_does_not_fail_the_caller(caplog):
    from helpdesk import services as helpdesk_services

    class Unreachable:
        name = "some.task"

        def delay(self, *args):
            raise ConnectionRefusedError("broker down")

    assert helpdesk_services.task_enqueue(Unreachable(), 1) is False
    assert "some.task not queued" in caplog.text


def test_the_sweep_uses_a_fixed_number_of_statements_per_batch(
    opened, erika, alice, team, django_assert_max_num_queries
):
    for number in range(20):
        open_at(MONDAY_10, customer=erika, actor=alice, subject=f"Anliegen {number}")
    now = timezone.now() + timedelta(days=30)
    with django_assert_max_num_queries(30):
        assert sla.sla_sweep(now=now).breaches == 42
