"""Requests to management and the proposals loop (satisfaction guarantee).

A request is worked as a ticket of the management department, so the conversation, the
SLA clocks and the mails are the tickets app's; this module keeps what is particular to
it: the answer target on the management calendar, the proposals, the customer's answer
and carrying out what was accepted. Every step is a `ManagementRequestEvent`; the ticket
gets its own events from the tickets services it calls.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import Contract, Customer, Invoice
from escalation import business_time as bt
from escalation import selectors
from escalation.choices import (
    NotificationKind,
    ProposalKind,
    ProposalStatus,
    RequestSource,
    RequestStatus,
)
from escalation.models import BusinessCalendar, ManagementRequest, ManagementRequestEvent, Proposal
from escalation.selectors import management as management_selectors
from escalation.services import notices_create
from helpdesk.choices import Role
from helpdesk.errors import DomainError, StaleEdit
from mail import services as mail
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.models import Department, Ticket
from tickets.services.outages import text_clean

SUBJECT_MAX = 200
TEXT_MAX = 5000
COMMENT_MAX = 2000
RELATED_TICKETS_MAX = 10
# The calendar the answer target runs on (migration escalation 0002).
MANAGEMENT_CALENDAR = "management"


def event_record(
    *, request: ManagementRequest, kind: str, actor, data: dict | None = None, now=None
):
    """Append one step to the request's history (STYLE R4); `actor=None` is the system."""
    return ManagementRequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data or {},
        created_at=now or timezone.now(),
    )


def answer_due(*, start: datetime) -> datetime:
    """When management should answer: MANAGEMENT_ANSWER_MINUTES business minutes after
    `start` on the management calendar (wall-clock minutes when it is missing)."""
    minutes = settings.MANAGEMENT_ANSWER_MINUTES
    calendar = BusinessCalendar.objects.filter(slug=MANAGEMENT_CALENDAR).first()
    if calendar is not None:
        schedule = selectors.schedules_by_calendar([calendar.pk], now=start).get(calendar.pk)
        try:
            return bt.add_business_minutes(schedule, start, minutes)
        except bt.NoOpenTime:
            pass  # a calendar without opening hours: fall back to wall-clock time
    return start + timedelta(minutes=minutes)


def _managers():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=Role.MANAGEMENT, is_active=True).distinct()


def _notify_managers(*, request: ManagementRequest, kind: str, data: dict, now: datetime) -> None:
    notices_create(
        recipients=_managers(),
        kind=kind,
        data={"reference": request.ticket.reference, "subject": request.subject, **data},
        now=now,
        ticket=request.ticket,
        management_request=request,
    )


def _open_requests_count(customer: Customer) -> int:
    return (
        ManagementRequest.objects.filter(customer=customer)
        .exclude(status=RequestStatus.SETTLED)
        .count()
    )


def _related_clean(*, customer: Customer, tickets) -> list[Ticket]:
    tickets = list(dict.fromkeys(tickets or []))
    if len(tickets) > RELATED_TICKETS_MAX:
        raise DomainError(
            _("Choose at most %(count)d related requests.") % {"count": RELATED_TICKETS_MAX},
            field="related_tickets",
        )
    if any(ticket.customer_id != customer.pk for ticket in tickets):
        raise DomainError(_("Choose only your own requests."), field="related_tickets")
    return tickets


def _contract_of(customer: Customer, contract: Contract | None, *, field: str = "contract"):
    if contract is not None and contract.customer_id != customer.pk:
        raise DomainError(_("Choose one of the customer's own contracts."), field=field)
    return contract


