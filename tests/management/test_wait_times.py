"""The public expected-wait-times page: no login, figures from the known week, the phone's
last hour when it has enough calls, the hotline's hours, and a cache that spares the
database."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from escalation import wait_views
from escalation.selectors import waits
from tests.management import kpi_scenario as week
from tests.tickets import conftest as tickets_fixtures

pytestmark = pytest.mark.django_db

# The organisation and Erika's record from the tickets tests.
bob_agent = tickets_fixtures.bob_agent
carol_agent = tickets_fixtures.carol_agent
tina_agent = tickets_fixtures.tina_agent
trent = tickets_fixtures.trent
team = tickets_fixtures.team
erika = tickets_fixtures.erika

URL = "/wait-times/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The page's cache lives in memory per test, not in the shared file cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "wait-times",
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def known_week(erika, alice, bob, team):
    return week.build(customer=erika, customer_user=alice, agent=bob)


def text(response) -> str:
    return response.content.decode()


def value(page: str, channel: str) -> str:
    marker = f'data-testid="wait-{channel}" data-value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_everyone_sees_the_page_without_login(english):
    assert reverse("wait_times:wait-times") == URL
    response = english.get(URL)
    assert response.status_code == 200
    assert "Expected wait times" in text(response)


def test_the_expected_answer_times_of_the_known_week(english, known_week, erika):
    with time_machine.travel(week.NOW, tick=False):
        page = text(english.get(URL))
    assert value(page, "phone") == "60"  # Monday's calls: 30, 60 and 90 seconds
    assert value(page, "email") == "120"  # the median of 30, 120 and 1080 minutes
    assert value(page, "portal") == "60"
    assert value(page, "chat") == ""
    assert page.count('data-testid="wait-none"') == 1  # chat: no figures yet
    assert "about 1 minute" in page and "about 2 h 00 min" in page
    assert "on the last 2 days we have figures for" in page
    assert 'data-testid="hotline" data-open="true"' in page
    assert "open now, until 11 p.m." in page
    # Figures only: nothing about the customers or tickets behind them.
    assert erika.last_name not in page and erika.number not in page
    assert "Anliegen" not in page


def test_the_phone_figure_is_the_last_hour_when_it_had_enough_calls(english, known_week):
    for number in range(waits.PHONE_RECENT_MIN_CALLS):
        wait = 100 + 10 * number  # 100 … 140 seconds: on average 120
        week._call(100 + number, week.NOW - timedelta(minutes=50 - number), wait)
    with time_machine.travel(week.NOW, tick=False):
        page = text(english.get(URL))
    assert value(page, "phone") == "120"
    assert "calls answered in the last 60 minutes" in page


def test_too_few_calls_in_the_last_hour_fall_back_to_the_recent_days(english, known_week):
    for number in range(waits.PHONE_RECENT_MIN_CALLS - 1):
        week._call(100 + number, week.NOW - timedelta(minutes=30), 600)
    week._call(200, week.NOW - timedelta(minutes=90), 600)  # outside the hour
    with time_machine.travel(week.NOW, tick=False):
        page = text(english.get(URL))
    assert value(page, "phone") == "60"


def test_without_any_data_the_page_says_there_are_no_figures_yet(english):
    page = text(english.get(URL))
    assert page.count('data-testid="wait-none"') == 4
    assert "no figures yet" in page


def test_the_figures_are_cached_for_every_language(client, known_week, django_assert_num_queries):
    with time_machine.travel(week.NOW, tick=False):
        client.get(URL, HTTP_ACCEPT_LANGUAGE="de")
        week._call(300, week.NOW - timedelta(minutes=1), 5)
        with django_assert_num_queries(0):
            english = text(client.get(URL, HTTP_ACCEPT_LANGUAGE="en"))
        with django_assert_num_queries(0):
            polish = text(client.get(URL, HTTP_ACCEPT_LANGUAGE="pl"))
    assert value(english, "phone") == value(polish, "phone") == "60"
    assert "Expected wait times" in english
    cache.clear()  # as WAIT_TIMES_CACHE_SECONDS later
    with time_machine.travel(week.NOW, tick=False):
        assert value(text(client.get(URL)), "email") == "120"


def test_computing_the_figures_costs_the_same_queries_with_or_without_data(
    english, erika, alice, bob, team, django_assert_num_queries
):
    # Calls of the last hour, the rolled-up days, their rows, and the hotline calendar
    # (its id, the calendar, its hours and closed days).
    with time_machine.travel(week.NOW, tick=False), django_assert_num_queries(7):
        english.get(URL)
    week.build(customer=erika, customer_user=alice, agent=bob)
    cache.clear()
    with time_machine.travel(week.NOW, tick=False), django_assert_num_queries(7):
        page = text(english.get(URL))
    assert value(page, "email") == "120"


def test_the_hotline_state_is_worked_out_per_request(
    english, settings, known_week, django_assert_num_queries
):
    settings.WAIT_TIMES_CACHE_SECONDS = 24 * 3600
    with time_machine.travel(week.NOW, tick=False):
        english.get(URL)
    late = week.NOW.replace(hour=23, minute=30)
    with time_machine.travel(late, tick=False), django_assert_num_queries(0):
        page = text(english.get(URL))
    assert 'data-open="false"' in page
    assert "it opens tomorrow at 6 a.m." in page


def test_the_hotline_before_it_opens(english, known_week):
    with time_machine.travel(week.NOW.replace(hour=5), tick=False):
        page = text(english.get(URL))
    assert 'data-open="false"' in page and "it opens today at 6 a.m." in page


def test_the_page_has_no_inline_styles_or_scripts(english):
    page = text(english.get(URL))
    assert "style=" not in page and "<script>" not in page


def test_the_status_and_landing_pages_link_the_wait_times(client):
    assert f'href="{URL}"' in text(client.get(reverse("status:status-page")))
    assert f'href="{URL}"' in text(client.get(reverse("home")))


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (0, "about 5 min"),
        (12, "about 15 min"),
        (60, "about 1 h 00 min"),
        (61, "about 1 h 15 min"),
        (479, "about 8 h 00 min"),
        (480, "about 8 hours"),
        (1490, "about 25 hours"),
    ],
)
def test_written_answer_times_are_rounded_up(minutes, label):
    with translation.override("en"):
        assert wait_views.written_label(minutes) == label


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0, "under a minute"),
        (59, "under a minute"),
        (60, "about 1 minute"),
        (61, "about 2 minutes"),
    ],
)
def test_phone_waits_are_rounded_up_to_minutes(seconds, label):
    with translation.override("en"):
        assert wait_views.phone_label(seconds) == label
