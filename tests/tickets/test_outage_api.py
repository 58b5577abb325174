"""Outages API: network monitoring opens, updates and resolves outages; scopes and roles;
filters and keyset pages; bad input names its field and changes nothing; fixed query
counts; the schema. And the line snapshot new tickets take of what monitoring reported."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from helpdesk import services as helpdesk_services
from mail.models import OutboundMail
from tests.customers import conftest as customer_fixtures
from tests.tickets.conftest import area
from tickets import services
from tickets.choices import Channel, OutageStatus, Status
from tickets.models import Outage, OutageArea, OutageUpdate, Ticket, TicketEvent
from tickets.services import outages

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/outages/"

dsl_100 = customer_fixtures.dsl_100
erika_contract = customer_fixtures.erika_contract
erika_line = customer_fixtures.erika_line


@pytest.fixture(autouse=True)
def _english(settings):
    """Integrations without Accept-Language get the default language; match English here."""
    settings.LANGUAGE_CODE = "en"


def token_for(user, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def rw(monitoring_token):
    """Network monitoring's token: outages:read, outages:write, connections:write."""
    return {"HTTP_AUTHORIZATION": f"Token {monitoring_token}"}


@pytest.fixture
def reader(monitoring):
    return token_for(monitoring, "outages:read")


def detail_url(outage_id) -> str:
    return f"{URL}{outage_id}/"


def updates_url(outage_id) -> str:
    return f"{URL}{outage_id}/updates/"


def resolve_url(outage_id) -> str:
    return f"{URL}{outage_id}/resolve/"


def post(client, url: str, data: dict, **extra):
    return client.post(url, data, content_type=JSON, **extra)


def state() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(Outage.objects.order_by("pk").values()),
        list(OutageArea.objects.order_by("pk").values()),
        list(OutageUpdate.objects.order_by("pk").values()),
        list(Ticket.objects.order_by("pk").values("pk", "status", "outage_id", "version")),
        TicketEvent.objects.count(),
        OutboundMail.objects.count(),
    )


def error_fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def make_outage(actor, title: str = "Störung", *, area_text: str = "10115", **kwargs) -> Outage:
    outage, _new = outages.outage_create(
        title=title, services=["dsl"], area=area_text, actor=actor, **kwargs
    )
    return outage


def new_report(**changes) -> dict:
    report = {
        "title": "TV-Störung Berlin-Mitte",
        "description": "Kopfstation ausgefallen.",
        "services": ["tv"],
        "area": "10115\u201310119, 10435",  # an en dash, as typed in an office suite
        "status": "identified",
        "expected_end_at": (timezone.now() + timedelta(hours=4)).isoformat(),
        "external_id": "NMS-4711",
    }
    return {**report, **changes}


@pytest.fixture
def linked(dsl_outage, tech_ticket, trent):
    """Erika's tech ticket linked to the DSL outage."""
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    return tech_ticket


# --- Reading ----------------------------------------------------------------------------


def test_an_outage_reads_with_its_counts_and_latest_update(client, rw, dsl_outage, linked, trent):
    done = services.ticket_create(
        customer=linked.customer,
        subject="Auch kein Telefon",
        body="Telefon geht nicht.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=trent,
        outage=dsl_outage,
    )
    services.ticket_transition(ticket=done, to=Status.RESOLVED, actor=trent)
    outages.outage_update_post(
        outage=dsl_outage, text="Bagger ist weg.", status=OutageStatus.IDENTIFIED, actor=trent
    )
    response = client.get(URL, **rw)
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == dsl_outage.pk
    assert row["title"] == "DSL-Störung Köln-Porz"
    assert row["description"] == "Glasfaserkabel bei Bauarbeiten beschädigt."
    assert row["services"] == ["dsl", "voip"]
    assert row["area"] == "51061, 51143-51149"
    assert row["status"] == "identified"
    assert parse_datetime(row["started_at"]) == dsl_outage.started_at
    assert parse_datetime(row["expected_end_at"]) == dsl_outage.expected_end_at
    assert row["resolved_at"] is None
    assert row["tickets_linked"] == 2 and row["tickets_open"] == 1
    assert row["external_id"] == ""
    assert row["latest_update"]["text"] == "Bagger ist weg."
    assert row["latest_update"]["status"] == "identified"
    assert row["latest_update"]["author"] == {"id": trent.pk, "name": "Trent Roth"}
    assert "updates" not in row


