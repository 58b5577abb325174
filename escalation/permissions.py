"""The one place where access to escalation objects is decided (see STYLE.md R7).

- Business calendars and SLA policies: every staff member reads them (agents see the
  deadlines they produce), and so do integrations, whose token scopes limit them further.
- Only management changes them (a Django superuser too, but the API takes sessions of
  staff roles only, so an admin needs a role as well); integrations with `sla:write`.
- Customers never reach them: missing and not-for-you alike give 404.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from escalation.models import BusinessCalendar, SlaPolicy
from helpdesk import permissions as roles
from helpdesk.choices import Role

MAX_ID = 2**31 - 1  # larger numbers are no row of ours (and would overflow SQLite)


def _pk(value) -> int:
    """An id from a URL; 0 (no row) for anything that is not one."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else 0


def can_read_sla(user) -> bool:
    return roles.is_staff_member(user) or roles.is_integration(user)


def can_manage_sla(user) -> bool:
    """Change calendars and policies: management, superusers with a staff role, integrations."""
    if roles.is_integration(user):
        return True
    return roles.is_staff_member(user) and (
        Role.MANAGEMENT in roles.roles_of(user) or user.is_superuser
    )


def ensure_can_manage_sla(user) -> None:
    if not can_manage_sla(user):
        raise PermissionDenied


def calendars_visible_to(user) -> QuerySet[BusinessCalendar]:
    if can_read_sla(user):
        return BusinessCalendar.objects.all()
    return BusinessCalendar.objects.none()


def policies_visible_to(user) -> QuerySet[SlaPolicy]:
    if can_read_sla(user):
        return SlaPolicy.objects.all()
    return SlaPolicy.objects.none()


def policy_for(user, policy_id, *, write: bool = False, queryset=None) -> SlaPolicy:
    """The policy with that id if the user may see it (404 otherwise); with `write`, 403
    unless the user may change it."""
    visible = policies_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    policy = get_object_or_404(visible, pk=_pk(policy_id))
    if write:
        ensure_can_manage_sla(user)
    return policy


def calendar_for(user, calendar_id, *, queryset=None) -> BusinessCalendar:
    """The calendar with that id if the user may see it; 404 otherwise."""
    visible = calendars_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, pk=_pk(calendar_id))


def can_watch_timer(user) -> bool:
    """Team leads and management see whether the SLA timer keeps up (workspace home)."""
    return roles.is_staff_member(user) and bool(
        {Role.TEAM_LEAD, Role.MANAGEMENT} & roles.roles_of(user)
    )
