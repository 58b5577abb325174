"""Agent workspace pages for tickets (thin views, STYLE R9).

Views look tickets up through `tickets.permissions` (404 for what the user may not see,
403 for what they may not do), read through `tickets.selectors` and change tickets only
through `tickets.services`. Every form posts without JavaScript; with htmx the same
endpoints answer with the partial to swap (the ticket area, a list row, the list).
"""

import unicodedata

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from customers import permissions as customer_permissions
from customers.choices import LineState, ServiceKind
from escalation import selectors as sla_selectors
from feature_requests import selectors as feature_selectors
from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import forms, permissions, selectors, services
from tickets.choices import OPEN_STATUSES, Status
from tickets.selectors import outages as outage_selectors

# Types a browser would render as a page or run; such a file is served as plain bytes.
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def download_name(filename: str) -> str:
    """A file name safe in a Content-Disposition header and on the user's disk: no path
    separators, no control or invisible formatting characters (CR/LF, an RTL override
    that turns "fdp.exe" into "exe.pdf"); Django adds RFC 6266's `filename*` for the rest."""
    cleaned = "".join(
        "_" if char in "/\\" else char
        for char in filename
        if not unicodedata.category(char).startswith("C")
    )
    return cleaned.strip(" .") or "download"


def attachment_download(request, token: str):
    """Serve an attachment to someone who may see its ticket and message (404 otherwise):
    always as a download, never rendered inline, in a sandbox should a browser try."""
    attachment = permissions.attachment_for(request.user, token)
    content_type = attachment.content_type
    if content_type.split(";")[0].strip().lower() in ACTIVE_CONTENT_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=download_name(attachment.filename),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox"
    )
    return response


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _decorate(rows, user) -> None:
    """What each list row shows besides its fields: age in words, whether to offer "take"."""
    agent = permissions.agent_of(user)
    now = timezone.now()
    deadlines = sla_selectors.deadline_rows(rows, now=now)
    for row in rows:
        row.sla = deadlines.get(row.pk)
        row.age = timesince(row.created_at, now, depth=1)
        row.can_take = (
            row.assignee_id is None
            and row.status in OPEN_STATUSES
            and agent is not None
            and agent.can_work(row.queue)
        )


# --- Lists ----------------------------------------------------------------------------


def _list_context(request, *, tickets, with_assignee: bool) -> dict:
    form = forms.TicketFilterForm(request.GET or None, with_assignee=with_assignee)
    filters = form.to_filter()
    page = selectors.ticket_list(
        tickets=tickets,
        user=request.user,
        filters=filters,
        cursor=request.GET.get("cursor", ""),
    )
    _decorate(page.rows, request.user)
    query = request.GET.copy()
    query.pop("cursor", None)

    def url_with(**changes) -> str:
        params = query.copy()
        for key, value in changes.items():
            params[key] = value
        return f"{request.path}?{params.urlencode()}"

    return {
        "filter_form": form,
        "filters": filters,
        "page": page,
        "list_url": request.get_full_path(),
        "first_url": f"{request.path}?{query.urlencode()}",
        "next_url": url_with(cursor=page.next_cursor) if page.next_cursor else None,
        "is_later_page": bool(request.GET.get("cursor")),
        "sort_urls": {name: url_with(sort=name) for name in selectors.SORTS},
    }


def _render_list(request, context: dict):
    if _is_htmx(request):
        return render(request, "tickets/partials/ticket_list.html", context)
    return render(request, "tickets/ticket_list.html", context)


@workspace_required
def queue_detail(request, queue_id: int):
    """One queue's tickets: filter, sort, take; the table refreshes itself."""
    overview = selectors.queue_overview(user=request.user)
    queue = next((entry["queue"] for entry in overview if entry["queue"].pk == queue_id), None)
    if queue is None:
        raise Http404
    tickets = permissions.tickets_visible_to(request.user).filter(queue=queue)
    context = _list_context(request, tickets=tickets, with_assignee=True)
    context.update({"title": str(queue), "queue": queue, "overview": overview, "row_kind": "queue"})
    return _render_list(request, context)


