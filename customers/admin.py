"""Admin for customer master data. Private credentials are not registered at all, and the
audit rows (verification attempts, events) are read-only: nobody edits history."""

from django.contrib import admin

from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerEvent,
    Invoice,
    Order,
    Product,
    VerificationAttempt,
)
from helpdesk.admin import ReadOnlyAdmin


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["number", "last_name", "first_name", "postal_code", "city", "segment"]
    search_fields = ["=number", "search_name", "=postal_code", "=email"]
    list_filter = ["segment", "language"]
    exclude = ["phone_password", "search_name"]
    raw_id_fields = ["user"]
    show_full_result_count = False  # no COUNT(*) over every customer on each page


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
