"""Management's pages in the agent workspace: the board, the requests to management with
their whole history and the proposals loop, and passing a ticket to management.

Thin views (STYLE R9): access is decided by `escalation.permissions` (the board and the
list are management's: 403 for other staff; a request or proposal gives 404 to anyone
else), reads come from the selectors and every change from
`escalation.services.management`. Each action posts to its own URL and works without
JavaScript: success redirects with a message; a refusal shows the page again with what
was typed and the reason next to its field, and nothing changed.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from calls import selectors as call_selectors
from escalation import management_forms as forms
from escalation import permissions
from escalation import selectors as sla_selectors
from escalation.choices import ProposalKind, ProposalStatus, RequestStatus
from escalation.models import Proposal
from escalation.selectors import management as selectors
from escalation.services import management as services
from feature_requests import selectors as feature_selectors
from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import permissions as ticket_permissions
from tickets import selectors as ticket_selectors

BOARD_WISHES = 8
# The moves chart: one slot per day with two bars (escalations, handoffs) side by side.
CHART = {"slot": 52, "bar": 18, "gap": 2, "top": 18, "bottom": 150, "height": 176}


# --- The board ------------------------------------------------------------------------------


def _age(delta: timedelta) -> str:
    """How long a request has waited, as people say it: "for 3 days"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return ngettext("for %(count)d minute", "for %(count)d minutes", minutes) % {
            "count": minutes
        }
    hours = minutes // 60
    if hours < 48:
        return ngettext("for %(count)d hour", "for %(count)d hours", hours) % {"count": hours}
    days = hours // 24
    return ngettext("for %(count)d day", "for %(count)d days", days) % {"count": days}


def _moves_chart(days: list[dict]) -> dict:
    """Escalations and handoffs per day as SVG geometry (attributes only: the CSP allows
    no inline styles)."""
    slot, bar, gap = CHART["slot"], CHART["bar"], CHART["gap"]
    top, bottom = CHART["top"], CHART["bottom"]
    highest = max((max(day["escalated"], day["handed_off"]) for day in days), default=0)

    def height(count: int) -> int:
        if not count:
            return 1
        return max(round((bottom - top) * count / highest), 2)

    columns = []
    for index, day in enumerate(days):
        left = index * slot + (slot - 2 * bar - gap) // 2
        columns.append(
            {
                **day,
                "escalated_x": left,
                "escalated_height": height(day["escalated"]),
                "escalated_y": bottom - height(day["escalated"]),
                "handed_off_x": left + bar + gap,
                "handed_off_height": height(day["handed_off"]),
                "handed_off_y": bottom - height(day["handed_off"]),
                "label_x": index * slot + slot // 2,
            }
        )
    return {
        **CHART,
        "width": slot * len(days),
        "columns": columns,
        "highest": highest,
        "escalated": sum(day["escalated"] for day in days),
        "handed_off": sum(day["handed_off"] for day in days),
        "days": len(days),
        "baseline": bottom + 0.5,
        "label_y": bottom + 18,
        "max_y": top - 5,
    }


@never_cache
@workspace_required
def board(request):
    """What management looks at first: requests waiting for it, SLA breaches this week,
    escalations and handoffs, the most asked wishes, the timer and today's calls."""
    permissions.ensure_management(request.user)
    now = timezone.now()
    rows, unsettled = selectors.board_requests(now=now)
    moves = selectors.moves_per_day(now=now)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    breaches = selectors.breaches_by_queue(now=now)
    return render(
        request,
        "escalation/management/board.html",
        {
            "rows": [{"item": row, "age": _age(row.age)} for row in rows],
            "unsettled": unsettled,
            "more": unsettled - len(rows),
            "breaches": breaches,
            "breaches_total": sum(row["breaches"] for row in breaches),
            "week_start": selectors.week_start(now),
            "moves": moves,
            "chart": _moves_chart(moves),
            "wishes": feature_selectors.most_asked(limit=BOARD_WISHES),
            "timer": sla_selectors.timer_status(now=now),
            "calls": call_selectors.call_figures(start=midnight, end=now),
        },
    )


# --- The list -------------------------------------------------------------------------------

TABS = [
    ("", gettext_lazy("All unsettled")),
    (RequestStatus.OPEN, RequestStatus.OPEN.label),
    (RequestStatus.PROPOSED, RequestStatus.PROPOSED.label),
    (RequestStatus.SETTLED, RequestStatus.SETTLED.label),
]


@never_cache
@workspace_required
def request_list(request):
    """Every request to management: unsettled ones oldest first, filtered by status."""
    permissions.ensure_management(request.user)
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    page = selectors.request_list(user=request.user, status=status, page=request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "escalation/management/request_list.html",
        {
            "page": page,
            "rows": [
                {
                    "item": item,
                    "overdue": item.status == RequestStatus.OPEN and item.answer_due_at < now,
                }
                for item in page.object_list
            ],
            "status": status,
            "tabs": [
                {
                    "key": key or "unsettled",
                    "label": label,
                    "url": f"{request.path}?status={key}" if key else request.path,
                    "current": key == status,
                }
                for key, label in TABS
            ],
            "query_string": f"status={status}" if status else "",
        },
    )


