"""Pages of technician visits (thin views, STYLE R9).

- The ticket page's card (loaded by htmx, so the ticket page costs no query for it), with
  a plain page as the fallback without JavaScript.
- Booking and moving a visit while the customer is on the phone.
- The dispatcher's day plan: windows per region with their visits, technicians, done and
  missed, and the windows themselves. Tech agents read it; dispatchers change it.
- The customer's actions in the portal: confirm, cancel, ask to move.

Access is decided in `tickets.permissions` (404 for what the user may not see, 403 for
what they may see but not do); every change goes through `tickets.services.visits`, whose
refusals come back next to the form with nothing changed. Every form posts without
JavaScript: success redirects with a message, a refusal shows the page again.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk import permissions as roles
from helpdesk.errors import DomainError, StaleEdit
from helpdesk.permissions import workspace_required
from tickets import permissions, selectors
from tickets import visit_forms as forms
from tickets.choices import AppointmentStatus, MissedReason
from tickets.models import VisitWindow
from tickets.selectors import visits as visit_selectors
from tickets.services import visits as services


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _refuse(form, error: DomainError) -> None:
    """Put the service's reason next to the field it names (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _when(window: VisitWindow) -> str:
    """Day and hours of a window ("Tue 01.12.2026 08:00 to 12:00" with an en dash)."""
    day = date_format(window.date, "D d.m.Y")
    return f"{day} {window.starts:%H:%M}\u2013{window.ends:%H:%M}"


# --- The ticket page's card -------------------------------------------------------------------


def _tech_ticket(request, reference: str):
    ticket = permissions.ticket_for(request.user, reference, selectors.ticket_queryset())
    if not permissions.books_visits(ticket):
        raise Http404  # other departments book no visits: there is no card to show
    return ticket


def _render_card(request, ticket, *, cancel_form=None, stale=None, status: int = 200):
    visits = visit_selectors.ticket_visits(ticket=ticket)
    active = visit_selectors.active_visit(visits)
    context = {
        "ticket": ticket,
        "active": active,
        "history": [visit for visit in visits if visit is not active],
        "missed": visit_selectors.last_missed(visits),
        "can_book": permissions.can_book_visit(request.user, ticket) and not ticket.is_done,
        "can_see_day_plan": permissions.can_see_day_plan(request.user),
        "cancel_form": cancel_form
        or forms.CancelForm(initial={"version": active.version if active else None}),
        "stale": stale,
    }
    if _is_htmx(request):
        return render(request, "tickets/visits/partials/card.html", context, status=status)
    return render(request, "tickets/visits/ticket.html", context, status=status)


@never_cache
@workspace_required
def ticket_visits(request, reference: str):
    """The ticket's visits: the one planned, the earlier ones, and what the agent may do."""
    return _render_card(request, _tech_ticket(request, reference))


# --- Booking and moving -----------------------------------------------------------------------


def _booking_ticket(request, reference: str):
    ticket = permissions.ticket_for(request.user, reference, selectors.ticket_queryset())
    if not permissions.books_visits(ticket):
        raise PermissionDenied(
            _("Only tickets of the tech department can book a technician visit.")
        )
    permissions.ensure_can_book_visit(request.user, ticket)
    return ticket


def _region_of(ticket):
    postal_code = ticket.customer.postal_code if ticket.customer else ""
    return visit_selectors.region_for_postal_code(postal_code)


def _visit_of(visits, raw):
    """The ticket's visit with this id (from `?rebook=` or the form), or None."""
    try:
        wanted = int(raw)
    except (TypeError, ValueError):
        return None
    return next((visit for visit in visits if visit.pk == wanted), None)


def _booking_page(request, *, ticket, region, form, mode: str, status: int = 200, **extra):
    current = extra.get("appointment")
    windows = visit_selectors.free_windows(region=region) if region else []
    if current is not None:
        windows = [window for window in windows if window.pk != current.window_id]
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "region": region,
        "windows": windows,
        "form": form,
        "selected": str(form["window"].value() or ""),
        "mode": mode,
        **extra,
    }
    return render(request, "tickets/visits/book.html", context, status=status)


