"""SLA clocks on tickets: chosen policy, deadlines in business time, pause, stop, recompute.

Times as in tests/escalation/conftest.py (a ticket opened Monday 16 November, 10:00).
"""

import time_machine

from customers.choices import Segment
from escalation import selectors
from escalation.choices import ClockKind, ClockState
from escalation.models import SlaPolicy
from tests.escalation.conftest import MONDAY_10, at, clocks_of, open_at
from tests.tickets.conftest import department
from tickets import services
from tickets.choices import Channel, Priority, Status


def test_a_new_ticket_gets_first_response_and_resolution_deadlines_in_business_time(opened):
    clocks = clocks_of(opened)
    assert set(clocks) == {ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION}
    first, resolution = clocks[ClockKind.FIRST_RESPONSE], clocks[ClockKind.RESOLUTION]
    assert first.policy.name == "Standard"
    assert first.due_at == at(16, 14)  # 240 business minutes
    assert first.warn_at == at(16, 13, 12)  # 80 % of them
    # 2,400 minutes = 40 opening hours: 13 on Monday, 17 on Tuesday, 10 on Wednesday.
    assert resolution.due_at == at(18, 16)
    opened.refresh_from_db()
    assert opened.sla_policy.name == "Standard"
    assert opened.sla_due_at == at(16, 14)
    assert opened.sla_warn_at == at(16, 13, 12)
    event = opened.events.get(kind="sla.started")
    assert event.data["policy"] == "Standard"


def test_a_ticket_opened_at_night_starts_counting_when_the_hotline_opens(erika, alice, team):
    ticket = open_at(at(16, 23, 30), customer=erika, actor=alice, subject="Nachts")
    assert clocks_of(ticket)[ClockKind.FIRST_RESPONSE].due_at == at(17, 10)


def test_the_most_specific_policy_wins(erika, alice, team):
    erika.segment = Segment.BUSINESS
    erika.save(update_fields=["segment"])
    ticket = open_at(
        MONDAY_10,
        customer=erika,
        actor=alice,
        area="no-internet",
        channel=Channel.PHONE,
        priority=Priority.URGENT,
    )
    # "Geschäftskunden dringend" (segment + priority) beats "Dringend" and "Geschäftskunden".
    assert ticket.sla_policy.name == "Geschäftskunden dringend"
    assert clocks_of(ticket)[ClockKind.FIRST_RESPONSE].due_at == at(16, 10, 15)


def test_a_billing_ticket_runs_on_office_hours(erika, alice, team):
    friday_17 = at(20, 17)
    ticket = open_at(friday_17, customer=erika, actor=alice, area="payment-check")
    assert ticket.sla_policy.name == "Buchhaltung"
    # 480 office minutes: one hour on Friday, seven from Monday 08:00.
    assert clocks_of(ticket)[ClockKind.FIRST_RESPONSE].due_at == at(23, 15)


