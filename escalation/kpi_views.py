"""KPI pages for management and team leads: the report over a period and its CSV export.

Both read `escalation.selectors.kpis.kpi_report` (the nightly roll-up plus today live), so
a year costs the same few queries as a week. Bad filters show the form's message and no
report (400), never a report for some other period than the one asked for.
"""

import csv
from datetime import date, timedelta
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from escalation import charts, permissions
from escalation.kpi_forms import KpiFilterForm, quick_periods
from escalation.selectors import duration_label, kpis
from helpdesk import services as audit
from helpdesk.choices import AuditAction
from helpdesk.permissions import workspace_required
from tickets.choices import Channel
from tickets.models import Department

COUNT, PERCENT, MINUTES, SECONDS = "count", "percent", "minutes", "seconds"

# Every figure of a table row, CSV line and API slice (keys of `Figures.as_dict`).
COLUMNS = (
    ("received", gettext_lazy("Received"), COUNT),
    ("handled", gettext_lazy("Handled"), COUNT),
    ("first_contact_solved", gettext_lazy("Solved at first contact"), COUNT),
    ("first_contact_rate", gettext_lazy("First-contact rate"), PERCENT),
    ("responded", gettext_lazy("First answered"), COUNT),
    ("average_first_response_minutes", gettext_lazy("Avg. first response"), MINUTES),
    ("median_first_response_minutes", gettext_lazy("Median first response"), MINUTES),
    ("sla_breached", gettext_lazy("SLA breaches"), COUNT),
    ("sla_breach_rate", gettext_lazy("SLA breach rate"), PERCENT),
    ("calls", gettext_lazy("Calls"), COUNT),
    ("calls_answered", gettext_lazy("Calls answered"), COUNT),
    ("average_wait_seconds", gettext_lazy("Avg. wait on the phone"), SECONDS),
)
# One chart per figure over the period (daily sums give averages and rates, not medians).
CHARTS = (
    ("received", gettext_lazy("Tickets received"), COUNT),
    ("handled", gettext_lazy("Tickets handled"), COUNT),
    ("first_contact_rate", gettext_lazy("Solved at first contact"), PERCENT),
    ("average_first_response_minutes", gettext_lazy("Average first response"), MINUTES),
    ("sla_breach_rate", gettext_lazy("SLA breach rate"), PERCENT),
    ("calls", gettext_lazy("Calls"), COUNT),
    ("average_wait_seconds", gettext_lazy("Average wait on the phone"), SECONDS),
)
# Longer periods are charted per week: a bar per day would be thinner than a pixel line.
DAILY_CHART_MAX_DAYS = 92
CHART_SIZE = {"width": 360, "height": 150, "top": 16, "bottom": 124}
# CSV cells that spreadsheet programs would run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- Formatting --------------------------------------------------------------------------


def seconds_label(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    if minutes:
        return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}
    return _("%(seconds)d s") % {"seconds": rest}


def figure_text(kind: str, value) -> str:
    """A figure as people read it: "2 Std. 05 Min.", "12,5 %", "1 min 20 s"; "–" for none."""
    if value is None:
        return "–"
    if kind == PERCENT:
        return f"{formats.number_format(value, 1)} %"
    if kind == MINUTES:
        return duration_label(round(value))
    if kind == SECONDS:
        return seconds_label(value)
    return formats.number_format(value, 0, force_grouping=True)


def _cells(values: dict) -> list[dict]:
    return [
        {"key": key, "value": values[key], "text": figure_text(kind, values[key])}
        for key, _label, kind in COLUMNS
    ]


def _department_name(report: kpis.KpiReport, pk: int | None) -> str:
    if pk is None:
        return _("No department")
    department = report.departments.get(pk)
    return department.name if department else f"#{pk}"


def _department_order(report: kpis.KpiReport, pk: int | None) -> tuple:
    department = report.departments.get(pk)
    return (pk is None, department.position if department else 0, _department_name(report, pk))


def _channel_order(channel: str) -> int:
    return Channel.values.index(channel) if channel in Channel.values else len(Channel.values)


# --- The report as the page shows it -----------------------------------------------------


