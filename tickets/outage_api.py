"""Outages API under /api/v1/: what network monitoring opens, updates and resolves.

- `outages/`: the list (filters `status` (repeatable), `active`, `postal_code`; keyset
  pages, newest start first) and POST to open an outage. Monitoring re-sends its
  incidents: a POST with an `external_id` already known answers 200 with that outage,
  unchanged, instead of opening a second one.
- `outages/{id}/`: one outage with all its updates, newest first.
- `outages/{id}/updates/`: POST a progress report (text, perhaps a status or ETA;
  `notify` mails the customers of the linked open tickets, in batches after commit).
- `outages/{id}/resolve/`: resolve once; the linked open tickets are resolved and their
  customers mailed in batches. A second resolution is refused (400, "already resolved").

Tokens need `outages:read` or `outages:write` (see `scopes`). Staff sessions read every
outage; writing follows the workspace rule (`permissions.can_manage_outages`). Customers
never reach the API. Bad input is a 400 naming the field and writes nothing.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from customers.choices import ServiceKind
from helpdesk.api import ERRORS, ScopedSchema, StrictIn
from helpdesk.pagination import CursorPagination
from tickets import permissions
from tickets.api import ChoiceInField, PersonOut
from tickets.choices import OutageStatus
from tickets.models import Outage
from tickets.selectors import outages as selectors
from tickets.services import outages as services

READ = "outages:read"
WRITE = "outages:write"
MAX_ID = 2**63 - 1  # larger numbers overflow the database's integer: a 404, not a 500


# --- Output ---------------------------------------------------------------------------


class OutageUpdateOut(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    status = ChoiceInField(choices=OutageStatus.choices)
    expected_end_at = serializers.DateTimeField(allow_null=True)
    notify = serializers.BooleanField(help_text=_("Whether the customers were told by e-mail."))
    notified_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the last notice mail of this update was queued.")
    )
    author = PersonOut(allow_null=True, help_text=_("Null for the system."))
    created_at = serializers.DateTimeField()


class OutageOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    services = serializers.ListField(
        child=ChoiceInField(choices=ServiceKind.choices), help_text=_("Affected services.")
    )
    area = serializers.CharField(help_text=_("Affected postal codes, e.g. 51143-51149, 51061."))
    status = ChoiceInField(choices=OutageStatus.choices)
    started_at = serializers.DateTimeField()
    expected_end_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    tickets_linked = serializers.IntegerField(source="linked")
    tickets_open = serializers.IntegerField(
        source="linked_open", help_text=_("Linked tickets not resolved or closed yet.")
    )
    external_id = serializers.CharField(help_text=_("The network monitoring's incident id."))
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    latest_update = serializers.SerializerMethodField()

    @extend_schema_field(OutageUpdateOut(allow_null=True))
    def get_latest_update(self, outage: Outage) -> dict | None:
        rows = getattr(outage, "latest_updates", None)
        if rows is None:  # the detail prefetches every update, newest first
            rows = outage.updates.all()
        latest = next(iter(rows), None)
        return OutageUpdateOut(latest).data if latest is not None else None


class OutageDetailOut(OutageOut):
    updates = OutageUpdateOut(many=True, source="updates.all", help_text=_("Newest first."))


# --- Input ----------------------------------------------------------------------------


class OutageListIn(StrictIn):
    status = serializers.ListField(
        child=ChoiceInField(choices=OutageStatus.choices),
        required=False,
        max_length=len(OutageStatus.choices),
        help_text=_("Repeat for several."),
    )
    # allow_null: a query string without `active` means "either", not false.
    active = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text=_("true: investigating, identified or monitoring; false: resolved."),
    )
    postal_code = serializers.RegexField(
        r"^[0-9]{5}$",
        required=False,
        help_text=_("Only outages whose area covers this postal code."),
        error_messages={"invalid": _("A postal code has five digits.")},
    )


class OutageCreateIn(StrictIn):
    # Blank text passes here so the service's own message says what is missing.
    title = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    services = serializers.ListField(
        child=ChoiceInField(choices=ServiceKind.choices),
        allow_empty=True,
        max_length=len(ServiceKind.choices),
        help_text=_("Affected services."),
    )
    area = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("Postal codes and ranges, e.g. “51143-51149, 51061”."),
    )
    # Every status is accepted here so that "resolved" gets the service's own message.
    status = ChoiceInField(choices=OutageStatus.choices, default=OutageStatus.INVESTIGATING)
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Default: now.")
    )
    expected_end_at = serializers.DateTimeField(required=False, allow_null=True)
    external_id = serializers.CharField(
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=_("The monitoring's incident id: a repeat report answers with that outage."),
    )


class OutageUpdateIn(StrictIn):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    status = ChoiceInField(
        choices=OutageStatus.choices,
        required=False,
        help_text=_("Default: unchanged. “resolved” resolves the outage and its tickets."),
    )
    expected_end_at = serializers.DateTimeField(required=False, allow_null=True)
    notify = serializers.BooleanField(
        default=False, help_text=_("Mail the customers of the linked open tickets.")
    )


class OutageResolveIn(StrictIn):
    text = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("What the customers are told in the resolution mail."),
    )


# --- Views ----------------------------------------------------------------------------


class OutagePagination(CursorPagination):
    """Newest start first; outages are few, so ties on the start are cheap to step over."""

    ordering = ("-started_at", "-id")


ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=_("The outage's number."))


class OutageViewSet(viewsets.GenericViewSet):
    """Outages (mass incidents) with their updates; network monitoring keeps them current."""

    serializer_class = OutageOut
    queryset = Outage.objects.none()  # the schema's model; reads go through outage_rows
    pagination_class = OutagePagination
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    schema = ScopedSchema()
    scopes = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "update_post": WRITE,
        "resolve": WRITE,
    }

    def _input(self, serializer_class, data=None) -> dict:
        data = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _outage(self, *, write: bool = False) -> Outage:
        """The outage of the URL (404 if there is none); with `write`, 403 unless the
        caller may manage outages (tokens: their scope already decided)."""
        if write:
            permissions.ensure_can_manage_outages(self.request.user)
        return permissions.outage_for(self.request.user, self._pk())

    def _pk(self) -> int:
        pk = int(self.kwargs["pk"])
        return pk if pk <= MAX_ID else 0  # no such outage: a 404

    def _detail(self, outage_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        outage = permissions.outage_for(
            self.request.user, outage_id, queryset=selectors.outage_detail_queryset()
        )
        context = self.get_serializer_context()
        return Response(OutageDetailOut(outage, context=context).data, status=status_code)

    @extend_schema(
        parameters=[OutageListIn],
        responses={200: OutageOut(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def list(self, request):
        """Newest start first, in keyset pages (`next` is a link with a cursor)."""
        query = request.query_params.copy()
        for name in (self.paginator.cursor_query_param, self.paginator.page_size_query_param):
            query.pop(name, None)
        filters = self._input(OutageListIn, data=query)
        page = self.paginate_queryset(selectors.outage_rows(filters=filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(parameters=[ID], responses={200: OutageDetailOut, **ERRORS})
    def retrieve(self, request, pk=None):
        """One outage with all its updates, newest first."""
        return self._detail(self._pk())

    @extend_schema(
        request=OutageCreateIn,
        responses={201: OutageDetailOut, 200: OutageDetailOut, **ERRORS},
    )
    def create(self, request):
        """Open an outage. 201 when new; 200 with the existing outage, unchanged, when its
        `external_id` is known already (monitoring may send the same incident again)."""
        permissions.ensure_can_manage_outages(request.user)
        data = self._input(OutageCreateIn)
        outage, created = services.outage_create(
            title=data["title"],
            description=data["description"],
            services=data["services"],
            area=data["area"],
            status=data["status"],
            started_at=data.get("started_at"),
            expected_end_at=data.get("expected_end_at"),
            external_id=data["external_id"],
            actor=request.user,
        )
        response = self._detail(
            outage.pk, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
        response["Location"] = reverse("api:outage-detail", args=[outage.pk], request=request)
        return response

    @extend_schema(
        parameters=[ID], request=OutageUpdateIn, responses={201: OutageUpdateOut, **ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="updates", url_name="updates")
    def update_post(self, request, pk=None):
        """Report progress; `notify` mails the customers of the linked open tickets."""
        outage = self._outage(write=True)
        data = self._input(OutageUpdateIn)
        update = services.outage_update_post(
            outage=outage,
            text=data["text"],
            status=data.get("status"),
            expected_end_at=data.get("expected_end_at"),
            notify=data["notify"],
            actor=request.user,
        )
        context = self.get_serializer_context()
        return Response(
            OutageUpdateOut(update, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[ID], request=OutageResolveIn, responses={200: OutageDetailOut, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve the outage, once: its linked open tickets are resolved and their
        customers mailed in batches after the answer. A second call is refused."""
        outage = self._outage(write=True)
        data = self._input(OutageResolveIn)
        services.outage_resolve(outage=outage, text=data["text"], actor=request.user)
        return self._detail(outage.pk)


router = SimpleRouter()
router.register("outages", OutageViewSet, basename="outage")
urlpatterns = router.urls
