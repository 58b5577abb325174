"""Agent workspace pages for customers: search, the customer record, caller verification.

Thin views (STYLE R9): they look up through `customers.permissions`, read through
`customers.selectors` and change things only through `customers.services`.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from customers import forms, permissions, selectors, services
from customers.choices import NoteKind
from customers.models import Customer
from helpdesk.errors import DomainError
from helpdesk.permissions import workspace_required
from tickets.selectors import outages as outage_selectors


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


@workspace_required
def customer_search(request):
    """Find a customer by number, name, postal code, phone number or e-mail."""
    form = forms.CustomerSearchForm(request.GET or None)
    rows, next_after = [], None
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        after = _parse_after(request.GET.get("after", ""))
        rows = selectors.customer_search(query=query, after=after)
        if len(rows) > selectors.SEARCH_PAGE_SIZE:
            rows = rows[: selectors.SEARCH_PAGE_SIZE]
            next_after = f"{rows[-1].search_name}|{rows[-1].pk}"
        if len(rows) == 1 and after is None and selectors.is_exact_lookup(query):
            return redirect(rows[0])
    context = {"form": form, "rows": rows, "query": query, "next_after": next_after}
    template = "customers/partials/search_results.html" if _is_htmx(request) else None
    return render(request, template or "customers/search.html", context)


def _parse_after(raw: str) -> tuple[str, int] | None:
    name, _sep, pk = raw.rpartition("|")
    return (name, int(pk)) if pk.isdigit() and name else None


def _detail_context(request, customer: Customer, **extra) -> dict:
    now = timezone.now()
    overview = selectors.customer_overview(customer=customer)
    return {
        "customer": customer,
        "overview": overview,
        # The banner of outages at the customer's address: one query, the services come
        # from the connections the overview already read.
        "outages": outage_selectors.outages_for_customer(
            customer=customer, kinds={connection.kind for connection in overview.connections}
        ),
        "verification": services.verification_state(customer=customer, agent=request.user, now=now),
        "check_form": forms.PhonePasswordCheckForm(),
        "identity_form": forms.IdentityCheckForm(),
        "note_form": forms.CustomerNoteForm(),
        "warning_kind": NoteKind.WARNING,
        **extra,
    }


@never_cache
@workspace_required
def customer_detail(request, number: str):
    """The customer record an agent opens before saying hello."""
    customer = permissions.customer_for(request.user, number, selectors.customer_queryset())
    return render(request, "customers/detail.html", _detail_context(request, customer))


@sensitive_post_parameters("phone_password")
@never_cache
@workspace_required
@require_POST
def customer_verify(request, number: str):
    """Check the phone password the caller says; htmx swaps the verification widget."""
    customer = permissions.customer_for(request.user, number)
    form = forms.PhonePasswordCheckForm(request.POST)
    state = None
    if form.is_valid():
        try:
            state = services.phone_password_verify(
                customer=customer,
                spoken=form.cleaned_data["phone_password"],
                agent=request.user,
                ticket_reference=form.cleaned_data["ticket_reference"],
            )
        except DomainError as error:
            form.add_error("phone_password", error.message)
    if _is_htmx(request):
        if state is not None and state.verified:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"  # account actions on the page unlock
            return response
        state = state or services.verification_state(
            customer=customer, agent=request.user, now=timezone.now()
        )
        return render(
            request,
            "customers/partials/verification.html",
            {"customer": customer, "verification": state, "check_form": form},
        )
    _flash_verification(request, form, state)
    return redirect(customer)


def _flash_verification(request, form, state) -> None:
    if state is None:
        messages.error(request, " ".join(form.errors.get("phone_password", [])))
    elif state.verified:
        messages.success(request, _("Caller verified."))
    else:
        messages.error(request, _("Not verified."))


@workspace_required
@require_POST
def customer_identity_check(request, number: str):
    """Compare name and address as the caller gives them (routing and general questions)."""
    customer = permissions.customer_for(request.user, number)
    form = forms.IdentityCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ask the caller for all five details."))
        return redirect(customer)
    if services.identity_check(customer=customer, agent=request.user, answers=form.cleaned_data):
        messages.success(
            request,
            _(
                "Name and address match. This is enough for general questions, "
                "not for account changes."
            ),
        )
    else:
        messages.error(request, _("Name and address do not match."))
    return redirect(customer)


@workspace_required
@require_POST
def customer_note_add(request, number: str):
    customer = permissions.customer_for(request.user, number)
    form = forms.CustomerNoteForm(request.POST)
    if form.is_valid():
        try:
            services.customer_note_add(customer=customer, author=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Note added."))
    else:
        # The form's own message: "write a note first" for an empty one, the limit for a
        # note that is too long (which is not the same mistake).
        errors = form.errors.get("text") or [_("Write a note first.")]
        messages.error(request, errors[0])
    return redirect(f"{customer.get_absolute_url()}#notes")


@never_cache
@workspace_required
def contract_cancel(request, number: str, contract_id: int):
    """Cancel on the caller's behalf: GET shows the earliest end date to read out, POST
    records it; refused without an open verification."""
    customer = permissions.customer_for(request.user, number)
    contract = permissions.contract_for(request.user, contract_id, customer=customer)
    if request.method != "POST":
        return render(
            request,
            "customers/contract_cancel.html",
            {
                "customer": customer,
                "contract": contract,
                "end_date": contract.earliest_end(notice_given_on=timezone.localdate()),
                "verification": services.verification_state(
                    customer=customer, agent=request.user, now=timezone.now()
                ),
            },
        )
    try:
        contract = services.contract_cancel(contract=contract, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Cancellation recorded. The contract ends on %(date)s.")
            % {"date": contract.end_date.strftime("%d.%m.%Y")},
        )
    return redirect(customer)


@never_cache
@workspace_required
def contract_change_product(request, number: str, contract_id: int):
    """Tariff change on the caller's behalf; refused without an open verification."""
    customer = permissions.customer_for(request.user, number)
    contract = permissions.contract_for(request.user, contract_id, customer=customer)
    form = forms.TariffChangeForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_change_product(
                contract=contract, product=form.cleaned_data["product"], actor=request.user
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Tariff changed."))
            return redirect(customer)
    verification = services.verification_state(
        customer=customer, agent=request.user, now=timezone.now()
    )
    return render(
        request,
        "customers/tariff_change.html",
        {"customer": customer, "contract": contract, "form": form, "verification": verification},
    )


@sensitive_variables("code")
@never_cache
@workspace_required
@require_POST
def connection_auth_code(request, number: str, connection_id: int):
    """Show a domain's auth code once, to a verified agent; the view is recorded."""
    customer = permissions.customer_for(request.user, number)
    connection = permissions.connection_for(request.user, connection_id, customer=customer)
    try:
        code = services.connection_auth_code_reveal(connection=connection, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(customer)
    return render(
        request,
        "customers/auth_code.html",
        {"customer": customer, "connection": connection, "code": code},
    )


@workspace_required
def customer_invoices(request, number: str):
    """All invoices of a customer, newest first, 50 a page (keyset on issue date and id)."""
    customer = permissions.customer_for(request.user, number)
    page = selectors.invoice_page(customer=customer, after=request.GET.get("after", ""))
    return render(request, "customers/invoices.html", {"customer": customer, "page": page})
