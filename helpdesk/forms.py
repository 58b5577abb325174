from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from helpdesk import permissions


class _SideLoginForm(AuthenticationForm):
    allowed = staticmethod(lambda user: False)
    wrong_side_message = ""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not self.allowed(user):
            raise forms.ValidationError(self.wrong_side_message, code="wrong_side")


class AgentLoginForm(_SideLoginForm):
    """Sign-in for the agent workspace: staff roles only."""

    allowed = staticmethod(permissions.can_use_workspace)
    wrong_side_message = _("This sign-in is for staff. Customers sign in at the customer portal.")


class PortalLoginForm(_SideLoginForm):
    """Sign-in for the customer portal: customers only."""

    allowed = staticmethod(permissions.can_use_portal)
    wrong_side_message = _("This sign-in is for customers. Staff sign in at the agent workspace.")
