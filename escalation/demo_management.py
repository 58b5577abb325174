"""Requests to management in the demo, and the KPI roll-up of the demo history.

`manage.py seed_demo` runs this after every app's own demo data: the requests build on
the demo customers, contracts, invoices and tickets, and the roll-up reads the tickets
and calls of every app. Made through the services, once: a second run finds requests and
adds none (the roll-up only fills days still missing).

- mallory's customer (K1000002) wrote six days ago and has no answer yet: overdue;
- alice's customer (K1000001) has a credit-note proposal to answer in the portal;
- a business customer (K1000003) rejected a credit note and accepted an early end of the
  hosting contract with the prepaid months refunded and one month free to move;
- bob passed one of customer service's open tickets to management with a reason.
"""

from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from customers.choices import ContractStatus, InvoiceStatus, ServiceKind
from customers.models import Contract, Customer, Invoice, add_months
from escalation import services as sla_services
from escalation.choices import ProposalKind
from escalation.models import ManagementRequest
from escalation.services import kpis
from escalation.services import management as services
from tickets.models import Ticket

ACTIVE = (ContractStatus.ACTIVE, ContractStatus.CANCELLATION_REQUESTED)


def seed(*, stdout) -> list[dict]:
    """Prepaid hosting years, the demo requests (once) and the KPI roll-up; no logins."""
    prepaid = _hosting_prepaid()
    if prepaid:
        stdout.write(f"Hosting contracts paid a year in advance: {prepaid}")
    if ManagementRequest.objects.exists():
        stdout.write("Requests to management: demo requests exist, none added")
    else:
        made = _requests()
        # Their tickets' clocks started in the past: fire what is due now, as the timer
        # would within seconds (escalation.demo did so before these tickets existed).
        swept = sla_services.sla_sweep()
        stdout.write(
            f"Requests to management: {made} created "
            f"({swept.warnings} SLA warnings, {swept.breaches} breaches fired)"
        )
    days = kpis.kpi_days_rollup(limit=kpis.LOOKBACK_DAYS)
    stdout.write(f"KPI roll-up: {len(days)} day(s) rolled up")
    return []


def _hosting_prepaid() -> int:
    """Hosting packages are paid by the contract year: prepaid to the end of the current
    one (what an early end refunds). Only contracts without a date yet."""
    today = timezone.localdate()
    contracts = Contract.objects.filter(
        product__kind=ServiceKind.HOSTING, prepaid_until=None, status__in=ACTIVE
    )
    count = 0
    for contract in contracts:
        years = 1
        while add_months(contract.start_date, 12 * years) - timedelta(days=1) < today:
            years += 1
        until = add_months(contract.start_date, 12 * years) - timedelta(days=1)
        count += Contract.objects.filter(pk=contract.pk, prepaid_until=None).update(
            prepaid_until=until
        )
    return count


def _working_morning(days_ago: int) -> datetime:
    """10:00 on the working day at least `days_ago` days back."""
    day = timezone.localdate() - timedelta(days=days_ago)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(10)))


@transaction.atomic
def _requests() -> int:
    users = {user.username: user for user in User.objects.filter(username__in=["max", "bob"])}
    customers = Customer.objects.select_related("user").in_bulk(
        ["K1000001", "K1000002", "K1000003"], field_name="number"
    )
    manager, agent = users.get("max"), users.get("bob")
    if manager is None or len(customers) < 3:
        return 0  # the demo users or customers are missing: nothing to tell a story with
    made = 0
    made += _overdue(customers["K1000002"])
    made += _credit_note_waiting(customers["K1000001"], manager)
    made += _ended_early(customers["K1000003"], manager)
    if agent is not None:
        made += _escalated(agent)
    return made


def _overdue(customer: Customer) -> int:
    services.management_request_create(
        customer=customer,
        subject="Seit Wochen kein stabiles Fernsehen",
        text=(
            "Mein TV-Empfang fällt seit drei Wochen jeden Abend aus. Ich habe viermal "
            "angerufen, zwei Technikertermine wurden abgesagt. So geht das nicht weiter; "
            "ich erwarte eine Lösung von der Geschäftsleitung."
        ),
        actor=customer.user,
        contract=customer.contracts.filter(product__kind=ServiceKind.TV).first(),
        now=_working_morning(6),
    )
    return 1


