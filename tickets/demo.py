"""Demo data of the tickets app, added by `manage.py seed_demo`.

A realistic team (customer service, tech, billing, contracts, management up to their
lines) and about sixty tickets of the demo customers in every state, each made through
the services so that conversations and timelines are real. Created once: a second run
finds tickets and adds none.
"""

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from helpdesk import services as helpdesk_services
from helpdesk.choices import Role
from helpdesk.demo import DEMO_PASSWORD
from tickets import services
from tickets.choices import Channel, Priority, Status
from tickets.models import Department, SupportArea, Ticket, TicketEvent, TicketMessage

SEED = 4711

# username, first, last, role, departments, highest line, team lead, extension
TEAM = [
    ("bob", "Bob", "Bauer", Role.AGENT, ["customer-service"], 1, False, "201"),
    ("sven", "Sven", "Hoffmann", Role.AGENT, ["customer-service"], 2, False, "202"),
    ("dirk", "Dirk", "Wagner", Role.AGENT, ["tech"], 1, False, "301"),
    ("petra", "Petra", "Neumann", Role.AGENT, ["tech"], 3, False, "303"),
    ("carol", "Carol", "Krause", Role.AGENT, ["billing"], 2, False, "401"),
    ("vera", "Vera", "Schulz", Role.AGENT, ["contracts"], 1, False, "501"),
    ("tina", "Tina", "Lehmann", Role.TEAM_LEAD, ["customer-service", "tech"], 3, True, "200"),
    ("max", "Max", "Vogel", Role.MANAGEMENT, ["management"], 1, True, "100"),
]

# support area slug → (subject, first message) as customers write them
REQUESTS = {
    "no-internet": [
        ("Kein Internet seit heute Morgen", "Die DSL-Lampe am Router blinkt nur noch."),
        ("Verbindung bricht ständig ab", "Seit Tagen fällt das Internet abends mehrmals aus."),
        ("Sehr langsames Internet", "Statt 100 Mbit/s kommen nur 8 Mbit/s an."),
    ],
    "tv-decoder": [
        ("Receiver zeigt kein Bild", "Der Receiver meldet 'Kein Signal' auf allen Sendern."),
        ("Sender fehlen nach Update", "Seit dem Update fehlen die HD-Sender."),
    ],
    "email-setup": [
        ("E-Mail auf dem iPhone einrichten", "Welche Server muss ich eintragen?"),
        ("Postfach voll", "Ich kann keine Mails mehr empfangen, das Postfach sei voll."),
    ],
    "domain-transfer": [
        (
            "Domain zu Ihnen umziehen",
            "Ich möchte meine Domain von einem anderen Anbieter umziehen.",
        ),
        ("Auth-Code für Domain benötigt", "Bitte schicken Sie mir den Auth-Code für meine Domain."),
    ],
    "invoice-question": [
        ("Rechnung doppelt abgebucht", "Die Rechnung vom Oktober wurde zweimal abgebucht."),
        ("Rechnungsbetrag zu hoch", "Warum ist die letzte Rechnung höher als sonst?"),
    ],
    "payment-check": [
        ("Zahlung nicht verbucht", "Ich habe überwiesen, trotzdem kam eine Mahnung."),
    ],
    "tariff-change": [
        ("Wechsel auf schnelleren Tarif", "Ich möchte auf DSL 250 wechseln."),
    ],
    "cancellation": [
        ("Kündigung wegen Umzug", "Ich ziehe ins Ausland und möchte kündigen."),
    ],
    "general": [
        ("Adresse ändern", "Bitte ändern Sie meine Anschrift, ich bin umgezogen."),
    ],
}

REPLIES = [
    "Vielen Dank für Ihre Nachricht. Wir prüfen das und melden uns.",
    "Wir haben das Problem gefunden und behoben. Bitte prüfen Sie es noch einmal.",
    "Können Sie uns bitte einen Screenshot der Meldung schicken?",
]
NOTES = [
    "Kunde am Telefon sehr freundlich, hat schon den Router neu gestartet.",
    "Leitungsmessung zeigt viele Sync-Abbrüche.",
    "Zahlungseingang im Kontoauszug nicht gefunden.",
]
HANDOFFS = {
    "invoice-question": ("billing", "Bitte Zahlungseingang prüfen."),
    "email-setup": ("tech", "Fehler auf der Webseite beim Passwort-Reset, bitte prüfen."),
    "general": ("contracts", "Kündigungsformular ist eingegangen, bitte bearbeiten."),
}


