"""Feature requests API under /api/v1/: find, file, count asks, decide.

- `feature-requests/`: the list (filters `status` (repeatable), `department`, `q`,
  `ordering`; keyset pages) and POST to file a new request with its first ask.
- `feature-requests/{id}/`: one request with its history. A merged request answers as
  it is, with `merged_into` naming the survivor.
- `feature-requests/similar/?title=…`: "find before you file", up to six suggestions with
  their status and reason (a rejection's reason is what the customer is told).
- `feature-requests/{id}/asks/`: one more ask. On a merged request it is counted on the
  survivor, and the answer names the request it was counted on.
- `feature-requests/{id}/transition/`: the review workflow, merges included (`to=merged`
  with `into`). Only a verb moves the status (STYLE R8).

Tokens need `feature_requests:read`, `:write` or `:review` (see `scopes`). Staff sessions
may call every endpoint; the workspace rules decide who reviews and merges
(`permissions.can_decide`, `can_merge`). Customers never reach the API. Bad input is a
400 naming the field and writes nothing; a stale `version` is a 409.
"""

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import pagination, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import replace_query_param

from customers import permissions as customer_permissions
from feature_requests import permissions, selectors, services
from feature_requests.choices import AskKind, Ordering, Status, TargetDepartment
from feature_requests.models import TITLE_MAX, FeatureRequest
from helpdesk.api import ERRORS, ScopedSchema, StrictIn
from tickets import permissions as tickets_permissions
from tickets.api import ChoiceInField
from tickets.models import Ticket

READ = "feature_requests:read"
WRITE = "feature_requests:write"
REVIEW = "feature_requests:review"
MAX_ID = permissions.MAX_ID
# The list's sort orders in the API: each is one index, newest or largest first.
API_ORDERINGS = [
    (value, label)
    for value, label in Ordering.choices
    if value in (Ordering.ASKS, Ordering.CUSTOMERS, Ordering.RECENT, Ordering.NEWEST)
]


# --- Output ---------------------------------------------------------------------------


class StatusOut(serializers.Serializer):
    value = serializers.CharField(source="status", help_text=_("The stored status code."))
    label = serializers.CharField(
        source="get_status_display", help_text=_("The status's name in the caller's language.")
    )


class FeatureRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = StatusOut(source="*")
    department = serializers.CharField(help_text=_("Target department code."))
    ask_count = serializers.IntegerField(help_text=_("Every ask, repeats included."))
    customer_count = serializers.IntegerField(help_text=_("Distinct customers who asked."))
    asks_since_decision = serializers.IntegerField()
    last_ask_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text=_("The reason of the latest decision."))
    merged_into = serializers.IntegerField(
        source="merged_into_id", allow_null=True, help_text=_("The surviving request, if merged.")
    )
    version = serializers.IntegerField(
        help_text=_("Send it back with a transition; a stale one is refused with 409.")
    )
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField(help_text=_("The request in the agent workspace."))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, request: FeatureRequest) -> str:
        return self.context["request"].build_absolute_uri(request.get_absolute_url())


class EventOut(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.CharField(
        source="actor.username", allow_null=True, help_text=_("Null for the system.")
    )
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()


class FeatureRequestDetailOut(FeatureRequestOut):
    description = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    history = EventOut(many=True, help_text=_("Oldest first."))


class SimilarOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = StatusOut(source="*")
    department = serializers.CharField()
    ask_count = serializers.IntegerField()
    customer_count = serializers.IntegerField()
    reason = serializers.CharField()
    url = serializers.SerializerMethodField()

    get_url = extend_schema_field(OpenApiTypes.URI)(FeatureRequestOut.get_url)


class AskRecordedOut(serializers.Serializer):
    request = serializers.IntegerField(
        source="request_id", help_text=_("The request the ask was counted on (the survivor).")
    )
    ask_count = serializers.IntegerField(source="request.ask_count")
    customer_count = serializers.IntegerField(source="request.customer_count")
    asks_since_decision = serializers.IntegerField(source="request.asks_since_decision")
    is_repeat = serializers.BooleanField(help_text=_("This customer had asked before."))


# --- Input ----------------------------------------------------------------------------


class FeatureRequestListIn(StrictIn):
    status = serializers.ListField(
        child=ChoiceInField(choices=Status.choices),
        required=False,
        max_length=len(Status.choices),
        help_text=_("Repeat for several; default: every status but merged."),
    )
    department = ChoiceInField(choices=TargetDepartment.choices, required=False)
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=TITLE_MAX, help_text=_("Words to search.")
    )
    ordering = ChoiceInField(choices=API_ORDERINGS, default=Ordering.ASKS)


