from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A user's role; stored as a Django group of the same name."""

    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    MANAGEMENT = "management", _("Management")
    DISPATCHER = "dispatcher", _("Dispatcher")
    CUSTOMER = "customer", _("Customer")
    INTEGRATION = "integration", _("Integration")


# Roles that work in the agent workspace; they never mix with the customer role.
STAFF_ROLES = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.MANAGEMENT, Role.DISPATCHER})
