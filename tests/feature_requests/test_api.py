"""Feature requests API: scopes and roles, the list and its keyset pages, detail, similar,
filing, asks, the review workflow and merges, refusals that change nothing, fixed query
counts, the schema."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from feature_requests import selectors, services
from feature_requests.choices import AskKind, EventKind, Status, TargetDepartment
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent
from tests.feature_requests.conftest import JSON, LIST_URL, token_for

pytestmark = pytest.mark.django_db

HUGE = 2**70
SIMILAR_URL = f"{LIST_URL}similar/"


@pytest.fixture(autouse=True)
def _english(settings):
    """Integrations without Accept-Language get the default language; match English here."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def reader(reporting):
    return token_for(reporting, "feature_requests:read")


@pytest.fixture
def writer(reporting):
    return token_for(reporting, "feature_requests:read", "feature_requests:write")


@pytest.fixture
def reviewer(reporting):
    return token_for(reporting, "feature_requests:read", "feature_requests:review")


def detail_url(request_id) -> str:
    return f"{LIST_URL}{request_id}/"


def asks_url(request_id) -> str:
    return f"{LIST_URL}{request_id}/asks/"


def transition_url(request_id) -> str:
    return f"{LIST_URL}{request_id}/transition/"


def post(client, url: str, data: dict, **extra):
    return client.post(url, data, content_type=JSON, **extra)


def state() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(FeatureRequest.objects.order_by("pk").values()),
        list(Ask.objects.order_by("pk").values()),
        FeatureRequestEvent.objects.count(),
    )


def error_fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def file(actor, title: str, *, department=TargetDepartment.TECH, **extra) -> FeatureRequest:
    return services.feature_request_create(
        title=title, department=department, kind=AskKind.WISH, actor=actor, **extra
    )


def ask(request, actor, times: int = 1, **extra) -> None:
    for _ in range(times):
        services.ask_record(request=request, kind=AskKind.WISH, actor=actor, **extra)


NEW_REQUEST = {
    "title": "Rechnung als XRechnung für Firmenkunden",
    "description": "Behörden verlangen das Format.",
    "department": "billing",
    "kind": "wish",
    "note": "",
}


def endpoints(wish) -> list[tuple[str, str, dict]]:
    """Every endpoint with a body that would succeed: (method, url, body)."""
    return [
        ("get", LIST_URL, {}),
        ("get", detail_url(wish.pk), {}),
        ("get", SIMILAR_URL, {"title": "Rechnung per Post"}),
        ("post", LIST_URL, NEW_REQUEST),
        ("post", asks_url(wish.pk), {"kind": "wish"}),
        ("post", transition_url(wish.pk), {"to": "qm_review"}),
    ]


def call(client, method: str, url: str, data: dict, **extra):
    if method == "get":
        return client.get(url, data, **extra)
    return post(client, url, data, **extra)


# --- Who may call what ------------------------------------------------------------------


def test_every_endpoint_needs_authentication(client, wish):
    before = state()
    for method, url, data in endpoints(wish):
        response = call(client, method, url, data)
        assert response.status_code == 401, (method, url)
        assert response.json()["errors"][0]["message"]
    assert state() == before


SCOPE_OF = {
    ("get", "list"): "feature_requests:read",
    ("get", "detail"): "feature_requests:read",
    ("get", "similar"): "feature_requests:read",
    ("post", "create"): "feature_requests:write",
    ("post", "asks"): "feature_requests:write",
    ("post", "transition"): "feature_requests:review",
}
ALL_SCOPES = set(SCOPE_OF.values())


def test_a_token_without_the_scope_gets_403_and_writes_nothing(client, reporting, wish):
    names = ["list", "detail", "similar", "create", "asks", "transition"]
    before = state()
    for name, (method, url, data) in zip(names, endpoints(wish), strict=True):
        others = [*sorted(ALL_SCOPES - {SCOPE_OF[method, name]}), "tickets:read"]
        response = call(client, method, url, data, **token_for(reporting, *others))
        assert response.status_code == 403, name
        assert response.json()["errors"][0]["field"] is None
    assert state() == before


