"""Demo data of the customers app, added by `manage.py seed_demo`.

Two hundred German customers (K1000001…K1000200) with contracts, invoices, orders, lines
and notes. The same rows on every machine (seeded generators; dates count back from
today) and created once: a second run finds the customer numbers and adds nothing.
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from faker import Faker

from customers import services
from customers.choices import (
    ContractStatus,
    CredentialKind,
    InvoiceStatus,
    Language,
    LineState,
    NoteKind,
    OrderKind,
    OrderStatus,
    PhoneKind,
    Segment,
    ServiceKind,
)
from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerEvent,
    CustomerNote,
    Invoice,
    Order,
    PhoneNumber,
    Product,
    add_months,
)
from helpdesk.demo import DEMO_PASSWORD

SEED = 2026
CUSTOMER_COUNT = 200
FIRST_NUMBER = 1_000_001

# Demo values, printed by seed_demo and listed in the README: an agent asks the caller
# for them. Memorable words, as customers choose them.
DEMO_PHONE_PASSWORDS = {
    "K1000001": "Sonnenblume",
    "K1000002": "Leuchtturm",
    "K1000003": "Apfelstrudel",
    "K1000004": "Pusteblume",
    "K1000005": "Schneeflocke",
    "K1000006": "Regenbogen",
}
PORTAL_USERS = {"K1000001": "alice", "K1000002": "mallory"}  # users from helpdesk.demo
NOTE_AUTHOR = "bob"

PRODUCTS = [
    # name, kind, monthly price (EUR), minimum term, notice period (months)
    ("DSL 16", ServiceKind.DSL, "29.99", 24, 1),
    ("DSL 50", ServiceKind.DSL, "34.99", 24, 1),
    ("DSL 100", ServiceKind.DSL, "39.99", 24, 1),
    ("DSL 250", ServiceKind.DSL, "49.99", 24, 1),
    ("TV Basis", ServiceKind.TV, "9.99", 24, 1),
    ("TV Plus", ServiceKind.TV, "17.99", 24, 1),
    ("VoIP Flat", ServiceKind.VOIP, "9.95", 24, 1),
    ("Webhosting S", ServiceKind.HOSTING, "4.99", 12, 1),
    ("Webhosting M", ServiceKind.HOSTING, "9.99", 12, 1),
    ("Domain .de", ServiceKind.DOMAIN, "0.99", 12, 1),
]

# Real postal codes with their city and telephone area code: outage areas and the phone
# system match on them, so invented codes would make a misleading demo.
PLACES = [
    ("10115", "Berlin", "030"),
    ("10178", "Berlin", "030"),
    ("10243", "Berlin", "030"),
    ("10437", "Berlin", "030"),
    ("12043", "Berlin", "030"),
    ("13347", "Berlin", "030"),
    ("20095", "Hamburg", "040"),
    ("20354", "Hamburg", "040"),
    ("22765", "Hamburg", "040"),
    ("80331", "München", "089"),
    ("80802", "München", "089"),
    ("81667", "München", "089"),
    ("50667", "Köln", "0221"),
    ("50823", "Köln", "0221"),
    ("60311", "Frankfurt am Main", "069"),
    ("60318", "Frankfurt am Main", "069"),
    ("70173", "Stuttgart", "0711"),
    ("04109", "Leipzig", "0341"),
    ("01067", "Dresden", "0351"),
    ("30159", "Hannover", "0511"),
    ("90402", "Nürnberg", "0911"),
    ("44135", "Dortmund", "0231"),
    ("45127", "Essen", "0201"),
    ("28195", "Bremen", "0421"),
    ("40213", "Düsseldorf", "0211"),
    ("53111", "Bonn", "0228"),
    ("24103", "Kiel", "0431"),
    ("18055", "Rostock", "0381"),
    ("39104", "Magdeburg", "0391"),
    ("99084", "Erfurt", "0361"),
    ("55116", "Mainz", "06131"),
    ("66111", "Saarbrücken", "0681"),
    ("14467", "Potsdam", "0331"),
    ("19053", "Schwerin", "0385"),
    ("65183", "Wiesbaden", "0611"),
    ("68159", "Mannheim", "0621"),
    ("76133", "Karlsruhe", "0721"),
    ("79098", "Freiburg im Breisgau", "0761"),
    ("69117", "Heidelberg", "06221"),
    ("93047", "Regensburg", "0941"),
    ("86150", "Augsburg", "0821"),
    ("97070", "Würzburg", "0931"),
    ("48143", "Münster", "0251"),
    ("33602", "Bielefeld", "0521"),
    ("52062", "Aachen", "0241"),
    ("38100", "Braunschweig", "0531"),
    ("34117", "Kassel", "0561"),
    ("06108", "Halle (Saale)", "0345"),
    ("09111", "Chemnitz", "0371"),
    ("23552", "Lübeck", "0451"),
]

# Street names found in most German towns (Faker's invented ones read oddly on a demo).
STREETS = [
    "Hauptstraße",
    "Schulstraße",
    "Gartenstraße",
    "Bahnhofstraße",
    "Dorfstraße",
    "Bergstraße",
    "Birkenweg",
    "Lindenstraße",
    "Kirchstraße",
    "Waldstraße",
    "Ringstraße",
    "Schillerstraße",
    "Goethestraße",
    "Mühlenweg",
    "Amselweg",
    "Jahnstraße",
    "Wiesenweg",
    "Rosenstraße",
    "Feldstraße",
    "Blumenstraße",
    "Poststraße",
    "Am Sportplatz",
    "Mozartstraße",
    "Beethovenstraße",
    "Lessingstraße",
    "Friedrichstraße",
    "Kastanienallee",
    "Eichendorffstraße",
    "Marktplatz",
    "Parkstraße",
    "Industriestraße",
    "Gewerbestraße",
    "Tulpenweg",
    "Uhlandstraße",
    "Am Bahnhof",
    "Breslauer Straße",
    "Königsberger Straße",
    "Wilhelmstraße",
    "Luisenstraße",
    "Buchenweg",
]

COMPANIES = [
    # company name, domain name ({last} is the owner's last name)
    ("{last} Bau GmbH", "{last}-bau"),
    ("{last} Elektrotechnik GmbH", "{last}-elektro"),
    ("Praxis Dr. {last}", "praxis-{last}"),
    ("Bäckerei {last}", "baeckerei-{last}"),
    ("Steuerberatung {last} & Partner", "stb-{last}"),
    ("Autohaus {last} GmbH & Co. KG", "autohaus-{last}"),
    ("{last} Immobilien GmbH", "{last}-immobilien"),
    ("Malerbetrieb {last}", "maler-{last}"),
    ("Kanzlei {last}", "kanzlei-{last}"),
    ("Blumen {last}", "blumen-{last}"),
    ("Café {last}", "cafe-{last}"),
    ("{last} Sanitär und Heizung", "{last}-sanitaer"),
]
MOBILE_PREFIXES = ["0151", "0152", "0157", "0160", "0170", "0171", "0172", "0175", "0176", "0179"]
ROUTERS = ["FRITZ!Box 7590 AX", "FRITZ!Box 7530 AX", "Speedport Smart 4", "FRITZ!Box 6660 Cable"]

WARNING_NOTES = [
    "Kunde hat mit Kündigung gedroht; Kulanz nur nach Rücksprache mit der Teamleitung.",
    "Technikertermin zweimal nicht wahrgenommen; vor neuem Termin telefonisch bestätigen.",
    "Lastschrift zweimal zurückgegeben; Buchhaltung informiert.",
    "Kunde ist am Telefon schnell verärgert; ruhig bleiben, Rückruf anbieten.",
    "Anrufer gab sich als Ehepartner aus, nur nach Telefonpasswort Auskunft geben.",
]
INFO_NOTES = [
    "Kunde wünscht Rückruf nachmittags nach 15 Uhr.",
    "Router selbst gekauft, kein Mietgerät.",
    "Schriftverkehr bitte nur per E-Mail.",
    "Hörgeschädigt: bitte langsam und deutlich sprechen oder per E-Mail antworten.",
    "Hat Interesse an DSL 250 geäußert, sobald am Standort verfügbar.",
    "Hausverwaltung ist Ansprechpartner für den Zugang zum Hausanschlussraum.",
    "Anschluss wird auch im Homeoffice genutzt; Störungen bitte priorisiert prüfen.",
]
CREDIT_REASONS = [
    "Gutschrift wegen Störung (Ausfall mehrerer Tage)",
    "Kulanzgutschrift nach Beschwerde",
    "Doppelte Abbuchung erstattet",
    "Tarifwechsel rückwirkend berücksichtigt",
]

# The first customers tell the demo's stories: alice's and mallory's portal accounts, a
# business with a domain (auth code), a line that keeps dropping, a pending cancellation
# and a customer in arrears with a warning note.
SHOWCASE = {
    "K1000001": {
        "first_name": "Alice",
        "last_name": "Schmidt",
        "email": "alice@example.com",
        "products": ["DSL 100", "VoIP Flat", "Domain .de"],
        "cancelling": False,  # she can cancel in the portal herself
    },
    "K1000002": {
        "first_name": "Mallory",
        "last_name": "Meier",
        "email": "mallory@example.com",
        "products": ["DSL 50", "TV Basis"],
    },
    "K1000003": {"business": True, "products": ["DSL 250", "Webhosting M", "Domain .de"]},
    "K1000004": {"products": ["DSL 16"], "unstable": True},
    "K1000005": {"products": ["DSL 100", "TV Plus"], "cancelling": True},
    "K1000006": {"products": ["DSL 50", "VoIP Flat"], "overdue": True, "warning": True},
}

LINE_KINDS = {ServiceKind.DSL, ServiceKind.TV, ServiceKind.VOIP}
TWO_PLACES = Decimal("0.01")


@dataclass
class _Plan:
    """Everything one new demo customer gets, as unsaved rows."""

    customer: Customer
    phones: list[PhoneNumber] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    registered: list[PhoneNumber] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    notes: list[tuple[str, str, datetime]] = field(default_factory=list)
    events: list[CustomerEvent] = field(default_factory=list)
    credentials: list[tuple[Connection, str, str]] = field(default_factory=list)
    auth_codes: list[tuple[Connection, str]] = field(default_factory=list)


@transaction.atomic
def seed(*, stdout) -> list[dict]:
    """Create the demo customers once; print the demo phone passwords; no new logins."""
    products = _products()
    plans = _Planner(products=products, today=timezone.localdate(), now=timezone.now()).plans()
    numbers = [plan.customer.number for plan in plans]
    existing = set(Customer.objects.filter(number__in=numbers).values_list("number", flat=True))
    new = [plan for plan in plans if plan.customer.number not in existing]
    if new:
        _insert(new)
        stdout.write(f"Demo customers: {len(new)} created ({numbers[0]}…{numbers[-1]}).")
    _portal_users_link()
    _phone_passwords_set()
    _phone_passwords_print(stdout)
    return []


def _products() -> dict[str, Product]:
    products = {product.name: product for product in Product.objects.all()}
    missing = [
        Product(
            name=name,
            kind=kind,
            monthly_price=Decimal(price),
            minimum_term_months=term,
            notice_period_months=notice,
        )
        for name, kind, price, term, notice in PRODUCTS
        if name not in products
    ]
    for product in Product.objects.bulk_create(missing):
        products[product.name] = product
    return products


def _aware(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _ascii(text: str) -> str:
    """Müller → mueller, Łukasz → lukasz: what people type into an address line."""
    text = text.casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ł", "l")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


class _Planner:
    """Builds the 200 customers from one seeded random generator, in a fixed order, so
    every run plans the same rows whether or not they exist already."""

    def __init__(self, *, products: dict[str, Product], today: date, now: datetime) -> None:
        # Demo data must be reproducible, not secret: a seeded, non-cryptographic generator.
        self.rng = random.Random(SEED)  # noqa: S311
        self.fakers = {
            Language.GERMAN: Faker("de_DE"),
            Language.ENGLISH: Faker("en_GB"),
            Language.POLISH: Faker("pl_PL"),
        }
        for offset, faker in enumerate(self.fakers.values()):
            faker.seed_instance(SEED + offset)
        self.products = products
        self.today = today
        self.now = now
        self.used: set[str] = set()  # line ids, e-mails, domains, hosting logins

    def plans(self) -> list[_Plan]:
        return [self._plan(FIRST_NUMBER + index) for index in range(CUSTOMER_COUNT)]

    def _unique(self, make) -> str:
        value = make()
        while value in self.used:
            value = make()
        self.used.add(value)
        return value

    def _plan(self, digits: int) -> _Plan:
        rng = self.rng
        number = f"K{digits}"
        story = SHOWCASE.get(number, {})
        language = rng.choices(
            [Language.GERMAN, Language.ENGLISH, Language.POLISH], weights=[90, 5, 5]
        )[0]
        if "first_name" in story:
            language = Language.GERMAN
        faker = self.fakers[language]
        first_name = story.get("first_name") or faker.first_name()
        last_name = story.get("last_name") or faker.last_name()
        business = story.get("business", rng.random() < 0.15)
        company, domain_stem = "", f"{_ascii(first_name)}-{_ascii(last_name)}"
        if business:
            company_pattern, domain_pattern = rng.choice(COMPANIES)
            company = company_pattern.format(last=last_name)
            domain_stem = domain_pattern.format(last=_ascii(last_name))
        postal_code, city, area_code = rng.choice(PLACES)
        house = str(rng.randint(1, 120)) + ("a" if rng.random() < 0.08 else "")
        first_start = self.today - timedelta(days=rng.randint(130, 4 * 365))
        customer = Customer(
            number=number,
            first_name=first_name,
            last_name=last_name,
            company=company,
            street=f"{rng.choice(STREETS)} {house}",
            postal_code=postal_code,
            city=city,
            email=story.get("email") or self._email(first_name, last_name, domain_stem, business),
            birth_date=faker.date_of_birth(minimum_age=18, maximum_age=88),
            language=language,
            segment=Segment.BUSINESS if business else Segment.PRIVATE,
            search_name=Customer.search_name_for(first_name, last_name),
            created_at=_aware(first_start - timedelta(days=rng.randint(3, 20)), 9),
        )
        plan = _Plan(customer=customer)
        plan.events.append(
            CustomerEvent(
                customer=customer, kind="customer.created", created_at=customer.created_at
            )
        )
        plan.phones = [
            PhoneNumber(customer=customer, number=raw, normalized=PhoneNumber.normalize(raw))
            for raw in self._contact_numbers(area_code)
        ]
        self._contracts(plan, story, first_start, area_code, domain_stem, city)
        self._invoices(plan, story, first_start)
        self._orders(plan)
        self._notes(plan, story)
        return plan

    def _email(self, first_name: str, last_name: str, stem: str, business: bool) -> str:
        # Reserved example domains (RFC 2606): the demo never mails a real person.
        rng = self.rng
        if rng.random() < 0.05:
            return ""
        host = rng.choice(["example.com", "example.net", "example.org"])
        if business:
            candidates = iter([f"info@{stem}.{host}"])
            return self._unique(lambda: next(candidates, f"info@{stem}{rng.randint(2, 99)}.{host}"))
        first, last = _ascii(first_name), _ascii(last_name)
        local = rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}"])
        return self._unique(lambda: f"{local}{rng.choice(['', str(rng.randint(1, 99))])}@{host}")

    def _contact_numbers(self, area_code: str) -> list[str]:
        rng = self.rng
        kinds = rng.choices([["landline"], ["mobile"], ["landline", "mobile"]], [35, 35, 30])[0]
        numbers = []
        for kind in kinds:
            if kind == "landline":
                subscriber = self._subscriber(area_code)
                numbers.append(
                    rng.choice(
                        [
                            f"{area_code} {subscriber}",
                            f"{area_code}/{subscriber}",
                            f"+49 {area_code[1:]} {subscriber}",
                        ]
                    )
                )
            else:
                prefix = rng.choice(MOBILE_PREFIXES)
                length = 8 if prefix.startswith("015") else 7
                subscriber = str(rng.randint(10 ** (length - 1), 10**length - 1))
                numbers.append(
                    rng.choice(
                        [
                            f"{prefix} {subscriber}",
                            f"+49 {prefix[1:]} {subscriber}",
                            f"{prefix}-{subscriber}",
                        ]
                    )
                )
        return numbers

    def _subscriber(self, area_code: str) -> str:
        # German fixed-line numbers are about eleven digits with the area code.
        length = 11 - len(area_code)
        return str(self.rng.randint(2 * 10 ** (length - 1), 10**length - 1))

    def _product_names(self, story: dict, business: bool) -> list[str]:
        if "products" in story:
            return story["products"]
        rng = self.rng
        first = rng.choices(
            ["DSL 16", "DSL 50", "DSL 100", "DSL 250", "Webhosting S", "Webhosting M"],
            weights=[10, 30, 30, 15, 8, 7] if not business else [3, 20, 30, 25, 10, 12],
        )[0]
        names = [first]
        extras = ["TV Basis", "TV Plus", "VoIP Flat", "Domain .de", "Webhosting S"]
        if first.startswith("Webhosting"):
            extras = ["Domain .de"]
        for _ in range(rng.choices([0, 1, 2], weights=[45, 35, 20])[0]):
            kinds = {self.products[name].kind for name in names}
            options = [name for name in extras if self.products[name].kind not in kinds]
            if options:
                names.append(rng.choice(options))
        return names

    def _contracts(
        self, plan: _Plan, story: dict, first_start: date, area_code: str, stem: str, city: str
    ) -> None:
        rng = self.rng
        customer = plan.customer
        digits = customer.number[1:]
        latest_start = self.today - timedelta(days=5)
        names = self._product_names(story, customer.segment == Segment.BUSINESS)
        spread = (latest_start - first_start).days
        later = sorted(first_start + timedelta(days=rng.randint(0, spread)) for _ in names[1:])
        starts = [first_start, *later]
        cancelling = story.get("cancelling", rng.random() < 0.08)
        cancelled_index = rng.randrange(len(names))
        for index, (name, start) in enumerate(zip(names, starts, strict=True)):
            product = self.products[name]
            contract = Contract(
                customer=customer,
                product=product,
                number=f"V{digits}{index + 1:02}",
                start_date=start,
                minimum_term_months=product.minimum_term_months,
                notice_period_months=product.notice_period_months,
                monthly_price=product.monthly_price,
            )
            if cancelling and index == cancelled_index:
                notice_given_on = self.today - timedelta(days=rng.randint(1, 25))
                contract.status = ContractStatus.CANCELLATION_REQUESTED
                contract.cancellation_requested_at = _aware(notice_given_on, rng.randint(8, 19))
                contract.end_date = contract.earliest_end(notice_given_on=notice_given_on)
                plan.events.append(
                    CustomerEvent(
                        customer=customer,
                        kind="contract.cancellation_requested",
                        created_at=contract.cancellation_requested_at,
                        data={"contract": contract.number, "end_date": str(contract.end_date)},
                    )
                )
            plan.contracts.append(contract)
            self._connection(plan, contract, story, area_code, stem, city)

    def _connection(
        self, plan: _Plan, contract: Contract, story: dict, area_code: str, stem: str, city: str
    ) -> None:
        rng = self.rng
        kind = contract.product.kind
        customer = plan.customer
        connection = Connection(customer=customer, contract=contract, kind=kind)
        states = [LineState.ONLINE, LineState.OFFLINE, LineState.UNKNOWN]
        state = rng.choices(states, weights=[80, 14, 6])[0]
        if kind not in LINE_KINDS:
            state = LineState.ONLINE
        if story.get("unstable"):
            state = LineState.OFFLINE
        connection.state = state
        if state != LineState.UNKNOWN:
            connection.state_reported_at = self.now - timedelta(minutes=rng.randint(1, 180))
        if kind == ServiceKind.DSL:
            connection.identifier = self._unique(
                lambda: f"DEU.{rng.randint(1000, 9999)}.{rng.randint(1000, 9999)}"
            )
            if state != LineState.UNKNOWN:
                connection.last_sync_at = self.now - timedelta(minutes=rng.randint(5, 60 * 24 * 9))
            unstable = story.get("unstable") or rng.random() < 0.12
            connection.sync_drops_24h = rng.randint(3, 14) if unstable else rng.choice([0, 0, 0, 1])
            if rng.random() < 0.4:
                plan.credentials.append((connection, CredentialKind.DSL_PASSWORD, self._secret(16)))
            if rng.random() < 0.25:
                start_code = "-".join(str(rng.randint(1000, 9999)) for _ in range(4))
                plan.credentials.append((connection, CredentialKind.START_CODE, start_code))
        elif kind == ServiceKind.TV:
            connection.identifier = self._unique(
                lambda: "SC-" + "-".join(str(rng.randint(1000, 9999)) for _ in range(3))
            )
        elif kind == ServiceKind.VOIP:
            first = int(self._subscriber(area_code)) // 10 * 10
            numbers = [f"{area_code} {first + offset}" for offset in range(rng.randint(1, 3))]
            connection.identifier = numbers[0]
            plan.registered += [
                PhoneNumber(
                    customer=customer,
                    connection=connection,
                    kind=PhoneKind.REGISTERED,
                    number=raw,
                    normalized=PhoneNumber.normalize(raw),
                )
                for raw in numbers
            ]
            if rng.random() < 0.5:
                plan.credentials.append(
                    (connection, CredentialKind.VOIP_PASSWORD, self._secret(12))
                )
        elif kind == ServiceKind.HOSTING:
            connection.identifier = self._unique(lambda: f"web{rng.randint(10000, 99999)}")
        else:
            city_stem = _ascii(city).split("-")[0]
            candidates = iter([f"{stem}.de", f"{stem}-{city_stem}.de"])
            connection.identifier = self._unique(
                lambda: next(candidates, f"{stem}{rng.randint(1, 99)}.de")
            )
            plan.auth_codes.append((connection, self._secret(12, punctuation=True)))
        plan.connections.append(connection)

    def _secret(self, length: int, *, punctuation: bool = False) -> str:
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        if punctuation:
            alphabet += "+-#!"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def _invoices(self, plan: _Plan, story: dict, first_start: date) -> None:
        """Monthly invoices back from the latest billing day: recent ones open, older ones
        paid, a few overdue, a few credited with a credit note."""
        rng = self.rng
        customer = plan.customer
        billing_day = rng.choice([1, 8, 15, 22])
        latest = self.today.replace(day=billing_day)
        if latest > self.today:
            latest = add_months(latest, -1)
        issue_days = []
        while len(issue_days) < 24 and add_months(latest, -len(issue_days)) >= first_start:
            issue_days.append(add_months(latest, -len(issue_days)))
        issue_days = issue_days[: rng.randint(3, 24)]
        overdue = story.get("overdue", rng.random() < 0.08)
        overdue_left = rng.randint(1, 2) if overdue else 0
        credited = rng.random() < 0.05
        for issued_on in issue_days:  # newest first
            amount = sum(
                (c.monthly_price for c in plan.contracts if c.start_date <= issued_on),
                Decimal(0),
            )
            invoice = Invoice(
                customer=customer,
                number=f"R{issued_on:%y%m}{customer.number[1:]}",
                issued_on=issued_on,
                due_on=issued_on + timedelta(days=14),
                amount=max(amount, plan.contracts[0].monthly_price).quantize(TWO_PLACES),
                status=InvoiceStatus.PAID,
            )
            if invoice.due_on >= self.today:
                invoice.status = InvoiceStatus.OPEN
            elif overdue_left:
                invoice.status = InvoiceStatus.OVERDUE
                overdue_left -= 1
            plan.invoices.append(invoice)
        paid = [invoice for invoice in plan.invoices[1:] if invoice.status == InvoiceStatus.PAID]
        if credited and paid:
            invoice = rng.choice(paid)
            invoice.status = InvoiceStatus.CREDITED
            plan.credit_notes.append(
                CreditNote(
                    customer=customer,
                    invoice=invoice,
                    number=f"G{invoice.issued_on:%y%m}{customer.number[1:]}",
                    issued_on=invoice.issued_on + timedelta(days=rng.randint(5, 20)),
                    amount=invoice.amount,
                    reason=rng.choice(CREDIT_REASONS),
                )
            )

    def _orders(self, plan: _Plan) -> None:
        rng = self.rng
        lines = [c for c in plan.contracts if c.product.kind == ServiceKind.DSL]
        if not lines:
            return
        contract = lines[-1]
        count = rng.choices([0, 1, 2], weights=[40, 40, 20])[0]
        ordered = _aware(contract.start_date - timedelta(days=10), rng.randint(8, 18))
        recent = ordered > self.now - timedelta(days=14)
        if count >= 1:
            plan.orders.append(
                Order(
                    customer=plan.customer,
                    kind=OrderKind.SHIPMENT,
                    description=f"Router {rng.choice(ROUTERS)}",
                    status=OrderStatus.SHIPPED if recent else OrderStatus.DELIVERED,
                    tracking_number=f"00340434{rng.randint(10**11, 10**12 - 1)}",
                    created_at=ordered,
                )
            )
        if count == 2:
            plan.orders.append(
                Order(
                    customer=plan.customer,
                    kind=OrderKind.INSTALLATION,
                    description="Technikertermin: Anschluss schalten, TAE-Dose prüfen",
                    status=OrderStatus.SCHEDULED if recent else OrderStatus.DONE,
                    created_at=ordered,
                )
            )

    def _notes(self, plan: _Plan, story: dict) -> None:
        rng = self.rng
        if story.get("warning"):
            plan.notes.append((NoteKind.WARNING, WARNING_NOTES[2], self.now - timedelta(days=12)))
        if rng.random() >= 0.15:
            return
        for _ in range(rng.randint(1, 2)):
            warning = rng.random() < 0.4
            plan.notes.append(
                (
                    NoteKind.WARNING if warning else NoteKind.INFO,
                    rng.choice(WARNING_NOTES if warning else INFO_NOTES),
                    self.now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 600)),
                )
            )


def _insert(plans: list[_Plan]) -> None:
    """Bulk inserts, parents first (bulk_create sets primary keys on SQLite and
    PostgreSQL, so children pick up their parent's id)."""
    Customer.objects.bulk_create([plan.customer for plan in plans])
    CustomerEvent.objects.bulk_create([event for plan in plans for event in plan.events])
    PhoneNumber.objects.bulk_create([phone for plan in plans for phone in plan.phones])
    Contract.objects.bulk_create([contract for plan in plans for contract in plan.contracts])
    Connection.objects.bulk_create([conn for plan in plans for conn in plan.connections])
    PhoneNumber.objects.bulk_create([phone for plan in plans for phone in plan.registered])
    Invoice.objects.bulk_create([invoice for plan in plans for invoice in plan.invoices])
    CreditNote.objects.bulk_create([note for plan in plans for note in plan.credit_notes])
    Order.objects.bulk_create([order for plan in plans for order in plan.orders])
    author = User.objects.filter(username=NOTE_AUTHOR).first()
    if author is not None:
        CustomerNote.objects.bulk_create(
            CustomerNote(customer=plan.customer, author=author, kind=kind, text=text, created_at=at)
            for plan in plans
            for kind, text, at in plan.notes
        )
    # Secrets go through the services so they are encrypted exactly as in production.
    for plan in plans:
        for connection, auth_code in plan.auth_codes:
            services.connection_auth_code_store(connection=connection, auth_code=auth_code)
        for connection, kind, secret in plan.credentials:
            services.credential_store(
                customer=plan.customer, connection=connection, kind=kind, secret=secret
            )


def _portal_users_link() -> None:
    for number, username in PORTAL_USERS.items():
        user = User.objects.filter(username=username).first()
        customer = Customer.objects.filter(number=number, user=None).first()
        if user is None or customer is None or Customer.objects.filter(user=user).exists():
            continue
        services.customer_login_link(customer=customer, user=user)


def _phone_passwords_set() -> None:
    customers = Customer.objects.filter(number__in=DEMO_PHONE_PASSWORDS, phone_password="")
    for customer in customers.select_related("user"):
        phone_password = DEMO_PHONE_PASSWORDS[customer.number]
        if customer.user is not None:
            # helpdesk.demo (run first) has just set every demo login's password.
            services.customer_phone_password_set(
                customer=customer,
                phone_password=phone_password,
                current_web_password=DEMO_PASSWORD,
                actor=customer.user,
            )
        else:
            services.customer_phone_password_provision(
                customer=customer, phone_password=phone_password
            )


def _phone_passwords_print(stdout) -> None:
    customers = Customer.objects.filter(number__in=DEMO_PHONE_PASSWORDS).select_related("user")
    by_number = {customer.number: customer for customer in customers}
    stdout.write("Demo phone passwords (customer → phone password, unless changed in the portal):")
    for number, phone_password in DEMO_PHONE_PASSWORDS.items():
        customer = by_number.get(number)
        who = customer.full_name if customer else "(missing)"
        if customer and customer.user:
            who += f" (portal login {customer.user.username})"
        stdout.write(f"  {number} → {phone_password:<13} {who}")
