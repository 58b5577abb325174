"""Fifty agents record asks on one request at the same moment, through the API, each in
its own thread and database connection. SQLite serialises every write, so only
PostgreSQL can show that no ask, customer or repeat is lost or counted twice."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from customers import services as customer_services
from feature_requests.models import Ask
from tests.conftest import skip_or_fail
from tests.feature_requests.conftest import JSON, LIST_URL, token_for

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50
CUSTOMERS = 25  # each asks twice: once new, once a repeat


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("the concurrency test needs PostgreSQL (DATABASE_URL)")


@pytest.fixture
def callers(db) -> list:
    return [
        customer_services.customer_create(
            number=f"K2{n:06d}",
            first_name="Kunde",
            last_name=f"Nummer {n}",
            street="Hauptstraße 1",
            postal_code="50667",
            city="Köln",
        )
        for n in range(CUSTOMERS)
    ]


def _race(calls: list) -> list:
    """Send every call at the same moment, each from its own client and connection."""
    start = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, send) -> None:
        client = Client()
        try:
            start.wait(timeout=30)
            outcomes[index] = send(client)
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_fifty_asks_at_once_are_each_counted_once(wish, reporting, callers):
    url = f"{LIST_URL}{wish.pk}/asks/"
    assert (wish.ask_count, wish.customer_count) == (1, 1)  # erika, from her ticket

    def ask(number: str, headers: dict):
        def send(client):
            response = client.post(
                url, {"kind": "wish", "customer": number}, content_type=JSON, **headers
            )
            return response.status_code, response.json()

        return send

    calls = [
        ask(callers[i % CUSTOMERS].number, token_for(reporting, "feature_requests:write"))
        for i in range(THREADS)
    ]
    outcomes = _race(calls)

    answered = [outcome[0] if isinstance(outcome, tuple) else outcome for outcome in outcomes]
    assert answered == [201] * THREADS, answered
    bodies = [body for _status, body in outcomes]
    # Each answer saw its own ask counted: the counts it reports are all different.
    assert sorted(body["ask_count"] for body in bodies) == list(range(2, THREADS + 2))
    assert sum(body["is_repeat"] for body in bodies) == CUSTOMERS
    wish.refresh_from_db()
    assert wish.ask_count == 1 + THREADS
    assert wish.asks_since_decision == 1 + THREADS
    assert wish.customer_count == CUSTOMERS + 1
    asks = Ask.objects.filter(request=wish)
    assert asks.count() == wish.ask_count
    assert asks.filter(is_repeat=True).count() == CUSTOMERS
    for caller in callers:  # one first ask and one repeat each, never two of either
        assert sorted(asks.filter(customer=caller).values_list("is_repeat", flat=True)) == [
            False,
            True,
        ]