@workspace_required
def my_tickets(request):
    """The tickets assigned to the signed-in agent, in every queue."""
    tickets = permissions.tickets_visible_to(request.user).filter(assignee=request.user)
    context = _list_context(request, tickets=tickets, with_assignee=False)
    context.update(
        {
            "title": _("My tickets"),
            "overview": selectors.queue_overview(user=request.user),
            "row_kind": "mine",
            "show_queue": True,
        }
    )
    return _render_list(request, context)


@workspace_required
def ticket_search(request):
    """Find tickets by reference, customer number or words; an exact reference opens it."""
    form = forms.TicketSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    cursor = request.GET.get("cursor", "")
    page = selectors.ticket_search(user=request.user, query=query, cursor=cursor)
    if not cursor and len(page.rows) == 1 and selectors.REFERENCE_RE.match(query):
        return redirect(page.rows[0])
    _decorate(page.rows, request.user)
    next_url = None
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        next_url = f"{request.path}?{params.urlencode()}"
    context = {
        "form": form,
        "query": query,
        "page": page,
        "next_url": next_url,
        "row_kind": "search",
        "show_queue": True,
        "list_url": request.get_full_path(),
    }
    return render(request, "tickets/search.html", context)


@workspace_required
def customer_tickets(request, number: str):
    """The "Tickets" section of the customer record, loaded into it by htmx."""
    customer = customer_permissions.customer_for(request.user, number)
    if not _is_htmx(request):
        return redirect(f"{reverse('tickets:ticket-search')}?q={customer.number}")
    summary = selectors.customer_ticket_summary(customer=customer)
    permissions.mark_visible(request.user, summary["recent"])
    return render(
        request,
        "tickets/partials/customer_tickets.html",
        {"customer": customer, "summary": summary},
    )


# --- A new ticket -----------------------------------------------------------------------


@never_cache
@workspace_required
def ticket_create(request, number: str):
    """Open a ticket for a customer: what they ask on the phone, in a letter, chat or mail."""
    customer = customer_permissions.customer_for(request.user, number)
    affecting = outage_selectors.outages_for_customer(customer=customer)
    form = forms.TicketCreateForm(request.POST or None, request.FILES or None, outages=affecting)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                customer=customer,
                subject=data["subject"],
                body=data["body"],
                channel=data["channel"],
                support_area=data["support_area"],
                priority=data["priority"],
                attachments=data["attachments"],
                actor=request.user,
                outage=data.get("outage"),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Ticket %(reference)s opened in %(queue)s.")
                % {"reference": ticket.reference, "queue": ticket.queue},
            )
            if permissions.tickets_visible_to(request.user).filter(pk=ticket.pk).exists():
                return redirect(ticket)
            return redirect(customer)  # routed to a department the agent does not see
    return render(
        request,
        "tickets/ticket_create.html",
        {"customer": customer, "form": form, "outages": affecting},
    )


# --- One ticket -------------------------------------------------------------------------


def _outage_offers(ticket) -> list:
    """The outages the ticket page offers to link with one click: none once it is linked or
    done, for it then either belongs to its outage or cannot join one any more."""
    if ticket.outage_id or ticket.is_done:
        return []
    return outage_selectors.outages_for_customer(customer=ticket.customer)


def _line_snapshot(ticket) -> list[dict]:
    """The customer's lines as they were when the ticket was opened, ready to show."""
    lines = []
    for line in ticket.line_snapshot or []:
        kind, state, drops = line.get("kind"), line.get("state"), line.get("sync_drops_24h")
        lines.append(
            {
                **line,
                "kind_label": ServiceKind(kind).label if kind in ServiceKind.values else kind,
                "state_label": LineState(state).label if state in LineState.values else state,
                "sync_drops_24h": drops if isinstance(drops, int) else 0,
                "last_sync_at": parse_datetime(line.get("last_sync_at") or ""),
                "reported_at": parse_datetime(line.get("reported_at") or ""),
            }
        )
    return lines


