from datetime import timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from helpdesk import services
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES


class Command(BaseCommand):
    help = (
        "Create an API token for an integration user and print its key once, on stdout only "
        "(the audit trail records the prefix, never the key)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which system uses the token.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            help=f"Repeat for each scope: {', '.join(SCOPES)}.",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Valid for this many days; without it, until revoked.",
        )

    def handle(self, *args, username: str, name: str, scopes: list[str], **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, key = services.api_token_create(
                user=user,
                name=name,
                scopes=scopes,
                expires_at=expires_at,
                actor_label="manage.py api_token_create",
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        until = f"expires {expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else "no expiry"
        self.stdout.write(
            f"{key}\n(prefix {token.prefix}; {until}; store it now, it is not shown again)"
        )
