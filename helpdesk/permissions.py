"""Who may enter which side of the product: the agent workspace or the customer portal."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk.choices import STAFF_ROLES, Role


def roles_of(user) -> frozenset[str]:
    """The user's role names, read once per request (one query)."""
    if not user.is_authenticated:
        return frozenset()
    roles = user.__dict__.get("_helpdesk_roles")
    if roles is None:
        roles = frozenset(user.groups.values_list("name", flat=True))
        user.__dict__["_helpdesk_roles"] = roles
    return roles


def is_staff_member(user) -> bool:
    return bool(roles_of(user) & STAFF_ROLES) and user.is_active


def is_customer(user) -> bool:
    return Role.CUSTOMER in roles_of(user) and user.is_active


def is_integration(user) -> bool:
    return Role.INTEGRATION in roles_of(user) and user.is_active


def can_use_workspace(user) -> bool:
    return is_staff_member(user)


def can_use_portal(user) -> bool:
    return is_customer(user) and not is_staff_member(user)


def home_url_for(user) -> str:
    """Where a signed-in user belongs; the landing page for anyone else."""
    if can_use_workspace(user):
        return reverse("agent-home")
    if can_use_portal(user):
        return reverse("portal-home")
    return reverse("home")


def _side_required(check, login_url_name: str, refusal: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse(login_url_name))
            if not check(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def workspace_required(view):
    """Agent workspace pages: agents, team leads and management only."""
    return _side_required(
        can_use_workspace, "agent-login", _("This page belongs to the agent workspace.")
    )(view)


def portal_required(view):
    """Customer portal pages: customers only."""
    return _side_required(
        can_use_portal, "portal-login", _("This page belongs to the customer portal.")
    )(view)


def can_read_audit(user) -> bool:
    """The security audit trail: team leads and management (quality and leadership) only."""
    return is_staff_member(user) and bool({Role.TEAM_LEAD, Role.MANAGEMENT} & roles_of(user))


def ensure_can_read_audit(user) -> None:
    if not can_read_audit(user):
        raise PermissionDenied(_("Only team leads and management read the audit trail."))