@never_cache
@workspace_required
@require_http_methods(["GET", "POST"])
def visit_book(request, reference: str):
    """Book a visit: the customer's region, the next free windows, technician and note."""
    ticket = _booking_ticket(request, reference)
    region = _region_of(ticket)
    visits = visit_selectors.ticket_visits(ticket=ticket)
    posted = request.method == "POST"
    rebook_id = request.POST.get("rebooking_of") if posted else request.GET.get("rebook")
    rebooking = _visit_of(visits, rebook_id)
    form = forms.BookForm(
        request.POST if posted else None,
        technicians=visit_selectors.region_technicians(region=region) if region else [],
        initial={"rebooking_of": rebooking.pk if rebooking else None},
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        if data["rebooking_of"] and rebooking is None:
            form.add_error(None, _("Only a missed visit of this ticket can be rebooked."))
        else:
            try:
                appointment = services.appointment_book(
                    ticket=ticket,
                    window=data["window"],
                    actor=request.user,
                    technician=data["technician"],
                    note=data["note"],
                    confirmed=data["confirmed"],
                    rebooking_of=rebooking,
                )
            except DomainError as error:
                _refuse(form, error)
            else:
                when = _when(appointment.window)
                if appointment.status == AppointmentStatus.CONFIRMED:
                    notice = _("Visit booked for %(when)s; the customer gets an e-mail.")
                else:
                    notice = _(
                        "Visit proposed for %(when)s; the customer confirms it in the portal."
                    )
                messages.success(request, notice % {"when": when})
                return redirect(ticket)
    return _booking_page(
        request,
        ticket=ticket,
        region=region,
        form=form,
        mode="book",
        status=400 if form.errors else 200,
        active=visit_selectors.active_visit(visits),
        rebooking=rebooking,
    )


@never_cache
@workspace_required
@require_http_methods(["GET", "POST"])
def visit_reschedule(request, appointment_id: int):
    """Move a planned visit to another window: the same page as booking."""
    appointment = permissions.appointment_for(request.user, appointment_id)
    ticket = appointment.ticket
    permissions.ensure_can_book_visit(request.user, ticket)
    if not appointment.is_active:
        messages.error(request, _("This visit is no longer planned."))
        return redirect(ticket)
    region = _region_of(ticket) or appointment.window.region
    posted = request.method == "POST"
    form = forms.RescheduleForm(
        request.POST if posted else None, initial={"version": appointment.version}
    )
    stale = None
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.appointment_reschedule(
                appointment=appointment,
                window=data["window"],
                actor=request.user,
                expected_version=data["version"],
            )
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Visit moved to %(when)s; the customer gets an e-mail.")
                % {"when": _when(new.window)},
            )
            return redirect(ticket)
        # A refused move may have changed the instance in memory: read it again.
        appointment = permissions.appointment_for(request.user, appointment_id)
        if stale:
            form = forms.RescheduleForm(initial={"version": appointment.version})
    return _booking_page(
        request,
        ticket=ticket,
        region=region,
        form=form,
        mode="move",
        status=409 if stale else (400 if form.errors else 200),
        appointment=appointment,
        stale=stale,
    )


@workspace_required
@require_POST
def visit_cancel(request, appointment_id: int):
    """Cancel a planned visit with a reason; its place is free again."""
    appointment = permissions.appointment_for(request.user, appointment_id)
    ticket = appointment.ticket
    permissions.ensure_can_book_visit(request.user, ticket)
    form = forms.CancelForm(request.POST)
    stale = None
    if form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Visit on %(when)s cancelled; the window has room again.")
                % {"when": _when(appointment.window)},
            )
            return redirect(ticket)
    ticket = _tech_ticket(request, ticket.reference)
    if stale:
        return _render_card(request, ticket, stale=stale, status=409)
    return _render_card(request, ticket, cancel_form=form, status=400)


