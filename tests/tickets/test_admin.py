"""The organisation is configured in the admin; tickets and their history are read-only there."""

import pytest
from django.urls import reverse

from tests.tickets.conftest import queue


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    return client


def test_departments_queues_agents_and_support_areas_are_configurable(admin_client, team):
    for name in ("department", "queue", "agent", "supportarea"):
        assert admin_client.get(reverse(f"admin:tickets_{name}_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:tickets_supportarea_add"))
    assert response.status_code == 200


def test_a_support_area_can_be_routed_to_another_queue(admin_client, team):
    from tests.tickets.conftest import area

    general = area("general")
    response = admin_client.post(
        reverse("admin:tickets_supportarea_change", args=[general.pk]),
        {
            "slug": general.slug,
            "name": "Sonstiges",
            "first_queue": queue("tech", 1).pk,
            "ivr_choice": "9",
            "in_portal": "on",
            "is_active": "on",
            "position": 5,
        },
    )
    assert response.status_code == 302
    general.refresh_from_db()
    assert general.first_queue == queue("tech", 1) and general.ivr_choice == "9"


def test_two_support_areas_cannot_share_an_ivr_choice(admin_client, team):
    from tests.tickets.conftest import area

    general = area("general")
    response = admin_client.post(
        reverse("admin:tickets_supportarea_change", args=[general.pk]),
        {
            "slug": general.slug,
            "name": general.name,
            "first_queue": general.first_queue_id,
            "ivr_choice": "1",  # "No internet" has it
            "position": 5,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    general.refresh_from_db()
    assert general.ivr_choice == "0"


def test_tickets_and_events_cannot_be_changed_or_deleted(admin_client, ticket):
    change = admin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert (
        admin_client.post(
            reverse("admin:tickets_ticket_delete", args=[ticket.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    event = ticket.events.get(kind="ticket.created")
    assert (
        admin_client.post(
            reverse("admin:tickets_ticketevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ticket.events.filter(pk=event.pk).exists()
