"""The organisation for ticket tests (from the default-organisation migration) and tickets.

- bob: customer service, 1st line
- carol: billing, up to 2nd line
- tina: team lead of customer service and tech, up to 3rd line
- trent: tech, up to 3rd line
- max_: management (sees every ticket without an agent profile)
- erika (alice's record) and malte (mallory's) from the customers tests
- dana: dispatcher (tech); cologne/berlin: visit regions; ole: a subcontractor
- dsl_outage: DSL/VoIP outage over Erika's postal code; monitoring: the integration
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from tests.conftest import PASSWORD
from tests.customers import conftest as customer_fixtures
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, Queue, SupportArea, Technician, VisitWindow
from tickets.services import outages, visits

erika = customer_fixtures.erika
malte = customer_fixtures.malte


def department(slug: str) -> Department:
    return Department.objects.get(slug=slug)


def queue(slug: str, line: int) -> Queue:
    return Queue.objects.get(department__slug=slug, line=line)


def area(slug: str) -> SupportArea:
    return SupportArea.objects.get(slug=slug)


@pytest.fixture
def bob_agent(bob):
    return services.agent_profile_set(
        user=bob, departments=[department("customer-service")], highest_line=1, extension="201"
    )


@pytest.fixture
def carol_agent(carol):
    return services.agent_profile_set(
        user=carol, departments=[department("billing")], highest_line=2
    )


@pytest.fixture
def tina_agent(tina):
    return services.agent_profile_set(
        user=tina,
        departments=[department("customer-service"), department("tech")],
        highest_line=3,
        is_team_lead=True,
    )


@pytest.fixture
def trent(db):
    user = User.objects.create_user(
        username="trent", password=PASSWORD, first_name="Trent", last_name="Roth"
    )
    helpdesk_services.user_role_grant(user=user, role=Role.AGENT)
    services.agent_profile_set(user=user, departments=[department("tech")], highest_line=3)
    return user


@pytest.fixture
def team(bob_agent, carol_agent, tina_agent, trent):
    """Everyone placed in the organisation."""


@pytest.fixture
def ticket(erika, alice, team):
    """Erika's e-mail question, new in the customer-service 1st-line queue."""
    return services.ticket_create(
        customer=erika,
        subject="Rechnung doppelt abgebucht",
        body="Hallo, mir wurde die Rechnung vom Oktober zweimal abgebucht.",
        channel=Channel.PORTAL,
        support_area=area("invoice-question"),
        actor=alice,
    )


@pytest.fixture
def tech_ticket(erika, alice, team):
    """Erika's outage report, new in the tech 1st-line queue."""
    return services.ticket_create(
        customer=erika,
        subject="Kein Internet seit heute Morgen",
        body="Die DSL-Lampe blinkt nur noch.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=alice,
    )


@pytest.fixture
def malte_ticket(malte, mallory, team):
    return services.ticket_create(
        customer=malte,
        subject="Tarifwechsel gewünscht",
        body="Ich möchte auf DSL 250 wechseln.",
        channel=Channel.PORTAL,
        support_area=area("tariff-change"),
        actor=mallory,
    )


# --- Outages and technician visits -----------------------------------------------------------


@pytest.fixture
def dana(db):
    """Dana Richter, dispatcher: plans the technicians of the tech department."""
    user = User.objects.create_user(
        username="dana", password=PASSWORD, first_name="Dana", last_name="Richter"
    )
    helpdesk_services.user_role_grant(user=user, role=Role.DISPATCHER)
    services.agent_profile_set(user=user, departments=[department("tech")], highest_line=1)
    return user


@pytest.fixture
def cologne(db):
    """The Cologne region (Erika lives in 51147) with three standard windows a day."""
    return visits.visit_region_save(
        name="Köln",
        area="50667-51149",
        default_windows=[["08:00", "12:00", 2], ["12:00", "15:00", 2], ["15:00", "17:00", 1]],
    )


@pytest.fixture
def berlin(db):
    return visits.visit_region_save(
        name="Berlin", area="10115-14199", default_windows=[["08:00", "12:00", 1]]
    )


@pytest.fixture
def cologne_windows(cologne):
    """A week of Cologne's standard windows from tomorrow on (working days only)."""
    visits.visit_windows_fill(
        region=cologne, first_day=timezone.localdate() + timedelta(days=1), days=7
    )
    return list(VisitWindow.objects.filter(region=cologne).order_by("date", "starts"))


@pytest.fixture
def ole(cologne):
    """Ole Brandt, a subcontractor's technician in Cologne."""
    technician = Technician.objects.create(name="Ole Brandt", company="NetzBau Rhein GmbH")
    technician.regions.add(cologne)
    return technician


@pytest.fixture
def dsl_outage(trent):
    """A DSL outage over Erika's part of Cologne (51147), opened by trent."""
    outage, _new = outages.outage_create(
        title="DSL-Störung Köln-Porz",
        description="Glasfaserkabel bei Bauarbeiten beschädigt.",
        services=["dsl", "voip"],
        area="51143-51149, 51061",
        actor=trent,
        expected_end_at=timezone.now() + timedelta(hours=6),
    )
    return outage


@pytest.fixture
def monitoring(db):
    """The network monitoring integration."""
    user = User.objects.create_user(username="monitoring")
    user.set_unusable_password()
    user.save()
    helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
    return user


@pytest.fixture
def monitoring_token(monitoring):
    _token, key = helpdesk_services.api_token_create(
        user=monitoring,
        name="Monitoring",
        scopes=["outages:read", "outages:write", "connections:write"],
    )
    return key