# --- One request ----------------------------------------------------------------------------

EVENT_TITLES = {
    "request.created": gettext_lazy("Written to management in the customer menu"),
    "request.escalated": gettext_lazy("Passed to management by an agent"),
    "proposal.made": gettext_lazy("Proposal %(number)s made"),
    "proposal.withdrawn": gettext_lazy("Proposal %(number)s withdrawn"),
    "proposal.rejected": gettext_lazy("Proposal %(number)s rejected by the customer"),
    "proposal.accepted": gettext_lazy("Proposal %(number)s accepted by the customer"),
    "outcome.credit_note": gettext_lazy("Credit note issued"),
    "outcome.termination": gettext_lazy("Contract ended early"),
    "outcome.individual": gettext_lazy("Individual solution agreed"),
}
# What an event's data says, in the order shown; each value is formatted by its type.
EVENT_FIELDS = [
    ("kind", gettext_lazy("Kind"), "kind"),
    ("related", gettext_lazy("Related requests"), "references"),
    ("contract", gettext_lazy("Contract"), "text"),
    ("invoice", gettext_lazy("Invoice"), "text"),
    ("amount", gettext_lazy("Amount"), "money"),
    ("credit_note", gettext_lazy("Credit note"), "text"),
    ("end_date", gettext_lazy("Ends on"), "date"),
    ("refund", gettext_lazy("Refund"), "money"),
    ("free_month", gettext_lazy("One more month free of charge"), "yes"),
    ("free_until", gettext_lazy("Free of charge until"), "date"),
    ("answer_due_at", gettext_lazy("Answer due"), "datetime"),
]
# Words someone wrote, shown as a quote under the event.
EVENT_TEXTS = {"reason": gettext_lazy("Reason"), "comment": gettext_lazy("Customer's comment")}


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else _("System")


def _value(kind: str, raw):
    """One value of an event's data as people read it; None when there is nothing to show."""
    if raw in (None, "", []):
        return None
    if kind == "money":
        return f"{formats.number_format(raw, 2, use_l10n=True)} €"
    if kind == "date":
        day = parse_date(str(raw))
        return formats.date_format(day, "SHORT_DATE_FORMAT") if day else str(raw)
    if kind == "datetime":
        moment = parse_datetime(str(raw))
        if moment is None:
            return str(raw)
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if kind == "kind":
        return ProposalKind(raw).label if raw in ProposalKind.values else str(raw)
    if kind == "yes":
        return _("yes") if raw else None
    if kind == "references":
        return ", ".join(str(reference) for reference in raw)
    return str(raw)


def _history(events, numbers: dict[int, int]) -> list[dict]:
    """Each step of the request as one line: when, who, what, and what it said."""
    rows = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        number = numbers.get(data.get("proposal"), "")
        title = EVENT_TITLES.get(event.kind)
        details = []
        for key, label, kind in EVENT_FIELDS:
            value = _value(kind, data.get(key))
            if value is not None:
                details.append({"label": label, "value": value})
        rows.append(
            {
                "event": event,
                "who": _name(event.actor),
                "what": str(title) % {"number": number} if title else event.kind,
                "ticket": data.get("ticket") if isinstance(data.get("ticket"), str) else None,
                "details": details,
                "texts": [
                    {"label": label, "text": data[key]}
                    for key, label in EVENT_TEXTS.items()
                    if isinstance(data.get(key), str) and data[key]
                ],
            }
        )
    return rows


def _contract_rows(form, contracts, *, today: date) -> tuple[list[dict], date, bool]:
    """The customer's contracts that may end early with the refund on the chosen end date
    (today while none is chosen), for the termination part of the form."""
    chosen_date = _end_date_of(form)
    day = chosen_date or today
    chosen = str(form["contract"].value() or "")
    rows = [
        {
            "contract": contract,
            "refund": contract.refund_after(day),
            "checked": str(contract.pk) == chosen,
        }
        for contract in contracts
    ]
    return rows, day, chosen_date is not None


def _end_date_of(form) -> date | None:
    """The end date typed into the form, if it is one."""
    if not form.is_bound:
        return None
    try:
        return form.fields["end_date"].clean(form["end_date"].value())
    except ValidationError:
        return None