def _ticket(request, reference: str):
    return permissions.ticket_for(
        request.user,
        reference,
        selectors.ticket_queryset().select_related("previous_queue__department", "sla_policy"),
    )


def _ticket_context(request, ticket, *, bound: dict | None = None, **extra) -> dict:
    user = request.user
    timeline = selectors.ticket_timeline(ticket=ticket)
    summary = selectors.customer_ticket_summary(customer=ticket.customer, exclude=ticket)
    permissions.mark_visible(user, summary["recent"])
    agent = permissions.agent_of(user)
    can_assign_others = permissions.can_assign_others(user)
    ticket_forms = {
        "reply": forms.ReplyForm(ticket=ticket, prefix="reply"),
        "note": forms.NoteForm(ticket=ticket, prefix="note"),
        "status": forms.StatusForm(ticket=ticket, prefix="status"),
        "priority": forms.PriorityForm(
            ticket=ticket, prefix="priority", initial={"priority": ticket.priority}
        ),
        "escalate": forms.EscalateForm(ticket=ticket, prefix="escalate"),
        "handoff": forms.HandoffForm(ticket=ticket, prefix="handoff"),
        "hand_back": forms.HandBackForm(ticket=ticket, prefix="hand_back"),
        "take": forms.VersionOnlyForm(ticket=ticket, prefix="take"),
        "unassign": forms.VersionOnlyForm(ticket=ticket, prefix="unassign"),
    }
    if can_assign_others:
        ticket_forms["assign"] = forms.AssignForm(
            ticket=ticket, prefix="assign", initial={"assignee": ticket.assignee_id}
        )
    if bound:
        _focus_refused(ticket_forms, bound)
    is_mine = ticket.assignee_id == user.pk
    return {
        "ticket": ticket,
        "conversation": selectors.ticket_messages(user=user, ticket=ticket, mail_state=True),
        "sla": sla_selectors.ticket_sla(ticket=ticket),
        "timeline": timeline,
        "handover": selectors.ticket_last_handover(timeline=timeline),
        "summary": summary,
        "forms": ticket_forms,
        "open_form": next(iter(bound), None) if bound else None,
        "is_mine": is_mine,
        "can_take": ticket.assignee_id is None
        and ticket.status in OPEN_STATUSES
        and agent is not None
        and agent.can_work(ticket.queue),
        "can_unassign": ticket.assignee_id is not None
        and ticket.status != Status.CLOSED
        and (is_mine or can_assign_others),
        "can_assign_others": can_assign_others,
        "is_closed": ticket.status == Status.CLOSED,
        "outage_offers": _outage_offers(ticket),
        "line_snapshot": _line_snapshot(ticket),
        **extra,
    }


def _focus_refused(ticket_forms: dict, bound: dict) -> None:
    """Put the refused form in place of the empty one, and the cursor on its first error."""
    ticket_forms.update(bound)
    name, form = next(iter(bound.items()))
    if name != "reply":
        ticket_forms["reply"].fields["body"].widget.attrs.pop("autofocus", None)
    invalid = [field for field in form.errors if field in form.fields and field != "version"]
    if invalid:
        form.fields[invalid[0]].widget.attrs["autofocus"] = True


def _render_ticket(request, ticket, **kwargs):
    if _is_htmx(request):
        return render(
            request, "tickets/partials/ticket.html", _ticket_context(request, ticket, **kwargs)
        )
    # The feature-request card sits outside the swapped area: only the full page reads it.
    kwargs["feature_asks"] = feature_selectors.asks_of_ticket(ticket=ticket)
    return render(request, "tickets/ticket_detail.html", _ticket_context(request, ticket, **kwargs))


@never_cache
@workspace_required
def ticket_detail(request, reference: str):
    """Everything about one ticket on one page, with every action at most two clicks away."""
    return _render_ticket(request, _ticket(request, reference))


