"""Demo data for outages, technician visits and line status, added by `manage.py seed_demo`.

Called from `tickets.demo.seed` after the team and the demo tickets exist:

- visit regions over real postal ranges (every demo customer lies in one), each with the
  standard day 08-12 (3 visits), 12-15 (2), 15-17 (2), opened for the coming
  VISIT_WINDOW_DAYS_AHEAD days; six technicians, own staff and two subcontractors;
- two active outages, a DSL/telephony one over alice's part of her city (opened by
  network monitoring, her line offline) and a TV one elsewhere, with updates and linked
  tickets; one outage of last week, resolved with its tickets;
- four technician visits: confirmed for the next working day, proposed to alice (she
  confirms or asks to move it in the portal), missed on the last working day with its
  priority rebooking, and one done.

Everything goes through the services; only the timestamps are moved afterwards so the
story reads as it happened (the services stamp "now", and they refuse windows in the
past). Regions and technicians are added when missing, windows topped up on every run,
the outages and visits created once.
"""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from customers import services as customer_services
from customers.choices import LineState, ServiceKind
from customers.models import Customer
from tickets import services
from tickets.choices import Channel, MissedReason, OutageStatus, Status
from tickets.models import (
    Appointment,
    Outage,
    OutageArea,
    SupportArea,
    Technician,
    Ticket,
    TicketEvent,
    TicketMessage,
    VisitRegion,
    VisitWindow,
)
from tickets.services import outages, visits

STANDARD_DAY = [["08:00", "12:00", 3], ["12:00", "15:00", 2], ["15:00", "17:00", 2]]

# Regions by the leading digits of German postal codes (the Post's "Leitregionen"), so
# every address in the country, and every demo customer, lies in exactly one.
REGIONS = [
    ("Berlin und Brandenburg", "10000-16999"),
    ("Hamburg und Norden", "17000-29999"),
    ("Mitte und Ost", "01000-09999, 30000-39999, 98000-99999"),
    ("Köln und Rhein-Ruhr", "40000-53999"),
    ("Rhein-Main und Südwest", "54000-79999"),
    ("München und Bayern", "80000-97999"),
]

# name, subcontractor (empty: our own staff), phone, regions
TECHNICIANS = [
    ("Jens Köhler", "", "0331 2009110", ["Berlin und Brandenburg", "Mitte und Ost"]),
    ("Sebastian Huber", "", "089 2009120", ["München und Bayern", "Rhein-Main und Südwest"]),
    ("Ole Brandt", "NetzBau Rhein GmbH", "0221 4007710", ["Köln und Rhein-Ruhr"]),
    (
        "Mehmet Aydin",
        "NetzBau Rhein GmbH",
        "0221 4007720",
        ["Köln und Rhein-Ruhr", "Rhein-Main und Südwest"],
    ),
    ("Sönke Petersen", "Kabelservice Nord GmbH", "040 5008830", ["Hamburg und Norden"]),
    (
        "Piotr Nowak",
        "Kabelservice Nord GmbH",
        "030 5008840",
        ["Berlin und Brandenburg", "Hamburg und Norden"],
    ),
]

ALICE_CUSTOMER = "K1000001"
FLAPPING_CUSTOMER = "K1000004"  # customers.demo: a DSL line that keeps dropping
MONITORING = "monitoring"  # the integration user of helpdesk.demo
TV_AREA = "10405-10439"  # Berlin Prenzlauer Berg
RESOLVED_AREA = "22765-22769"  # Hamburg-Altona


def seed(*, stdout) -> None:
    """Regions, technicians and windows (topped up); outages and visits once."""
    regions = _regions()
    _technicians(regions)
    opened = sum(
        visits.visit_windows_fill(
            region=region,
            first_day=timezone.localdate(),
            days=settings.VISIT_WINDOW_DAYS_AHEAD,
        )
        for region in regions.values()
    )
    if opened:
        stdout.write(f"Technician visits: {opened} time windows opened in {len(regions)} regions")
    needed = {"bob", "dirk", "petra", "dana"}
    team = {user.username: user for user in User.objects.filter(username__in=needed)}
    if team.keys() != needed:
        return
    alice = Customer.objects.filter(number=ALICE_CUSTOMER).first()
    if alice is None:
        return
    if not Outage.objects.exists():
        _outages(alice, team)
        stdout.write(
            f"Outages: 2 active (one over {alice.full_name}'s postal code {alice.postal_code}), "
            "1 resolved last week"
        )
    if not Appointment.objects.exists():
        _visits(alice, team)
        stdout.write("Technician visits: confirmed, proposed to alice, missed and rebooked, done")


