"""Forms of the technician visit pages: input only; `tickets.services.visits` decides.

The services check every rule again (full window, window begun, customer outside the
region, technician of another region), so a form only shapes what was typed and the
views put the service's reason next to the field it names.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.choices import MissedReason
from tickets.models import Technician, VisitRegion, VisitWindow
from tickets.services.visits import NOTE_MAX_LENGTH

FILL_DAYS_MAX = 60


def _window_field() -> forms.ModelChoiceField:
    # Any window is accepted here: whether it is free, ahead and in the customer's region
    # is the service's question, which answers it clearly (and at the moment of booking).
    return forms.ModelChoiceField(
        label=_("Time window"),
        queryset=VisitWindow.objects.select_related("region"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a time window."),
            "invalid_choice": _("This window no longer exists; choose another one."),
        },
    )


def _text_field(label, *, required_message=None, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required_message is not None,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": NOTE_MAX_LENGTH}),
        error_messages={"required": required_message} if required_message else {},
    )


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class BookForm(forms.Form):
    """Book a visit for a tech ticket while the customer is on the phone."""

    window = _window_field()
    technician = forms.ModelChoiceField(
        label=_("Technician"),
        queryset=Technician.objects.filter(is_active=True),
        required=False,
        empty_label=_("Not yet: the dispatcher assigns one"),
        error_messages={"invalid_choice": _("This technician is not available any more.")},
    )
    note = _text_field(_("Note for the technician"))
    confirmed = forms.BooleanField(
        label=_("The customer agreed on the phone"),
        required=False,
        help_text=_(
            "Without the customer's agreement the visit is proposed: the customer confirms "
            "it in the customer portal."
        ),
    )
    rebooking_of = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, technicians=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Offer the region's technicians only; any active one validates, and the service
        # refuses one from another region with its own message.
        field = self.fields["technician"]
        field.widget.choices = [("", field.empty_label)] + [
            (technician.pk, str(technician)) for technician in technicians
        ]


class RescheduleForm(forms.Form):
    """Move a visit to another window (the customer agreed on the phone)."""

    window = _window_field()
    version = _version_field()


class CancelForm(forms.Form):
    reason = _text_field(_("Reason (for the history)"), rows=2)
    version = _version_field()


class DoneForm(forms.Form):
    outcome = _text_field(_("What was done"), rows=2)
    version = _version_field()


class MissedForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why"),
        choices=[("", _("Choose a reason")), *MissedReason.choices],
        error_messages={
            "required": _("Say why the visit was missed."),
            "invalid_choice": _("Say why the visit was missed."),
        },
    )
    note = _text_field(_("Note"), rows=2)
    version = _version_field()


class TechnicianForm(forms.Form):
    technician = forms.ModelChoiceField(
        label=_("Technician"),
        queryset=Technician.objects.filter(is_active=True),
        required=False,
        error_messages={"invalid_choice": _("This technician is not available any more.")},
    )


class WindowForm(forms.Form):
    """A new time window: region, day, from, until, capacity."""

    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=VisitRegion.objects.filter(is_active=True),
        error_messages={
            "required": _("Choose a region."),
            "invalid_choice": _("Choose a region."),
        },
    )
    date = forms.DateField(
        label=_("Day"),
        error_messages={"required": _("Enter a day."), "invalid": _("Enter a valid day.")},
    )
    starts = forms.TimeField(
        label=_("From"),
        error_messages={"required": _("Enter a start time."), "invalid": _("Enter a time.")},
    )
    ends = forms.TimeField(
        label=_("Until"),
        error_messages={"required": _("Enter an end time."), "invalid": _("Enter a time.")},
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        error_messages={
            "required": _("Enter how many visits fit."),
            "invalid": _("Enter a whole number."),
        },
    )


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(
        label=_("Capacity"),
        error_messages={
            "required": _("Enter how many visits fit."),
            "invalid": _("Enter a whole number."),
        },
    )


class FillForm(forms.Form):
    """Open the regions' standard windows for the next days."""

    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=VisitRegion.objects.filter(is_active=True),
        required=False,
        error_messages={"invalid_choice": _("Choose a region.")},
    )
    days = forms.IntegerField(
        label=_("Days ahead"),
        min_value=1,
        max_value=FILL_DAYS_MAX,
        error_messages={
            "required": _("Enter how many days ahead."),
            "invalid": _("Enter a whole number."),
            "min_value": _("At least one day."),
            "max_value": _("At most %(limit_value)s days."),
        },
    )


class DayForm(forms.Form):
    """The day plan's filter (GET): a day and optionally one region."""

    day = forms.DateField(required=False)
    region = forms.ModelChoiceField(
        queryset=VisitRegion.objects.filter(is_active=True), required=False
    )


# --- Portal ---------------------------------------------------------------------------------


class PortalCancelForm(forms.Form):
    reason = _text_field(_("Why? (optional)"), rows=2)


class PortalMoveForm(forms.Form):
    text = _text_field(
        _("When would suit you better?"),
        required_message=_("Please tell us when it would suit you better."),
        rows=3,
    )
