"""The screen pop: every workspace page polls for the agent's new call notices; the poll
is cheap and answers 204 while nothing changed; an agent sees only their own calls; a
notice leads to the customer record or the call note with one click, or is dismissed."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from tests.calls.conftest import call_of, note_url, signed_in

pytestmark = pytest.mark.django_db

NOTICES = "/agent/calls/notices/"


def seen_url(call: Call) -> str:
    return reverse("calls:call-seen", args=[call.pk])


def poll(client, shown: str | None = None, **extra):
    params = {} if shown is None else {"shown": shown}
    return client.get(NOTICES, params, HTTP_HX_REQUEST="true", **extra)


def state(response) -> str:
    content = response.content.decode()
    marker = 'name="shown" value="'
    return content[content.index(marker) + len(marker) :].split('"', 1)[0]


# --- The poll ---------------------------------------------------------------------------


def test_the_notice_names_customer_area_and_wait_and_links_the_record(client, bob, erika_call):
    response = poll(signed_in(client, bob))
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    # the support area's name is data (German), the rest English
    assert "K1000001</span> Erika Musterfrau</strong>, Kein Internet, waited 52 s" in text
    assert 'value="customer"' in text and 'value="note"' in text
    assert seen_url(erika_call) in text
    assert state(response) == str(erika_call.pk)


def test_the_poll_answers_204_while_nothing_changed_and_again_when_a_call_comes(
    client, bob, erika, team
):
    signed_in(client, bob)
    empty = poll(client)
    assert empty.status_code == 200 and state(empty) == ""
    assert poll(client, shown="").status_code == 204
    call = call_of()
    fresh = poll(client, shown="")
    assert fresh.status_code == 200 and "Erika Musterfrau" in fresh.content.decode()
    assert poll(client, shown=state(fresh)).status_code == 204
    Call.objects.filter(pk=call.pk).update(notice_seen_at=timezone.now())  # seen in another tab
    gone = poll(client, shown=state(fresh))
    assert gone.status_code == 200 and state(gone) == ""
    assert "Erika" not in gone.content.decode()


def test_unmatched_calls_say_so(client, bob, erika, team):
    call_of(external_id="a", caller_number="0170 5550123", ivr_choice="77")
    call_of(external_id="b", caller_number="")
    text = " ".join(poll(signed_in(client, bob)).content.decode().split())
    assert "Unknown number 0170 5550123" in text and "unknown IVR choice “77”" in text
    assert "Number withheld" in text
    assert 'value="search"' in text


def test_several_customers_on_one_number_are_offered(client, bob, erika, team):
    from customers import services as customers_services

    customers_services.customer_create(
        number="K1000003",
        first_name="Max",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        phones=("0221 1234567",),
    )
    call_of()
    text = poll(signed_in(client, bob)).content.decode()
    assert "several customers" in text
    assert 'value="customer:K1000001"' in text and 'value="customer:K1000003"' in text


def test_an_agent_sees_only_the_notices_of_their_own_calls(
    client, carol, carol_on_phone, erika_call
):
    signed_in(client, carol)
    response = poll(client)
    assert response.status_code == 200 and state(response) == ""
    assert "Erika" not in response.content.decode()


def test_managers_and_team_leads_without_the_call_see_nothing(client, tina, max_, erika_call):
    for user in (tina, max_):
        response = poll(signed_in(client, user))
        assert response.status_code == 200 and state(response) == ""


def test_seen_and_old_notices_do_not_pop_up(client, bob, erika, team):
    seen = call_of(external_id="seen")
    Call.objects.filter(pk=seen.pk).update(notice_seen_at=timezone.now())
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        call_of(external_id="old")
    response = poll(signed_in(client, bob))
    assert state(response) == ""


def test_three_notices_are_shown_and_more_are_pointed_to(client, bob, erika, team):
    for number in range(4):
        call_of(external_id=f"c{number}")
    text = poll(signed_in(client, bob)).content.decode()
    assert text.count('data-testid="call-notice"') == 3
    assert reverse("calls:call-list") in text
    assert text.count("data-call-shortcut") == 1  # Alt+N (static/js/calls.js)


def test_signed_out_the_poll_stops(client, erika_call):
    response = poll(client)
    assert response.status_code == 286
    assert response.content == b""


def test_customers_and_integrations_get_no_notices(client, alice, phone_system, erika_call):
    for user in (alice, phone_system):
        client.force_login(user)
        assert poll(client).status_code == 403


@pytest.mark.parametrize("calls", [1, 4])
def test_the_poll_costs_the_same_few_queries_however_many_calls(
    client, bob, erika, team, calls, django_assert_num_queries
):
    for number in range(calls):
        call_of(external_id=f"c{number}")
    signed_in(client, bob)
    with django_assert_num_queries(4):  # session, user, roles, the notices
        shown = poll(client)
    with django_assert_num_queries(4):
        assert poll(client, shown=state(shown)).status_code == 204


def test_the_poll_uses_the_partial_index(erika_call, bob):
    """PostgreSQL: one index scan on call_notice_pending (SQLite plans are not checked)."""
    from django.db import connection

    from calls import selectors

    if connection.vendor != "postgresql":
        pytest.skip("plans are checked on PostgreSQL")
    queryset = selectors.notice_queryset(user=bob, now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = queryset.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert "call_notice_pending" in plan


# --- Acting on a notice -------------------------------------------------------------------


def test_one_click_opens_the_customer_record_and_marks_the_notice_seen(client, bob, erika_call):
    response = signed_in(client, bob).post(seen_url(erika_call), {"go": "customer"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer-detail", args=["K1000001"])
    erika_call.refresh_from_db()
    assert erika_call.notice_seen_at is not None


def test_new_call_note_opens_the_note(client, bob, erika_call):
    response = signed_in(client, bob).post(seen_url(erika_call), {"go": "note"})
    assert response["Location"] == note_url(erika_call)


def test_a_candidate_opens_only_a_customer_the_notice_offered(client, bob, erika, malte, team):
    from customers import services as customers_services

    customers_services.customer_create(
        number="K1000003",
        first_name="Max",
        last_name="Musterfrau",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        phones=("0221 1234567",),
    )
    call = call_of()
    signed_in(client, bob)
    chosen = client.post(seen_url(call), {"go": "customer:K1000003"})
    assert chosen["Location"] == reverse("customers:customer-detail", args=["K1000003"])
    other = client.post(seen_url(call), {"go": "customer:K1000002"})
    assert other["Location"].startswith(reverse("customers:customer-search"))
    assert "q=0221+1234567" in other["Location"]


def test_an_unknown_caller_leads_to_the_customer_search(client, bob, erika, team):
    call = call_of(caller_number="+49 170 5550123")
    response = signed_in(client, bob).post(seen_url(call), {"go": "search"})
    assert response["Location"] == reverse("customers:customer-search") + "?q=%2B49+170+5550123"


def test_dismissing_swaps_the_notices_and_keeps_the_call(client, bob, erika, team):
    first = call_of(external_id="first")
    second = call_of(external_id="second", caller_number="0170 5550123")
    signed_in(client, bob)
    response = client.post(seen_url(second), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert state(response) == str(first.pk)
    assert Call.objects.filter(pk=second.pk, notice_seen_at__isnull=False).exists()
    assert client.post(seen_url(first)).status_code == 302  # without JavaScript
    assert poll(client, shown=str(first.pk)).status_code == 200
    assert Call.objects.count() == 2


def test_dismissing_twice_keeps_the_first_moment(client, bob, erika_call):
    signed_in(client, bob)
    client.post(seen_url(erika_call))
    erika_call.refresh_from_db()
    first = erika_call.notice_seen_at
    client.post(seen_url(erika_call))
    erika_call.refresh_from_db()
    assert erika_call.notice_seen_at == first


def test_another_agents_notice_is_a_404_and_stays_unseen(
    client, carol, carol_on_phone, tina, erika_call
):
    for user in (carol, tina):
        signed_in(client, user)
        assert client.post(seen_url(erika_call), {"go": "customer"}).status_code == 404
    assert client.post(reverse("calls:call-seen", args=[2**63])).status_code == 404
    erika_call.refresh_from_db()
    assert erika_call.notice_seen_at is None


def test_customers_cannot_act_on_notices(client, alice, erika_call):
    client.force_login(alice)
    assert client.post(seen_url(erika_call), {"go": "note"}).status_code == 403
    assert client.get(seen_url(erika_call)).status_code == 403
    erika_call.refresh_from_db()
    assert erika_call.notice_seen_at is None


def test_seen_takes_post_only(client, bob, erika_call):
    assert signed_in(client, bob).get(seen_url(erika_call)).status_code == 405


# --- The poll on the pages ----------------------------------------------------------------


def test_workspace_pages_poll_and_the_portal_and_public_pages_do_not(client, bob, alice, team):
    assert NOTICES not in client.get(reverse("home")).content.decode()
    assert NOTICES not in client.get(reverse("agent-login")).content.decode()
    signed_in(client, bob)
    page = client.get(reverse("agent-home")).content.decode()
    assert NOTICES in page and 'hx-trigger="load, every 900ms' in page
    assert "js/calls.js" in page and "css/calls.css" in page
    client.force_login(alice)
    portal = client.get(reverse("portal-home"))
    assert portal.status_code == 200
    assert NOTICES not in portal.content.decode() and "calls.js" not in portal.content.decode()
