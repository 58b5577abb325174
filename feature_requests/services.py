"""Every state change of the feature_requests app: one function per use case (STYLE R2).

- `feature_request_create` files a new request together with the ask that caused it.
- `ask_record` counts one more ask. The request row is locked first, so the counts stay
  exact when many agents record asks at once, and "repeat" (this customer asked before)
  is decided against every committed ask. An ask on a merged request lands on the survivor.
- `feature_request_transition` moves the status along `choices.MOVES` (a rejection needs a
  reason); `feature_request_merge` folds a duplicate into the request that survives.
- `feature_request_rereview` puts a rejected request back to quality management once
  `FEATURE_REQUEST_REREVIEW_ASKS` new asks have come in since the rejection; the beat sweep
  `feature_requests_rereview_due` catches what a lost task left behind.

Permissions are the callers' business (`feature_requests.permissions`); services check
the invariants: allowed moves, required reasons, sizes, stale versions.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import services as escalation_services
from escalation.choices import NotificationKind
from feature_requests import selectors
from feature_requests.choices import (
    DECISIONS,
    MERGEABLE,
    MOVES,
    AskKind,
    EventKind,
    Status,
    TargetDepartment,
)
from feature_requests.models import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Ask,
    FeatureRequest,
    FeatureRequestEvent,
)
from helpdesk import services as helpdesk_services
from helpdesk.errors import DomainError, StaleEdit

log = logging.getLogger(__name__)
TITLE_MIN = 5
# A merged request points at its survivor; merging that one later makes a chain.
MERGE_CHAIN_MAX = 50
# Characters that have no business in a title or reason: C0 controls (tab and newline are
# folded into spaces first), DEL, and the bidirectional overrides that make text read
# differently from what it is.
_FORBIDDEN = {chr(c) for c in range(0x20)} | {"\x7f"} | {chr(c) for c in range(0x202A, 0x202F)}
_FORBIDDEN |= {chr(c) for c in range(0x2066, 0x206A)}


def event_record(*, request: FeatureRequest, kind: str, actor, data: dict, now: datetime) -> None:
    """Append one event to the request's history (STYLE R4); `actor=None` is the system."""
    FeatureRequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data,
        created_at=now,
    )


# --- Input --------------------------------------------------------------------------------


def _text(raw: str, *, field: str, maximum: int, empty: str | None, one_line: bool) -> str:
    text = raw or ""
    text = " ".join(text.split()) if one_line else text.replace("\r\n", "\n").strip()
    if empty is not None and not text:
        raise DomainError(empty, field=field)
    if len(text) > maximum:
        raise DomainError(
            _("This text is too long: at most %(max)d characters, not %(count)d.")
            % {"max": maximum, "count": len(text)},
            field=field,
        )
    allowed = set() if one_line else {"\n", "\t"}
    if any(char in _FORBIDDEN and char not in allowed for char in text):
        raise DomainError(_("This text contains invalid characters."), field=field)
    return text


def title_clean(raw: str) -> str:
    title = _text(
        raw,
        field="title",
        maximum=TITLE_MAX,
        empty=_("Give the feature request a title."),
        one_line=True,
    )
    if len(title) < TITLE_MIN:
        raise DomainError(
            _("Say in a few words what is wished for (at least %(min)d characters).")
            % {"min": TITLE_MIN},
            field="title",
        )
    return title


def _description_clean(raw: str) -> str:
    return _text(raw, field="description", maximum=DESCRIPTION_MAX, empty=None, one_line=False)


def _note_clean(raw: str) -> str:
    return _text(raw, field="note", maximum=NOTE_MAX, empty=None, one_line=False)


def _department_clean(raw: str) -> str:
    if raw not in TargetDepartment.values:
        raise DomainError(_("Choose the department the request concerns."), field="department")
    return raw


def _kind_clean(raw: str) -> str:
    if raw not in AskKind.values:
        raise DomainError(_("Choose whether it was a wish or a request we declined."), field="kind")
    return raw


