"""Bad input in every text field a person can fill in: script payloads, `javascript:` links,
CR/LF in what becomes a mail subject, 1 MB values and odd Unicode.

One test per field group and payload kind. A payload that is accepted must come back
literally (escaped) on every page that shows it, to agents and, where they see it, to the
customer, and in the HTML of notification mails; a 1 MB value must be refused with an
error at the field (form error or JSON error), writing nothing; a subject with CR/LF must
not add a header to the mail that is sent.

Pages are read in English (Accept-Language), so assertions do not depend on translations.
"""

import base64
import email
import email.policy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants, get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from customers.choices import ServiceKind
from customers.models import Connection, CustomerNote
from escalation.choices import ProposalKind
from escalation.models import ManagementRequest, ManagementRequestEvent, Proposal
from escalation.services import management as management_services
from feature_requests import services as feature_services
from feature_requests.choices import AskKind, TargetDepartment
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from helpdesk.models import SCOPES
from mail import services as mail_services
from mail.models import OutboundMail
from tests.management import conftest as management_fixtures
from tests.tickets import conftest as ticket_fixtures
from tests.tickets.conftest import area, department
from tickets import services as ticket_services
from tickets.choices import Priority
from tickets.models import (
    Appointment,
    Outage,
    OutageUpdate,
    TextModule,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from tickets.services import visits as visit_services

pytestmark = pytest.mark.django_db

# Fixtures of the tickets and management tests.
erika = ticket_fixtures.erika
bob_agent = ticket_fixtures.bob_agent
carol_agent = ticket_fixtures.carol_agent
tina_agent = ticket_fixtures.tina_agent
trent = ticket_fixtures.trent
team = ticket_fixtures.team
ticket = ticket_fixtures.ticket
tech_ticket = ticket_fixtures.tech_ticket
cologne = ticket_fixtures.cologne
cologne_windows = ticket_fixtures.cologne_windows
dsl_outage = ticket_fixtures.dsl_outage
erika_request = management_fixtures.erika_request
erika_invoice = management_fixtures.erika_invoice

MARKUP = (
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> '
    "[Anleitung](javascript:alert(1)) javascript:alert(1)"
)
# Right-to-left override, zero-width joiner and space, a combining accent, emoji (one with
# a joiner inside): stored and shown as they are.
WORD = "Kabel\u200dsalat"
UNICODE_WITHOUT_OVERRIDE = f"{WORD} null\u200bbreite Cafe\u0301 👩\u200d💻 🙂"
UNICODE = f"\u202eStörung\u202c {UNICODE_WITHOUT_OVERRIDE}"
HUGE = "x" * 1_000_000
CRLF = "Hallo\r\nBcc: evil@example.com"

KINDS = ("markup", "unicode", "huge")
VALUES = {"markup": MARKUP, "unicode": UNICODE, "huge": HUGE}
JAVASCRIPT_LINK = re.compile(r"""href\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


# --- The context a case runs in -------------------------------------------------------------


class Ctx:
    """Fixtures on demand and signed-in clients, so each case asks only for what it uses."""

    def __init__(self, request):
        self._request = request
        self._clients: dict[str, Client] = {}
        self._token = None
        self._made: dict = {}

    def __getattr__(self, name):
        return self._request.getfixturevalue(name)

    def once(self, key: str, make: Callable):
        """The same object for every submit of a test (made in `prepare`, before counting)."""
        if key not in self._made:
            self._made[key] = make(self)
        return self._made[key]

    def as_(self, user: User) -> Client:
        if user.username not in self._clients:
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.force_login(user)
            self._clients[user.username] = client
        return self._clients[user.username]

    def api(self, method: str, url: str, data: dict):
        """A JSON call with the token of an integration holding every scope."""
        if self._token is None:
            user = User.objects.create_user(username="integration")
            user.set_unusable_password()
            user.save()
            helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
            _row, self._token = helpdesk_services.api_token_create(
                user=user, name="Everything", scopes=sorted(SCOPES)
            )
        client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {self._token}")
        if method == "get":
            return client.get(url)
        return getattr(client, method)(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def ctx(request, settings, tmp_path, team, erika):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the status page is cached for half a minute
    # A DSL line, so outages over Erika's postal code reach her portal page too.
    Connection.objects.create(customer=erika, kind=ServiceKind.DSL, identifier="DEU.1")
    return Ctx(request)


# --- The field groups ---------------------------------------------------------------------


@dataclass
class Case:
    """One field group: how to submit a value, where it shows, what must not change."""

    name: str
    submit: Callable  # (ctx, value) -> response
    pages: Callable  # (ctx) -> [(client, url)] where the stored value is shown
    field: str  # the form/JSON field the 1 MB error belongs to
    rows: Callable = lambda ctx: ()  # extra state a refused edit must leave alone
    prepare: Callable = lambda ctx: ctx.ticket  # what must exist before rows are counted
    search: Callable | None = None  # (ctx, word) -> (client, url, what must be listed)
    kinds: tuple = KINDS
    mails_subject: bool = False  # the value becomes (part of) a mail subject
    literal: bool = True  # False: kept for the history only, no page shows it
    # A ticket subject drops direction overrides and isolates (they would disguise it in
    # lists and mail headers); everything else in the value is kept as it is.
    drops_direction_controls: bool = False


def _last(model):
    return model.objects.order_by("-pk").first()


def _ticket_pages(ctx, ticket=None, *, portal=True):
    ticket = ticket or _last(Ticket)
    pages = [(ctx.as_(ctx.tina), reverse("tickets:ticket-detail", args=[ticket.reference]))]
    if portal:
        url = reverse("portal_tickets:ticket-detail", args=[ticket.reference])
        pages.append((ctx.as_(ctx.alice), url))
    return pages


def _agent_url(ticket) -> str:
    return reverse("tickets:ticket-detail", args=[ticket.reference])


def _version(ticket) -> int:
    return Ticket.objects.get(pk=ticket.pk).version


def _ticket_action(verb: str, data: dict, *, user="bob"):
    prefix = verb.replace("-", "_")

    def submit(ctx, value):
        ticket = ctx.ticket
        payload = {f"{prefix}-version": _version(ticket)}
        for key, v in data.items():
            v = v(ctx) if callable(v) else v
            payload[f"{prefix}-{key}"] = value if v is None else v
        url = reverse(f"tickets:ticket-{verb}", args=[ticket.reference])
        return ctx.as_(getattr(ctx, user)).post(url, payload)

    return submit


def _ticket_state(ctx):
    row = Ticket.objects.get(pk=ctx.ticket.pk)
    return (row.version, row.subject, row.queue_id, row.status)


def _ticket_search(ctx, word):
    url = reverse("tickets:ticket-search") + "?" + _query(word)
    return ctx.as_(ctx.bob), url, _last(Ticket).reference


def _query(word: str) -> str:
    return urlencode({"q": word})


def _agent_ticket_create(ctx, value, *, subject=None, body=None):
    url = reverse("tickets:ticket-create", args=[ctx.erika.number])
    return ctx.as_(ctx.bob).post(
        url,
        {
            "support_area": area("invoice-question").pk,
            "channel": "phone",
            "priority": Priority.NORMAL,
            "subject": value if subject is None else subject,
            "body": value if body is None else body,
            "outage": "",
        },
    )


def _portal_ticket_create(ctx, value, *, subject=None, body=None):
    return ctx.as_(ctx.alice).post(
        reverse("portal_tickets:ticket-create"),
        {
            "support_area": area("invoice-question").pk,
            "subject": value if subject is None else subject,
            "body": value if body is None else body,
        },
    )


def _api_ticket_create(ctx, value, *, subject=None, body=None):
    return ctx.api(
        "post",
        "/api/v1/tickets/",
        {
            "customer": ctx.erika.number,
            "subject": value if subject is None else subject,
            "body": value if body is None else body,
            "support_area": "invoice-question",
        },
    )


def _inbound_mail(ctx, value, *, subject=None, body=None):
    """The mail gateway delivers a customer's mail; the subject travels as an encoded word,
    which may carry CR/LF and anything else into the decoded subject."""
    subject = value if subject is None else subject
    encoded = base64.b64encode(subject.encode()).decode()
    body = (value if body is None else body).encode()
    raw = (
        b"From: Erika Musterfrau <erika@example.de>\r\nTo: support@example.net\r\n"
        b"Message-ID: <payload-1@example.de>\r\n"
        + f"Subject: =?utf-8?b?{encoded}?=\r\n".encode()
        + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    ctx.api("get", "/api/v1/me/", None)  # makes the token
    return Client().generic(
        "POST",
        "/api/v1/inbound-email/",
        raw,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Token {ctx._token}",
    )


def _creating(make, *, kinds=KINDS, search=True, portal=True):
    """Subject and body of a new ticket, as two cases."""
    name = make.__name__.strip("_")
    return [
        Case(
            f"{name}-subject",
            lambda ctx, value: make(ctx, value, body="Bitte um Rückruf."),
            lambda ctx: _ticket_pages(ctx, portal=portal),
            "subject",
            search=_ticket_search if search else None,
            kinds=kinds,
            mails_subject=True,
            drops_direction_controls=True,
        ),
        Case(
            f"{name}-body",
            lambda ctx, value: make(ctx, value, subject="Frage zur Rechnung"),
            lambda ctx: _ticket_pages(ctx, portal=portal),
            "body",
            search=_ticket_search if search else None,
            kinds=kinds,
        ),
    ]


def _api_ticket(path: str, data: dict, method="post"):
    def submit(ctx, value):
        payload = {key: value if v is None else v for key, v in data.items()}
        if "version" in payload:
            payload["version"] = _version(ctx.ticket)
        return ctx.api(method, f"/api/v1/tickets/{ctx.ticket.reference}/{path}", payload)

    return submit


def _customer_note(ctx, value):
    url = reverse("customers:customer-note-add", args=[ctx.erika.number])
    return ctx.as_(ctx.bob).post(url, {"kind": "info", "text": value})


def _management_request(ctx, value, *, subject=None, text=None):
    return ctx.as_(ctx.alice).post(
        reverse("portal_management:request-create"),
        {
            "subject": value if subject is None else subject,
            "text": value if text is None else text,
        },
    )


def _management_pages(ctx):
    item = _last(ManagementRequest)
    return [
        (ctx.as_(ctx.max_), reverse("management:request-detail", args=[item.pk])),
        (ctx.as_(ctx.alice), reverse("portal_management:request-detail", args=[item.pk])),
    ]


def _proposal(field_name):
    def submit(ctx, value):
        item = ctx.erika_request
        data = {
            "kind": ProposalKind.INDIVIDUAL,
            "findings": "Leitung gestört.",
            "text": "Gutschrift",
        }
        data[field_name] = value
        return ctx.as_(ctx.max_).post(reverse("management:proposal-make", args=[item.pk]), data)

    return submit


def _open_proposal(ctx):
    return ctx.once(
        "proposal",
        lambda ctx: management_services.proposal_make(
            request=ctx.erika_request,
            kind=ProposalKind.INDIVIDUAL,
            findings="Die Leitung war gestört.",
            text="Wir tauschen den Router.",
            actor=ctx.max_,
        ),
    )


def _proposal_reject(ctx, value):
    proposal = _open_proposal(ctx)
    url = reverse("portal_management:proposal-answer", args=[proposal.pk])
    return ctx.as_(ctx.alice).post(url, {"decision": "reject", "comment": value})


def _proposal_withdraw(ctx, value):
    proposal = _open_proposal(ctx)
    url = reverse("management:proposal-withdraw", args=[proposal.pk])
    return ctx.as_(ctx.max_).post(url, {"reason": value})


def _management_escalate(ctx, value):
    url = reverse("management:ticket-escalate", args=[ctx.ticket.reference])
    return ctx.as_(ctx.bob).post(url, {"reason": value})


def _feature_create(field_name):
    def submit(ctx, value):
        data = {
            "title": "Rechnung per Post",
            "description": "Papier bitte.",
            "department": TargetDepartment.BILLING,
            "kind": AskKind.WISH,
            "customer": ctx.erika.number,
            "ticket": "",
            "note": "",
        }
        data[field_name] = value
        return ctx.as_(ctx.bob).post(reverse("feature_requests:request-create"), data)

    return submit


def _feature_pages(ctx):
    feature = _last(FeatureRequest)
    return [(ctx.as_(ctx.bob), reverse("feature_requests:request-detail", args=[feature.pk]))]


def _feature_search(ctx, word):
    url = reverse("feature_requests:request-list") + "?" + _query(word)
    feature = _last(FeatureRequest)
    return ctx.as_(ctx.bob), url, reverse("feature_requests:request-detail", args=[feature.pk])


@pytest.fixture
def wish(bob, erika, team):
    return feature_services.feature_request_create(
        title="Rechnung wieder per Post verschicken",
        description="Papier bitte.",
        department=TargetDepartment.BILLING,
        kind=AskKind.WISH,
        actor=bob,
    )


def _feature_ask(ctx, value):
    url = reverse("feature_requests:request-ask", args=[ctx.wish.pk])
    return ctx.as_(ctx.bob).post(
        url, {"kind": AskKind.WISH, "customer": ctx.erika.number, "ticket": "", "note": value}
    )


def _feature_edit(field_name):
    def submit(ctx, value):
        wish = ctx.wish
        data = {
            "version": FeatureRequest.objects.get(pk=wish.pk).version,
            "title": wish.title,
            "description": wish.description,
            "department": wish.department,
        }
        data[field_name] = value
        url = reverse("feature_requests:request-edit", args=[wish.pk])
        return ctx.as_(ctx.tina).post(url, data)

    return submit


def _feature_reject(ctx, value):
    wish = ctx.wish
    url = reverse("feature_requests:request-transition", args=[wish.pk])
    data = {
        "version": FeatureRequest.objects.get(pk=wish.pk).version,
        "to": "rejected",
        "reason": value,
        "department": "",
    }
    return ctx.as_(ctx.tina).post(url, data)


def _feature_state(ctx):
    row = FeatureRequest.objects.get(pk=ctx.wish.pk)
    return (row.version, row.title, row.description, row.reason, row.status)


def _feature_api(ctx, value, *, title=None, description=None, note=None):
    return ctx.api(
        "post",
        "/api/v1/feature-requests/",
        {
            "title": value if title is None else title,
            "description": value if description is None else description,
            "note": value if note is None else note,
            "department": TargetDepartment.BILLING,
            "kind": AskKind.WISH,
            "customer": ctx.erika.number,
        },
    )


def _text_module(field_name):
    def submit(ctx, value):
        data = {
            "department": department("customer-service").pk,
            "language": "de",
            "shortcut": "payload-test",
            "title": "Router neu starten",
            "body": "Bitte starten Sie den Router neu.",
        }
        data[field_name] = value
        return ctx.as_(ctx.tina).post(reverse("tickets:text-module-create"), data)

    return submit


def _text_module_pages(ctx):
    module = _last(TextModule)
    return [(ctx.as_(ctx.tina), reverse("tickets:text-module-edit", args=[module.pk]))]


def _text_module_search(ctx, word):
    url = reverse("tickets:text-module-list") + "?" + _query(word)
    module = _last(TextModule)
    return ctx.as_(ctx.tina), url, reverse("tickets:text-module-edit", args=[module.pk])


def _outage_create(field_name):
    def submit(ctx, value):
        data = {
            "title": "DSL-Störung Köln",
            "description": "Kabel beschädigt.",
            "services": ["dsl"],
            "area": "51143-51149",
            "status": "investigating",
            "expected_end_at": "",
        }
        data[field_name] = value
        return ctx.as_(ctx.trent).post(reverse("outages:outage-create"), data)

    return submit


def _outage_pages(ctx, *, public=True):
    outage = _last(Outage)
    pages = [(ctx.as_(ctx.trent), reverse("outages:outage-detail", args=[outage.pk]))]
    if public:
        pages.append((Client(HTTP_ACCEPT_LANGUAGE="en"), reverse("status:status-page")))
        pages.append((ctx.as_(ctx.alice), reverse("portal-home")))
    return pages


def _outage_linked(ctx):
    """The outage with Erika's ticket linked, so an update is mailed to her."""
    from tickets.services import outages

    def link(ctx):
        outages.ticket_outage_link(ticket=ctx.tech_ticket, outage=ctx.dsl_outage, actor=ctx.trent)
        return ctx.dsl_outage

    return ctx.once("outage", link)


def _outage_update(ctx, value):
    outage = _outage_linked(ctx)
    url = reverse("outages:outage-update", args=[outage.pk])
    data = {"text": value, "status": "identified", "expected_end_at": "", "notify": "on"}
    return ctx.as_(ctx.trent).post(url, data)


def _outage_resolve(ctx, value):
    outage = _outage_linked(ctx)
    url = reverse("outages:outage-resolve", args=[outage.pk])
    return ctx.as_(ctx.trent).post(url, {"text": value})


def _outage_api(field_name):
    def submit(ctx, value):
        data = {
            "title": "DSL-Störung Köln",
            "description": "Kabel beschädigt.",
            "services": ["dsl"],
            "area": "51143-51149",
            "external_id": "nms-1",
        }
        data[field_name] = value
        return ctx.api("post", "/api/v1/outages/", data)

    return submit


def _outage_api_update(ctx, value):
    outage = _outage_linked(ctx)
    return ctx.api("post", f"/api/v1/outages/{outage.pk}/updates/", {"text": value})


def _outage_state(ctx):
    return tuple(Outage.objects.values_list("status", "title", "version").order_by("pk"))


def _visit_book(ctx, value):
    ticket = ctx.tech_ticket
    window = ctx.cologne_windows[0]
    url = reverse("visits:book", args=[ticket.reference])
    data = {"window": window.pk, "technician": "", "note": value, "confirmed": "on"}
    return ctx.as_(ctx.trent).post(url, data)


def _visit(ctx):
    return ctx.once(
        "visit",
        lambda ctx: visit_services.appointment_book(
            ticket=ctx.tech_ticket, window=ctx.cologne_windows[0], actor=ctx.trent
        ),
    )


def _visit_cancel(ctx, value):
    visit = _visit(ctx)
    url = reverse("visits:cancel", args=[visit.pk])
    return ctx.as_(ctx.trent).post(url, {"reason": value, "version": visit.version})


def _portal_visit(verb, field_name):
    def submit(ctx, value):
        visit = _visit(ctx)
        url = reverse(f"portal_visits:{verb}", args=[visit.pk])
        return ctx.as_(ctx.alice).post(url, {field_name: value})

    return submit


def _visit_pages(ctx, *, portal=False):
    visit = _last(Appointment)
    pages = [(ctx.as_(ctx.trent), reverse("visits:ticket-visits", args=[visit.ticket.reference]))]
    if portal:
        pages.append((ctx.as_(ctx.alice), reverse("portal_visits:visit", args=[visit.pk])))
    return pages


def _visit_state(ctx):
    return tuple(Appointment.objects.values_list("status", "version").order_by("pk"))


def _call_note(field_name):
    def submit(ctx, value):
        url = reverse("calls:customer-call-note", args=[ctx.erika.number]) + "?call=none"
        data = {
            "summary": "Kunde fragt nach der Rechnung.",
            "subject": "",
            "support_area": area("invoice-question").pk,
            "outcome": "ticket_opened",
            "note": "",
            "department": "",
            "ticket": "",
        }
        data[field_name] = value
        return ctx.as_(ctx.bob).post(url, {f"note-{key}": v for key, v in data.items()})

    return submit


CASES = [
    *_creating(_agent_ticket_create),
    *_creating(_portal_ticket_create),
    *_creating(_api_ticket_create),
    *_creating(_inbound_mail, kinds=("markup", "unicode"), search=False),
    Case(
        "ticket-subject-api-edit",
        _api_ticket("", {"subject": None, "version": 0}, method="patch"),
        lambda ctx: _ticket_pages(ctx, ctx.ticket),
        "subject",
        rows=_ticket_state,
        mails_subject=True,
        drops_direction_controls=True,
    ),
    Case(
        "reply",
        _ticket_action("reply", {"body": None, "status": ""}),
        lambda ctx: _ticket_pages(ctx, ctx.ticket),
        "body",
        rows=_ticket_state,
    ),
    Case(
        "internal-note",
        _ticket_action("note", {"body": None}),
        lambda ctx: _ticket_pages(ctx, ctx.ticket, portal=False),
        "body",
        rows=_ticket_state,
    ),
    Case(
        "portal-reply",
        lambda ctx, value: ctx.as_(ctx.alice).post(
            reverse("portal_tickets:ticket-reply", args=[ctx.ticket.reference]), {"body": value}
        ),
        lambda ctx: _ticket_pages(ctx, ctx.ticket),
        "body",
        rows=_ticket_state,
    ),
    Case(
        "api-reply",
        _api_ticket("messages/", {"kind": "reply", "body": None}),
        lambda ctx: _ticket_pages(ctx, ctx.ticket),
        "body",
        rows=_ticket_state,
    ),
    Case(
        "api-note",
        _api_ticket("messages/", {"kind": "note", "body": None}),
        lambda ctx: _ticket_pages(ctx, ctx.ticket, portal=False),
        "body",
        rows=_ticket_state,
    ),
    Case(
        "escalate-reason",
        _ticket_action("escalate", {"reason": None}),
        lambda ctx: [
            (ctx.as_(ctx.tina), reverse("tickets:ticket-detail", args=[ctx.ticket.reference]))
        ],
        "reason",
        rows=_ticket_state,
    ),
    Case(
        "handoff-note",
        _ticket_action(
            "handoff", {"department": lambda ctx: department("billing").pk, "note": None}
        ),
        lambda ctx: [
            (ctx.as_(ctx.max_), reverse("tickets:ticket-detail", args=[ctx.ticket.reference]))
        ],
        "note",
        rows=_ticket_state,
    ),
    Case(
        "status-note",
        _ticket_action("status", {"status": "waiting_third_party", "note": None}),
        lambda ctx: _ticket_pages(ctx, ctx.ticket, portal=False),
        "note",
        rows=_ticket_state,
    ),
    Case(
        "api-escalate-reason",
        _api_ticket("escalate/", {"reason": None, "version": 0}),
        lambda ctx: [
            (ctx.as_(ctx.tina), reverse("tickets:ticket-detail", args=[ctx.ticket.reference]))
        ],
        "reason",
        rows=_ticket_state,
    ),
    Case(
        "api-handoff-note",
        _api_ticket("handoff/", {"department": "billing", "note": None, "version": 0}),
        lambda ctx: [
            (ctx.as_(ctx.max_), reverse("tickets:ticket-detail", args=[ctx.ticket.reference]))
        ],
        "note",
        rows=_ticket_state,
    ),
    Case(
        "customer-note",
        _customer_note,
        lambda ctx: [
            (ctx.as_(ctx.bob), reverse("customers:customer-detail", args=[ctx.erika.number]))
        ],
        "text",
    ),
    Case(
        "management-request-subject",
        lambda ctx, value: _management_request(ctx, value, text="Seit Wochen gestört."),
        _management_pages,
        "subject",
        mails_subject=True,
    ),
    Case(
        "management-request-text",
        lambda ctx, value: _management_request(ctx, value, subject="Beschwerde"),
        _management_pages,
        "text",
    ),
    Case("proposal-findings", _proposal("findings"), _management_pages, "findings"),
    Case("proposal-text", _proposal("text"), _management_pages, "text"),
    Case("proposal-reject-comment", _proposal_reject, _management_pages, "comment"),
    Case(
        "proposal-withdraw-reason",
        _proposal_withdraw,
        lambda ctx: _management_pages(ctx)[:1],  # the reason is for the request's history
        "reason",
    ),
    Case(
        "management-escalate-reason",
        _management_escalate,
        lambda ctx: [
            (
                ctx.as_(ctx.max_),
                reverse("management:request-detail", args=[_last(ManagementRequest).pk]),
            )
        ],
        "reason",
        rows=_ticket_state,
    ),
    Case(
        "feature-title",
        _feature_create("title"),
        _feature_pages,
        "title",
        search=_feature_search,
    ),
    Case(
        "feature-description",
        _feature_create("description"),
        _feature_pages,
        "description",
        search=_feature_search,
    ),
    Case("feature-ask-note", _feature_ask, _feature_pages, "note", rows=_feature_state),
    Case(
        "feature-edit-title", _feature_edit("title"), _feature_pages, "title", rows=_feature_state
    ),
    Case(
        "feature-edit-description",
        _feature_edit("description"),
        _feature_pages,
        "description",
        rows=_feature_state,
    ),
    Case("feature-reject-reason", _feature_reject, _feature_pages, "reason", rows=_feature_state),
    Case(
        "api-feature-title",
        lambda ctx, value: _feature_api(ctx, value, description="Papier.", note=""),
        _feature_pages,
        "title",
    ),
    Case(
        "api-feature-description",
        lambda ctx, value: _feature_api(ctx, value, title="Rechnung per Post", note=""),
        _feature_pages,
        "description",
    ),
    Case(
        "api-feature-note",
        lambda ctx, value: _feature_api(ctx, value, title="Rechnung per Post", description=""),
        _feature_pages,
        "note",
    ),
    Case(
        "text-module-title",
        _text_module("title"),
        _text_module_pages,
        "title",
        search=_text_module_search,
    ),
    Case(
        "text-module-body",
        _text_module("body"),
        _text_module_pages,
        "body",
        search=_text_module_search,
    ),
    Case("outage-title", _outage_create("title"), _outage_pages, "title", rows=_outage_state),
    Case(
        "outage-description",
        _outage_create("description"),
        lambda ctx: _outage_pages(ctx, public=False),
        "description",
        rows=_outage_state,
    ),
    Case("outage-update", _outage_update, _outage_pages, "text", rows=_outage_state),
    Case(
        "outage-resolve",
        _outage_resolve,
        lambda ctx: _outage_pages(ctx, public=False),
        "text",
        rows=_outage_state,
    ),
    Case("api-outage-title", _outage_api("title"), _outage_pages, "title", rows=_outage_state),
    Case(
        "api-outage-description",
        _outage_api("description"),
        lambda ctx: _outage_pages(ctx, public=False),
        "description",
        rows=_outage_state,
    ),
    Case("api-outage-update", _outage_api_update, _outage_pages, "text", rows=_outage_state),
    Case("visit-note", _visit_book, _visit_pages, "note", rows=_visit_state),
    Case(
        "visit-cancel-reason",
        _visit_cancel,
        lambda ctx: [(ctx.as_(ctx.trent), _agent_url(ctx.tech_ticket))],
        "reason",
        rows=_visit_state,
        literal=False,
    ),
    Case(
        "portal-visit-move-wish",
        _portal_visit("move", "text"),
        _visit_pages,
        "text",
        rows=_visit_state,
    ),
    Case(
        "portal-visit-cancel-reason",
        _portal_visit("cancel", "reason"),
        lambda ctx: _ticket_pages(ctx, ctx.tech_ticket),
        "reason",
        rows=_visit_state,
    ),
    Case(
        "call-subject",
        _call_note("subject"),
        lambda ctx: _ticket_pages(ctx),
        "subject",
        search=_ticket_search,
        mails_subject=True,
        drops_direction_controls=True,
    ),
]

# What each case needs made before the rows are counted (default: Erika's ticket).
PREPARE = {
    "proposal-findings": lambda ctx: ctx.erika_request,
    "proposal-text": lambda ctx: ctx.erika_request,
    "proposal-reject-comment": _open_proposal,
    "proposal-withdraw-reason": _open_proposal,
    "feature-ask-note": lambda ctx: ctx.wish,
    "feature-edit-title": lambda ctx: ctx.wish,
    "feature-edit-description": lambda ctx: ctx.wish,
    "feature-reject-reason": lambda ctx: ctx.wish,
    "outage-update": _outage_linked,
    "outage-resolve": _outage_linked,
    "api-outage-update": _outage_linked,
    "visit-note": lambda ctx: (ctx.cologne_windows, ctx.tech_ticket),
    "visit-cancel-reason": _visit,
    "portal-visit-move-wish": _visit,
    "portal-visit-cancel-reason": _visit,
}
for _case in CASES:
    _case.prepare = PREPARE.get(_case.name, _case.prepare)

MODELS = (
    Ticket,
    TicketMessage,
    TicketEvent,
    CustomerNote,
    ManagementRequest,
    ManagementRequestEvent,
    Proposal,
    FeatureRequest,
    Ask,
    FeatureRequestEvent,
    TextModule,
    Outage,
    OutageUpdate,
    Appointment,
    OutboundMail,
)


def _counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


# --- Checks -------------------------------------------------------------------------------


def assert_no_live_markup(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x onerror" not in html
    assert not JAVASCRIPT_LINK.search(html), "a javascript: link became an <a href>"


def assert_shown_literally(html: str, value: str, where: str = "") -> None:
    assert_no_live_markup(html)
    assert escape(value) in html, f"not shown literally on {where}"


def _form_errors(response) -> dict:
    errors = {}
    for context in response.context or []:
        for item in context.dicts if hasattr(context, "dicts") else [context]:
            for candidate in item.values() if isinstance(item, dict) else []:
                if hasattr(candidate, "errors") and hasattr(candidate, "fields"):
                    errors.update(candidate.errors)
    return errors


def assert_refused_at(response, field_name: str) -> None:
    """A JSON error naming the field, or a form error on the field (no redirect, no 500)."""
    assert response.status_code < 500
    if response.get("Content-Type", "").startswith("application/json"):
        assert response.status_code in (400, 413, 422), response.content[:300]
        fields = {error["field"] for error in response.json()["errors"]}
        assert field_name in fields, response.json()
        return
    if response.status_code == 302:  # a small form posted from a bigger page
        levels = [message.level for message in get_messages(response.wsgi_request)]
        assert constants.ERROR in levels, "redirected without an error message"
        return
    assert response.status_code in (200, 400, 409, 422), response.status_code
    assert field_name in _form_errors(response), _form_errors(response)


def assert_accepted(response) -> None:
    assert response.status_code in (200, 201, 302), (response.status_code, response.content[:500])
    if response.status_code == 200 and not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        assert not _form_errors(response), _form_errors(response)


# --- Tests --------------------------------------------------------------------------------


def _refused(response) -> bool:
    return response.status_code >= 400 or bool(
        response.status_code == 200 and _form_errors(response)
    )


@pytest.mark.parametrize(
    "case,kind",
    [pytest.param(case, kind, id=f"{case.name}-{kind}") for case in CASES for kind in case.kinds],
)
def test_field_takes_payload(ctx, case, kind):
    case.prepare(ctx)
    before, rows = _counts(), case.rows(ctx)
    if kind == "huge":
        assert_refused_at(case.submit(ctx, HUGE), case.field)
        assert (_counts(), case.rows(ctx)) == (before, rows)
        return
    value = VALUES[kind]
    mails_before = set(OutboundMail.objects.values_list("pk", flat=True))
    response = case.submit(ctx, value)
    if kind == "unicode" and _refused(response):
        # Direction overrides may be refused (they can disguise text, "Trojan Source"),
        # with an error at the field; the other odd characters must then pass.
        assert_refused_at(response, case.field)
        assert (_counts(), case.rows(ctx)) == (before, rows)
        value = UNICODE_WITHOUT_OVERRIDE
        response = case.submit(ctx, value)
    assert_accepted(response)
    if kind == "unicode" and case.drops_direction_controls:
        value = UNICODE.replace("\u202e", "").replace("\u202c", "")
    for client, url in case.pages(ctx):
        page = client.get(url)
        assert page.status_code == 200, url
        if case.literal:
            assert_shown_literally(page.content.decode(), value, url)
        else:
            assert_no_live_markup(page.content.decode())
    for mail in OutboundMail.objects.exclude(pk__in=mails_before):
        assert_no_live_markup(mail.body_html)
        assert "\n" not in mail.subject and "\r" not in mail.subject
    if kind == "unicode" and case.search is not None:
        client, url, listed = case.search(ctx, WORD)
        page = client.get(url)
        assert page.status_code == 200
        assert listed in page.content.decode(), f"{WORD!r} not found by {url}"


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.name) for case in CASES if case.mails_subject]
)
def test_a_line_break_in_a_subject_adds_no_mail_header(ctx, case):
    case.prepare(ctx)
    mails_before = set(OutboundMail.objects.values_list("pk", flat=True))
    response = case.submit(ctx, CRLF)
    assert response.status_code < 500
    if _refused(response):
        assert not OutboundMail.objects.exclude(pk__in=mails_before).exists()
        return
    new = list(OutboundMail.objects.exclude(pk__in=mails_before))
    if not new:  # an edit mails nothing itself: the next mail carries the subject
        ticket = Ticket.objects.get(pk=ctx.ticket.pk) if "edit" in case.name else _last(Ticket)
        ticket_services.ticket_reply(ticket=ticket, actor=ctx.bob, body="Erledigt.")
        new = list(OutboundMail.objects.exclude(pk__in=mails_before))
    assert new
    for mail in new:
        assert "\r" not in mail.subject and "\n" not in mail.subject
        assert "Hallo Bcc: evil@example.com" in mail.subject
        raw = mail_services._email_of(mail).message().as_bytes()
        sent = email.message_from_bytes(raw, policy=email.policy.default)
        assert sent["Bcc"] is None and sent.get_all("Bcc") is None
        assert sent["Subject"].strip() == mail.subject  # one header, intact
        assert sent["To"] == mail.to_address


