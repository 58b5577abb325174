"""Tickets API under /api/v1/: tickets, their messages and moves, queues, support areas.

- `tickets/`: list (filters, keyset pages) and create; `tickets/{reference}/`: read, and
  PATCH of subject and priority only. The reference (`2026-004711`) is the ticket's id here.
- Everything that moves a ticket is a verb (STYLE R8): POST `…/messages/`, `…/escalate/`,
  `…/handoff/`, `…/hand-back/`, `…/assign/`, `…/status/`. Status, queue and assignee are
  never writable fields; a body naming them is refused, not silently ignored.
- `queues/` and `support-areas/`: what integrations route by.
- `outages/`: see `tickets.outage_api`.

Serializers are input/output only; each write calls the service of its use case. Tokens
need the scope named in `scopes` (documented per operation in the schema); staff sessions
may call the API too, and then the workspace rules apply (`permissions.ensure_can_work`).
"""

from django.contrib.auth.models import User
from django.urls import include, path
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from customers import permissions as customer_permissions
from escalation import selectors as sla_selectors
from escalation.choices import ClockKind, ClockState
from helpdesk.api import ERRORS, ListPagination, ScopedSchema, StrictIn
from helpdesk.pagination import CursorPagination
from tickets import permissions, selectors, services
from tickets.choices import Channel, Line, MessageKind, Priority, Status
from tickets.filters import MAX_ID, PRIORITY_BY_NAME, PRIORITY_NAMES, TicketFilterSet
from tickets.models import Attachment, Department, Queue, SupportArea, Ticket, TicketMessage

READ = "tickets:read"
WRITE = "tickets:write"


# --- Output ---------------------------------------------------------------------------


class PriorityField(serializers.ChoiceField):
    """A priority by name (`low`, `normal`, `high`, `urgent`), in and out; stored as a number."""

    def __init__(self, **kwargs):
        super().__init__(choices=list(PRIORITY_BY_NAME), **kwargs)

    def to_representation(self, value) -> str:
        return PRIORITY_NAMES[value]

    def to_internal_value(self, data) -> int:
        return PRIORITY_BY_NAME[super().to_internal_value(data)]


# Until SPECTACULAR_SETTINGS has ENUM_NAME_OVERRIDES for tickets' Status and MessageKind,
# the input copies of `status` and `kind` are documented as strings listing their values:
# two components sharing an enum under a name other apps use too is a schema warning.
@extend_schema_field(OpenApiTypes.STR)
class ChoiceInField(serializers.ChoiceField):
    """A choice documented as a string whose values the help text lists."""

    def __init__(self, *, choices, help_text: str = "", **kwargs):
        values = ", ".join(str(value) for value, _label in choices)
        help_text = format_lazy("{} ({})", help_text, values) if help_text else f"({values})"
        super().__init__(choices=choices, help_text=help_text, **kwargs)


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


# Plain serializers with declared fields: a ModelSerializer maps its model fields again on
# every instance, which was a tenth of the CPU of creating a ticket through the API.
class QueueRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField(source="department.slug", help_text=_("Department code."))
    line = serializers.ChoiceField(choices=Line.choices)


class SlaOut(serializers.Serializer):
    """The ticket's next SLA deadline (the earliest running clock) and how it stands."""

    policy = serializers.CharField(source="sla_policy.name", allow_null=True)
    due_at = serializers.DateTimeField(source="sla_due_at", allow_null=True)
    state = serializers.SerializerMethodField(
        help_text=_("ok, warning, breached, paused, or empty when no clock runs.")
    )

    def get_state(self, ticket: Ticket) -> str:
        if ticket.sla_due_at is None:
            return ClockState.PAUSED if ticket.status == Status.WAITING_CUSTOMER else ""
        return sla_selectors.deadline_state(
            due_at=ticket.sla_due_at, warn_at=ticket.sla_warn_at, now=timezone.now()
        )


class TicketOut(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = PriorityField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    customer = serializers.CharField(
        source="customer.number", allow_null=True, help_text=_("Customer number.")
    )
    support_area = serializers.CharField(source="support_area.slug")
    queue = QueueRefOut()
    assignee = PersonOut(allow_null=True)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    sla = SlaOut(source="*")
    url = serializers.SerializerMethodField(help_text=_("The ticket in the agent workspace."))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, ticket: Ticket) -> str:
        return self.context["request"].build_absolute_uri(ticket.get_absolute_url())


class SlaClockOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClockKind.choices)
    target_minutes = serializers.IntegerField(help_text=_("Business minutes the policy allows."))
    started_at = serializers.DateTimeField()
    warn_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    paused = serializers.SerializerMethodField()
    warned_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    met = serializers.BooleanField()

    def get_paused(self, clock) -> bool:
        return clock.paused_at is not None


