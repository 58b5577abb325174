"""Pages of the feature_requests app: thin, they call selectors and services.

Every page is for the agent workspace (`workspace_required`). Requests are looked up through
`feature_requests.permissions` (404 for missing, 403 for what the user may read but not
decide), read through `feature_requests.selectors` and changed only through
`feature_requests.services`. Each action posts to its own URL and works without JavaScript:
success redirects back with a message; a refusal shows the page again with the form, what
was typed and the reason next to the field, and nothing changed.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from escalation import charts
from feature_requests import forms, permissions, selectors, services
from feature_requests.choices import (
    MERGEABLE,
    MOVES,
    AskKind,
    EventKind,
    Status,
    TargetDepartment,
)
from feature_requests.models import TITLE_MAX
from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import permissions as tickets_permissions
from tickets.models import Ticket
from tickets.selectors import REFERENCE_RE

# --- The list ---------------------------------------------------------------------------


def _queue_tabs(request, filters: dict) -> list[dict]:
    """ "All" and the review queues the user works, each with how many requests wait there."""
    user = request.user
    has_qm = permissions.is_quality_management(user)
    has_department = bool(permissions.reviewed_departments(user))
    if not (has_qm or has_department):
        return []
    counts = selectors.review_queue_counts(user=user)
    current = filters["queue"]
    tabs = [{"label": _("All"), "url": request.path, "count": None, "current": not current}]
    if has_qm:
        tabs.append(
            {
                "label": _("Quality management review"),
                "url": f"{request.path}?queue=qm",
                "count": counts["qm"],
                "current": current == "qm",
                "key": "qm",
            }
        )
    if has_department:
        tabs.append(
            {
                "label": _("Department review"),
                "url": f"{request.path}?queue=department",
                "count": counts["department"],
                "current": current == "department",
                "key": "department",
            }
        )
    return tabs


@never_cache
@workspace_required
def request_list(request):
    """Every wish customers had, most asked first: filter, search, the review queues."""
    form = forms.RequestFilterForm(request.GET or None)
    filters = form.to_filter()
    page = selectors.feature_request_list(
        user=request.user, filters=filters, page=request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feature_requests/request_list.html",
        {
            "filter_form": form,
            "filters": filters,
            "page": page,
            "rows": list(page.object_list),
            "query_string": query.urlencode(),
            "tabs": _queue_tabs(request, filters),
            "is_filtered": any(filters[key] for key in ("q", "status", "department", "queue")),
        },
    )


# --- One request ------------------------------------------------------------------------

# What the button for each move says, by (from, to); a move not listed here says `to`.
MOVE_LABELS = {
    (Status.NEW, Status.QM_REVIEW): gettext_lazy("Start the quality review"),
    (Status.DEPARTMENT_REVIEW, Status.QM_REVIEW): gettext_lazy("Send back to quality management"),
    (Status.REJECTED, Status.QM_REVIEW): gettext_lazy("Reopen the review"),
    (Status.PLANNED, Status.ACCEPTED): gettext_lazy("Back to accepted"),
}
TO_LABELS = {
    Status.QM_REVIEW: gettext_lazy("Start the quality review"),
    Status.DEPARTMENT_REVIEW: gettext_lazy("Pass to the department"),
    Status.ACCEPTED: gettext_lazy("Accept"),
    Status.PLANNED: gettext_lazy("Plan it"),
    Status.DONE: gettext_lazy("Mark as done"),
    Status.REJECTED: gettext_lazy("Reject"),
}
EDITED_FIELDS = {
    "title": gettext_lazy("title"),
    "description": gettext_lazy("description"),
    "department": gettext_lazy("target department"),
}
CHART = {"width": 780, "height": 170, "top": 18, "bottom": 140, "slot": 30, "bar": 20}


def _moves(feature) -> list[dict]:
    """The buttons of the decision form: forward moves in workflow order, rejection last."""
    order = [*Status.values]
    order.remove(Status.REJECTED)
    order.append(Status.REJECTED)
    return [
        {
            "to": to,
            "label": str(MOVE_LABELS.get((feature.status, to), TO_LABELS.get(to, to))),
            "danger": to == Status.REJECTED,
        }
        for to in order
        if to in MOVES[feature.status]
    ]


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "-")


def _name(user) -> str:
    """Who did it, as people read it; `None` is the system (a timer, the re-review)."""
    return (user.get_full_name() or user.get_username()) if user else _("the system")


def _history(events) -> list[dict]:
    """Each event as one line of the history: who, when, what, from → to, details."""
    rows = []
    for event in events:
        data = event.data or {}
        row = {
            "event": event,
            "who": _name(event.actor) if event.actor else _("System"),
            "what": _label(EventKind, event.kind),
            "before": "",
            "after": "",
            "details": [],
            "reason": "",
            "link": None,
        }
        if event.kind == EventKind.CREATED:
            row["after"] = _label(Status, Status.NEW)
            if data.get("ticket"):
                row["details"].append(_("from ticket %(ref)s") % {"ref": data["ticket"]})
        elif event.kind == EventKind.STATUS_CHANGED:
            row["before"] = _label(Status, data.get("from"))
            row["after"] = _label(Status, data.get("to"))
            row["reason"] = data.get("reason") or ""
            change = data.get("department")
            if isinstance(change, dict):
                row["details"].append(
                    _("Department: %(before)s → %(after)s")
                    % {
                        "before": _label(TargetDepartment, change.get("from")),
                        "after": _label(TargetDepartment, change.get("to")),
                    }
                )
        elif event.kind == EventKind.EDITED:
            fields = [str(EDITED_FIELDS.get(name, name)) for name in data.get("fields", [])]
            row["details"].append(_("Changed: %(fields)s") % {"fields": ", ".join(fields)})
        elif event.kind == EventKind.MERGED:
            row["before"] = _label(Status, data.get("from_status"))
            row["after"] = _label(Status, Status.MERGED)
            if data.get("into"):
                row["link"] = {
                    "url": reverse("feature_requests:request-detail", args=[data["into"]]),
                    "label": _("into #%(id)s") % {"id": data["into"]},
                }
            asks = data.get("asks") or 0
            row["details"].append(
                ngettext("%(count)d ask moved there", "%(count)d asks moved there", asks)
                % {"count": asks}
            )
        elif event.kind == EventKind.MERGE_RECEIVED:
            if data.get("from"):
                row["link"] = {
                    "url": reverse("feature_requests:request-detail", args=[data["from"]]),
                    "label": f"#{data['from']} {data.get('title', '')}".strip(),
                }
            asks = data.get("asks") or 0
            row["details"].append(
                ngettext("%(count)d ask moved here", "%(count)d asks moved here", asks)
                % {"count": asks}
            )
        elif event.kind == EventKind.REVIEW_REOPENED:
            row["before"] = _label(Status, Status.REJECTED)
            row["after"] = _label(Status, Status.QM_REVIEW)
            asks = data.get("asks") or 0
            row["details"].append(
                ngettext(
                    "review reopened by %(count)d new ask",
                    "review reopened by %(count)d new asks",
                    asks,
                )
                % {"count": asks}
            )
        rows.append(row)
    return rows


def _chart(weeks: list[dict]) -> dict:
    """Bars of the asks per week as SVG geometry (attributes only: the CSP allows no styles)."""
    chart = charts.bar_chart([week["asks"] for week in weeks], items=weeks, **CHART)
    bars = [
        {**bar, "week": bar["item"]["week"], "asks": bar["item"]["asks"]} for bar in chart["bars"]
    ]
    total = sum(week["asks"] for week in weeks)
    busiest = max(weeks, key=lambda week: week["asks"]) if total else None
    return {
        **chart,
        "bars": bars,
        "weeks": len(weeks),
        "total": total,
        "busiest": busiest,
        "first": weeks[0]["week"] if weeks else None,
        "last": weeks[-1]["week"] if weeks else None,
    }


def _back_to_ticket(request) -> str | None:
    """The ticket page the agent came from (`?from_ticket=`), for a way back."""
    match = REFERENCE_RE.match(request.GET.get("from_ticket", ""))
    return match.group(1) if match else None


def _detail_context(request, feature, *, bound: dict | None = None, **extra) -> dict:
    user = request.user
    can_decide = permissions.can_decide(user, feature)
    can_merge = permissions.can_merge(user) and feature.status in MERGEABLE
    asks_page = selectors.ask_list(request=feature, page=request.GET.get("asks_page"))
    asks = list(asks_page.object_list)
    selectors.ask_tickets_mark_visible(user=user, asks=asks)
    version = {"version": feature.version}
    page_forms = {
        "ask": forms.AskForm(user=user, auto_id="ask-%s"),
        "transition": forms.TransitionForm(
            auto_id="decide-%s", initial={**version, "department": feature.department}
        ),
        "merge": forms.MergeForm(user=user, auto_id="merge-%s", initial=version),
        "edit": forms.EditForm(
            auto_id="edit-%s",
            initial={
                **version,
                "title": feature.title,
                "description": feature.description,
                "department": feature.department,
            },
        ),
    }
    page_forms.update(bound or {})
    moves = _moves(feature) if can_decide else []
    query = request.GET.copy()
    query.pop("asks_page", None)
    return {
        "feature": feature,
        "history": _history(selectors.event_list(request=feature)),
        "asks_page": asks_page,
        "asks": asks,
        "asks_query": query.urlencode(),
        "chart": _chart(selectors.asks_per_week(request=feature)),
        "source_tickets": selectors.source_tickets(user=user, request=feature),
        "forms": page_forms,
        "open_form": next(iter(bound), None) if bound else None,
        "can_ask": feature.status != Status.MERGED,
        "can_decide": can_decide and bool(moves),
        "moves": moves,
        "offers_department": any(move["to"] == Status.DEPARTMENT_REVIEW for move in moves),
        "can_merge": can_merge,
        "can_edit": can_decide and feature.status != Status.MERGED,
        "back_ticket": _back_to_ticket(request),
        "created_by": _name(feature.created_by),
        "decided_by": _name(feature.decided_by),
        **extra,
    }


def _render_detail(request, request_id: int, **kwargs):
    # Read the request again: a refused service call may have left the instance in memory
    # behind what is stored.
    feature = selectors.feature_request_detail(user=request.user, request_id=request_id)
    return render(
        request,
        "feature_requests/request_detail.html",
        _detail_context(request, feature, **kwargs),
    )


@never_cache
@workspace_required
def request_detail(request, request_id: int):
    """One request: the answer for customers, its figures, history, asks and the actions."""
    return _render_detail(request, request_id)


def _refuse(form, error: DomainError) -> None:
    """Put the service's reason next to the field it names (or above the form)."""
    visible = {field.name for field in form.visible_fields()}
    form.add_error(error.field if error.field in visible else None, error.message)