class SimilarIn(StrictIn):
    title = serializers.CharField(
        min_length=services.TITLE_MIN,
        max_length=TITLE_MAX,
        help_text=_("The title being typed."),
    )


class AskIn(StrictIn):
    kind = ChoiceInField(
        choices=AskKind.choices,
        error_messages={
            "invalid_choice": _("Choose whether it was a wish or a request we declined.")
        },
    )
    customer = serializers.CharField(
        required=False, allow_null=True, max_length=20, help_text=_("Customer number.")
    )
    ticket = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=20,
        help_text=_("Reference of the ticket the ask came from; its customer is the default."),
    )
    # The service trims and checks the length, with the same message as the pages.
    note = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)

    def validate_customer(self, number: str | None):
        if number is None:
            return None
        user = self.context["request"].user
        customer = (
            customer_permissions.customers_visible_to(user)
            .filter(number=number.strip().upper())
            .first()
        )
        if customer is None:
            raise serializers.ValidationError(
                _("No customer with this number."), code="does_not_exist"
            )
        return customer

    def validate_ticket(self, reference: str | None):
        if reference is None:
            return None
        user = self.context["request"].user
        try:
            return tickets_permissions.ticket_for(
                user, reference.strip(), queryset=Ticket.objects.select_related("customer")
            )
        except Http404:
            raise serializers.ValidationError(
                _("No ticket with this reference that you may see."), code="does_not_exist"
            ) from None


class FeatureRequestCreateIn(AskIn):
    # Blank and over-long titles pass here so the service's own message says what is wrong.
    title = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    department = ChoiceInField(
        choices=TargetDepartment.choices,
        error_messages={"invalid_choice": _("Choose the department the request concerns.")},
    )


class TransitionIn(StrictIn):
    to = ChoiceInField(
        choices=Status.choices,
        help_text=_("The new status; “merged” folds this request into `into`."),
        error_messages={"invalid_choice": _("Choose a status this request can move to.")},
    )
    reason = serializers.CharField(
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=_("Required for a rejection: agents read it out to the next customer."),
    )
    department = ChoiceInField(
        choices=TargetDepartment.choices,
        required=False,
        help_text=_("A new target department, when passing the request to a department."),
        error_messages={"invalid_choice": _("Choose the department the request concerns.")},
    )
    into = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The request that survives a merge; required with to=merged."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The version you saw; a stale one is refused with 409."),
    )

    def validate(self, data: dict) -> dict:
        if data["to"] == Status.MERGED:
            if "into" not in data:
                raise serializers.ValidationError(
                    {"into": [self.fields["into"].error_messages["required"]]}, code="required"
                )
            unused = [name for name in ("reason", "department") if data.get(name)]
            if unused:
                message = _("A merge takes no reason or department; leave this field out.")
                raise serializers.ValidationError({name: [message] for name in unused})
        elif "into" in data:
            raise serializers.ValidationError(
                {"into": [_("Only a merge names a request to merge into.")]}
            )
        return data


# --- Pages ----------------------------------------------------------------------------


