"""Customers API under /api/v1/: search and read customers, verify callers, report lines.

Serializers are input/output only (STYLE R8); nothing here ever reads a private
credential or a phone-password hash.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from customers import permissions, selectors, services
from customers.choices import LineState, VerificationChannel
from customers.forms import SPOKEN_MAX_LENGTH
from customers.models import Connection, Contract, Customer, Invoice
from helpdesk.models import ApiToken


class CustomerOut(serializers.ModelSerializer):
    phones = serializers.SerializerMethodField()
    has_phone_password = serializers.BooleanField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "number",
            "first_name",
            "last_name",
            "company",
            "street",
            "postal_code",
            "city",
            "email",
            "language",
            "segment",
            "phones",
            "has_phone_password",
        ]

    def get_phones(self, customer) -> list[str]:
        return [phone.number for phone in customer.phones.all()]


class ContractOut(serializers.ModelSerializer):
    product = serializers.CharField(source="product.name")
    minimum_term_end = serializers.DateField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "product",
            "start_date",
            "minimum_term_months",
            "minimum_term_end",
            "notice_period_months",
            "monthly_price",
            "status",
            "end_date",
        ]


class InvoiceOut(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ["id", "number", "issued_on", "due_on", "amount", "status"]


class VerifyIn(serializers.Serializer):
    phone_password = serializers.CharField(max_length=SPOKEN_MAX_LENGTH, trim_whitespace=False)
    ticket_reference = serializers.CharField(max_length=20, required=False, default="")


class VerifyOut(serializers.Serializer):
    verified = serializers.BooleanField()
    result = serializers.CharField()
    attempts_left = serializers.IntegerField()
    locked_until = serializers.DateTimeField(allow_null=True)
    verified_until = serializers.DateTimeField(allow_null=True)


class ConnectionStateIn(serializers.Serializer):
    state = serializers.ChoiceField(choices=LineState.choices, required=False)
    last_sync_at = serializers.DateTimeField(required=False)
    sync_drops_24h = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class ConnectionOut(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.number")

    class Meta:
        model = Connection
        fields = [
            "id",
            "customer",
            "kind",
            "identifier",
            "state",
            "last_sync_at",
            "sync_drops_24h",
            "state_reported_at",
        ]


@extend_schema(
    parameters=[OpenApiParameter("q", str, description="Number, name, postal code, phone, e-mail")]
)
class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers for agents and integrations; search with `?q=`."""

    serializer_class = CustomerOut
    lookup_field = "number"
    scopes = {
        "list": "customers:read",
        "retrieve": "customers:read",
        "contracts": "customers:read",
        "invoices": "customers:read",
        "verify_phone_password": "customers:verify",
    }

    def get_queryset(self):
        rows = permissions.customers_visible_to(self.request.user).prefetch_related("phones")
        query = self.request.query_params.get("q", "")
        if self.action == "list" and query:
            condition = selectors.search_filter(query)
            rows = rows.filter(condition) if condition is not None else rows.none()
        return rows

    def _customer(self) -> Customer:
        return permissions.customer_for(self.request.user, self.kwargs["number"])

    @extend_schema(responses=ContractOut(many=True))
    @action(detail=True, methods=["get"])
    def contracts(self, request, number=None):
        rows = selectors.contracts_of(customer=self._customer())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ContractOut(page, many=True).data)

    @extend_schema(responses=InvoiceOut(many=True))
    @action(detail=True, methods=["get"])
    def invoices(self, request, number=None):
        rows = selectors.invoices_of(customer=self._customer())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(InvoiceOut(page, many=True).data)

    @extend_schema(request=VerifyIn, responses=VerifyOut)
    @action(detail=True, methods=["post"], url_path="verify-phone-password")
    def verify_phone_password(self, request, number=None):
        """Check a phone password (agents, or the phone system's IVR); same lock rules."""
        data = VerifyIn(data=request.data)
        data.is_valid(raise_exception=True)
        customer = permissions.customers_visible_to(request.user).filter(number=number).first()
        via_token = isinstance(request.auth, ApiToken)
        if customer is None:
            services.phone_password_check_unknown_customer(
                spoken=data.validated_data["phone_password"],
                number=number,
                actor=request.user,
                channel=VerificationChannel.IVR if via_token else VerificationChannel.AGENT,
            )
            raise NotFound
        state = services.phone_password_verify(
            customer=customer,
            spoken=data.validated_data["phone_password"],
            agent=None if via_token else request.user,
            channel=VerificationChannel.IVR if via_token else VerificationChannel.AGENT,
            ticket_reference=data.validated_data["ticket_reference"],
            now=timezone.now(),
        )
        return Response(
            VerifyOut(
                {
                    "verified": state.verified,
                    "result": state.result,
                    "attempts_left": state.attempts_left,
                    "locked_until": state.locked_until,
                    "verified_until": state.verified_until,
                }
            ).data
        )


class ConnectionViewSet(mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Network monitoring reports a line's state: `PATCH /api/v1/connections/{id}/`."""

    serializer_class = ConnectionOut
    http_method_names = ["patch"]
    scopes = {"partial_update": "connections:write"}

    def get_queryset(self):
        return Connection.objects.select_related("customer")

    @extend_schema(request=ConnectionStateIn, responses=ConnectionOut)
    def partial_update(self, request, pk=None):
        permissions.ensure_can_report_line_state(request.user)
        connection = permissions.connection_for(request.user, int(pk) if pk.isdigit() else 0)
        data = ConnectionStateIn(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_state_report(
            connection=connection, actor=request.user, **data.validated_data
        )
        return Response(ConnectionOut(connection).data)


router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("connections", ConnectionViewSet, basename="connection")
urlpatterns = router.urls
