import hashlib
import secrets

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.choices import AuditAction

# Every API endpoint names the scope it needs; a token carries the scopes it was given.
SCOPES = {
    "customers:read": _("Read customers, contracts and invoices"),
    "customers:verify": _("Verify callers by phone password"),
    "connections:write": _("Report line state"),
    "outages:read": _("Read outages"),
    "outages:write": _("Open, update and resolve outages (network monitoring)"),
    "tickets:read": _("Read tickets, queues and support areas"),
    "tickets:write": _("Create tickets, write messages, escalate, hand off, assign"),
    "sla:read": _("Read business calendars and SLA policies"),
    "sla:write": _("Change SLA policies and create business calendars"),
    "calls:write": _("Report incoming calls and their end (phone system)"),
    "mail:write": _("Deliver inbound e-mail (mail gateway)"),
    "feature_requests:read": _("Read feature requests and find similar ones"),
    "feature_requests:write": _("File feature requests and record asks"),
    "feature_requests:review": _("Decide feature requests: review, reject, merge"),
    "stats:read": _("Read support KPIs (reporting tools)"),
}
TOKEN_PREFIX = "hd_"  # noqa: S105 - a visible marker, not a secret


class ApiToken(models.Model):
    """A secret that lets an integration call the API; only its SHA-256 digest is stored.

    DRF's own `authtoken` keeps keys in plain text, so a database leak would hand out
    working credentials; a random 256-bit key needs no slow hash, SHA-256 suffices.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # Empty: valid until revoked. A token past its expiry is refused like a revoked one.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def is_usable(self, *, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def new_key() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class AuditEventQuerySet(models.QuerySet):
    """Audit entries are never changed or deleted through the ORM.

    The one exception is the erasure of a person (GDPR): `pseudonymise` replaces the
    names in their entries and keeps everything else.
    """

    def update(self, **kwargs):
        raise TypeError("Audit entries are append-only.")

    def delete(self):
        raise TypeError("Audit entries are append-only.")

    def pseudonymise(
        self, *, label_of_actor: str | None = None, label_of_object: str | None = None
    ):
        fields = {}
        if label_of_actor is not None:
            fields["actor_label"] = label_of_actor
        if label_of_object is not None:
            fields["object_label"] = label_of_object
        if not fields:
            return 0
        with transaction.atomic(using=self.db):
            postgres = connections[self.db].vendor == "postgresql"
            if postgres:  # lifts the database's append-only trigger for this statement
                with connections[self.db].cursor() as cursor:
                    cursor.execute("SET LOCAL helpdesk.audit_pseudonymise = 'on'")
            changed = super().update(**fields)
            if postgres:
                with connections[self.db].cursor() as cursor:
                    cursor.execute("SET LOCAL helpdesk.audit_pseudonymise = 'off'")
        return changed


class AuditEvent(models.Model):
    """One security event: who did what to which object, from where, when (UTC).

    Written by `helpdesk.services.audit_record` only. It never holds a password, a phone
    password, a TOTP code or a token key; names are copied as labels so the entry still
    reads right after the user is renamed, and are pseudonymised on erasure.
    """

    at = models.DateTimeField(_("when (UTC)"), default=timezone.now)
    action = models.CharField(_("event"), max_length=40, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who"), max_length=150, blank=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("from (IP address)"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # The search page's filters by name, object label and address. On PostgreSQL
            # the pattern operator class lets "who" also serve a prefix (LIKE 'ti%').
            models.Index(
                fields=["actor_label", "-at"],
                name="audit_actor_label_at",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["object_label", "-at"], name="audit_object_label_at"),
            models.Index(fields=["ip_address", "-at"], name="audit_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit entries are append-only.")


class UserSession(AbstractBaseSession):
    """A server-side session that knows its user, so all of a user's sessions can be ended
    at once (disabled user, role change, "sign out everywhere else")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=True,
    )
    created_at = models.DateTimeField(_("signed in"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("from (IP address)"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    @classmethod
    def get_session_store_class(cls):
        from helpdesk.sessions import SessionStore

        return SessionStore

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
