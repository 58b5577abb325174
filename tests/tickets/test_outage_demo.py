"""`manage.py seed_demo` for outages, technician visits and line status: made once, and
telling the stories the demo is for (alice under an outage, dana's day of visits)."""

from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import Resolver404, resolve
from django.utils import timezone

from customers.models import Connection, Customer
from helpdesk.choices import Role
from helpdesk.demo import DEMO_PASSWORD
from helpdesk.management.commands.seed_demo import DEMO_APPS
from helpdesk.models import ApiToken
from helpdesk.permissions import roles_of
from tests.helpdesk.test_two_factor import add_app, code_for
from tickets.choices import OUTAGE_ACTIVE, AppointmentStatus, OutageStatus, Priority, Status
from tickets.demo_outages import STANDARD_DAY
from tickets.models import (
    Appointment,
    Outage,
    OutageArea,
    OutageUpdate,
    Technician,
    Ticket,
    TicketEvent,
    VisitRegion,
    VisitWindow,
)
from tickets.selectors import outages as outage_selectors

pytestmark = pytest.mark.django_db

MODELS = (
    Outage,
    OutageArea,
    OutageUpdate,
    VisitRegion,
    Technician,
    VisitWindow,
    Appointment,
    Ticket,
    TicketEvent,
    ApiToken,
    User,
)