def _bump(request: FeatureRequest, *, expected_version: int | None, now: datetime, **changes):
    """Write `changes` only if the request is still at the version the caller saw."""
    version = request.version if expected_version is None else expected_version
    if not FeatureRequest.objects.filter(pk=request.pk, version=version).update(
        version=F("version") + 1, updated_at=now, **changes
    ):
        raise StaleEdit(
            _("Someone else changed this feature request meanwhile; reload it and try again.")
        )
    for field, value in changes.items():
        setattr(request, field, value)
    request.version = version + 1
    request.updated_at = now


# --- Filing and asking ------------------------------------------------------------------


@transaction.atomic
def feature_request_create(
    *,
    title: str,
    department: str,
    kind: str,
    actor,
    description: str = "",
    customer=None,
    ticket=None,
    note: str = "",
    now: datetime | None = None,
) -> FeatureRequest:
    """File a new request with its first ask (the wish or the "no" that caused it)."""
    now = now or timezone.now()
    values = {
        "title": title_clean(title),
        "description": _description_clean(description),
        "department": _department_clean(department),
    }
    kind = _kind_clean(kind)
    note = _note_clean(note)
    customer = _customer_of(customer, ticket)
    request = FeatureRequest.objects.create(
        **values,
        created_by=actor,
        created_at=now,
        updated_at=now,
        ask_count=1,
        customer_count=1 if customer else 0,
        asks_since_decision=1,
        last_ask_at=now,
    )
    Ask.objects.create(
        request=request,
        customer=customer,
        ticket=ticket,
        recorded_by=actor,
        kind=kind,
        note=note,
        created_at=now,
    )
    event_record(
        request=request,
        kind=EventKind.CREATED,
        actor=actor,
        data={"department": request.department, "ticket": ticket.reference if ticket else None},
        now=now,
    )
    return request


def _customer_of(customer, ticket):
    if ticket is None:
        return customer
    if customer is not None and ticket.customer_id not in (None, customer.pk):
        raise DomainError(_("This ticket belongs to another customer."), field="ticket")
    return customer if customer is not None else ticket.customer


@transaction.atomic
def ask_record(
    *,
    request: FeatureRequest,
    kind: str,
    actor,
    customer=None,
    ticket=None,
    note: str = "",
    now: datetime | None = None,
) -> Ask:
    """Count one more ask; on a merged request it is counted on the survivor.

    The row lock serialises asks on one request (fifty agents at once lose none) and
    makes "has this customer asked before" a question about committed asks only.
    """
    now = now or timezone.now()
    kind = _kind_clean(kind)
    note = _note_clean(note)
    customer = _customer_of(customer, ticket)
    locked = _survivor_locked(request)
    is_repeat = bool(customer) and locked.asks.filter(customer=customer).exists()
    FeatureRequest.objects.filter(pk=locked.pk).update(
        ask_count=F("ask_count") + 1,
        customer_count=F("customer_count") + (1 if customer and not is_repeat else 0),
        asks_since_decision=F("asks_since_decision") + 1,
        last_ask_at=now,
    )
    ask = Ask.objects.create(
        request=locked,
        customer=customer,
        ticket=ticket,
        recorded_by=actor,
        kind=kind,
        note=note,
        is_repeat=is_repeat,
        created_at=now,
    )
    locked.refresh_from_db(
        fields=["ask_count", "customer_count", "asks_since_decision", "last_ask_at"]
    )
    # Enqueued once, when the ask reaches the threshold; the beat pass catches a lost task.
    if locked.status == Status.REJECTED and (
        locked.asks_since_decision == selectors.rereview_threshold()
    ):
        _rereview_enqueue(locked.pk)
    ask.request = locked
    return ask


def _rereview_enqueue(request_id: int) -> None:
    from feature_requests import tasks  # tasks import services

    transaction.on_commit(
        lambda: helpdesk_services.task_enqueue(tasks.feature_request_rereview_task, request_id)
    )


def _survivor_locked(request: FeatureRequest) -> FeatureRequest:
    """The request an ask lands on, locked: the request itself, or the end of its merge chain.

    Rows are locked along the chain (duplicate before survivor) and a merge locks only its
    two rows in id order, never a third: so asks and merges cannot wait on each other in
    a circle.
    """
    target = request.pk
    for _step in range(MERGE_CHAIN_MAX):
        locked = FeatureRequest.objects.select_for_update().get(pk=target)
        if locked.merged_into_id is None:
            return locked
        target = locked.merged_into_id
    raise DomainError(_("This feature request was merged too many times; ask an administrator."))