def test_html_mails_escape_what_customers_and_agents_wrote(ctx):
    """Every HTML mail that quotes a person's words: the acknowledgement (subject), a reply,
    an outage update, a management answer."""
    ticket = ticket_services.ticket_create(
        customer=ctx.erika,
        subject=MARKUP,
        body=MARKUP,
        channel="portal",
        support_area=area("invoice-question"),
        actor=ctx.alice,
    )
    ticket_services.ticket_reply(ticket=ticket, actor=ctx.bob, body=MARKUP)
    item = management_services.management_request_create(
        customer=ctx.erika, subject=MARKUP, text=MARKUP, actor=ctx.alice
    )
    management_services.proposal_make(
        request=item, kind=ProposalKind.INDIVIDUAL, findings=MARKUP, text=MARKUP, actor=ctx.max_
    )
    mails = list(OutboundMail.objects.all())
    assert len(mails) >= 4
    for mail in mails:
        assert_no_live_markup(mail.body_html)
        assert escape(MARKUP) in mail.body_html or MARKUP not in mail.body_text
        sent = email.message_from_bytes(
            mail_services._email_of(mail).message().as_bytes(), policy=email.policy.default
        )
        html = sent.get_body(("html",))
        assert html is not None and "<script>alert(1)" not in html.get_content()