def test_an_outage_without_updates_has_no_latest_one(client, rw, dsl_outage):
    (row,) = client.get(URL, **rw).json()["results"]
    assert row["latest_update"] is None and row["tickets_linked"] == 0


def test_the_detail_lists_every_update_newest_first(client, rw, dsl_outage, trent):
    for text in ("Techniker unterwegs.", "Kabel wird gespleißt."):
        outages.outage_update_post(outage=dsl_outage, text=text, actor=trent)
    response = client.get(detail_url(dsl_outage.pk), **rw)
    assert response.status_code == 200
    body = response.json()
    assert [update["text"] for update in body["updates"]] == [
        "Kabel wird gespleißt.",
        "Techniker unterwegs.",
    ]
    assert body["latest_update"]["text"] == "Kabel wird gespleißt."
    assert set(body["updates"][0]) == {
        "id",
        "text",
        "status",
        "expected_end_at",
        "notify",
        "notified_at",
        "author",
        "created_at",
    }


@pytest.mark.parametrize("outage_id", ["999999", str(2**70)])
def test_an_unknown_outage_is_a_json_404(client, rw, dsl_outage, outage_id):
    response = client.get(detail_url(outage_id), **rw)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert post(client, resolve_url(outage_id), {"text": "x"}, **rw).status_code == 404


def test_the_list_is_newest_start_first_in_keyset_pages(client, rw, trent):
    start = timezone.now() - timedelta(hours=10)
    made = [
        make_outage(trent, f"Störung {i}", started_at=start + timedelta(hours=i)) for i in range(5)
    ]
    newest_first = [outage.pk for outage in reversed(made)]
    first = client.get(f"{URL}?page_size=2", **rw).json()
    second = client.get(first["next"], **rw).json()
    third = client.get(second["next"], **rw).json()
    assert [[row["id"] for row in page["results"]] for page in (first, second, third)] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert third["next"] is None


@pytest.fixture
def three(trent, dsl_outage):
    """An active DSL outage in Cologne, an active TV one in Berlin, a resolved one in Berlin."""
    berlin_tv = make_outage(trent, "TV Berlin", area_text="10115-10119", status="monitoring")
    old = make_outage(trent, "Alt Berlin", area_text="10115")
    outages.outage_resolve(outage=old, text="Behoben.", actor=trent)
    return dsl_outage, berlin_tv, old


def test_the_list_filters_by_status_activity_and_postal_code(client, rw, three):
    cologne, berlin_tv, old = three

    def listed(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}", **rw)
        assert response.status_code == 200, response.json()
        return set(ids(response))

    assert listed("") == {cologne.pk, berlin_tv.pk, old.pk}
    assert listed("status=monitoring") == {berlin_tv.pk}
    assert listed("status=monitoring&status=resolved") == {berlin_tv.pk, old.pk}
    assert listed("active=true") == {cologne.pk, berlin_tv.pk}
    assert listed("active=false") == {old.pk}
    assert listed("postal_code=10117") == {berlin_tv.pk}
    assert listed("postal_code=10115") == {berlin_tv.pk, old.pk}
    assert listed("postal_code=10115&active=true") == {berlin_tv.pk}
    assert listed("postal_code=51061") == {cologne.pk}
    assert listed("postal_code=80331") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=broken", "status"),
        ("active=maybe", "active"),
        ("postal_code=1011", "postal_code"),
        ("postal_code=abcde", "postal_code"),
        ("area=10115", "area"),
        ("cursor=nonsense", None),
    ],
)
def test_a_filter_that_means_nothing_is_a_400_naming_it(client, rw, dsl_outage, query, field):
    response = client.get(f"{URL}?{query}", **rw)
    expected = 404 if query.startswith("cursor") else 400  # DRF's word for a bad cursor
    assert response.status_code == expected
    if field:
        assert error_fields(response) == [field]


# --- Access -----------------------------------------------------------------------------