# --- Regions and technicians ---------------------------------------------------------------


def _regions() -> dict[str, VisitRegion]:
    existing = {region.name: region for region in VisitRegion.objects.all()}
    for name, area in REGIONS:
        if name not in existing:
            existing[name] = visits.visit_region_save(
                name=name, area=area, default_windows=STANDARD_DAY
            )
    return {name: existing[name] for name, _area in REGIONS}


def _technicians(regions: dict[str, VisitRegion]) -> None:
    # Technicians are master data kept in the admin (no use case of their own to go
    # through): created here as the admin would.
    for name, company, phone, served in TECHNICIANS:
        technician, created = Technician.objects.get_or_create(
            name=name, company=company, defaults={"phone": phone}
        )
        if created:
            technician.regions.set([regions[region] for region in served])


def _technician_for(region: VisitRegion) -> Technician | None:
    return (
        Technician.objects.filter(regions=region, is_active=True)
        .order_by("company", "name")
        .first()
    )


# --- Making the story's times right ------------------------------------------------------


@contextmanager
def _at(ticket: Ticket, when: datetime):
    """Demo only: what the services inside stamp "now" on this ticket happened `when`."""
    last_event = (
        TicketEvent.objects.filter(ticket=ticket)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
    last_message = (
        TicketMessage.objects.filter(ticket=ticket)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
    began = timezone.now()
    yield
    Appointment.objects.filter(ticket=ticket, created_at__gte=began).update(created_at=when)
    Appointment.objects.filter(ticket=ticket, updated_at__gte=began).update(updated_at=when)
    TicketEvent.objects.filter(ticket=ticket, pk__gt=last_event).update(created_at=when)
    TicketMessage.objects.filter(ticket=ticket, pk__gt=last_message).update(created_at=when)
    changes = {"updated_at": when}
    ticket.refresh_from_db()
    for field in ("first_response_at", "resolved_at", "last_message_at"):
        value = getattr(ticket, field)
        if value is not None and value > when:
            changes[field] = when
    Ticket.objects.filter(pk=ticket.pk).update(**changes)
    ticket.refresh_from_db()


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _working_day(start: date, step: int) -> date:
    """The first working day (Mon-Fri) from `start` going `step` days at a time."""
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


# --- Outages -----------------------------------------------------------------------------------


def _lines_down(customers, now: datetime, monitoring: User | None) -> None:
    """Monitoring reports the DSL and telephone lines under the outage offline."""
    for customer in customers:
        for line in customer.connections.filter(kind__in=[ServiceKind.DSL, ServiceKind.VOIP]):
            customer_services.connection_state_report(
                connection=line,
                actor=monitoring,
                state=LineState.OFFLINE,
                last_sync_at=now - timedelta(hours=3, minutes=12),
                sync_drops_24h=max(line.sync_drops_24h, 4)
                if line.kind == ServiceKind.DSL
                else None,
            )


def _outages(alice: Customer, team: dict[str, User]) -> None:
    now = timezone.now()
    monitoring = User.objects.filter(username=MONITORING).first()
    no_internet = SupportArea.objects.get(slug="no-internet")
    tv_decoder = SupportArea.objects.get(slug="tv-decoder")

    # 1. DSL and telephony over alice's part of her city: opened by network monitoring,
    # before alice's own "no internet" ticket of this morning, which belongs to it.
    code = alice.postal_code
    area = f"{code}-{min(int(code) + 2, 99999):05}"
    hers = list(
        Ticket.objects.filter(
            customer=alice, support_area=no_internet, status__in=[Status.NEW, Status.OPEN]
        )
    )
    started = min(
        [now - timedelta(hours=3, minutes=10)]
        + [t.created_at - timedelta(minutes=25) for t in hers]
    )
    dsl, _new = outages.outage_create(
        title=f"Internet und Telefonie gestört: {alice.city}",
        description="Mehrere DSL-Verteiler melden keinen Sync mehr; Telefonie über VoIP ist "
        "ebenfalls betroffen.",
        services=[ServiceKind.DSL, ServiceKind.VOIP],
        area=area,
        actor=monitoring,
        started_at=started,
        external_id="NMS-2026-0412",
        now=started,
    )
    outages.outage_update_post(
        outage=dsl,
        text="Ursache gefunden: Ein Glasfaserkabel wurde bei Tiefbauarbeiten beschädigt. "
        "Ein Reparaturtrupp ist unterwegs.",
        status=OutageStatus.IDENTIFIED,
        expected_end_at=now + timedelta(hours=5),
        actor=team["petra"],
        notify=True,
        now=started + timedelta(minutes=40),
    )
    outages.outage_update_post(
        outage=dsl,
        text="Die Spleißarbeiten laufen; wir rechnen mit dem Ende der Störung in den nächsten "
        "Stunden.",
        actor=team["petra"],
        now=now - timedelta(minutes=35),
    )
    affected = list(
        Customer.objects.filter(
            postal_code__gte=code, postal_code__lte=area[-5:], connections__kind=ServiceKind.DSL
        )
        .distinct()
        .order_by("number")
    )
    _lines_down(affected, now, monitoring)
    for ticket in hers:
        with _at(ticket, min(now, ticket.created_at + timedelta(minutes=15))):
            outages.ticket_outage_link(ticket=ticket, outage=dsl, actor=team["bob"])
    others = [customer for customer in affected if customer.pk != alice.pk][:3]
    for minutes, customer in zip((150, 95, 30), others, strict=False):
        services.ticket_create(
            customer=customer,
            subject="Internet und Telefon ausgefallen",
            body="Seit ein paar Stunden gehen weder Internet noch Telefon. Router ist schon "
            "neu gestartet.",
            channel=Channel.PHONE,
            support_area=no_internet,
            actor=team["bob"],
            outage=dsl,
            now=now - timedelta(minutes=minutes),
        )

    # 2. TV in Berlin Prenzlauer Berg: opened by a tech agent.
    started = now - timedelta(hours=6)
    tv, _new = outages.outage_create(
        title="TV-Empfang gestört: Berlin Prenzlauer Berg",
        description="Kopfstation ohne Signal; alle Sender betroffen.",
        services=[ServiceKind.TV],
        area=TV_AREA,
        actor=team["petra"],
        started_at=started,
        expected_end_at=now + timedelta(hours=3),
        now=started,
    )
    outages.outage_update_post(
        outage=tv,
        text="Ein Techniker ist an der Kopfstation; ein Netzteil ist ausgefallen.",
        status=OutageStatus.IDENTIFIED,
        actor=team["petra"],
        now=started + timedelta(hours=1),
    )
    outages.outage_update_post(
        outage=tv,
        text="Das Ersatzteil ist eingebaut; die Sender kommen nach und nach zurück. Wir "
        "beobachten die Lage.",
        status=OutageStatus.MONITORING,
        actor=team["petra"],
        now=now - timedelta(minutes=20),
    )
    first, last = TV_AREA.split("-")
    viewers = (
        Customer.objects.filter(
            postal_code__gte=first, postal_code__lte=last, connections__kind=ServiceKind.TV
        )
        .distinct()
        .order_by("number")[:3]
    )
    for minutes, customer in zip((320, 200, 90), viewers, strict=False):
        services.ticket_create(
            customer=customer,
            subject="Kein Bild auf allen Sendern",
            body="Der Receiver zeigt seit Stunden auf allen Sendern nur „Kein Signal“.",
            channel=Channel.PHONE,
            support_area=tv_decoder,
            actor=team["bob"],
            outage=tv,
            now=now - timedelta(minutes=minutes),
        )

    # 3. Last week in Hamburg-Altona: resolved, and its tickets with it.
    started = _aware(timezone.localdate() - timedelta(days=8), 7, 40)
    ended = started + timedelta(hours=5, minutes=20)
    old, _new = outages.outage_create(
        title="DSL-Störung Hamburg-Altona",
        description="Defekte Linecard im Verteiler Altona-Nord.",
        services=[ServiceKind.DSL],
        area=RESOLVED_AREA,
        actor=team["dirk"],
        started_at=started,
        now=started,
    )
    outages.outage_update_post(
        outage=old,
        text="Die defekte Linecard wird getauscht.",
        status=OutageStatus.IDENTIFIED,
        expected_end_at=ended + timedelta(hours=1),
        actor=team["dirk"],
        now=started + timedelta(hours=2),
    )
    first, last = RESOLVED_AREA.split("-")
    hamburg = (
        Customer.objects.filter(
            postal_code__gte=first, postal_code__lte=last, connections__kind=ServiceKind.DSL
        )
        .distinct()
        .order_by("number")[:3]
    )
    for minutes, customer in zip((25, 70, 130), hamburg, strict=False):
        services.ticket_create(
            customer=customer,
            subject="Kein Internet",
            body="Die DSL-Leuchte am Router ist aus.",
            channel=Channel.PHONE,
            support_area=no_internet,
            actor=team["bob"],
            outage=old,
            now=started + timedelta(minutes=minutes),
        )
    outages.outage_resolve(
        outage=old,
        text="Die Linecard ist getauscht; alle Anschlüsse synchronisieren wieder.",
        actor=team["dirk"],
        now=ended,
    )
    # What the Celery task does after the commit, done here so the demo needs no worker.
    finished = False
    while not finished:
        _count, finished = outages.outage_tickets_resolve_batch(outage_id=old.pk, now=ended)


# --- Technician visits -----------------------------------------------------------------------


def _visit_ticket(customer: Customer, subject: str, body: str, *, created, team, actor=None):
    no_internet = SupportArea.objects.get(slug="no-internet")
    ticket = services.ticket_create(
        customer=customer,
        subject=subject,
        body=body,
        channel=Channel.PORTAL if actor is not None else Channel.PHONE,
        support_area=no_internet,
        actor=actor or team["dirk"],
        now=created,
    )
    with _at(ticket, created + timedelta(minutes=25)):
        services.ticket_take(ticket=ticket, actor=team["dirk"])
    return ticket


def _next_window(region: VisitRegion, after: date, starts: str = "08:00") -> VisitWindow | None:
    return (
        VisitWindow.objects.filter(
            region=region,
            date__gt=after,
            starts=time.fromisoformat(starts),
            booked__lt=F("capacity"),
        )
        .order_by("date")
        .first()
    )


def _past_window(region: VisitRegion, day: date) -> VisitWindow:
    """A standard morning window on a past day (the services open windows ahead only)."""
    window, _created = VisitWindow.objects.get_or_create(
        region=region, date=day, starts=time(8), defaults={"ends": time(12), "capacity": 3}
    )
    return window


def _into_past(appointment: Appointment, window: VisitWindow) -> Appointment:
    """Demo only: a visit booked ahead, moved to the past day it happened on."""
    VisitWindow.objects.filter(pk=appointment.window_id).update(booked=F("booked") - 1)
    VisitWindow.objects.filter(pk=window.pk).update(booked=F("booked") + 1)
    Appointment.objects.filter(pk=appointment.pk).update(window=window)
    data = {
        "window": window.pk,
        "region": window.region.name,
        "date": window.date.isoformat(),
        "from": window.starts.strftime("%H:%M"),
        "until": window.ends.strftime("%H:%M"),
    }
    for event in TicketEvent.objects.filter(ticket_id=appointment.ticket_id, kind="visit.booked"):
        TicketEvent.objects.filter(pk=event.pk).update(data={**event.data, **data})
    appointment.refresh_from_db()
    return appointment


def _visits(alice: Customer, team: dict[str, User]) -> None:
    now = timezone.now()
    today = timezone.localdate()
    dana = team["dana"]
    regions = list(VisitRegion.objects.all())

    def region_of(customer: Customer) -> VisitRegion:
        return next(region for region in regions if region.covers(customer.postal_code))

    outage_codes = list(OutageArea.objects.values_list("first", "last"))

    def clear(customer: Customer) -> bool:
        return not any(first <= customer.postal_code <= last for first, last in outage_codes)

    candidates = [
        customer
        for customer in Customer.objects.filter(connections__kind=ServiceKind.DSL)
        .exclude(number__in=[ALICE_CUSTOMER, "K1000002"])
        .distinct()
        .order_by("number")[:40]
        if clear(customer)
    ]
    flapping = next((c for c in candidates if c.number == FLAPPING_CUSTOMER), candidates[0])
    missed_customer, done_customer = [c for c in candidates if c.pk != flapping.pk][:2]

    # Confirmed for the next working day: the line that keeps dropping.
    ticket = _visit_ticket(
        flapping,
        "Internet bricht ständig ab",
        "Die Verbindung bricht mehrmals am Abend ab, manchmal minutenlang.",
        created=now - timedelta(days=2, hours=3),
        team=team,
    )
    with _at(ticket, now - timedelta(days=2, hours=2)):
        services.ticket_note_add(
            ticket=ticket,
            actor=team["dirk"],
            body="Leitung gemessen: viele Sync-Abbrüche in 24 h, Dämpfung auffällig. "
            "Techniker soll TAE-Dose und Hausverkabelung prüfen.",
        )
    region = region_of(flapping)
    window = _next_window(region, today)
    if window is not None:
        with _at(ticket, now - timedelta(days=1, hours=20)):
            visits.appointment_book(
                ticket=ticket,
                window=window,
                actor=dana,
                technician=_technician_for(region),
                note="Kunde ist ab 8 Uhr zu Hause; Hausanschlussraum im Keller.",
            )

    # Proposed to alice after the outage's expected end: she confirms or asks to move it.
    ticket = _visit_ticket(
        alice,
        "Telefondose nach Umbau versetzen",
        "Wir haben umgebaut; die Telefondose soll ins Arbeitszimmer. Können Sie einen "
        "Techniker schicken?",
        created=now - timedelta(days=1, hours=5),
        team=team,
        actor=alice.user or team["bob"],
    )
    region = region_of(alice)
    window = _next_window(region, today + timedelta(days=2), "12:00")
    if window is not None:
        with _at(ticket, now - timedelta(hours=20)):
            visits.appointment_book(
                ticket=ticket,
                window=window,
                actor=dana,
                technician=_technician_for(region),
                confirmed=False,
                note="TAE-Dose versetzen, ca. 8 m Leitung im Flur verlegen.",
            )

    # Missed on the last working day (nobody at home), rebooked with priority.
    last_day = _working_day(today - timedelta(days=1), -1)
    ticket = _visit_ticket(
        missed_customer,
        "Kein Internet nach Umzug der Dose",
        "Seit der Elektriker die Dose versetzt hat, leuchtet die DSL-Lampe nicht mehr.",
        created=_aware(last_day - timedelta(days=4), 9, 15),
        team=team,
    )
    region = region_of(missed_customer)
    window = _next_window(region, today)
    technician = _technician_for(region)
    if window is not None:
        with _at(ticket, _aware(last_day - timedelta(days=3), 10, 5)):
            missed = visits.appointment_book(
                ticket=ticket, window=window, actor=dana, technician=technician
            )
        missed = _into_past(missed, _past_window(region, last_day))
        with _at(ticket, _aware(last_day, 11, 40)):
            visits.appointment_missed(
                appointment=missed,
                actor=dana,
                reason=MissedReason.CUSTOMER_ABSENT,
                note="Zweimal geklingelt, Nachbarin wusste von nichts; Karte eingeworfen.",
            )
        rebooking = _next_window(region, today)
        if rebooking is not None:
            with _at(ticket, _aware(last_day, 14, 10)):
                visits.appointment_book(
                    ticket=ticket,
                    window=rebooking,
                    actor=dana,
                    technician=technician,
                    rebooking_of=missed,
                    note="Vorrangig: erster Termin verpasst. Kundin vorher anrufen.",
                )

    # Done three working days ago: the socket replaced, the ticket resolved.
    visit_day = _working_day(today - timedelta(days=3), -1)
    ticket = _visit_ticket(
        done_customer,
        "DSL-Lampe blinkt dauerhaft",
        "Der Router findet keine Verbindung mehr, auch nach dem Neustart.",
        created=_aware(visit_day - timedelta(days=3), 16, 20),
        team=team,
    )
    region = region_of(done_customer)
    window = _next_window(region, today)
    if window is not None:
        with _at(ticket, _aware(visit_day - timedelta(days=2), 9, 30)):
            done = visits.appointment_book(
                ticket=ticket, window=window, actor=dana, technician=_technician_for(region)
            )
        done = _into_past(done, _past_window(region, visit_day))
        with _at(ticket, _aware(visit_day, 11, 15)):
            visits.appointment_done(
                appointment=done,
                actor=dana,
                outcome="TAE-Dose war feucht und korrodiert; getauscht. Leitung synchronisiert "
                "wieder mit 100 Mbit/s.",
            )
        with _at(ticket, _aware(visit_day, 15, 0)):
            services.ticket_reply(
                ticket=ticket,
                actor=team["dirk"],
                body="Unser Techniker hat heute die Anschlussdose getauscht; Ihr Anschluss "
                "läuft wieder mit voller Geschwindigkeit.",
                status=Status.RESOLVED,
            )
