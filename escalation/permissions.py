"""The one place where access to escalation objects is decided (see STYLE.md R7).

- Business calendars and SLA policies: every staff member reads them (agents see the
  deadlines they produce), and so do integrations, whose token scopes limit them further.
- Only management changes them (a Django superuser too, but the API takes sessions of
  staff roles only, so an admin needs a role as well); integrations with `sla:write`.
- Customers never reach them: missing and not-for-you alike give 404.
- Requests to management, the board and the proposals are management's only (customer
  service, team leads and integrations get 404 for a request, 403 for the board). A
  customer sees and answers only their own requests and proposals (404 for others').
  Any agent who works a ticket may escalate it to management.
- KPIs (pages, CSV, `/api/v1/stats/`): management and team leads; integrations with the
  `stats:read` scope (reporting tools).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from escalation.choices import ProposalStatus, RequestStatus
from escalation.models import BusinessCalendar, ManagementRequest, Proposal, SlaPolicy
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


# --- Requests to management ------------------------------------------------------------------


def is_management(user) -> bool:
    return roles.is_staff_member(user) and Role.MANAGEMENT in roles.roles_of(user)


def ensure_management(user) -> None:
    """The management board and its pages (403 for other staff: the page exists)."""
    if not is_management(user):
        raise PermissionDenied


def management_requests_visible_to(user) -> QuerySet[ManagementRequest]:
    """Every list and lookup of requests to management starts here."""
    if is_management(user):
        return ManagementRequest.objects.all()
    if roles.can_use_portal(user):
        return ManagementRequest.objects.filter(customer__user=user)
    return ManagementRequest.objects.none()


def management_request_for(user, request_id, *, queryset=None) -> ManagementRequest:
    """A request for management's pages: 404 for anyone else, customers included."""
    if not is_management(user):
        raise Http404
    visible = management_requests_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, pk=_pk(request_id))


def own_management_request(user, request_id, *, queryset=None) -> ManagementRequest:
    """A portal customer's own request (404 for anything else, staff included)."""
    if not roles.can_use_portal(user):
        raise Http404
    visible = management_requests_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, pk=_pk(request_id))


def own_open_proposal(user, proposal_id) -> Proposal:
    """The customer's proposal to answer: 404 unless it is theirs; a proposal answered or
    withdrawn is still theirs (the service refuses a second answer with a message)."""
    if not roles.can_use_portal(user):
        raise Http404
    return get_object_or_404(
        Proposal.objects.select_related(
            "request__customer", "request__ticket", "invoice", "contract"
        ),
        pk=_pk(proposal_id),
        request__customer__user=user,
    )


def can_make_proposal(user, request: ManagementRequest) -> bool:
    return is_management(user) and request.status == RequestStatus.OPEN


def can_withdraw(user, proposal: Proposal) -> bool:
    return is_management(user) and proposal.status == ProposalStatus.OPEN


def can_escalate_to_management(user, ticket) -> bool:
    """Whoever works the ticket; whether the ticket can go is the service's to say."""
    from tickets import permissions as ticket_permissions

    return roles.is_staff_member(user) and ticket_permissions.can_work(user, ticket)


# --- KPIs ------------------------------------------------------------------------------------


def can_see_kpis(user) -> bool:
    return roles.is_staff_member(user) and bool(
        {Role.MANAGEMENT, Role.TEAM_LEAD} & roles.roles_of(user)
    )


def ensure_can_see_kpis(user) -> None:
    if not can_see_kpis(user):
        raise PermissionDenied
