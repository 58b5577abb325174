"""Admin for customer master data. Private credentials are not registered at all, and the
audit rows (verification attempts, events) are read-only: nobody edits history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerEvent,
    Erasure,
    Invoice,
    Order,
    Product,
    VerificationAttempt,
)
from customers.services import privacy
from helpdesk.admin import ReadOnlyAdmin
from helpdesk.errors import DomainError


class ErasureConfirmForm(forms.Form):
    """Typing the customer number is the confirmation; the reason is optional."""

    number = forms.CharField(label=gettext_lazy("Customer number"), max_length=20)
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        max_length=privacy.REASON_MAX,
        required=False,
        help_text=gettext_lazy(
            "E.g. “request of 12 March by letter”. No names or other personal data: "
            "the reason is kept with the erasure."
        ),
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_number(self) -> str:
        typed = self.cleaned_data["number"].strip().upper()
        if typed != self.customer.number:
            raise forms.ValidationError(
                _("That is not this customer's number. Type %(number)s to confirm.")
                % {"number": self.customer.number}
            )
        return typed


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["number", "last_name", "first_name", "postal_code", "city", "segment"]
    search_fields = ["=number", "search_name", "=postal_code", "=email"]
    list_filter = ["segment", "language"]
    exclude = ["phone_password", "search_name"]
    raw_id_fields = ["user"]
    show_full_result_count = False  # no COUNT(*) over every customer on each page
    actions = ["erase_personal_data"]

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("customers.erase_customer")

    @admin.action(description=gettext_lazy("Erase personal data (GDPR)"), permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        """One customer at a time, each with its own confirmation page."""
        customers = list(queryset[:2])
        if len(customers) != 1:
            self.message_user(request, _("Select exactly one customer to erase."), messages.ERROR)
            return None
        return redirect("admin:customers_customer_erase", customers[0].pk)

    def get_urls(self):
        erase = path(
            "<int:customer_id>/erase/",
            self.admin_site.admin_view(self.erase_view),
            name="customers_customer_erase",
        )
        return [erase, *super().get_urls()]

    def erase_view(self, request, customer_id: int):
        """The confirmation page: type the customer number, then everything is erased."""
        if not self.has_erase_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        form = ErasureConfirmForm(
            request.POST if request.method == "POST" else None, customer=customer
        )
        if form.is_valid():
            try:
                privacy.customer_erase(
                    customer=customer,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    _("The personal data of customer %(number)s has been erased.")
                    % {"number": customer.number},
                    messages.SUCCESS,
                )
                return redirect("admin:customers_customer_change", customer.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Erase personal data of %(number)s") % {"number": customer.number},
            "customer": customer,
            "form": form,
            "erasures": list(customer.erasures.all()[:5]),
        }
        return TemplateResponse(request, "admin/customers/customer/erase_confirm.html", context)


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    list_display = ["at", "customer_number", "actor", "reason"]
    search_fields = ["=customer_number"]
    show_full_result_count = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "monthly_price", "minimum_term_months", "active"]
    list_filter = ["kind", "active"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "product", "start_date", "status", "end_date"]
    list_filter = ["status"]
    search_fields = ["=number", "=customer__number"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "issued_on", "amount", "status"]
    list_filter = ["status"]
    search_fields = ["=number", "=customer__number"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "issued_on", "amount"]
    raw_id_fields = ["customer", "invoice"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "description", "status", "created_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["identifier", "customer", "kind", "state", "sync_drops_24h"]
    list_filter = ["kind", "state"]
    search_fields = ["=identifier", "=customer__number"]
    exclude = ["auth_code_encrypted"]
    raw_id_fields = ["customer", "contract"]
    show_full_result_count = False


@admin.register(VerificationAttempt)
class VerificationAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "agent", "method", "channel", "result"]
    list_filter = ["method", "result", "channel"]
    show_full_result_count = False


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "kind", "actor"]
    list_filter = ["kind"]
    show_full_result_count = False
