"""`manage.py seed_demo` for feature requests: every status and department, made once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Max, Q
from django.utils import timezone

from customers.models import Customer
from feature_requests import services
from feature_requests.choices import AskKind, EventKind, Status, TargetDepartment
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(settings):
    settings.DEBUG = True

    def run() -> str:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    return run


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (FeatureRequest, Ask, FeatureRequestEvent)
    }


def test_running_it_twice_adds_nothing(seed):
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert 14 <= first["FeatureRequest"] <= 20 and first["Ask"] > 100
    assert "Feature requests: " in first_output and "reopens its review" in first_output
    assert "none added" in second_output


def test_every_status_and_department_with_readable_reasons(seed):
    seed()
    requests = FeatureRequest.objects.all()
    assert set(requests.values_list("status", flat=True)) == set(Status.values)
    assert set(requests.values_list("department", flat=True)) >= {
        TargetDepartment.DEVELOPMENT,
        TargetDepartment.WEBSITE,
        TargetDepartment.BILLING,
        TargetDepartment.TECH,
        TargetDepartment.CONTRACTS,
    }
    for rejected in requests.filter(status=Status.REJECTED):
        assert len(rejected.reason) > 80  # a sentence an agent can read out, not a keyword
    merged = requests.get(status=Status.MERGED)
    assert merged.merged_into.status != Status.MERGED
    assert Ask.objects.filter(moved_from=merged, request=merged.merged_into).exists()
    deciders = User.objects.filter(
        pk__in=requests.exclude(decided_by=None).values("decided_by")
    ).values_list("username", flat=True)
    assert set(deciders) == {"tina", "max"}


def test_counts_are_those_of_the_asks(seed):
    seed()
    for request in FeatureRequest.objects.exclude(status=Status.MERGED):
        since = Q(created_at__gt=request.decided_at) if request.decided_at else Q()
        figures = Ask.objects.filter(request=request).aggregate(
            asks=Count("pk"),
            customers=Count("customer", distinct=True),
            since=Count("pk", filter=since),
            last=Max("created_at"),
        )
        assert request.ask_count == figures["asks"]
        assert request.customer_count == figures["customers"]
        assert request.asks_since_decision == figures["since"]
        assert request.last_ask_at == figures["last"]


def test_asks_come_from_demo_customers_and_tickets_over_six_months(seed):
    seed()
    now = timezone.now()
    asks = Ask.objects.all()
    assert not asks.filter(customer=None).exists()
    assert set(asks.values_list("customer__number", flat=True)) <= set(
        Customer.objects.values_list("number", flat=True)
    )
    assert asks.exclude(ticket=None).count() >= 5
    assert asks.filter(is_repeat=True).exists()
    assert {AskKind.WISH, AskKind.DECLINED} <= set(asks.values_list("kind", flat=True))
    oldest = asks.order_by("created_at").first().created_at
    assert now - timedelta(days=183) <= oldest <= now - timedelta(days=150)
    assert asks.filter(created_at__gte=now - timedelta(days=14)).exists()
    assert not asks.filter(created_at__gt=now).exists()
    # Filed at its first ask, decided after it.
    for request in FeatureRequest.objects.exclude(decided_at=None):
        assert request.created_at < request.decided_at


def test_one_more_ask_reopens_the_rejected_request(
    seed, settings, django_capture_on_commit_callbacks
):
    output = seed()
    waiting = FeatureRequest.objects.get(
        status=Status.REJECTED,
        asks_since_decision=settings.FEATURE_REQUEST_REREVIEW_ASKS - 1,
    )
    assert f"#{waiting.pk}" in output
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_record(
            request=waiting,
            kind=AskKind.DECLINED,
            actor=User.objects.get(username="bob"),
            customer=Customer.objects.order_by("number").last(),
        )
    waiting.refresh_from_db()
    assert waiting.status == Status.QM_REVIEW
    assert waiting.events.filter(kind=EventKind.REVIEW_REOPENED).exists()
