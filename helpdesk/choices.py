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


class AuditAction(models.TextChoices):
    """What a security audit entry records (helpdesk.models.AuditEvent)."""

    LOGIN = "auth.login", _("Signed in")
    LOGIN_FAILED = "auth.login_failed", _("Sign-in failed")
    LOCKED_OUT = "auth.locked_out", _("Locked out after failed sign-ins")
    LOGOUT = "auth.logout", _("Signed out")
    SESSION_EXPIRED = "auth.session_expired", _("Session timed out")
    SESSIONS_ENDED = "auth.sessions_ended", _("Sessions ended")
    PASSWORD_CHANGED = "auth.password_changed", _("Web password changed")
    PASSWORD_RESET = "auth.password_reset", _("Web password reset")
    TWO_FACTOR_ENROLLED = "2fa.enrolled", _("Two-factor sign-in set up")
    TWO_FACTOR_VERIFIED = "2fa.verified", _("Second factor accepted")
    TWO_FACTOR_FAILED = "2fa.failed", _("Second factor refused")
    TWO_FACTOR_RECOVERY_USED = "2fa.recovery_used", _("Recovery code used")
    TWO_FACTOR_RECOVERY_RENEWED = "2fa.recovery_renewed", _("Recovery codes renewed")
    TWO_FACTOR_DISABLED = "2fa.disabled", _("Two-factor sign-in switched off")
    PHONE_PASSWORD_CHECKED = "phone_password.checked", _("Phone password checked")
    PHONE_PASSWORD_CHANGED = "phone_password.changed", _("Phone password changed")
    PERMISSION_DENIED = "access.denied", _("Access refused")
    EXPORTED = "data.exported", _("Data exported")
    ERASED = "data.erased", _("Personal data erased")
    PSEUDONYMISED = "data.pseudonymised", _("Personal data pseudonymised (retention)")
    TOKEN_CREATED = "token.created", _("API token created")
    TOKEN_REVOKED = "token.revoked", _("API token revoked")
    ROLE_GRANTED = "role.granted", _("Role granted")
    ROLE_REVOKED = "role.revoked", _("Role taken away")
    USER_DISABLED = "user.disabled", _("User disabled")
    USER_ENABLED = "user.enabled", _("User enabled")
