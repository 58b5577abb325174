"""A canary planted in a customer's private credentials, in an internal note on their ticket
and in a customer note for agents appears on no customer-facing page, in no API answer, no
export, no notification e-mail and no log line.

Internal notes and customer notes are for agents, who see them in the workspace by design;
private credentials are shown to nobody. The pages and API routes are read from the URL
conf, so a new one is walked without being listed here. Uses the security tests' `world`
(tests/security/conftest.py): Erika (alice) with everything a customer can own.
"""

import logging
import re

import pytest
from django.core import mail as django_mail
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from customers import services as customer_services
from customers.choices import CredentialKind
from escalation.choices import ProposalKind
from escalation.services import management as management_services
from mail.models import OutboundMail
from tests.customers.conftest import CANARY
from tests.tickets.conftest import area
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.models import VisitWindow
from tickets.services import outages as outage_services
from tickets.services import visits as visit_services

pytestmark = pytest.mark.django_db

NOTE_CANARY = "CANARY-internal-note-5b1e"
CUSTOMER_NOTE_CANARY = "CANARY-customer-note-9d2c"
CANARIES = (CANARY, NOTE_CANARY, CUSTOMER_NOTE_CANARY)
# The ticket conversation: where an internal note would leak first.
CONVERSATION = "api:ticket-messages"
PARAMETER = re.compile(
    r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<regex>[^>]+)>[^)]*\)"
)


def _routes(patterns=None, prefix: str = "", namespace: str = ""):
    """(full name, route with parameters) of every URL of the project."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, prefix + str(pattern.pattern)


def _parameters(route: str) -> list[str]:
    return [match["name"] or match["regex"] for match in PARAMETER.finditer(route)]


def _is_portal(name: str) -> bool:
    return name.startswith("portal") or name.split(":")[0].startswith("portal_")


def _assert_clean(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary} leaked in {where}"


def _plant(world):
    erika, bob = world.a.customer, world.users.bob
    customer_services.credential_store(
        customer=erika, connection=world.a.line, kind=CredentialKind.DSL_PASSWORD, secret=CANARY
    )
    customer_services.credential_store(
        customer=erika, kind=CredentialKind.VOIP_PASSWORD, secret=f"voip-{CANARY}"
    )
    ticket_services.ticket_note_add(
        ticket=world.a.tickets.cs, actor=bob, body=f"Kundin nennt DSL-Passwort {NOTE_CANARY}"
    )
    customer_services.customer_note_add(
        customer=erika, author=bob, text=f"Ruft oft an. {CUSTOMER_NOTE_CANARY}"
    )


def _main_flows(world):
    """Ticket created, replied, resolved; an outage notice; a visit; a proposal."""
    users, erika = world.users, world.a.customer
    ticket = ticket_services.ticket_create(
        customer=erika,
        subject="Router blinkt rot",
        body="Seit gestern blinkt die DSL-Lampe.",
        channel=Channel.PORTAL,
        support_area=area("invoice-question"),
        actor=users.alice,
    )
    ticket_services.ticket_note_add(ticket=ticket, actor=users.bob, body=f"Intern: {NOTE_CANARY}")
    ticket_services.ticket_reply(ticket=ticket, actor=users.bob, body="Wir prüfen die Leitung.")
    ticket_services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=users.bob)
    cs = world.a.tickets.cs
    ticket_services.ticket_reply(ticket=cs, actor=users.bob, body="Die Gutschrift ist gebucht.")
    tech = world.a.tickets.tech
    outage_services.ticket_outage_link(ticket=tech, outage=world.outage, actor=users.trent)
    outage_services.outage_update_post(
        outage=world.outage, text="Bagger hat Kabel getroffen.", actor=users.trent, notify=True
    )
    window = VisitWindow.objects.filter(pk=world.window.pk).get()
    visit_services.appointment_cancel(appointment=world.a.visit, actor=users.trent, reason="Krank")
    visit_services.appointment_book(ticket=tech, window=window, actor=users.trent)
    management_services.proposal_withdraw(
        proposal=world.a.proposal, reason="Neues Angebot", actor=users.max
    )
    management_services.proposal_make(
        request=world.a.request,
        kind=ProposalKind.INDIVIDUAL,
        findings="Die Leitung war drei Wochen gestört.",
        text="Wir schreiben Ihnen einen Monat gut.",
        actor=users.max,
    )


def _portal_pages(world) -> dict[str, str]:
    """Every portal URL of the URL conf, filled with Erika's objects."""
    a = world.a
    values = {
        "reference": a.tickets.cs.reference,
        "contract_id": a.contract.pk,
        "appointment_id": a.visit.pk,
        "request_id": a.request.pk,
        "proposal_id": a.proposal.pk,
        "uidb64": "MQ",
        "token": "set-password",
    }
    pages = {}
    for name, route in _routes():
        if _is_portal(name):
            kwargs = {key: values[key] for key in _parameters(route)}
            pages[name] = reverse(name, kwargs=kwargs)
    for name in ("home", "status:status-page", "wait_times:wait-times"):
        pages[name] = reverse(name)
    return pages


