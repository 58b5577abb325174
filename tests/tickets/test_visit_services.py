"""Technician visit services: regions and their standard windows, time windows with a
capacity, booking, moving, cancelling, the customer's wishes, done and missed visits,
sending a technician. Refusals say why and change nothing."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.utils import formats, timezone, translation

from customers import services as customer_services
from helpdesk.errors import DomainError, StaleEdit
from mail.models import OutboundMail
from tests.tickets.conftest import area
from tickets import services
from tickets.choices import AppointmentStatus, Channel, MessageKind, Priority, Status
from tickets.models import (
    Appointment,
    Technician,
    Ticket,
    TicketEvent,
    TicketMessage,
    VisitRegion,
    VisitWindow,
)
from tickets.services import outages, visits

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are compared in English (the default language is German)."""
    settings.LANGUAGE_CODE = "en"


def snapshot() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(VisitRegion.objects.order_by("pk").values()),
        list(VisitWindow.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        TicketMessage.objects.count(),
        OutboundMail.objects.count(),
    )


def visit_mails(ticket=None):
    rows = OutboundMail.objects.filter(kind="appointment")
    return rows.filter(ticket=ticket) if ticket is not None else rows


def next_weekday(after: date, weekday: int) -> date:
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def tech_ticket_of(customer, actor, subject: str = "Kein Internet") -> Ticket:
    return services.ticket_create(
        customer=customer,
        subject=subject,
        body="Die DSL-Lampe ist aus.",
        channel=Channel.PHONE,
        support_area=area("no-internet"),
        actor=actor,
    )


@pytest.fixture
def window(cologne_windows) -> VisitWindow:
    """The first Cologne window to come: 08:00 to 12:00 with room for two."""
    return cologne_windows[0]


@pytest.fixture
def other_window(cologne_windows) -> VisitWindow:
    return cologne_windows[1]


@pytest.fixture
def single(cologne_windows) -> VisitWindow:
    """A window with room for one visit (15:00 to 17:00)."""
    return next(window for window in cologne_windows if window.capacity == 1)


@pytest.fixture
def neighbour(trent, team):
    """Another customer in Cologne with a tech ticket."""
    customer = customer_services.customer_create(
        number="K1000077",
        first_name="Hans",
        last_name="Nachbar",
        street="Heidestraße 19",
        postal_code="51147",
        city="Köln",
        email="hans@example.de",
    )
    return tech_ticket_of(customer, trent, "Auch kein Internet")


@pytest.fixture
def visit(tech_ticket, window, trent) -> Appointment:
    return visits.appointment_book(ticket=tech_ticket, window=window, actor=trent)


def test_a_note_typed_in_a_browser_keeps_its_lines_and_hidden_characters_are_refused(
    tech_ticket, window, trent
):
    with pytest.raises(DomainError, match="invisible control characters") as refused:
        visits.appointment_book(
            ticket=tech_ticket, window=window, actor=trent, note="Klingel \u202egeht nicht"
        )
    assert refused.value.field == "note"
    window.refresh_from_db()
    assert window.booked == 0 and not Appointment.objects.exists()
    booked = visits.appointment_book(
        ticket=tech_ticket, window=window, actor=trent, note="Hinterhaus.\r\nBitte anrufen."
    )
    assert booked.note == "Hinterhaus.\nBitte anrufen."


def began(window: VisitWindow):
    """Travel to an hour after the window began."""
    return time_machine.travel(window.starts_at() + timedelta(hours=1), tick=False)


# --- Regions ----------------------------------------------------------------------------


def test_a_region_keeps_its_codes_and_a_sorted_standard_day(db):
    region = visits.visit_region_save(
        name="  Bonn ",
        area="53111-53129, 53225",
        default_windows=[["12:00", "16:00", 2], ["08:00", "12:00", 3]],
    )
    assert region.name == "Bonn" and region.area == "53111-53129, 53225"
    assert region.ranges == [["53111", "53129"], ["53225", "53225"]]
    assert region.default_windows == [["08:00", "12:00", 3], ["12:00", "16:00", 2]]
    assert region.covers("53115") and not region.covers("53130")


