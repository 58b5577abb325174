from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from escalation import permissions as escalation_permissions
from helpdesk import permissions, sessions
from helpdesk.choices import Role
from tickets import permissions as ticket_permissions


def navigation(request) -> dict:
    """Header navigation for the signed-in user's side of the product."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"side": None, "nav_items": [], "home_url": reverse("home")}
    items = []
    side = None
    # Until the second factor is entered, no page but its own answers: offer none.
    if request.session.get(sessions.TWO_FACTOR) not in ("ok", "none"):
        return {"side": None, "nav_items": [], "home_url": reverse("home")}
    if permissions.can_use_workspace(user):
        side = "workspace"
        items.append((reverse("agent-home"), _("Workspace"), ["/agent/tickets/queues/"]))
        items.append((reverse("tickets:my-tickets"), _("My tickets")))
        items.append((reverse("tickets:ticket-search"), _("Tickets"), ["/agent/tickets/"]))
        items.append((reverse("customers:customer-search"), _("Customers")))
        items.append((reverse("outages:outage-list"), _("Outages")))
        items.append((reverse("feature_requests:request-list"), _("Feature requests")))
        # Roles decide without a query; tech agents who only read the plan open it from
        # a tech ticket's visit card, so other pages need not read their departments.
        if ticket_permissions.can_dispatch(user):
            items.append((reverse("visits:day"), _("Visit planning")))
        if ticket_permissions.can_manage_text_modules(user):
            items.append((reverse("tickets:text-module-list"), _("Text modules")))
        if escalation_permissions.is_management(user):
            items.append((reverse("management:board"), _("Management"), ["/management/"]))
        if escalation_permissions.can_see_kpis(user):
            items.append((reverse("management:kpis"), _("KPIs")))
        if permissions.can_read_audit(user):
            items.append((reverse("audit:event-list"), _("Audit trail")))
        items.append((reverse("api-docs"), _("API documentation")))
        if user.is_staff:
            items.append((reverse("admin:index"), _("Administration")))
    elif permissions.can_use_portal(user):
        side = "portal"
        items.append((reverse("portal-home"), _("My requests"), ["/portal/requests/"]))
        items.append((reverse("portal-contracts"), _("My contracts")))
        items.append((reverse("portal-invoices"), _("My invoices")))
        items.append((reverse("portal-account"), _("My account")))
        items.append((reverse("portal_management:request-list"), _("Write to management")))
    current = _current(request.path, items)
    nav_items = [
        {"url": item[0], "label": item[1], "current": index == current}
        for index, item in enumerate(items)
    ]
    roles = permissions.roles_of(user)
    return {
        "side": side,
        "nav_items": nav_items,
        "home_url": permissions.home_url_for(user),
        # The signed-in name in the header opens the own sign-in and security page.
        "account_url": None if permissions.is_integration(user) else reverse("account:security"),
        "user_roles": [role for role in Role if role in roles],
    }


def _current(path: str, items: list[tuple]) -> int | None:
    """The item for this page: the longest of its URL and extra prefixes matching the path.

    A home page (/agent/, /portal/) matches only itself, besides its extra prefixes.
    """
    best, best_length = None, 0
    for index, (url, _label, *extra) in enumerate(items):
        prefixes = list(extra[0]) if extra else []
        if url in ("/agent/", "/portal/"):
            length = len(url) if path == url else 0
        else:
            prefixes.append(url)
            length = 0
        for prefix in prefixes:
            if path.startswith(prefix):
                length = max(length, len(prefix))
        if length > best_length:
            best, best_length = index, length
    return best
