"""REST API of the mail app, mounted under /api/v1/.

- `inbound-email/`: the mail gateway POSTs one raw RFC 822 message as the request body
  (`Content-Type: message/rfc822`), e.g. from its delivery pipe:
  `curl --data-binary @- -H 'Content-Type: message/rfc822' -H 'Authorization: Token …'`.
  The answer says what became of it (`mail.inbound.inbound_mail_process`): 201 when it
  became a ticket or a message on one, 200 when it was there before (same Message-ID) or
  ignored (auto-reply, bounce, loop: the gateway must not bounce those back), 413 when it
  is over MAIL_INBOUND_MAX_MB and 422 when it was rejected otherwise (mass mail, no
  sender). A rejection is final for that Message-ID: the gateway may bounce it.

Only integration users' tokens with the `mail:write` scope deliver mail; staff and
customer sessions are refused.
"""

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk import api as helpdesk_api
from helpdesk import permissions as roles
from helpdesk.models import ApiToken
from mail import inbound, parsing
from mail.choices import InboundOutcome, InboundSource

WRITE = "mail:write"
MEDIA_TYPE = "message/rfc822"


class RawMessage:
    """The request body as read: the whole message, or only its start when it is too big."""

    def __init__(self, raw: bytes, size: int) -> None:
        self.raw = raw
        self.size = size


class RawMessageParser(BaseParser):
    """Reads a raw message up to MAIL_INBOUND_MAX_MB (not Django's 2.5 MB form limit).

    Of a larger body only the start is read, for its Message-ID and sender: the service
    records the rejection and the gateway keeps the message.
    """

    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None) -> RawMessage:
        request = parser_context["request"]
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if stream is None:
            return RawMessage(b"", 0)
        if declared > settings.MAIL_INBOUND_MAX_BYTES:
            return RawMessage(stream.read(parsing.HEAD_BYTES), declared)
        raw = stream.read(settings.MAIL_INBOUND_MAX_BYTES + 1)
        return RawMessage(raw, len(raw))


class InboundMailOut(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.CharField(help_text=_("With angle brackets; made up if missing."))
    outcome = serializers.ChoiceField(choices=InboundOutcome.choices)
    reason_code = serializers.CharField(
        help_text=_("What decided the outcome, e.g. auto_reply, loop, reference_mismatch.")
    )
    reason = serializers.CharField()
    flagged = serializers.BooleanField(
        help_text=_("The subject named a ticket the sender does not own.")
    )
    ticket = serializers.CharField(
        source="ticket.reference", allow_null=True, help_text=_("Ticket reference.")
    )
    duplicate = serializers.BooleanField(
        help_text=_("Delivered before: nothing was changed this time.")
    )
    received_at = serializers.DateTimeField()


class GatewaySchema(helpdesk_api.ScopedSchema):
    """The scope as everywhere, but no "staff sessions" line: sessions are refused here."""

    def get_description(self) -> str:
        description = super(helpdesk_api.ScopedSchema, self).get_description() or ""
        return f"{description}\n\nToken scope: `{WRITE}`. Integration tokens only.".strip()


def _error(message: str, code: str, status_code: int) -> Response:
    return Response(
        {"errors": [{"field": None, "message": message, "code": code}]}, status=status_code
    )


class InboundEmailView(APIView):
    """Deliver one inbound e-mail (raw RFC 822 bytes as the body)."""

    parser_classes = [RawMessageParser]
    schema = GatewaySchema()
    scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="inbound_email_deliver",
        request={MEDIA_TYPE: OpenApiTypes.BINARY},
        responses={
            201: InboundMailOut,
            200: OpenApiResponse(
                InboundMailOut, description=_("Delivered before, or ignored (auto-reply, loop).")
            ),
            400: helpdesk_api.ErrorsOut,
            401: helpdesk_api.ErrorsOut,
            403: helpdesk_api.ErrorsOut,
            413: OpenApiResponse(helpdesk_api.ErrorsOut, description=_("Over the size limit.")),
            415: helpdesk_api.ErrorsOut,
            422: OpenApiResponse(
                helpdesk_api.ErrorsOut, description=_("Rejected: mass mail, no sender.")
            ),
        },
        examples=[
            OpenApiExample(
                "Customer mail",
                media_type=MEDIA_TYPE,
                request_only=True,
                value="From: Erika Musterfrau <erika@example.de>\r\nTo: support@example.net\r\n"
                "Subject: Kein Internet\r\nMessage-ID: <1@example.de>\r\n\r\nSeit heute früh…",
            )
        ],
    )
    def post(self, request):
        """File the message: a new ticket, a message on the ticket it answers (subject tag
        or thread headers, only from that ticket's contact), or ignored/rejected with a
        reason. The same Message-ID delivered again changes nothing."""
        if not isinstance(request.auth, ApiToken) or not roles.is_integration(request.user):
            raise exceptions.PermissionDenied(_("Only the mail gateway delivers mail."))
        body = request.data
        if not isinstance(body, RawMessage) or not body.raw.strip():
            return _error(
                _("Send the raw message as the request body (%(type)s).") % {"type": MEDIA_TYPE},
                "empty",
                status.HTTP_400_BAD_REQUEST,
            )
        mail = inbound.inbound_mail_process(raw=body.raw, source=InboundSource.API, size=body.size)
        if mail.outcome == InboundOutcome.REJECTED:
            too_large = mail.reason_code == inbound.Problem.TOO_LARGE
            return _error(
                mail.reason,
                mail.reason_code or "rejected",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                if too_large
                else status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        fresh = mail.outcome != InboundOutcome.IGNORED and not mail.duplicate
        return Response(
            InboundMailOut(mail).data,
            status=status.HTTP_201_CREATED if fresh else status.HTTP_200_OK,
        )


urlpatterns = [
    path("inbound-email/", InboundEmailView.as_view(), name="inbound-email"),
]
