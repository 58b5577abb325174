"""Every write of the calls app: one function per use case (STYLE R2).

The phone system reports a call (`call_report`) and its end (`call_end`); the agent sees
the notice (`call_notice_dismiss`) and writes the call note (`call_note_record`), which
opens, solves, escalates or hands off a ticket, or logs the call on an open one, all
through `tickets.services` and in one transaction: a refusal leaves nothing behind.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from calls import selectors
from calls.choices import NEW_TICKET_OUTCOMES, NOTE_OUTCOMES, Match, Outcome
from calls.models import Call
from customers import services as customers_services
from customers.models import Customer, PhoneNumber
from helpdesk.errors import DomainError, StaleEdit
from tickets import permissions as tickets_permissions
from tickets import selectors as tickets_selectors
from tickets import services as tickets_services
from tickets.choices import OPEN_STATUSES, Channel, Status
from tickets.models import Department, SupportArea, Ticket

# Phone system and web servers keep their own clocks; a little ahead is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
MAX_CALL_SECONDS = 24 * 60 * 60
SUBJECT_FROM_SUMMARY_CHARS = 80


# --- The phone system ----------------------------------------------------------------------


def _reported(external_id: str) -> Call | None:
    """The call stored under the phone system's id, as the API answers with it."""
    return (
        Call.objects.select_related("customer", "support_area", "agent__user", "ticket")
        .filter(external_id=external_id)
        .first()
    )


@transaction.atomic
def call_report(
    *,
    external_id: str,
    wait_seconds: int,
    actor,
    caller_number: str = "",
    ivr_choice: str = "",
    customer_number: str = "",
    queue_name: str = "",
    extension: str = "",
    answered_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Call, bool]:
    """Record a call the phone system reports; returns (call, created).

    A repeat of the same call id (a retried POST) returns the stored call unchanged: the
    first report wins. The customer is matched by the number typed into the IVR, else by
    the caller's number; the IVR choice gives the support area; the extension the agent
    who gets the notice. What matches nothing is kept as sent and flagged, never refused:
    the call happened, and the agent is on the line with someone.
    """
    now = now or timezone.now()
    external_id = (external_id or "").strip()
    if not external_id:
        raise DomainError(_("Give the phone system's id of the call."), field="call_id")
    existing = _reported(external_id)
    if existing is not None:
        return existing, False
    if not 0 <= wait_seconds <= MAX_CALL_SECONDS:
        raise DomainError(
            _("The wait must be between 0 and %(max)d seconds.") % {"max": MAX_CALL_SECONDS},
            field="wait_seconds",
        )
    extension = (extension or "").strip()
    if answered_at is not None and not extension:
        raise DomainError(
            _("An answered call names the extension that took it."), field="extension"
        )
    if answered_at is None and extension:
        answered_at = now
    if answered_at is not None and answered_at > now + CLOCK_SKEW:
        raise DomainError(_("This moment lies in the future."), field="answered_at")
    found = selectors.customer_match(
        customer_number=customer_number or "",
        caller_normalized=PhoneNumber.normalize(caller_number or ""),
    )
    ivr_choice = (ivr_choice or "").strip()
    area = tickets_selectors.support_area_for_ivr(ivr_choice)
    call = Call(
        external_id=external_id,
        caller_number=(caller_number or "").strip(),
        caller_normalized=PhoneNumber.normalize(caller_number or ""),
        ivr_choice=ivr_choice,
        ivr_unknown=bool(ivr_choice) and area is None,
        typed_customer_number=(customer_number or "").strip(),
        match=found.match,
        customer=found.customer,
        candidates=found.candidates,
        support_area=area,
        queue_name=(queue_name or "").strip(),
        wait_seconds=wait_seconds,
        extension=extension,
        agent=selectors.agent_for_extension(extension),
        started_at=(answered_at or now) - timedelta(seconds=wait_seconds),
        answered_at=answered_at,
        created_at=now,
    )
    try:
        with transaction.atomic():
            call.save()
    except IntegrityError:
        # The same report delivered twice at once: the other delivery stored it first.
        return _reported(external_id), False
    return call, True


