"""The audit trail's search page: team leads and management only, every filter, bad input
refused with the field's message (400), keyset pages in a fixed number of queries."""

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import services
from helpdesk.audit_views import ip_short
from helpdesk.choices import AuditAction, Role
from helpdesk.http import browser_label
from helpdesk.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/agent/audit/"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def entry(action, *, at: datetime, ip: str = "198.51.100.1", actor=None, **fields) -> AuditEvent:
    """An entry at a known time, written as `audit_record` writes it (which stamps now)."""
    if actor is not None:
        fields.setdefault("actor_label", actor.get_username())
    return AuditEvent.objects.create(
        action=action, at=at, actor=actor, ip_address=ip, user_agent=FIREFOX, **fields
    )


@pytest.fixture
def trail(bob, tina, alice):
    """A few entries around midnight in Berlin on 11 March 2026 (UTC+1)."""
    return {
        "bob_login": entry(
            AuditAction.LOGIN, at=datetime(2026, 3, 10, 22, 30, tzinfo=UTC), actor=bob
        ),  # 23:30 on the 10th in Berlin
        "tina_login": entry(
            AuditAction.LOGIN,
            at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC),
            actor=tina,
            ip="203.0.113.9",
        ),  # 00:30 on the 11th in Berlin
        "failed": entry(
            AuditAction.LOGIN_FAILED,
            at=datetime(2026, 3, 11, 9, 0, tzinfo=UTC),
            actor_label="timo",
            object_type="user",
            object_label="timo",
        ),
        "checked": entry(
            AuditAction.PHONE_PASSWORD_CHECKED,
            at=datetime(2026, 3, 11, 10, 0, tzinfo=UTC),
            actor=bob,
            object_type="customer",
            object_id="42",
            object_label="K1000001",
            details={"result": "failure", "channel": "agent"},
        ),
        "denied": entry(
            AuditAction.PERMISSION_DENIED,
            at=datetime(2026, 3, 12, 8, 0, tzinfo=UTC),
            actor=alice,
            details={"path": "/agent/", "method": "GET"},
        ),
    }


def shown(client, **query) -> set[str]:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content.decode()[:3000]
    page = response.content.decode()
    return {
        name
        for name in ("bob_login", "tina_login", "failed", "checked", "denied")
        if f'data-testid="audit-row-{query_ids[name]}"' in page
    }


query_ids: dict[str, int] = {}


@pytest.fixture
def as_tina(client, tina, trail):
    query_ids.clear()
    query_ids.update({name: event.pk for name, event in trail.items()})
    client.force_login(tina)
    return client


ALL = {"bob_login", "tina_login", "failed", "checked", "denied"}


# --- Who may read it ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["tina", "max_"])
def test_team_leads_and_management_read_the_trail(client, persona, request, trail):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Protokoll" in page or "Audit" in page
    for event in trail.values():
        assert f'data-testid="audit-row-{event.pk}"' in page


@pytest.fixture
def dispatcher(db):
    user = User.objects.create_user("dora", password="x")
    services.user_role_grant(user=user, role=Role.DISPATCHER)
    return user


@pytest.mark.parametrize("persona", ["bob", "carol", "alice", "dispatcher", "phone_system"])
def test_everyone_else_is_refused(client, persona, request, trail):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL, {"who": "tina"})
    assert response.status_code == 403
    assert "audit-table" not in response.content.decode()


def test_anonymous_is_sent_to_the_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/agent/login/?next={URL}"


def test_the_navigation_links_the_trail_for_team_leads_only(client, tina, bob):
    client.force_login(tina)
    assert f'href="{URL}"' in client.get("/agent/").content.decode()
    client.force_login(bob)
    assert f'href="{URL}"' not in client.get("/agent/").content.decode()


# --- Filters -----------------------------------------------------------------------------


