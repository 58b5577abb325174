"""Project-wide writes: roles, API tokens, the beat heartbeat."""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.choices import STAFF_ROLES, Role
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES, ApiToken

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