def _tiles(total: kpis.Figures) -> list[dict]:
    values = total.as_dict()
    tiles = [
        ("received", _("Received"), figure_text(COUNT, values["received"]), ""),
        ("handled", _("Handled"), figure_text(COUNT, values["handled"]), ""),
        (
            "first_contact_solved",
            _("Solved at first contact"),
            figure_text(COUNT, values["first_contact_solved"]),
            figure_text(PERCENT, values["first_contact_rate"]),
        ),
        (
            "average_first_response_minutes",
            _("First response (business hours)"),
            figure_text(MINUTES, values["average_first_response_minutes"]),
            _("median %(time)s")
            % {"time": figure_text(MINUTES, values["median_first_response_minutes"])},
        ),
        (
            "sla_breach_rate",
            _("SLA breach rate"),
            figure_text(PERCENT, values["sla_breach_rate"]),
            _("%(count)s breached") % {"count": values["sla_breached"]},
        ),
        (
            "calls",
            _("Calls"),
            figure_text(COUNT, values["calls"]),
            _("avg. wait %(time)s")
            % {"time": figure_text(SECONDS, values["average_wait_seconds"])},
        ),
    ]
    return [
        {"key": key, "label": label, "text": text, "detail": detail, "value": values[key]}
        for key, label, text, detail in tiles
    ]


def _channel_rows(report: kpis.KpiReport) -> list[dict]:
    return [
        {"key": channel, "label": Channel(channel).label, "cells": _cells(figures.as_dict())}
        for channel, figures in sorted(
            report.by_channel.items(), key=lambda item: _channel_order(item[0])
        )
    ]


def _department_rows(report: kpis.KpiReport) -> list[dict]:
    return [
        {
            "key": report.departments[pk].slug if pk in report.departments else "none",
            "label": _department_name(report, pk),
            "cells": _cells(figures.as_dict()),
        }
        for pk, figures in sorted(
            report.by_department.items(), key=lambda item: _department_order(report, item[0])
        )
    ]


def _backlog(report: kpis.KpiReport) -> dict:
    rows = sorted(report.backlog, key=lambda row: _department_order(report, row["department_id"]))
    totals = [sum(column) for column in zip(*(row["counts"] for row in rows), strict=True)]
    return {
        "buckets": [
            {"key": key, "label": label} for key, label, _low, _high in kpis.BACKLOG_BUCKETS
        ],
        "rows": [
            {
                "key": report.departments[row["department_id"]].slug
                if row["department_id"] in report.departments
                else "none",
                "label": _department_name(report, row["department_id"]),
                "counts": row["counts"],
                "total": row["total"],
            }
            for row in rows
        ],
        "totals": totals or [0] * len(kpis.BACKLOG_BUCKETS),
        "total": sum(row["total"] for row in rows),
    }


def _periods(report: kpis.KpiReport) -> tuple[str, list[tuple[date, date]]]:
    """The chart's slots: the days of the period, or its calendar weeks when it is long
    (the first and last week cut to the period)."""
    days = (report.end - report.start).days + 1
    if days <= DAILY_CHART_MAX_DAYS:
        return "day", [(day, day) for day in (report.start + timedelta(n) for n in range(days))]
    slots = []
    first = report.start
    while first <= report.end:
        last = min(first + timedelta(days=6 - first.weekday()), report.end)
        slots.append((first, last))
        first = last + timedelta(days=1)
    return "week", slots


def _charts(report: kpis.KpiReport, today: date) -> dict:
    unit, slots = _periods(report)
    sums = []
    for first, last in slots:
        if first > today:
            sums.append(None)  # not happened yet: no bar rather than a zero
            continue
        figures = kpis.Figures()
        day = first
        while day <= last:
            if day in report.by_day:
                figures.merge(report.by_day[day])
            day += timedelta(days=1)
        sums.append(figures.as_dict(median=False))
    drawn = []
    for key, title, kind in CHARTS:
        values = [None if slot is None else slot[key] for slot in sums]
        items = []
        for (first, last), value in zip(slots, values, strict=True):
            when = formats.date_format(first, "SHORT_DATE_FORMAT")
            if unit == "week":
                when = _("%(first)s–%(last)s") % {
                    "first": when,
                    "last": formats.date_format(last, "SHORT_DATE_FORMAT"),
                }
            shown = figure_text(kind, value) if value is not None else _("no figures")
            items.append({"first": first, "last": last, "tooltip": f"{when}: {shown}"})
        chart = charts.bar_chart(values, items=items, **CHART_SIZE)
        drawn.append(
            {
                **chart,
                "key": key,
                "title": title,
                "highest_text": figure_text(kind, chart["highest"]),
            }
        )
    return {"unit": unit, "charts": drawn, "first": slots[0][0], "last": slots[-1][1]}


# --- Views -------------------------------------------------------------------------------


def _filter_form(request) -> KpiFilterForm:
    departments = list(Department.objects.all())
    return KpiFilterForm(request.GET, departments=departments, today=timezone.localdate())


def _report(form: KpiFilterForm) -> kpis.KpiReport:
    data = form.cleaned_data
    return kpis.kpi_report(
        start=data["start"],
        end=data["end"],
        channel=data["channel"],
        department=data["department"],
    )


