"""Feature requests for the personas (organisation, customers, tickets from the tickets tests).

- bob (customer service, agent) files wishes and records asks, decides nothing;
- tina (team lead of customer service and tech) is quality management, and reviews tech;
- bert (team lead of billing) decides what is passed to billing, nothing else;
- carol (billing agent) reads and asks, decides nothing; max (management) decides all;
- erika (alice's record) and malte (mallory's) are the customers who ask;
- `reporting` is an integration user; `token_for(user, *scopes)` gives an API header.
"""

import pytest
from django.contrib.auth.models import User

from feature_requests import services
from feature_requests.choices import AskKind, Status, TargetDepartment
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from tests.conftest import PASSWORD
from tests.tickets import conftest as tickets_fixtures
from tests.tickets.conftest import department
from tickets import services as tickets_services

bob_agent = tickets_fixtures.bob_agent
carol_agent = tickets_fixtures.carol_agent
tina_agent = tickets_fixtures.tina_agent
trent = tickets_fixtures.trent
team = tickets_fixtures.team
erika = tickets_fixtures.erika
malte = tickets_fixtures.malte
ticket = tickets_fixtures.ticket
malte_ticket = tickets_fixtures.malte_ticket

JSON = "application/json"
LIST_URL = "/api/v1/feature-requests/"


def token_for(user, *scopes: str) -> dict:
    _token, key = helpdesk_services.api_token_create(user=user, name="test", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def bert(team):
    """Billing's team lead."""
    user = User.objects.create_user(
        username="bert", password=PASSWORD, first_name="Bert", last_name="Brandt"
    )
    helpdesk_services.user_role_grant(user=user, role=Role.TEAM_LEAD)
    tickets_services.agent_profile_set(
        user=user, departments=[department("billing")], highest_line=2, is_team_lead=True
    )
    return user


@pytest.fixture
def reporting(db):
    user = User.objects.create_user(username="reporting")
    user.set_unusable_password()
    user.save()
    helpdesk_services.user_role_grant(user=user, role=Role.INTEGRATION)
    return user


@pytest.fixture
def wish(bob, erika, ticket):
    """Erika's wish for paper invoices, filed by bob from her ticket (new, one ask)."""
    return services.feature_request_create(
        title="Rechnung wieder per Post verschicken",
        description="Einige Kunden möchten ihre Rechnung weiterhin auf Papier bekommen.",
        department=TargetDepartment.BILLING,
        kind=AskKind.WISH,
        ticket=ticket,
        note="Kundin ist 84 und hat kein E-Mail-Postfach.",
        actor=bob,
    )


@pytest.fixture
def billing_review(wish, tina):
    """The paper-invoice wish passed on to billing by quality management."""
    services.feature_request_transition(request=wish, to=Status.QM_REVIEW, actor=tina)
    return services.feature_request_transition(
        request=wish, to=Status.DEPARTMENT_REVIEW, actor=tina
    )


@pytest.fixture
def rejected(bob, tina, team):
    """A dark mode for the portal, rejected with a reason."""
    request = services.feature_request_create(
        title="Dunkles Design für das Kundenportal",
        department=TargetDepartment.WEBSITE,
        kind=AskKind.WISH,
        actor=bob,
    )
    return services.feature_request_transition(
        request=request,
        to=Status.REJECTED,
        reason="Das Portal folgt der Systemeinstellung des Browsers; ein eigenes Design ist "
        "nicht geplant.",
        actor=tina,
    )
