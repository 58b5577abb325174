"""Admin forms of the escalation app.

Calendars and policies are checked by the same service functions the API uses, so the
admin and the API refuse the same input with the same message.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from escalation import services
from escalation.models import BusinessCalendar, ClosedDay, OpeningHours, SlaPolicy

# The inline formsets of one calendar page register here, on the calendar being edited,
# so the hours formset can judge the week together with the closed days sent with it.
FORMSETS_ATTRIBUTE = "_submitted_formsets"


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ["name", "slug", "time_zone", "holiday_country", "holiday_subdivision"]

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        problem = services.time_zone_problem(name)
        if problem:
            raise ValidationError(problem, code="time_zone")
        return name

    def clean_holiday_country(self) -> str:
        return self.cleaned_data["holiday_country"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        if "holiday_country" in cleaned and "holiday_subdivision" in cleaned:
            problems = services.holidays_problems(
                cleaned["holiday_country"], cleaned["holiday_subdivision"]
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return cleaned


class OpeningHoursForm(forms.ModelForm):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens"), cleaned.get("closes")
        if opens is not None and closes is not None:
            # One row alone can only be inside out; the formset checks overlaps.
            problem = services.opening_hours_problem([(0, opens, closes)])
            if problem:
                self.add_error("closes", problem)
        return cleaned


class CalendarPartFormSet(forms.BaseInlineFormSet):
    """An inline of the calendar page that the other inlines can find and read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.__dict__.setdefault(FORMSETS_ATTRIBUTE, {})[self.model] = self

    def kept_forms(self) -> list[forms.ModelForm]:
        """The rows the calendar will have after saving: filled in and not deleted."""
        return [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]


class ClosedDayFormSet(CalendarPartFormSet):
    pass


class OpeningHoursFormSet(CalendarPartFormSet):
    """The week: not empty, no overlaps, and some open time within a year."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [
            (form.cleaned_data["weekday"], form.cleaned_data["opens"], form.cleaned_data["closes"])
            for form in self.kept_forms()
        ]
        problem = services.opening_hours_problem(rows)
        if problem:
            raise ValidationError(problem, code="hours")
        closed_days = self._closed_days()
        if closed_days is None:
            return
        calendar = self.instance
        problems = services.calendar_problems(
            time_zone=calendar.time_zone,
            holiday_country=calendar.holiday_country,
            holiday_subdivision=calendar.holiday_subdivision,
            hours=rows,
            closed_days=closed_days,
            now=timezone.now(),
        )
        # A bad time zone or holiday country is the calendar form's error, shown there.
        if None in problems:
            raise ValidationError(problems[None], code="no_open_time")

    def _closed_days(self) -> list | None:
        """The closed days as they will be saved; None while they have errors of their own."""
        others = self.instance.__dict__.get(FORMSETS_ATTRIBUTE, {})
        closed = others.get(ClosedDay)
        if closed is None:  # not edited on this page
            if self.instance.pk is None:
                return []
            return list(self.instance.closed_days.values_list("date", flat=True))
        if not closed.is_valid():
            return None
        return [form.cleaned_data["date"] for form in closed.kept_forms()]


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = list(services.POLICY_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service's message says what a target or warning must be; the model field's
        # own "at least 0" would say less (0 is refused too).
        for name in (*services.POLICY_TARGETS, "warning_percent"):
            if name in self.fields:
                field = self.fields[name]
                field.validators = [
                    validator
                    for validator in field.validators
                    if not isinstance(validator, MinValueValidator | MaxValueValidator)
                ]
                field.widget.attrs["min"] = 1
        if "warning_percent" in self.fields:
            self.fields["warning_percent"].widget.attrs["max"] = 99

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned[name] for name in services.POLICY_FIELDS if name in cleaned}
        # self.instance is still the row as stored: the form copies its values onto it
        # only after clean().
        problems = services.policy_problems(policy=self.instance, values=values)
        for field, message in problems.items():
            if field is None or (field in self.fields and field not in self.errors):
                self.add_error(field, message)
        return cleaned