def test_a_read_token_cannot_file_a_request(client, reader, wish):
    before = state()
    assert post(client, LIST_URL, NEW_REQUEST, **reader).status_code == 403
    assert post(client, asks_url(wish.pk), {"kind": "wish"}, **reader).status_code == 403
    assert state() == before


def test_a_write_token_cannot_decide(client, writer, wish):
    before = state()
    response = post(client, transition_url(wish.pk), {"to": "qm_review"}, **writer)
    assert response.status_code == 403
    assert state() == before


def test_customers_get_403_everywhere(client, alice, wish):
    client.force_login(alice)
    before = state()
    for method, url, data in endpoints(wish):
        assert call(client, method, url, data).status_code == 403, (method, url)
    assert state() == before


def test_an_agent_session_reads_files_and_asks(client, bob, wish, erika):
    client.force_login(bob)
    assert ids(client.get(LIST_URL)) == [wish.pk]
    assert client.get(detail_url(wish.pk)).status_code == 200
    assert client.get(SIMILAR_URL, {"title": "Rechnung per Post"}).status_code == 200
    assert post(client, LIST_URL, NEW_REQUEST).status_code == 201
    response = post(client, asks_url(wish.pk), {"kind": "wish", "customer": "K1000001"})
    assert response.status_code == 201
    assert Ask.objects.filter(request=wish).latest("pk").recorded_by == bob


def test_an_agent_session_cannot_decide(client, bob, wish):
    client.force_login(bob)
    before = state()
    assert post(client, transition_url(wish.pk), {"to": "qm_review"}).status_code == 403
    assert state() == before


def test_a_department_lead_decides_only_what_was_passed_to_the_department(
    client, bert, wish, rejected
):
    client.force_login(bert)
    before = state()
    assert post(client, transition_url(wish.pk), {"to": "qm_review"}).status_code == 403
    assert state() == before


def test_a_department_lead_accepts_but_cannot_merge(client, bert, billing_review, rejected):
    client.force_login(bert)
    before = state()
    merge = {"to": "merged", "into": rejected.pk}
    assert post(client, transition_url(billing_review.pk), merge).status_code == 403
    assert state() == before
    response = post(client, transition_url(billing_review.pk), {"to": "accepted"})
    assert response.status_code == 200
    assert response.json()["status"] == {"value": "accepted", "label": "Accepted"}


def test_quality_management_decides_in_a_session(client, tina, wish):
    client.force_login(tina)
    response = post(client, transition_url(wish.pk), {"to": "qm_review"})
    assert response.status_code == 200
    wish.refresh_from_db()
    assert wish.status == Status.QM_REVIEW
    assert wish.events.latest("pk").actor == tina


# --- Reading ----------------------------------------------------------------------------


def test_a_list_row_has_counts_status_and_the_page_link(client, reader, wish):
    row = client.get(LIST_URL, **reader).json()["results"][0]
    assert set(row) == {
        "id",
        "title",
        "status",
        "department",
        "ask_count",
        "customer_count",
        "asks_since_decision",
        "last_ask_at",
        "reason",
        "merged_into",
        "version",
        "created_at",
        "decided_at",
        "url",
    }
    assert row["id"] == wish.pk and row["title"] == wish.title
    assert row["status"] == {"value": "new", "label": "New"}
    assert row["department"] == "billing"
    assert (row["ask_count"], row["customer_count"], row["asks_since_decision"]) == (1, 1, 1)
    assert row["merged_into"] is None and row["decided_at"] is None
    assert row["url"] == f"http://testserver{wish.get_absolute_url()}"


def test_labels_follow_the_language_asked_for(client, reader, wish):
    row = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de", **reader).json()["results"][0]
    assert row["status"]["value"] == "new" and row["status"]["label"] != "New"


