"""Agent workspace pages for calls: the screen pop, the call note, the agent's calls.

Thin views (STYLE R9): calls are looked up through `calls.permissions` (404 for missing
and for another agent's call), read through `calls.selectors` and changed only through
`calls.services`. Every form posts without JavaScript; htmx polls the notices and
swaps them in, and dismisses one in place.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from calls import forms, permissions, selectors, services
from calls.choices import Outcome
from calls.models import Call
from customers import forms as customers_forms
from customers import permissions as customers_permissions
from customers import services as customers_services
from customers.models import Customer
from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import permissions as tickets_permissions

# htmx stops polling on this status: the session ended, nothing more will come.
STOP_POLLING = 286


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _notices(request) -> dict:
    calls = selectors.notice_list(user=request.user, now=timezone.now())
    return {
        "calls": calls[: selectors.NOTICES_SHOWN],
        "more": len(calls) > selectors.NOTICES_SHOWN,
        "state": selectors.notice_state(calls),
    }


# --- The screen pop ---------------------------------------------------------------------


@never_cache
@require_GET
def notice_list(request):
    """The agent's new call notices, polled about once a second from every workspace page.

    Answers 204 while the notices on screen (`shown`) are still the ones to show, so the
    usual answer is empty; one indexed query besides the session. Signed out: 286, which
    tells htmx to stop polling.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    if not permissions.can_take_calls(request.user):
        raise PermissionDenied
    context = _notices(request)
    if request.GET.get("shown") == context["state"]:
        return HttpResponse(status=204)
    return render(request, "calls/partials/notices.html", context)


@workspace_required
@require_POST
def call_seen(request, call_id: int):
    """The agent acts on a notice: open the customer record or the call note, or dismiss it.
    Each marks the notice seen."""
    call = permissions.call_for(request.user, call_id, Call.objects.select_related("customer"))
    services.call_notice_dismiss(call=call, actor=request.user)
    go = request.POST.get("go", "")
    if go == "note":
        return redirect("calls:call-note", call.pk)
    if go.startswith("customer"):
        number = go.partition(":")[2] or (call.customer.number if call.customer_id else "")
        offered = {c["number"] for c in call.candidates}
        if call.customer_id:
            offered.add(call.customer.number)
        if number in offered:
            return redirect("customers:customer-detail", number)
        go = "search"
    if go == "search":
        search = reverse("customers:customer-search")
        return redirect(f"{search}?{urlencode({'q': call.caller_number})}")
    if _is_htmx(request):
        return render(request, "calls/partials/notices.html", _notices(request))
    return redirect("agent-home")  # dismissed without JavaScript


# --- The call note ----------------------------------------------------------------------


def _chosen_customer(request, call: Call | None) -> tuple[Customer | None, str]:
    """The customer the note is for: the call's, or the one the agent picked (`customer`)."""
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    if not raw:
        return (call.customer if call else None), ""
    number = selectors.customer_number_clean(raw)
    visible = customers_permissions.customers_visible_to(request.user)
    chosen = visible.filter(number=number).first() if number else None
    if chosen is None:
        return (call.customer if call else None), _("No customer with this number.")
    return chosen, ""


def _after_note(request, call: Call):
    ticket = call.ticket
    notices = {
        Outcome.FIRST_CONTACT_SOLVED: _(
            "Solved on first contact: ticket %(ref)s opened and resolved."
        ),
        Outcome.TICKET_OPENED: _("Ticket %(ref)s opened in %(queue)s."),
        Outcome.ESCALATED: _("Ticket %(ref)s opened and escalated to %(queue)s."),
        Outcome.HANDED_OFF: _("Ticket %(ref)s opened and handed off to %(queue)s."),
        Outcome.LOGGED_ON_TICKET: _("The call is logged on ticket %(ref)s."),
    }
    messages.success(
        request, notices[call.outcome] % {"ref": ticket.reference, "queue": ticket.queue}
    )
    if (
        call.outcome in (Outcome.TICKET_OPENED, Outcome.LOGGED_ON_TICKET)
        and tickets_permissions.tickets_visible_to(request.user).filter(pk=ticket.pk).exists()
    ):
        return redirect(ticket)
    return redirect(call.customer)