def _beyond(queryset: QuerySet, order: list[str], values: list, *, forward: bool) -> RawSQL:
    """The rows after (backwards: before) the edge row with these values, in this order.

    A row-value comparison, `(ask_count, id) < (%s, %s)`: PostgreSQL reads it as one range
    of the (ask_count, id) index, where the spelled-out `a < x OR (a = x AND b < y)` walks
    the index from its start. SQLite (3.15+) knows row values too. Every column must be
    sorted the same way, as the list's orders are.
    """
    directions = {name.startswith("-") for name in order}
    if len(directions) != 1:
        raise ValueError(f"Keyset pages need one sort direction, not {order}.")
    model = queryset.model
    fields = [model._meta.get_field(name.lstrip("-")) for name in order]
    params = [
        field.get_db_prep_value(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(f"{table}.{quote(field.column)}" for field in fields)
    operator = "<" if directions == {forward} else ">"
    placeholders = ", ".join(["%s"] * len(fields))
    return RawSQL(  # noqa: S611 - names come from the model, values are parameters
        f"({columns}) {operator} ({placeholders})", params, output_field=BooleanField()
    )


class KeysetPagination(pagination.BasePagination):
    """Keyset pages over the list's compound orders, e.g. (ask_count, id).

    DRF's cursor keys on the first ordering field only and steps over ties with OFFSET;
    most requests share a count of one ask, so deep pages would scan more and more rows.
    Here the cursor carries every ordering value of the edge row (signed, so it cannot be
    forged into odd values), and each page is one range read on the order's index.
    """

    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    salt = "feature_requests.api.cursor"
    invalid = _("This cursor is invalid; start again from the first page.")

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        self.model = queryset.model
        self.order = [str(name) for name in queryset.query.order_by]
        size = self._page_size(request)
        forward, edge = True, None
        if request.query_params.get(self.cursor_query_param):
            forward, edge = self._decode(request.query_params[self.cursor_query_param])
            queryset = queryset.filter(_beyond(queryset, self.order, edge, forward=forward))
        if not forward:
            queryset = queryset.reverse()
        rows = list(queryset[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        self.has_next = more if forward else True
        self.has_previous = edge is not None if forward else more
        self.rows = rows
        return rows

    def get_paginated_response(self, data) -> Response:
        first, last = (self.rows[0], self.rows[-1]) if self.rows else (None, None)
        return Response(
            {
                "next": self._link(last, forward=True) if self.has_next else None,
                "previous": self._link(first, forward=False) if self.has_previous else None,
                "results": data,
            }
        )

    def _page_size(self, request) -> int:
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _link(self, row, *, forward: bool) -> str | None:
        if row is None:
            return None
        values = []
        for name in self.order:
            value = getattr(row, name.lstrip("-"))
            values.append(value.isoformat() if hasattr(value, "isoformat") else value)
        token = signing.dumps({"o": self.order, "f": forward, "k": values}, salt=self.salt)
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token)

    def _decode(self, token: str) -> tuple[bool, list]:
        try:
            payload = signing.loads(token, salt=self.salt)
        except signing.BadSignature:
            payload = None
        # A cursor of another sort order (the client changed `ordering`) is refused too.
        if not isinstance(payload, dict) or payload.get("o") != self.order:
            raise serializers.ValidationError({self.cursor_query_param: [self.invalid]})
        values = []
        for name, value in zip(self.order, payload["k"], strict=True):
            field = self.model._meta.get_field(name.lstrip("-"))
            values.append(
                parse_datetime(value) if field.get_internal_type() == "DateTimeField" else value
            )
        return bool(payload["f"]), values

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(_("The `next` or `previous` link's cursor.")),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(_("Rows per page, at most 200.")),
                "schema": {"type": "integer"},
            },
        ]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }


# --- Views ----------------------------------------------------------------------------


ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=_("The request's number."))


