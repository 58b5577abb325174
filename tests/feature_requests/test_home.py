"""The workspace home points reviewers at their feature-request queues."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from feature_requests import services
from feature_requests.choices import AskKind, Status, TargetDepartment


def _home(client, user):
    client.force_login(user)
    return client.get("/agent/")


def test_quality_management_sees_what_waits_for_it(client, wish, rejected, tina):
    body = _home(client, tina).content.decode()
    assert "1 Wunsch wartet auf das Qualitätsmanagement" in body
    assert "/agent/feature-requests/?queue=qm" in body


def test_a_department_lead_sees_only_his_departments_queue(client, billing_review, bert, bob):
    services.feature_request_create(
        title="Neuer Wunsch an die Technik", department="tech", kind=AskKind.WISH, actor=bob
    )
    body = _home(client, bert).content.decode()
    assert "1 Wunsch wartet auf die Entscheidung Ihrer Abteilung" in body
    assert "queue=qm" not in body


def test_agents_get_no_review_card(client, billing_review, bob):
    assert 'data-testid="feature-reviews"' not in _home(client, bob).content.decode()


def test_the_review_card_costs_the_same_however_many_wait(client, tina, bob, team):
    def queries() -> int:
        client.force_login(tina)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/agent/").status_code == 200
        return len(captured)

    services.feature_request_create(
        title="Erster Wunsch im Test", department=TargetDepartment.TECH, kind="wish", actor=bob
    )
    few = queries()
    for n in range(8):
        request = services.feature_request_create(
            title=f"Wunsch Nummer {n}", department=TargetDepartment.TECH, kind="wish", actor=bob
        )
        services.feature_request_transition(request=request, to=Status.QM_REVIEW, actor=tina)
    assert queries() == few
