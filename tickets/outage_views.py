"""Pages of outages: the workspace's list, form and detail page, the ticket banner's link
and unlink, and the public status page (STYLE R9).

Every workspace user sees outages and links the tickets they may work; opening, updating
and resolving needs `permissions.can_manage_outages` (403 otherwise). Outages change only
through `tickets.services.outages`; a refusal comes back next to its field with nothing
changed, a stale edit as the page's notice. Every form posts without JavaScript.
"""

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import outage_forms as forms
from tickets import permissions
from tickets import views as ticket_views
from tickets.choices import OUTAGE_ACTIVE, OutageStatus
from tickets.models import Outage
from tickets.selectors import outages as selectors
from tickets.services import outages

# The public status page is rendered at most this often per language, however many
# customers reload it during an outage.
STATUS_PAGE_SECONDS = 30
STATUS_CACHE_KEY = "outages:status-page:{language}"


def _refuse(form, error: DomainError) -> None:
    """Put the service's reason next to the field it names (or above the form)."""
    visible = {field.name for field in form.visible_fields()}
    form.add_error(error.field if error.field in visible else None, error.message)


def _page_url(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params[key] = value
    return f"{request.path}?{params.urlencode()}"


# --- The list ---------------------------------------------------------------------------


@never_cache
@workspace_required
def outage_list(request):
    """Active outages (newest first) or resolved ones, with their linked tickets counted."""
    resolved = request.GET.get("show") == "resolved"
    cursor = request.GET.get("cursor", "")
    page = selectors.outage_list(active=not resolved, cursor=cursor)
    return render(
        request,
        "tickets/outages/outage_list.html",
        {
            "page": page,
            "resolved": resolved,
            "is_later_page": bool(cursor),
            "next_url": _page_url(request, cursor=page.next_cursor) if page.next_cursor else None,
            "can_manage": permissions.can_manage_outages(request.user),
        },
    )


# --- A new outage -----------------------------------------------------------------------


@never_cache
@workspace_required
def outage_create(request):
    """Open an outage: title, services, postal codes, status and the expected end."""
    permissions.ensure_can_manage_outages(request.user)
    form = forms.OutageCreateForm(request.POST or None, auto_id="outage-%s")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outage, _new = outages.outage_create(
                title=data["title"],
                description=data["description"],
                services=data["services"],
                area=data["area"],
                status=data["status"],
                expected_end_at=data["expected_end_at"],
                actor=request.user,
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Outage “%(title)s” opened. Agents see it on the records of affected customers.")
                % {"title": outage.title},
            )
            return redirect(outage)
    return render(request, "tickets/outages/outage_form.html", {"form": form})


# --- One outage -------------------------------------------------------------------------


def _detail_context(request, outage: Outage, *, bound: dict | None = None, **extra) -> dict:
    user = request.user
    can_manage = permissions.can_manage_outages(user) and outage.is_active
    tickets = selectors.outage_tickets(outage=outage, cursor=request.GET.get("cursor", ""))
    permissions.mark_visible(user, tickets.rows)
    updates = list(outage.updates.all())
    selectors.notify_progress(outage=outage, updates=updates)
    # Every update stores the expected end it was posted under; say it only where it moved.
    for index, update in enumerate(updates):
        older = updates[index + 1] if index + 1 < len(updates) else None
        update.eta_moved = update.expected_end_at is not None and (
            older is None or older.expected_end_at != update.expected_end_at
        )
    page_forms = {}
    if can_manage:
        page_forms = {
            "update": forms.OutageUpdateForm(
                auto_id="update-%s", initial={"status": outage.status}
            ),
            "resolve": forms.OutageResolveForm(auto_id="resolve-%s"),
            "edit": forms.OutageEditForm.for_outage(outage, auto_id="edit-%s"),
        }
        page_forms.update(bound or {})
    resolving = outage.status == OutageStatus.RESOLVED and outage.tickets_resolved_at is None
    return {
        "outage": outage,
        "updates": updates,
        "tickets": tickets,
        "tickets_next_url": _page_url(request, cursor=tickets.next_cursor)
        if tickets.next_cursor
        else None,
        "is_later_page": bool(request.GET.get("cursor")),
        "forms": page_forms,
        "open_form": next(iter(bound), None) if bound else None,
        "can_manage": can_manage,
        "resolving": resolving,
        "resolved_count": outage.linked - outage.linked_open,
        **extra,
    }


def _render_detail(request, outage_id: int, **kwargs):
    # Read the outage again: a refused service call may have left the instance in memory
    # behind what is stored.
    outage = permissions.outage_for(request.user, outage_id, selectors.outage_detail_queryset())
    return render(
        request, "tickets/outages/outage_detail.html", _detail_context(request, outage, **kwargs)
    )


@never_cache
@workspace_required
def outage_detail(request, outage_id: int):
    """One outage: its state, the updates, the forms to report and resolve, its tickets."""
    return _render_detail(request, outage_id)


def _managed(request, outage_id: int) -> Outage:
    outage = permissions.outage_for(request.user, outage_id)
    permissions.ensure_can_manage_outages(request.user)
    return outage


def _already_resolved(request, outage: Outage, message: str | None = None):
    messages.error(request, message or _("This outage is already resolved."))
    return redirect(outage)


def _refused(request, outage: Outage, form, error: DomainError):
    """A refusal goes next to its field; if the outage was resolved meanwhile, the page
    (which then has no forms any more) says so at the top."""
    if not Outage.objects.filter(pk=outage.pk, status__in=sorted(OUTAGE_ACTIVE)).exists():
        return _already_resolved(request, outage, error.message)
    _refuse(form, error)
    return None


@workspace_required
@require_POST
def outage_update(request, outage_id: int):
    """Post progress; with "notify" the linked tickets' customers get it by e-mail."""
    outage = _managed(request, outage_id)
    if not outage.is_active:
        return _already_resolved(request, outage)
    form = forms.OutageUpdateForm(request.POST, auto_id="update-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            outages.outage_update_post(
                outage=outage,
                text=data["text"],
                status=data["status"],
                expected_end_at=data["expected_end_at"],
                notify=data["notify"],
                actor=request.user,
            )
        except DomainError as error:
            answer = _refused(request, outage, form, error)
            if answer is not None:
                return answer
        else:
            notice = (
                _("Update posted; the customers of the linked tickets are being notified.")
                if data["notify"]
                else _("Update posted.")
            )
            messages.success(request, notice)
            return redirect(outage)
    return _render_detail(request, outage_id, bound={"update": form})


@workspace_required
@require_POST
def outage_resolve(request, outage_id: int):
    """Resolve once: the open linked tickets are resolved and their customers mailed."""
    outage = _managed(request, outage_id)
    if not outage.is_active:
        return _already_resolved(request, outage)
    form = forms.OutageResolveForm(request.POST, auto_id="resolve-%s")
    if form.is_valid():
        try:
            outages.outage_resolve(
                outage=outage, text=form.cleaned_data["text"], actor=request.user
            )
        except DomainError as error:
            answer = _refused(request, outage, form, error)
            if answer is not None:
                return answer
        else:
            messages.success(
                request,
                _("Outage resolved. Its open tickets are being resolved and their customers told."),
            )
            return redirect(outage)
    return _render_detail(request, outage_id, bound={"resolve": form})


@workspace_required
@require_POST
def outage_edit(request, outage_id: int):
    """Correct title, services, area or expected end; a stale form is refused."""
    outage = _managed(request, outage_id)
    if not outage.is_active:
        return _already_resolved(request, outage)
    form = forms.OutageEditForm(request.POST, auto_id="edit-%s")
    stale = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            outages.outage_edit(
                outage=outage,
                title=data["title"],
                description=data["description"],
                services=data["services"],
                area=data["area"],
                expected_end_at=data["expected_end_at"],
                actor=request.user,
                expected_version=data["version"],
            )
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            answer = _refused(request, outage, form, error)
            if answer is not None:
                return answer
        else:
            messages.success(request, _("Outage details saved."))
            return redirect(outage)
    return _render_detail(request, outage_id, bound={"edit": form}, stale=stale)


# --- The banner on the ticket page ------------------------------------------------------


def _ticket_answer(request, reference: str, *, run, notice: str):
    """Link or unlink from the ticket page: the ticket area again (htmx) or the page."""
    ticket = ticket_views._ticket(request, reference)
    permissions.ensure_can_work(request.user, ticket)
    try:
        run(ticket)
    except DomainError as error:
        if ticket_views._is_htmx(request):
            return ticket_views._render_ticket(
                request, ticket_views._ticket(request, reference), outage_error=error.message
            )
        messages.error(request, error.message)
        return redirect(ticket)
    return ticket_views._succeeded(
        request, reference, notice, origin_url=ticket.queue.get_absolute_url()
    )


@workspace_required
@require_POST
def ticket_outage_link(request, reference: str):
    """One click from the banner: this ticket belongs to the outage."""
    outage_id = request.POST.get("outage", "")
    outage = selectors.outage_get(outage_id)

    def run(ticket):
        if outage is None:
            raise DomainError(_("This outage does not exist (any more)."), field="outage")
        outages.ticket_outage_link(ticket=ticket, outage=outage, actor=request.user)

    title = outage.title if outage else ""
    return _ticket_answer(
        request,
        reference,
        run=run,
        notice=_("Linked with the outage “%(title)s”; resolving it resolves this ticket.")
        % {"title": title},
    )


@workspace_required
@require_POST
def ticket_outage_unlink(request, reference: str):
    """The ticket was not caused by the outage after all."""
    return _ticket_answer(
        request,
        reference,
        run=lambda ticket: outages.ticket_outage_unlink(ticket=ticket, actor=request.user),
        notice=_("No longer linked with the outage."),
    )


# --- The public status page -------------------------------------------------------------


@require_GET
def status_page(request):
    """Current outages by region for everyone, without login and without customer data.

    The outage part is rendered once per language and kept for 30 seconds, so a crowd of
    customers reloading during an outage costs the database nothing; the page around it
    (navigation, language switch) stays per visitor.
    """
    language = translation.get_language()
    key = STATUS_CACHE_KEY.format(language=language)
    outages_html = cache.get(key)
    if outages_html is None:
        outages_html = render_to_string(
            "tickets/outages/partials/status_outages.html",
            {"groups": selectors.public_outages(), "rendered_at": timezone.now()},
        )
        cache.set(key, outages_html, STATUS_PAGE_SECONDS)
    return render(
        request,
        "tickets/outages/status.html",
        {"outages_html": outages_html, "refresh_seconds": STATUS_PAGE_SECONDS},
    )
