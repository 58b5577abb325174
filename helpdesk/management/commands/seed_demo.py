from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.demo import DEMO_PASSWORD

# Order matters: later apps build on the rows of earlier ones.
DEMO_APPS = ["helpdesk", "customers", "tickets", "escalation", "feature_requests", "calls", "mail"]


class Command(BaseCommand):
    help = "Create demo data for every app (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo logins with DEBUG off (use --force).")
        logins = []
        for label in DEMO_APPS:
            module = import_module(f"{apps.get_app_config(label).name}.demo")
            logins += module.seed(stdout=self.stdout)
        # Requests to management build on every app's rows; the KPI roll-up reads them all.
        logins += import_module("escalation.demo_management").seed(stdout=self.stdout)
        width = max(len(login["username"]) for login in logins)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for login in logins:
            self.stdout.write(
                f"  {login['username']:<{width}}  {login['role']!s:<12}  {login['where']}"
            )
