"""Read queries of the feature_requests app, used by pages and the API.

Lists sort on the counts the services keep (`ask_count`, `customer_count`, `last_ask_at`),
each with its own index, so a page costs the same at 100,000 requests as at ten.

"Find before you file" (`similar_requests`) ranks on PostgreSQL by full-text match
(German and English stems, generated column `search`) plus trigram word similarity of the
title (typos, compound words); both are indexed (migration 0002). SQLite, the embedded
default, matches words in title and description instead.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Case, Count, FloatField, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek
from django.utils import timezone

from feature_requests import permissions
from feature_requests.choices import DEPARTMENT_QUEUE, QM_QUEUE, Ordering, Status
from feature_requests.models import Ask, FeatureRequest, FeatureRequestEvent
from helpdesk.choices import Role

PAGE_SIZE = 25
ASKS_PAGE_SIZE = 20
SUGGESTIONS = 6
CHART_WEEKS = 26
SOURCE_TICKETS = 20
WORDS_MAX = 12
WORD_RE = re.compile(r"\w{2,}")

ORDERINGS = {
    Ordering.ASKS: ("-ask_count", "-id"),
    Ordering.CUSTOMERS: ("-customer_count", "-id"),
    Ordering.RECENT: ("-last_ask_at", "-id"),
    Ordering.NEWEST: ("-created_at", "-id"),
    Ordering.STATUS: ("status_rank", "-ask_count", "-id"),
}
# The workflow's order, for sorting by status (not the alphabet of the stored values).
STATUS_RANK = Case(
    *(When(status=status, then=Value(rank)) for rank, status in enumerate(Status.values)),
    output_field=IntegerField(),
)


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(WORD_RE.findall((text or "").lower())))[:WORDS_MAX]


def _search(queryset, text: str, *, ranked: bool):
    """Requests matching the text; with `ranked`, annotated with `score` (higher is closer)."""
    words = _words(text)
    if not words:
        queryset = queryset.none()
        return (
            queryset.annotate(score=Value(0.0, output_field=FloatField())) if ranked else queryset
        )
    if connection.vendor == "postgresql":
        return _search_postgresql(queryset, words, ranked=ranked)
    # SQLite: any word in the title or description; title words weigh double. Short words
    # ("in", "an") would match nearly everything without stemming and stop words.
    words = [word for word in words if len(word) > 2] or words
    match = Q()
    score = Value(0, output_field=IntegerField())
    for word in words:
        match |= Q(title__icontains=word) | Q(description__icontains=word)
        score = score + Case(
            When(title__icontains=word, then=Value(2)),
            When(description__icontains=word, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    queryset = queryset.filter(match)
    return queryset.annotate(score=score) if ranked else queryset


# Any word may match (OR), by its German or its English stem, unless it is a stop word in
# either language: OR-ing both stemmers would otherwise let "bei" or "the" match half the
# table through the other language's half of the `search` column. Only this fixed SQL is
# formatted into the statement; the words are parameters.
_TSQUERY_WORD = (
    "CASE WHEN numnode(plainto_tsquery('german', %s)) = 0"
    " OR numnode(plainto_tsquery('english', %s)) = 0 THEN ''::tsquery"
    " ELSE plainto_tsquery('german', %s) || plainto_tsquery('english', %s) END"
)
# Ranking costs per row, so only a bounded set is ranked: the most-asked matches (what a
# customer most likely means) and the newest ones (a duplicate filed yesterday has one ask).
RANK_MOST_ASKED = 300
RANK_NEWEST = 30


def _search_postgresql(queryset, words: list[str], *, ranked: bool):
    tsquery = " || ".join([_TSQUERY_WORD] * len(words))
    ts_params = [word for word in words for _four in range(4)]
    phrase = " ".join(words)
    match = RawSQL(  # noqa: S611 - words are parameters
        f"(search @@ ({tsquery}) OR %s <%% title)",
        [*ts_params, phrase],
        output_field=BooleanField(),
    )
    matches = queryset.filter(match)
    if not ranked:
        return matches
    score = RawSQL(  # noqa: S611
        f"(ts_rank(search, ({tsquery}), 32) + word_similarity(%s, title))",
        [*ts_params, phrase],
        output_field=FloatField(),
    )
    return queryset.filter(pk__in=_candidates(matches)).annotate(score=score)


def _candidates(matches) -> list[int]:
    """The ids worth ranking among the matches (one query). The matches are read once, by
    their indexes (MATERIALIZED); as a subquery with ORDER BY … LIMIT, PostgreSQL would walk
    the sort index instead and test the match row by row."""
    inner, params = matches.order_by().values_list("pk", "ask_count").query.sql_with_params()
    sql = (
        f"WITH m (id, asks) AS MATERIALIZED ({inner}) "  # noqa: S608 - compiled by Django
        f"(SELECT id FROM m ORDER BY asks DESC, id DESC LIMIT {RANK_MOST_ASKED}) "
        f"UNION (SELECT id FROM m ORDER BY id DESC LIMIT {RANK_NEWEST})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def feature_request_list(*, user, filters: dict, page=None) -> Page:
    """One page of requests: filtered by status, department, review queue and text, sorted
    by the chosen count (most asks first by default)."""
    return Paginator(feature_request_rows(user=user, filters=filters), PAGE_SIZE).get_page(page)


def similar_requests(*, user, text: str, exclude: int | None = None, limit: int = SUGGESTIONS):
    """The existing requests closest to a title being typed, rejected and done included
    (their status and reason are the answer for the customer), merged ones left out."""
    requests = permissions.requests_visible_to(user).exclude(status=Status.MERGED)
    if exclude:
        requests = requests.exclude(pk=exclude)
    requests = _search(requests, text, ranked=True)
    return list(requests.order_by("-score", "-ask_count", "-id")[:limit])


def review_queue_counts(*, user) -> dict[str, int]:
    """How many requests wait in the user's review queues: a count per queue the user has,
    each an index-only scan (one query with an OR would read the table instead)."""
    counts = {"qm": 0, "department": 0}
    if permissions.is_quality_management(user):
        counts["qm"] = FeatureRequest.objects.filter(status__in=QM_QUEUE).count()
    departments = permissions.reviewed_departments(user)
    if departments:
        counts["department"] = FeatureRequest.objects.filter(
            status__in=DEPARTMENT_QUEUE, department__in=departments
        ).count()
    return counts


def feature_request_detail(*, user, request_id: int) -> FeatureRequest:
    """The request with the people named on its page (one query); 404 as in permissions."""
    people = FeatureRequest.objects.select_related("created_by", "decided_by", "merged_into")
    return permissions.feature_request_for(user, request_id, queryset=people)


def event_list(*, request: FeatureRequest) -> list[FeatureRequestEvent]:
    return list(
        FeatureRequestEvent.objects.filter(request=request)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def ask_list(*, request: FeatureRequest, page=None) -> Page:
    """The request's asks, newest first, with customer, ticket and recorder (one query a page)."""
    asks = (
        Ask.objects.filter(request=request)
        .select_related("customer", "ticket", "recorded_by", "moved_from")
        .order_by("-created_at", "-id")
    )
    return Paginator(asks, ASKS_PAGE_SIZE).get_page(page)


