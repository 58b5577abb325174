"""A whole small world for the security tests: two customers with everything a customer
can own, an agent in every department, a dispatcher, a team lead, management, an admin
and an integration, all made through the apps' services.

- alice owns Erika's record (K1000001, customer A), mallory Malte's (K1000002, customer B);
  each has tickets in customer service, tech, billing and contracts, a contract, a line,
  invoices, a request to management with a proposal; Erika has a visit on her tech ticket,
  files on her customer-service ticket (one on a public reply, one on an internal note),
  a domain with an auth code and a call bob took.
- bob: customer service, 1st line (extension 201); carol: billing; trent: tech; conny:
  contracts; dana: dispatcher (tech); tina: team lead of customer service and tech; max:
  management; root: a Django superuser without a helpdesk role; phone_system: the
  integration, with a token carrying every scope (`world.token`).
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from calls import services as call_services
from escalation.choices import ProposalKind
from escalation.services import management as management_services
from feature_requests import services as feature_services
from feature_requests.choices import AskKind, TargetDepartment
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from helpdesk.models import SCOPES
from tests.conftest import PASSWORD
from tests.customers import conftest as customer_fixtures
from tests.management import conftest as management_fixtures
from tests.tickets.conftest import area, department
from tickets import services as ticket_services
from tickets.choices import Channel
from tickets.models import Technician, VisitWindow
from tickets.services import outages as outage_services
from tickets.services import visits as visit_services

# Fixtures of the customers and management tests, requested by `world` below.
erika = customer_fixtures.erika
malte = customer_fixtures.malte
hosting = management_fixtures.hosting

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Cached pages (/status/, /wait-times/) and the API rate count live in memory per
    test: a page another test (or worker) cached would hide what this test wrote."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sec"}
    }
    cache.clear()
    yield
    cache.clear()


def _staff(username: str, role: Role, first: str, last: str, **extra) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, first_name=first, last_name=last, **extra
    )
    helpdesk_services.user_role_grant(user=user, role=role)
    return user


def _ticket(customer, actor, support_area: str, subject: str, **extra):
    return ticket_services.ticket_create(
        customer=customer,
        subject=subject,
        body="Bitte um Hilfe.",
        channel=Channel.PORTAL,
        support_area=area(support_area),
        actor=actor,
        **extra,
    )


def _customer_world(customer, user, *, number: str, dsl, hosting, prefix: str):
    """One customer's things: a ticket in each department, contract, invoice, request."""
    contract = customer_fixtures.Contract.objects.create(
        customer=customer,
        product=dsl,
        number=f"V-{number}-1",
        start_date=timezone.localdate() - timedelta(days=400),
        minimum_term_months=24,
        notice_period_months=1,
        monthly_price=dsl.monthly_price,
    )
    hosting_contract = management_fixtures._contract(
        customer, hosting, f"V-{number}-2", prepaid_months=6
    )
    invoice = management_fixtures._invoice(customer, f"R-{number}", "59.94")
    line = customer_fixtures.Connection.objects.create(
        customer=customer,
        contract=contract,
        kind=customer_fixtures.ServiceKind.DSL,
        identifier=f"DEU.{number}",
        state=customer_fixtures.LineState.ONLINE,
    )
    domain = customer_fixtures.Connection.objects.create(
        customer=customer, kind=customer_fixtures.ServiceKind.DOMAIN, identifier=f"{prefix}.de"
    )
    customer_fixtures.services.connection_auth_code_store(
        connection=domain, auth_code=f"AUTH-{prefix}"
    )
    tickets = SimpleNamespace(
        cs=_ticket(customer, user, "invoice-question", "Rechnung doppelt abgebucht"),
        tech=_ticket(customer, user, "no-internet", "Kein Internet seit heute"),
        billing=_ticket(customer, user, "payment-check", "Zahlung prüfen"),
        contracts=_ticket(customer, user, "cancellation", "Kündigung"),
    )
    request = management_services.management_request_create(
        customer=customer, subject="Beschwerde", text="Seit Wochen gestört.", actor=user
    )
    return SimpleNamespace(
        customer=customer,
        user=user,
        contract=contract,
        hosting=hosting_contract,
        invoice=invoice,
        line=line,
        domain=domain,
        tickets=tickets,
        request=request,
    )