def _attempt(form, run) -> tuple[bool, str | None]:
    """Run one service call for a bound, valid form: (done, stale notice). A refusal is put
    next to its field; a stale edit becomes the page's notice; either way nothing changed."""
    try:
        run()
    except StaleEdit as error:
        return False, error.message
    except DomainError as error:
        _refuse(form, error)
        return False, None
    return True, None


def _ask_notice(ask) -> str:
    survivor = ask.request
    return ngettext(
        "Ask counted on #%(id)s “%(title)s”; it has %(count)d ask now.",
        "Ask counted on #%(id)s “%(title)s”; it has %(count)d asks now.",
        survivor.ask_count,
    ) % {"id": survivor.pk, "title": survivor.title, "count": survivor.ask_count}


@workspace_required
@require_POST
def request_ask(request, request_id: int):
    """Count one more ask: every workspace user may."""
    feature = permissions.feature_request_for(request.user, request_id)
    form = forms.AskForm(request.POST, user=request.user, auto_id="ask-%s")
    if form.is_valid():
        try:
            ask = services.ask_record(request=feature, actor=request.user, **form.ask_data())
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(request, _ask_notice(ask))
            return redirect(ask.request)
    return _render_detail(request, request_id, bound={"ask": form})


@workspace_required
@require_POST
def request_transition(request, request_id: int):
    """Move the status one allowed step (quality management or the department decides)."""
    feature = permissions.feature_request_for(request.user, request_id, decide=True)
    form = forms.TransitionForm(request.POST, auto_id="decide-%s")
    stale = None
    if form.is_valid():
        data = form.cleaned_data
        done, stale = _attempt(
            form,
            lambda: services.feature_request_transition(
                request=feature,
                to=data["to"],
                actor=request.user,
                reason=data["reason"],
                # The department select belongs to the "pass to the department" button.
                department=data["department"] or None
                if data["to"] == Status.DEPARTMENT_REVIEW
                else None,
                expected_version=data["version"],
            ),
        )
        if done:
            messages.success(
                request,
                _("Status set to “%(status)s”.") % {"status": Status(data["to"]).label},
            )
            return redirect(feature)
    return _render_detail(request, request_id, bound={"transition": form}, stale=stale)


