"""Who must sign in with a second factor (TOTP from an authenticator app)."""

from django.conf import settings
from django_otp import user_has_device

from helpdesk.choices import STAFF_ROLES, Role
from helpdesk.permissions import roles_of


def is_required(user) -> bool:
    """Management and admin accounts always; other staff unless relaxed for a demo
    (TWO_FACTOR_FOR_AGENTS=optional); customers only when they set it up themselves."""
    if user.is_superuser or user.is_staff:
        return True
    roles = roles_of(user)
    if Role.MANAGEMENT in roles:
        return True
    if roles & STAFF_ROLES:
        return settings.TWO_FACTOR_FOR_AGENTS == "required"
    return False


def has_device(user) -> bool:
    """Whether the user has a confirmed authenticator (recovery codes alone do not count)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    return is_required(user) or has_device(user)


__all__ = ["has_device", "is_required", "needs_second_factor", "user_has_device"]
