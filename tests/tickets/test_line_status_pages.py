"""Line status on the agent's pages: the customer record shows each line as network
monitoring reports it now (a flapping line gets a badge), the ticket page shows the lines
as they were when the ticket was opened, and keeps showing that after a later report.

Pages are read in English (Accept-Language).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.choices import LineState, ServiceKind
from customers.models import Connection
from helpdesk import services as helpdesk_services
from tests.customers import conftest as customer_fixtures
from tests.tickets.conftest import area
from tickets import services
from tickets.choices import Channel

pytestmark = pytest.mark.django_db

dsl_100 = customer_fixtures.dsl_100
erika_contract = customer_fixtures.erika_contract
erika_line = customer_fixtures.erika_line


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


def customer_url(customer) -> str:
    return reverse("customers:customer-detail", args=[customer.number])


def connection_row(page: str, identifier: str) -> str:
    row = page[: page.index(identifier)]
    row = page[row.rindex("<tr") :]
    return row[: row.index("</tr>")]


def snapshot_card(page: str) -> str:
    if 'data-testid="line-snapshot"' not in page:
        return ""
    start = page.index("Line status when the ticket was opened")
    return page[start : page.index("</ul>", start)]


def open_ticket(customer, actor, subject="Kein Internet"):
    return services.ticket_create(
        customer=customer,
        subject=subject,
        body="Seit heute früh geht nichts.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=actor,
    )


def monitoring_patch(client, key: str, connection: Connection, payload: dict):
    return client.patch(
        f"/api/v1/connections/{connection.pk}/",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )


@pytest.fixture
def as_bob(client, bob, team):
    return signed_in(client, bob)


@pytest.fixture
def as_trent(client, trent, team):
    return signed_in(client, trent)


@pytest.fixture
def erika_tv(erika):
    return Connection.objects.create(
        customer=erika,
        kind=ServiceKind.TV,
        identifier="TV-4711",
        state=LineState.ONLINE,
        sync_drops_24h=1,
        last_sync_at=timezone.now() - timedelta(hours=2),
    )


# --- The customer record --------------------------------------------------------------------


def test_a_flapping_line_gets_a_badge_a_stable_one_does_not(as_bob, erika, erika_line, erika_tv):
    page = text(as_bob.get(customer_url(erika)))
    flapping = connection_row(page, erika_line.identifier)
    assert 'class="row-danger"' in flapping  # offline wins the row colour
    assert "Unstable (flapping)" in flapping and "Offline" in flapping
    stable = connection_row(page, erika_tv.identifier)
    assert "Unstable (flapping)" not in stable and "Online" in stable


def test_an_online_flapping_line_is_highlighted_and_badged(as_bob, erika, erika_line):
    Connection.objects.filter(pk=erika_line.pk).update(state=LineState.ONLINE)
    row = connection_row(text(as_bob.get(customer_url(erika))), erika_line.identifier)
    assert 'class="row-warning"' in row and "Unstable (flapping)" in row


def test_a_patched_state_shows_on_the_record_with_its_report_time(
    client, as_bob, erika, erika_line, monitoring_token
):
    row = connection_row(text(as_bob.get(customer_url(erika))), erika_line.identifier)
    assert 'data-testid="line-reported">\N{EN DASH}<' in row  # never reported yet
    response = monitoring_patch(
        client, monitoring_token, erika_line, {"state": "online", "sync_drops_24h": 0}
    )
    assert response.status_code == 200
    erika_line.refresh_from_db()
    page = text(as_bob.get(customer_url(erika)))
    row = connection_row(page, erika_line.identifier)
    assert "Online" in row and "Offline" not in row
    assert "Unstable (flapping)" not in row and 'class="row-' not in row
    reported = timezone.localtime(erika_line.state_reported_at)
    assert f'datetime="{reported.isoformat()}"' in row


# --- The ticket page ------------------------------------------------------------------------


def test_the_ticket_shows_the_line_status_when_it_was_opened(as_trent, erika, erika_line, alice):
    ticket = open_ticket(erika, alice)
    card = snapshot_card(text(as_trent.get(ticket.get_absolute_url())))
    assert "DSL" in card and erika_line.identifier in card
    assert "Offline" in card and "Unstable (flapping)" in card
    assert "7 sync drops in 24 h" in card
    assert "last sync" in card


def test_the_snapshot_keeps_the_old_state_after_a_later_report(
    client, as_trent, trent, erika, erika_line, alice, monitoring_token
):
    before = open_ticket(erika, alice, subject="Vorher")
    response = monitoring_patch(
        client, monitoring_token, erika_line, {"state": "online", "sync_drops_24h": 0}
    )
    assert response.status_code == 200
    after = open_ticket(erika, alice, subject="Nachher")
    signed_in(client, trent)
    old = snapshot_card(text(client.get(before.get_absolute_url())))
    assert "Offline" in old and "Online" not in old and "Unstable (flapping)" in old
    new = snapshot_card(text(client.get(after.get_absolute_url())))
    assert "Online" in new and "Offline" not in new and "Unstable (flapping)" not in new
    assert "0 sync drops in 24 h" in new
    # The customer record shows what is true now.
    record = text(client.get(customer_url(erika)))
    assert "Online" in connection_row(record, erika_line.identifier)


def test_no_snapshot_for_a_customer_without_lines(as_bob, ticket):
    assert ticket.line_snapshot == []
    page = text(as_bob.get(ticket.get_absolute_url()))
    assert "Line status when the ticket was opened" not in page


def test_domains_and_mailboxes_are_not_lines(as_trent, erika, alice):
    Connection.objects.create(customer=erika, kind=ServiceKind.DOMAIN, identifier="erika.de")
    ticket = open_ticket(erika, alice)
    page = text(as_trent.get(ticket.get_absolute_url()))
    assert "Line status when the ticket was opened" not in page


def test_a_snapshot_with_unknown_values_still_renders(as_trent, erika, erika_line, alice):
    ticket = open_ticket(erika, alice)
    ticket.line_snapshot = [{"kind": "fiber", "identifier": "X-1", "state": "blinking"}]
    ticket.save(update_fields=["line_snapshot"])
    card = snapshot_card(text(as_trent.get(ticket.get_absolute_url())))
    assert "fiber" in card and "blinking" in card and "X-1" in card


def test_the_ticket_page_reads_the_snapshot_without_extra_queries(
    as_trent, erika, alice, django_assert_num_queries
):
    one = open_ticket(erika, alice, subject="Ohne Leitungen")
    Connection.objects.bulk_create(
        Connection(customer=erika, kind=ServiceKind.DSL, identifier=f"L{i}", sync_drops_24h=i)
        for i in range(8)
    )
    many = open_ticket(erika, alice, subject="Mit acht Leitungen")
    as_trent.get(one.get_absolute_url())  # warm the process's caches
    with CaptureQueriesContext(connection) as few:
        as_trent.get(one.get_absolute_url())
    with django_assert_num_queries(len(few.captured_queries)):
        page = text(as_trent.get(many.get_absolute_url()))
    assert page.count('class="line-snapshot-line') == 8


def test_an_integration_without_the_scope_cannot_report(client, erika_line, monitoring):
    _token, key = helpdesk_services.api_token_create(
        user=monitoring, name="Nur lesen", scopes=["outages:read"]
    )
    before = Connection.objects.values().get(pk=erika_line.pk)
    response = monitoring_patch(client, key, erika_line, {"state": "online"})
    assert response.status_code == 403
    assert Connection.objects.values().get(pk=erika_line.pk) == before