@workspace_required
@require_POST
def request_merge(request, request_id: int):
    """Fold a duplicate into the request that stays (quality management)."""
    feature = permissions.feature_request_for(request.user, request_id)
    if not permissions.can_merge(request.user):
        raise PermissionDenied
    form = forms.MergeForm(request.POST, user=request.user, auto_id="merge-%s")
    stale = None
    if form.is_valid():
        survivor = form.cleaned_data["into"]
        done, stale = _attempt(
            form,
            lambda: services.feature_request_merge(
                request=feature,
                into=survivor,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
            ),
        )
        if done:
            messages.success(
                request,
                _("#%(id)s merged into #%(into)s; its asks count there now.")
                % {"id": feature.pk, "into": survivor.pk},
            )
            return redirect(survivor)
    return _render_detail(request, request_id, bound={"merge": form}, stale=stale)


@workspace_required
@require_POST
def request_edit(request, request_id: int):
    """Improve title, description or target department (whoever decides the request)."""
    feature = permissions.feature_request_for(request.user, request_id, decide=True)
    form = forms.EditForm(request.POST, auto_id="edit-%s")
    stale = None
    if form.is_valid():
        data = form.cleaned_data
        done, stale = _attempt(
            form,
            lambda: services.feature_request_edit(
                request=feature,
                actor=request.user,
                title=data["title"],
                description=data["description"],
                department=data["department"],
                expected_version=data["version"],
            ),
        )
        if done:
            messages.success(request, _("Feature request saved."))
            return redirect(feature)
    return _render_detail(request, request_id, bound={"edit": form}, stale=stale)


