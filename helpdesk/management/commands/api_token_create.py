from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from helpdesk import services
from helpdesk.errors import DomainError
from helpdesk.models import SCOPES


class Command(BaseCommand):
    help = "Create an API token for an integration user and print it once."

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

    def handle(self, *args, username: str, name: str, scopes: list[str], **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, key = services.api_token_create(user=user, name=name, scopes=scopes)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{key}\n(prefix {token.prefix}; store it now, it is not shown again)")