def asks_per_week(
    *, request: FeatureRequest, now: datetime | None = None, weeks: int = CHART_WEEKS
):
    """Asks per calendar week (Berlin time) over the last `weeks` weeks, empty weeks as 0."""
    now = timezone.localtime(now or timezone.now())
    zone = timezone.get_current_timezone()
    this_week = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first = this_week - timedelta(weeks=weeks - 1)
    rows = (
        Ask.objects.filter(request=request, created_at__gte=first)
        .annotate(week=TruncWeek("created_at", tzinfo=zone))
        .values("week")
        .annotate(asks=Count("id"))
        .order_by("week")
    )
    counts = {timezone.localtime(row["week"]).date(): row["asks"] for row in rows}
    return [
        {"week": day, "asks": counts.get(day, 0)}
        for day in ((first + timedelta(weeks=n)).date() for n in range(weeks))
    ]


def source_tickets(*, user, request: FeatureRequest, limit: int = SOURCE_TICKETS):
    """The tickets the asks came from, newest first; only those the user may open are links."""
    from tickets import permissions as tickets_permissions

    asks = (
        Ask.objects.filter(request=request, ticket__isnull=False)
        .select_related("ticket__customer", "ticket__queue")
        .order_by("-created_at", "-id")
    )
    tickets, seen = [], set()
    for ask in asks[: limit * 3]:
        if ask.ticket_id not in seen:
            seen.add(ask.ticket_id)
            tickets.append(ask.ticket)
    tickets = tickets[:limit]
    tickets_permissions.mark_visible(user, tickets)
    return tickets


