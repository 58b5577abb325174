"""Project-wide reads: the security audit trail's search, a user's own security state."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from helpdesk.models import AuditEvent, UserSession

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What the search page asks for; empty values do not filter."""

    actions: list[str] = field(default_factory=list)
    who: str = ""
    who_prefix: bool = False
    object_type: str = ""
    object: str = ""
    ip: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before: tuple[datetime, int] | None = None  # the last row of the previous page


@dataclass
class AuditPage:
    rows: list[AuditEvent]
    next_cursor: str | None


def audit_cursor(event: AuditEvent) -> str:
    """`<at in UTC>,<id>`: where the next page starts (newest first)."""
    return f"{event.at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ},{event.pk}"


def _filtered(rows: QuerySet[AuditEvent], query: AuditFilter) -> QuerySet[AuditEvent]:
    # Each filter has its index (see AuditEvent.Meta): action, name, object, address, time.
    if query.actions:
        rows = rows.filter(action__in=query.actions)
    if query.who:
        lookup = "actor_label__startswith" if query.who_prefix else "actor_label"
        rows = rows.filter(**{lookup: query.who})
    if query.object:
        if query.object_type and query.object.isascii() and query.object.isdigit():
            rows = rows.filter(object_type=query.object_type, object_id=query.object)
        else:
            rows = rows.filter(object_label=query.object)
            if query.object_type:
                rows = rows.filter(object_type=query.object_type)
    if query.ip:
        rows = rows.filter(ip_address=query.ip)
    if query.since:
        rows = rows.filter(at__gte=query.since)
    if query.until:
        rows = rows.filter(at__lt=query.until)
    return rows


def audit_event_list(*, query: AuditFilter, size: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """One page of the audit trail, newest first, after `query.before` (one query,
    whatever the size of the trail: keyset pagination on (at, id))."""
    rows = _filtered(AuditEvent.objects.all(), query)
    if query.before is not None:
        at, pk = query.before
        rows = rows.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    found = list(rows.order_by("-at", "-id")[: size + 1])
    next_cursor = audit_cursor(found[size - 1]) if len(found) > size else None
    return AuditPage(rows=found[:size], next_cursor=next_cursor)


@dataclass
class AccountSecurity:
    device: object | None  # the confirmed authenticator (TOTP device), if any
    recovery_left: int
    sessions: QuerySet[UserSession]  # live sessions, newest first, to paginate


def account_security(*, user) -> AccountSecurity:
    """The account page's reads: the authenticator, recovery codes left, live sessions."""
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    recovery_left = (
        StaticToken.objects.filter(device__user=user).count() if device is not None else 0
    )
    sessions = UserSession.objects.filter(user=user, expire_date__gt=timezone.now()).order_by(
        "-created_at", "session_key"
    )
    return AccountSecurity(device=device, recovery_left=recovery_left, sessions=sessions)