def _api_answers(world) -> dict[str, str]:
    """Every API GET route with Erika's objects (an id per route where it takes one)."""
    a = world.a
    pk = {
        "connection": a.line.pk,
        "outage": world.outage.pk,
        "feature-request": world.wish.pk,
    }
    urls = {}
    for name, route in _routes():
        if not name.startswith("api:"):
            continue
        kwargs = {}
        for parameter in _parameters(route):
            if parameter == "number":
                kwargs[parameter] = a.customer.number
            elif parameter == "reference":
                kwargs[parameter] = a.tickets.cs.reference
            elif parameter == "call_id":
                kwargs[parameter] = world.call.external_id
            elif parameter == "pk":
                base = name.removeprefix("api:").rsplit("-", 1)[0]
                kwargs[parameter] = pk.get(base, 1)
        urls[name] = reverse(name, kwargs=kwargs)
    urls["api:feature-request-similar"] += "?title=Rechnung"
    return urls


def test_the_canary_appears_on_no_customer_surface(
    world, caplog, settings, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)  # the root logger: every line any module writes
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    _plant(world)
    with django_capture_on_commit_callbacks(execute=True):  # mails are sent after commit
        _main_flows(world)

    # Planted where agents see them: the test can fail.
    agent = Client(HTTP_ACCEPT_LANGUAGE="en")
    agent.force_login(world.users.bob)
    record = agent.get(world.a.customer.get_absolute_url()).content.decode()
    assert CUSTOMER_NOTE_CANARY in record and CANARY not in record
    ticket_page = agent.get(reverse("tickets:ticket-detail", args=[world.a.tickets.cs.reference]))
    assert NOTE_CANARY in ticket_page.content.decode()
    mails = list(OutboundMail.objects.filter(ticket__customer=world.a.customer))
    assert {mail.kind for mail in mails} >= {"acknowledgement", "reply", "status", "outage"}
    for mail in OutboundMail.objects.all():
        _assert_clean(f"{mail.subject}\n{mail.body_text}\n{mail.body_html}", f"mail {mail.kind}")
    assert django_mail.outbox, "no mail was sent"
    for sent in django_mail.outbox:
        _assert_clean(sent.message().as_string(), f"sent mail {sent.subject}")

    customer = Client(HTTP_ACCEPT_LANGUAGE="en")
    customer.force_login(world.users.alice)
    pages = _portal_pages(world)
    assert len(pages) >= 20 and "portal_tickets:ticket-detail" in pages
    for name, url in pages.items():
        response = customer.get(url)
        assert response.status_code < 500, url
        _assert_clean(response.content.decode(), f"{name} ({url})")

    api = Client(HTTP_AUTHORIZATION=f"Token {world.token}", HTTP_ACCEPT_LANGUAGE="en")
    answers = _api_answers(world)
    assert CONVERSATION in answers and "api:customer-detail" in answers
    for name, url in answers.items():
        response = api.get(url)
        assert response.status_code < 500, url
        body = response.content.decode()
        _assert_clean(body, f"API {name} ({url})")
        if name == CONVERSATION:  # the conversation is there, only the note is not
            assert response.json()["results"], url

    manager = Client(HTTP_ACCEPT_LANGUAGE="en")
    manager.force_login(world.users.max)
    export = manager.get(reverse("management:kpis-csv"))
    assert export.status_code == 200
    _assert_clean(export.content.decode("utf-8-sig"), "KPI CSV")
    answer = customer.post(reverse("portal-data-download"))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    assert world.a.customer.number in answer.content.decode()
    _assert_clean(answer.content.decode(), "personal-data download")

    lines = [f"{record.name} {record.getMessage()} {record.args!r}" for record in caplog.records]
    assert lines, "nothing was logged: the capture does not work"
    for line in lines:
        _assert_clean(line, f"log line {line[:80]!r}")
