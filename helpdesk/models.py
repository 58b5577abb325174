import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @staticmethod
    def new_key() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