@transaction.atomic
def management_request_create(
    *,
    customer: Customer,
    subject: str,
    text: str,
    actor,
    related_tickets=(),
    contract: Contract | None = None,
    now: datetime | None = None,
) -> ManagementRequest:
    """The customer writes to management from the portal: a new ticket in the management
    queue (customer service never sees it), an acknowledgement mail, and an answer target
    on the management calendar. At most MANAGEMENT_OPEN_REQUESTS_MAX open at a time."""
    now = now or timezone.now()
    subject = " ".join(
        text_clean(subject, field="subject", maximum=SUBJECT_MAX, required=True).split()
    )
    text = text_clean(text, field="text", maximum=TEXT_MAX, required=True)
    related = _related_clean(customer=customer, tickets=related_tickets)
    contract = _contract_of(customer, contract)
    # The customer row is the lock: two submissions at once cannot pass the limit together.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if _open_requests_count(customer) >= settings.MANAGEMENT_OPEN_REQUESTS_MAX:
        raise DomainError(
            _(
                "You already have %(count)d open requests to management. Please wait for our "
                "answer, or write on one of them."
            )
            % {"count": settings.MANAGEMENT_OPEN_REQUESTS_MAX}
        )
    area = ticket_selectors.support_area_get(ticket_selectors.MANAGEMENT_AREA)
    if area is None:
        raise DomainError(
            _("Requests to management cannot be received right now. Please try again later.")
        )
    ticket = ticket_services.ticket_create(
        customer=customer,
        subject=subject,
        body=text,
        channel=Channel.PORTAL,
        support_area=area,
        actor=actor,
        now=now,
        acknowledge=False,  # the request's own acknowledgement names the answer target
    )
    request = ManagementRequest.objects.create(
        ticket=ticket,
        customer=customer,
        source=RequestSource.PORTAL,
        subject=subject,
        text=text,
        contract=contract,
        answer_due_at=answer_due(start=now),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    request.related_tickets.set(related)
    event_record(
        request=request,
        kind="request.created",
        actor=actor,
        data={
            "ticket": ticket.reference,
            "related": [t.reference for t in related],
            "contract": contract.number if contract else None,
            "answer_due_at": request.answer_due_at.isoformat(),
        },
        now=now,
    )
    mail.management_mail_queue(request=request, event="received")
    _notify_managers(request=request, kind=NotificationKind.MANAGEMENT_REQUEST, data={}, now=now)
    return request


def escalation_problem(ticket: Ticket) -> str | None:
    """Why this ticket cannot go to management (None: it can); the page shows it instead
    of the form, the service refuses with it."""
    if ticket.customer_id is None:
        return _("Only a ticket of a known customer can go to management.")
    if ticket.is_done:
        return _("A resolved or closed ticket cannot go to management.")
    if management_selectors.request_for_ticket(ticket=ticket) is not None:
        return _("This ticket is already with management.")
    return None


@transaction.atomic
def management_escalate(*, ticket: Ticket, reason: str, actor, now: datetime | None = None):
    """An agent passes a customer's ticket to management with a reason: the ticket moves
    to the management queue (out of the agent's department) and becomes a request."""
    now = now or timezone.now()
    reason = text_clean(reason, field="reason", maximum=2000, required=True)
    problem = escalation_problem(ticket)
    if problem:
        raise DomainError(problem, field="reason")
    management = Department.objects.filter(slug=Department.MANAGEMENT).first()
    if management is None:
        raise DomainError(_("There is no management department to escalate to."), field="reason")
    if ticket.queue.department_id != management.pk:
        ticket = ticket_services.ticket_handoff(
            ticket=ticket, actor=actor, department=management, note=reason
        )
    request = ManagementRequest.objects.create(
        ticket=ticket,
        customer_id=ticket.customer_id,
        source=RequestSource.AGENT,
        subject=ticket.subject,
        text=reason,
        answer_due_at=answer_due(start=now),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    event_record(
        request=request,
        kind="request.escalated",
        actor=actor,
        data={"ticket": ticket.reference, "answer_due_at": request.answer_due_at.isoformat()},
        now=now,
    )
    ticket_services.event_record(
        ticket=ticket, kind="management.escalated", actor=actor, data={"request": request.pk}
    )
    mail.management_mail_queue(request=request, event="escalated")
    _notify_managers(request=request, kind=NotificationKind.MANAGEMENT_REQUEST, data={}, now=now)
    return request


# --- Proposals ------------------------------------------------------------------------------


def _amount_clean(raw, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(raw).strip().replace(",", ".")) if raw not in (None, "") else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise DomainError(_("Enter an amount in euros, e.g. 25.00."), field=field)
    return amount


def _credit_note_check(request: ManagementRequest, invoice: Invoice | None, amount) -> Decimal:
    if invoice is None:
        raise DomainError(_("Choose the invoice the credit note is for."), field="invoice")
    if invoice.customer_id != request.customer_id:
        raise DomainError(_("Choose one of the customer's own invoices."), field="invoice")
    amount = _amount_clean(amount, field="amount")
    problem = customer_services.credit_note_problem(invoice=invoice, amount=amount)
    if problem:
        raise DomainError(problem, field="amount")
    return amount


def _termination_check(
    request: ManagementRequest, contract: Contract | None, end_date: date | None, today: date
) -> Decimal:
    if contract is None:
        raise DomainError(_("Choose the contract that ends early."), field="contract")
    _contract_of(request.customer, contract)
    if not contract.may_end_early:
        raise DomainError(
            _("This contract has already ended or was already ended early."), field="contract"
        )
    if end_date is None:
        raise DomainError(_("Choose the day the contract ends."), field="end_date")
    if end_date < today:
        raise DomainError(_("The end date cannot be in the past."), field="end_date")
    if contract.end_date is not None and end_date > contract.end_date:
        raise DomainError(
            _("The contract already ends on %(date)s; choose that day or an earlier one.")
            % {"date": formats.date_format(contract.end_date, "DATE_FORMAT")},
            field="end_date",
        )
    return contract.refund_after(end_date)


def proposal_words(proposal: Proposal) -> str:
    """The proposal as the customer reads it in the conversation and the mail (in the
    active language)."""
    lines = [proposal.findings, ""]
    if proposal.kind == ProposalKind.CREDIT_NOTE:
        lines.append(
            _("We propose a credit note of %(amount)s € on invoice %(invoice)s.")
            % {
                "amount": formats.number_format(proposal.amount, 2),
                "invoice": proposal.invoice.number,
            }
        )
    elif proposal.kind == ProposalKind.TERMINATION:
        lines.append(
            _(
                "We propose to end contract %(contract)s on %(date)s, regardless of its "
                "term and notice period."
            )
            % {
                "contract": proposal.contract.number,
                "date": formats.date_format(proposal.end_date, "DATE_FORMAT"),
            }
        )
        if proposal.refund_amount:
            lines.append(
                _("We refund the %(amount)s € you paid in advance for the time after that.")
                % {"amount": formats.number_format(proposal.refund_amount, 2)}
            )
        if proposal.free_month:
            lines.append(
                _(
                    "Your services stay on free of charge until %(date)s, so you can move "
                    "domains, web site and mailboxes."
                )
                % {"date": formats.date_format(proposal.service_until, "DATE_FORMAT")}
            )
    if proposal.text:
        lines.append(proposal.text)
    lines += ["", _("Please accept or reject the proposal in the customer menu.")]
    return "\n".join(lines).strip()


def _locked(request: ManagementRequest) -> ManagementRequest:
    return (
        ManagementRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "ticket")
        .get(pk=request.pk)
    )


def _request_move(request: ManagementRequest, *, old: str, new: str, now: datetime, **changes):
    """Guarded status change of a request (STYLE R3): a lost race is refused."""
    moved = ManagementRequest.objects.filter(pk=request.pk, status=old).update(
        status=new, updated_at=now, version=F("version") + 1, **changes
    )
    if not moved:
        raise StaleEdit(_("Someone else answered meanwhile; reload the request and try again."))
    request.status = new
    for field, value in changes.items():
        setattr(request, field, value)
    request.version += 1


@transaction.atomic
def proposal_make(
    *,
    request: ManagementRequest,
    kind: str,
    findings: str,
    actor,
    text: str = "",
    amount=None,
    invoice: Invoice | None = None,
    contract: Contract | None = None,
    end_date: date | None = None,
    free_month: bool = False,
    now: datetime | None = None,
) -> Proposal:
    """A manager records what was found and proposes one thing; the customer answers it in
    the portal. Only while the request waits for a proposal (one open proposal at a time).
    The refund of an early termination is computed from the contract now and fixed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if kind not in ProposalKind.values:
        raise DomainError(_("Choose what you propose."), field="kind")
    findings = text_clean(findings, field="findings", maximum=TEXT_MAX, required=True)
    text = text_clean(
        text, field="text", maximum=TEXT_MAX, required=kind == ProposalKind.INDIVIDUAL
    )
    # Read the request as it is now (the page may be old), locked until the proposal is in.
    request = _locked(request)
    if request.status != RequestStatus.OPEN:
        raise DomainError(
            _("The customer has not answered the last proposal yet; withdraw it first.")
            if request.status == RequestStatus.PROPOSED
            else _("This request is settled.")
        )
    fields: dict = {}
    if kind == ProposalKind.CREDIT_NOTE:
        fields = {"amount": _credit_note_check(request, invoice, amount), "invoice": invoice}
    elif kind == ProposalKind.TERMINATION:
        refund = _termination_check(request, contract, end_date, today)
        fields = {
            "contract": contract,
            "end_date": end_date,
            "refund_amount": refund,
            "free_month": bool(free_month),
        }
    _request_move(request, old=RequestStatus.OPEN, new=RequestStatus.PROPOSED, now=now)
    proposal = Proposal.objects.create(
        request=request,
        kind=kind,
        findings=findings,
        text=text,
        created_by=actor,
        created_at=now,
        **fields,
    )
    with translation.override(request.customer.language or settings.LANGUAGE_CODE):
        words = proposal_words(proposal)
    ticket = Ticket.objects.get(pk=request.ticket_id)
    ticket_services.ticket_reply(
        ticket=ticket,
        actor=actor,
        body=words,
        status=Status.WAITING_CUSTOMER if ticket.status != Status.WAITING_CUSTOMER else None,
        mail_customer=False,  # the proposal mail below links to the answer form
    )
    event_record(
        request=request,
        kind="proposal.made",
        actor=actor,
        data={
            "proposal": proposal.pk,
            "kind": kind,
            **({"amount": str(proposal.amount), "invoice": invoice.number} if invoice else {}),
            **(
                {
                    "contract": contract.number,
                    "end_date": end_date.isoformat(),
                    "refund": str(proposal.refund_amount),
                    "free_month": proposal.free_month,
                }
                if kind == ProposalKind.TERMINATION
                else {}
            ),
        },
        now=now,
    )
    mail.management_mail_queue(request=request, event="proposal", proposal=proposal, text=words)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, reason: str, actor) -> Proposal:
    """Management takes back an unanswered proposal (e.g. a wrong amount) to make another."""
    reason = text_clean(reason, field="reason", maximum=COMMENT_MAX, required=True)
    now = timezone.now()
    if not Proposal.objects.filter(pk=proposal.pk, status=ProposalStatus.OPEN).update(
        status=ProposalStatus.WITHDRAWN
    ):
        raise StaleEdit(_("This proposal has already been answered or withdrawn."))
    proposal.status = ProposalStatus.WITHDRAWN
    request = _locked(proposal.request)
    _request_move(
        request,
        old=RequestStatus.PROPOSED,
        new=RequestStatus.OPEN,
        now=now,
        answer_due_at=answer_due(start=now),
    )
    event_record(
        request=request,
        kind="proposal.withdrawn",
        actor=actor,
        data={"proposal": proposal.pk, "reason": reason},
        now=now,
    )
    return proposal


def _carry_out(proposal: Proposal, *, actor) -> dict:
    """What accepting the proposal changes, through the customers services."""
    request = proposal.request
    if proposal.kind == ProposalKind.CREDIT_NOTE:
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("Agreed with management, request %(reference)s") % {
                "reference": request.ticket.reference
            }
        note = customer_services.credit_note_create(
            invoice=proposal.invoice, amount=proposal.amount, reason=reason, actor=actor
        )
        Proposal.objects.filter(pk=proposal.pk).update(credit_note=note)
        proposal.credit_note = note
        return {"credit_note": note.number, "amount": str(note.amount)}
    if proposal.kind == ProposalKind.TERMINATION:
        contract = customer_services.contract_terminate_early(
            contract=proposal.contract,
            end_date=proposal.end_date,
            refund_amount=proposal.refund_amount,
            free_month=proposal.free_month,
            actor=actor,
        )
        return {
            "contract": contract.number,
            "end_date": contract.end_date.isoformat(),
            "refund": str(contract.refund_amount),
            "free_until": contract.free_until.isoformat() if contract.free_until else None,
        }
    return {}


@transaction.atomic
def proposal_answer(*, proposal: Proposal, accept: bool, comment: str, actor) -> Proposal:
    """The customer accepts or rejects a proposal, once. Rejected: management's turn again
    with a new answer target. Accepted: the outcome is carried out (credit note, early end
    with refund and free month) and the ticket resolved, all or nothing."""
    now = timezone.now()
    comment = text_clean(comment, field="comment", maximum=COMMENT_MAX, required=not accept)
    new = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
    if not Proposal.objects.filter(pk=proposal.pk, status=ProposalStatus.OPEN).update(
        status=new, customer_comment=comment, answered_at=now
    ):
        raise StaleEdit(_("This proposal has already been answered or was withdrawn."))
    proposal.status, proposal.customer_comment, proposal.answered_at = new, comment, now
    request = ManagementRequest.objects.select_related("ticket", "customer").get(
        pk=proposal.request_id
    )
    proposal.request = request
    ticket = request.ticket
    with translation.override(request.customer.language or settings.LANGUAGE_CODE):
        said = _("I accept the proposal.") if accept else _("I reject the proposal.")
    ticket_services.ticket_customer_message_add(
        ticket=ticket, actor=actor, body=f"{said}\n\n{comment}".strip(), now=now
    )
    if accept:
        outcome = _carry_out(proposal, actor=actor)
        _request_move(
            request, old=RequestStatus.PROPOSED, new=RequestStatus.SETTLED, now=now, settled_at=now
        )
        event_record(
            request=request,
            kind="proposal.accepted",
            actor=actor,
            data={"proposal": proposal.pk, "comment": comment},
            now=now,
        )
        event_record(
            request=request,
            kind=f"outcome.{proposal.kind}",
            actor=None,
            data={"proposal": proposal.pk, **outcome},
            now=now,
        )
        ticket.refresh_from_db()
        if not ticket.is_done:
            ticket_services.ticket_transition(
                ticket=ticket,
                to=Status.RESOLVED,
                actor=None,
                note="proposal accepted",
                notify=False,
            )
        mail.management_mail_queue(request=request, event="settled", proposal=proposal)
    else:
        _request_move(
            request,
            old=RequestStatus.PROPOSED,
            new=RequestStatus.OPEN,
            now=now,
            answer_due_at=answer_due(start=now),
        )
        event_record(
            request=request,
            kind="proposal.rejected",
            actor=actor,
            data={"proposal": proposal.pk, "comment": comment},
            now=now,
        )
    _notify_managers(
        request=request,
        kind=NotificationKind.PROPOSAL_ANSWERED,
        data={"accepted": accept},
        now=now,
    )
    return proposal