def test_a_token_without_outage_scopes_reads_nothing(client, monitoring, dsl_outage):
    lines_only = token_for(monitoring, "connections:write")
    assert client.get(URL, **lines_only).status_code == 403
    assert client.get(detail_url(dsl_outage.pk), **lines_only).status_code == 403


def test_a_reading_token_cannot_write(client, reader, dsl_outage):
    before = state()
    assert client.get(URL, **reader).status_code == 200
    assert post(client, URL, new_report(), **reader).status_code == 403
    response = post(client, updates_url(dsl_outage.pk), {"text": "x"}, **reader)
    assert response.status_code == 403
    assert post(client, resolve_url(dsl_outage.pk), {"text": "x"}, **reader).status_code == 403
    assert response.json()["errors"][0]["message"] == "This token lacks the scope for this action."
    assert state() == before


def test_a_token_of_an_inactive_user_is_refused(client, rw, monitoring, dsl_outage):
    monitoring.is_active = False
    monitoring.save()
    assert client.get(URL, **rw).status_code == 401


def test_first_line_agents_read_but_do_not_write(client, bob, team, dsl_outage):
    client.force_login(bob)
    before = state()
    assert client.get(URL).status_code == 200
    assert client.get(detail_url(dsl_outage.pk)).status_code == 200
    assert post(client, URL, new_report()).status_code == 403
    assert post(client, updates_url(dsl_outage.pk), {"text": "Neu"}).status_code == 403
    assert post(client, resolve_url(dsl_outage.pk), {"text": "Weg"}).status_code == 403
    assert state() == before


@pytest.mark.parametrize("who", ["trent", "dana", "tina", "max_"])
def test_tech_team_leads_dispatchers_and_management_manage_outages(
    client, request, who, team, dana, dsl_outage
):
    client.force_login(request.getfixturevalue(who))
    response = post(client, URL, new_report(external_id=""))
    assert response.status_code == 201, response.json()
    assert post(client, updates_url(dsl_outage.pk), {"text": "Neu"}).status_code == 201
    assert post(client, resolve_url(dsl_outage.pk), {"text": "Weg"}).status_code == 200


@pytest.mark.parametrize("who", ["alice", "mallory"])
def test_customers_never_reach_the_outages_api(client, request, who, erika, malte, dsl_outage):
    client.force_login(request.getfixturevalue(who))
    before = state()
    assert client.get(URL).status_code == 403
    assert client.get(detail_url(dsl_outage.pk)).status_code == 403
    assert post(client, URL, new_report()).status_code == 403
    assert post(client, resolve_url(dsl_outage.pk), {"text": "x"}).status_code == 403
    assert state() == before


def test_anonymous_callers_are_refused(client, dsl_outage):
    assert client.get(URL).status_code in (401, 403)
    assert post(client, URL, new_report()).status_code in (401, 403)


# --- Opening ----------------------------------------------------------------------------


def test_monitoring_opens_an_outage(client, rw, monitoring):
    response = post(client, URL, new_report(), **rw)
    assert response.status_code == 201, response.json()
    body = response.json()
    outage = Outage.objects.get()
    assert body["id"] == outage.pk
    assert response["Location"] == f"http://testserver{detail_url(outage.pk)}"
    assert body["status"] == "identified" and body["services"] == ["tv"]
    assert body["area"] == "10115-10119, 10435"  # the en dash read as a range
    assert body["external_id"] == "NMS-4711"
    assert body["updates"] == [] and body["tickets_linked"] == 0
    assert outage.created_by == monitoring
    assert list(OutageArea.objects.values_list("first", "last").order_by("first")) == [
        ("10115", "10119"),
        ("10435", "10435"),
    ]
    assert abs(outage.started_at - timezone.now()) < timedelta(minutes=1)


def test_a_repeated_report_answers_with_the_outage_it_opened(client, rw):
    first = post(client, URL, new_report(), **rw)
    before = state()
    again = post(client, URL, new_report(title="Anderer Titel", area="80331"), **rw)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == "TV-Störung Berlin-Mitte"
    assert state() == before