def _detail_context(request, request_id, *, propose=None, withdraw=None, **extra) -> dict:
    user = request.user
    item = selectors.request_detail(user=user, request_id=request_id)
    proposals = list(item.proposals.all())
    numbers = {proposal.pk: index for index, proposal in enumerate(proposals, start=1)}
    for proposal in proposals:
        proposal.number = numbers[proposal.pk]
    open_proposal = next((p for p in proposals if p.status == ProposalStatus.OPEN), None)
    now = timezone.now()
    today = timezone.localdate(now)
    can_propose = permissions.can_make_proposal(user, item)
    show_form = can_propose or propose is not None
    context = {
        "item": item,
        "proposals": proposals,
        "open_proposal": open_proposal,
        "history": _history(item.history, numbers),
        "overdue": item.status == RequestStatus.OPEN and item.answer_due_at < now,
        "can_propose": can_propose,
        "show_form": show_form,
        "can_withdraw": open_proposal is not None and permissions.can_withdraw(user, open_proposal),
        "withdraw_form": withdraw or forms.WithdrawForm(auto_id="withdraw-%s"),
        **extra,
    }
    if show_form:
        form = propose or forms.ProposalForm(customer=item.customer, auto_id="propose-%s")
        contracts = list(form.fields["contract"].queryset)
        rows, day, chosen = _contract_rows(form, contracts, today=today)
        context.update(
            form=form,
            contracts=rows,
            refund_day=day,
            refund_day_chosen=chosen,
            has_invoices=form.fields["invoice"].queryset.exists(),
        )
    return context


def _render_detail(request, request_id, **kwargs):
    # Read the request again: a refused service call may have left objects in memory
    # behind what is stored.
    return render(
        request,
        "escalation/management/request_detail.html",
        _detail_context(request, request_id, **kwargs),
    )


@never_cache
@workspace_required
def request_detail(request, request_id: int):
    """The whole history of one request on one page, with the proposal form."""
    return _render_detail(request, request_id)


def _refuse(form, error: DomainError) -> None:
    """Put the service's reason next to the field it names (or above the form)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


@workspace_required
@require_POST
def proposal_make(request, request_id: int):
    """Make a proposal; with `preview`, only compute the refund and show the form again."""
    item = permissions.management_request_for(request.user, request_id)
    form = forms.ProposalForm(request.POST, customer=item.customer, auto_id="propose-%s")
    if "preview" in request.POST:
        form.is_valid()
        for name in list(form.errors):
            if name not in ("end_date", "contract"):
                del form.errors[name]
        return _render_detail(request, request_id, propose=form, previewed=True)
    if form.is_valid():
        try:
            proposal = services.proposal_make(
                request=item, actor=request.user, **form.proposal_data()
            )
        except StaleEdit as error:
            return _render_detail(request, request_id, propose=form, stale=error.message)
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Proposal sent to the customer: %(kind)s.")
                % {"kind": proposal.get_kind_display()},
            )
            return redirect(item)
    return _render_detail(request, request_id, propose=form)


def _proposal_for(user, proposal_id: int) -> Proposal:
    """A proposal for management's pages: 404 for anyone else, as for its request."""
    if not permissions.is_management(user):
        raise Http404
    return get_object_or_404(
        Proposal.objects.select_related("request"),
        pk=proposal_id if 0 < proposal_id <= permissions.MAX_ID else 0,
    )


@workspace_required
@require_POST
def proposal_withdraw(request, proposal_id: int):
    """Take back an unanswered proposal (e.g. a wrong amount) to make another."""
    proposal = _proposal_for(request.user, proposal_id)
    form = forms.WithdrawForm(request.POST, auto_id="withdraw-%s")
    if form.is_valid():
        try:
            services.proposal_withdraw(
                proposal=proposal, reason=form.cleaned_data["reason"], actor=request.user
            )
        except StaleEdit as error:
            return _render_detail(request, proposal.request_id, withdraw=form, stale=error.message)
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(request, _("Proposal withdrawn. You can make a new one now."))
            return redirect(proposal.request)
    return _render_detail(request, proposal.request_id, withdraw=form)


# --- Passing a ticket to management ---------------------------------------------------------


@never_cache
@workspace_required
def ticket_escalate(request, reference: str):
    """Whoever works a ticket passes it to management with a reason; it then leaves the
    agent's department, so the agent goes back to the queue it came from."""
    user = request.user
    ticket = ticket_permissions.ticket_for(user, reference, ticket_selectors.ticket_queryset())
    if not permissions.can_escalate_to_management(user, ticket):
        raise PermissionDenied
    queue = ticket.queue
    form = forms.EscalateForm(
        request.POST if request.method == "POST" else None, auto_id="escalate-%s"
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.management_escalate(
                ticket=ticket, reason=form.cleaned_data["reason"], actor=user
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Ticket %(reference)s is now with management.") % {"reference": reference},
            )
            if permissions.is_management(user):
                return redirect(item)
            if ticket_permissions.tickets_visible_to(user).filter(pk=ticket.pk).exists():
                return redirect(ticket)
            return redirect(queue.get_absolute_url())
    blocker = services.escalation_problem(ticket)
    return render(
        request,
        "escalation/management/ticket_escalate.html",
        {
            "ticket": ticket,
            "form": form,
            "existing": selectors.request_for_ticket(ticket=ticket),
            "is_management": permissions.is_management(user),
            "blocker": blocker,
            "can_escalate": blocker is None,
            "back_url": reverse("tickets:ticket-detail", args=[ticket.reference]),
        },
    )
