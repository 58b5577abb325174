"""Security events from Django and django-axes, written to the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver
from django.utils import timezone

from helpdesk import http, services, sessions, two_factor
from helpdesk.choices import AuditAction
from helpdesk.middleware import current_request


@receiver(user_logged_in)
def on_logged_in(sender, request, user, **kwargs):
    """Django's login() has already given the session a new id; stamp it for the
    time-outs and say whether the second factor is still owed."""
    now = timezone.now().isoformat()
    session = request.session
    session[sessions.SIGNED_IN_AT] = now
    session[sessions.SEEN_AT] = now
    session[sessions.IP_ADDRESS] = http.client_ip(request)
    session[sessions.USER_AGENT] = request.META.get("HTTP_USER_AGENT", "")[:200]
    pending = two_factor.needs_second_factor(user)
    session[sessions.TWO_FACTOR] = "pending" if pending else "none"
    services.audit_record(
        action=AuditAction.LOGIN,
        request=request,
        actor=user,
        details={"second_factor": "pending" if pending else "not required"},
    )


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the name is kept.
    username = str(credentials.get("username", ""))[:150]
    services.audit_record(
        action=AuditAction.LOGIN_FAILED,
        request=request,
        actor_label=username,
        object_type="user",
        object_label=username,
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    services.audit_record(
        action=AuditAction.LOCKED_OUT,
        request=request,
        actor_label=str(username or "")[:150],
        object_type="user",
        object_label=str(username or "")[:150],
    )


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.audit_record(action=AuditAction.LOGOUT, request=request, actor=user)


@receiver(pre_save, sender=User)
def on_user_saved(sender, instance, update_fields=None, **kwargs):
    """Disabling a user ends their sessions and tokens at once (admin or code alike)."""
    if instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        return
    was_active = User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    if was_active is None or was_active == instance.is_active:
        return
    if instance.is_active:
        services.audit_record(
            action=AuditAction.USER_ENABLED,
            request=current_request(),
            obj=instance,
            object_type="user",
            object_label=instance.get_username(),
        )
    else:
        services.user_access_end(
            user=instance, request=current_request(), reason=AuditAction.USER_DISABLED
        )


@receiver(m2m_changed, sender=User.groups.through)
def on_roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A role change is audited and ends the user's sessions: what they may see, and
    whether they owe a second factor, is decided again at their next sign-in."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    if action != "post_clear" and not names:
        return
    services.user_sessions_end(user=instance)
    services.audit_record(
        action=AuditAction.ROLE_GRANTED if action == "post_add" else AuditAction.ROLE_REVOKED,
        request=current_request(),
        obj=instance,
        object_type="user",
        object_label=instance.get_username(),
        details={"roles": names},
    )