def test_a_region_is_changed_in_place(cologne):
    region = visits.visit_region_save(
        name="Köln", area="50667-51149, 51061", default_windows=[], region=cologne
    )
    assert region.pk == cologne.pk and VisitRegion.objects.count() == 1
    assert region.default_windows == []


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"name": "  "}, "name", "required"),
        ({"name": "Köln"}, "name", "exists already"),
        ({"area": "5311"}, "area", "five digits"),
        ({"area": "53129-53111"}, "area", "backwards"),
        ({"area": ""}, "area", "at least one"),
        (
            {"default_windows": [["08:00", "12:00", 2], ["11:00", "14:00", 1]]},
            "default_windows",
            "overlap",
        ),
        ({"default_windows": [["12:00", "08:00", 2]]}, "default_windows", "end after it starts"),
        ({"default_windows": [["08:00", "08:00", 2]]}, "default_windows", "end after it starts"),
        ({"default_windows": [["25:00", "26:00", 1]]}, "default_windows", "start, an end"),
        ({"default_windows": [["acht", "zwölf", 1]]}, "default_windows", "start, an end"),
        (
            {"default_windows": [["05:00", "08:00", 1]]},
            "default_windows",
            "between 06:00 and 22:00",
        ),
        (
            {"default_windows": [["20:00", "23:00", 1]]},
            "default_windows",
            "between 06:00 and 22:00",
        ),
        ({"default_windows": [["08:00", "12:00", 0]]}, "default_windows", "between 1 and 50"),
        ({"default_windows": [["08:00", "12:00", 51]]}, "default_windows", "between 1 and 50"),
        ({"default_windows": [["08:00", "12:00", "viele"]]}, "default_windows", "start, an end"),
        ({"default_windows": [["08:00", "12:00"]]}, "default_windows", "start, an end"),
        ({"default_windows": [None]}, "default_windows", "start, an end"),
    ],
)
def test_a_bad_region_is_refused_and_nothing_saved(cologne, changes, field, says):
    before = snapshot()
    fields = {"name": "Bonn", "area": "53111-53129", "default_windows": [["08:00", "12:00", 2]]}
    with pytest.raises(DomainError) as refused:
        visits.visit_region_save(**{**fields, **changes})
    assert refused.value.field == field
    assert says in refused.value.message
    assert snapshot() == before


# --- Windows ----------------------------------------------------------------------------


def test_a_window_opens(cologne):
    day = timezone.localdate() + timedelta(days=3)
    window = visits.visit_window_create(
        region=cologne, day=day, starts=time(18, 0), ends=time(20, 0), capacity=4
    )
    assert (window.date, window.starts, window.ends, window.capacity, window.booked) == (
        day,
        time(18, 0),
        time(20, 0),
        4,
        0,
    )


def test_an_overlapping_window_is_refused_naming_the_clash(cologne):
    day = timezone.localdate() + timedelta(days=3)
    visits.visit_window_create(region=cologne, day=day, starts=time(8), ends=time(12), capacity=2)
    before = snapshot()
    for starts, ends in [
        (time(11), time(13)),
        (time(7), time(9)),
        (time(9), time(10)),
        (time(7), time(13)),
    ]:
        with pytest.raises(DomainError) as refused:
            visits.visit_window_create(
                region=cologne, day=day, starts=starts, ends=ends, capacity=1
            )
        assert "08:00\u201312:00" in refused.value.message
    assert snapshot() == before
    # Touching is not overlapping; another day or region is free.
    visits.visit_window_create(region=cologne, day=day, starts=time(12), ends=time(14), capacity=1)
    visits.visit_window_create(
        region=cologne, day=day + timedelta(days=1), starts=time(8), ends=time(12), capacity=1
    )


@pytest.mark.parametrize(
    ("days", "starts", "ends", "capacity", "field", "says"),
    [
        (-1, time(8), time(12), 2, "date", "past"),
        (0, time(0, 0), time(6, 30), 2, "ends", "between 06:00 and 22:00"),
        (2, time(12), time(8), 2, "ends", "end after it starts"),
        (2, time(8), time(12), 0, "capacity", "between 1 and 50"),
        (2, time(8), time(12), 51, "capacity", "between 1 and 50"),
    ],
)
def test_a_bad_window_is_refused(cologne, days, starts, ends, capacity, field, says):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.visit_window_create(
            region=cologne,
            day=timezone.localdate() + timedelta(days=days),
            starts=starts,
            ends=ends,
            capacity=capacity,
        )
    assert refused.value.field == field and says in refused.value.message
    assert snapshot() == before


def test_a_window_of_today_that_began_is_refused(cologne):
    with time_machine.travel(timezone.make_aware(timezone.datetime(2031, 3, 4, 10, 0)), tick=False):
        with pytest.raises(DomainError, match="past"):
            visits.visit_window_create(
                region=cologne, day=date(2031, 3, 4), starts=time(9), ends=time(12), capacity=1
            )
        visits.visit_window_create(
            region=cologne, day=date(2031, 3, 4), starts=time(11), ends=time(12), capacity=1
        )