def _safe_next(request) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _succeeded(request, reference: str, notice: str, *, origin_url: str):
    """After a change: show the ticket again, or, if it left the agent's view, the queue."""
    try:
        ticket = _ticket(request, reference)
    except Http404:
        ticket = None
    if _is_htmx(request):
        if ticket is None:
            messages.success(request, notice)
            response = HttpResponse(status=204)
            response["HX-Redirect"] = origin_url
            return response
        return _render_ticket(request, ticket, notice=notice)
    messages.success(request, notice)
    return redirect(ticket or origin_url)


def _act(request, reference: str, *, form_class, prefix: str, run, notice):
    """Run one action from its form; refusals come back next to the form, nothing changed."""
    ticket = _ticket(request, reference)
    permissions.ensure_can_work(request.user, ticket)
    origin_url = ticket.queue.get_absolute_url()
    form = form_class(request.POST, request.FILES, ticket=ticket, prefix=prefix)
    stale = None
    if form.is_valid():
        try:
            run(ticket, form.cleaned_data)
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            message = notice(ticket, form.cleaned_data) if callable(notice) else notice
            return _succeeded(request, reference, message, origin_url=origin_url)
    # Read the ticket again: a refused service call may have changed the instance in memory.
    return _render_ticket(request, _ticket(request, reference), bound={prefix: form}, stale=stale)


def _version(data) -> int:
    return data["version"]


@workspace_required
@require_POST
def ticket_reply(request, reference: str):
    def run(ticket, data):
        services.ticket_reply(
            ticket=ticket,
            actor=request.user,
            body=data["body"],
            attachments=data["attachments"],
            status=data["status"] or None,
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.ReplyForm,
        prefix="reply",
        run=run,
        notice=_("Reply sent to the customer."),
    )


@workspace_required
@require_POST
def ticket_note(request, reference: str):
    def run(ticket, data):
        services.ticket_note_add(
            ticket=ticket, actor=request.user, body=data["body"], attachments=data["attachments"]
        )

    return _act(
        request,
        reference,
        form_class=forms.NoteForm,
        prefix="note",
        run=run,
        notice=_("Internal note added."),
    )


@workspace_required
@require_POST
def ticket_status(request, reference: str):
    def run(ticket, data):
        services.ticket_transition(
            ticket=ticket,
            to=data["status"],
            actor=request.user,
            note=data["note"],
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.StatusForm,
        prefix="status",
        run=run,
        notice=lambda ticket, data: (
            _("Status set to “%(status)s”.") % {"status": Status(data["status"]).label}
        ),
    )


@workspace_required
@require_POST
def ticket_priority(request, reference: str):
    def run(ticket, data):
        services.ticket_priority_change(
            ticket=ticket,
            priority=data["priority"],
            actor=request.user,
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.PriorityForm,
        prefix="priority",
        run=run,
        notice=lambda ticket, data: (
            _("Priority set to “%(priority)s”.") % {"priority": ticket.get_priority_display()}
        ),
    )


@workspace_required
@require_POST
def ticket_escalate(request, reference: str):
    def run(ticket, data):
        services.ticket_escalate(
            ticket=ticket,
            actor=request.user,
            reason=data["reason"],
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.EscalateForm,
        prefix="escalate",
        run=run,
        notice=lambda ticket, data: _("Escalated to %(queue)s.") % {"queue": ticket.queue},
    )


@workspace_required
@require_POST
def ticket_handoff(request, reference: str):
    def run(ticket, data):
        services.ticket_handoff(
            ticket=ticket,
            actor=request.user,
            department=data["department"],
            note=data["note"],
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.HandoffForm,
        prefix="handoff",
        run=run,
        notice=lambda ticket, data: _("Handed off to %(queue)s.") % {"queue": ticket.queue},
    )