def test_the_list_is_most_asked_first_and_filters(client, reader, bob, wish, rejected):
    tech = file(bob, "Störungsmeldung per SMS")
    ask(tech, bob, times=3)
    assert ids(client.get(LIST_URL, **reader)) == [tech.pk, rejected.pk, wish.pk]
    assert ids(client.get(LIST_URL, {"ordering": "newest"}, **reader)) == [
        tech.pk,
        rejected.pk,
        wish.pk,
    ]
    assert ids(client.get(LIST_URL, {"ordering": "customers"}, **reader))[0] == wish.pk
    assert ids(client.get(LIST_URL, {"status": "rejected"}, **reader)) == [rejected.pk]
    both = client.get(LIST_URL, {"status": ["new", "rejected"]}, **reader)
    assert set(ids(both)) == {wish.pk, rejected.pk, tech.pk}
    assert ids(client.get(LIST_URL, {"department": "tech"}, **reader)) == [tech.pk]
    assert ids(client.get(LIST_URL, {"q": "Rechnung Papier"}, **reader)) == [wish.pk]
    assert ids(client.get(LIST_URL, {"q": "?!"}, **reader)) == []


def test_merged_requests_are_listed_only_when_asked_for(client, reader, tina, wish, rejected):
    services.feature_request_merge(request=wish, into=rejected, actor=tina)
    assert ids(client.get(LIST_URL, **reader)) == [rejected.pk]
    merged = client.get(LIST_URL, {"status": "merged"}, **reader).json()["results"]
    assert [(row["id"], row["merged_into"]) for row in merged] == [(wish.pk, rejected.pk)]


def test_bad_list_filters_are_a_400_naming_the_parameter(client, reader, wish):
    for params, field in [
        ({"status": "open"}, "status"),
        ({"department": "marketing"}, "department"),
        ({"ordering": "title"}, "ordering"),
        ({"stauts": "new"}, "stauts"),
        ({"q": "x" * 201}, "q"),
    ]:
        response = client.get(LIST_URL, params, **reader)
        assert response.status_code == 400, params
        assert field in error_fields(response)[0], params


def test_keyset_pages_walk_ties_forward_and_back(client, reader, bob, team):
    made = [file(bob, f"Wunsch Nummer {i}") for i in range(7)]
    ask(made[2], bob, times=2)
    expected = [made[2].pk] + [request.pk for request in reversed(made) if request != made[2]]
    pages, url, data = [], LIST_URL, {"page_size": 3}
    while url:
        body = client.get(url, data, **reader).json()
        pages.append([row["id"] for row in body["results"]])
        url, data = body["next"], {}
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    # Back from the last page: the previous link gives the middle page again.
    last = client.get(LIST_URL, {"page_size": 3}, **reader).json()
    middle = client.get(last["next"], **reader).json()
    final = client.get(middle["next"], **reader).json()
    assert final["next"] is None
    again = client.get(final["previous"], **reader).json()
    assert [row["id"] for row in again["results"]] == expected[3:6]
    first = client.get(again["previous"], **reader).json()
    assert [row["id"] for row in first["results"]] == expected[:3]
    assert first["previous"] is None


def test_a_forged_or_foreign_cursor_is_a_400(client, reader, bob, team):
    for i in range(3):
        file(bob, f"Wunsch Nummer {i}")
    first = client.get(LIST_URL, {"page_size": 1}, **reader).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    forged = signing.dumps({"o": ["-ask_count", "-id"], "f": True, "k": ["x", 1]})
    for params in [
        {"cursor": "not-a-cursor"},
        {"cursor": forged},
        {"cursor": f"{cursor[:-3]}abc"},
    ]:
        response = client.get(LIST_URL, params, **reader)
        assert response.status_code == 400 and error_fields(response) == ["cursor"]
    # The cursor of the "most asked" order does not page the "newest" order.
    response = client.get(f"{LIST_URL}?ordering=newest&cursor={cursor}", **reader)
    assert response.status_code == 400 and error_fields(response) == ["cursor"]


def test_a_list_page_costs_three_queries_whatever_its_size(
    client, reader, bob, team, django_assert_num_queries
):
    for i in range(3):
        file(bob, f"Wunsch Nummer {i}")
    client.get(LIST_URL, **reader)  # the token's first use is recorded once
    with django_assert_num_queries(3):  # token+user, roles, one page
        assert len(client.get(LIST_URL, **reader).json()["results"]) == 3
    for i in range(27):
        file(bob, f"Weiterer Wunsch {i}")
    with django_assert_num_queries(3):
        assert len(client.get(LIST_URL, {"page_size": 200}, **reader).json()["results"]) == 30
    with django_assert_num_queries(3):
        body = client.get(LIST_URL, {"page_size": 10, "q": "Wunsch"}, **reader).json()
    with django_assert_num_queries(3):
        assert len(client.get(body["next"], **reader).json()["results"]) == 10


