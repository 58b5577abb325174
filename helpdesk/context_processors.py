from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk import permissions
from helpdesk.choices import Role


def navigation(request) -> dict:
    """Header navigation for the signed-in user's side of the product."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"side": None, "nav_items": [], "home_url": reverse("home")}
    items = []
    side = None
    if permissions.can_use_workspace(user):
        side = "workspace"
        items.append((reverse("agent-home"), _("Workspace")))
        items.append((reverse("tickets:my-tickets"), _("My tickets")))
        items.append((reverse("tickets:ticket-search"), _("Tickets")))
        items.append((reverse("customers:customer-search"), _("Customers")))
        items.append((reverse("api-docs"), _("API documentation")))
        if user.is_staff:
            items.append((reverse("admin:index"), _("Administration")))
    elif permissions.can_use_portal(user):
        side = "portal"
        items.append((reverse("portal-home"), _("My requests")))
        items.append((reverse("portal-contracts"), _("My contracts")))
        items.append((reverse("portal-invoices"), _("My invoices")))
        items.append((reverse("portal-account"), _("My account")))
    nav_items = [
        {"url": url, "label": label, "current": _is_current(request.path, url)}
        for url, label in items
    ]
    roles = permissions.roles_of(user)
    return {
        "side": side,
        "nav_items": nav_items,
        "home_url": permissions.home_url_for(user),
        "user_roles": [role for role in Role if role in roles],
    }


def _is_current(path: str, url: str) -> bool:
    """The item for this page; sections below a home page (/agent/customers/…) count too."""
    if url in ("/agent/", "/portal/"):
        return path == url
    return path.startswith(url)
