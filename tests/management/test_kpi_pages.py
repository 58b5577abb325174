"""The KPI page and its CSV export: who may see them, the figures of a known week end to
end (services → roll-up → page/CSV), bad filters, charts, and a fixed number of queries."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation import kpi_views
from escalation.models import KpiDay, KpiRollup
from escalation.selectors import kpis
from tests.management import kpi_scenario as week
from tests.tickets import conftest as tickets_fixtures
from tickets.choices import Channel
from tickets.models import Department

pytestmark = pytest.mark.django_db

# The organisation and Erika's record from the tickets tests.
bob_agent = tickets_fixtures.bob_agent
carol_agent = tickets_fixtures.carol_agent
tina_agent = tickets_fixtures.tina_agent
trent = tickets_fixtures.trent
team = tickets_fixtures.team
erika = tickets_fixtures.erika

PAGE = "/management/kpis/"
CSV = "/management/kpis/export.csv"
WEEK = {"start": "2026-03-09", "end": "2026-03-10"}


@pytest.fixture
def known_week(erika, alice, bob, team):
    return week.build(customer=erika, customer_user=alice, agent=bob)


@pytest.fixture
def now():
    with time_machine.travel(week.NOW, tick=False):
        yield week.NOW


def signed_in(client, user, language: str = "en"):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def text(response) -> str:
    return response.content.decode()


def row(page: str, testid: str) -> str:
    match = re.search(rf'<tr data-testid="{re.escape(testid)}">(.*?)</tr>', page, re.S)
    assert match, f"no row {testid}"
    return match.group(1)


def figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}" data-value="([^"]*)"', html)
    assert match, f"no figure {key}"
    return match.group(1)


def tile(page: str, key: str) -> str:
    match = re.search(rf'data-testid="tile-{key}" data-value="([^"]*)"', page)
    assert match, f"no tile {key}"
    return match.group(1)


# --- Who may see it -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE, CSV])
def test_anonymous_visitors_are_sent_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/agent/login/")


@pytest.mark.parametrize("url", [PAGE, CSV])
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_customers_and_agents_are_refused(client, url, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [PAGE, CSV])
@pytest.mark.parametrize("persona", ["tina", "max_"])
def test_team_leads_and_management_see_the_kpis(client, url, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 200


def test_the_page_takes_no_post(client, max_):
    client.force_login(max_)
    assert client.post(PAGE, WEEK).status_code == 405


# --- The figures of a known week ------------------------------------------------------------


def test_the_page_shows_the_figures_of_the_known_week(client, max_, known_week, now):
    page = text(signed_in(client, max_).get(PAGE, WEEK))
    assert 'data-start="2026-03-09"' in page and 'data-end="2026-03-10"' in page
    assert tile(page, "received") == "7"
    assert tile(page, "handled") == "6"
    assert tile(page, "first_contact_solved") == "3"
    assert tile(page, "average_first_response_minutes") == "260.0"
    assert tile(page, "sla_breach_rate") == "16.7"
    assert tile(page, "calls") == "4"
    # Business time for people: the average and median first response, the wait.
    assert "4 h 20 min" in page and "median 1 h 00 min" in page
    assert "50.0 %" in page and "avg. wait 1 min 00 s" in page

    for channel, expected in week.BY_CHANNEL.items():
        cells = row(page, f"kpi-channel-{channel}")
        for key, value in expected.items():
            assert figure(cells, key) == str(value), (channel, key)
    email = row(page, "kpi-channel-email")
    assert figure(email, "median_first_response_minutes") == "120.0"  # 30, 120, 1080
    assert figure(email, "average_first_response_minutes") == "410.0"
    assert figure(email, "sla_breach_rate") == "33.3"
    assert figure(row(page, "kpi-channel-phone"), "average_wait_seconds") == "60.0"
    assert 'data-testid="kpi-channel-chat"' not in page  # no chat in that week

    for slug, expected in week.BY_DEPARTMENT.items():
        cells = row(page, f"kpi-department-{slug}")
        for key, value in expected.items():
            assert figure(cells, key) == str(value), (slug, key)
    # Billing's first answer counts office hours (Mon 17–18, Tue 8–9), not the hotline's.
    assert figure(row(page, "kpi-department-billing"), "median_first_response_minutes") == "120.0"
    total = row(page, "kpi-department-total")
    assert figure(total, "received") == "7" and figure(total, "first_contact_rate") == "50.0"

    backlog = row(page, "backlog-customer-service")
    assert re.findall(r'data-bucket="(\w+)">(?:<strong>)?(\d+)', backlog) == [
        ("0", "1"),
        ("1", "0"),
        ("2", "0"),
        ("3", "0"),
        ("4", "0"),
        ("total", "1"),
    ]
    assert 'data-testid="kpi-days-missing"' not in page


def test_the_charts_have_a_bar_per_day_with_a_tooltip(client, max_, known_week, now):
    page = text(signed_in(client, max_).get(PAGE, WEEK))
    for key in ("received", "handled", "first_contact_rate", "average_first_response_minutes"):
        assert f'data-testid="chart-{key}" data-bars="2"' in page
    for key in ("sla_breach_rate", "calls", "average_wait_seconds"):
        assert f'data-testid="chart-{key}" data-bars="2"' in page
    assert "<title>03/09/2026: 5</title>" in page  # received on Monday
    assert "<title>03/10/2026: 2</title>" in page
    assert "<title>03/09/2026: 1 min 00 s</title>" in page  # the average wait on Monday
    # No calls on Tuesday: no bar rather than a wait of zero.
    assert page.count("<title>03/10/2026: ") == len(kpi_views.CHARTS) - 1
    # The CSP allows no inline styles or scripts: SVG attributes only.
    assert "style=" not in page
    assert "<script>" not in page


def test_long_periods_are_charted_per_week(client, max_, known_week, now):
    start, end = date(2025, 3, 12), date(2026, 3, 11)
    page = text(signed_in(client, max_).get(PAGE, {"start": start, "end": end}))
    mondays = {day - timedelta(days=day.weekday()) for day in week.days_between(start, end)}
    assert f'data-testid="chart-received" data-bars="{len(mondays)}"' in page
    assert "<title>03/09/2026–03/11/2026: 7</title>" in page  # the last, cut-off week
    assert tile(page, "received") == "7"


def test_filters_narrow_the_report(client, max_, known_week, now):
    as_max = signed_in(client, max_)
    email = text(as_max.get(PAGE, {**WEEK, "channel": "email"}))
    assert tile(email, "received") == "4" and tile(email, "calls") == "0"
    billing = text(as_max.get(PAGE, {**WEEK, "department": "billing"}))
    assert tile(billing, "received") == "1" and tile(billing, "handled") == "2"
    assert 'data-testid="kpi-department-customer-service"' not in billing
    assert 'data-testid="backlog-customer-service"' not in billing  # backlog filtered too


def test_days_not_rolled_up_yet_are_announced(client, max_, erika, alice, bob, team, now):
    week.build(customer=erika, customer_user=alice, agent=bob, roll_up=(week.MONDAY,))
    page = text(signed_in(client, max_).get(PAGE, WEEK))
    assert 'data-testid="kpi-days-missing" data-days="1"' in page
    assert "1 day is not rolled up yet" in page
    assert tile(page, "received") == "5"  # Monday only, until the roll-up catches up


def test_without_filters_the_last_30_days_are_shown(client, max_, now):
    page = text(signed_in(client, max_).get(PAGE))
    assert 'data-start="2026-02-10" data-end="2026-03-11"' in page
    assert "No tickets or calls in this period." in page
    quick = re.search(r'href="([^"]*)" data-testid="quick-last-7-days"', page).group(1)
    assert quick == "?start=2026-03-05&amp;end=2026-03-11"
    last_month = re.search(r'href="([^"]*)" data-testid="quick-last-month"', page).group(1)
    assert last_month == "?start=2026-02-01&amp;end=2026-02-28"


def test_quick_periods_keep_the_channel_and_department(client, max_, now):
    page = text(signed_in(client, max_).get(PAGE, {"channel": "phone", "department": "tech"}))
    quick = re.search(r'href="([^"]*)" data-testid="quick-this-year"', page).group(1)
    assert quick == "?start=2026-01-01&amp;end=2026-03-11&amp;channel=phone&amp;department=tech"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-03-10", "end": "2026-03-09"}, "end", "before its start"),
        ({"start": "2024-01-01", "end": "2026-03-11"}, "end", "at most 731 days"),
        ({"start": "yesterday"}, "start", "Enter a valid date."),
        ({"end": "2026-02-30"}, "end", "Enter a valid date."),
        ({"channel": "fax"}, "channel", "Select a valid choice."),
        ({"department": "nowhere"}, "department", "Select a valid choice."),
    ],
)
def test_bad_filters_show_the_error_and_no_report(client, max_, now, query, field, message):
    response = signed_in(client, max_).get(PAGE, query)
    page = text(response)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in page and message in page
    assert 'data-testid="kpi-invalid"' in page
    assert "tile-received" not in page and "kpi-csv-link" not in page


@pytest.mark.parametrize(
    "query",
    [{"start": "2026-03-10", "end": "2026-03-09"}, {"channel": "fax"}, {"start": "gestern"}],
)
def test_bad_filters_give_no_csv(client, max_, now, query):
    response = signed_in(client, max_).get(CSV, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


# --- CSV ----------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_csv_has_a_line_per_department_and_channel(client, max_, known_week, now):
    response = signed_in(client, max_).get(CSV, WEEK)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="kpis_2026-03-09_2026-03-10.csv"'
    )
    header, *lines = csv_rows(response)
    assert header[:5] == ["From", "To", "Department", "Department code", "Channel"]
    assert len(header) == 5 + len(kpi_views.COLUMNS)
    assert "Avg. first response (business minutes)" in header
    by_pair = {(line[3], line[4]): dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_pair) == {
        ("customer-service", "E-mail"),
        ("customer-service", "Portal"),
        ("billing", "E-mail"),
        ("billing", "Portal"),
        ("tech", "Phone"),
    }
    service_mail = by_pair["customer-service", "E-mail"]
    assert service_mail["From"] == "2026-03-09" and service_mail["To"] == "2026-03-10"
    assert service_mail["Received"] == "3" and service_mail["Handled"] == "2"
    assert service_mail["SLA breaches"] == "1" and service_mail["SLA breach rate (%)"] == "50.0"
    assert service_mail["Median first response (business minutes)"] == "555.0"  # 30 and 1080
    tech = by_pair["tech", "Phone"]
    assert tech["Calls"] == "4" and tech["Avg. wait on the phone (seconds)"] == "60.0"
    billing_portal = by_pair["billing", "Portal"]
    assert billing_portal["Received"] == "0" and billing_portal["Handled"] == "1"
    assert billing_portal["Avg. first response (business minutes)"] == ""  # none answered


def test_the_csv_uses_the_decimal_comma_in_german(client, max_, known_week, now):
    response = signed_in(client, max_, language="de").get(CSV, {**WEEK, "channel": "phone"})
    _header, *lines = csv_rows(response)
    assert len(lines) == 1 and "60,0" in lines[0]
    assert response["Content-Disposition"].endswith(
        'filename="kpis_2026-03-09_2026-03-10_phone.csv"'
    )


def test_csv_cells_cannot_run_as_formulas(client, max_, known_week, now):
    Department.objects.filter(slug="tech").update(name='=HYPERLINK("http://evil.example")')
    _header, *lines = csv_rows(signed_in(client, max_).get(CSV, WEEK))
    names = {line[2] for line in lines}
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_the_csv_link_keeps_the_filters(client, max_, now):
    page = text(signed_in(client, max_).get(PAGE, {**WEEK, "department": "billing"}))
    assert (
        'href="/management/kpis/export.csv?start=2026-03-09&amp;end=2026-03-10&amp;'
        'department=billing"' in page
    )


# --- Cost ---------------------------------------------------------------------------------


@pytest.fixture
def a_year_rolled_up(db):
    """366 finished days with a row per channel and department, as the nightly roll-up
    leaves them (the figures themselves do not matter here)."""
    departments = list(Department.objects.filter(slug__in=["customer-service", "tech"]))
    days = list(week.days_between(week.WEDNESDAY - timedelta(days=366), week.TUESDAY))
    KpiRollup.objects.bulk_create(KpiRollup(day=day, computed_at=week.NOW) for day in days)
    KpiDay.objects.bulk_create(
        KpiDay(
            day=day,
            channel=channel,
            department=department,
            received=3,
            handled=2,
            first_contact_solved=1,
            responded=2,
            response_minutes_sum=50,
            response_minutes={"20": 1, "30": 1},
            calls=5 if channel == Channel.PHONE else 0,
            calls_answered=4 if channel == Channel.PHONE else 0,
            wait_seconds_sum=200 if channel == Channel.PHONE else 0,
        )
        for day in days
        for channel in (Channel.EMAIL, Channel.PHONE, Channel.PORTAL)
        for department in departments
    )
    return days


def test_a_year_costs_the_same_queries_as_a_week(
    client, max_, a_year_rolled_up, now, django_assert_num_queries
):
    as_max = signed_in(client, max_)
    as_max.get(PAGE)  # warm the session and the content types
    seven = {"start": "2026-03-05", "end": "2026-03-11"}
    with CaptureQueriesContext(connection) as queries:
        page = text(as_max.get(PAGE, seven))
    assert tile(page, "received") == str(6 * 3 * 6)  # six finished days, six rows a day
    assert len(queries) <= 20
    year = {"start": "2025-03-12", "end": "2026-03-11"}
    with django_assert_num_queries(len(queries)):
        page = text(as_max.get(PAGE, year))
    assert tile(page, "received") == str(364 * 6 * 3)  # today has no rows
    with django_assert_num_queries(len(queries) + 1):  # the export's audit entry
        assert as_max.get(CSV, year).status_code == 200


def test_a_year_of_kpis_is_read_in_a_fixed_number_of_queries(
    a_year_rolled_up, now, django_assert_num_queries
):
    # One for the roll-up rows; today live: received, resolved, first responses with the
    # default policy, the policies and three for the calendars, calls; the departments,
    # the backlog, and the first ticket and call for the days not rolled up.
    with django_assert_num_queries(14):
        report = kpis.kpi_report(start=date(2025, 3, 12), end=week.WEDNESDAY)
    assert report.total.received == 364 * 6 * 3