def test_a_staff_list_costs_the_same_too(client, bob, team, django_assert_num_queries):
    client.force_login(bob)
    file(bob, "Wunsch Nummer 1")
    with django_assert_num_queries(4):  # session, user, roles, one page
        client.get(LIST_URL)
    for i in range(29):
        file(bob, f"Weiterer Wunsch {i}")
    with django_assert_num_queries(4):
        assert len(client.get(LIST_URL).json()["results"]) == 30


def test_the_detail_has_description_author_and_history(client, reader, tina, wish):
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    body = client.get(detail_url(wish.pk), **reader).json()
    assert body["description"] == wish.description
    assert body["created_by"] == "bob"
    assert body["status"]["value"] == "qm_review"
    assert [(event["kind"], event["actor"]) for event in body["history"]] == [
        (EventKind.CREATED, "bob"),
        (EventKind.STATUS_CHANGED, "tina"),
    ]
    assert body["history"][1]["data"]["to"] == "qm_review"
    assert body["history"][0]["created_at"]


def test_reading_a_request_costs_a_fixed_number_of_queries(
    client, reader, tina, wish, django_assert_num_queries
):
    client.get(detail_url(wish.pk), **reader)
    with django_assert_num_queries(4):  # token+user, roles, request with people, events
        client.get(detail_url(wish.pk), **reader)
    for to in (Status.QM_REVIEW, Status.DEPARTMENT_REVIEW, Status.QM_REVIEW):
        services.feature_request_transition(request=wish, to=to, actor=tina)
    with django_assert_num_queries(4):
        assert len(client.get(detail_url(wish.pk), **reader).json()["history"]) == 4


def test_a_merged_request_names_its_survivor(client, reader, tina, wish, rejected):
    services.feature_request_merge(request=wish, into=rejected, actor=tina)
    body = client.get(detail_url(wish.pk), **reader).json()
    assert body["status"]["value"] == "merged" and body["merged_into"] == rejected.pk
    assert body["history"][-1]["kind"] == EventKind.MERGED


@pytest.mark.parametrize("request_id", ["0", str(HUGE), "999999"])
def test_missing_requests_are_a_404(client, reader, reporting, wish, request_id):
    everything = token_for(reporting, *ALL_SCOPES)
    before = state()
    assert client.get(detail_url(request_id), **reader).status_code == 404
    assert post(client, asks_url(request_id), {"kind": "wish"}, **everything).status_code == 404
    response = post(client, transition_url(request_id), {"to": "qm_review"}, **everything)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert state() == before


def test_similar_requests_come_with_status_and_reason(client, reader, wish, rejected):
    response = client.get(SIMILAR_URL, {"title": "Design dunkel im Portal"}, **reader)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == rejected.pk
    assert row["status"] == {"value": "rejected", "label": "Rejected"}
    assert row["reason"] == rejected.reason
    assert row["url"].endswith(rejected.get_absolute_url())


def test_similar_suggests_at_most_six(client, reader, bob, team):
    for i in range(8):
        file(bob, f"Rechnung Variante {i}")
    assert len(client.get(SIMILAR_URL, {"title": "Rechnung"}, **reader).json()["results"]) == 6


@pytest.mark.parametrize("params", [{}, {"title": ""}, {"title": "abc"}, {"title": "   ab   "}])
def test_similar_needs_a_title_of_some_words(client, reader, wish, params):
    response = client.get(SIMILAR_URL, params, **reader)
    assert response.status_code == 400
    assert error_fields(response) == ["title"]


# --- Filing -----------------------------------------------------------------------------