@pytest.fixture
def world(
    settings, tmp_path, alice, mallory, bob, carol, tina, max_, phone_system, erika, malte, hosting
):
    """Everything the permission matrix requests, made once for the test that uses it."""
    settings.MEDIA_ROOT = tmp_path
    trent = _staff("trent", Role.AGENT, "Trent", "Roth")
    conny = _staff("conny", Role.AGENT, "Conny", "Lang")
    dana = _staff("dana", Role.DISPATCHER, "Dana", "Richter")
    root = User.objects.create_superuser(username="root", password=PASSWORD)
    profile = ticket_services.agent_profile_set
    profile(user=bob, departments=[department("customer-service")], highest_line=1, extension="201")
    profile(user=carol, departments=[department("billing")], highest_line=2, extension="401")
    profile(user=trent, departments=[department("tech")], highest_line=3)
    profile(user=conny, departments=[department("contracts")], highest_line=1)
    profile(user=dana, departments=[department("tech")], highest_line=1)
    profile(
        user=tina,
        departments=[department("customer-service"), department("tech")],
        highest_line=3,
        is_team_lead=True,
    )

    dsl = customer_fixtures.Product.objects.create(
        name="DSL 100", kind=customer_fixtures.ServiceKind.DSL, monthly_price="39.99"
    )
    a = _customer_world(erika, alice, number="1000001", dsl=dsl, hosting=hosting, prefix="erika")
    b = _customer_world(malte, mallory, number="1000002", dsl=dsl, hosting=hosting, prefix="malte")

    for side in (a, b):
        side.reply = ticket_services.ticket_reply(
            ticket=side.tickets.cs,
            actor=bob,
            body="Die Gutschrift anbei.",
            attachments=[SimpleUploadedFile("Gutschrift.pdf", PDF)],
        ).attachments.get()
        side.note = ticket_services.ticket_note_add(
            ticket=side.tickets.cs,
            actor=bob,
            body="Protokoll",
            attachments=[SimpleUploadedFile("protokoll.log", b"intern")],
        ).attachments.get()
        side.proposal = management_services.proposal_make(
            request=side.request,
            kind=ProposalKind.CREDIT_NOTE,
            findings="Die Leitung war gestört.",
            amount="25.00",
            invoice=side.invoice,
            actor=max_,
        )

    cologne = visit_services.visit_region_save(
        name="Köln", area="50667-51149", default_windows=[["08:00", "12:00", 2]]
    )
    berlin = visit_services.visit_region_save(
        name="Berlin", area="10115-14199", default_windows=[["08:00", "12:00", 2]]
    )
    first_day = timezone.localdate() + timedelta(days=1)
    visit_services.visit_windows_fill(region=cologne, first_day=first_day, days=7)
    visit_services.visit_windows_fill(region=berlin, first_day=first_day, days=7)
    technician = Technician.objects.create(name="Ole Brandt", company="NetzBau Rhein GmbH")
    technician.regions.add(cologne, berlin)
    for side, region in ((a, cologne), (b, berlin)):
        window = VisitWindow.objects.filter(region=region).order_by("date", "starts").first()
        side.visit = visit_services.appointment_book(
            ticket=side.tickets.tech, window=window, actor=trent, technician=technician
        )
    window = VisitWindow.objects.filter(region=cologne).order_by("date", "starts").last()

    outage, _new = outage_services.outage_create(
        title="DSL-Störung Köln-Porz",
        description="Kabel beschädigt.",
        services=["dsl", "voip"],
        area="51143-51149",
        actor=trent,
        expected_end_at=timezone.now() + timedelta(hours=6),
    )
    text_module = ticket_services.text_module_create(
        department=department("customer-service"),
        language="de",
        shortcut="gruss",
        title="Gruß",
        body="Mit freundlichen Grüßen",
        actor=tina,
    )
    wish = feature_services.feature_request_create(
        title="Rechnung wieder per Post verschicken",
        description="Papier bitte.",
        department=TargetDepartment.BILLING,
        kind=AskKind.WISH,
        ticket=a.tickets.cs,
        actor=bob,
    )
    other_wish = feature_services.feature_request_create(
        title="Dunkles Design im Kundenportal",
        department=TargetDepartment.WEBSITE,
        kind=AskKind.WISH,
        actor=bob,
    )
    call, _created = call_services.call_report(
        external_id="pbx-1",
        caller_number="0221 1234567",
        ivr_choice="1",
        queue_name="Hotline",
        wait_seconds=52,
        extension="201",
        actor=None,
    )
    _token, key = helpdesk_services.api_token_create(
        user=phone_system, name="Everything", scopes=sorted(SCOPES)
    )
    return SimpleNamespace(
        a=a,
        b=b,
        users=SimpleNamespace(
            alice=alice,
            mallory=mallory,
            bob=bob,
            carol=carol,
            trent=trent,
            conny=conny,
            dana=dana,
            tina=tina,
            max=max_,
            root=root,
            integration=phone_system,
        ),
        window=window,
        outage=outage,
        text_module=text_module,
        wish=wish,
        other_wish=other_wish,
        call=call,
        token=key,
    )