class FeatureRequestViewSet(viewsets.GenericViewSet):
    """Feature requests: every wish and every "no" we had to give, with every ask counted."""

    serializer_class = FeatureRequestOut
    queryset = FeatureRequest.objects.none()  # the schema's model; reads go through selectors
    pagination_class = KeysetPagination
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"  # too large a number is a 404 (permissions.MAX_ID)
    schema = ScopedSchema()
    scopes = {
        "list": READ,
        "retrieve": READ,
        "similar": READ,
        "create": WRITE,
        "ask_record": WRITE,
        "transition": REVIEW,
    }

    def _input(self, serializer_class, data=None) -> dict:
        data = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _detail(self, request_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        feature_request = selectors.feature_request_detail(
            user=self.request.user, request_id=request_id
        )
        feature_request.history = selectors.event_list(request=feature_request)
        context = self.get_serializer_context()
        return Response(
            FeatureRequestDetailOut(feature_request, context=context).data, status=status_code
        )

    @extend_schema(
        parameters=[FeatureRequestListIn],
        responses={200: FeatureRequestOut(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def list(self, request):
        """Most asked first by default, in keyset pages (`next` is a link with a cursor)."""
        query = request.query_params.copy()
        for name in (KeysetPagination.cursor_query_param, KeysetPagination.page_size_query_param):
            query.pop(name, None)
        filters = self._input(FeatureRequestListIn, data=query)
        rows = selectors.feature_request_rows(user=request.user, filters=filters)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(parameters=[ID], responses={200: FeatureRequestDetailOut, **ERRORS})
    def retrieve(self, request, pk=None):
        """One request with its history; a merged one names the survivor in `merged_into`."""
        return self._detail(int(pk))

    @extend_schema(
        parameters=[SimilarIn],
        responses={
            200: inline_serializer("SimilarFeatureRequests", {"results": SimilarOut(many=True)}),
            **ERRORS,
        },
    )
    @action(detail=False, methods=["get"])
    def similar(self, request):
        """Up to six existing requests close to a title, rejected and done ones included:
        their status and reason may already answer the customer."""
        data = self._input(SimilarIn, data=request.query_params)
        rows = selectors.similar_requests(user=request.user, text=data["title"])
        context = self.get_serializer_context()
        return Response({"results": SimilarOut(rows, many=True, context=context).data})

    @extend_schema(
        request=FeatureRequestCreateIn, responses={201: FeatureRequestDetailOut, **ERRORS}
    )
    def create(self, request):
        """File a new request together with the ask that caused it."""
        permissions.ensure_can_use(request.user)
        data = self._input(FeatureRequestCreateIn)
        feature_request = services.feature_request_create(
            title=data["title"],
            description=data["description"],
            department=data["department"],
            kind=data["kind"],
            customer=data.get("customer"),
            ticket=data.get("ticket"),
            note=data["note"],
            actor=request.user,
        )
        response = self._detail(feature_request.pk, status_code=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api:feature-request-detail", args=[feature_request.pk], request=request
        )
        return response

    @extend_schema(parameters=[ID], request=AskIn, responses={201: AskRecordedOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="asks", url_name="asks")
    def ask_record(self, request, pk=None):
        """Count one more ask; on a merged request it is counted on the survivor."""
        feature_request = permissions.feature_request_for(request.user, int(pk))
        data = self._input(AskIn)
        ask = services.ask_record(
            request=feature_request,
            kind=data["kind"],
            customer=data.get("customer"),
            ticket=data.get("ticket"),
            note=data["note"],
            actor=request.user,
        )
        return Response(AskRecordedOut(ask).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID], request=TransitionIn, responses={200: FeatureRequestDetailOut, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the request one step of the review (a rejection needs a reason), or merge it
        into the request it duplicates (`to=merged`, `into`)."""
        feature_request = permissions.feature_request_for(request.user, int(pk), decide=True)
        data = self._input(TransitionIn)
        if data["to"] == Status.MERGED:
            if not permissions.can_merge(request.user):
                raise PermissionDenied
            try:
                survivor = permissions.feature_request_for(request.user, data["into"])
            except Http404:
                raise serializers.ValidationError(
                    {"into": [_("No feature request with this number.")]}
                ) from None
            services.feature_request_merge(
                request=feature_request,
                into=survivor,
                actor=request.user,
                expected_version=data.get("version"),
            )
        else:
            services.feature_request_transition(
                request=feature_request,
                to=data["to"],
                reason=data["reason"],
                department=data.get("department"),
                actor=request.user,
                expected_version=data.get("version"),
            )
        return self._detail(feature_request.pk)


router = SimpleRouter()
router.register("feature-requests", FeatureRequestViewSet, basename="feature-request")
urlpatterns = router.urls
