"""SLA API under /api/v1/: business calendars and SLA policies.

- `sla-calendars/`: list and read, with the weekly opening hours and the closed days from
  today on; POST creates a calendar with its whole week at once, so a half-entered
  calendar never carries deadlines.
- `sla-policies/`: list, read, create, and PATCH of name, targets, warning, criteria,
  calendar, breach actions and the active flag. Criteria are null for "any". Policies
  are not deleted here; switch one off instead.

Tokens need `sla:read` to read and `sla:write` to write. Staff sessions may read; only
management may write (`permissions.can_manage_sla`). Every write calls one service, the
same the admin uses, so both refuse the same input with the same message.

- `stats/`: the KPI report of a period (`escalation.selectors.kpis`), for reporting tools
  with a `stats:read` token and for management and team leads signed in.
"""

from django.db.models import Prefetch
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from customers.choices import Segment
from escalation import kpi_forms, permissions, services
from escalation.choices import GermanState, Weekday
from escalation.models import BusinessCalendar, ClosedDay, SlaPolicy
from escalation.selectors import kpis
from helpdesk import api as helpdesk_api
from helpdesk.models import ApiToken
from tickets import api as tickets_api
from tickets.choices import Channel
from tickets.models import Department

READ = "sla:read"
WRITE = "sla:write"
ID = r"[0-9]+"  # too large a number is a 404 too (permissions._pk)
MAX_CLOSED_DAYS = 1000


# --- Output ---------------------------------------------------------------------------