@transaction.atomic
def call_end(
    *,
    call: Call,
    actor,
    ended_at: datetime | None = None,
    duration_seconds: int | None = None,
    now: datetime | None = None,
) -> tuple[Call, bool]:
    """Record the end of a call and its talk time; returns (call, changed).

    The first end reported wins; a repeat (a retried POST) returns the call unchanged.
    Without a duration, the talk time is counted from the answer to the end; a call
    nobody answered has none.
    """
    if call.ended_at is not None:
        return call, False
    now = now or timezone.now()
    ended_at = ended_at or now
    if ended_at > now + CLOCK_SKEW:
        raise DomainError(_("This moment lies in the future."), field="ended_at")
    if ended_at < call.started_at:
        raise DomainError(
            _("The call cannot end before it started (%(start)s).")
            % {"start": call.started_at.isoformat()},
            field="ended_at",
        )
    if duration_seconds is None and call.answered_at is not None:
        duration_seconds = max(0, int((ended_at - call.answered_at).total_seconds()))
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_CALL_SECONDS:
        raise DomainError(
            _("The duration must be between 0 and %(max)d seconds.") % {"max": MAX_CALL_SECONDS},
            field="duration_seconds",
        )
    if not Call.objects.filter(pk=call.pk, ended_at=None).update(
        ended_at=ended_at, duration_seconds=duration_seconds
    ):
        call.refresh_from_db()  # another delivery of the end was first
        return call, False
    call.ended_at, call.duration_seconds = ended_at, duration_seconds
    return call, True


# --- The agent -----------------------------------------------------------------------------


def call_notice_dismiss(*, call: Call, actor: User, now: datetime | None = None) -> Call:
    """The agent has seen the call's notice (opened it or closed it): it stops popping up.
    Seeing it again changes nothing."""
    now = now or timezone.now()
    if Call.objects.filter(pk=call.pk, notice_seen_at=None).update(notice_seen_at=now):
        call.notice_seen_at = now
    return call


def _subject(subject: str, summary: str) -> str:
    subject = " ".join((subject or "").split())
    if subject:
        return subject
    first_line = next((line for line in (summary or "").splitlines() if line.strip()), "")
    return Truncator(" ".join(first_line.split())).chars(SUBJECT_FROM_SUMMARY_CHARS)


def _logged_text(call: Call, summary: str) -> str:
    """The internal note a call leaves on an existing ticket: when, who, how long, what."""
    moment = timezone.localtime(call.answered_at or call.started_at)
    at = formats.time_format(moment, "H:i")
    day = formats.date_format(moment, "SHORT_DATE_FORMAT")
    if call.caller_number and call.wait_seconds is not None:
        head = _("Call on %(day)s at %(time)s from %(number)s (waited %(wait)d s):") % {
            "day": day,
            "time": at,
            "number": call.caller_number,
            "wait": call.wait_seconds,
        }
    else:
        head = _("Call on %(day)s at %(time)s:") % {"day": day, "time": at}
    return f"{head}\n\n{summary.strip()}"


