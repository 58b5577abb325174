"""Customer portal pages for requests: list, new request, conversation, reply, close.

A customer reaches only their own requests (`permissions.own_ticket`: 404 for anything
else) and only the public messages on them; every change goes through `tickets.services`.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers import permissions as customer_permissions
from helpdesk import permissions as roles
from helpdesk.errors import DomainError
from tickets import permissions, portal_forms, selectors, services
from tickets.choices import Channel, Status
from tickets.selectors import visits as visit_selectors

# The reference of the request just opened in this session: its page greets it once.
RECEIVED_SESSION_KEY = "portal_tickets_received"


def _add_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _own_ticket(request, reference: str):
    return permissions.own_ticket(request.user, reference, selectors.ticket_queryset())


@roles.portal_required
def ticket_list(request):
    """The customer's requests, open or solved and closed, most recently changed first."""
    done = request.GET.get("show") == "closed"
    cursor = request.GET.get("cursor", "")
    page = selectors.portal_ticket_list(user=request.user, done=done, cursor=cursor)
    context = {"page": page, "done": done, "cursor": cursor}
    return render(request, "tickets/portal/list.html", context)


@roles.portal_required
@require_http_methods(["GET", "POST"])
def ticket_create(request):
    """Open a new request; its page then shows the reference."""
    customer = customer_permissions.own_customer(request.user)
    if request.method == "POST":
        form = portal_forms.RequestForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = services.ticket_create(
                    customer=customer,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    channel=Channel.PORTAL,
                    support_area=form.cleaned_data["support_area"],
                    actor=request.user,
                    attachments=form.cleaned_data["attachments"],
                )
            except DomainError as error:
                _add_error(form, error)
            else:
                request.session[RECEIVED_SESSION_KEY] = ticket.reference
                return redirect("portal_tickets:ticket-detail", reference=ticket.reference)
    else:
        form = portal_forms.RequestForm(initial=_follow_up_initial(request))
    context = {"form": form, "customer": customer}
    return render(
        request, "tickets/portal/create.html", context, status=400 if form.errors else 200
    )


def _follow_up_initial(request) -> dict:
    """`?follow_up=<reference>` (from a closed request) fills in topic and subject."""
    match = selectors.REFERENCE_RE.match(request.GET.get("follow_up", ""))
    if match is None:
        return {}
    visible = permissions.tickets_visible_to(request.user)
    earlier = visible.filter(reference=match.group(1)).first()
    if earlier is None:
        return {}
    subject = _("Follow-up to %(reference)s: %(subject)s") % {
        "reference": earlier.reference,
        "subject": earlier.subject,
    }
    return {
        "support_area": earlier.support_area_id,
        "subject": subject[: services.SUBJECT_MAX_LENGTH],
    }


@roles.portal_required
def ticket_detail(request, reference: str):
    """The request's status in words, its public conversation and what the customer can do."""
    ticket = _own_ticket(request, reference)
    return _detail_page(request, ticket, portal_forms.ReplyForm())


def _detail_page(request, ticket, reply_form, *, status: int = 200):
    context = {
        "ticket": ticket,
        "conversation": selectors.ticket_messages(user=request.user, ticket=ticket),
        "reply_form": reply_form,
        "can_reply": ticket.accepts_customer_message(timezone.now()),
        "reopen_until": ticket.reopen_until(),
        "just_received": request.session.pop(RECEIVED_SESSION_KEY, None) == ticket.reference,
        "outage": ticket.outage,  # the outage this request belongs to (select_related)
        "visits": visit_selectors.ticket_visits(ticket=ticket),
    }
    return render(request, "tickets/portal/detail.html", context, status=status)


@roles.portal_required
@require_POST
def ticket_reply(request, reference: str):
    """The customer answers; a resolved request reopens within the reopen period."""
    ticket = _own_ticket(request, reference)
    form = portal_forms.ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        was_resolved = ticket.status == Status.RESOLVED
        try:
            message = services.ticket_customer_message_add(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                channel=Channel.PORTAL,
                attachments=form.cleaned_data["attachments"],
            )
        except DomainError as error:
            if error.field is None:
                # Closed meanwhile (or too long ago): the page explains what to do instead.
                messages.error(request, error.message)
                return redirect("portal_tickets:ticket-detail", reference=ticket.reference)
            _add_error(form, error)
        else:
            if was_resolved:
                messages.success(request, _("Thank you. We have reopened your request."))
            else:
                messages.success(request, _("Thank you. Your message has been sent."))
            url = reverse("portal_tickets:ticket-detail", args=[ticket.reference])
            return redirect(f"{url}#message-{message.pk}")
    return _detail_page(request, ticket, form, status=400)


@roles.portal_required
@require_http_methods(["GET", "POST"])
def ticket_close(request, reference: str):
    """Ask once more, then close the request for good."""
    ticket = _own_ticket(request, reference)
    error, status = "", 200
    if request.method == "POST":
        try:
            services.ticket_close_by_customer(ticket=ticket, actor=request.user)
        except DomainError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(
                request,
                _("Your request %(reference)s is closed. Thank you!")
                % {"reference": ticket.reference},
            )
            return redirect("portal_tickets:ticket-detail", reference=ticket.reference)
    context = {"ticket": ticket, "error": error}
    return render(request, "tickets/portal/close.html", context, status=status)