class TicketDetailOut(TicketOut):
    """One ticket with all its SLA clocks (first response, next update, resolution)."""

    clocks = SlaClockOut(many=True, source="sla_clocks.all")


class AttachmentOut(serializers.ModelSerializer):
    name = serializers.CharField(source="filename")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["name", "size", "content_type", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: Attachment) -> str:
        return self.context["request"].build_absolute_uri(attachment.get_absolute_url())


class MessageOut(serializers.ModelSerializer):
    author = PersonOut(allow_null=True, help_text=_("Null for the system."))
    attachments = AttachmentOut(many=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "author", "body", "channel", "created_at", "attachments"]


class DepartmentOut(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["slug", "name"]


class QueueOut(serializers.ModelSerializer):
    department = DepartmentOut()
    active = serializers.IntegerField(help_text=_("Tickets not resolved or closed."))

    class Meta:
        model = Queue
        fields = ["id", "department", "line", "active"]


class SupportAreaOut(serializers.ModelSerializer):
    first_queue = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = SupportArea
        fields = ["id", "slug", "name", "ivr_choice", "first_queue"]


# --- Input ----------------------------------------------------------------------------


class VersionedIn(StrictIn):
    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("The ticket version you saw; a stale one is refused with 409."),
    )


@extend_schema_field(OpenApiTypes.STR)
class SupportAreaField(serializers.Field):
    """A support area by code (slug) or id."""

    default_error_messages = {
        "invalid": _("Give a support area code or id."),
        "does_not_exist": _("No support area with this code or id."),
    }

    def to_internal_value(self, data) -> SupportArea:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        value = str(data)
        areas = SupportArea.objects.select_related("first_queue__department")
        if value.isdigit():
            area = areas.filter(pk=int(value)).first() if int(value) <= MAX_ID else None
        else:
            area = areas.filter(slug=value).first()
        if area is None:
            self.fail("does_not_exist")
        return area

    def to_representation(self, value) -> str:
        return value.slug


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
)
class UserRefField(serializers.Field):
    """An active user by id (a number, or digits) or username."""

    default_error_messages = {
        "invalid": _("Give a user id or username."),
        "does_not_exist": _("No active user with this id or username."),
    }

    def to_internal_value(self, data) -> User:
        if isinstance(data, bool) or not isinstance(data, str | int) or data == "":
            self.fail("invalid")
        users = User.objects.filter(is_active=True)
        if isinstance(data, int) or data.isdigit():
            user = users.filter(pk=int(data)).first() if 0 < int(data) <= MAX_ID else None
        else:
            user = users.filter(username=data).first()
        if user is None:
            self.fail("does_not_exist")
        return user

    def to_representation(self, value) -> int:
        return value.pk


class TicketCreateIn(StrictIn):
    customer = serializers.CharField(
        required=False, max_length=20, help_text=_("Customer number; or give contact_email.")
    )
    contact_email = serializers.EmailField(required=False)
    # Blank text passes here so the service's own message says what is missing.
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True, help_text=_("The request, in plain text."))
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    support_area = SupportAreaField(help_text=_("Support area code or id; decides the queue."))
    priority = PriorityField(required=False)

    def validate_customer(self, number: str):
        user = self.context["request"].user
        customer = customer_permissions.customers_visible_to(user).filter(number=number).first()
        if customer is None:
            raise serializers.ValidationError(
                _("No customer with this number."), code="does_not_exist"
            )
        return customer


class TicketUpdateIn(VersionedIn):
    subject = serializers.CharField(required=False, allow_blank=True)
    priority = PriorityField(required=False)

    hints = {
        "status": _("Change the status with POST …/status/."),
        "queue": _("Move the ticket with POST …/escalate/, …/handoff/ or …/hand-back/."),
        "assignee": _("Assign the ticket with POST …/assign/."),
    }

    def validate(self, data: dict) -> dict:
        if not {"subject", "priority"} & set(data):
            raise serializers.ValidationError(
                _("Send a subject or a priority to change."), code="empty"
            )
        return data


class MessageCreateIn(StrictIn):
    kind = ChoiceInField(
        choices=MessageKind.choices,
        help_text=_(
            "reply: public, mailed to the customer; note: internal; customer: the customer's "
            "own words (e.g. from the mail gateway)."
        ),
    )
    body = serializers.CharField(allow_blank=True)


class EscalateIn(VersionedIn):
    reason = serializers.CharField(allow_blank=True)