def test_the_capacity_never_goes_below_what_is_booked(window, tech_ticket, neighbour, trent):
    visits.appointment_book(ticket=tech_ticket, window=window, actor=trent)
    visits.appointment_book(ticket=neighbour, window=window, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.visit_window_capacity_set(window=window, capacity=1)
    assert refused.value.field == "capacity" and "2 visits are booked" in refused.value.message
    for capacity in (0, 51):
        with pytest.raises(DomainError, match="between 1 and 50"):
            visits.visit_window_capacity_set(window=window, capacity=capacity)
    assert snapshot() == before
    assert visits.visit_window_capacity_set(window=window, capacity=2).capacity == 2
    assert visits.visit_window_capacity_set(window=window, capacity=5).capacity == 5


def test_filling_opens_the_standard_day_on_working_days_once(cologne):
    monday = next_weekday(timezone.localdate(), 0)
    assert visits.visit_windows_fill(region=cologne, first_day=monday, days=7) == 5 * 3
    days = set(VisitWindow.objects.values_list("date", flat=True))
    assert days == {monday + timedelta(days=i) for i in range(5)}  # no Saturday, no Sunday
    assert visits.visit_windows_fill(region=cologne, first_day=monday, days=7) == 0
    assert VisitWindow.objects.count() == 15


def test_filling_leaves_changed_and_clashing_windows_alone(cologne):
    monday = next_weekday(timezone.localdate(), 0)
    custom = visits.visit_window_create(
        region=cologne, day=monday, starts=time(10), ends=time(13), capacity=9
    )
    assert visits.visit_windows_fill(region=cologne, first_day=monday, days=1) == 1  # 15:00 only
    custom.refresh_from_db()
    assert custom.capacity == 9
    assert sorted(VisitWindow.objects.values_list("starts", flat=True)) == [time(10), time(15)]


def test_filling_skips_windows_of_today_that_began(cologne):
    wednesday = next_weekday(timezone.localdate(), 2)
    noon = timezone.make_aware(timezone.datetime.combine(wednesday, time(12, 30)))
    with time_machine.travel(noon, tick=False):
        assert visits.visit_windows_fill(region=cologne, first_day=wednesday, days=1) == 1
    assert list(VisitWindow.objects.values_list("starts", flat=True)) == [time(15)]


def test_filling_all_covers_active_regions_for_the_days_ahead(cologne, berlin, settings):
    settings.VISIT_WINDOW_DAYS_AHEAD = 14
    berlin.is_active = False
    berlin.save()
    made = visits.visit_windows_fill_all()
    assert made == VisitWindow.objects.filter(region=cologne).count() > 0
    assert not VisitWindow.objects.filter(region=berlin).exists()
    assert visits.visit_windows_fill_all() == 0


# --- Booking ----------------------------------------------------------------------------


def test_booking_schedules_the_ticket_takes_a_place_and_mails_the_customer(
    tech_ticket, window, trent, ole
):
    visit = visits.appointment_book(
        ticket=tech_ticket, window=window, actor=trent, technician=ole, note=" Hund im Garten "
    )
    assert visit.status == AppointmentStatus.CONFIRMED and not visit.is_priority
    assert visit.technician == ole and visit.note == "Hund im Garten"
    assert visit.created_by == trent
    tech_ticket.refresh_from_db()
    window.refresh_from_db()
    assert tech_ticket.status == Status.SCHEDULED
    assert window.booked == 1
    (mail,) = visit_mails(tech_ticket)
    assert "Technikertermin bestätigt" in mail.subject and mail.to_address == "erika@example.de"
    with translation.override("de"):  # in Erika's language
        weekday = formats.date_format(window.date, "l")
    assert f"{weekday}, " in mail.body_text and "08:00\u201312:00" in mail.body_text
    assert f"{weekday}, " in mail.body_html
    event = tech_ticket.events.get(kind="visit.booked")
    assert event.data["window"] == window.pk and event.data["from"] == "08:00"
    assert event.actor == trent


def test_a_visit_the_customer_has_not_agreed_to_is_proposed(tech_ticket, window, dana):
    visit = visits.appointment_book(ticket=tech_ticket, window=window, actor=dana, confirmed=False)
    assert visit.status == AppointmentStatus.PROPOSED
    assert "Technikertermin vorgeschlagen" in visit_mails(tech_ticket).get().subject
    visits.appointment_confirm(appointment=visit, actor=tech_ticket.customer.user)
    assert visit.status == AppointmentStatus.CONFIRMED
    assert tech_ticket.events.filter(kind="visit.confirmed").count() == 1


def test_a_full_window_is_refused(single, tech_ticket, neighbour, trent):
    visits.appointment_book(ticket=tech_ticket, window=single, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.appointment_book(ticket=neighbour, window=single, actor=trent)
    assert refused.value.field == "window" and "full" in refused.value.message
    assert snapshot() == before
    single.refresh_from_db()
    assert single.booked == single.capacity == 1


def test_a_window_that_began_is_refused(window, tech_ticket, trent):
    before = snapshot()
    with began(window), pytest.raises(DomainError, match="already begun"):
        visits.appointment_book(ticket=tech_ticket, window=window, actor=trent)
    assert snapshot() == before


def test_a_customer_outside_the_region_is_refused(window, malte, mallory, trent):
    ticket = tech_ticket_of(malte, mallory)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.appointment_book(ticket=ticket, window=window, actor=trent)
    assert "10115" in refused.value.message and "Köln" in refused.value.message
    assert snapshot() == before


def test_only_tech_tickets_get_visits(ticket, window, trent):
    before = snapshot()
    with pytest.raises(DomainError, match="tech department"):
        visits.appointment_book(ticket=ticket, window=window, actor=trent)
    assert snapshot() == before


def test_a_resolved_ticket_gets_no_visit(tech_ticket, window, trent):
    services.ticket_transition(ticket=tech_ticket, to=Status.RESOLVED, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="already resolved"):
        visits.appointment_book(ticket=tech_ticket, window=window, actor=trent)
    assert snapshot() == before


def test_a_second_visit_for_the_same_ticket_is_refused(visit, tech_ticket, other_window, trent):
    before = snapshot()
    with pytest.raises(DomainError, match="already has a visit"):
        visits.appointment_book(ticket=tech_ticket, window=other_window, actor=trent)
    assert snapshot() == before


def test_a_technician_from_another_region_is_refused(tech_ticket, window, berlin, trent):
    berliner = Technician.objects.create(name="Bernd Berlin")
    berliner.regions.add(berlin)
    retired = Technician.objects.create(name="Rita Rente", is_active=False)
    retired.regions.add(window.region)
    before = snapshot()
    for technician in (berliner, retired):
        with pytest.raises(DomainError) as refused:
            visits.appointment_book(
                ticket=tech_ticket, window=window, actor=trent, technician=technician
            )
        assert refused.value.field == "technician"
    assert snapshot() == before


def test_an_overlong_note_is_refused(tech_ticket, window, trent):
    with pytest.raises(DomainError) as refused:
        visits.appointment_book(ticket=tech_ticket, window=window, actor=trent, note="x" * 2001)
    assert refused.value.field == "note"
    assert not Appointment.objects.exists()


# --- Moving and cancelling --------------------------------------------------------------


def test_moving_keeps_the_old_visit_frees_its_place_and_claims_the_new_one(
    visit, tech_ticket, window, other_window, trent, ole
):
    visits.appointment_technician_set(appointment=visit, technician=ole, actor=trent)
    moved = visits.appointment_reschedule(appointment=visit, window=other_window, actor=trent)
    visit.refresh_from_db()
    window.refresh_from_db()
    other_window.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    assert moved.status == AppointmentStatus.CONFIRMED and moved.window == other_window
    assert moved.technician == ole
    assert (window.booked, other_window.booked) == (0, 1)
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.SCHEDULED
    assert "Technikertermin verschoben" in visit_mails(tech_ticket).latest("id").subject
    event = tech_ticket.events.get(kind="visit.rescheduled")
    assert event.data["window"] == other_window.pk and event.data["previous"]["window"] == window.pk


def test_moving_to_a_full_or_the_same_window_changes_nothing(
    visit, window, single, neighbour, trent
):
    visits.appointment_book(ticket=neighbour, window=single, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="full"):
        visits.appointment_reschedule(appointment=visit, window=single, actor=trent)
    with pytest.raises(DomainError, match="already in this window"):
        visits.appointment_reschedule(appointment=visit, window=window, actor=trent)
    assert snapshot() == before


def test_a_stale_move_is_refused(visit, other_window, trent, ole):
    version = visit.version
    visits.appointment_technician_set(appointment=visit, technician=ole, actor=trent)
    before = snapshot()
    with pytest.raises(StaleEdit):
        visits.appointment_reschedule(
            appointment=visit, window=other_window, actor=trent, expected_version=version
        )
    assert snapshot() == before


def test_an_agent_cancels_and_the_customer_is_mailed(visit, tech_ticket, window, trent):
    visits.appointment_cancel(appointment=visit, actor=trent, reason="Kunde hat angerufen")
    assert visit.status == AppointmentStatus.CANCELLED
    window.refresh_from_db()
    tech_ticket.refresh_from_db()
    assert window.booked == 0 and tech_ticket.status == Status.OPEN
    assert "Technikertermin abgesagt" in visit_mails(tech_ticket).latest("id").subject
    event = tech_ticket.events.get(kind="visit.cancelled")
    assert event.data["reason"] == "Kunde hat angerufen" and event.data["by_customer"] is False


def test_a_customer_cancels_with_a_message_and_no_mail(visit, tech_ticket, window, alice):
    mails = OutboundMail.objects.count()
    visits.appointment_cancel(appointment=visit, actor=alice, reason="Ich bin verreist.")
    message = tech_ticket.messages.filter(kind=MessageKind.CUSTOMER).latest("id")
    assert window.date.strftime("%d.%m.%Y") in message.body and "Ich bin verreist." in message.body
    assert message.author == alice
    assert OutboundMail.objects.count() == mails
    window.refresh_from_db()
    tech_ticket.refresh_from_db()
    assert window.booked == 0 and tech_ticket.status == Status.OPEN
    assert tech_ticket.events.get(kind="visit.cancelled").data["by_customer"] is True


def test_a_customer_cannot_cancel_a_visit_that_began(visit, window, alice):
    before = snapshot()
    with began(window), pytest.raises(DomainError, match="already begun"):
        visits.appointment_cancel(appointment=visit, actor=alice)
    assert snapshot() == before


def test_a_cancelled_visit_cannot_be_cancelled_again(visit, trent):
    visits.appointment_cancel(appointment=visit, actor=trent)
    before = snapshot()
    with pytest.raises(DomainError, match="cannot become"):
        visits.appointment_cancel(appointment=Appointment.objects.get(pk=visit.pk), actor=trent)
    assert snapshot() == before


def test_cancelling_frees_the_place_for_someone_else(single, tech_ticket, neighbour, trent):
    visit = visits.appointment_book(ticket=tech_ticket, window=single, actor=trent)
    visits.appointment_cancel(appointment=visit, actor=trent)
    visits.appointment_book(ticket=neighbour, window=single, actor=trent)
    single.refresh_from_db()
    assert single.booked == 1


def test_cancelling_the_visit_of_a_resolved_ticket_does_not_reopen_it(
    visit, tech_ticket, dsl_outage, trent
):
    """The outage resolved the ticket while a visit was planned; the visit is called off."""
    outages.ticket_outage_link(ticket=tech_ticket, outage=dsl_outage, actor=trent)
    outages.outage_resolve(outage=dsl_outage, text="Behoben.", actor=trent)
    outages.outage_tickets_resolve_batch(outage_id=dsl_outage.pk)
    visits.appointment_cancel(appointment=visit, actor=trent, reason="Nicht mehr nötig")
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.RESOLVED


# --- The customer's wish to move --------------------------------------------------------


def test_a_customer_asks_to_move_once(visit, tech_ticket, window, alice):
    visits.appointment_move_request(appointment=visit, actor=alice, text="Lieber nachmittags.")
    assert visit.move_requested_at is not None and visit.move_request == "Lieber nachmittags."
    assert visit.status == AppointmentStatus.CONFIRMED  # still planned until an agent moves it
    message = tech_ticket.messages.filter(kind=MessageKind.CUSTOMER).latest("id")
    assert "Lieber nachmittags." in message.body and window.starts.strftime("%H:%M") in message.body
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.OPEN
    assert tech_ticket.events.filter(kind="visit.move_requested").count() == 1
    before = snapshot()
    with pytest.raises(DomainError, match="already asked"):
        visits.appointment_move_request(appointment=visit, actor=alice, text="Bitte!")
    assert snapshot() == before


def test_a_move_request_needs_words_and_time(visit, window, alice):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.appointment_move_request(appointment=visit, actor=alice, text="  ")
    assert refused.value.field == "text"
    with began(window), pytest.raises(DomainError, match="already begun"):
        visits.appointment_move_request(appointment=visit, actor=alice, text="Später")
    assert snapshot() == before


def test_a_cancelled_visit_cannot_be_asked_to_move(visit, trent, alice):
    visits.appointment_cancel(appointment=visit, actor=trent)
    with pytest.raises(DomainError, match="no longer planned"):
        visits.appointment_move_request(appointment=visit, actor=alice, text="Später")


# --- Done and missed --------------------------------------------------------------------


def test_done_and_missed_only_once_the_window_began(visit, dana):
    before = snapshot()
    with pytest.raises(DomainError, match="not begun"):
        visits.appointment_done(appointment=visit, actor=dana)
    with pytest.raises(DomainError, match="not begun"):
        visits.appointment_missed(appointment=visit, actor=dana, reason="customer_absent")
    assert snapshot() == before


def test_a_done_visit_hands_the_ticket_back_to_the_agent(visit, tech_ticket, window, dana):
    with began(window):
        visits.appointment_done(appointment=visit, actor=dana, outcome="Splitter getauscht.")
    assert visit.status == AppointmentStatus.DONE and visit.outcome == "Splitter getauscht."
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.OPEN
    assert tech_ticket.events.get(kind="visit.done").data["outcome"] == "Splitter getauscht."


def test_a_missed_visit_raises_the_priority_and_apologises(visit, tech_ticket, window, dana):
    with began(window):
        visits.appointment_missed(
            appointment=visit, actor=dana, reason="technician_no_show", note="Stau auf der A3"
        )
    assert visit.status == AppointmentStatus.MISSED and visit.missed_reason == "technician_no_show"
    tech_ticket.refresh_from_db()
    assert tech_ticket.status == Status.OPEN and tech_ticket.priority == Priority.HIGH
    assert (
        "Technikertermin nicht zustande gekommen" in visit_mails(tech_ticket).latest("id").subject
    )
    assert tech_ticket.events.get(kind="visit.missed").data["reason"] == "technician_no_show"


def test_a_missed_visit_needs_a_known_reason(visit, window, dana):
    before = snapshot()
    with began(window), pytest.raises(DomainError) as refused:
        visits.appointment_missed(appointment=visit, actor=dana, reason="weather")
    assert refused.value.field == "reason"
    assert snapshot() == before


def test_the_rebooking_of_a_missed_visit_comes_first(
    visit, tech_ticket, window, cologne_windows, dana
):
    later = cologne_windows[-1]
    with began(window):
        visits.appointment_missed(appointment=visit, actor=dana, reason="customer_absent")
    rebooked = visits.appointment_book(
        ticket=tech_ticket, window=later, actor=dana, rebooking_of=visit
    )
    assert rebooked.is_priority and rebooked.rebooking_of == visit
    assert tech_ticket.events.filter(kind="visit.booked").latest("id").data["priority"] is True


def test_only_a_missed_visit_of_the_same_ticket_is_rebooked(
    visit, neighbour, cologne_windows, dana
):
    before = snapshot()
    with pytest.raises(DomainError, match="Only a missed visit"):
        visits.appointment_book(
            ticket=neighbour, window=cologne_windows[-1], actor=dana, rebooking_of=visit
        )
    assert snapshot() == before


def test_a_done_visit_cannot_be_missed_too(visit, window, dana):
    with began(window):
        visits.appointment_done(appointment=visit, actor=dana)
        with pytest.raises(DomainError, match="cannot become"):
            visits.appointment_missed(appointment=visit, actor=dana, reason="customer_absent")


# --- Technicians ------------------------------------------------------------------------


def test_the_dispatcher_sends_a_technician_of_the_region(visit, dana, ole, berlin):
    visits.appointment_technician_set(appointment=visit, technician=ole, actor=dana)
    assert visit.technician == ole and visit.version == 2
    assert visit.ticket.events.get(kind="visit.technician_set").data["technician"] == str(ole)
    berliner = Technician.objects.create(name="Bernd Berlin")
    berliner.regions.add(berlin)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        visits.appointment_technician_set(appointment=visit, technician=berliner, actor=dana)
    assert refused.value.field == "technician"
    assert snapshot() == before
    visits.appointment_technician_set(appointment=visit, technician=None, actor=dana)
    assert visit.technician is None


def test_no_technician_is_sent_to_a_cancelled_visit(visit, trent, ole):
    visits.appointment_cancel(appointment=visit, actor=trent)
    with pytest.raises(DomainError, match="no longer planned"):
        visits.appointment_technician_set(appointment=visit, technician=ole, actor=trent)