def test_every_entry_without_a_filter_newest_first(as_tina, trail):
    page = as_tina.get(URL).content.decode()
    positions = [
        page.index(f'audit-row-{trail[name].pk}"')
        for name in ("denied", "checked", "failed", "tina_login", "bob_login")
    ]
    assert positions == sorted(positions)


def test_filter_by_event_kind_and_by_group(as_tina):
    assert shown(as_tina, kind=AuditAction.LOGIN) == {"bob_login", "tina_login"}
    assert shown(as_tina, kind="group:auth") == {"bob_login", "tina_login", "failed"}
    assert shown(as_tina, kind="group:phone_password") == {"checked"}


def test_the_event_select_is_grouped(as_tina):
    page = as_tina.get(URL).content.decode()
    assert "<optgroup" in page and 'value="group:auth"' in page


def test_filter_by_who_exact_and_by_prefix(as_tina):
    assert shown(as_tina, who="tina") == {"tina_login"}
    assert shown(as_tina, who="ti") == set()
    assert shown(as_tina, who="ti*") == {"tina_login", "failed"}  # timo tried too
    assert shown(as_tina, who="bob") == {"bob_login", "checked"}


def test_filter_by_object_as_text_or_type_and_id(as_tina):
    assert shown(as_tina, object="K1000001") == {"checked"}
    assert shown(as_tina, object="k1000001") == {"checked"}
    assert shown(as_tina, object_type="customer", object="42") == {"checked"}
    assert shown(as_tina, object_type="user", object="42") == set()
    assert shown(as_tina, object="timo", object_type="user") == {"failed"}


def test_filter_by_ip_address(as_tina):
    assert shown(as_tina, ip="203.0.113.9") == {"tina_login"}


def test_dates_are_berlin_days(as_tina):
    # 22:30 UTC on the 10th is still the 10th in Berlin; 23:30 UTC is the 11th.
    assert shown(as_tina, start="2026-03-11", end="2026-03-11") == {
        "tina_login",
        "failed",
        "checked",
    }
    assert shown(as_tina, end="2026-03-10") == {"bob_login"}
    assert shown(as_tina, start="2026-03-12") == {"denied"}