class AnyChoiceField(serializers.ChoiceField):
    """A criterion stored as "" for any, shown and taken as null."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class OpeningHoursOut(serializers.Serializer):
    weekday = serializers.IntegerField(help_text=_("0 = Monday … 6 = Sunday."))
    opens = serializers.TimeField()
    closes = serializers.TimeField(help_text=_("00:00 means midnight at the end of the day."))


class ClosedDayOut(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField()


class CalendarOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField(help_text=_("Short name; policies name their calendar by it."))
    name = serializers.CharField()
    time_zone = serializers.CharField()
    holiday_country = serializers.CharField(help_text=_("Empty: no public holidays."))
    holiday_subdivision = serializers.CharField(help_text=_("Empty: nationwide holidays only."))
    hours = OpeningHoursOut(many=True)
    closed_days = ClosedDayOut(
        many=True, source="upcoming_closed_days", help_text=_("From today on.")
    )


class PolicyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_default = serializers.BooleanField(
        help_text=_("The policy for tickets no other policy matches; it has no criteria.")
    )
    is_active = serializers.BooleanField()
    calendar = serializers.CharField(source="calendar.slug", help_text=_("Calendar short name."))
    priority = tickets_api.PriorityField(read_only=True, allow_null=True)
    channel = AnyChoiceField(choices=Channel.choices)
    segment = AnyChoiceField(choices=Segment.choices)
    department = serializers.CharField(
        source="department.slug", allow_null=True, help_text=_("Department code.")
    )
    first_response_minutes = serializers.IntegerField(help_text=_("Business minutes."))
    next_update_minutes = serializers.IntegerField(help_text=_("Business minutes."))
    resolution_minutes = serializers.IntegerField(help_text=_("Business minutes."))
    warning_percent = serializers.IntegerField(help_text=_("Warn at this share of a target."))
    breach_raises_priority = serializers.BooleanField()
    breach_moves_up = serializers.BooleanField()


# --- Input ----------------------------------------------------------------------------


class OpeningHoursIn(helpdesk_api.StrictIn):
    weekday = serializers.ChoiceField(
        choices=Weekday.choices, help_text=_("0 = Monday … 6 = Sunday.")
    )
    opens = serializers.TimeField()
    closes = serializers.TimeField(help_text=_("00:00 means midnight at the end of the day."))


class ClosedDayIn(helpdesk_api.StrictIn):
    date = serializers.DateField()
    reason = serializers.CharField(max_length=80, allow_blank=True, default="")


class CalendarCreateIn(helpdesk_api.StrictIn):
    name = serializers.CharField(max_length=80, allow_blank=True)
    slug = serializers.SlugField(max_length=50, help_text=_("Short name, e.g. office."))
    time_zone = serializers.CharField(max_length=64, default="Europe/Berlin")
    holiday_country = serializers.CharField(
        max_length=2, allow_blank=True, default="DE", help_text=_("Country code; empty: none.")
    )
    holiday_subdivision = serializers.ChoiceField(
        choices=GermanState.choices, allow_blank=True, default=""
    )
    # Empty or bad weeks pass here so the service's own message says what is wrong.
    hours = OpeningHoursIn(many=True, max_length=services.MAX_OPENING_HOURS)
    closed_days = ClosedDayIn(many=True, default=list, max_length=MAX_CLOSED_DAYS)


class PolicyIn(helpdesk_api.StrictIn):
    """Every field optional: a PATCH sends what changes."""

    # Targets and warning are plain integers here: the service checks their range, with
    # the same message as the admin.
    name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    calendar = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=BusinessCalendar.objects.all(),
        required=False,
        help_text=_("Calendar short name."),
        error_messages={"does_not_exist": _("No calendar with this short name.")},
    )
    priority = tickets_api.PriorityField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_null=True)
    segment = serializers.ChoiceField(choices=Segment.choices, required=False, allow_null=True)
    department = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Department code."),
        error_messages={"does_not_exist": _("No department with this code.")},
    )
    first_response_minutes = serializers.IntegerField(required=False)
    next_update_minutes = serializers.IntegerField(required=False)
    resolution_minutes = serializers.IntegerField(required=False)
    warning_percent = serializers.IntegerField(required=False, help_text=_("1 to 99."))
    breach_raises_priority = serializers.BooleanField(required=False)
    breach_moves_up = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)

    hints = {
        "is_default": _("There is one default policy; which one it is cannot be changed."),
        "id": _("The id is in the URL."),
    }

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError(_("Send at least one field to change."), code="empty")
        return data


class PolicyCreateIn(PolicyIn):
    name = serializers.CharField(max_length=80, allow_blank=True)
    calendar = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=BusinessCalendar.objects.all(),
        help_text=_("Calendar short name."),
        error_messages={"does_not_exist": _("No calendar with this short name.")},
    )
    first_response_minutes = serializers.IntegerField()
    next_update_minutes = serializers.IntegerField()
    resolution_minutes = serializers.IntegerField()


# --- Views ----------------------------------------------------------------------------


def _input(view, serializer_class) -> dict:
    data = serializer_class(data=view.request.data, context=view.get_serializer_context())
    data.is_valid(raise_exception=True)
    return data.validated_data


class CalendarViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Business calendars: when each team works; policies count their targets in them."""

    serializer_class = CalendarOut
    pagination_class = helpdesk_api.ListPagination
    filter_backends: list = []
    lookup_value_regex = ID
    schema = helpdesk_api.ScopedSchema()
    scopes = {"list": READ, "retrieve": READ, "create": WRITE}

    def get_queryset(self):
        # Closed days from today on: what is still to come, a bounded list per calendar.
        upcoming = ClosedDay.objects.filter(date__gte=timezone.localdate())
        return permissions.calendars_visible_to(self.request.user).prefetch_related(
            "hours", Prefetch("closed_days", queryset=upcoming, to_attr="upcoming_closed_days")
        )

    def list(self, request, *args, **kwargs):
        """Every calendar with its week and upcoming closed days, in pages by id."""
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def retrieve(self, request, pk=None):
        calendar = permissions.calendar_for(request.user, pk, queryset=self.get_queryset())
        return Response(self.get_serializer(calendar).data)

    @extend_schema(request=CalendarCreateIn, responses={201: CalendarOut, **helpdesk_api.ERRORS})
    def create(self, request):
        """Create a calendar with its week; refused when the hours are empty or overlap,
        close before they open, or leave no open time within a year."""
        permissions.ensure_can_manage_sla(request.user)
        data = _input(self, CalendarCreateIn)
        calendar = services.calendar_create(
            name=data["name"],
            slug=data["slug"],
            time_zone=data["time_zone"],
            holiday_country=data["holiday_country"],
            holiday_subdivision=data["holiday_subdivision"],
            hours=[(row["weekday"], row["opens"], row["closes"]) for row in data["hours"]],
            closed_days=[(row["date"], row["reason"]) for row in data["closed_days"]],
            actor=request.user,
        )
        fresh = self.get_queryset().get(pk=calendar.pk)
        response = Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api:sla-calendar-detail", args=[calendar.pk], request=request
        )
        return response


class PolicyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """SLA policies: targets in business minutes for the tickets matching their criteria."""

    serializer_class = PolicyOut
    pagination_class = helpdesk_api.ListPagination
    filter_backends: list = []
    lookup_value_regex = ID
    schema = helpdesk_api.ScopedSchema()
    scopes = {"list": READ, "retrieve": READ, "create": WRITE, "partial_update": WRITE}

    def get_queryset(self):
        return permissions.policies_visible_to(self.request.user).select_related(
            "calendar", "department"
        )

    def _values(self, data: dict) -> dict:
        values = dict(data)
        for field in ("channel", "segment"):  # null is "any", stored as ""
            if field in values and values[field] is None:
                values[field] = ""
        return values

    def list(self, request, *args, **kwargs):
        """Every policy, active or not, in pages by id."""
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def retrieve(self, request, pk=None):
        policy = permissions.policy_for(request.user, pk, queryset=self.get_queryset())
        return Response(self.get_serializer(policy).data)

    @extend_schema(request=PolicyCreateIn, responses={201: PolicyOut, **helpdesk_api.ERRORS})
    def create(self, request):
        """Create a policy; open tickets take it when their deadlines are next worked out."""
        permissions.ensure_can_manage_sla(request.user)
        data = _input(self, PolicyCreateIn)
        saved = services.sla_policy_save(
            policy=SlaPolicy(), values=self._values(data), actor=request.user
        )
        response = Response(self.get_serializer(saved.policy).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api:sla-policy-detail", args=[saved.policy.pk], request=request
        )
        return response

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        request=PolicyIn,
        responses={200: PolicyOut, **helpdesk_api.ERRORS},
    )
    def partial_update(self, request, pk=None):
        """Change what is sent; open tickets on the policy get their deadlines recomputed."""
        policy = permissions.policy_for(request.user, pk, write=True, queryset=self.get_queryset())
        data = _input(self, PolicyIn)
        saved = services.sla_policy_save(
            policy=policy, values=self._values(data), actor=request.user
        )
        return Response(self.get_serializer(saved.policy).data)


# --- KPIs: /api/v1/stats/ ---------------------------------------------------------------


class StatsIn(helpdesk_api.StrictIn):
    """The query of a KPI report; without dates, the last 30 days including today."""

    start = serializers.DateField(required=False, help_text=_("First day (YYYY-MM-DD)."))
    end = serializers.DateField(required=False, help_text=_("Last day, inclusive (YYYY-MM-DD)."))
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True, help_text=_("Empty: all.")
    )
    department = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Department code; empty: all."),
        error_messages={"does_not_exist": _("No department with this code.")},
    )

    def to_internal_value(self, data):
        # An empty department in a query string means "all", like an absent one; `format`
        # is DRF's own (content negotiation), not a filter.
        if hasattr(data, "copy"):
            data = data.copy()
            data.pop("format", None)
            if data.get("department") == "":
                data.pop("department")
        return super().to_internal_value(data)

    def validate(self, data: dict) -> dict:
        start, end = kpi_forms.period_or_default(
            data.get("start"), data.get("end"), today=timezone.localdate()
        )
        problem = kpis.period_check(start, end)
        if problem:
            raise serializers.ValidationError({"end": problem}, code="period")
        return {**data, "start": start, "end": end}


