"""Customer portal pages for requests to management (satisfaction guarantee): the list,
writing a new one, following it, and answering management's proposals.

A customer reaches only their own requests and proposals (`escalation.permissions`: 404
for anything else, staff included); every change goes through
`escalation.services.management`, which refuses a second answer to a proposal.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers import permissions as customer_permissions
from escalation import permissions, portal_forms
from escalation.choices import ProposalStatus, RequestStatus
from escalation.selectors import management as selectors
from escalation.services import management as services
from helpdesk import permissions as roles
from helpdesk.errors import DomainError

Answer = portal_forms.ProposalAnswerForm


def _add_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@roles.portal_required
def request_list(request):
    """The customer's requests to management, newest first, and what the guarantee means."""
    rows = selectors.portal_request_list(user=request.user)
    unsettled = sum(1 for row in rows if row.status != RequestStatus.SETTLED)
    context = {
        "rows": rows,
        "at_limit": unsettled >= settings.MANAGEMENT_OPEN_REQUESTS_MAX,
        "open_max": settings.MANAGEMENT_OPEN_REQUESTS_MAX,
        "answer_by": services.answer_due(start=timezone.now()),
    }
    return render(request, "escalation/portal/list.html", context)


@roles.portal_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    """Write to management; the request's page then shows when we answer."""
    customer = customer_permissions.own_customer(request.user)
    data = request.POST if request.method == "POST" else None
    form = portal_forms.ManagementRequestForm(data, customer=customer)
    if form.is_valid():
        try:
            created = services.management_request_create(
                customer=customer,
                subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"],
                related_tickets=list(form.cleaned_data["related_tickets"]),
                contract=form.cleaned_data["contract"],
                actor=request.user,
            )
        except DomainError as error:
            _add_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your request to management has been received (number %(reference)s). "
                    "We will answer by %(date)s."
                )
                % {"reference": created.ticket.reference, "date": _when(created.answer_due_at)},
            )
            return redirect("portal_management:request-detail", request_id=created.pk)
    context = {
        "form": form,
        "customer": customer,
        "answer_by": services.answer_due(start=timezone.now()),
    }
    return render(
        request, "escalation/portal/create.html", context, status=400 if form.errors else 200
    )


@roles.portal_required
def request_detail(request, request_id: int):
    """The request, every proposal in order, and the answer forms for the open one."""
    return _detail_page(request, request_id)


def _detail_page(request, request_id, *, bound: Answer | None = None, status: int = 200):
    mrequest = selectors.portal_request_detail(user=request.user, request_id=request_id)
    proposals = list(mrequest.proposals.all())
    open_proposal = mrequest.open_proposal
    forms = {}
    if open_proposal is not None:
        forms = {
            decision: bound
            if bound is not None and bound.data.get("decision") == decision
            else Answer(decision=decision)
            for decision in (Answer.ACCEPT, Answer.REJECT)
        }
    context = {
        "mrequest": mrequest,
        "ticket": mrequest.ticket,
        "proposals": proposals,
        "open_proposal": open_proposal,
        "open_words": services.proposal_words(open_proposal) if open_proposal else "",
        "accepted": next((p for p in proposals if p.status == ProposalStatus.ACCEPTED), None),
        "related": list(mrequest.related_tickets.order_by("-created_at", "-id")),
        "accept_form": forms.get(Answer.ACCEPT),
        "reject_form": forms.get(Answer.REJECT),
    }
    return render(request, "escalation/portal/detail.html", context, status=status)


@roles.portal_required
@require_POST
def proposal_answer(request, proposal_id: int):
    """Accept (confirmed) or reject (with a reason) a proposal, once."""
    proposal = permissions.own_open_proposal(request.user, proposal_id)
    decisions = request.POST.getlist("decision")
    decision = decisions[0] if len(decisions) == 1 else None
    if decision not in (Answer.ACCEPT, Answer.REJECT):
        messages.error(request, _("Please use the buttons to accept or reject the proposal."))
        return redirect("portal_management:request-detail", request_id=proposal.request_id)
    if proposal.status != ProposalStatus.OPEN:
        # Answered before (a second click, another tab) or withdrawn by management.
        messages.error(request, _("This proposal has already been answered or was withdrawn."))
        return redirect("portal_management:request-detail", request_id=proposal.request_id)
    form = Answer(request.POST, decision=decision)
    if form.is_valid():
        try:
            services.proposal_answer(
                proposal=proposal,
                accept=form.accept,
                comment=form.cleaned_data["comment"],
                actor=request.user,
            )
        except DomainError as error:
            if error.field in form.fields:
                _add_error(form, error)
                return _detail_page(request, proposal.request_id, bound=form, status=400)
            messages.error(request, error.message)
        else:
            if form.accept:
                messages.success(request, _("Thank you. You have accepted the proposal."))
            else:
                messages.success(
                    request,
                    _("Thank you for your answer. We will make you a new proposal by %(date)s.")
                    % {"date": _when(proposal.request.answer_due_at)},
                )
        return redirect("portal_management:request-detail", request_id=proposal.request_id)
    return _detail_page(request, proposal.request_id, bound=form, status=400)