def test_reports_without_external_id_open_an_outage_each(client, rw):
    for _ in range(2):
        assert post(client, URL, new_report(external_id=""), **rw).status_code == 201
    assert Outage.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"area": "1011"}, "area"),
        ({"area": "10115-1011x"}, "area"),
        ({"area": "10119-10115"}, "area"),
        ({"area": ""}, "area"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"services": []}, "services"),
        ({"services": ["fax"]}, "services"),
        ({"services": "dsl"}, "services"),
        ({"status": "resolved"}, "status"),
        ({"status": "kaputt"}, "status"),
        ({"started_at": "gestern"}, "started_at"),
        ({"started_at": (timezone.now() + timedelta(days=1)).isoformat()}, "started_at"),
        ({"expected_end_at": (timezone.now() - timedelta(hours=1)).isoformat()}, "expected_end_at"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"resolved_at": timezone.now().isoformat()}, "resolved_at"),
        ({"description": "Text\u202emit Steuerzeichen"}, "description"),
    ],
)
def test_bad_input_names_its_field_and_opens_nothing(client, rw, dsl_outage, changes, field):
    before = state()
    response = post(client, URL, new_report(**changes), **rw)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert response.json()["errors"][0]["message"]
    assert state() == before


def test_missing_fields_are_named(client, rw):
    response = post(client, URL, {}, **rw)
    assert response.status_code == 400
    assert set(error_fields(response)) == {"title", "services", "area"}
    assert not Outage.objects.exists()


# --- Updates ----------------------------------------------------------------------------


def test_an_update_moves_the_status_and_the_expected_end(client, rw, dsl_outage, monitoring):
    end = timezone.now() + timedelta(hours=9)
    response = post(
        client,
        updates_url(dsl_outage.pk),
        {"text": "Ursache gefunden.", "status": "identified", "expected_end_at": end.isoformat()},
        **rw,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text"] == "Ursache gefunden." and body["status"] == "identified"
    assert body["notify"] is False and body["author"]["id"] == monitoring.pk
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.IDENTIFIED
    assert dsl_outage.expected_end_at == end
    assert dsl_outage.version == 2


def test_an_update_with_notify_mails_the_linked_customers(
    client, rw, dsl_outage, linked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, updates_url(dsl_outage.pk), {"text": "Noch zwei Stunden.", "notify": True}, **rw
        )
    assert response.status_code == 201
    update = OutageUpdate.objects.get()
    assert update.notify and update.notified_at is not None
    mail = OutboundMail.objects.get(kind="outage")
    assert mail.ticket == linked and mail.to_address == linked.customer.email
    assert "Noch zwei Stunden." in mail.body_text


def test_an_update_with_resolved_resolves_the_outage(client, rw, dsl_outage):
    response = post(
        client, updates_url(dsl_outage.pk), {"text": "Alles läuft.", "status": "resolved"}, **rw
    )
    assert response.status_code == 201
    assert response.json()["status"] == "resolved"
    dsl_outage.refresh_from_db()
    assert dsl_outage.status == OutageStatus.RESOLVED and dsl_outage.resolved_at


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "x", "status": "kaputt"}, "status"),
        ({"text": "x", "expected_end_at": "2020-01-01T00:00:00Z"}, "expected_end_at"),
        ({"text": "x", "notify": "vielleicht"}, "notify"),
        ({"text": "x", "author": 1}, "author"),
    ],
)
def test_a_bad_update_names_its_field_and_changes_nothing(client, rw, dsl_outage, body, field):
    before = state()
    response = post(client, updates_url(dsl_outage.pk), body, **rw)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert state() == before


def test_a_resolved_outage_takes_no_updates(client, rw, dsl_outage, trent):
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    before = state()
    response = post(client, updates_url(dsl_outage.pk), {"text": "Doch nicht."}, **rw)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "status", "message": "This outage is already resolved.", "code": "refused"}
    ]
    assert state() == before


# --- Resolving --------------------------------------------------------------------------


