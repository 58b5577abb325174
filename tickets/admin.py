"""Admin: the organisation is configured here; tickets and their history are read-only.

Tickets change only through `tickets.services` (events, version checks), so the admin
shows them but neither edits nor deletes them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import ReadOnlyAdmin
from tickets import services
from tickets.models import (
    Agent,
    Department,
    Queue,
    SupportArea,
    TextModule,
    Ticket,
    TicketEvent,
)


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
