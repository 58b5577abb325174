"""The one place where access to feature_requests objects is decided (see STYLE.md R7).

- Every workspace user reads every request (the reason of a rejection is what the next
  agent reads out), files new ones and records asks. Customers never see them.
- Quality management is customer service's team leads plus management. It reviews new
  requests, rejects, merges duplicates, reopens a rejection, and passes requests on to the
  department they concern.
- A department's team leads decide what is passed to their department (accept, plan,
  done, reject, send back). Development and the web site work outside the helpdesk, so
  quality management records their decisions; management may act for any department.
- Integrations reach the API only; their token scopes decide (`feature_requests:read`,
  `feature_requests:write`, `feature_requests:review`).
- Missing and not-yours both give 404.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from feature_requests.choices import (
    HELPDESK_DEPARTMENTS,
    OUTSIDE_DEPARTMENTS,
    QM_STATUSES,
    TargetDepartment,
)
from feature_requests.models import FeatureRequest
from helpdesk import permissions as roles
from helpdesk.choices import Role
from tickets import permissions as tickets_permissions

QM_DEPARTMENT = "customer-service"
MAX_ID = 2**63 - 1


def can_use(user) -> bool:
    return roles.can_use_workspace(user) or roles.is_integration(user)


def ensure_can_use(user) -> None:
    if not can_use(user):
        raise PermissionDenied


def is_quality_management(user) -> bool:
    if roles.is_integration(user):
        return True
    if not roles.is_staff_member(user):
        return False
    if Role.MANAGEMENT in roles.roles_of(user):
        return True
    agent = tickets_permissions.agent_of(user)
    return bool(
        agent
        and agent.is_team_lead
        and any(department.slug == QM_DEPARTMENT for department in agent.departments.all())
    )


def reviewed_departments(user) -> frozenset[str]:
    """The target departments whose review the user decides: management and integrations
    all; team leads their own helpdesk departments; quality management also development
    and the web site, which decide outside the helpdesk and tell it."""
    if roles.is_integration(user) or (
        roles.is_staff_member(user) and Role.MANAGEMENT in roles.roles_of(user)
    ):
        return frozenset(TargetDepartment.values)
    agent = tickets_permissions.agent_of(user)
    if not agent or not agent.is_team_lead:
        return frozenset()
    own = {
        department.slug
        for department in agent.departments.all()
        if department.slug in HELPDESK_DEPARTMENTS
    }
    if is_quality_management(user):
        own |= OUTSIDE_DEPARTMENTS
    return frozenset(own)


def can_decide(user, request: FeatureRequest) -> bool:
    """Change the status (and, with it, title, description and department)."""
    if request.status in QM_STATUSES:
        return is_quality_management(user)
    return request.department in reviewed_departments(user)


def can_merge(user) -> bool:
    return is_quality_management(user)


def requests_visible_to(user) -> QuerySet[FeatureRequest]:
    """Every list, search and lookup of requests starts here."""
    return FeatureRequest.objects.all() if can_use(user) else FeatureRequest.objects.none()


def feature_request_for(
    user, request_id: int, *, decide: bool = False, queryset: QuerySet | None = None
) -> FeatureRequest:
    """The request with that id; 404 for missing and for users who see none; 403 when the
    user may read it but not decide it. `queryset` adds what the caller reads with it."""
    if not 0 < request_id <= MAX_ID:
        raise Http404
    visible = requests_visible_to(user)
    # The caller's queryset first: `&` keeps the left side's select_related.
    visible = queryset & visible if queryset is not None else visible.select_related("merged_into")
    request = get_object_or_404(visible, pk=request_id)
    if decide and not can_decide(user, request):
        raise PermissionDenied
    return request
