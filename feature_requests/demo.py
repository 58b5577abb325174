"""Demo data of the feature_requests app, added by `manage.py seed_demo`.

Sixteen wishes an ISP and hosting helpdesk collects, in German as agents file them, for
every target department and in every status: new, in review by quality management or
the department, accepted, planned, done, rejected with a reason an agent can read out,
and one duplicate merged into its survivor. Everything goes through the services, in
the order it happened over the last six months (`now=`): filing, the asks of the demo
customers (some from their demo tickets, some repeats), the review steps by tina
(quality management, team lead of tech) and max (management, who decides for billing and
contracts). One rejected request has one ask fewer since its rejection than reopens the
review, so the next ask recorded in the demo reopens it. Created once: a second run
finds requests and adds none.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from feature_requests import selectors, services
from feature_requests.choices import AskKind, Status, TargetDepartment
from feature_requests.models import FeatureRequest
from tickets.models import Ticket

SEED = 4713
DAYS = 182  # asks spread over the last six months
QM = "tina"  # team lead of customer service: quality management; also leads tech
MANAGER = "max"  # management decides for any department (billing has no lead in the demo)
# Who records a department's asks: the agent the customer reaches (tickets.demo.TEAM).
RECORDERS = {
    TargetDepartment.BILLING: ["carol", "bob", "sven"],
    TargetDepartment.CONTRACTS: ["vera", "bob"],
    TargetDepartment.TECH: ["dirk", "petra", "bob", "sven"],
}
FRONT_LINE = ["bob", "sven"]
NOTES = [
    "Kunde hat am Telefon ausdrücklich darum gebeten, das weiterzugeben.",
    "Kundin war verärgert, dass das nicht geht.",
    "Kunde vergleicht mit einem anderen Anbieter, der das schon kann.",
    "Geschäftskunde, fragt im Namen mehrerer Mitarbeiter.",
    "Kunde hat schon einmal nachgefragt und möchte Bescheid bekommen.",
    "Im Chat angefragt.",
]


@dataclass(frozen=True)
class Step:
    """A review step: the status reached, when (days ago), by whom, and why."""

    to: str
    days_ago: float
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class Wish:
    """A demo request and how it came about."""

    key: str
    title: str
    department: str
    description: str
    filed: float  # days ago
    asks: int  # asks after the filing (the filing is the first)
    steps: tuple[Step, ...] = ()
    declined: float = 0.3  # share of asks where we had to say no
    tickets: tuple[str, ...] = ()  # subjects of demo tickets whose customers asked for it
    repeats: int = 0  # asks by a customer who had asked before
    after_rejection: int = 0  # of the asks, how many came after the rejection
    merge_into: str = ""  # key of the survivor; merged `merged` days ago by quality management
    merged: float = 0


def _wishes(rereview_after: int) -> list[Wish]:
    return [
        Wish(
            key="paper",
            title="Rechnung wieder per Post",
            department=TargetDepartment.BILLING,
            description=(
                "Seit der Umstellung auf die Online-Rechnung rufen vor allem ältere Kunden an, "
                "die kein E-Mail-Postfach nutzen oder die Rechnung für ihre Unterlagen auf "
                "Papier brauchen. Bisher müssen wir sie jedes Mal auf das Kundenportal "
                "verweisen."
            ),
            filed=176,
            asks=22,
            repeats=2,
            declined=0.5,
            steps=(
                Step(Status.QM_REVIEW, 170, QM),
                Step(Status.DEPARTMENT_REVIEW, 163, QM),
                Step(
                    Status.ACCEPTED,
                    120,
                    MANAGER,
                    "Wir führen die Papierrechnung als kostenpflichtige Option wieder ein.",
                ),
                Step(Status.PLANNED, 95, MANAGER, "Start mit dem Rechnungslauf im Frühjahr."),
                Step(
                    Status.DONE,
                    30,
                    MANAGER,
                    "Die Rechnung per Post lässt sich jetzt im Kundenportal unter „Rechnungen“ "
                    "bestellen; sie kostet 1,50 € im Monat. Auf Wunsch stellen wir sie am "
                    "Telefon um.",
                ),
            ),
        ),
        Wish(
            key="paper-duplicate",
            title="Papierrechnung statt PDF per E-Mail",
            department=TargetDepartment.BILLING,
            description="Kunde möchte keine PDF-Rechnung mehr, sondern einen Brief.",
            filed=150,
            asks=4,
            declined=0.8,
            merge_into="paper",
            merged=140,
        ),
        Wish(
            key="ports",
            title="Portfreigabe selbst im Kundenportal einrichten",
            department=TargetDepartment.TECH,
            description=(
                "Kunden mit unseren Mietroutern können Portfreigaben (z. B. für Kameras, "
                "Spielkonsolen, NAS) nicht selbst einrichten, weil die Router-Oberfläche "
                "gesperrt ist. Jede Freigabe läuft über den 2nd Level. Wunsch: ein Formular im "
                "Kundenportal, das die Freigabe auf den Router überträgt."
            ),
            filed=150,
            asks=14,
            declined=0.6,
            steps=(
                Step(Status.QM_REVIEW, 141, QM),
                Step(Status.DEPARTMENT_REVIEW, 20, QM),
            ),
        ),
        Wish(
            key="voip",
            title="Zweite Rufnummer für VoIP",
            department=TargetDepartment.TECH,
            description=(
                "Im Tarif VoIP Flat ist nur eine Rufnummer enthalten. Kunden im Homeoffice "
                "möchten eine zweite Nummer für berufliche Anrufe, ohne einen zweiten Vertrag "
                "abzuschließen."
            ),
            filed=12,
            asks=3,
        ),
        Wish(
            key="ipv4",
            title="Echte IPv4-Adresse statt DS-Lite",
            department=TargetDepartment.TECH,
            description=(
                "Kunden mit DS-Lite erreichen ihr NAS, ihre Kameras oder ihren VPN-Server "
                "nicht von unterwegs, weil sie keine eigene öffentliche IPv4-Adresse haben. "
                "Sie fragen, ob wir auf Wunsch auf Dual-Stack umstellen."
            ),
            filed=168,
            asks=max(25, rereview_after + 4),
            repeats=2,
            declined=0.7,
            after_rejection=rereview_after,
            steps=(
                Step(Status.QM_REVIEW, 160, QM),
                Step(Status.DEPARTMENT_REVIEW, 151, QM),
                Step(
                    Status.REJECTED,
                    60,
                    QM,
                    "Für Privatanschlüsse können wir keine eigene IPv4-Adresse mehr vergeben: "
                    "Uns werden keine weiteren IPv4-Adressen zugeteilt. Von unterwegs "
                    "erreichen Sie Ihre Geräte über IPv6 oder über einen Dienst wie "
                    "MyFRITZ!. Eine feste IPv4-Adresse gibt es in unseren "
                    "Geschäftskundentarifen.",
                ),
            ),
        ),
        Wish(
            key="sms",
            title="SMS-Benachrichtigung bei Störungen",
            department=TargetDepartment.DEVELOPMENT,
            description=(
                "Bei einer Störung rufen viele Kunden an, nur um zu hören, dass wir sie kennen "
                "und wann sie behoben ist. Eine SMS an die betroffenen Kunden (Beginn, "
                "voraussichtliches Ende, behoben) würde die Hotline spürbar entlasten."
            ),
            filed=90,
            asks=12,
            declined=0.1,
            tickets=("Kein Internet seit heute Morgen", "Verbindung bricht ständig ab"),
            steps=(Step(Status.QM_REVIEW, 45, QM),),
        ),
        Wish(
            key="dark",
            title="Dunkles Design im Kundenportal",
            department=TargetDepartment.WEBSITE,
            description="Kunden wünschen sich einen dunklen Modus für das Kundenportal.",
            filed=130,
            asks=6,
            declined=0.2,
            after_rejection=2,
            steps=(
                Step(
                    Status.REJECTED,
                    100,
                    QM,
                    "Das Kundenportal richtet sich nach der Einstellung Ihres Geräts: Wenn Sie "
                    "dort den dunklen Modus einschalten, erscheint auch das Portal dunkel. "
                    "Einen eigenen Schalter im Portal wird es nicht geben.",
                ),
            ),
        ),
        Wish(
            key="authcode",
            title="Auth-Code für Domain-Umzug direkt im Portal",
            department=TargetDepartment.WEBSITE,
            description=(
                "Für einen Domain-Umzug zu einem anderen Anbieter brauchen Kunden den "
                "Auth-Code. Bisher schicken wir ihn nach Prüfung per Post; Kunden wollen ihn "
                "nach der Anmeldung sofort im Portal sehen."
            ),
            filed=110,
            asks=8,
            declined=0.7,
            tickets=("Auth-Code für Domain benötigt", "Domain zu Ihnen umziehen"),
            steps=(
                Step(Status.QM_REVIEW, 101, QM),
                Step(Status.DEPARTMENT_REVIEW, 92, QM),
                Step(
                    Status.ACCEPTED,
                    75,
                    QM,
                    "Kommt mit dem nächsten Portal-Update; bis dahin schicken wir den Code "
                    "weiter per Post.",
                ),
            ),
        ),
        Wish(
            key="instalments",
            title="Ratenzahlung für Router",
            department=TargetDepartment.BILLING,
            description=(
                "Der Glasfaser-Router kostet beim Kauf 249 €. Kunden fragen, ob sie ihn in "
                "Monatsraten über die Rechnung bezahlen können, statt ihn zu mieten."
            ),
            filed=40,
            asks=5,
            declined=0.6,
            steps=(Step(Status.QM_REVIEW, 10, QM),),
        ),
        Wish(
            key="callback",
            title="Rückruf-Termin statt Warteschleife",
            department=TargetDepartment.DEVELOPMENT,
            description=(
                "Wenn die Wartezeit lang ist, möchten Anrufer einen Rückruf zu einer "
                "Wunschzeit buchen können, statt in der Warteschleife zu bleiben."
            ),
            filed=25,
            asks=7,
            declined=0.1,
            repeats=1,
        ),
        Wish(
            key="tariff",
            title="Tarifwechsel ohne neue Mindestlaufzeit",
            department=TargetDepartment.CONTRACTS,
            description=(
                "Wer auf einen schnelleren Tarif wechselt, bekommt wieder 24 Monate "
                "Mindestlaufzeit. Viele Kunden brechen den Wechsel deshalb ab. Wunsch: "
                "Wechsel nach oben ohne neue Laufzeit."
            ),
            filed=140,
            asks=16,
            declined=0.5,
            repeats=1,
            tickets=("Wechsel auf schnelleren Tarif",),
            steps=(
                Step(Status.QM_REVIEW, 121, QM),
                Step(Status.DEPARTMENT_REVIEW, 35, QM),
            ),
        ),
        Wish(
            key="mailbox",
            title="Mailbox-Größe über 10 GB",
            department=TargetDepartment.TECH,
            description=(
                "Postfächer sind auf 10 GB begrenzt. Kunden mit vielen Anhängen laufen voll "
                "und bekommen keine Mails mehr; sie würden für mehr Speicher auch zahlen."
            ),
            filed=160,
            asks=11,
            declined=0.5,
            tickets=("Postfach voll",),
            steps=(
                Step(Status.QM_REVIEW, 152, QM),
                Step(Status.DEPARTMENT_REVIEW, 144, QM),
                Step(Status.ACCEPTED, 120, QM, "Größere Postfächer kommen als Option."),
                Step(
                    Status.PLANNED,
                    50,
                    QM,
                    "Postfächer mit 25 und 50 GB kommen mit der Umstellung der Mailserver im "
                    "nächsten Quartal.",
                ),
            ),
        ),
        Wish(
            key="letsencrypt",
            title="Let's-Encrypt-Wildcard-Zertifikate",
            department=TargetDepartment.TECH,
            description=(
                "Hosting-Kunden mit vielen Subdomains möchten ein Wildcard-Zertifikat von "
                "Let's Encrypt statt eines Zertifikats je Subdomain."
            ),
            filed=180,
            asks=5,
            declined=0.4,
            steps=(
                Step(Status.QM_REVIEW, 176, QM),
                Step(Status.DEPARTMENT_REVIEW, 171, QM),
                Step(Status.ACCEPTED, 160, QM),
                Step(Status.PLANNED, 140, QM),
                Step(
                    Status.DONE,
                    80,
                    QM,
                    "Ab sofort in allen Hosting-Paketen unter „SSL-Zertifikate“ mit einem Klick "
                    "aktivierbar (die DNS-Prüfung übernehmen wir).",
                ),
            ),
        ),
        Wish(
            key="itemised",
            title="Rechnungs-PDF mit Einzelverbindungsnachweis",
            department=TargetDepartment.BILLING,
            description=(
                "Kunden, die eine höhere Rechnung nicht verstehen, wollen die Verbindungen "
                "direkt im Rechnungs-PDF sehen, statt den Nachweis einzeln anzufordern."
            ),
            filed=120,
            asks=10,
            declined=0.5,
            tickets=("Rechnungsbetrag zu hoch", "Rechnung doppelt abgebucht"),
            steps=(
                Step(Status.QM_REVIEW, 112, QM),
                Step(Status.DEPARTMENT_REVIEW, 104, QM),
                Step(Status.ACCEPTED, 70, MANAGER),
                Step(
                    Status.PLANNED,
                    40,
                    MANAGER,
                    "Kommt mit dem neuen Rechnungslayout; wer den Nachweis wünscht, schaltet "
                    "ihn im Kundenportal ein (Datenschutz: gekürzte Rufnummern).",
                ),
            ),
        ),
        Wish(
            key="takeover",
            title="Vertragsübernahme durch Angehörige online beantragen",
            department=TargetDepartment.CONTRACTS,
            description=(
                "Angehörige, die nach einem Todesfall oder Umzug ins Pflegeheim den Vertrag "
                "übernehmen wollen, müssen bisher ein Formular ausdrucken und per Post "
                "schicken."
            ),
            filed=100,
            asks=4,
            declined=0.8,
            after_rejection=1,
            steps=(
                Step(Status.QM_REVIEW, 96, QM),
                Step(Status.DEPARTMENT_REVIEW, 90, QM),
                Step(
                    Status.REJECTED,
                    80,
                    MANAGER,
                    "Für eine Vertragsübernahme brauchen wir die Unterschrift beider Seiten "
                    "und gegebenenfalls die Sterbeurkunde oder eine Vollmacht; das können wir "
                    "online nicht sicher prüfen. Das Formular „Vertragsübernahme“ steht im "
                    "Kundenportal unter „Downloads“; es kann auch als Scan per E-Mail kommen.",
                ),
            ),
        ),
        Wish(
            key="app-invoice",
            title="App-Benachrichtigung bei neuer Rechnung",
            department=TargetDepartment.DEVELOPMENT,
            description="Kunde möchte in der App benachrichtigt werden, wenn eine Rechnung da ist.",
            filed=8,
            asks=1,
            declined=0.0,
        ),
    ]


@dataclass
class Event:
    """One thing to do through the services, at its time."""

    at: datetime
    order: int  # among events at the same moment: filing, asks, steps, merge
    wish: Wish
    what: str  # "file", "ask", "step", "merge"
    step: Step | None = None
    customer: Customer | None = None
    ticket: Ticket | None = None
    kind: str = AskKind.WISH
    note: str = ""
    actor: str = ""


@transaction.atomic
def seed(*, stdout) -> list[dict]:
    """The demo requests and their asks, once; no logins of their own."""
    if FeatureRequest.objects.exists():
        stdout.write(f"Feature requests: {FeatureRequest.objects.count()} present, none added")
        return []
    team = {user.username: user for user in User.objects.filter(username__in=_usernames())}
    customers = list(Customer.objects.order_by("number")[:200])
    if QM not in team or MANAGER not in team or not customers:
        stdout.write("Feature requests: no demo team or customers, none added")
        return []
    now = timezone.now()
    threshold = selectors.rereview_threshold()
    wishes = _wishes(rereview_after=threshold - 1)
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    events = _timeline(wishes, customers=customers, now=now, rng=rng)
    requests = _play(events, team=team)
    waiting = requests["ipv4"]
    waiting.refresh_from_db()
    asks = sum(request.ask_count for request in requests.values())
    stdout.write(
        f"Feature requests: {len(requests)} with {asks} asks; one more ask on "
        f"#{waiting.pk} „{waiting.title}“ reopens its review "
        f"({waiting.asks_since_decision} of {threshold} asks since the rejection)"
    )
    return []


def _usernames() -> set[str]:
    names = {QM, MANAGER, *FRONT_LINE}
    for recorders in RECORDERS.values():
        names.update(recorders)
    return names


def _moment(now: datetime, days_ago: float, rng: random.Random) -> datetime:
    """A working-hours moment about `days_ago` days before `now` (Berlin time)."""
    day = timezone.localtime(now - timedelta(days=days_ago))
    moment = day.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=0)
    return min(moment, now - timedelta(minutes=5))


def _timeline(wishes, *, customers, now, rng) -> list[Event]:
    """Every filing, ask, review step and merge of the demo, in the order they happened."""
    events: list[Event] = []
    for wish in wishes:
        events += _wish_events(wish, customers=customers, now=now, rng=rng)
    events.sort(key=lambda event: (event.at, event.order))
    return events


def _wish_events(wish: Wish, *, customers, now, rng) -> list[Event]:
    filed = _moment(now, wish.filed, rng)
    end = _moment(now, wish.merged, rng) if wish.merge_into else now - timedelta(hours=1)
    rejected = next((s for s in wish.steps if s.to == Status.REJECTED), None)
    rejected_at = _moment(now, rejected.days_ago, rng) if rejected else None
    # When each further ask came: tickets at their own time, the rest spread out; a
    # rejected request's last `after_rejection` asks after the rejection, the rest before.
    moments, tickets = [], _tickets(wish)
    plain = wish.asks - len(tickets)
    for position in range(plain):
        if rejected_at and position >= plain - wish.after_rejection:
            low, high = rejected_at, end
        elif rejected_at:
            low, high = filed, rejected_at
        else:
            low, high = filed, end
        moments.append((low + (high - low) * rng.uniform(0.02, 0.98), None))
    for ticket in tickets:
        late = ticket.created_at + timedelta(minutes=rng.randint(10, 180))
        moments.append((min(max(late, filed + timedelta(hours=1)), end), ticket))
    moments.sort(key=lambda pair: pair[0])
    recorders = RECORDERS.get(wish.department, FRONT_LINE)
    first = rng.choice(customers)
    events = [
        Event(
            at=filed,
            order=0,
            wish=wish,
            what="file",
            customer=first,
            kind=_kind(wish, rng),
            actor=rng.choice(recorders),
            note=rng.choice(NOTES) if rng.random() < 0.5 else "",
        )
    ]
    askers = [first]
    repeat_at = set(rng.sample(range(len(moments)), min(wish.repeats, len(moments))))
    for index, (at, ticket) in enumerate(moments):
        if ticket is not None:
            customer = ticket.customer
        elif index in repeat_at:
            customer = rng.choice(askers)  # the same customer asks again
        else:
            customer = rng.choice([c for c in customers if c not in askers] or customers)
        askers.append(customer)
        events.append(
            Event(
                at=at,
                order=1,
                wish=wish,
                what="ask",
                customer=None if ticket else customer,
                ticket=ticket,
                kind=_kind(wish, rng),
                actor=rng.choice(recorders),
                note=rng.choice(NOTES) if rng.random() < 0.25 else "",
            )
        )
    for step in wish.steps:
        at = rejected_at if step is rejected else _moment(now, step.days_ago, rng)
        events.append(Event(at=at, order=2, wish=wish, what="step", step=step, actor=step.actor))
    if wish.merge_into:
        events.append(Event(at=end, order=3, wish=wish, what="merge", actor=QM))
    return events


def _kind(wish: Wish, rng: random.Random) -> str:
    return AskKind.DECLINED if rng.random() < wish.declined else AskKind.WISH


def _tickets(wish: Wish) -> list[Ticket]:
    """The first demo ticket of each subject (a ticket of tickets.demo, if there is one)."""
    found = []
    for subject in wish.tickets:
        ticket = (
            Ticket.objects.filter(subject=subject, customer__isnull=False)
            .select_related("customer")
            .order_by("pk")
            .first()
        )
        if ticket is not None:
            found.append(ticket)
    return found


def _play(events: list[Event], *, team: dict[str, User]) -> dict[str, FeatureRequest]:
    """Make each event through the services, with its time as `now`."""
    requests: dict[str, FeatureRequest] = {}
    for event in events:
        # A recorder missing from the team (tickets.demo not run) hands over to QM.
        wish, actor = event.wish, team.get(event.actor) or team[QM]
        if event.what == "file":
            requests[wish.key] = services.feature_request_create(
                title=wish.title,
                description=wish.description,
                department=wish.department,
                kind=event.kind,
                actor=actor,
                customer=event.customer,
                note=event.note,
                now=event.at,
            )
        elif event.what == "ask":
            services.ask_record(
                request=requests[wish.key],
                kind=event.kind,
                actor=actor,
                customer=event.customer,
                ticket=event.ticket,
                note=event.note,
                now=event.at,
            )
        elif event.what == "step":
            request = requests[wish.key]
            request.refresh_from_db()
            services.feature_request_transition(
                request=request,
                to=event.step.to,
                actor=actor,
                reason=event.step.reason,
                now=event.at,
            )
        else:
            services.feature_request_merge(
                request=requests[wish.key],
                into=requests[wish.merge_into],
                actor=actor,
                now=event.at,
            )
    for request in requests.values():
        request.refresh_from_db()
    return requests
