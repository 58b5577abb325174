"""`manage.py mail_fetch`: read the inbound mailbox once (beat runs the same as a task)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from mail import inbound


class Command(BaseCommand):
    help = (
        "File the messages waiting in the inbound mailbox (MAIL_INBOUND_URL, or --url): "
        "each becomes a ticket, a message on its ticket, or is ignored or rejected with a "
        "reason. A message leaves the mailbox only once filed; one that fails is moved to "
        "the error folder."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", help="imaps://user:password@host/INBOX or maildir:///path (default: setting)"
        )
        parser.add_argument("--limit", type=int, help="At most this many messages in this run.")

    def handle(self, *args, url: str | None = None, limit: int | None = None, **options):
        url = url or settings.MAIL_INBOUND_URL
        if not url:
            raise CommandError("No mailbox: set MAIL_INBOUND_URL or pass --url.")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        try:
            counts = inbound.inbound_mail_fetch(url=url, limit=limit)
        except (ImproperlyConfigured, inbound.MailSourceError) as error:
            raise CommandError(str(error)) from None
        total = sum(counts.values())
        details = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"{total} messages: {details}")