def test_filing_answers_201_with_the_request(client, writer, reporting, team):
    response = post(client, LIST_URL, NEW_REQUEST, **writer)
    assert response.status_code == 201
    body = response.json()
    request = FeatureRequest.objects.get()
    assert body["id"] == request.pk
    assert response["Location"] == f"http://testserver{detail_url(request.pk)}"
    assert body["title"] == NEW_REQUEST["title"] and body["department"] == "billing"
    assert (body["ask_count"], body["customer_count"]) == (1, 0)
    assert body["created_by"] == "reporting"
    assert [event["kind"] for event in body["history"]] == [EventKind.CREATED]
    assert request.asks.get().recorded_by == reporting


def test_filing_from_a_ticket_counts_its_customer(client, writer, ticket, erika):
    data = {**NEW_REQUEST, "ticket": ticket.reference, "note": "Am Telefon"}
    response = post(client, LIST_URL, data, **writer)
    assert response.status_code == 201
    assert response.json()["customer_count"] == 1
    ask_row = Ask.objects.get()
    assert (ask_row.customer, ask_row.ticket, ask_row.note) == (erika, ticket, "Am Telefon")


def test_filing_for_a_customer_number(client, writer, erika, team):
    response = post(client, LIST_URL, {**NEW_REQUEST, "customer": "k1000001 "}, **writer)
    assert response.status_code == 201
    assert Ask.objects.get().customer == erika


def test_script_in_a_title_comes_back_as_text(client, writer, team):
    title = '<script>alert("x")</script> Rechnung'
    response = post(client, LIST_URL, {**NEW_REQUEST, "title": title}, **writer)
    assert response.status_code == 201
    assert response.json()["title"] == title
    assert client.get(LIST_URL, **writer).json()["results"][0]["title"] == title


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Neu\x00 bitte"}, "title"),
        ({"department": "marketing"}, "department"),
        ({"department": ""}, "department"),
        ({"kind": "complaint"}, "kind"),
        ({"customer": "K9999999"}, "customer"),
        ({"ticket": "2026-999999"}, "ticket"),
        ({"note": "x" * 501}, "note"),
        ({"status": "accepted"}, "status"),
        ({"ask_count": 100}, "ask_count"),
    ],
)
def test_bad_input_to_filing_is_a_400_naming_the_field(client, writer, team, changes, field):
    response = post(client, LIST_URL, {**NEW_REQUEST, **changes}, **writer)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert not FeatureRequest.objects.exists() and not Ask.objects.exists()


def test_a_ticket_of_another_customer_is_refused(client, writer, erika, malte_ticket):
    data = {**NEW_REQUEST, "customer": "K1000001", "ticket": malte_ticket.reference}
    response = post(client, LIST_URL, data, **writer)
    assert response.status_code == 400
    assert error_fields(response) == ["ticket"]
    assert not FeatureRequest.objects.exists() and not Ask.objects.exists()


def test_a_ticket_the_agent_may_not_see_is_refused(client, carol, ticket):
    client.force_login(carol)  # billing; erika's ticket waits in customer service
    response = post(client, LIST_URL, {**NEW_REQUEST, "ticket": ticket.reference})
    assert response.status_code == 400
    assert error_fields(response) == ["ticket"]
    assert not FeatureRequest.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(client, writer, team):
    response = client.post(LIST_URL, "[1, 2]", content_type=JSON, **writer)
    assert response.status_code == 400
    assert not FeatureRequest.objects.exists()


# --- Asks -------------------------------------------------------------------------------


def test_an_ask_answers_the_new_counts(client, writer, wish, malte):
    response = post(
        client, asks_url(wish.pk), {"kind": "declined", "customer": "K1000002"}, **writer
    )
    assert response.status_code == 201
    assert response.json() == {
        "request": wish.pk,
        "ask_count": 2,
        "customer_count": 2,
        "asks_since_decision": 2,
        "is_repeat": False,
    }
    assert Ask.objects.filter(request=wish).count() == 2


def test_the_same_customer_again_is_a_repeat(client, writer, wish, erika):
    response = post(client, asks_url(wish.pk), {"kind": "wish", "customer": "K1000001"}, **writer)
    body = response.json()
    assert body["is_repeat"] is True
    assert (body["ask_count"], body["customer_count"]) == (2, 1)
    again = post(client, asks_url(wish.pk), {"kind": "wish", "customer": "K1000001"}, **writer)
    assert (again.json()["ask_count"], again.json()["customer_count"]) == (3, 1)
    assert Ask.objects.filter(request=wish, is_repeat=True).count() == 2


