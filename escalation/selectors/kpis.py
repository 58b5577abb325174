"""KPIs over a period, per channel and department, read from the nightly roll-up.

A year is a few thousand `KpiDay` rows whatever the number of tickets: one query reads
them, sums happen in Python, and the exact median first response comes from merging the
rows' minute histograms (per channel x department first, each pair's stored histograms
decoded in one go, so each row is merged once).
Today is not rolled up yet; a period that includes it adds today's figures computed live
from one day of tickets.
"""

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, IntegerField, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalation.models import KpiDay
from tickets.choices import OPEN_STATUSES, Channel
from tickets.models import Department, Ticket

# Longest period a report may cover (a KPI page, the CSV and the API alike).
MAX_PERIOD_DAYS = 731

# Age of open tickets: (label, from days, below days).
BACKLOG_BUCKETS = (
    ("under_1_day", _("under 1 day"), 0, 1),
    ("1_to_3_days", _("1–3 days"), 1, 3),
    ("3_to_7_days", _("3–7 days"), 3, 7),
    ("7_to_30_days", _("7–30 days"), 7, 30),
    ("over_30_days", _("over 30 days"), 30, None),
)

SUMS = (
    "received",
    "handled",
    "first_contact_solved",
    "breached",
    "responded",
    "response_minutes_sum",
    "calls",
    "calls_answered",
    "wait_seconds_sum",
)


def _median(histogram: dict[int, int], count: int) -> float | None:
    """The median of the values a {value: how often} histogram holds (exact)."""
    if not count:
        return None
    lower, upper = (count - 1) // 2, count // 2  # the middle one or two positions
    seen, low_value = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low_value is None and seen > lower:
            low_value = value
        if seen > upper:
            return (low_value + value) / 2
    return None


@dataclass
class Figures:
    """The figures of one slice (the whole period, a channel, a department or a day)."""

    received: int = 0
    handled: int = 0
    first_contact_solved: int = 0
    breached: int = 0
    responded: int = 0
    response_minutes_sum: int = 0
    calls: int = 0
    calls_answered: int = 0
    wait_seconds_sum: int = 0
    histogram: dict = field(default_factory=lambda: defaultdict(int), repr=False)

    def add(self, row: dict, *, histogram: bool = True) -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + row[name])
        if histogram:
            for minutes, count in row["response_minutes"].items():
                self.histogram[int(minutes)] += count

    def merge(self, other: "Figures") -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for minutes, count in other.histogram.items():
            self.histogram[minutes] += count

    @property
    def first_contact_rate(self) -> float | None:
        return round(100 * self.first_contact_solved / self.handled, 1) if self.handled else None

    @property
    def breach_rate(self) -> float | None:
        return round(100 * self.breached / self.handled, 1) if self.handled else None

    @property
    def average_response_minutes(self) -> float | None:
        return round(self.response_minutes_sum / self.responded, 1) if self.responded else None

    @property
    def median_response_minutes(self) -> float | None:
        return _median(self.histogram, self.responded) if self.histogram else None

    @property
    def average_wait_seconds(self) -> float | None:
        return (
            round(self.wait_seconds_sum / self.calls_answered, 1) if self.calls_answered else None
        )

    def as_dict(self, *, median: bool = True) -> dict:
        out = {
            "received": self.received,
            "handled": self.handled,
            "first_contact_solved": self.first_contact_solved,
            "first_contact_rate": self.first_contact_rate,
            "responded": self.responded,
            "average_first_response_minutes": self.average_response_minutes,
            "sla_breached": self.breached,
            "sla_breach_rate": self.breach_rate,
            "calls": self.calls,
            "calls_answered": self.calls_answered,
            "average_wait_seconds": self.average_wait_seconds,
        }
        if median:
            out["median_first_response_minutes"] = self.median_response_minutes
        return out


@dataclass
class KpiReport:
    start: date
    end: date  # inclusive
    channel: str
    department: Department | None
    total: Figures
    by_channel: dict[str, Figures]
    by_department: dict[int | None, Figures]
    by_pair: dict[tuple[str, int | None], Figures]
    by_day: dict[date, Figures]  # sums only, no medians (charts show averages per day)
    departments: dict[int, Department]
    backlog: list[dict]
    days_missing: int
    includes_today: bool


def period_check(start: date, end: date) -> str | None:
    """Why this period cannot be reported (None: it can)."""
    if end < start:
        return str(_("The end of the period is before its start."))
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return str(_("Choose a period of at most %(days)d days.") % {"days": MAX_PERIOD_DAYS})
    return None


