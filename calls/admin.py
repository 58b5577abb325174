"""Admin: calls are records of what happened on the phone; shown, never edited."""

from django.contrib import admin

from calls.models import Call
from helpdesk.admin import ReadOnlyAdmin


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "external_id",
        "caller_number",
        "customer",
        "match",
        "support_area",
        "ivr_unknown",
        "wait_seconds",
        "duration_seconds",
        "agent",
        "outcome",
        "ticket",
    ]
    list_filter = ["outcome", "match", "ivr_unknown", "support_area"]
    list_select_related = ["customer", "support_area", "agent__user", "ticket"]
    search_fields = ["=external_id", "=customer__number", "=ticket__reference"]
    date_hierarchy = "started_at"
    show_full_result_count = False  # no COUNT(*) over every call on each page
    raw_id_fields = ["customer", "agent", "ticket", "noted_by", "support_area"]