def test_an_ask_without_a_customer_counts_no_customer(client, writer, wish):
    body = post(client, asks_url(wish.pk), {"kind": "wish"}, **writer).json()
    assert (body["ask_count"], body["customer_count"], body["is_repeat"]) == (2, 1, False)


def test_an_ask_on_a_merged_request_lands_on_the_survivor(
    client, writer, tina, wish, rejected, malte
):
    services.feature_request_merge(request=wish, into=rejected, actor=tina)
    response = post(client, asks_url(wish.pk), {"kind": "wish", "customer": "K1000002"}, **writer)
    assert response.status_code == 201
    assert response.json()["request"] == rejected.pk
    assert response.json()["ask_count"] == 3  # its own, the merged one, this one
    assert Ask.objects.latest("pk").request_id == rejected.pk
    wish.refresh_from_db()
    assert wish.ask_count == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "complaint"}, "kind"),
        ({}, "kind"),
        ({"kind": "wish", "customer": "K9999999"}, "customer"),
        ({"kind": "wish", "ticket": "nope"}, "ticket"),
        ({"kind": "wish", "request": 1}, "request"),
    ],
)
def test_bad_asks_are_a_400_and_count_nothing(client, writer, wish, malte, body, field):
    before = state()
    response = post(client, asks_url(wish.pk), body, **writer)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert state() == before


def test_an_ask_with_a_ticket_of_another_customer_is_refused(client, writer, wish, malte_ticket):
    before = state()
    data = {"kind": "wish", "customer": "K1000001", "ticket": malte_ticket.reference}
    response = post(client, asks_url(wish.pk), data, **writer)
    assert response.status_code == 400 and error_fields(response) == ["ticket"]
    assert state() == before


# --- Review -----------------------------------------------------------------------------


def test_an_integration_reviews_with_the_review_scope(client, reviewer, wish):
    response = post(client, transition_url(wish.pk), {"to": "qm_review"}, **reviewer)
    assert response.status_code == 200
    body = response.json()
    assert body["status"]["value"] == "qm_review" and body["version"] == 2
    assert body["history"][-1]["actor"] == "reporting"
    response = post(
        client,
        transition_url(wish.pk),
        {"to": "department_review", "department": "contracts", "version": 2},
        **reviewer,
    )
    assert response.status_code == 200
    assert response.json()["department"] == "contracts"


def test_a_rejection_records_its_reason(client, reviewer, wish):
    reason = "Papierrechnungen kosten 2,50 € und bleiben möglich."
    response = post(
        client, transition_url(wish.pk), {"to": "rejected", "reason": reason}, **reviewer
    )
    assert response.status_code == 200
    assert response.json()["reason"] == reason
    assert response.json()["decided_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "rejected"}, "reason"),
        ({"to": "rejected", "reason": "   "}, "reason"),
        ({"to": "accepted"}, "to"),
        ({"to": "new"}, "to"),
        ({"to": "open"}, "to"),
        ({}, "to"),
        ({"to": "qm_review", "department": "marketing"}, "department"),
        ({"to": "qm_review", "department": "tech"}, "department"),
        ({"to": "qm_review", "into": 1}, "into"),
        ({"to": "qm_review", "status": "accepted"}, "status"),
        ({"to": "qm_review", "version": 0}, "version"),
        ({"to": "merged"}, "into"),
        ({"to": "merged", "into": HUGE}, "into"),
        ({"to": "merged", "into": 999999}, "into"),
        ({"to": "merged", "into": "abc"}, "into"),
    ],
)
def test_bad_transitions_are_a_400_and_change_nothing(client, reviewer, wish, body, field):
    before = state()
    response = post(client, transition_url(wish.pk), body, **reviewer)
    assert response.status_code == 400, response.json()
    assert error_fields(response) == [field]
    assert state() == before


