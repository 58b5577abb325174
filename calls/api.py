"""Calls API under /api/v1/: what the phone system reports.

- `POST calls/`: a call an agent took (or one nobody took: no extension). The customer is
  matched by the number typed into the IVR, else by the caller's number; the IVR choice
  gives the support area; the extension the agent, who gets the screen pop. What matches
  nothing is stored as sent and named in `warnings`: a call is never refused for it.
  The phone system's `call_id` is unique: a retried POST answers 200 with the stored call
  (the first report wins, the repeat changes nothing), a new call 201.
- `POST calls/{call_id}/end/`: the end and the talk time. An unknown call id is a 404; a
  second end answers 200 with the call as the first end left it (idempotent, so a retry
  after a lost answer is harmless).

Integration users only, with a token carrying `calls:write`; staff sessions get 403 (a
person never reports calls on the phone system's behalf). Bad input is a 400 naming the
field, and nothing is written.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions as permissions_drf
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from calls import permissions, services
from calls.choices import CallWarning, Match, Outcome
from calls.models import Call
from helpdesk.api import ERRORS, ScopedSchema, StrictIn
from helpdesk.authentication import ScopedAccess

WRITE = "calls:write"
# Letters, digits and a few separators (Asterisk sends `1700000000.42`, others UUIDs): the
# id goes into the URL of the end, so nothing there needs escaping.
CALL_ID = r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}"


# --- Output ---------------------------------------------------------------------------


class CallWarningOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=CallWarning.choices)
    message = serializers.CharField()


class CallOut(serializers.Serializer):
    call_id = serializers.CharField(source="external_id")
    caller_number = serializers.CharField()
    customer = serializers.CharField(
        source="customer.number", allow_null=True, help_text=_("Customer number, if matched.")
    )
    customer_match = serializers.ChoiceField(source="match", choices=Match.choices)
    ivr_choice = serializers.CharField()
    support_area = serializers.CharField(
        source="support_area.slug", allow_null=True, help_text=_("Support area code, if known.")
    )
    queue = serializers.CharField(source="queue_name")
    wait_seconds = serializers.IntegerField(allow_null=True)
    extension = serializers.CharField()
    agent = serializers.SerializerMethodField(help_text=_("The agent's username; null if none."))
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True, help_text=_("Talk time."))
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, help_text=_("Empty until the agent has noted the call.")
    )
    ticket = serializers.CharField(
        source="ticket.reference", allow_null=True, help_text=_("Ticket reference, once noted.")
    )
    warnings = serializers.SerializerMethodField(
        help_text=_("What did not match; the call is stored all the same.")
    )

    def get_agent(self, call: Call) -> str | None:
        return call.agent.user.get_username() if call.agent_id else None

    @extend_schema_field(CallWarningOut(many=True))
    def get_warnings(self, call: Call) -> list[dict]:
        return [{"code": code, "message": str(CallWarning(code).label)} for code in call.warnings]


# --- Input ----------------------------------------------------------------------------


class CallReportIn(StrictIn):
    call_id = serializers.RegexField(
        rf"\A{CALL_ID}\Z",
        max_length=64,
        help_text=_("The phone system's own id of the call; a repeat returns the stored call."),
        error_messages={
            "invalid": _("Letters, digits and . _ : @ - only, starting with a letter or digit.")
        },
    )
    caller_number = serializers.CharField(
        max_length=40,
        allow_blank=True,
        default="",
        help_text=_("As the phone system shows it; empty or without digits: number withheld."),
    )
    ivr_choice = serializers.CharField(
        max_length=20, allow_blank=True, default="", help_text=_("The digit or code chosen.")
    )
    customer_number = serializers.CharField(
        max_length=20,
        allow_blank=True,
        default="",
        help_text=_("What the caller typed into the IVR as their customer number."),
    )
    queue = serializers.CharField(
        max_length=80, allow_blank=True, default="", help_text=_("The phone system's queue.")
    )
    wait_seconds = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_CALL_SECONDS,
        help_text=_("How long the caller waited in the queue."),
    )
    extension = serializers.CharField(
        max_length=20,
        allow_blank=True,
        default="",
        help_text=_("The extension that took the call; empty: nobody did (abandoned)."),
    )
    answered_at = serializers.DateTimeField(
        required=False, help_text=_("When the agent took the call; default: now.")
    )


class CallEndIn(StrictIn):
    ended_at = serializers.DateTimeField(required=False, help_text=_("Default: now."))
    duration_seconds = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_CALL_SECONDS,
        required=False,
        help_text=_("Talk time; default: from the answer to the end."),
    )


# --- Views ----------------------------------------------------------------------------


class ReportsCalls(permissions_drf.BasePermission):
    message = _("Only the phone system reports calls.")

    def has_permission(self, request, view) -> bool:
        return permissions.can_report_calls(request.user)


class PhoneSystemSchema(ScopedSchema):
    """The scope as every app documents it, but no staff sessions here."""

    def get_description(self) -> str:
        generic = "Staff sessions: the workspace rules apply."
        only = "Integration users only (the phone system)."
        return super().get_description().replace(generic, only)


CALL_ID_PARAMETER = OpenApiParameter(
    "call_id", str, OpenApiParameter.PATH, description=_("The phone system's id of the call.")
)


class CallViewSet(viewsets.GenericViewSet):
    """Calls reported by the phone system: the screen pop and the wait-time figures."""

    serializer_class = CallOut
    queryset = Call.objects.none()  # the schema's model; lookups go through `permissions`
    permission_classes = [ScopedAccess, ReportsCalls]
    pagination_class = None
    filter_backends: list = []
    lookup_url_kwarg = "call_id"
    lookup_value_regex = CALL_ID
    schema = PhoneSystemSchema()
    scopes = {"create": WRITE, "end": WRITE}

    def _input(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(
        request=CallReportIn,
        responses={
            201: CallOut,
            200: OpenApiResponse(CallOut, description=_("Reported before: the stored call.")),
            **ERRORS,
        },
    )
    def create(self, request):
        """Record a call an agent took; the agent's workspace pops up a notice within a second."""
        data = self._input(CallReportIn)
        call, created = services.call_report(
            external_id=data["call_id"],
            caller_number=data["caller_number"],
            ivr_choice=data["ivr_choice"],
            customer_number=data["customer_number"],
            queue_name=data["queue"],
            wait_seconds=data["wait_seconds"],
            extension=data["extension"],
            answered_at=data.get("answered_at"),
            actor=request.user,
        )
        return Response(
            self.get_serializer(call).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[CALL_ID_PARAMETER],
        request=CallEndIn,
        responses={200: CallOut, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def end(self, request, call_id=None):
        """Record the end of the call and its talk time; a repeat changes nothing."""
        call = permissions.reported_call_for(request.user, call_id)
        data = self._input(CallEndIn)
        call, _changed = services.call_end(
            call=call,
            ended_at=data.get("ended_at"),
            duration_seconds=data.get("duration_seconds"),
            actor=request.user,
        )
        return Response(self.get_serializer(call).data)


router = SimpleRouter()
router.register("calls", CallViewSet, basename="call")
urlpatterns = router.urls