def _credit_note_waiting(customer: Customer, manager: User) -> int:
    invoice = (
        Invoice.objects.filter(customer=customer, status=InvoiceStatus.PAID)
        .order_by("-issued_on")
        .first()
    )
    related = list(Ticket.objects.filter(customer=customer).order_by("created_at")[:2])
    request = services.management_request_create(
        customer=customer,
        subject="Internet drei Wochen gestört",
        text=(
            "Meine DSL-Leitung war vom 2. bis 23. des Monats immer wieder weg. Ich arbeite "
            "im Homeoffice und musste mobil surfen. Ich möchte dafür nicht zahlen."
        ),
        actor=customer.user,
        related_tickets=related,
        now=_working_morning(3),
    )
    if invoice is None:
        return 1
    half = (invoice.amount / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    services.proposal_make(
        request=request,
        kind=ProposalKind.CREDIT_NOTE,
        findings=(
            "Die Messungen bestätigen: Ihre Leitung hatte vom 2. bis 23. täglich mehrere "
            "Abbrüche; der Fehler lag an einem Verteiler in Ihrer Straße und ist behoben."
        ),
        text="Als Entschuldigung schreiben wir Ihnen die Hälfte der Rechnung gut.",
        amount=half,
        invoice=invoice,
        actor=manager,
    )
    return 1


def _ended_early(customer: Customer, manager: User) -> int:
    contract = (
        Contract.objects.filter(
            customer=customer,
            product__kind=ServiceKind.HOSTING,
            status__in=ACTIVE,
            early_termination_at=None,
        )
        .order_by("start_date")
        .first()
    )
    if contract is None:
        return 0
    invoice = (
        Invoice.objects.filter(customer=customer, status=InvoiceStatus.PAID)
        .order_by("-issued_on")
        .first()
    )
    request = services.management_request_create(
        customer=customer,
        subject="Webhosting ständig langsam – wir wollen wechseln",
        text=(
            "Unser Shop lädt seit Monaten über zehn Sekunden, Kunden springen ab. Wir "
            "möchten das Hosting vorzeitig beenden und das im Voraus gezahlte Geld zurück."
        ),
        actor=customer.user,
        contract=contract,
        now=_working_morning(12),
    )
    if invoice is not None:
        rejected = services.proposal_make(
            request=request,
            kind=ProposalKind.CREDIT_NOTE,
            findings="Ihr Server war überlastet; wir haben Ihr Paket auf einen neuen umgezogen.",
            amount=min(Decimal("20.00"), invoice.amount),
            invoice=invoice,
            actor=manager,
        )
        services.proposal_answer(
            proposal=rejected,
            accept=False,
            comment="Eine Gutschrift hilft uns nicht, wir haben schon einen neuen Anbieter.",
            actor=customer.user,
        )
    end = timezone.localdate() + timedelta(days=14)
    if contract.end_date is not None:
        end = min(end, contract.end_date)
    accepted = services.proposal_make(
        request=request,
        kind=ProposalKind.TERMINATION,
        findings="Wir verstehen, dass Sie wechseln möchten, und lassen Sie fair ziehen.",
        contract=contract,
        end_date=end,
        free_month=True,
        actor=manager,
    )
    services.proposal_answer(
        proposal=accepted, accept=True, comment="Einverstanden, danke.", actor=customer.user
    )
    return 1


def _escalated(agent: User) -> int:
    """One of customer service's open tickets with a known customer goes to management."""
    ticket = (
        Ticket.objects.filter(
            queue__department__slug="customer-service",
            customer__isnull=False,
            resolved_at=None,
            closed_at=None,
            management_request=None,
        )
        .exclude(customer__number__in=["K1000001", "K1000002", "K1000003"])
        .select_related("queue")
        .order_by("created_at")
        .first()
    )
    if ticket is None or ticket.is_done:
        return 0
    services.management_escalate(
        ticket=ticket,
        reason=(
            "Der Kunde ist seit Jahren bei uns und droht nach dem dritten Fehler auf der "
            "Rechnung mit Kündigung. Bitte melden Sie sich persönlich bei ihm."
        ),
        actor=agent,
    )
    return 1