@transaction.atomic
def seed(*, stdout) -> list[dict]:
    """The team and, once, the demo tickets."""
    logins = _team()
    if Ticket.objects.exists():
        return logins
    customers = list(Customer.objects.order_by("number")[:40])
    if not customers:
        return logins
    _tickets(customers)
    stdout.write(f"Demo tickets: {Ticket.objects.count()}")
    return logins


def _team() -> list[dict]:
    logins = []
    known = {user.username: user for user in User.objects.filter(username__in=[t[0] for t in TEAM])}
    for username, first, last, role, departments, line, lead, extension in TEAM:
        user = known.get(username)
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
            )
            helpdesk_services.user_role_grant(user=user, role=role)
            logins.append({"username": username, "role": role.label, "where": "/agent/login/"})
        services.agent_profile_set(
            user=user,
            departments=Department.objects.filter(slug__in=departments),
            highest_line=line,
            is_team_lead=lead,
            extension=extension,
        )
    return logins


def _tickets(customers: list[Customer]) -> None:
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    areas = {area.slug: area for area in SupportArea.objects.select_related("first_queue")}
    team = {user.username: user for user in User.objects.filter(username__in=[t[0] for t in TEAM])}
    now = timezone.now()
    plan = [(slug, request) for slug, requests in REQUESTS.items() for request in requests]
    for index in range(60):
        slug, (subject, body) = plan[index % len(plan)]
        customer = customers[index % len(customers)]
        created = now - timedelta(minutes=rng.randint(20, 60 * 24 * 21))
        if index % 4 == 0:
            # The tickets left new are recent, so their SLA clocks show every state.
            created = now - timedelta(minutes=rng.randint(20, 420))
        channel = rng.choice([Channel.PHONE, Channel.PHONE, Channel.EMAIL, Channel.PORTAL])
        ticket = services.ticket_create(
            customer=customer,
            subject=subject,
            body=body,
            channel=channel,
            support_area=areas[slug],
            actor=customer.user if customer.user_id else team["bob"],
            priority=rng.choice(
                [Priority.NORMAL] * 5 + [Priority.HIGH, Priority.URGENT, Priority.LOW]
            ),
            now=created,
        )
        _work(ticket, slug, index, rng, team)
        _spread_in_time(ticket, created, now)


def _worker(ticket: Ticket, team: dict[str, User]) -> User:
    department = ticket.queue.department.slug
    return {
        "customer-service": team["bob"],
        "tech": team["dirk"],
        "billing": team["carol"],
        "contracts": team["vera"],
    }.get(department, team["tina"])


def _work(ticket: Ticket, slug: str, index: int, rng: random.Random, team) -> None:
    """Move the ticket along a path typical for its kind; every fourth stays new."""
    stage = index % 4
    if stage == 0:
        return
    agent = _worker(ticket, team)
    services.ticket_take(ticket=ticket, actor=agent)
    if rng.random() < 0.5:
        services.ticket_note_add(ticket=ticket, actor=agent, body=rng.choice(NOTES))
    if stage == 1:
        services.ticket_reply(ticket=ticket, actor=agent, body=REPLIES[0])
        if slug in HANDOFFS:
            target, note = HANDOFFS[slug]
            services.ticket_handoff(
                ticket=ticket,
                actor=agent,
                department=Department.objects.get(slug=target),
                note=note,
            )
        elif slug == "no-internet":
            services.ticket_escalate(
                ticket=ticket,
                actor=agent,
                reason="Leitung instabil, bitte Messung durch 2nd Level.",
            )
        return
    if stage == 2:
        services.ticket_reply(
            ticket=ticket, actor=agent, body=REPLIES[2], status=Status.WAITING_CUSTOMER
        )
        return
    services.ticket_reply(ticket=ticket, actor=agent, body=REPLIES[1])
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=agent)
    if rng.random() < 0.5:
        services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=agent)


def _spread_in_time(ticket: Ticket, created, now) -> None:
    """Demo only: what the services stamped "now" is moved to plausible times after the
    ticket was opened, so timelines and ages read like real work."""
    span = max((now - created) / 2, timedelta(minutes=5))
    later = {"updated_at": created + span}
    for model in (TicketEvent, TicketMessage):
        rows = list(model.objects.filter(ticket=ticket).order_by("pk"))
        step = span / max(len(rows), 1)
        for position, row in enumerate(rows[1:], start=1):
            model.objects.filter(pk=row.pk).update(created_at=created + step * position)
    ticket.refresh_from_db()
    for field in ("first_response_at", "resolved_at", "closed_at", "last_message_at"):
        if getattr(ticket, field):
            later[field] = created + span
    Ticket.objects.filter(pk=ticket.pk).update(**later)