def asks_of_ticket(*, ticket) -> list[Ask]:
    """The wishes recorded from a ticket, for the ticket page (one query)."""
    return list(
        Ask.objects.filter(ticket=ticket)
        .select_related("request__merged_into")
        .order_by("-created_at", "-id")[:20]
    )


def quality_managers():
    """Who is told when a rejected request comes back: management and customer service's
    team leads, active ones only."""
    users = get_user_model().objects.filter(is_active=True)
    return list(
        users.filter(
            Q(groups__name=Role.MANAGEMENT)
            | Q(
                agent__is_team_lead=True,
                agent__departments__slug=permissions.QM_DEPARTMENT,
                groups__name__in=[Role.TEAM_LEAD, Role.AGENT],
            )
        )
        .distinct()
        .order_by("username")
    )


def rereview_threshold() -> int:
    return settings.FEATURE_REQUEST_REREVIEW_ASKS


def feature_request_rows(*, user, filters: dict):
    """The requests of `feature_request_list`, filtered and sorted the same way, as an
    unevaluated queryset: the API pages it by keyset, without the paginator's COUNT."""
    requests = permissions.requests_visible_to(user)
    statuses = filters.get("status") or []
    if statuses:
        requests = requests.filter(status__in=statuses)
    else:
        requests = requests.exclude(status=Status.MERGED)
    if filters.get("department"):
        requests = requests.filter(department=filters["department"])
    queue = filters.get("queue")
    if queue == "qm":
        requests = requests.filter(status__in=QM_QUEUE)
    elif queue == "department":
        requests = requests.filter(
            status__in=DEPARTMENT_QUEUE,
            department__in=permissions.reviewed_departments(user),
        )
    if filters.get("q"):
        requests = _search(requests, filters["q"], ranked=False)
    ordering = filters.get("ordering")
    if ordering not in ORDERINGS:
        ordering = Ordering.ASKS
    if ordering == Ordering.STATUS:
        requests = requests.annotate(status_rank=STATUS_RANK)
    return requests.order_by(*ORDERINGS[ordering])


def ask_tickets_mark_visible(*, user, asks) -> None:
    """Set `visible` on the tickets of these asks (one page of them): whether the user may
    open each, so the page links only those. One query at most."""
    from tickets import permissions as tickets_permissions

    tickets = [ask.ticket for ask in asks if ask.ticket_id]
    if not tickets:
        return
    if tickets_permissions.sees_everything(user):
        visible = {ticket.pk for ticket in tickets}
    else:
        visible = set(
            tickets_permissions.tickets_visible_to(user)
            .filter(pk__in=[ticket.pk for ticket in tickets])
            .values_list("pk", flat=True)
        )
    for ticket in tickets:
        ticket.visible = ticket.pk in visible


def most_asked(*, limit: int = 10) -> list[FeatureRequest]:
    """The requests asked for most (not merged ones), for the management board; on the
    `fr_by_asks` index, so it reads `limit` rows whatever the number of requests."""
    return list(
        FeatureRequest.objects.exclude(status=Status.MERGED).order_by("-ask_count", "-id")[:limit]
    )
