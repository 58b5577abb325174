"""The KPI filter (a GET form): period, channel and department, shared by page and CSV."""

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from escalation.selectors import kpis
from tickets.choices import Channel
from tickets.models import Department

# Without a period the report covers the last 30 days, today included.
DEFAULT_DAYS = 30


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def period_or_default(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The period asked for, a missing end being today (or the start, when that is later)
    and a missing start DEFAULT_DAYS before the end (the page, the CSV and the API alike)."""
    if end is None:
        end = today if start is None or start <= today else start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


@dataclass(frozen=True)
class QuickPeriod:
    key: str
    label: str
    start: date
    end: date


def quick_periods(today: date) -> list[QuickPeriod]:
    """The periods offered as one-click links above the filter."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        QuickPeriod("last-7-days", _("Last 7 days"), today - timedelta(days=6), today),
        QuickPeriod("last-30-days", _("Last 30 days"), *default_period(today)),
        QuickPeriod("this-month", _("This month"), first_of_month, today),
        QuickPeriod("last-month", _("Last month"), last_month_end.replace(day=1), last_month_end),
        QuickPeriod("this-year", _("This year"), today.replace(month=1, day=1), today),
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        # The browser's date picker sends and expects ISO dates, whatever the language.
        super().__init__(format="%Y-%m-%d", **kwargs)


class KpiFilterForm(forms.Form):
    """Empty dates fall back to the last 30 days; `cleaned_data["department"]` is the
    Department (or None), looked up in the list given, so the form costs no query."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To (inclusive)"), required=False, widget=DateInput())
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)

    def __init__(self, *args, departments: list[Department], today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.departments = {department.slug: department for department in departments}
        self.fields["channel"].choices = [("", _("All channels")), *Channel.choices]
        self.fields["department"].choices = [
            ("", _("All departments")),
            *((department.slug, department.name) for department in departments),
        ]
        default_start, default_end = default_period(today)
        self.fields["start"].widget.attrs["placeholder"] = default_start.isoformat()
        self.fields["end"].widget.attrs["placeholder"] = default_end.isoformat()

    def show_period(self) -> None:
        """Show the period reported in the date fields, also when it was left empty."""
        data = self.data.copy()
        data["start"] = self.cleaned_data["start"].isoformat()
        data["end"] = self.cleaned_data["end"].isoformat()
        self.data = data

    def clean_department(self) -> Department | None:
        slug = self.cleaned_data["department"]
        return self.departments[slug] if slug else None

    def clean(self):
        cleaned = super().clean()
        if self.has_error("start") or self.has_error("end"):
            return cleaned
        start, end = period_or_default(cleaned.get("start"), cleaned.get("end"), today=self.today)
        problem = kpis.period_check(start, end)
        if problem:
            self.add_error("end", problem)
        cleaned["start"], cleaned["end"] = start, end
        return cleaned
