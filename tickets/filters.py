"""Query-string filters of the tickets API list (`GET /api/v1/tickets/?queue=3&status=active`).

A value that cannot mean anything (an unknown status, a queue that is not a number) is a
400 naming the parameter, not an empty list: an integration with a typo should hear so.
"""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tickets.choices import Priority, Status
from tickets.models import Ticket
from tickets.selectors import STATUS_GROUPS

# Larger numbers overflow the database's integer: a 400, not a 500.
MAX_ID = 2**63 - 1

# The API speaks priorities by name ("high"); the database stores numbers for sorting.
PRIORITY_BY_NAME: dict[str, int] = {choice.name.lower(): choice.value for choice in Priority}
PRIORITY_NAMES: dict[int, str] = {value: name for name, value in PRIORITY_BY_NAME.items()}


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class TicketFilterSet(django_filters.FilterSet):
    queue = IdFilter(field_name="queue_id", min_value=1, max_value=MAX_ID, help_text=_("Queue id."))
    status = django_filters.ChoiceFilter(
        choices=[(group, group) for group in STATUS_GROUPS] + list(Status.choices),
        method="filter_status",
        help_text=_("A status, or a group: “active” (not resolved or closed) or “done”."),
    )
    priority = django_filters.ChoiceFilter(
        choices=[(name, name) for name in PRIORITY_BY_NAME],
        method="filter_priority",
        help_text=_("Priority by name."),
    )
    support_area = django_filters.CharFilter(
        method="filter_support_area",
        validators=[RegexValidator(r"^[-a-zA-Z0-9_]{1,40}$")],
        help_text=_("Support area id or code (slug)."),
    )
    customer = django_filters.CharFilter(
        method="filter_customer", help_text=_("Customer number, e.g. K1234567.")
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        validators=[RegexValidator(r"^(none|[0-9]{1,18})$", _("Give a user id or “none”."))],
        help_text=_("User id, or “none” for unassigned tickets."),
    )
    reference = django_filters.CharFilter(
        field_name="reference", help_text=_("Ticket reference, e.g. 2026-004711.")
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_status(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        if value in STATUS_GROUPS:
            return tickets.filter(status__in=STATUS_GROUPS[value])
        return tickets.filter(status=value)

    def filter_priority(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        return tickets.filter(priority=PRIORITY_BY_NAME[value])

    def filter_support_area(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        if value.isdigit() and int(value) <= MAX_ID:
            return tickets.filter(support_area_id=int(value))
        return tickets.filter(support_area__slug=value)

    def filter_customer(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        return tickets.filter(customer__number=value.strip().upper())

    def filter_assignee(self, tickets: QuerySet, name: str, value: str) -> QuerySet:
        if value == "none":
            return tickets.filter(assignee=None)
        return tickets.filter(assignee_id=int(value))