@workspace_required
@require_POST
def ticket_hand_back(request, reference: str):
    def run(ticket, data):
        services.ticket_hand_back(
            ticket=ticket, actor=request.user, note=data["note"], expected_version=_version(data)
        )

    return _act(
        request,
        reference,
        form_class=forms.HandBackForm,
        prefix="hand_back",
        run=run,
        notice=lambda ticket, data: _("Handed back to %(queue)s.") % {"queue": ticket.queue},
    )


@workspace_required
@require_POST
def ticket_assign(request, reference: str):
    def run(ticket, data):
        permissions.ensure_can_assign(request.user, ticket, data["assignee"])
        services.ticket_assign(
            ticket=ticket,
            assignee=data["assignee"],
            actor=request.user,
            expected_version=_version(data),
        )

    return _act(
        request,
        reference,
        form_class=forms.AssignForm,
        prefix="assign",
        run=run,
        notice=lambda ticket, data: (
            _("Assigned to %(name)s.")
            % {"name": data["assignee"].get_full_name() or data["assignee"].get_username()}
        ),
    )


@workspace_required
@require_POST
def ticket_unassign(request, reference: str):
    def run(ticket, data):
        if ticket.assignee is not None:
            # Putting back someone else's ticket is reassigning their work.
            permissions.ensure_can_assign(request.user, ticket, ticket.assignee)
        services.ticket_unassign(ticket=ticket, actor=request.user, expected_version=_version(data))

    return _act(
        request,
        reference,
        form_class=forms.VersionOnlyForm,
        prefix="unassign",
        run=run,
        notice=_("The ticket is back in its queue."),
    )


@workspace_required
@require_POST
def ticket_take(request, reference: str):
    """One click in a list row or on the ticket page; of two agents, one gets it."""
    row_kind = request.POST.get("row", "")
    if row_kind not in ("queue", "search"):
        return _act(
            request,
            reference,
            form_class=forms.VersionOnlyForm,
            prefix="take",
            run=lambda ticket, data: services.ticket_take(ticket=ticket, actor=request.user),
            notice=_("You took this ticket."),
        )
    # From a list row: the row is swapped (htmx) or the list shown again.
    ticket = _ticket(request, reference)
    permissions.ensure_can_work(request.user, ticket)
    problem = None
    try:
        services.ticket_take(ticket=ticket, actor=request.user)
    except DomainError as error:
        problem = error.message
    if _is_htmx(request):
        ticket = _ticket(request, reference)
        _decorate([ticket], request.user)
        ticket.problem = problem
        ticket.just_taken = problem is None
        return render(
            request,
            "tickets/partials/ticket_row.html",
            {"ticket": ticket, "row_kind": row_kind, "show_queue": row_kind == "search"},
        )
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("You took %(reference)s.") % {"reference": ticket.reference})
    return redirect(_safe_next(request) or ticket.get_absolute_url())


# --- Text modules -------------------------------------------------------------------------


def _text_module_list_url(request, module=None) -> str:
    """Back to the list the team lead came from, or to the module's department."""
    back = _safe_next(request)
    if back:
        return back
    url = reverse("tickets:text-module-list")
    return f"{url}?department={module.department_id}" if module is not None else url


def _text_module_form_context(request, form, module=None, **extra) -> dict:
    return {
        "form": form,
        "module": module,
        "placeholders": selectors.text_module_placeholders(),
        "back_url": _text_module_list_url(request, module),
        **extra,
    }


@never_cache
@workspace_required
def text_module_list(request):
    """The text modules of the departments the team lead manages: filter, search, archive."""
    permissions.ensure_can_manage_text_modules(request.user)
    form = forms.TextModuleFilterForm(request.GET or None, user=request.user)
    filters = form.to_filter()
    page = selectors.text_module_list(
        user=request.user, filters=filters, page=request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/text_modules.html",
        {
            "filter_form": form,
            "filters": filters,
            "page": page,
            "modules": list(page.object_list),
            "query_string": query.urlencode(),
            "has_departments": permissions.manages_text_modules_of_any_department(request.user),
            "placeholders": selectors.text_module_placeholders(),
            "list_url": request.get_full_path(),
        },
    )


