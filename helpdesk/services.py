"""Project-wide writes: roles, API tokens, the audit trail, sessions, the beat heartbeat."""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.choices import STAFF_ROLES, AuditAction, Role
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES, ApiToken, AuditEvent, UserSession

log = logging.getLogger(__name__)

BEAT_TICK_KEY = "helpdesk:beat:last_tick"


@transaction.atomic
def user_role_grant(*, user: User, role: Role) -> User:
    """Give a user a role; staff roles and the customer role never mix."""
    current = set(user.groups.values_list("name", flat=True))
    if role == Role.CUSTOMER and current & STAFF_ROLES:
        raise DomainError(_("A staff member cannot also be a customer login."))
    if role in STAFF_ROLES and Role.CUSTOMER in current:
        raise DomainError(_("A customer login cannot also be a staff member."))
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    user.__dict__.pop("_helpdesk_roles", None)
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token for an integration user; the key is returned once and never stored."""
    if not user.groups.filter(name=Role.INTEGRATION).exists():
        raise DomainError(_("API tokens are only issued to integration users."), field="user")
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name, e.g. the system that uses it."), field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise DomainError(_("Unknown scope: %s") % ", ".join(unknown), field="scopes")
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:8],
        digest=ApiToken.digest_of(key),
        scopes=sorted(set(scopes)),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token with immediate effect; a second revoke changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def email_send(*, subject: str, body: str, to: list[str]) -> None:
    """Send one plain-text mail (called from Celery, never inside a request)."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)


def beat_tick_record(*, now: datetime) -> None:
    """Remember when the periodic health task last ran (read by /healthz)."""
    cache.set(BEAT_TICK_KEY, now.isoformat(), timeout=None)


def task_enqueue(task, *args, **kwargs) -> bool:
    """Hand a task to the broker; if the broker is down, log it and go on.

    Callers keep enough state in the database (an unsent mail, an unfired deadline) that
    a periodic pass finishes the work later, so a request never fails on the broker.
    """
    try:
        task.delay(*args, **kwargs)
    except Exception:  # kombu raises several types depending on the transport
        log.warning("broker unavailable: %s not queued; a periodic pass will catch up", task.name)
        return False
    return True


# Keys whose values never enter the audit trail, whatever a caller passes in `details`.
_SECRET_MARKERS = ("password", "secret", "token", "key", "code", "otp", "credential")


def _client_ip(request) -> str | None:
    """The address the request came from. Behind a TLS proxy (BEHIND_TLS_PROXY), the proxy
    sets REMOTE_ADDR through the WSGI server's forwarded-for handling, not us."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: AuditAction,
    request=None,
    actor: User | None = None,
    actor_label: str = "",
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one entry to the security audit trail.

    `actor` defaults to the request's signed-in user; `obj` fills type, id and label from a
    model instance (its `str()`). Detail keys that look like secrets are dropped.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if actor is not None and not actor_label:
        actor_label = actor.get_username()
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)
    clean = {
        key: value
        for key, value in (details or {}).items()
        if not any(marker in key.lower() for marker in _SECRET_MARKERS)
    }
    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor_label[:150],
        object_type=object_type[:40],
        object_id=str(object_id)[:64],
        object_label=object_label[:200],
        ip_address=_client_ip(request),
        user_agent=user_agent[:200],
        details=clean,
    )


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """End a user's sessions server-side (all, or all but the one named); returns how many."""
    sessions = UserSession.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    ended, _detail = sessions.delete()
    return ended


def user_access_end(*, user: User, request=None, reason: AuditAction) -> None:
    """A disabled user (or one whose roles changed) loses every session and token at once."""
    ended = user_sessions_end(user=user)
    revoked = ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
    audit_record(
        action=reason,
        request=request,
        obj=user,
        object_type="user",
        object_label=user.get_username(),
        details={"sessions_ended": ended, "tokens_revoked": revoked},
    )


def sessions_clear_expired() -> None:
    from helpdesk.sessions import SessionStore

    SessionStore.clear_expired()
