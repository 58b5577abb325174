"""Admin: business calendars and SLA policies are configured here; clocks and notices are
read-only (the timer and the ticket services write them, nobody edits history).

Calendars are checked as a whole before saving (hours, closed days and holidays together
must leave open time within a year); policies are saved through `services.sla_policy_save`,
which also recomputes the deadlines of open tickets on a changed policy.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from escalation import forms, services
from escalation.models import (
    BusinessCalendar,
    ClosedDay,
    KpiRollup,
    ManagementRequest,
    ManagementRequestEvent,
    Notification,
    OpeningHours,
    Proposal,
    SlaClock,
    SlaPolicy,
)
from helpdesk.admin import ReadOnlyAdmin


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    form = forms.OpeningHoursForm
    formset = forms.OpeningHoursFormSet
    extra = 1


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    formset = forms.ClosedDayFormSet
    fields = ["date", "reason"]
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = forms.BusinessCalendarForm
    list_display = ["name", "slug", "time_zone", "holiday_country", "holiday_subdivision"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, ClosedDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = forms.SlaPolicyForm
    list_display = [
        "name",
        "criteria",
        "first_response_minutes",
        "next_update_minutes",
        "resolution_minutes",
        "warning_percent",
        "calendar",
        "is_active",
    ]
    list_filter = ["is_active", "calendar"]
    list_select_related = ["calendar", "department"]
    readonly_fields = ["is_default"]
    fieldsets = [
        (None, {"fields": ["name", "calendar", "is_active", "is_default"]}),
        (
            _("Criteria"),
            {
                "fields": ["priority", "channel", "segment", "department"],
                "description": _(
                    "Empty means any. Of the active policies whose criteria all match a "
                    "ticket, the one with the most criteria wins."
                ),
            },
        ),
        (
            _("Targets"),
            {
                "fields": [
                    "first_response_minutes",
                    "next_update_minutes",
                    "resolution_minutes",
                    "warning_percent",
                ]
            },
        ),
        (_("On breach"), {"fields": ["breach_raises_priority", "breach_moves_up"]}),
    ]

    @admin.display(description=_("criteria"))
    def criteria(self, policy: SlaPolicy) -> str:
        parts = [
            policy.get_priority_display() if policy.priority is not None else "",
            policy.get_channel_display(),
            policy.get_segment_display(),
            str(policy.department) if policy.department_id else "",
        ]
        return " · ".join(part for part in parts if part) or _("every ticket")

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_default:
            return False  # it catches every ticket no other policy matches
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        values = {
            name: form.cleaned_data[name]
            for name in services.POLICY_FIELDS
            if name in form.cleaned_data
        }
        saved = services.sla_policy_save(policy=obj, values=values, actor=request.user)
        if saved.recomputed is not None:
            message = ngettext(
                "The deadlines of %(count)d open ticket on this policy were recomputed.",
                "The deadlines of %(count)d open tickets on this policy were recomputed.",
                saved.recomputed,
            ) % {"count": saved.recomputed}
            self.message_user(request, message, messages.INFO)


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "policy", "due_at", "warned_at", "breached_at", "stopped_at"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "policy"]
    search_fields = ["=ticket__reference"]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "recipient", "ticket", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "ticket"]
    search_fields = ["=ticket__reference", "=recipient__username"]
    show_full_result_count = False


# Requests to management are worked on the management pages; the admin only reads them
# (proposals and their outcome are written by escalation.services.management).
@admin.register(ManagementRequest)
class ManagementRequestAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "subject", "customer", "source", "status", "created_at"]
    list_filter = ["status", "source"]
    list_select_related = ["ticket", "customer"]
    search_fields = ["=ticket__reference", "=customer__number"]
    show_full_result_count = False


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ["request", "kind", "status", "amount", "refund_amount", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["request"]
    show_full_result_count = False


@admin.register(ManagementRequestEvent)
class ManagementRequestEventAdmin(ReadOnlyAdmin):
    list_display = ["request", "kind", "actor", "created_at"]
    list_select_related = ["request", "actor"]
    show_full_result_count = False


@admin.register(KpiRollup)
class KpiRollupAdmin(ReadOnlyAdmin):
    list_display = ["day", "computed_at"]
    date_hierarchy = "day"