# --- Review ---------------------------------------------------------------------------


@transaction.atomic
def feature_request_transition(
    *,
    request: FeatureRequest,
    to: str,
    actor,
    reason: str = "",
    department: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> FeatureRequest:
    """Move the status one allowed step; a rejection needs a reason customers can be told.

    Passing a request to the department review may also change the target department.
    """
    now = now or timezone.now()
    old = request.status
    if to not in Status.values or to == Status.MERGED:
        raise DomainError(_("Choose a status this request can move to."), field="to")
    if to not in MOVES[old]:
        raise DomainError(
            _("A request that is “%(old)s” cannot become “%(new)s”.")
            % {"old": Status(old).label, "new": Status(to).label},
            field="to",
        )
    required = (
        _("Give the reason for the rejection: agents read it out to the next customer who asks.")
        if to == Status.REJECTED
        else None
    )
    reason = _text(
        reason,
        field="reason",
        maximum=REASON_MAX,
        empty=required,
        one_line=False,
    )
    changes: dict = {"status": to}
    if to in DECISIONS:
        # The decision's reason is what the page shows and agents read out; a decision
        # without one clears the old, so a rejection reason never stands beside "accepted".
        # Starting or passing on a review keeps it: reviewers weigh it against new asks.
        changes.update(
            reason=reason,
            decided_at=now,
            decided_by=actor if actor is not None and actor.is_authenticated else None,
            asks_since_decision=0,
        )
    data = {"from": old, "to": to, "reason": reason}
    if department not in (None, "", request.department):
        if to != Status.DEPARTMENT_REVIEW:
            raise DomainError(
                _("The department changes only when the request is passed to a department."),
                field="department",
            )
        changes["department"] = _department_clean(department)
        data["department"] = {"from": request.department, "to": department}
    _bump(request, expected_version=expected_version, now=now, **changes)
    event_record(request=request, kind=EventKind.STATUS_CHANGED, actor=actor, data=data, now=now)
    return request


@transaction.atomic
def feature_request_edit(
    *,
    request: FeatureRequest,
    actor,
    title: str,
    description: str,
    department: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> FeatureRequest:
    """Improve title, description or target department; refused once merged."""
    now = now or timezone.now()
    if request.status == Status.MERGED:
        raise DomainError(
            _("A merged request is no longer edited; edit the one it was merged into.")
        )
    values = {
        "title": title_clean(title),
        "description": _description_clean(description),
        "department": _department_clean(department),
    }
    changed = {field: value for field, value in values.items() if getattr(request, field) != value}
    if not changed:
        return request
    before = {field: getattr(request, field) for field in changed}
    _bump(request, expected_version=expected_version, now=now, **changed)
    event_record(
        request=request,
        kind=EventKind.EDITED,
        actor=actor,
        data={"fields": sorted(changed), "before": before},
        now=now,
    )
    return request


@transaction.atomic
def feature_request_merge(
    *,
    request: FeatureRequest,
    into: FeatureRequest,
    actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> FeatureRequest:
    """Fold a duplicate into the request that survives: its asks move there, and it points
    there for good (asks recorded on it later land on the survivor)."""
    now = now or timezone.now()
    if into.pk == request.pk:
        raise DomainError(_("A request cannot be merged into itself."), field="into")
    # Lock both rows in id order, so two merges crossing each other cannot deadlock.
    rows = {
        row.pk: row
        for row in FeatureRequest.objects.select_for_update()
        .filter(pk__in=[request.pk, into.pk])
        .order_by("pk")
    }
    duplicate, survivor = rows[request.pk], rows[into.pk]
    if expected_version is not None and duplicate.version != expected_version:
        raise StaleEdit(
            _("Someone else changed this feature request meanwhile; reload it and try again.")
        )
    if duplicate.status not in MERGEABLE:
        raise DomainError(
            _("A request that is “%(status)s” cannot be merged.")
            % {"status": Status(duplicate.status).label},
            field="into",
        )
    if survivor.status == Status.MERGED:
        raise DomainError(
            _("That request was itself merged into #%(id)s; merge into that one.")
            % {"id": survivor.merged_into_id},
            field="into",
        )
    old_status = duplicate.status
    moved = Ask.objects.filter(request=duplicate).update(
        request=survivor, moved_from=Coalesce(F("moved_from"), F("request"))
    )
    # Earlier duplicates of the duplicate keep pointing at it: re-pointing them would lock
    # a third row, and asks on them follow the chain anyway (`_survivor_locked`).
    _recount(survivor, now=now)
    _bump(
        duplicate,
        expected_version=duplicate.version,
        now=now,
        status=Status.MERGED,
        merged_into=survivor,
        ask_count=0,
        customer_count=0,
        asks_since_decision=0,
    )
    event_record(
        request=duplicate,
        kind=EventKind.MERGED,
        actor=actor,
        data={"into": survivor.pk, "from_status": old_status, "asks": moved},
        now=now,
    )
    event_record(
        request=survivor,
        kind=EventKind.MERGE_RECEIVED,
        actor=actor,
        data={"from": duplicate.pk, "title": duplicate.title, "asks": moved},
        now=now,
    )
    survivor.refresh_from_db()
    if survivor.status == Status.REJECTED and (
        survivor.asks_since_decision >= selectors.rereview_threshold()
    ):
        _rereview_enqueue(survivor.pk)
    request.refresh_from_db()
    into.refresh_from_db()
    return request


def _recount(request: FeatureRequest, *, now: datetime) -> None:
    """Counts from the asks themselves, after a merge moved asks in (a one-off aggregate)."""
    since = Q(created_at__gt=request.decided_at) if request.decided_at else Q()
    figures = Ask.objects.filter(request=request).aggregate(
        asks=Count("pk"),
        customers=Count("customer", distinct=True),
        since=Count("pk", filter=since),
    )
    last = (
        Ask.objects.filter(request=request)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    # A customer who asked both requests asked the survivor before: a repeat now.
    earlier = Ask.objects.filter(
        request=request, customer=OuterRef("customer"), created_at__lt=OuterRef("created_at")
    )
    same_time = Ask.objects.filter(
        request=request,
        customer=OuterRef("customer"),
        created_at=OuterRef("created_at"),
        pk__lt=OuterRef("pk"),
    )
    Ask.objects.filter(request=request, customer__isnull=False).update(
        is_repeat=Exists(earlier) | Exists(same_time)
    )
    FeatureRequest.objects.filter(pk=request.pk).update(
        ask_count=figures["asks"],
        customer_count=figures["customers"],
        asks_since_decision=figures["since"],
        last_ask_at=last or request.last_ask_at,
        version=F("version") + 1,
        updated_at=now,
    )


# --- Re-review ------------------------------------------------------------------------


@transaction.atomic
def feature_request_rereview(*, request_id: int, now: datetime | None = None) -> bool:
    """Reopen the review of a rejected request that gathered enough new asks; tell quality
    management. Runs twice harmlessly: the guarded UPDATE lets only the first one through."""
    now = now or timezone.now()
    threshold = selectors.rereview_threshold()
    request = FeatureRequest.objects.filter(pk=request_id).first()
    if request is None:
        return False
    asks = request.asks_since_decision
    reopened = FeatureRequest.objects.filter(
        pk=request_id, status=Status.REJECTED, asks_since_decision__gte=threshold
    ).update(status=Status.QM_REVIEW, version=F("version") + 1, updated_at=now)
    if not reopened:
        return False
    # The rejection reason stays: quality management reviews it against the new asks.
    event_record(
        request=request,
        kind=EventKind.REVIEW_REOPENED,
        actor=None,
        data={"asks": asks, "threshold": threshold, "reason": request.reason},
        now=now,
    )
    escalation_services.notices_create(
        recipients=selectors.quality_managers(),
        kind=NotificationKind.FEATURE_REQUEST_REREVIEW,
        feature_request=request,
        data={"asks": asks, "title": request.title},
        now=now,
    )
    return True


def feature_requests_rereview_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Reopen every rejected request over the threshold (the beat pass); returns how many."""
    ids = list(
        FeatureRequest.objects.filter(
            status=Status.REJECTED, asks_since_decision__gte=selectors.rereview_threshold()
        ).values_list("pk", flat=True)[:limit]
    )
    return sum(feature_request_rereview(request_id=pk, now=now) for pk in ids)