def test_a_stale_version_is_a_409(client, reviewer, tina, wish):
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    before = state()
    response = post(
        client, transition_url(wish.pk), {"to": "department_review", "version": 1}, **reviewer
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "refused"
    assert state() == before


def test_a_merge_folds_the_asks_into_the_survivor(client, reviewer, bob, wish, rejected):
    response = post(
        client, transition_url(wish.pk), {"to": "merged", "into": rejected.pk}, **reviewer
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"]["value"] == "merged" and body["merged_into"] == rejected.pk
    assert body["ask_count"] == 0
    rejected.refresh_from_db()
    assert (rejected.ask_count, rejected.customer_count) == (2, 1)


def test_merging_into_itself_or_a_merged_request_is_refused(
    client, reviewer, bob, tina, wish, rejected
):
    other = file(bob, "Rechnung per Post, bitte")
    services.feature_request_merge(request=other, into=rejected, actor=tina)
    before = state()
    for into in (wish.pk, other.pk):
        response = post(client, transition_url(wish.pk), {"to": "merged", "into": into}, **reviewer)
        assert response.status_code == 400, into
        assert error_fields(response) == ["into"]
    # A merged request itself can move nowhere, not even into another merge.
    response = post(client, transition_url(other.pk), {"to": "merged", "into": wish.pk}, **reviewer)
    assert response.status_code == 400 and error_fields(response) == ["into"]
    response = post(client, transition_url(other.pk), {"to": "qm_review"}, **reviewer)
    assert response.status_code == 400 and error_fields(response) == ["to"]
    assert state() == before


def test_a_merge_takes_no_reason_or_department(client, reviewer, wish, rejected):
    before = state()
    body = {"to": "merged", "into": rejected.pk, "reason": "Doppelt", "department": "tech"}
    response = post(client, transition_url(wish.pk), body, **reviewer)
    assert response.status_code == 400
    assert sorted(error_fields(response)) == ["department", "reason"]
    assert state() == before


def test_a_stale_merge_is_a_409(client, reviewer, wish, rejected):
    before = state()
    body = {"to": "merged", "into": rejected.pk, "version": wish.version + 1}
    response = post(client, transition_url(wish.pk), body, **reviewer)
    assert response.status_code == 409
    assert state() == before


# --- Schema and scopes ------------------------------------------------------------------


def test_the_new_scopes_can_be_given_to_tokens(reporting):
    from helpdesk.models import SCOPES

    assert set(SCOPES) >= ALL_SCOPES
    assert all(str(SCOPES[scope]) for scope in ALL_SCOPES)


def test_the_schema_documents_the_feature_requests_api_and_its_scopes(client, bob):
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        (LIST_URL, "get"): "feature_requests:read",
        (LIST_URL, "post"): "feature_requests:write",
        (f"{LIST_URL}{{id}}/", "get"): "feature_requests:read",
        (SIMILAR_URL, "get"): "feature_requests:read",
        (f"{LIST_URL}{{id}}/asks/", "post"): "feature_requests:write",
        (f"{LIST_URL}{{id}}/transition/", "post"): "feature_requests:review",
    }
    for (path, method), scope in expected.items():
        operation = paths[path][method]
        assert operation["x-required-scope"] == scope, (path, method)
        assert f"`{scope}`" in operation["description"]
    assert set(paths[f"{LIST_URL}{{id}}/"]) == {"get"}
    parameters = {parameter["name"] for parameter in paths[LIST_URL]["get"]["parameters"]}
    assert parameters == {"status", "department", "q", "ordering", "cursor", "page_size"}


@pytest.mark.parametrize("ordering", ["asks", "customers", "recent", "newest"])
def test_every_order_pages_through_ties_without_gaps(client, reader, bob, erika, ordering):
    moment = timezone.now()
    made = [file(bob, f"Wunsch Nummer {i}", now=moment) for i in range(5)]
    ask(made[1], bob, customer=erika, now=moment + timedelta(minutes=1))
    expected = list(
        selectors.feature_request_rows(user=bob, filters={"ordering": ordering}).values_list(
            "pk", flat=True
        )
    )
    seen, url, data = [], LIST_URL, {"page_size": 2, "ordering": ordering}
    while url:
        body = client.get(url, data, **reader).json()
        seen += [row["id"] for row in body["results"]]
        url, data = body["next"], {}
    assert seen == expected and len(seen) == 5