def _query(form: KpiFilterForm, **override) -> str:
    """The filter as a query string (from the cleaned values when valid)."""
    if form.is_valid():
        data = form.cleaned_data
        values = {
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "channel": data["channel"],
            "department": data["department"].slug if data["department"] else "",
        }
    else:
        values = {name: form.data.get(name, "") for name in form.fields}
    values.update(override)
    return urlencode({name: value for name, value in values.items() if value})


@workspace_required
@require_GET
def kpi_page(request):
    """The KPI report: tiles, tables per channel and department, backlog by age, charts."""
    permissions.ensure_can_see_kpis(request.user)
    form = _filter_form(request)
    today = timezone.localdate()
    filters = {
        "channel": form.data.get("channel", ""),
        "department": form.data.get("department", ""),
    }
    quick = [
        {
            "key": period.key,
            "label": period.label,
            "url": "?"
            + urlencode(
                {
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                    **{name: value for name, value in filters.items() if value},
                }
            ),
        }
        for period in quick_periods(today)
    ]
    context = {"form": form, "quick_periods": quick, "columns": COLUMNS}
    if not form.is_valid():
        return render(request, "escalation/kpis/page.html", context, status=400)
    report = _report(form)
    form.show_period()
    context.update(
        {
            "report": report,
            "channel_label": Channel(report.channel).label if report.channel else "",
            "tiles": _tiles(report.total),
            "channel_rows": _channel_rows(report),
            "department_rows": _department_rows(report),
            "total_cells": _cells(report.total.as_dict()),
            "backlog": _backlog(report),
            "charts": _charts(report, today),
            "csv_url": f"{reverse('management:kpis-csv')}?{_query(form)}",
        }
    )
    return render(request, "escalation/kpis/page.html", context)


def csv_value(value) -> str:
    """A cell for German (and Polish) Excel: decimal comma where the language has it,
    nothing empty-looking for missing figures, and no formula (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.1f}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))
    else:
        text = str(value)
    if text.startswith(FORMULA_START):
        text = f"'{text}"
    return text


def csv_filename(report: kpis.KpiReport) -> str:
    parts = ["kpis", report.start.isoformat(), report.end.isoformat()]
    if report.channel:
        parts.append(report.channel)
    if report.department:
        parts.append(report.department.slug)
    # Dates, a channel value and a slug: only letters, digits, hyphens and underscores.
    return "_".join(parts) + ".csv"


@workspace_required
@require_GET
def kpi_csv(request):
    """The figures per department and channel as CSV for spreadsheets.

    Semicolon-separated, UTF-8 with a byte-order mark and decimal commas in German and
    Polish: what Excel in those languages opens by double-click, umlauts included (a
    comma-separated file lands in one column there). Durations are plain numbers of
    business minutes and seconds so they can be summed. The API gives the same figures
    as JSON for programs.
    """
    permissions.ensure_can_see_kpis(request.user)
    form = _filter_form(request)
    if not form.is_valid():
        problems = [str(error) for errors in form.errors.values() for error in errors]
        return HttpResponse(
            "\n".join(problems), status=400, content_type="text/plain; charset=utf-8"
        )
    report = _report(form)
    audit.audit_record(
        action=AuditAction.EXPORTED,
        request=request,
        details={
            "export": "kpis",
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "channel": report.channel or "",
            "department": report.department.slug if report.department else "",
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(report)}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            csv_value(str(label))
            for label in (
                _("From"),
                _("To"),
                _("Department"),
                _("Department code"),
                _("Channel"),
                *(_csv_header(label, kind) for _key, label, kind in COLUMNS),
            )
        ]
    )
    pairs = sorted(
        report.by_pair.items(),
        key=lambda item: (_department_order(report, item[0][1]), _channel_order(item[0][0])),
    )
    for (channel, department_id), figures in pairs:
        values = figures.as_dict()
        department = report.departments.get(department_id)
        writer.writerow(
            [
                csv_value(value)
                for value in (
                    report.start.isoformat(),
                    report.end.isoformat(),
                    _department_name(report, department_id),
                    department.slug if department else "",
                    Channel(channel).label if channel in Channel.values else channel,
                    *(values[key] for key, _label, _kind in COLUMNS),
                )
            ]
        )
    return response


def _csv_header(label, kind: str) -> str:
    if kind == PERCENT:
        return _("%(figure)s (%%)") % {"figure": label}
    if kind == MINUTES:
        return _("%(figure)s (business minutes)") % {"figure": label}
    if kind == SECONDS:
        return _("%(figure)s (seconds)") % {"figure": label}
    return str(label)