@workspace_required
@require_POST
def visit_confirm(request, appointment_id: int):
    """The customer confirmed a proposed visit on the phone."""
    appointment = permissions.appointment_for(request.user, appointment_id)
    permissions.ensure_can_book_visit(request.user, appointment.ticket)
    try:
        services.appointment_confirm(appointment=appointment, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Visit confirmed."))
    return redirect(appointment.ticket)


# --- The dispatcher's day plan ----------------------------------------------------------------


def _day_of(raw) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return timezone.localdate()


def _region_id(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _day_url(day: date, region_id: int | None = None) -> str:
    params = {"day": day.isoformat()}
    if region_id:
        params["region"] = region_id
    return f"{reverse('visits:day')}?{urlencode(params)}"


def _back(request) -> tuple[date, int | None]:
    """The day and region filter the plan showed when the form was posted."""
    return _day_of(request.POST.get("back_day")), _region_id(request.POST.get("back_region"))


def _render_day(request, *, day: date, region_id: int | None, bound=None, status: int = 200):
    """The plan of one day; `bound` puts a refused form back where it was posted."""
    user = request.user
    regions = list(visit_selectors.regions())
    region = next((region for region in regions if region.pk == region_id), None)
    plan = visit_selectors.dispatcher_day(day=day, region=region)
    can_dispatch = permissions.can_dispatch(user)
    bound = bound or {}
    now = timezone.now()
    totals = {"windows": 0, "visits": 0, "open": 0}
    for entry in plan:
        entry["visit_count"] = 0
        offered = {technician.pk for technician in entry["technicians"]}
        for window in entry["windows"]:
            window.visits = list(window.appointments.all())
            window.has_begun = window.starts_at() <= now
            window.is_full = window.booked >= window.capacity
            if bound.get("window") == window.pk:
                window.refused = bound
            active = [visit for visit in window.visits if visit.is_active]
            entry["visit_count"] += len(active)
            totals["windows"] += 1
            totals["visits"] += len(active)
            for visit in window.visits:
                visit.can_close = (
                    can_dispatch
                    and visit.status == AppointmentStatus.CONFIRMED
                    and window.has_begun
                )
                if bound.get("visit") == visit.pk:
                    visit.refused = bound
                # A technician no longer active (or no longer in the region) stays in the
                # menu, so the form shows who goes and saving it does not silently drop them.
                visit.unlisted_technician = (
                    visit.technician if visit.technician_id not in offered | {None} else None
                )
                if visit.is_active and visit.technician_id is None:
                    totals["open"] += 1
    window_form = bound.get("form") if bound.get("kind") == "window" else None
    fill_form = bound.get("form") if bound.get("kind") == "fill" else None
    context = {
        "day": day,
        "today": timezone.localdate(),
        "previous_url": _day_url(day - timedelta(days=1), region_id),
        "next_url": _day_url(day + timedelta(days=1), region_id),
        "today_url": _day_url(timezone.localdate(), region_id),
        "regions": regions,
        "region": region,
        "plan": plan,
        "totals": totals,
        "can_dispatch": can_dispatch,
        "missed_reasons": MissedReason.choices,
        "window_form": window_form or forms.WindowForm(initial={"date": day}),
        "fill_form": fill_form or forms.FillForm(initial={"days": 14}),
        "bound": bound,
    }
    return render(request, "tickets/visits/day.html", context, status=status)


@never_cache
@workspace_required
def visit_day(request):
    """One day's windows per region with their visits, priority rebookings first."""
    if not permissions.can_see_day_plan(request.user):
        raise PermissionDenied
    return _render_day(
        request,
        day=_day_of(request.GET.get("day")),
        region_id=_region_id(request.GET.get("region")),
    )


def _dispatch_visit(request, appointment_id: int, *, form_class, kind: str, run, notice):
    """One dispatcher action on a visit; a refusal shows the plan with the reason at the row."""
    permissions.ensure_can_dispatch(request.user)
    appointment = permissions.appointment_for(request.user, appointment_id)
    _day, region_id = _back(request)
    form = form_class(request.POST)
    stale = None
    if form.is_valid():
        try:
            run(appointment, form.cleaned_data)
        except StaleEdit as error:
            stale = error.message
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(request, notice(appointment, form.cleaned_data))
            return redirect(_day_url(appointment.window.date, region_id))
    if stale:
        form.add_error(None, stale)
    bound = {"kind": kind, "visit": appointment.pk, "form": form}
    return _render_day(
        request,
        day=appointment.window.date,
        region_id=region_id,
        bound=bound,
        status=409 if stale else 400,
    )


@workspace_required
@require_POST
def visit_technician(request, appointment_id: int):
    """Send a technician (own staff or a subcontractor's), or take the assignment back."""

    def run(appointment, data):
        services.appointment_technician_set(
            appointment=appointment, technician=data["technician"], actor=request.user
        )

    def notice(appointment, data):
        if data["technician"] is None:
            return _("No technician assigned to %(reference)s any more.") % {
                "reference": appointment.ticket.reference
            }
        return _("%(technician)s goes to %(reference)s.") % {
            "technician": data["technician"],
            "reference": appointment.ticket.reference,
        }

    return _dispatch_visit(
        request,
        appointment_id,
        form_class=forms.TechnicianForm,
        kind="technician",
        run=run,
        notice=notice,
    )


@workspace_required
@require_POST
def visit_done(request, appointment_id: int):
    """The technician was there: the ticket goes back to its agent to close it."""

    def run(appointment, data):
        services.appointment_done(
            appointment=appointment,
            actor=request.user,
            outcome=data["outcome"],
            expected_version=data["version"],
        )

    return _dispatch_visit(
        request,
        appointment_id,
        form_class=forms.DoneForm,
        kind="done",
        run=run,
        notice=lambda appointment, data: (
            _("Visit for %(reference)s recorded as done.")
            % {"reference": appointment.ticket.reference}
        ),
    )


@workspace_required
@require_POST
def visit_missed(request, appointment_id: int):
    """The visit did not happen: the ticket reopens for a priority rebooking."""

    def run(appointment, data):
        services.appointment_missed(
            appointment=appointment,
            actor=request.user,
            reason=data["reason"],
            note=data["note"],
            expected_version=data["version"],
        )

    return _dispatch_visit(
        request,
        appointment_id,
        form_class=forms.MissedForm,
        kind="missed",
        run=run,
        notice=lambda appointment, data: (
            _(
                "Visit for %(reference)s recorded as missed; the ticket is back in its queue "
                "for a priority rebooking."
            )
            % {"reference": appointment.ticket.reference}
        ),
    )


@workspace_required
@require_POST
def window_create(request):
    """Open one more time window."""
    permissions.ensure_can_dispatch(request.user)
    back_day, region_id = _back(request)
    form = forms.WindowForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            window = services.visit_window_create(
                region=data["region"],
                day=data["date"],
                starts=data["starts"],
                ends=data["ends"],
                capacity=data["capacity"],
                actor=request.user,
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Window %(when)s opened in %(region)s.")
                % {"when": _when(window), "region": window.region.name},
            )
            return redirect(_day_url(window.date, region_id))
    bound = {"kind": "window", "form": form}
    return _render_day(request, day=back_day, region_id=region_id, bound=bound, status=400)


@workspace_required
@require_POST
def window_capacity(request, window_id: int):
    """Change how many visits fit in a window; never below what is booked."""
    permissions.ensure_can_dispatch(request.user)
    window = get_object_or_404(VisitWindow.objects.select_related("region"), pk=window_id)
    _day, region_id = _back(request)
    form = forms.CapacityForm(request.POST)
    if form.is_valid():
        try:
            services.visit_window_capacity_set(
                window=window, capacity=form.cleaned_data["capacity"], actor=request.user
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _("Window %(when)s now has room for %(capacity)d visits.")
                % {"when": _when(window), "capacity": window.capacity},
            )
            return redirect(_day_url(window.date, region_id))
    bound = {"kind": "capacity", "window": window.pk, "form": form}
    return _render_day(request, day=window.date, region_id=region_id, bound=bound, status=400)


@workspace_required
@require_POST
def windows_fill(request):
    """Open the standard windows of one region (or all) for the next days."""
    permissions.ensure_can_dispatch(request.user)
    back_day, region_id = _back(request)
    form = forms.FillForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        chosen = [data["region"]] if data["region"] else list(visit_selectors.regions())
        today = timezone.localdate()
        opened = sum(
            services.visit_windows_fill(region=region, first_day=today, days=data["days"])
            for region in chosen
        )
        if opened:
            notice = ngettext("%(count)d window opened.", "%(count)d windows opened.", opened) % {
                "count": opened
            }
        else:
            notice = _("No new windows: those days have their windows already.")
        messages.success(request, notice)
        return redirect(_day_url(back_day, region_id))
    bound = {"kind": "fill", "form": form}
    return _render_day(request, day=back_day, region_id=region_id, bound=bound, status=400)


# --- The customer portal ----------------------------------------------------------------------


def _portal_done(request, appointment, notice: str):
    messages.success(request, notice)
    url = reverse("portal_tickets:ticket-detail", args=[appointment.ticket.reference])
    return redirect(f"{url}#visit")


def _portal_page(request, appointment, *, status: int = 200, **forms_and_error):
    context = {"visit": appointment, "ticket": appointment.ticket, **forms_and_error}
    return render(request, "tickets/visits/portal_visit.html", context, status=status)


@roles.portal_required
def portal_visit(request, appointment_id: int):
    """The customer's visit on its own page (where a refused action shows its reason)."""
    return _portal_page(request, permissions.own_appointment(request.user, appointment_id))


def _portal_act(request, appointment_id: int, *, form_class, name: str, run, notice: str):
    appointment = permissions.own_appointment(request.user, appointment_id)
    form = form_class(request.POST) if form_class else None
    error = ""
    if form is None or form.is_valid():
        try:
            run(appointment, form.cleaned_data if form else {})
        except DomainError as exc:
            if form is not None and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                error = exc.message
        else:
            return _portal_done(request, appointment, notice)
    appointment = permissions.own_appointment(request.user, appointment_id)
    extra = {name: form} if form is not None else {}
    return _portal_page(request, appointment, status=400, error=error, **extra)


@roles.portal_required
@require_POST
def portal_confirm(request, appointment_id: int):
    return _portal_act(
        request,
        appointment_id,
        form_class=None,
        name="",
        run=lambda appointment, data: services.appointment_confirm(
            appointment=appointment, actor=request.user
        ),
        notice=_("Thank you: your appointment is confirmed."),
    )


@roles.portal_required
@require_POST
def portal_cancel(request, appointment_id: int):
    return _portal_act(
        request,
        appointment_id,
        form_class=forms.PortalCancelForm,
        name="cancel_form",
        run=lambda appointment, data: services.appointment_cancel(
            appointment=appointment, actor=request.user, reason=data["reason"]
        ),
        notice=_(
            "Your appointment is cancelled. If you still need a technician, just write to us."
        ),
    )


@roles.portal_required
@require_POST
def portal_move(request, appointment_id: int):
    return _portal_act(
        request,
        appointment_id,
        form_class=forms.PortalMoveForm,
        name="move_form",
        run=lambda appointment, data: services.appointment_move_request(
            appointment=appointment, actor=request.user, text=data["text"]
        ),
        notice=_("Thank you. We have your wish and will get back to you."),
    )
