"""Admin: the organisation is configured here; tickets and their history are read-only.

Tickets change only through `tickets.services` (events, version checks), so the admin
shows them but neither edits nor deletes them.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import ReadOnlyAdmin
from helpdesk.errors import DomainError
from tickets import services
from tickets.models import (
    Agent,
    Appointment,
    Department,
    Outage,
    Queue,
    SupportArea,
    Technician,
    TextModule,
    Ticket,
    TicketEvent,
    VisitRegion,
    VisitWindow,
)
from tickets.services import outages, visits


class QueueInline(admin.TabularInline):
    model = Queue
    extra = 0
    fields = ["line", "is_active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # tickets point at queues; switch a queue off instead


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [QueueInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["__str__", "department", "line", "is_active"]
    list_filter = ["department", "line", "is_active"]
    list_select_related = ["department"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupportArea)
class SupportAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "first_queue", "ivr_choice", "in_portal", "is_active", "position"]
    list_editable = ["in_portal", "is_active", "position"]
    list_select_related = ["first_queue__department"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "highest_line", "is_team_lead", "extension"]
    list_filter = ["departments", "highest_line", "is_team_lead"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["departments"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["reference", "subject", "queue", "status", "priority", "created_at"]
    list_filter = ["status", "priority", "channel"]
    list_select_related = ["queue__department"]
    search_fields = ["=reference", "subject"]
    show_full_result_count = False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["=ticket__reference"]
    show_full_result_count = False


@admin.register(TextModule)
class TextModuleAdmin(ReadOnlyAdmin):
    """Team leads keep text modules in the workspace (placeholders checked, stale edits
    refused); here they are looked up and, if need be, archived or restored."""

    list_display = ["shortcut", "title", "department", "language", "is_active", "updated_at"]
    list_filter = ["department", "language", "is_active"]
    list_select_related = ["department"]
    search_fields = ["shortcut", "title"]
    actions = ["archive", "restore"]

    @admin.action(description=_("Archive selected text modules"))
    def archive(self, request, queryset):
        for module in queryset.filter(is_active=True):
            services.text_module_archive(module=module, actor=request.user)

    @admin.action(description=_("Restore selected text modules"))
    def restore(self, request, queryset):
        for module in queryset.filter(is_active=False):
            services.text_module_restore(module=module, actor=request.user)


# --- Outages and technician visits ----------------------------------------------------------


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin):
    """Outages are opened, updated and resolved in the workspace or by network monitoring."""

    list_display = ["title", "status", "started_at", "expected_end_at", "resolved_at"]
    list_filter = ["status"]
    search_fields = ["title", "=external_id"]


class VisitRegionForm(forms.ModelForm):
    class Meta:
        model = VisitRegion
        fields = ["name", "area", "default_windows", "is_active"]

    def clean(self):
        data = super().clean()
        try:
            outages.postal_ranges_parse(data.get("area", ""))
            visits.default_windows_clean(data.get("default_windows"))
        except DomainError as error:
            raise ValidationError({error.field or "area": error.message}) from None
        return data


@admin.register(VisitRegion)
class VisitRegionAdmin(admin.ModelAdmin):
    """Regions: postal codes and the standard windows the calendar is filled with daily."""

    form = VisitRegionForm
    list_display = ["name", "area", "default_windows", "is_active"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        visits.visit_region_save(
            name=data["name"],
            area=data["area"],
            default_windows=data["default_windows"],
            region=obj,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # windows and visits point at regions; switch one off instead


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "phone", "is_active"]
    list_filter = ["is_active", "regions"]
    search_fields = ["name", "company"]
    filter_horizontal = ["regions"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VisitWindow)
class VisitWindowAdmin(ReadOnlyAdmin):
    """Windows are added and resized by dispatchers in the workspace (checks there)."""

    list_display = ["region", "date", "starts", "ends", "capacity", "booked"]
    list_filter = ["region"]
    date_hierarchy = "date"


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "window", "technician", "status", "is_priority"]
    list_filter = ["status", "is_priority"]
    list_select_related = ["ticket", "window__region", "technician"]
    search_fields = ["=ticket__reference"]
