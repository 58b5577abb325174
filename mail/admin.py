"""Admin of the mail app: what came in and what went out (both read-only)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.admin import ReadOnlyAdmin
from mail import services
from mail.models import InboundMail, OutboundMail


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


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    """Every mail to a customer with its state; a failed one can be sent again."""

    list_display = ["created_at", "to_address", "subject", "kind", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind", "language"]
    list_select_related = ["ticket"]
    search_fields = ["message_id", "to_address", "ticket__reference"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "ticket",
        "ticket_message",
        "kind",
        "to_address",
        "language",
        "subject",
        "body_text",
        "message_id",
        "in_reply_to",
        "references",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    exclude = ["body_html"]
    actions = ["send_again"]

    @admin.action(description=_("Send failed mails again"))
    def send_again(self, request, queryset):
        count = services.outbound_mails_retry(mail_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d mail queued again.", "%(count)d mails queued again.", count)
            % {"count": count},
        )
