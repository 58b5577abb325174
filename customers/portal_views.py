"""Pages of the customer portal: a customer sees and changes only their own account.

Every look-up goes through `customers.permissions`, so another customer's ids answer 404;
every change goes through `customers.services`.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from customers import permissions, portal_forms, privacy_selectors, selectors, services
from customers.services import privacy
from helpdesk import account_views, sessions
from helpdesk import permissions as roles
from helpdesk import services as account_services
from helpdesk.errors import DomainError

PAGE_SIZE = 20


def _reset_link_days() -> int:
    return max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86400))


@roles.portal_required
def account(request):
    """The customer's own record as we hold it, and whether a phone password is set."""
    customer = permissions.own_customer(request.user)
    phones = list(customer.phones.order_by("kind", "number"))
    return render(
        request,
        "customers/portal/account.html",
        {
            "customer": customer,
            "phones": phones,
            # This session passed a second factor: no query, and right but for a set-up
            # made in another session meanwhile (the security page reads the devices).
            "two_factor_on": request.session.get(sessions.TWO_FACTOR) == "ok",
        },
    )


@roles.portal_required
def contracts(request):
    customer = permissions.own_customer(request.user)
    rows = selectors.contracts_of(customer=customer)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/portal/contracts.html", {"customer": customer, "page": page})


@roles.portal_required
@require_http_methods(["GET", "POST"])
def contract_cancel(request, contract_id: int):
    """Show the earliest end date first; the POST records the cancellation."""
    contract = permissions.own_contract(request.user, contract_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            contract = services.contract_cancel(contract=contract, actor=request.user)
        except DomainError as exc:
            error, status = exc.message, exc.status_code
        else:
            # The service also opened a ticket for the contracts department, who confirm
            # the cancellation; the customer follows it under "My requests".
            messages.success(
                request,
                _("We have received your cancellation of contract %(number)s. It ends on %(date)s.")
                % {
                    "number": contract.number,
                    "date": formats.date_format(contract.end_date, "DATE_FORMAT"),
                },
            )
            messages.info(
                request,
                _("Our contracts team will confirm it; you can follow it under “My requests”."),
            )
            return redirect("portal-contracts")
    earliest_end = None
    if contract.is_cancellable:
        earliest_end = contract.earliest_end(notice_given_on=timezone.localdate())
    context = {"contract": contract, "earliest_end": earliest_end, "error": error}
    return render(request, "customers/portal/contract_cancel.html", context, status=status)


@roles.portal_required
def invoices(request):
    page = Paginator(permissions.own_invoices(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "customers/portal/invoices.html", {"page": page})


@roles.portal_required
def data_export(request):
    """What the data download holds, and the button for it."""
    customer = permissions.own_customer(request.user)
    return render(
        request,
        "customers/portal/data_export.html",
        {"customer": customer, "filename": privacy_selectors.export_filename(customer)},
    )


@roles.portal_required
@require_http_methods(["GET", "POST"])
def data_download(request):
    """Everything we hold about the signed-in customer as a JSON file (GDPR Art. 15, 20).

    The customer comes from the session alone: there is no id in the URL to change.
    """
    customer = permissions.own_customer(request.user)
    data = privacy.customer_data_export(customer=customer, actor=request.user, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = privacy_selectors.export_filename(customer)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters("current_password", "phone_password", "phone_password_again")
@roles.portal_required
@require_http_methods(["GET", "POST"])
def phone_password(request):
    """Set or change the phone password the hotline asks for."""
    customer = permissions.own_customer(request.user)
    data = request.POST if request.method == "POST" else None
    form = portal_forms.PhonePasswordForm(data, customer=customer)
    if form.is_valid():
        try:
            services.customer_phone_password_set(
                customer=customer,
                phone_password=form.cleaned_data["phone_password"],
                current_web_password=form.cleaned_data["current_password"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Your phone password is saved. Our hotline will ask you for it from now on."),
            )
            return redirect("portal-account")
    context = {
        "customer": customer,
        "form": form,
        "min_length": settings.PHONE_PASSWORD_MIN_LENGTH,
        "max_length": services.PHONE_PASSWORD_MAX_LENGTH,
    }
    return render(request, "customers/portal/phone_password.html", context)


@method_decorator(roles.portal_required, name="dispatch")
class WebPasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (keeps this session signed in, ends the others)."""

    form_class = portal_forms.WebPasswordChangeForm
    template_name = "customers/portal/password_change.html"
    success_url = reverse_lazy("portal-account")

    def form_valid(self, form):
        # The project's service instead of form.save(): it keeps this session, ends the
        # others server-side and writes the audit entry.
        ended = account_services.user_password_change(
            user=self.request.user,
            new_password=form.cleaned_data["new_password1"],
            request=self.request,
        )
        messages.success(self.request, account_views.password_changed_message(ended))
        return redirect(self.get_success_url())


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link; the answer never tells whether the address is known."""

    form_class = portal_forms.PortalPasswordResetForm
    template_name = "customers/portal/password_reset_form.html"
    email_template_name = "customers/portal/password_reset_email.txt"
    subject_template_name = "customers/portal/password_reset_subject.txt"
    success_url = reverse_lazy("portal-password-reset-done")

    @property
    def extra_email_context(self) -> dict:
        return {"valid_days": _reset_link_days()}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "customers/portal/password_reset_done.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(valid_days=_reset_link_days(), **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = portal_forms.PortalSetPasswordForm
    template_name = "customers/portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal-password-reset-complete")

    def get_user(self, uidb64):
        # Links are only mailed to customers; a staff account's token is refused here
        # as well, so the portal can never set a staff password.
        user = super().get_user(uidb64)
        return user if user is not None and roles.can_use_portal(user) else None

    def form_valid(self, form):
        response = super().form_valid(form)
        account_services.user_password_reset_complete(user=form.user, request=self.request)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "customers/portal/password_reset_complete.html"
