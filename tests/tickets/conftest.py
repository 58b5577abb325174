"""The organisation for ticket tests (from the default-organisation migration) and tickets.

- bob: customer service, 1st line
- carol: billing, up to 2nd line
- tina: team lead of customer service and tech, up to 3rd line
- trent: tech, up to 3rd line
- max_: management (sees every ticket without an agent profile)
- erika (alice's record) and malte (mallory's) from the customers tests
"""

import pytest
from django.contrib.auth.models import User

from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from tests.conftest import PASSWORD
from tests.customers import conftest as customer_fixtures
from tickets import services
from tickets.choices import Channel
from tickets.models import Department, Queue, SupportArea

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
