"""Template filters for technician visits: what a page shows without another query."""

from django import template
from django.utils import timezone

from tickets import permissions
from tickets.selectors import visits as visit_selectors

register = template.Library()


@register.filter
def books_visits(ticket) -> bool:
    """Whether the ticket belongs to the department that books technician visits.

    Reads only the queue and department the ticket page has joined already.
    """
    return permissions.books_visits(ticket)


@register.filter
def active_visit(visits):
    """The proposed or confirmed visit among a ticket's visits, if any."""
    return visit_selectors.active_visit(list(visits or []))


@register.filter
def earlier_visits(visits) -> list:
    """A ticket's visits that are history (done, missed, cancelled, rescheduled)."""
    return [visit for visit in visits or [] if not visit.is_active]


@register.filter
def visit_begun(visit) -> bool:
    """Whether the visit's window has begun (the customer can no longer change it)."""
    return visit.window.starts_at() <= timezone.now()
