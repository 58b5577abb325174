"""Admin of the mail app: what came in (read-only); the outbox follows below."""

from django.contrib import admin

from helpdesk.admin import ReadOnlyAdmin
from mail.models import InboundMail


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnlyAdmin):
    """Every received message with its outcome; filed only by `mail.inbound`."""

    list_display = [
        "received_at",
        "from_address",
        "subject",
        "outcome",
        "reason_code",
        "flagged",
        "ticket",
        "source",
        "size",
    ]
    list_filter = ["outcome", "flagged", "source", "reason_code"]
    list_select_related = ["ticket"]
    search_fields = ["message_id", "from_address", "subject", "ticket__reference"]
    date_hierarchy = "received_at"
    show_full_result_count = False  # no COUNT(*) over every mail ever received
    readonly_fields = [
        "message_id",
        "source",
        "from_address",
        "subject",
        "size",
        "sha256",
        "outcome",
        "reason_code",
        "reason",
        "flagged",
        "ticket",
        "ticket_message",
        "raw_path",
        "received_at",
    ]


# --- Outbound (the outbox) --------------------------------------------------------------