def test_resolving_resolves_the_linked_tickets_and_mails_their_customers(
    client, rw, dsl_outage, linked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, resolve_url(dsl_outage.pk), {"text": "Kabel repariert."}, **rw)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert body["updates"][0]["text"] == "Kabel repariert."
    assert body["updates"][0]["status"] == "resolved"
    linked.refresh_from_db()
    assert linked.status == Status.RESOLVED
    mail = OutboundMail.objects.get(kind="outage")
    assert mail.ticket == linked and "Kabel repariert." in mail.body_text
    dsl_outage.refresh_from_db()
    assert dsl_outage.tickets_resolved_at is not None


def test_a_second_resolution_is_refused_clearly(client, rw, dsl_outage):
    assert post(client, resolve_url(dsl_outage.pk), {"text": "Behoben."}, **rw).status_code == 200
    before = state()
    response = post(client, resolve_url(dsl_outage.pk), {"text": "Nochmal."}, **rw)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "status", "message": "This outage is already resolved.", "code": "refused"}
    ]
    assert state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "text"), ({"text": " "}, "text"), ({"text": "x", "status": "resolved"}, "status")],
)
def test_a_bad_resolution_names_its_field_and_changes_nothing(
    client, rw, dsl_outage, linked, body, field
):
    before = state()
    response = post(client, resolve_url(dsl_outage.pk), body, **rw)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert state() == before


# --- Costs ------------------------------------------------------------------------------


def _busy(outage, actor, *, updates: int, tickets: int, customer) -> None:
    for i in range(updates):
        outages.outage_update_post(outage=outage, text=f"Stand {i}", actor=actor)
    for i in range(tickets):
        services.ticket_create(
            customer=customer,
            subject=f"Kein Netz {i}",
            body="Nichts geht.",
            channel=Channel.PHONE,
            support_area=area("no-internet"),
            actor=actor,
            outage=outage,
        )


def test_the_list_costs_the_same_for_one_and_many_outages(
    client, rw, trent, erika, team, django_assert_num_queries
):
    _busy(make_outage(trent, "Eine"), trent, updates=1, tickets=1, customer=erika)
    client.get("/api/v1/me/", **rw)  # the token's first use stamps it: not part of the list
    with django_assert_num_queries(3):  # token+user, one page with counts, latest updates
        assert len(ids(client.get(URL, **rw))) == 1
    for i in range(6):
        _busy(make_outage(trent, f"Viele {i}"), trent, updates=3, tickets=2, customer=erika)
    with django_assert_num_queries(3):
        response = client.get(f"{URL}?page_size=5&postal_code=10115&status=investigating", **rw)
    with django_assert_num_queries(3):
        assert len(ids(client.get(response.json()["next"], **rw))) == 2


def test_a_staff_list_costs_the_same_too(
    client, bob, trent, erika, team, django_assert_num_queries
):
    client.force_login(bob)
    _busy(make_outage(trent, "Eine"), trent, updates=1, tickets=1, customer=erika)
    with django_assert_num_queries(5):  # session, user, roles, one page, latest updates
        client.get(URL)
    _busy(make_outage(trent, "Zwei"), trent, updates=4, tickets=3, customer=erika)
    with django_assert_num_queries(5):
        assert len(ids(client.get(URL))) == 2


def test_the_detail_costs_the_same_for_one_and_many_updates(
    client, rw, dsl_outage, trent, erika, team, django_assert_num_queries
):
    _busy(dsl_outage, trent, updates=1, tickets=1, customer=erika)
    client.get("/api/v1/me/", **rw)
    with django_assert_num_queries(4):  # token+user, roles, outage with counts, updates
        client.get(detail_url(dsl_outage.pk), **rw)
    _busy(dsl_outage, trent, updates=10, tickets=5, customer=erika)
    with django_assert_num_queries(4):
        assert len(client.get(detail_url(dsl_outage.pk), **rw).json()["updates"]) == 11


def test_opening_costs_the_same_for_one_code_and_many_ranges(client, rw, django_assert_num_queries):
    client.get("/api/v1/me/", **rw)
    # token+user, roles, known external id?, insert outage, insert ranges, read it back
    # with its updates; and four savepoints
    with django_assert_num_queries(11) as one:
        post(client, URL, new_report(area="10115", external_id="A"), **rw)
    many = ", ".join(f"{10000 + 10 * i}-{10000 + 10 * i + 5}" for i in range(40))
    with django_assert_num_queries(len(one.captured_queries)):
        response = post(client, URL, new_report(area=many, external_id="B"), **rw)
    assert response.status_code == 201
    assert OutageArea.objects.filter(outage_id=response.json()["id"]).count() == 40