def test_the_first_public_reply_meets_the_first_response_and_starts_next_update(opened, bob):
    with time_machine.travel(at(16, 12), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Wir prüfen das.")
    clocks = clocks_of(opened)
    first = clocks[ClockKind.FIRST_RESPONSE]
    assert first.stopped_at == at(16, 12) and first.met and first.fire_at is None
    update = clocks[ClockKind.NEXT_UPDATE]
    assert update.started_at == at(16, 12)
    assert update.due_at == at(16, 20)  # 480 business minutes
    with time_machine.travel(at(16, 19), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Zwischenstand.")
    update.refresh_from_db()
    # Each reply restarts it: 19:00 + 480 minutes = 4 h tonight, 4 h from 06:00.
    assert update.due_at == at(17, 10)
    opened.refresh_from_db()
    assert opened.sla_due_at == at(17, 10)  # resolution is due later


def test_a_late_first_reply_is_recorded_as_missed(opened, bob):
    with time_machine.travel(at(16, 15), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Entschuldigung.")
    first = clocks_of(opened)[ClockKind.FIRST_RESPONSE]
    assert first.met is False
    assert selectors.clock_state(first, at(16, 15)) == ClockState.MISSED
    assert opened.events.get(kind="sla.replied").data["first_response"] == "missed"


def test_waiting_for_the_customer_pauses_and_the_wait_moves_deadlines_by_business_time(
    opened, bob, alice
):
    with time_machine.travel(at(16, 12), tick=False):
        services.ticket_reply(
            ticket=opened, actor=bob, body="Bitte Kontoauszug senden.", status="waiting_customer"
        )
    paused = clocks_of(opened)
    assert all(c.paused_at == at(16, 12) for k, c in paused.items() if k != "first_response")
    assert all(c.fire_at is None for c in paused.values())
    opened.refresh_from_db()
    assert opened.sla_due_at is None  # nothing runs while the customer has the ball
    with time_machine.travel(at(17, 8), tick=False):
        services.ticket_customer_message_add(ticket=opened, actor=alice, body="Anbei.")
    resumed = clocks_of(opened)
    # Waited 11 h on Monday evening and 2 h on Tuesday morning = 780 business minutes,
    # not the 20 wall-clock hours.
    assert resumed[ClockKind.RESOLUTION].paused_minutes == 780
    assert resumed[ClockKind.RESOLUTION].due_at == at(19, 12)  # was Wednesday 16:00
    assert resumed[ClockKind.NEXT_UPDATE].due_at == at(17, 16)  # 08:00 + 480 minutes
    assert resumed[ClockKind.RESOLUTION].fire_at is not None
    assert opened.events.filter(kind__in=["sla.paused", "sla.resumed"]).count() == 2


def test_resolving_stops_the_clocks_and_reopening_resumes_resolution(opened, bob, alice):
    with time_machine.travel(at(16, 11), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Erstattet.", status="resolved")
    stopped = clocks_of(opened)
    assert all(clock.stopped_at == at(16, 11) for clock in stopped.values())
    assert stopped[ClockKind.RESOLUTION].met is True
    opened.refresh_from_db()
    assert opened.sla_due_at is None
    with time_machine.travel(at(16, 13), tick=False):
        services.ticket_customer_message_add(ticket=opened, actor=alice, body="Doch nicht.")
    again = clocks_of(opened)
    resolution = again[ClockKind.RESOLUTION]
    assert resolution.stopped_at is None and resolution.paused_minutes == 120
    assert resolution.due_at == at(18, 18)
    assert again[ClockKind.NEXT_UPDATE].started_at == at(16, 13)
    assert again[ClockKind.FIRST_RESPONSE].stopped_at == at(16, 11)  # stays met


def test_a_priority_change_recomputes_from_the_same_start(opened, bob):
    with time_machine.travel(at(16, 10, 5), tick=False):
        services.ticket_priority_change(ticket=opened, priority=Priority.URGENT, actor=bob)
    first = clocks_of(opened)[ClockKind.FIRST_RESPONSE]
    assert first.policy.name == "Dringend"
    assert first.due_at == at(16, 10, 30)  # 30 minutes from Monday 10:00, not from 10:05
    event = opened.events.get(kind="sla.recomputed")
    assert event.data["reason"] == "ticket.priority_changed"
    assert event.data["policy"] == "Dringend"


def test_a_handoff_to_billing_takes_the_billing_policy_and_calendar(opened, bob):
    with time_machine.travel(at(16, 11), tick=False):
        services.ticket_handoff(
            ticket=opened, actor=bob, department=department("billing"), note="Bitte prüfen"
        )
    first = clocks_of(opened)[ClockKind.FIRST_RESPONSE]
    assert first.policy.name == "Buchhaltung"
    assert first.due_at == at(16, 18)  # 480 office minutes from Monday 10:00


def test_a_policy_change_applies_to_open_tickets(opened, max_):
    from escalation import services as sla

    policy = SlaPolicy.objects.get(is_default=True)
    policy.first_response_minutes = 60
    policy.save()
    with time_machine.travel(at(16, 10, 30), tick=False):
        assert sla.policy_apply(policy=policy, actor=max_) == 1
    assert clocks_of(opened)[ClockKind.FIRST_RESPONSE].due_at == at(16, 11)


def test_clock_views_show_state_and_remaining_business_minutes(opened):
    clocks = selectors.ticket_clocks(ticket=opened)
    schedule = selectors.schedules_by_calendar([opened.sla_policy.calendar_id])[
        opened.sla_policy.calendar_id
    ]
    views = selectors.clock_views(clocks=clocks, schedule=schedule, now=at(16, 13, 30))
    first = views[0]
    assert first.kind == ClockKind.FIRST_RESPONSE
    assert first.state == ClockState.WARNING
    assert first.remaining_minutes == 30
    late = selectors.clock_views(clocks=clocks, schedule=schedule, now=at(16, 23, 30))[0]
    assert late.state == ClockState.BREACHED
    assert late.remaining_minutes == -540  # 14:00-23:00 open, 23:00-23:30 closed


def test_deadline_rows_colour_list_rows(opened):
    opened.refresh_from_db()
    rows = selectors.deadline_rows([opened], now=at(16, 11))
    assert rows[opened.pk]["state"] == ClockState.OK
    assert rows[opened.pk]["remaining"] == 180


def test_a_closed_ticket_never_gets_a_status_that_restarts_its_clocks(opened, bob):
    with time_machine.travel(at(16, 11), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Erledigt.", status="resolved")
        services.ticket_transition(ticket=opened, to=Status.CLOSED, actor=bob)
    assert all(clock.fire_at is None for clock in clocks_of(opened).values())


def test_a_new_policy_takes_over_the_open_tickets_it_now_fits(opened, max_):
    from escalation import services as sla

    policy = SlaPolicy.objects.get(is_default=True)
    portal = SlaPolicy.objects.create(
        name="Portal",
        calendar=policy.calendar,
        channel=Channel.PORTAL,
        first_response_minutes=120,
        next_update_minutes=480,
        resolution_minutes=2400,
    )
    with time_machine.travel(at(16, 10, 30), tick=False):
        assert sla.policy_apply(policy=portal, actor=max_) == 1
    first = clocks_of(opened)[ClockKind.FIRST_RESPONSE]
    assert (first.policy, first.due_at) == (portal, at(16, 12))


def test_a_changed_warning_threshold_moves_the_warning(opened, max_):
    from escalation import services as sla

    policy = SlaPolicy.objects.get(is_default=True)
    policy.warning_percent = 50
    policy.save()
    with time_machine.travel(at(16, 10, 30), tick=False):
        sla.policy_apply(policy=policy, actor=max_)
    assert clocks_of(opened)[ClockKind.FIRST_RESPONSE].warn_at == at(16, 12)


def test_a_reply_on_a_resolved_ticket_starts_no_next_update(opened, bob):
    with time_machine.travel(at(16, 11), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Erledigt.", status="resolved")
    with time_machine.travel(at(16, 12), tick=False):
        services.ticket_reply(ticket=opened, actor=bob, body="Noch ein Hinweis.")
    update = clocks_of(opened)[ClockKind.NEXT_UPDATE]
    assert update.stopped_at is not None and update.fire_at is None
    opened.refresh_from_db()
    assert opened.sla_due_at is None
