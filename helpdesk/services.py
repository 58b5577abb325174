"""Project-wide writes: roles, API tokens, the audit trail, sessions, the beat heartbeat."""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import http
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
def api_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    actor: User | None = None,
    actor_label: str = "",
    request=None,
) -> tuple[ApiToken, str]:
    """Create a token for an integration user; the key is returned once and never stored.

    The audit entry names the token by its prefix; the key itself goes nowhere but back to
    the caller, who shows it once.
    """
    if not user.is_active or not user.groups.filter(name=Role.INTEGRATION).exists():
        raise DomainError(_("API tokens are only issued to integration users."), field="user")
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name, e.g. the system that uses it."), field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise DomainError(_("Unknown scope: %s") % ", ".join(unknown), field="scopes")
    if not scopes:
        raise DomainError(_("Choose at least one scope."), field="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("The expiry must lie in the future."), field="expires_at")
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:8],
        digest=ApiToken.digest_of(key),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        request=request,
        actor=actor,
        actor_label=actor_label,
        obj=token,
        details={
            "name": token.name,
            "user": user.get_username(),
            "scopes": token.scopes,
            "expires_at": expires_at.astimezone(UTC).isoformat() if expires_at else None,
            "prefix": token.prefix,
        },
    )
    return token, key


@transaction.atomic
def api_token_revoke(
    *, token: ApiToken, actor: User | None = None, actor_label: str = "", request=None
) -> ApiToken:
    """Revoke a token with immediate effect; a second revoke changes nothing (no audit)."""
    now = timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now):
        audit_record(
            action=AuditAction.TOKEN_REVOKED,
            request=request,
            actor=actor,
            actor_label=actor_label,
            obj=token,
            details={"name": token.name, "prefix": token.prefix},
        )
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
        ip_address=http.client_ip(request),
        user_agent=user_agent[:200],
        details=clean,
    )


def access_denied_record(*, request, path: str, method: str) -> AuditEvent | None:
    """Audit a refused request (page or API: 403). A failing write is logged and swallowed,
    in its own savepoint: the refusal itself must still reach the caller unchanged."""
    match = getattr(request, "resolver_match", None)
    if match is not None and "token" in match.kwargs:
        path = "/" + match.route  # a file's download token stays out of the trail
    try:
        with transaction.atomic():
            return audit_record(
                action=AuditAction.PERMISSION_DENIED,
                request=request,
                details={"path": path[:300], "method": method[:10]},
            )
    except DatabaseError:
        log.warning("audit entry for a refused request not written", exc_info=True)
        return None


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


# --- Second factor (TOTP from an authenticator app, recovery codes) and web passwords ---------
# Codes, secrets and passwords never enter the audit trail or a log line: the entries name
# the method ("authenticator", "recovery code") and counts only.

RECOVERY_CODE_COUNT = 10


def _totp_devices(user: User):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user)


def _throttled(device) -> datetime | None:
    """When the device accepts codes again after wrong ones (django-otp's back-off)."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    return (data or {}).get("locked_until") or timezone.now()


def _throttle_error(until: datetime, *, field: str) -> DomainError:
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return DomainError(
        _("Too many wrong codes. Please wait %(seconds)s seconds and try again.")
        % {"seconds": seconds},
        field=field,
    )


def _code_check(*, devices, code: str, field: str, missing: DomainError) -> tuple[object, bool]:
    """Check one code on the first of `devices`, locked, unless django-otp's back-off after
    wrong codes still lasts. Returns the device and whether the code was right; a wrong
    code's count is committed with this block, so the refusal that follows keeps it."""
    with transaction.atomic():
        device = devices.select_for_update().first()
        if device is None:
            raise missing
        until = _throttled(device)
        if until is not None:
            raise _throttle_error(until, field=field)
        return device, device.verify_token(code)