# --- A new request ----------------------------------------------------------------------


def _similar(user, title: str) -> list:
    title = (title or "")[:TITLE_MAX]
    return selectors.similar_requests(user=user, text=title) if title.strip() else []


def _create_initial(request) -> dict:
    """Coming from a ticket page: its reference and customer filled in (404 if not theirs)."""
    initial = {"kind": AskKind.WISH}
    reference = request.GET.get("ticket", "").strip()
    if reference:
        ticket = tickets_permissions.ticket_for(
            request.user, reference.lstrip("#"), Ticket.objects.select_related("customer")
        )
        initial.update(
            ticket=ticket.reference,
            customer=ticket.customer.number if ticket.customer else "",
            from_ticket=ticket.reference,
        )
    return initial


@never_cache
@workspace_required
def request_create(request):
    """File a wish: find before you file, then either count an ask on what exists or file
    a new request with its first ask."""
    user = request.user
    if request.method != "POST":
        form = forms.CreateForm(user=user, initial=_create_initial(request))
        return _render_create(request, form, suggestions=[], searched=False)
    if "check" in request.POST:
        # "Check for similar requests" without JavaScript: the suggestions, no errors yet.
        form = forms.CreateForm(user=user, initial=request.POST.dict())
        return _render_create(request, form, suggestions=_similar(user, request.POST.get("title")))
    if "ask_on" in request.POST:
        return _create_ask_on(request)
    form = forms.CreateForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            feature = services.feature_request_create(
                title=data["title"],
                description=data["description"],
                department=data["department"],
                actor=user,
                **form.ask_data(),
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Feature request #%(id)s “%(title)s” recorded.")
                % {"id": feature.pk, "title": feature.title},
            )
            ticket = data["ticket"]
            if ticket is not None and data["from_ticket"] == ticket.reference:
                return redirect(ticket)
            return redirect(feature)
    return _render_create(request, form, suggestions=_similar(user, request.POST.get("title")))


def _create_ask_on(request):
    """ "That's it": count an ask with the form's customer, ticket, kind and note on the
    suggested request instead of filing a new one."""
    user = request.user
    raw = request.POST.get("ask_on", "")
    target = permissions.feature_request_for(user, int(raw) if raw.isdigit() else 0)
    form = forms.CreateForm(request.POST, user=user, for_ask=True)
    if form.is_valid():
        try:
            ask = services.ask_record(request=target, actor=user, **form.ask_data())
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(request, _ask_notice(ask))
            url = ask.request.get_absolute_url()
            ticket = form.cleaned_data["ticket"]
            if ticket is not None and form.cleaned_data["from_ticket"] == ticket.reference:
                url = f"{url}?from_ticket={ticket.reference}"
            return redirect(url)
    return _render_create(request, form, suggestions=_similar(user, request.POST.get("title")))


def _render_create(request, form, *, suggestions: list, searched: bool = True):
    match = REFERENCE_RE.match(form["from_ticket"].value() or "")
    return render(
        request,
        "feature_requests/request_create.html",
        {
            "form": form,
            "suggestions": suggestions,
            "searched": searched and bool((form["title"].value() or "").strip()),
            "back_ticket": match.group(1) if match else None,
        },
    )


@never_cache
@workspace_required
@require_GET
def request_similar(request):
    """The suggestions while the agent types a title (an htmx partial of the create page)."""
    title = request.GET.get("title", "")
    return render(
        request,
        "feature_requests/partials/similar.html",
        {"suggestions": _similar(request.user, title), "searched": bool(title.strip())},
    )