@pytest.fixture
def seed(settings):
    settings.DEBUG = True

    def run() -> str:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def seeded(settings):
    """The demo data up to the tickets app's (what these tests read), as seed_demo makes it."""
    settings.DEBUG = True
    out = StringIO()
    for label in DEMO_APPS[: DEMO_APPS.index("tickets") + 1]:
        import_module(f"{apps.get_app_config(label).name}.demo").seed(stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def alice_customer() -> Customer:
    return Customer.objects.get(user__username="alice")


def page_exists(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def test_seeding_twice_adds_nothing(seed):
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert "Outages: 2 active" in first_output and "Outages:" not in second_output
    assert "API token for monitoring (shown once): hd_" in first_output
    assert "API token" not in second_output  # each key is shown once only
    assert "time windows opened" in first_output
    assert "dana" in first_output


def test_dana_is_a_dispatcher_of_tech_and_signs_in(seeded, client):
    dana = User.objects.get(username="dana")
    assert (dana.first_name, dana.last_name) == ("Dana", "Richter")
    assert roles_of(dana) == {Role.DISPATCHER}
    assert dana.agent.departments.get().slug == "tech"
    device = add_app(dana)  # dispatchers are staff: the code follows the password
    response = client.post("/agent/login/", {"username": "dana", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/")
    assert client.post(response["Location"], {"code": code_for(device)}).status_code == 302
    if page_exists("/agent/visits/"):
        assert client.get("/agent/visits/").status_code == 200
        visit = Appointment.objects.get(status=AppointmentStatus.CONFIRMED, is_priority=False)
        page = client.get(f"/agent/visits/?day={visit.window.date.isoformat()}")
        assert page.status_code == 200
        assert visit.ticket.reference in page.content.decode()


def test_monitoring_integration_may_write_outages(seeded):
    monitoring = User.objects.get(username="monitoring")
    assert roles_of(monitoring) == {Role.INTEGRATION}
    assert not monitoring.has_usable_password()
    token = ApiToken.objects.get(user=monitoring, revoked_at=None)
    assert set(token.scopes) == {"outages:read", "outages:write", "connections:write"}
    assert Outage.objects.filter(created_by=monitoring, external_id__gt="").count() == 1


def test_the_dsl_outage_affects_alice_and_holds_her_ticket(seeded):
    customer = alice_customer()
    kinds = set(customer.connections.values_list("kind", flat=True))
    affecting = outage_selectors.outages_affecting(postal_code=customer.postal_code, kinds=kinds)
    assert len(affecting) == 1
    dsl = affecting[0]
    assert dsl.status in OUTAGE_ACTIVE and set(dsl.services) == {"dsl", "voip"}
    assert customer.city in dsl.title
    assert 2 <= dsl.updates.count() <= 3
    linked = Ticket.objects.filter(outage=dsl)
    assert linked.filter(customer=customer, subject="Kein Internet seit heute Morgen").exists()
    assert linked.count() >= 2 and not linked.exclude(status__in=[Status.NEW, Status.OPEN]).exists()
    # Monitoring reported her lines down; the new tickets saw that when they were opened.
    assert customer.connections.get(kind="dsl").state == "offline"
    later = linked.exclude(customer=customer).first()
    assert any(line["state"] == "offline" for line in later.line_snapshot)


def test_the_tv_outage_is_elsewhere_and_last_weeks_is_resolved_with_its_tickets(seeded):
    customer = alice_customer()
    tv = Outage.objects.get(services=["tv"])
    assert tv.status in OUTAGE_ACTIVE and 2 <= tv.updates.count() <= 3
    assert Ticket.objects.filter(outage=tv).count() >= 1
    assert not any(area.first <= customer.postal_code <= area.last for area in tv.areas.all())
    old = Outage.objects.get(status=OutageStatus.RESOLVED)
    now = timezone.now()
    assert now - timedelta(days=10) < old.resolved_at < now - timedelta(days=6)
    assert old.tickets_resolved_at is not None
    tickets = Ticket.objects.filter(outage=old)
    assert tickets.count() >= 1
    assert set(tickets.values_list("status", flat=True)) == {Status.RESOLVED}
    assert Outage.objects.filter(status__in=OUTAGE_ACTIVE).count() == 2


def test_regions_cover_every_demo_customer_with_the_standard_day(seeded):
    regions = list(VisitRegion.objects.all())
    for code in Customer.objects.values_list("postal_code", flat=True).distinct():
        assert sum(region.covers(code) for region in regions) == 1, code
    assert all(region.default_windows == STANDARD_DAY for region in regions)
    today = timezone.localdate()
    windows = VisitWindow.objects.filter(date__gt=today)
    assert windows.filter(date__gte=today + timedelta(days=19)).exists()
    assert not windows.filter(date__gt=today + timedelta(days=21)).exists()
    assert not [w for w in windows if w.date.weekday() >= 5]
    technicians = list(Technician.objects.prefetch_related("regions"))
    assert 4 <= len(technicians) <= 6
    assert len({t.company for t in technicians if t.company}) == 2
    assert any(not t.company for t in technicians)
    for region in regions:
        assert any(region in t.regions.all() for t in technicians), region


def test_visits_confirmed_proposed_missed_rebooked_and_done(seeded):
    today = timezone.localdate()
    visits = Appointment.objects.select_related("window", "ticket__customer")
    confirmed = visits.filter(status=AppointmentStatus.CONFIRMED, is_priority=False).get()
    assert today < confirmed.window.date <= today + timedelta(days=3)
    assert confirmed.technician is not None and confirmed.ticket.status == Status.SCHEDULED
    proposed = visits.get(status=AppointmentStatus.PROPOSED)
    assert proposed.ticket.customer == alice_customer()
    missed = visits.get(status=AppointmentStatus.MISSED)
    assert today - timedelta(days=3) <= missed.window.date < today and missed.missed_reason
    rebooking = visits.get(rebooking_of=missed)
    assert rebooking.is_priority and rebooking.status == AppointmentStatus.CONFIRMED
    assert rebooking.window.date > today and rebooking.ticket.priority >= Priority.HIGH
    done = visits.get(status=AppointmentStatus.DONE)
    assert done.window.date < today and done.outcome and done.ticket.status == Status.RESOLVED
    # The timeline reads in order: booked before the visit, missed after it began.
    events = list(missed.ticket.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert events.index("visit.booked") < events.index("visit.missed")
    missed_at = missed.ticket.events.get(kind="visit.missed").created_at
    assert missed_at > missed.window.starts_at()


def test_flapping_lines_and_line_snapshots_exist(seeded):
    assert Connection.objects.filter(sync_drops_24h__gte=3).count() >= 3
    assert Ticket.objects.exclude(line_snapshot=[]).count() >= 10
    flapping = Ticket.objects.get(appointments__status=AppointmentStatus.CONFIRMED,
                                  appointments__is_priority=False)  # fmt: skip
    assert any(line["flapping"] for line in flapping.line_snapshot)


def test_alice_sees_the_proposed_visit_in_the_portal(seeded, client):
    visit = Appointment.objects.get(status=AppointmentStatus.PROPOSED)
    response = client.post("/portal/login/", {"username": "alice", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    path = f"/portal/visits/{visit.pk}/"
    if page_exists(path):
        assert client.get(path).status_code == 200