def _code_refused(*, user: User, device, method: str, message: str, field: str, request):
    """Audit a wrong code (the method and the failure count, never the code) and refuse it."""
    audit_record(
        action=AuditAction.TWO_FACTOR_FAILED,
        request=request,
        actor=user,
        details={"method": method, "failures": device.throttling_failure_count},
    )
    raise DomainError(message, field=field)


def recovery_code_format(code: str) -> str:
    """A recovery code as shown to the user: two groups of four, e.g. `ab2c-de3f`."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def _recovery_code_normalise(raw: str) -> str:
    return "".join(ch for ch in raw.lower() if ch.isalnum())


def _recovery_codes_new(*, user: User) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _index in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [recovery_code_format(code) for code in codes]


@transaction.atomic
def two_factor_enrol_start(*, user: User):
    """The authenticator being set up: an unconfirmed TOTP device, kept across reloads so
    the QR code does not change while the user scans it."""
    device = _totp_devices(user).filter(confirmed=False).order_by("pk").first()
    if device is None:
        device = _totp_devices(user).model.objects.create(
            user=user, name=settings.OTP_TOTP_ISSUER[:64], confirmed=False
        )
    return device


def two_factor_enrol_confirm(
    *, user: User, code: str, password: str | None = None, request=None
) -> tuple[object, list[str]]:
    """Confirm the authenticator being set up with its first code. It replaces any earlier
    one; ten new recovery codes are made and returned (to be shown once). Set up from a
    session already signed in (opting in, a new phone), it needs the current web password."""
    if password is not None:
        _current_password_check(user, password)
    expired = DomainError(_("The set-up has expired. Please start again."), field="code")
    device, verified = _code_check(
        devices=_totp_devices(user).filter(confirmed=False).order_by("pk"),
        code=code,
        field="code",
        missing=expired,
    )
    if not verified:
        _code_refused(
            user=user,
            device=device,
            method="set-up",
            message=_(
                "That code is not right. Check the time on your phone and enter the current code."
            ),
            field="code",
            request=request,
        )
    with transaction.atomic():
        # Guarded: a second confirmation of the same set-up finds it confirmed already.
        if not _totp_devices(user).filter(pk=device.pk, confirmed=False).update(confirmed=True):
            raise expired
        device.confirmed = True
        replaced = _totp_devices(user).exclude(pk=device.pk).delete()[0]
        codes = _recovery_codes_new(user=user)
        audit_record(
            action=AuditAction.TWO_FACTOR_ENROLLED,
            request=request,
            actor=user,
            details={"replaced_earlier": bool(replaced), "issued": len(codes)},
        )
    return device, codes


def two_factor_verify(*, user: User, code: str, request=None):
    """Check a code from the user's authenticator; returns the device. Refused: wrong code,
    a code already used (django-otp keeps the last time step), or too many wrong codes."""
    device, verified = _code_check(
        devices=_totp_devices(user).filter(confirmed=True).order_by("pk"),
        code=code,
        field="code",
        missing=DomainError(_("No authenticator app is set up for this account.")),
    )
    if not verified:
        _code_refused(
            user=user,
            device=device,
            method="authenticator",
            message=_("That code is not right or has been used already. Enter the current code."),
            field="code",
            request=request,
        )
    audit_record(
        action=AuditAction.TWO_FACTOR_VERIFIED,
        request=request,
        actor=user,
        details={"method": "authenticator"},
    )
    return device


def two_factor_recovery_verify(*, user: User, code: str, request=None):
    """Accept one recovery code instead of the authenticator; each code works once."""
    from django_otp.plugins.otp_static.models import StaticDevice

    device, verified = _code_check(
        devices=StaticDevice.objects.filter(user=user).order_by("pk"),
        code=_recovery_code_normalise(code),
        field="recovery_code",
        missing=DomainError(_("That recovery code is not right."), field="recovery_code"),
    )
    if not verified:
        _code_refused(
            user=user,
            device=device,
            method="recovery code",
            message=_("That recovery code is not right or has been used already."),
            field="recovery_code",
            request=request,
        )
    audit_record(
        action=AuditAction.TWO_FACTOR_RECOVERY_USED,
        request=request,
        actor=user,
        details={"remaining": device.token_set.count()},
    )
    return device


def _current_password_check(user: User, password: str) -> None:
    if not user.check_password(password or ""):
        raise DomainError(_("Your current web password is not right."), field="password")


@transaction.atomic
def two_factor_recovery_codes_renew(*, user: User, password: str, request=None) -> list[str]:
    """New recovery codes (the old ones stop working); needs the current web password."""
    _current_password_check(user, password)
    if not _totp_devices(user).filter(confirmed=True).exists():
        raise DomainError(_("Set up two-factor sign-in first."))
    codes = _recovery_codes_new(user=user)
    audit_record(
        action=AuditAction.TWO_FACTOR_RECOVERY_RENEWED,
        request=request,
        actor=user,
        details={"issued": len(codes)},
    )
    return codes


def two_factor_disable(*, user: User, password: str, code: str, request=None) -> None:
    """Switch two-factor sign-in off, where the user may (customers; agents when it is
    optional): needs the current web password and a code from the app or a recovery code."""
    from helpdesk import two_factor

    if two_factor.is_required(user):
        raise DomainError(_("Your account must sign in with a second factor."))
    _current_password_check(user, password)
    code = (code or "").strip()
    digits = code.replace(" ", "")
    # Six digits come from the app; anything else is taken for a recovery code.
    verify = two_factor_verify if digits.isdigit() else two_factor_recovery_verify
    try:
        verify(user=user, code=digits if digits.isdigit() else code, request=request)
    except DomainError as error:
        error.field = "code"
        raise
    with transaction.atomic():
        from django_otp.plugins.otp_static.models import StaticDevice

        _totp_devices(user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(action=AuditAction.TWO_FACTOR_DISABLED, request=request, actor=user)


def user_other_sessions_end(*, user: User, password: str, request) -> int:
    """End every session of the user but the one of this request (needs the current web
    password); audited with the count."""
    _current_password_check(user, password)
    ended = user_sessions_end(user=user, keep_session_key=request.session.session_key)
    audit_record(
        action=AuditAction.SESSIONS_ENDED,
        request=request,
        actor=user,
        obj=user,
        object_type="user",
        object_label=user.get_username(),
        details={"sessions_ended": ended, "kept_current": True},
    )
    return ended


@transaction.atomic
def user_password_change(*, user: User, new_password: str, request) -> int:
    """Set a new web password (the caller has checked the current one): this session stays
    signed in, every other one ends (Django would refuse them at their next request anyway,
    as the password is part of each session's hash). Returns how many ended."""
    from django.contrib.auth import update_session_auth_hash

    user.set_password(new_password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)
    ended = user_sessions_end(user=user, keep_session_key=request.session.session_key)
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        request=request,
        actor=user,
        obj=user,
        object_type="user",
        object_label=user.get_username(),
        details={"sessions_ended": ended},
    )
    return ended


def user_password_reset_complete(*, user: User, request=None) -> int:
    """After a reset by e-mail link: every session of the user ends; audited."""
    ended = user_sessions_end(user=user)
    audit_record(
        action=AuditAction.PASSWORD_RESET,
        request=request,
        actor=user,
        obj=user,
        object_type="user",
        object_label=user.get_username(),
        details={"sessions_ended": ended},
    )
    return ended


def user_password_set_by_admin(*, user: User, request) -> int:
    """An administrator set someone's web password in the admin: that user's sessions end
    (the administrator's own stays when it is their own account); audited."""
    keep = request.session.session_key if user.pk == request.user.pk else None
    ended = user_sessions_end(user=user, keep_session_key=keep)
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        request=request,
        obj=user,
        object_type="user",
        object_label=user.get_username(),
        details={"by": "admin", "sessions_ended": ended},
    )
    return ended
