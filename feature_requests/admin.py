"""Admin: requests, asks and their history are shown, never edited here; the review
workflow and merges run through the workspace (and the API), which keep counts and events."""

from django.contrib import admin

from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent
from helpdesk.admin import ReadOnlyAdmin


@admin.register(FeatureRequest)
class FeatureRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "title",
        "status",
        "department",
        "ask_count",
        "customer_count",
        "asks_since_decision",
        "last_ask_at",
    ]
    list_filter = ["status", "department"]
    search_fields = ["=id", "title"]
    ordering = ["-ask_count", "-id"]
    show_full_result_count = False
    raw_id_fields = ["merged_into", "created_by", "decided_by"]


@admin.register(Ask)
class AskAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "request",
        "kind",
        "customer",
        "ticket",
        "recorded_by",
        "is_repeat",
    ]
    list_filter = ["kind", "is_repeat"]
    list_select_related = ["request", "customer", "ticket", "recorded_by"]
    search_fields = ["=request__id", "=customer__number", "=ticket__reference"]
    show_full_result_count = False
    raw_id_fields = ["request", "customer", "ticket", "recorded_by", "moved_from"]


@admin.register(FeatureRequestEvent)
class FeatureRequestEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "request", "kind", "actor"]
    list_filter = ["kind"]
    list_select_related = ["request", "actor"]
    search_fields = ["=request__id"]
    show_full_result_count = False
    raw_id_fields = ["request", "actor"]
