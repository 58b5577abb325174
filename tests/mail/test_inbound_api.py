"""POST /api/v1/inbound-email/: the mail gateway delivers raw messages; outcomes as status
codes, bad input refused with a JSON error and nothing changed, every other role refused,
a fixed number of queries."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import services as helpdesk_services
from helpdesk.models import ApiToken
from mail.choices import InboundOutcome, InboundSource
from mail.models import InboundMail
from tests.mail import inbound_fixtures
from tests.mail.inbound_fixtures import PDF, eml, mail
from tickets.models import Ticket, TicketMessage

media = inbound_fixtures.media
mail_settings = inbound_fixtures.mail_settings

pytestmark = pytest.mark.usefixtures("media", "mail_settings")

URL = "/api/v1/inbound-email/"
RFC822 = "message/rfc822"


@pytest.fixture
def gateway_token(phone_system):
    _token, key = helpdesk_services.api_token_create(
        user=phone_system, name="Mail gateway", scopes=["mail:write"]
    )
    return key


def deliver(client, raw: bytes, key: str | None, content_type: str = RFC822):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return client.generic("POST", URL, raw, content_type=content_type, **headers)


def nothing_changed() -> bool:
    return not (
        InboundMail.objects.exists() or Ticket.objects.exists() or TicketMessage.objects.exists()
    )


# --- What becomes of a message ------------------------------------------------------------


def test_a_new_mail_answers_201_with_the_ticket(client, gateway_token, erika, team):
    response = deliver(client, mail(message_id="<new@example.de>"), gateway_token)
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["outcome"] == "created" and body["ticket"] == ticket.reference
    assert body["message_id"] == "<new@example.de>" and body["duplicate"] is False
    assert body["flagged"] is False and body["reason_code"] == ""
    row = InboundMail.objects.get()
    assert row.source == InboundSource.API and row.pk == body["id"]
    assert ticket.customer == erika


def test_the_same_mail_again_answers_200_and_changes_nothing(client, gateway_token, erika, team):
    raw = mail(message_id="<twice@example.de>")
    first = deliver(client, raw, gateway_token).json()
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 200
    assert response.json() == {**first, "duplicate": True}
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1


def test_an_answer_is_attached_with_201(client, gateway_token, ticket):
    raw = eml("outlook_reply.eml", reference=ticket.reference)
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 201
    assert response.json()["outcome"] == "attached"
    assert response.json()["ticket"] == ticket.reference


def test_a_forged_tag_answers_201_flagged_with_a_new_ticket(client, gateway_token, ticket, malte):
    raw = mail(subject=f"Re: [#{ticket.reference}] x", sender="malte@example.de")
    body = deliver(client, raw, gateway_token).json()
    assert body["flagged"] is True and body["ticket"] != ticket.reference
    assert body["reason_code"] == "reference_mismatch"


def test_an_auto_reply_answers_200_ignored(client, gateway_token, ticket):
    raw = eml("auto_reply.eml", reference=ticket.reference)
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored" and response.json()["ticket"] is None
    assert ticket.messages.count() == 1


def test_a_30_mb_mail_answers_413_and_the_gateway_keeps_it(client, gateway_token, erika, team):
    raw = mail(attachments=(("fotos.pdf", "application/pdf", PDF + bytes(30 * 1024 * 1024)),))
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["code"] == "too_large" and error["field"] is None and "25" in error["message"]
    row = InboundMail.objects.get()
    assert row.outcome == InboundOutcome.REJECTED and row.from_address == "erika@example.de"
    assert row.size == len(raw) and row.raw_path == ""  # only the headers were read
    assert not Ticket.objects.exists()


def test_mass_mail_answers_422(client, gateway_token, erika, team):
    to = ", ".join(f"kunde{n}@example.de" for n in range(500))
    response = deliver(client, mail(to=to), gateway_token)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "too_many_recipients"
    assert not Ticket.objects.exists()


def test_garbage_answers_422_and_is_kept(client, gateway_token, team, media):
    raw = b"\x00\xff garbage without headers \xfe" * 10
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "no_sender"
    row = InboundMail.objects.get()
    assert (media / row.raw_path).read_bytes() == raw
    assert not Ticket.objects.exists()


# --- Bad requests: a clear error, nothing changed ------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \r\n  "])
def test_an_empty_body_answers_400(client, gateway_token, team, raw):
    response = deliver(client, raw, gateway_token)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "empty"
    assert nothing_changed()


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_another_content_type_answers_415(client, gateway_token, team, content_type):
    response = deliver(client, mail(), gateway_token, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"]
    assert nothing_changed()


def test_get_is_not_a_way_in(client, gateway_token):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {gateway_token}")
    assert response.status_code in (403, 405)


# --- Who may deliver ----------------------------------------------------------------------


def test_without_credentials_401(client, team):
    response = deliver(client, mail(), None)
    assert response.status_code == 401 and response.json()["errors"]
    assert nothing_changed()


def test_a_token_without_the_scope_is_refused(client, phone_system, team):
    _token, key = helpdesk_services.api_token_create(
        user=phone_system, name="Phone", scopes=["tickets:write", "customers:read"]
    )
    response = deliver(client, mail(), key)
    assert response.status_code == 403 and response.json()["errors"]
    assert nothing_changed()


def test_a_revoked_token_is_refused(client, gateway_token, team):
    helpdesk_services.api_token_revoke(token=ApiToken.objects.get())
    assert deliver(client, mail(), gateway_token).status_code == 401
    assert nothing_changed()


def test_a_token_of_a_user_no_longer_integration_is_refused(
    client, gateway_token, phone_system, team
):
    phone_system.groups.clear()
    assert deliver(client, mail(), gateway_token).status_code == 403
    assert nothing_changed()


@pytest.mark.parametrize("persona", ["alice", "mallory", "bob", "tina", "max_"])
def test_sessions_are_refused_staff_and_customers_alike(client, team, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = deliver(client, mail(), None)
    assert response.status_code == 403
    assert response.json()["errors"]
    assert nothing_changed()


# --- Cost -----------------------------------------------------------------------------------


def _queries(client, key: str, raw: bytes) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = deliver(client, raw, key)
    assert response.status_code in (200, 201), response.content
    return len(captured.captured_queries)


def test_a_new_ticket_costs_the_same_queries_however_much_is_stored(
    client, gateway_token, erika, team, django_assert_num_queries
):
    deliver(client, mail(subject="warm-up: token last used"), gateway_token)
    few = _queries(client, gateway_token, mail(subject="Zweite"))
    for n in range(30):
        deliver(client, mail(subject=f"Mehr {n}", sender=f"k{n}@example.org"), gateway_token)
    many = _queries(client, gateway_token, mail(subject="Dritte"))
    assert few == many
    # token+user, roles, Message-ID known?, the row, customer, sender's tickets this hour,
    # area, counter, ticket, message, event, SLA policy and calendar (4), clock, ticket
    # deadline, SLA event, acknowledgement, the message read back, the row's outcome, the
    # customer's lines for the ticket's line-status snapshot, and 4 savepoint statements.
    assert few == 26
    with django_assert_num_queries(26):
        deliver(client, mail(subject="Vierte"), gateway_token)


def test_fixed_queries_per_outcome(client, gateway_token, ticket, django_assert_num_queries):
    raw = mail(message_id="<q@example.de>")
    deliver(client, raw, gateway_token)  # the token's last use is written on the first call
    with django_assert_num_queries(3):  # token+user, roles, the known Message-ID
        assert deliver(client, raw, gateway_token).status_code == 200
    auto = eml("auto_reply.eml", reference=ticket.reference)
    # token+user, roles, Message-ID, savepoint, row, savepoint release (the id is not in
    # our domain: no look-up among our outgoing mail)
    with django_assert_num_queries(6):
        assert deliver(client, auto, gateway_token).status_code == 200


# --- Schema ----------------------------------------------------------------------------------


def test_the_schema_is_valid_and_documents_the_endpoint(tmp_path, client, bob):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    client.force_login(bob)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operation = response.json()["paths"][URL]["post"]
    assert operation["x-required-scope"] == "mail:write"
    assert set(operation["requestBody"]["content"]) == {RFC822}
    assert {"200", "201", "413", "422"} <= set(operation["responses"])
