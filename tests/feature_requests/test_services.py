"""Filing, asking, the review workflow, merging and re-review, through the services."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from escalation.choices import NotificationKind
from escalation.models import Notification
from feature_requests import permissions, selectors, services, tasks
from feature_requests.choices import MOVES, AskKind, EventKind, Status, TargetDepartment
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent
from helpdesk.errors import DomainError, StaleEdit


def _file(actor, title="Zweite Rufnummer für den VoIP-Anschluss", **extra) -> FeatureRequest:
    values = {"department": TargetDepartment.TECH, "kind": AskKind.WISH, "actor": actor}
    return services.feature_request_create(title=title, **{**values, **extra})


def _snapshot() -> tuple:
    return (
        list(FeatureRequest.objects.order_by("pk").values()),
        Ask.objects.count(),
        FeatureRequestEvent.objects.count(),
    )


# --- Filing ---------------------------------------------------------------------------


def test_filing_records_the_first_ask_from_the_ticket(wish, erika, ticket, bob):
    assert (wish.ask_count, wish.customer_count, wish.asks_since_decision) == (1, 1, 1)
    ask = wish.asks.get()
    assert (ask.customer, ask.ticket, ask.recorded_by, ask.is_repeat) == (erika, ticket, bob, False)
    assert ask.note == "Kundin ist 84 und hat kein E-Mail-Postfach."
    event = wish.events.get()
    assert (event.kind, event.actor, event.data["ticket"]) == (
        EventKind.CREATED,
        bob,
        ticket.reference,
    )


def test_filing_without_customer_counts_the_ask_but_no_customer(bob, team):
    request = _file(bob, kind=AskKind.DECLINED)
    assert (request.ask_count, request.customer_count) == (1, 0)
    assert request.asks.get().kind == AskKind.DECLINED


def test_title_is_folded_onto_one_line(bob, team):
    request = _file(bob, title="  Rechnung\n per   Post\r\n ")
    assert request.title == "Rechnung per Post"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   \n "}, "title"),
        ({"title": "Post"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Rechnung per Post\u202e"}, "title"),
        ({"title": "Rechnung\x00per Post"}, "title"),
        ({"description": "x" * 10_001}, "description"),
        ({"department": "marketing"}, "department"),
        ({"kind": "vote"}, "kind"),
        ({"note": "x" * 501}, "note"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(bob, team, changes, field):
    before = _snapshot()
    with pytest.raises(DomainError) as refused:
        _file(bob, **changes)
    assert refused.value.field == field
    assert _snapshot() == before


def test_a_ticket_of_another_customer_is_refused(bob, erika, malte_ticket):
    with pytest.raises(DomainError) as refused:
        _file(bob, customer=erika, ticket=malte_ticket)
    assert refused.value.field == "ticket"
    assert not FeatureRequest.objects.exists()


def test_script_in_the_title_is_stored_as_typed(bob, team):
    request = _file(bob, title="<script>alert(1)</script> im Portal")
    assert request.title == "<script>alert(1)</script> im Portal"


# --- Asking -----------------------------------------------------------------------------


def test_each_ask_counts_and_a_returning_customer_is_a_repeat(wish, erika, malte, carol):
    services.ask_record(request=wish, kind=AskKind.WISH, customer=malte, actor=carol)
    repeat = services.ask_record(request=wish, kind=AskKind.DECLINED, customer=erika, actor=carol)
    anonymous = services.ask_record(request=wish, kind=AskKind.WISH, actor=carol)
    wish.refresh_from_db()
    assert (wish.ask_count, wish.customer_count, wish.asks_since_decision) == (4, 2, 4)
    assert repeat.is_repeat and not anonymous.is_repeat
    assert wish.last_ask_at == anonymous.created_at


def test_ask_takes_the_customer_from_the_ticket(wish, malte_ticket, malte, bob):
    ask = services.ask_record(request=wish, kind=AskKind.WISH, ticket=malte_ticket, actor=bob)
    assert ask.customer == malte


def test_asks_still_count_after_a_rejection(rejected, erika, bob):
    services.ask_record(request=rejected, kind=AskKind.DECLINED, customer=erika, actor=bob)
    rejected.refresh_from_db()
    assert rejected.status == Status.REJECTED
    assert (rejected.ask_count, rejected.asks_since_decision) == (2, 1)


def test_a_bad_ask_changes_no_count(wish, bob):
    before = _snapshot()
    with pytest.raises(DomainError):
        services.ask_record(request=wish, kind="maybe", actor=bob)
    with pytest.raises(DomainError):
        services.ask_record(request=wish, kind=AskKind.WISH, note="x" * 501, actor=bob)
    assert _snapshot() == before


def test_the_database_refuses_counts_that_contradict_each_other(wish):
    with pytest.raises(IntegrityError), transaction.atomic():
        FeatureRequest.objects.filter(pk=wish.pk).update(customer_count=5)


# --- Review -----------------------------------------------------------------------------


def test_the_workflow_runs_from_new_to_done_with_who_and_when(wish, tina, bert):
    for to, actor in [
        (Status.QM_REVIEW, tina),
        (Status.DEPARTMENT_REVIEW, tina),
        (Status.ACCEPTED, bert),
        (Status.PLANNED, bert),
        (Status.DONE, bert),
    ]:
        services.feature_request_transition(request=wish, to=to, actor=actor)
    wish.refresh_from_db()
    assert (wish.status, wish.decided_by, wish.asks_since_decision) == (Status.DONE, bert, 0)
    moves = [
        (e.data["from"], e.data["to"], e.actor.username)
        for e in wish.events.filter(kind=EventKind.STATUS_CHANGED).order_by("pk")
    ]
    assert moves == [
        ("new", "qm_review", "tina"),
        ("qm_review", "department_review", "tina"),
        ("department_review", "accepted", "bert"),
        ("accepted", "planned", "bert"),
        ("planned", "done", "bert"),
    ]


@pytest.mark.parametrize("old", list(Status))
def test_only_the_allowed_moves_are_accepted(wish, tina, old):
    FeatureRequest.objects.filter(pk=wish.pk).update(
        status=old,
        reason="Grund" if old == Status.REJECTED else "",
        merged_into=wish if old == Status.MERGED else None,
    )
    wish.refresh_from_db()
    for target in Status:
        if target in MOVES[old] or target == Status.MERGED:
            continue
        with pytest.raises(DomainError):
            services.feature_request_transition(request=wish, to=target, actor=tina, reason="Grund")
    wish.refresh_from_db()
    assert wish.status == old


def test_rejecting_needs_a_reason_and_shows_it(wish, tina):
    before = _snapshot()
    for reason in ["", "  \n "]:
        with pytest.raises(DomainError) as refused:
            services.feature_request_transition(
                request=wish, to=Status.REJECTED, actor=tina, reason=reason
            )
        assert refused.value.field == "reason"
    assert _snapshot() == before
    services.feature_request_transition(
        request=wish, to=Status.REJECTED, actor=tina, reason="Papierrechnungen kosten 2,50 €."
    )
    wish.refresh_from_db()
    assert (wish.status, wish.reason) == (Status.REJECTED, "Papierrechnungen kosten 2,50 €.")


def test_reopening_keeps_the_rejection_reason_until_the_next_decision(rejected, tina, max_):
    services.feature_request_transition(request=rejected, to=Status.QM_REVIEW, actor=tina)
    rejected.refresh_from_db()
    assert rejected.reason.startswith("Das Portal folgt")  # weighed in the new review
    services.feature_request_transition(request=rejected, to=Status.DEPARTMENT_REVIEW, actor=tina)
    services.feature_request_transition(request=rejected, to=Status.ACCEPTED, actor=max_)
    rejected.refresh_from_db()
    assert (rejected.reason, rejected.decided_by) == ("", max_)
    event = rejected.events.filter(kind=EventKind.STATUS_CHANGED).order_by("pk").first()
    assert event.data["reason"].startswith("Das Portal folgt")  # the history keeps it


def test_only_decisions_restart_the_asks_since_the_decision(wish, bob, tina, bert):
    _asks(wish, bob, 2)
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    services.feature_request_transition(request=wish, to=Status.DEPARTMENT_REVIEW, actor=tina)
    wish.refresh_from_db()
    assert (wish.asks_since_decision, wish.decided_at) == (3, None)
    services.feature_request_transition(request=wish, to=Status.ACCEPTED, actor=bert)
    _asks(wish, bob, 1)
    wish.refresh_from_db()
    assert (wish.asks_since_decision, wish.decided_by) == (1, bert)


def test_passing_on_may_change_the_department(wish, tina):
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    services.feature_request_transition(
        request=wish, to=Status.DEPARTMENT_REVIEW, actor=tina, department="development"
    )
    wish.refresh_from_db()
    assert wish.department == TargetDepartment.DEVELOPMENT
    event = wish.events.order_by("-pk").first()
    assert event.data["department"] == {"from": "billing", "to": "development"}


def test_the_department_changes_only_when_passed_on(wish, tina):
    with pytest.raises(DomainError) as refused:
        services.feature_request_transition(
            request=wish, to=Status.QM_REVIEW, actor=tina, department="development"
        )
    assert refused.value.field == "department"
    wish.refresh_from_db()
    assert (wish.status, wish.department) == (Status.NEW, TargetDepartment.BILLING)


def test_a_stale_decision_is_refused(wish, tina, max_):
    seen = wish.version
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=max_)
    with pytest.raises(StaleEdit):
        services.feature_request_transition(
            request=wish, to=Status.REJECTED, actor=tina, reason="Nein", expected_version=seen
        )
    wish.refresh_from_db()
    assert wish.status == Status.QM_REVIEW


def test_editing_records_what_was_before(wish, tina):
    services.feature_request_edit(
        request=wish,
        actor=tina,
        title="Papierrechnung per Post",
        description=wish.description,
        department=TargetDepartment.BILLING,
    )
    event = wish.events.get(kind=EventKind.EDITED)
    assert event.data == {
        "fields": ["title"],
        "before": {"title": "Rechnung wieder per Post verschicken"},
    }


def test_an_edit_without_changes_writes_nothing(wish, tina):
    version = wish.version
    services.feature_request_edit(
        request=wish,
        actor=tina,
        title=wish.title,
        description=wish.description,
        department=wish.department,
    )
    wish.refresh_from_db()
    assert wish.version == version and not wish.events.filter(kind=EventKind.EDITED).exists()


# --- Merging ----------------------------------------------------------------------------


def test_merging_moves_the_asks_and_counts_on_the_survivor(wish, erika, malte, bob, tina):
    duplicate = _file(bob, title="Papierrechnung gewünscht", customer=malte)
    services.ask_record(request=duplicate, kind=AskKind.WISH, customer=erika, actor=bob)
    services.feature_request_merge(request=duplicate, into=wish, actor=tina)
    duplicate.refresh_from_db()
    wish.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into, duplicate.ask_count) == (
        Status.MERGED,
        wish,
        0,
    )
    assert (wish.ask_count, wish.customer_count) == (3, 2)
    assert set(wish.asks.exclude(moved_from=None).values_list("moved_from", flat=True)) == {
        duplicate.pk
    }
    assert wish.events.get(kind=EventKind.MERGE_RECEIVED).data["asks"] == 2
    assert duplicate.events.get(kind=EventKind.MERGED).data["into"] == wish.pk


def test_an_ask_on_a_merged_request_lands_on_the_survivor(wish, malte, bob, tina):
    duplicate = _file(bob, title="Papierrechnung gewünscht")
    services.feature_request_merge(request=duplicate, into=wish, actor=tina)
    ask = services.ask_record(request=duplicate, kind=AskKind.WISH, customer=malte, actor=bob)
    assert ask.request == wish
    wish.refresh_from_db()
    assert wish.ask_count == 3


def test_asks_on_an_earlier_duplicate_follow_the_merge_chain(wish, bob, tina):
    first = _file(bob, title="Papierrechnung gewünscht")
    second = _file(bob, title="Rechnung auf Papier")
    services.feature_request_merge(request=first, into=second, actor=tina)
    services.feature_request_merge(request=second, into=wish, actor=tina)
    ask = services.ask_record(request=first, kind=AskKind.WISH, actor=bob)
    assert ask.request == wish
    wish.refresh_from_db()
    assert wish.ask_count == 4


def test_a_customer_who_asked_both_is_a_repeat_after_the_merge(wish, erika, bob, tina):
    duplicate = _file(bob, title="Papierrechnung gewünscht", customer=erika)
    services.feature_request_merge(request=duplicate, into=wish, actor=tina)
    flags = list(wish.asks.order_by("created_at", "pk").values_list("is_repeat", flat=True))
    assert flags == [False, True]
    wish.refresh_from_db()
    assert (wish.ask_count, wish.customer_count) == (2, 1)


def test_a_merge_that_brings_enough_asks_reopens_a_rejection(
    rejected, bob, tina, settings, django_capture_on_commit_callbacks
):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 2
    duplicate = _file(bob, title="Dunkles Design bitte")
    _asks(duplicate, bob, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.feature_request_merge(request=duplicate, into=rejected, actor=tina)
    rejected.refresh_from_db()
    assert rejected.status == Status.QM_REVIEW


@pytest.mark.parametrize("case", ["itself", "into_merged", "done"])
def test_bad_merges_are_refused(wish, bob, tina, bert, case):
    other = _file(bob, title="Papierrechnung gewünscht")
    request, into = wish, other
    if case == "itself":
        into = wish
    elif case == "into_merged":
        third = _file(bob, title="Rechnung auf Papier")
        services.feature_request_merge(request=other, into=third, actor=tina)
    else:
        for to in (Status.QM_REVIEW, Status.DEPARTMENT_REVIEW, Status.ACCEPTED):
            services.feature_request_transition(request=wish, to=to, actor=tina)
        for to in (Status.PLANNED, Status.DONE):
            services.feature_request_transition(request=wish, to=to, actor=bert)
    before = _snapshot()
    with pytest.raises(DomainError):
        services.feature_request_merge(request=request, into=into, actor=tina)
    assert _snapshot() == before


# --- Re-review --------------------------------------------------------------------------


def _asks(request, actor, n, customer=None):
    for _ in range(n):
        services.ask_record(request=request, kind=AskKind.DECLINED, customer=customer, actor=actor)


def test_enough_new_asks_reopen_a_rejection_and_tell_quality_management(
    rejected, bob, tina, max_, bert, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 3
    with django_capture_on_commit_callbacks(execute=True):
        _asks(rejected, bob, 2)
    rejected.refresh_from_db()
    assert rejected.status == Status.REJECTED
    with django_capture_on_commit_callbacks(execute=True):
        _asks(rejected, bob, 1)
    rejected.refresh_from_db()
    assert rejected.status == Status.QM_REVIEW
    assert rejected.reason.startswith("Das Portal folgt")  # reviewed against the new asks
    event = rejected.events.get(kind=EventKind.REVIEW_REOPENED)
    assert (event.actor, event.data["asks"], event.data["threshold"]) == (None, 3, 3)
    notified = Notification.objects.filter(
        feature_request=rejected, kind=NotificationKind.FEATURE_REQUEST_REREVIEW
    )
    assert sorted(n.recipient.username for n in notified) == ["max", "tina"]
    assert sorted(m.to[0] for m in mailoutbox) == ["max@example.com", "tina@example.com"]
    assert f"/agent/feature-requests/{rejected.pk}/" in mailoutbox[0].body


def test_the_rereview_task_runs_twice_harmlessly(rejected, bob, tina, settings):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 2
    FeatureRequest.objects.filter(pk=rejected.pk).update(asks_since_decision=0)
    _asks(rejected, bob, 2)  # on-commit callbacks never run inside the test transaction
    assert tasks.feature_request_rereview_task(rejected.pk) is True
    assert tasks.feature_request_rereview_task(rejected.pk) is False
    assert rejected.events.filter(kind=EventKind.REVIEW_REOPENED).count() == 1
    assert Notification.objects.filter(feature_request=rejected).count() == 1


def test_the_sweep_catches_what_a_lost_task_left(rejected, bob, tina, settings):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 2
    _asks(rejected, bob, 2)  # on-commit tasks never run inside the test transaction
    assert services.feature_requests_rereview_due() == 1
    assert services.feature_requests_rereview_due() == 0
    rejected.refresh_from_db()
    assert rejected.status == Status.QM_REVIEW


def test_asks_before_the_rejection_do_not_count_towards_the_rereview(wish, bob, tina, settings):
    settings.FEATURE_REQUEST_REREVIEW_ASKS = 3
    _asks(wish, bob, 5)
    services.feature_request_transition(
        request=wish, to=Status.REJECTED, actor=tina, reason="Zu teuer."
    )
    _asks(wish, bob, 2)
    assert services.feature_requests_rereview_due() == 0


def test_a_missing_request_is_no_error_for_the_task(db):
    assert tasks.feature_request_rereview_task(987654) is False


# --- Who decides ------------------------------------------------------------------------


def test_quality_management_is_customer_service_leads_and_management(
    tina, max_, bert, bob, carol, alice, reporting, team
):
    assert [
        permissions.is_quality_management(u) for u in (tina, max_, bert, bob, carol, alice)
    ] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [u.username for u in selectors.quality_managers()] == ["max", "tina"]


def test_department_leads_decide_only_their_departments_review(
    billing_review, bert, tina, max_, bob
):
    assert permissions.can_decide(bert, billing_review)
    assert permissions.can_decide(max_, billing_review)
    assert not permissions.can_decide(tina, billing_review)  # quality management, not billing
    assert not permissions.can_decide(bob, billing_review)
    FeatureRequest.objects.filter(pk=billing_review.pk).update(department="tech")
    billing_review.refresh_from_db()
    assert not permissions.can_decide(bert, billing_review)
    assert permissions.can_decide(tina, billing_review)  # tina leads tech too


@pytest.mark.parametrize("department", ["development", "website"])
def test_quality_management_records_the_decisions_of_outside_departments(
    billing_review, department, tina, bert
):
    FeatureRequest.objects.filter(pk=billing_review.pk).update(department=department)
    billing_review.refresh_from_db()
    assert permissions.can_decide(tina, billing_review)
    assert not permissions.can_decide(bert, billing_review)


def test_department_leads_do_not_decide_quality_managements_steps(wish, bert):
    assert wish.status == Status.NEW and wish.department == TargetDepartment.BILLING
    assert not permissions.can_decide(bert, wish)
    assert not permissions.can_merge(bert)


def test_customers_see_no_requests(wish, alice):
    assert not permissions.requests_visible_to(alice).exists()


# --- Reading ----------------------------------------------------------------------------


def test_asks_per_week_fills_empty_weeks(wish, bob):
    now = timezone.now()
    services.ask_record(request=wish, kind=AskKind.WISH, actor=bob, now=now - timedelta(weeks=3))
    weeks = selectors.asks_per_week(request=wish, now=now, weeks=6)
    assert len(weeks) == 6
    assert [week["asks"] for week in weeks] == [0, 0, 1, 0, 0, 1]


def test_similar_requests_find_stems_and_typos_but_not_merged(wish, rejected, bob, tina):
    duplicate = _file(bob, title="Rechnungen per Brief zusenden")
    services.feature_request_merge(request=duplicate, into=wish, actor=tina)
    found = selectors.similar_requests(user=bob, text="Rechnung per Post")
    assert found[0] == wish and duplicate not in found
    assert rejected in selectors.similar_requests(user=bob, text="Kundenportal Design dunkel")


def test_similar_requests_need_words(wish, bob):
    assert selectors.similar_requests(user=bob, text=" ,.! ") == []


def test_the_request_page_reads_request_and_people_in_one_query(
    wish, bob, django_assert_num_queries
):
    with django_assert_num_queries(1):
        detail = selectors.feature_request_detail(user=bob, request_id=wish.pk)
        names = (detail.created_by.username, detail.decided_by, detail.merged_into)
    assert names == ("bob", None, None)