@never_cache
@workspace_required
def text_module_create(request):
    """A new text module for one of the team lead's departments."""
    permissions.ensure_can_manage_text_modules(request.user)
    initial = {}
    if request.method == "GET" and request.GET.get("department", "").isdigit():
        initial["department"] = int(request.GET["department"])
    form = forms.TextModuleForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            module = services.text_module_create(actor=request.user, **form.service_data())
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Text module ::%(shortcut)s saved; agents can insert it now.")
                % {"shortcut": module.shortcut},
            )
            return redirect(_text_module_list_url(request, module))
    context = _text_module_form_context(request, form)
    return render(request, "tickets/text_module_form.html", context)


@never_cache
@workspace_required
def text_module_edit(request, module_id: int):
    """Change a text module; an edit made meanwhile by someone else is not overwritten."""
    module = permissions.text_module_for(request.user, module_id)
    form = forms.TextModuleForm(request.POST or None, user=request.user, module=module)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            services.text_module_update(
                module=module,
                actor=request.user,
                expected_version=form.cleaned_data["version"] or None,
                **form.service_data(),
            )
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, _("Text module ::%(shortcut)s saved.") % {"shortcut": module.shortcut}
            )
            return redirect(_text_module_list_url(request, module))
    if stale:
        module = permissions.text_module_for(request.user, module_id)  # what is saved now
    return render(
        request,
        "tickets/text_module_form.html",
        _text_module_form_context(request, form, module, stale=stale),
    )


def _text_module_switch(request, module_id: int, *, run, notice: str):
    module = permissions.text_module_for(request.user, module_id)
    form = forms.TextModuleVersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reload the page and try again."))
    else:
        try:
            run(module=module, actor=request.user, expected_version=form.cleaned_data["version"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, notice % {"shortcut": module.shortcut})
    return redirect(_text_module_list_url(request, module))


@workspace_required
@require_POST
def text_module_archive(request, module_id: int):
    """Take a module out of use; it stays in the list under "archived"."""
    return _text_module_switch(
        request,
        module_id,
        run=services.text_module_archive,
        notice=_("Text module ::%(shortcut)s archived; agents no longer get it."),
    )


@workspace_required
@require_POST
def text_module_restore(request, module_id: int):
    """Put an archived module back into use."""
    return _text_module_switch(
        request,
        module_id,
        run=services.text_module_restore,
        notice=_("Text module ::%(shortcut)s is in use again."),
    )


@never_cache
@workspace_required
@require_GET
def ticket_text_modules(request, reference: str):
    """The reply box's suggestions for `::rou`: matching modules rendered for this ticket and
    this agent, as JSON for static/js/text_modules.js (fixed queries, 8 at most)."""
    ticket = permissions.ticket_for(request.user, reference, selectors.ticket_queryset())
    permissions.ensure_can_work(request.user, ticket)
    form = forms.TextModuleSearchForm(request.GET)
    if not form.is_valid():
        return JsonResponse(
            {
                "errors": [
                    {"field": name, "message": message, "code": "invalid"}
                    for name, errors in form.errors.items()
                    for message in errors
                ]
            },
            status=400,
        )
    query = form.cleaned_data["q"]
    modules = selectors.text_module_suggestions(user=request.user, ticket=ticket, query=query)
    values = selectors.text_module_values(ticket=ticket, agent=request.user)
    results = []
    for module in modules:
        rendered = selectors.text_module_render(module=module, values=values)
        results.append(
            {
                "id": module.pk,
                "shortcut": module.shortcut,
                "title": module.title,
                "department": module.department.name,
                "language": module.language,
                "text": rendered.text,
                "missing": rendered.missing,
                "warning": _("Left empty, fill in yourself: %(values)s.")
                % {"values": ", ".join(rendered.missing_labels)}
                if rendered.missing
                else "",
            }
        )
    return JsonResponse(
        {
            "query": query,
            "results": results,
            "empty": _("No text module matches “%(query)s”.") % {"query": query},
        }
    )
