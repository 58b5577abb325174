"""Roles the other files do not try: a dispatcher (staff, but neither management nor a
team lead) and an integration user signed in with a session. Neither reaches requests to
management, the board or the KPIs, and nothing changes when they post."""

import pytest

from escalation.choices import ProposalStatus, RequestStatus
from escalation.models import Proposal
from helpdesk.choices import Role
from tests.conftest import _person

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[Role.DISPATCHER, Role.INTEGRATION])
def outsider(request):
    return _person("outsider", request.param, "Olga", "Außen")


def test_the_pages_refuse_them(client, outsider, erika_request):
    client.force_login(outsider)
    for url in (
        "/management/",
        "/management/requests/",
        f"/management/requests/{erika_request.pk}/",
        "/management/kpis/",
        "/management/kpis/export.csv",
        f"/portal/management/{erika_request.pk}/",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_they_cannot_propose_withdraw_or_answer(client, outsider, erika_request, credit_proposal):
    client.force_login(outsider)
    responses = [
        client.post(
            f"/management/requests/{erika_request.pk}/propose/",
            {"kind": "individual", "findings": "x", "text": "y"},
        ),
        client.post(f"/management/proposals/{credit_proposal.pk}/withdraw/", {"reason": "x"}),
        client.post(
            f"/portal/management/proposals/{credit_proposal.pk}/answer/",
            {"decision": "accept", "confirm": "on"},
        ),
    ]
    assert all(response.status_code in (403, 404) for response in responses)
    credit_proposal.refresh_from_db()
    erika_request.refresh_from_db()
    assert credit_proposal.status == ProposalStatus.OPEN
    assert erika_request.status == RequestStatus.PROPOSED
    assert Proposal.objects.count() == 1


def test_the_stats_api_refuses_their_session(client, outsider):
    client.force_login(outsider)
    assert client.get("/api/v1/stats/").status_code == 403
