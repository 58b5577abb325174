from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    """Project-wide pieces: roles, API tokens, health, demo data, the base pages."""

    name = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from helpdesk import signals  # noqa: F401 - connects the audit receivers