def _note_page(
    request, *, call: Call | None, customer: Customer | None, chooser_error: str, action_url: str
):
    open_tickets = selectors.open_tickets_of(customer=customer) if customer else []
    initial = {"support_area": call.support_area_id} if call and call.support_area_id else {}
    form = forms.CallNoteForm(
        request.POST if request.method == "POST" else None,
        open_tickets=open_tickets,
        initial=initial,
        prefix="note",
    )
    if request.method == "POST" and customer is None:
        chooser_error = chooser_error or _("Choose the customer first.")
    elif request.method == "POST" and form.is_valid():
        try:
            noted = services.call_note_record(
                call=call, customer=customer, actor=request.user, **form.service_arguments()
            )
        except StaleEdit as error:
            messages.error(request, error.message)
            return redirect(call.get_absolute_url() if call else customer.get_absolute_url())
        except DomainError as error:
            form.add_service_error(error.field, error.message)
        else:
            return _after_note(request, noted)
    if form.is_bound and form.errors:
        form.focus_first_error()
    chooser_form = forms.CustomerChoiceForm(
        initial={"customer": call.typed_customer_number if call else ""}
    )
    if customer is None:
        chooser_form.fields["customer"].widget.attrs["autofocus"] = True
    verification = None
    if customer is not None:
        verification = customers_services.verification_state(
            customer=customer, agent=request.user, now=timezone.now()
        )
    return render(
        request,
        "calls/call_note.html",
        {
            "call": call,
            "customer": customer,
            "form": form,
            "action_url": action_url,
            "open_tickets": open_tickets,
            "chooser_form": chooser_form,
            "chooser_error": chooser_error,
            "verification": verification,
            "check_form": customers_forms.PhonePasswordCheckForm(),
        },
    )


@never_cache
@workspace_required
def call_note(request, call_id: int):
    """Write the note of one of the agent's calls (from its notice or the call list)."""
    call = permissions.call_for(
        request.user,
        call_id,
        Call.objects.select_related("customer", "support_area", "ticket"),
    )
    if request.method == "GET" and call.notice_seen_at is None:
        # Looking at the call is seeing its notice: it need not pop up beside its own note.
        services.call_notice_dismiss(call=call, actor=request.user)
    if call.is_noted:
        if request.method == "POST":
            messages.error(request, _("This call has already been noted."))
            return redirect(call.get_absolute_url())
        return render(request, "calls/call_noted.html", {"call": call})
    customer, chooser_error = _chosen_customer(request, call)
    return _note_page(
        request,
        call=call,
        customer=customer,
        chooser_error=chooser_error,
        action_url=request.get_full_path(),
    )


@never_cache
@workspace_required
def customer_call_note(request, number: str):
    """ "New call note" on the customer record. If the agent's last call (of the last half
    hour, not noted yet) is this customer's or matched nobody, the note is that call's;
    otherwise the call is recorded with the note (`?call=none` forces that)."""
    customer = customers_permissions.customer_for(request.user, number)
    if request.method == "GET" and request.GET.get("call") != "none":
        pending = selectors.pending_call_for(
            user=request.user, customer=customer, now=timezone.now()
        )
        if pending is not None:
            url = reverse("calls:call-note", args=[pending.pk])
            if pending.customer_id != customer.pk:
                url += "?" + urlencode({"customer": customer.number})
            return redirect(url)
    action_url = reverse("calls:customer-call-note", args=[customer.number]) + "?call=none"
    return _note_page(
        request, call=None, customer=customer, chooser_error="", action_url=action_url
    )


# --- The agent's calls ------------------------------------------------------------------


@workspace_required
def call_list(request):
    """The agent's calls, newest first: after-call work, and notes not yet written."""
    page = selectors.call_page(user=request.user, before=request.GET.get("before", ""))
    return render(request, "calls/call_list.html", {"page": page})