class FiguresOut(serializers.Serializer):
    received = serializers.IntegerField(help_text=_("Tickets opened."))
    handled = serializers.IntegerField(help_text=_("Tickets resolved."))
    first_contact_solved = serializers.IntegerField(
        help_text=_("Resolved without escalation, handoff or reopening and with at most one reply.")
    )
    first_contact_rate = serializers.FloatField(
        allow_null=True, help_text=_("Percent of the handled tickets.")
    )
    responded = serializers.IntegerField(help_text=_("Tickets first answered."))
    average_first_response_minutes = serializers.FloatField(
        allow_null=True, help_text=_("Business minutes on the ticket's SLA calendar.")
    )
    median_first_response_minutes = serializers.FloatField(
        allow_null=True, help_text=_("Business minutes on the ticket's SLA calendar.")
    )
    sla_breached = serializers.IntegerField(help_text=_("Handled tickets that broke an SLA."))
    sla_breach_rate = serializers.FloatField(
        allow_null=True, help_text=_("Percent of the handled tickets.")
    )
    calls = serializers.IntegerField(help_text=_("Calls the phone system reported."))
    calls_answered = serializers.IntegerField()
    average_wait_seconds = serializers.FloatField(
        allow_null=True, help_text=_("Of the answered calls.")
    )


class ChannelFiguresOut(FiguresOut):
    channel = serializers.ChoiceField(choices=Channel.choices)


class DepartmentFiguresOut(FiguresOut):
    department = serializers.CharField(
        allow_null=True, help_text=_("Department code; null: calls without a known area.")
    )


class DailyFiguresOut(FiguresOut):
    day = serializers.DateField()
    median_first_response_minutes = None  # per day only sums and averages


class BacklogOut(serializers.Serializer):
    department = serializers.CharField(allow_null=True)
    total = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        for key, *_rest in kpis.BACKLOG_BUCKETS:
            fields[key] = serializers.IntegerField()
        return fields


class PeriodOut(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Inclusive."))


class StatsOut(serializers.Serializer):
    period = PeriodOut()
    channel = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    days_missing = serializers.IntegerField(
        help_text=_("Finished days of the period not rolled up yet (their figures are missing).")
    )
    totals = FiguresOut()
    by_channel = ChannelFiguresOut(many=True)
    by_department = DepartmentFiguresOut(many=True)
    daily = DailyFiguresOut(many=True)
    backlog = BacklogOut(
        many=True, help_text=_("Open tickets now by age and department (not the period).")
    )


class StatsView(APIView):
    """Support KPIs over a period: totals, per channel, per department, per day, and the
    backlog by age. Finished days come from the nightly roll-up, today live; a year costs
    the same few queries as a day."""

    schema = helpdesk_api.ScopedSchema()
    scopes = {"GET": "stats:read"}

    @extend_schema(
        operation_id="stats_retrieve",
        parameters=[StatsIn],
        responses={200: StatsOut, **helpdesk_api.ERRORS},
    )
    def get(self, request):
        """Support KPIs of a period (default: the last 30 days, today included): totals,
        per channel, per department and per day, and the backlog by age now. Medians and
        first responses are in business minutes of each ticket's SLA calendar. Signed-in
        users: management and team leads only."""
        if not isinstance(request.auth, ApiToken):
            permissions.ensure_can_see_kpis(request.user)
        data = StatsIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        report = kpis.kpi_report(
            start=data.validated_data["start"],
            end=data.validated_data["end"],
            channel=data.validated_data.get("channel", ""),
            department=data.validated_data.get("department"),
        )
        return Response(kpis.kpi_report_as_dict(report))


router = SimpleRouter()
router.register("sla-calendars", CalendarViewSet, basename="sla-calendar")
router.register("sla-policies", PolicyViewSet, basename="sla-policy")
urlpatterns = [*router.urls, path("stats/", StatsView.as_view(), name="stats")]