@transaction.atomic
def call_note_record(
    *,
    call: Call | None,
    customer: Customer,
    actor: User,
    outcome: str,
    summary: str,
    subject: str = "",
    support_area: SupportArea | None = None,
    note: str = "",
    department: Department | None = None,
    ticket: Ticket | None = None,
    now: datetime | None = None,
) -> Call:
    """Write the note of a call and act on it, all or nothing.

    - solved on first contact: a phone ticket is opened and resolved at once; the customer
      gets no acknowledgement (they are on the line), only the usual "resolved" mail with
      the reference, which they may answer to reopen it;
    - ticket opened: a phone ticket in the support area's first queue;
    - escalated / handed off: that ticket, then moved up a line (`note` is the reason) or
      to `department` (`note` is for them);
    - logged on a ticket: the summary becomes an internal note on `ticket`, one of the
      customer's open tickets.

    Without `call` (a call the phone system did not report) the call is recorded here.
    The call names its ticket and outcome, and the ticket gets a `call.*` event, so
    first-contact solutions are counted from either side. Any refusal (e.g. a department
    without a line to escalate to) rolls everything back; a call noted meanwhile by a
    second submit is refused (StaleEdit) instead of making a second ticket.
    """
    now = now or timezone.now()
    if outcome not in NOTE_OUTCOMES:
        raise DomainError(_("Choose what happens with the call."), field="outcome")
    if outcome in NEW_TICKET_OUTCOMES and support_area is None:
        raise DomainError(_("Choose the support area."), field="support_area")
    if outcome == Outcome.HANDED_OFF and department is None:
        raise DomainError(_("Choose the department."), field="department")
    if outcome == Outcome.LOGGED_ON_TICKET:
        if ticket is None or ticket.customer_id != customer.pk:
            raise DomainError(_("Choose one of the customer's open tickets."), field="ticket")
        if ticket.status not in OPEN_STATUSES:
            raise DomainError(
                _("Ticket %(reference)s is no longer open; open a new one instead.")
                % {"reference": ticket.reference},
                field="ticket",
            )
    if call is None:
        call = Call.objects.create(
            match=Match.AGENT,
            customer=customer,
            agent=tickets_permissions.agent_of(actor),
            started_at=now,
            answered_at=now,
            notice_seen_at=now,
            created_at=now,
        )
    else:
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.is_noted:
            raise StaleEdit(_("This call has already been noted."))
    verified = customers_services.verification_state(
        customer=customer, agent=actor, now=now
    ).verified
    if outcome == Outcome.LOGGED_ON_TICKET:
        tickets_services.ticket_note_add(
            ticket=ticket, actor=actor, body=_logged_text(call, summary)
        )
    else:
        ticket = tickets_services.ticket_create(
            customer=customer,
            subject=_subject(subject, summary),
            body=summary,
            channel=Channel.PHONE,
            support_area=support_area,
            actor=actor,
            now=now,
            acknowledge=outcome != Outcome.FIRST_CONTACT_SOLVED,
        )
        if outcome == Outcome.FIRST_CONTACT_SOLVED:
            tickets_services.ticket_transition(
                ticket=ticket, to=Status.RESOLVED, actor=actor, note="solved on first contact"
            )
        elif outcome == Outcome.ESCALATED:
            tickets_services.ticket_escalate(ticket=ticket, actor=actor, reason=note)
        elif outcome == Outcome.HANDED_OFF:
            tickets_services.ticket_handoff(
                ticket=ticket, actor=actor, department=department, note=note
            )
    kind = (
        "call.solved_on_first_contact" if outcome == Outcome.FIRST_CONTACT_SOLVED else "call.logged"
    )
    tickets_services.event_record(
        ticket=ticket,
        kind=kind,
        actor=actor,
        data={
            "call": call.pk,
            "outcome": outcome,
            "new_ticket": outcome in NEW_TICKET_OUTCOMES,
            "caller_verified": verified,
            "wait_seconds": call.wait_seconds,
        },
    )
    # Guarded on "not noted yet": of two submits racing past the check above (SQLite
    # ignores the row lock), the second finds nothing to update and rolls back whole.
    if not Call.objects.filter(pk=call.pk, outcome=Outcome.NONE).update(
        outcome=outcome,
        ticket=ticket,
        customer=customer,
        noted_by=actor,
        noted_at=now,
        caller_verified=verified,
        notice_seen_at=Coalesce(F("notice_seen_at"), now),
    ):
        raise StaleEdit(_("This call has already been noted."))
    call.refresh_from_db()
    return call