class HandoffIn(VersionedIn):
    department = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Department.objects.all(),
        help_text=_("Department code, e.g. billing."),
        error_messages={"does_not_exist": _("No department with this code.")},
    )
    note = serializers.CharField(allow_blank=True)


class HandBackIn(VersionedIn):
    note = serializers.CharField(allow_blank=True)


class AssignIn(VersionedIn):
    assignee = UserRefField(allow_null=True, help_text=_("User id or username; null unassigns."))


class StatusIn(VersionedIn):
    status = ChoiceInField(choices=Status.choices)
    note = serializers.CharField(allow_blank=True, max_length=services.NOTE_MAX_LENGTH, default="")


# --- Views ----------------------------------------------------------------------------


class TicketPagination(CursorPagination):
    """Newest first on (created_at, id): every ticket index ends in created_at, so a page of a
    queue, an assignee or a customer is an index range, not a backwards walk of the pk."""

    ordering = ("-created_at", "-id")


class MessagePagination(CursorPagination):
    """The conversation oldest first, on the (ticket, created_at, id) index."""

    ordering = ("created_at", "id")


REFERENCE = OpenApiParameter(
    "reference",
    str,
    OpenApiParameter.PATH,
    description=_("The ticket reference, e.g. 2026-004711: it is the ticket's id in this API."),
)


class TicketViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Tickets the caller may see: integrations all, staff their departments'."""

    serializer_class = TicketOut
    pagination_class = TicketPagination
    filterset_class = TicketFilterSet
    lookup_field = "reference"
    schema = ScopedSchema()
    scopes = {
        "list": READ,
        "retrieve": READ,
        "messages": READ,
        "create": WRITE,
        "partial_update": WRITE,
        "message_create": WRITE,
        "escalate": WRITE,
        "handoff": WRITE,
        "hand_back": WRITE,
        "assign": WRITE,
        "status_change": WRITE,
    }

    def get_queryset(self):
        return selectors.ticket_queryset() & permissions.tickets_visible_to(self.request.user)

    def _ticket(self, *, work: bool = False) -> Ticket:
        """The ticket of the URL (404 if not visible); with `work`, 403 unless the caller
        may work it."""
        user = self.request.user
        ticket = permissions.ticket_for(
            user, self.kwargs["reference"], queryset=selectors.ticket_queryset()
        )
        if work:
            permissions.ensure_can_work(user, ticket)
        return ticket

    def _input(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _changed(self, ticket: Ticket, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Read again: services update the row and leave related objects half loaded.
        fresh = selectors.ticket_queryset().get(pk=ticket.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def list(self, request, *args, **kwargs):
        """Newest first, in keyset pages (`next` is a cursor); narrow with the filters."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TicketCreateIn, responses={201: TicketOut, **ERRORS})
    def create(self, request):
        """Open a ticket in the support area's first queue; the body is its first message."""
        data = self._input(TicketCreateIn)
        ticket = services.ticket_create(
            customer=data.get("customer"),
            contact_email=data.get("contact_email", ""),
            subject=data["subject"],
            body=data["body"],
            channel=data["channel"],
            support_area=data["support_area"],
            priority=data.get("priority", Priority.NORMAL),
            actor=request.user,
        )
        # The new ticket's relations are all in hand (customer and support area with its
        # queue and department from the input): answer without reading it again.
        response = Response(self.get_serializer(ticket).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api:ticket-detail", args=[ticket.reference], request=request
        )
        return response

    @extend_schema(parameters=[REFERENCE], responses={200: TicketDetailOut})
    def retrieve(self, request, reference=None):
        """One ticket, with its SLA clocks."""
        ticket = permissions.ticket_for(
            request.user,
            reference,
            queryset=selectors.ticket_queryset().prefetch_related("sla_clocks"),
        )
        context = self.get_serializer_context()
        return Response(TicketDetailOut(ticket, context=context).data)

    @extend_schema(
        parameters=[REFERENCE], request=TicketUpdateIn, responses={200: TicketOut, **ERRORS}
    )
    def partial_update(self, request, reference=None):
        """Change the subject and/or priority; nothing else is writable here."""
        ticket = self._ticket(work=True)
        data = self._input(TicketUpdateIn)
        services.ticket_details_change(
            ticket=ticket,
            actor=request.user,
            subject=data.get("subject"),
            priority=data.get("priority"),
            expected_version=data.get("version"),
        )
        return self._changed(ticket)

    @extend_schema(parameters=[REFERENCE], responses=MessageOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=MessagePagination, filter_backends=[])
    def messages(self, request, reference=None):
        """The conversation, oldest first: customer messages and public replies.

        Internal notes never leave the workspace: no integration needs them, and the API
        answer may end up in another system's logs.
        """
        ticket = self._ticket()
        page = self.paginate_queryset(
            selectors.ticket_message_rows(user=request.user, ticket=ticket).exclude(
                kind=MessageKind.NOTE
            )
        )
        context = self.get_serializer_context()
        return self.get_paginated_response(MessageOut(page, many=True, context=context).data)

    @extend_schema(
        parameters=[REFERENCE], request=MessageCreateIn, responses={201: MessageOut, **ERRORS}
    )
    @messages.mapping.post
    def message_create(self, request, reference=None):
        """Add a public reply, an internal note, or a customer message (channel `api`)."""
        ticket = self._ticket(work=True)
        data = self._input(MessageCreateIn)
        kind, body = data["kind"], data["body"]
        if kind == MessageKind.REPLY:
            message = services.ticket_reply(ticket=ticket, actor=request.user, body=body)
        elif kind == MessageKind.NOTE:
            message = services.ticket_note_add(ticket=ticket, actor=request.user, body=body)
        else:
            message = services.ticket_customer_message_add(
                ticket=ticket, actor=request.user, body=body, channel=Channel.API
            )
        context = self.get_serializer_context()
        return Response(MessageOut(message, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[REFERENCE], request=EscalateIn, responses={200: TicketOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def escalate(self, request, reference=None):
        """Move the ticket up one line in its department."""
        ticket = self._ticket(work=True)
        data = self._input(EscalateIn)
        services.ticket_escalate(
            ticket=ticket,
            actor=request.user,
            reason=data["reason"],
            expected_version=data.get("version"),
        )
        return self._changed(ticket)

    @extend_schema(parameters=[REFERENCE], request=HandoffIn, responses={200: TicketOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def handoff(self, request, reference=None):
        """Hand the ticket to another department's first line, with a note for them."""
        ticket = self._ticket(work=True)
        data = self._input(HandoffIn)
        services.ticket_handoff(
            ticket=ticket,
            actor=request.user,
            department=data["department"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._changed(ticket)

    @extend_schema(parameters=[REFERENCE], request=HandBackIn, responses={200: TicketOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="hand-back")
    def hand_back(self, request, reference=None):
        """Return the ticket to the queue it was escalated or handed off from."""
        ticket = self._ticket(work=True)
        data = self._input(HandBackIn)
        services.ticket_hand_back(
            ticket=ticket,
            actor=request.user,
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._changed(ticket)

    @extend_schema(parameters=[REFERENCE], request=AssignIn, responses={200: TicketOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """Give the ticket to an agent who works its queue, or unassign it (null)."""
        ticket = self._ticket(work=True)
        data = self._input(AssignIn)
        assignee, version = data["assignee"], data.get("version")
        if assignee is None:
            if ticket.assignee is not None:  # taking it from a colleague is a team lead's call
                permissions.ensure_can_assign(request.user, ticket, ticket.assignee)
            services.ticket_unassign(ticket=ticket, actor=request.user, expected_version=version)
        else:
            permissions.ensure_can_assign(request.user, ticket, assignee)
            services.ticket_assign(
                ticket=ticket, assignee=assignee, actor=request.user, expected_version=version
            )
        return self._changed(ticket)

    @extend_schema(parameters=[REFERENCE], request=StatusIn, responses={200: TicketOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def status_change(self, request, reference=None):
        """Move the ticket along the allowed status changes (closing needs resolving first)."""
        ticket = self._ticket(work=True)
        data = self._input(StatusIn)
        services.ticket_transition(
            ticket=ticket,
            to=data["status"],
            actor=request.user,
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._changed(ticket)


class QueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Active queues the caller may see, with their number of active tickets."""

    serializer_class = QueueOut
    pagination_class = ListPagination
    filter_backends: list = []
    schema = ScopedSchema()
    scopes = {"list": READ}

    def get_queryset(self):
        return selectors.queue_list(user=self.request.user)


class SupportAreaViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Support areas new tickets may be opened in; `ivr_choice` is what the phone system sends."""

    serializer_class = SupportAreaOut
    pagination_class = ListPagination
    filter_backends: list = []
    schema = ScopedSchema()
    scopes = {"list": READ}

    def get_queryset(self):
        return selectors.support_area_list()


router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("queues", QueueViewSet, basename="queue")
router.register("support-areas", SupportAreaViewSet, basename="support-area")
# Outages have their own module (it imports from this one, hence the lazy include).
urlpatterns = [*router.urls, path("", include("tickets.outage_api"))]
