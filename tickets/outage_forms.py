"""Forms of the workspace's outage pages.

Forms only read and shape input; what an outage may be (postal codes, services, the
expected end after the start, one resolution) is decided by `tickets.services.outages`,
whose `DomainError` the views put next to the field it names.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import ServiceKind
from tickets.choices import OUTAGE_ACTIVE, OutageStatus
from tickets.services import outages

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
ACTIVE_STATUSES = [
    (value, label) for value, label in OutageStatus.choices if value in OUTAGE_ACTIVE
]


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date and time picker; the value is local (Berlin) time."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


def _expected_end_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"invalid": _("Enter a date and time, e.g. 24.03.2026 18:00.")},
    )


def _text_field(label, *, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=outages.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": _("Write what customers and colleagues should know.")},
    )


class OutageDetailsForm(forms.Form):
    """What an outage is: title, description, services and area, expected end."""

    title = forms.CharField(
        label=_("Title"),
        max_length=outages.TITLE_MAX_LENGTH,
        error_messages={"required": _("Give the outage a title, e.g. “DSL outage Cologne-Porz”.")},
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=outages.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For colleagues: cause, what is affected, who is working on it."),
    )
    services = forms.MultipleChoiceField(
        label=_("Affected services"),
        choices=ServiceKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one affected service."),
            "invalid_choice": _("Unknown service: %(value)s."),
        },
    )
    area = forms.CharField(
        label=_("Affected postal codes"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono", "spellcheck": "false"}),
        help_text=_(
            "Five-digit postal codes and ranges, separated by commas, e.g. “51143-51149, 51061”."
        ),
        error_messages={"required": _("Enter at least one postal code or range.")},
    )
    expected_end_at = _expected_end_field(_("Expected end"))


class OutageCreateForm(OutageDetailsForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=ACTIVE_STATUSES,
        initial=OutageStatus.INVESTIGATING,
        error_messages={"invalid_choice": _("A new outage cannot be resolved already.")},
    )

    field_order = ["title", "services", "area", "status", "expected_end_at", "description"]


class OutageEditForm(OutageDetailsForm):
    """Correct the details; carries the version the agent saw (a stale edit is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    field_order = ["title", "services", "area", "expected_end_at", "description"]

    @classmethod
    def for_outage(cls, outage, **kwargs) -> "OutageEditForm":
        expected_end = outage.expected_end_at
        return cls(
            initial={
                "title": outage.title,
                "description": outage.description,
                "services": list(outage.services),
                "area": outage.area,
                "expected_end_at": timezone.localtime(expected_end).strftime(DATETIME_LOCAL)
                if expected_end
                else None,
                "version": outage.version,
            },
            **kwargs,
        )


class OutageUpdateForm(forms.Form):
    """Progress for colleagues and customers: a text, perhaps a new status or ETA."""

    text = _text_field(_("What is new"))
    status = forms.ChoiceField(
        label=_("Status"),
        choices=ACTIVE_STATUSES,
        error_messages={
            "invalid_choice": _("Choose a working status; resolve the outage with its own form.")
        },
    )
    expected_end_at = _expected_end_field(_("New expected end"))
    notify = forms.BooleanField(
        label=_("Notify the customers of the linked tickets"), required=False
    )


class OutageResolveForm(forms.Form):
    text = _text_field(_("What was the cause, what was done"))