def test_filters_combine(as_tina):
    assert shown(as_tina, who="bob", kind="group:phone_password", start="2026-03-11") == {"checked"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "auth.nonsense"}, "kind"),
        ({"who": "bo*b"}, "who"),
        ({"who": "tab\tname"}, "who"),
        ({"who": "*"}, "who"),
        ({"who": "x" * 200}, "who"),
        ({"ip": "300.1.2.3"}, "ip"),
        ({"start": "gestern"}, "start"),
        ({"start": "2026-03-12", "end": "2026-03-11"}, "end"),
        ({"end": "9999-12-31"}, "end"),
        ({"object_type": "customer"}, "object"),
        ({"object_type": "planet", "object": "1"}, "object_type"),
        ({"before": "yesterday,1"}, "before"),
        ({"before": "2026-03-11T10:00:00Z,abc"}, "before"),
        ({"before": "2026-03-11T10:00:00,1"}, "before"),  # no zone: ambiguous
    ],
)
def test_bad_filters_are_refused_and_nothing_is_listed(as_tina, query, field):
    response = as_tina.get(URL, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page
    assert 'data-testid="audit-invalid"' in page
    assert "audit-table" not in page


SCRIPT = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def test_a_hostile_user_name_and_filter_are_shown_as_text(client, tina):
    # A failed sign-in records whatever was typed as the user name: the trail shows it
    # literally, and a filter with the same text comes back escaped in its field.
    odd = f"{SCRIPT}\u202eevil\u202c\u200d"
    refused = client.post("/agent/login/", {"username": odd, "password": "wrong"})
    assert refused.status_code == 200 and "<script>alert(1)" not in refused.content.decode()
    client.force_login(tina)
    page = client.get(URL).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.get(URL, {"object": SCRIPT})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()
    huge = client.get(URL, {"object": "x" * 1_000_000, "who": "y" * 1_000_000})
    assert huge.status_code == 400 and "audit-table" not in huge.content.decode()


# --- Page ----------------------------------------------------------------------------------


def test_times_are_berlin_with_utc_in_the_tooltip(as_tina, trail):
    page = unescape(as_tina.get(URL, {"who": "tina"}).content.decode())
    assert "11.03.2026 00:30:00" in page
    assert 'title="2026-03-10 23:30:00 UTC"' in page
    assert 'datetime="2026-03-10T23:30:00Z"' in page


def test_address_and_browser_are_shortened_with_the_whole_in_the_tooltip(as_tina, bob):
    long_ip = "2001:db8:85a3:1234:5678:8a2e:370:7334"
    event = entry(AuditAction.LOGIN, at=datetime(2026, 3, 13, tzinfo=UTC), actor=bob, ip=long_ip)
    page = unescape(as_tina.get(URL, {"ip": long_ip}).content.decode())
    assert f'audit-row-{event.pk}"' in page
    assert f'title="{long_ip}"' in page and ">2001:db8:85a3:123…<" in page
    assert "Firefox 128 · Linux" in page and f'title="{FIREFOX}"' in page


def test_browser_names_are_short():
    assert browser_label(FIREFOX) == "Firefox 128 · Linux"
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36"
    )
    assert browser_label(chrome) == "Chrome 126 · Windows"
    assert browser_label(chrome + " Edg/126.0.2592.87") == "Edge 126 · Windows"
    safari = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    assert browser_label(safari) == "Safari 17 · iOS"
    assert browser_label("curl/8.5.0") == "curl 8"
    assert browser_label("") == ""
    assert browser_label("SomeMonitoringAgent/1.0 (+https://example.com)") == (
        "SomeMonitoringAgent/1.0…"
    )
    assert ip_short("192.0.2.1") == "192.0.2.1" and ip_short(None) == ""


def test_keyset_pages_newest_first_without_gaps_or_repeats(client, tina, bob):
    same_moment = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    made = [entry(AuditAction.LOGIN, at=same_moment, actor=bob) for _ in range(30)]
    made += [
        entry(AuditAction.LOGOUT, at=same_moment - timedelta(minutes=n), actor=bob)
        for n in range(1, 31)
    ]
    client.force_login(tina)
    seen, url, pages = [], URL + "?who=bob", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        seen += [int(part.split('"')[0]) for part in page.split('data-testid="audit-row-')[1:]]
        marker = 'rel="next"'
        url = None
        if marker in page:
            head = page[: page.index(marker)]
            url = unescape(head[head.rindex('href="') + 6 : head.rindex('"')])
        pages += 1
    assert pages == 2
    expected = sorted(made, key=lambda event: (event.at, event.pk), reverse=True)
    assert seen == [event.pk for event in expected]


def test_the_page_costs_the_same_queries_for_few_and_many_entries(
    client, tina, bob, django_assert_num_queries
):
    client.force_login(tina)
    client.get(URL)  # warm the session
    for _ in range(3):
        services.audit_record(action=AuditAction.LOGIN, actor=bob)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"who": "bob"}).status_code == 200
    for _ in range(80):
        services.audit_record(action=AuditAction.LOGIN, actor=bob)
    # session, user, roles, the agent profile (navigation), the page of entries
    assert len(few) == 5, [q["sql"][:150] for q in few.captured_queries]
    with django_assert_num_queries(5):
        page = client.get(URL, {"who": "bob", "kind": "group:auth"})
    assert page.status_code == 200 and 'rel="next"' in page.content.decode()
    cursor = AuditEvent.objects.order_by("-at", "-id")[10]
    before = f"{cursor.at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ},{cursor.pk}"
    with django_assert_num_queries(5):
        assert client.get(URL, {"who": "bob", "before": before}).status_code == 200
