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
from tickets import demo_outages, services
from tickets.choices import Channel, Priority, Status
from tickets.models import (
    Department,
    SupportArea,
    TextModule,
    Ticket,
    TicketEvent,
    TicketMessage,
)

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
    ("dana", "Dana", "Richter", Role.DISPATCHER, ["tech"], 1, False, "310"),
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
    """The team, once the demo tickets, then outages and technician visits."""
    logins = _team()
    _text_modules()
    customers = list(Customer.objects.order_by("number")[:40])
    if customers and not Ticket.objects.exists():
        _tickets(customers)
        stdout.write(f"Demo tickets: {Ticket.objects.count()}")
    demo_outages.seed(stdout=stdout)
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


# department, language, short name, title, text; written by the team lead (tina) or, for
# billing, which has no team lead in the demo, by management (max).
TEXT_MODULES = [
    (
        "customer-service",
        "de",
        "begruessung",
        "Begrüßung mit Vorgangsnummer",
        "Guten Tag {customer_name},\n\n"
        "vielen Dank für Ihre Nachricht. Ihr Anliegen hat bei uns die Vorgangsnummer "
        "{ticket_reference}; bitte geben Sie diese bei Rückfragen an.",
    ),
    (
        "customer-service",
        "de",
        "gruss",
        "Grußformel",
        "Mit freundlichen Grüßen\n\n{agent_name}\nIhr Kundenservice",
    ),
    (
        "customer-service",
        "de",
        "router-neustart",
        "Router neu starten",
        "Guten Tag {customer_name},\n\n"
        "bitte starten Sie Ihren Router einmal neu:\n\n"
        "1. Ziehen Sie den Netzstecker des Routers.\n"
        "2. Warten Sie etwa 30 Sekunden.\n"
        "3. Stecken Sie den Stecker wieder ein und warten Sie, bis die Online-Leuchte "
        "dauerhaft leuchtet (das dauert bis zu 5 Minuten).\n\n"
        "Besteht die Störung danach weiter, antworten Sie bitte einfach auf diese Nachricht "
        "(Vorgang {ticket_reference}).\n\n"
        "Mit freundlichen Grüßen\n{agent_name}",
    ),
    (
        "customer-service",
        "de",
        "stoerung-bekannt",
        "Störung bekannt",
        "Guten Tag {customer_name},\n\n"
        "in Ihrem Gebiet liegt derzeit eine Störung vor, an der unsere Technik bereits "
        "arbeitet. Sie müssen nichts weiter tun: Sobald die Störung behoben ist, informieren "
        "wir Sie. Bitte entschuldigen Sie die Unannehmlichkeiten.\n\n"
        "Mit freundlichen Grüßen\n{agent_name}",
    ),
    (
        "customer-service",
        "de",
        "email-einrichtung",
        "E-Mail-Programm einrichten",
        "Guten Tag {customer_name},\n\n"
        "für Ihr E-Mail-Programm tragen Sie bitte diese Daten ein:\n\n"
        "Posteingang (IMAP): imap.example.net, Port 993, SSL/TLS\n"
        "Postausgang (SMTP): smtp.example.net, Port 587, STARTTLS\n"
        "Benutzername: Ihre vollständige E-Mail-Adresse\n\n"
        "Mit freundlichen Grüßen\n{agent_name}",
    ),
    (
        "customer-service",
        "en",
        "router-restart",
        "Restart the router",
        "Hello {customer_name},\n\n"
        "please restart your router once:\n\n"
        "1. Unplug the router's power cable.\n"
        "2. Wait about 30 seconds.\n"
        "3. Plug it back in and wait until the online light stays on (up to 5 minutes).\n\n"
        "If the problem persists, simply reply to this message (case {ticket_reference}).\n\n"
        "Kind regards\n{agent_name}",
    ),
    (
        "customer-service",
        "en",
        "outage-known",
        "Known outage",
        "Hello {customer_name},\n\n"
        "there is currently an outage in your area, and our technicians are already working "
        "on it. You do not need to do anything: we will let you know as soon as it is "
        "fixed. We apologise for the inconvenience.\n\n"
        "Kind regards\n{agent_name}",
    ),
    (
        "tech",
        "de",
        "router-reset",
        "Router auf Werkseinstellungen zurücksetzen",
        "Guten Tag {customer_name},\n\n"
        "bitte setzen Sie Ihren Router auf die Werkseinstellungen zurück:\n\n"
        "1. Halten Sie die Reset-Taste auf der Rückseite (mit einer Büroklammer) etwa "
        "15 Sekunden gedrückt, bis alle Leuchten kurz aufblinken.\n"
        "2. Warten Sie etwa 5 Minuten, bis der Router neu gestartet ist.\n"
        "3. Richten Sie den Zugang mit den Daten aus Ihrem Auftragsschreiben neu ein.\n\n"
        "Achtung: Dabei gehen eigene Einstellungen (WLAN-Name, Passwort, Portfreigaben) "
        "verloren.\n\n"
        "Mit freundlichen Grüßen\n{agent_name}\nTechnischer Support",
    ),
    (
        "tech",
        "de",
        "leitungsmessung",
        "Leitung gemessen: Techniker nötig",
        "Guten Tag {customer_name},\n\n"
        "wir haben Ihre Leitung durchgemessen und eine Störung zwischen Verteiler und Ihrer "
        "Wohnung festgestellt. Damit sie behoben werden kann, muss ein Techniker vor Ort "
        "kommen. Wir melden uns in Kürze mit Terminvorschlägen (Vorgang "
        "{ticket_reference}).\n\n"
        "Mit freundlichen Grüßen\n{agent_name}\nTechnischer Support",
    ),
    (
        "billing",
        "de",
        "zahlungserinnerung",
        "Zahlungserinnerung",
        "Guten Tag {customer_name},\n\n"
        "bei der Durchsicht Ihres Kundenkontos {customer_number} ist uns aufgefallen, dass "
        "eine Rechnung noch offen ist. Bitte überweisen Sie den Betrag innerhalb der nächsten "
        "7 Tage unter Angabe Ihrer Kundennummer. Hat sich Ihre Zahlung mit dieser Nachricht "
        "überschnitten, betrachten Sie sie bitte als gegenstandslos.\n\n"
        "Mit freundlichen Grüßen\n{agent_name}\nBuchhaltung",
    ),
    (
        "billing",
        "de",
        "zahlung-eingegangen",
        "Zahlung eingegangen",
        "Guten Tag {customer_name},\n\n"
        "Ihre Zahlung ist bei uns eingegangen und verbucht. Ihr Kundenkonto "
        "{customer_number} ist damit ausgeglichen.\n\n"
        "Mit freundlichen Grüßen\n{agent_name}\nBuchhaltung",
    ),
    (
        "billing",
        "en",
        "payment-reminder",
        "Payment reminder",
        "Hello {customer_name},\n\n"
        "our records show an open invoice on your customer account {customer_number}. "
        "Please transfer the amount within the next 7 days, quoting your customer number. "
        "If your payment has crossed with this message, please disregard it.\n\n"
        "Kind regards\n{agent_name}\nAccounts",
    ),
]


def _text_modules() -> None:
    """The demo text modules, each added once (a second run finds them and adds none)."""
    authors = {user.username: user for user in User.objects.filter(username__in=["tina", "max"])}
    departments = {department.slug: department for department in Department.objects.all()}
    existing = set(TextModule.objects.values_list("department__slug", "language", "shortcut"))
    for slug, language, shortcut, title, body in TEXT_MODULES:
        if (slug, language, shortcut) in existing or slug not in departments:
            continue
        services.text_module_create(
            department=departments[slug],
            language=language,
            shortcut=shortcut,
            title=title,
            body=body,
            actor=authors.get("max" if slug == "billing" else "tina"),
        )
