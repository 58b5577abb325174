"""`manage.py erasures_replay`: erase again every customer of the erasure log.

Run after restoring a database backup (and `manage.py migrate`): the dump may be older
than some erasures, which live on in the log outside the database.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers.services import privacy


class Command(BaseCommand):
    help = (
        "Re-apply every erasure recorded in the erasure log (ERASURE_LOG_PATH, or --log) "
        "to this database; idempotent, so it can run after every restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("--log", help="The erasure log (default: ERASURE_LOG_PATH).")

    def handle(self, *args, log: str | None = None, **options):
        path = Path(log or settings.ERASURE_LOG_PATH)
        if not path.is_file():
            raise CommandError(
                f"No erasure log at {path}. Restore it from its own backup first; if no "
                "customer was ever erased, there is nothing to replay."
            )
        result = privacy.erasures_replay(path=path)
        self.stdout.write(
            f"{result.entries} erasures in the log: {result.reapplied} re-applied, "
            f"{result.confirmed} already recorded (scrubbed again), "
            f"{result.missing} customers not in this database."
        )
        if result.invalid:
            lines = ", ".join(str(number) for number in result.invalid[:20])
            raise CommandError(f"Unreadable lines in {path}: {lines}")