def test_updating_and_resolving_cost_the_same_for_few_and_many_tickets(
    client, rw, trent, erika, team
):
    """The requests only flip the outage; mailing and resolving tickets runs in batches
    after commit (tested with the services)."""
    small, large = make_outage(trent, "Klein"), make_outage(trent, "Groß")
    _busy(small, trent, updates=0, tickets=1, customer=erika)
    _busy(large, trent, updates=0, tickets=8, customer=erika)
    client.get("/api/v1/me/", **rw)
    counts = []
    for outage in (small, large):
        with CaptureQueriesContext(connection) as update_queries:
            response = post(client, updates_url(outage.pk), {"text": "Stand", "notify": True}, **rw)
        assert response.status_code == 201
        with CaptureQueriesContext(connection) as resolve_queries:
            assert post(client, resolve_url(outage.pk), {"text": "Weg"}, **rw).status_code == 200
        counts.append((len(update_queries), len(resolve_queries)))
    assert counts[0] == counts[1]


# --- Schema -----------------------------------------------------------------------------


def test_every_outage_route_declares_a_scope():
    from tickets.outage_api import router

    for _prefix, viewset, _basename in router.registry:
        actions = {"list", "retrieve", "create", "partial_update"} & set(dir(viewset))
        for extra in viewset.get_extra_actions():
            actions |= set(extra.mapping.values())
        assert actions == set(viewset.scopes), viewset


def test_the_schema_documents_the_outages_api_and_its_scopes(client, bob):
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        (URL, "get"): "outages:read",
        (URL, "post"): "outages:write",
        (f"{URL}{{id}}/", "get"): "outages:read",
        (f"{URL}{{id}}/updates/", "post"): "outages:write",
        (f"{URL}{{id}}/resolve/", "post"): "outages:write",
    }
    for (path, method), scope in expected.items():
        operation = paths[path][method]
        assert operation["x-required-scope"] == scope, (path, method)
        assert f"`{scope}`" in operation["description"]
    assert set(paths[f"{URL}{{id}}/"]) == {"get"}
    parameters = {parameter["name"] for parameter in paths[URL]["get"]["parameters"]}
    assert parameters == {"status", "active", "postal_code", "cursor", "page_size"}
    assert set(paths[URL]["post"]["responses"]) >= {"200", "201", "400"}


# --- Line snapshot ----------------------------------------------------------------------


def test_a_line_report_shows_in_the_snapshot_of_tickets_opened_afterwards(
    client, rw, erika, erika_line, alice, team
):
    before = services.ticket_create(
        customer=erika,
        subject="Internet bricht ab",
        body="Ständig weg.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=alice,
    )
    assert [
        (line["identifier"], line["state"], line["sync_drops_24h"], line["flapping"])
        for line in before.line_snapshot
    ] == [("DEU.1234.5678", "offline", 7, True)]
    synced = timezone.now().replace(microsecond=0)
    response = client.patch(
        f"/api/v1/connections/{erika_line.pk}/",
        {"state": "online", "sync_drops_24h": 0, "last_sync_at": synced.isoformat()},
        content_type=JSON,
        **rw,
    )
    assert response.status_code == 200, response.json()
    after = services.ticket_create(
        customer=erika,
        subject="Wieder da, aber langsam",
        body="Langsam.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=alice,
    )
    (line,) = after.line_snapshot
    assert line["kind"] == "dsl" and line["identifier"] == "DEU.1234.5678"
    assert line["state"] == "online" and line["sync_drops_24h"] == 0
    assert line["flapping"] is False
    assert parse_datetime(line["last_sync_at"]) == synced
    assert parse_datetime(line["reported_at"]) is not None
    before.refresh_from_db()
    assert before.line_snapshot[0]["state"] == "offline"  # what the line was at creation
    assert before.line_snapshot[0]["sync_drops_24h"] == 7