def backlog_by_age(*, now: datetime, channel: str = "", department_id: int | None = None):
    """Open tickets now by age, per department (one query on the active-ticket index)."""
    tickets = Ticket.objects.filter(status__in=sorted(OPEN_STATUSES))
    if channel:
        tickets = tickets.filter(channel=channel)
    if department_id:
        tickets = tickets.filter(queue__department_id=department_id)
    whens = []
    for index, (_key, _label, _low, high) in enumerate(BACKLOG_BUCKETS):
        if high is not None:
            whens.append(When(created_at__gt=now - timedelta(days=high), then=Value(index)))
    bucket = Case(*whens, default=Value(len(BACKLOG_BUCKETS) - 1), output_field=IntegerField())
    rows = (
        tickets.annotate(bucket=bucket)
        .values_list("queue__department", "bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(BACKLOG_BUCKETS))
    for department, index, n in rows:
        counts[department][index] += n
    return [
        {"department_id": department, "counts": values, "total": sum(values)}
        for department, values in counts.items()
    ]


def _days_missing(start: date, end: date, now: datetime) -> int:
    """Finished days of the period with tickets or calls but no roll-up yet."""
    from escalation.services import kpis as rollup  # services import selectors

    today = timezone.localdate(now)
    if start >= today:
        return 0
    missing = rollup.kpi_days_missing(now=now, lookback=(today - start).days)
    return sum(1 for day in missing if start <= day <= end)


def _rows(start: date, end: date, channel: str, department_id: int | None):
    """(day, channel, department id, *SUMS, histogram as stored JSON text) per row. The
    text is decoded later, once per channel x department: a year holds some 500,000
    histogram entries at a million tickets, and decoding them row by row through the
    ORM was most of a report's time."""
    rows = KpiDay.objects.filter(day__gte=start, day__lte=end)
    if channel:
        rows = rows.filter(channel=channel)
    if department_id:
        rows = rows.filter(department_id=department_id)
    return rows.annotate(histogram_text=Cast("response_minutes", TextField())).values_list(
        "day", "channel", "department_id", *SUMS, "histogram_text"
    )


def _today_rows(today: date, channel: str, department_id: int | None):
    """Today's figures computed live, as (day, channel, department id, *SUMS, histogram)."""
    from escalation.services import kpis as rollup  # services import selectors

    for (row_channel, department), figures in rollup.kpi_day_compute(today).items():
        if channel and row_channel != channel:
            continue
        if department_id and department != department_id:
            continue
        yield (
            today,
            row_channel,
            department,
            *(figures[name] for name in SUMS),
            figures["response_minutes"],
        )


def _histogram(texts: list[str], extra: list[dict]) -> defaultdict:
    """Merge stored histograms (JSON texts, one decode for all) and live ones."""
    merged: dict = {}
    get = merged.get
    for histogram in json.loads("[" + ",".join(texts) + "]") if texts else ():
        for minutes, count in histogram.items():
            merged[minutes] = get(minutes, 0) + count
    result: defaultdict = defaultdict(int)
    for minutes, count in merged.items():
        result[int(minutes)] += count
    for histogram in extra:
        for minutes, count in histogram.items():
            result[int(minutes)] += count
    return result


def kpi_report(
    *,
    start: date,
    end: date,
    channel: str = "",
    department: Department | None = None,
    now: datetime | None = None,
) -> KpiReport:
    """The KPIs of [start, end] (local days, inclusive), optionally one channel or one
    department: a fixed number of queries whatever the period or the number of tickets."""
    now = now or timezone.now()
    problem = period_check(start, end)
    if problem:
        raise ValueError(problem)
    if channel and channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    today = timezone.localdate(now)
    department_id = department.pk if department else None
    width = len(SUMS)
    pair_sums: dict[tuple[str, int | None], list[int]] = defaultdict(lambda: [0] * width)
    day_sums: dict[date, list[int]] = defaultdict(lambda: [0] * width)
    texts: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    live: dict[tuple[str, int | None], list[dict]] = defaultdict(list)
    includes_today = start <= today <= end
    rows = _rows(start, min(end, today - timedelta(days=1)), channel, department_id)
    for day, row_channel, row_department, *values, histogram in itertools.chain(
        rows, _today_rows(today, channel, department_id) if includes_today else ()
    ):
        key = (row_channel, row_department)
        pair, daily = pair_sums[key], day_sums[day]
        for index, value in enumerate(values):
            pair[index] += value
            daily[index] += value
        if isinstance(histogram, str):
            texts[key].append(histogram)
        else:
            live[key].append(histogram)

    by_pair = {
        key: Figures(
            **dict(zip(SUMS, sums, strict=True)), histogram=_histogram(texts[key], live[key])
        )
        for key, sums in pair_sums.items()
    }
    by_day = {day: Figures(**dict(zip(SUMS, sums, strict=True))) for day, sums in day_sums.items()}
    total = Figures()
    by_channel: dict[str, Figures] = defaultdict(Figures)
    by_department: dict[int | None, Figures] = defaultdict(Figures)
    for (row_channel, row_department), figures in by_pair.items():
        total.merge(figures)
        by_channel[row_channel].merge(figures)
        by_department[row_department].merge(figures)

    return KpiReport(
        start=start,
        end=end,
        channel=channel,
        department=department,
        total=total,
        by_channel=dict(by_channel),
        by_department=dict(by_department),
        by_pair=dict(by_pair),
        by_day=dict(sorted(by_day.items())),
        departments={d.pk: d for d in Department.objects.all()},
        backlog=backlog_by_age(now=now, channel=channel, department_id=department_id),
        days_missing=_days_missing(start, end, now),
        includes_today=includes_today,
    )


def kpi_report_as_dict(report: KpiReport) -> dict:
    """The report as the API and tests read it (plain JSON types)."""

    def name(pk):
        return report.departments[pk].slug if pk in report.departments else None

    return {
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "channel": report.channel or None,
        "department": report.department.slug if report.department else None,
        "days_missing": report.days_missing,
        "totals": report.total.as_dict(),
        "by_channel": [
            {"channel": channel, **figures.as_dict()}
            for channel, figures in sorted(report.by_channel.items())
        ],
        "by_department": [
            {"department": name(pk), **figures.as_dict()}
            for pk, figures in sorted(
                report.by_department.items(), key=lambda i: (i[0] is None, i[0] or 0)
            )
        ],
        "daily": [
            {"day": day.isoformat(), **figures.as_dict(median=False)}
            for day, figures in report.by_day.items()
        ],
        "backlog": [
            {
                "department": name(row["department_id"]),
                **{
                    key: count
                    for (key, *_rest), count in zip(BACKLOG_BUCKETS, row["counts"], strict=True)
                },
                "total": row["total"],
            }
            for row in report.backlog
        ],
    }
