"""Roll up the KPI history at once (after an import, or a first install with old data)."""

from django.core.management.base import BaseCommand

from escalation.services import kpis


class Command(BaseCommand):
    help = "Roll up finished days that have no KPI roll-up yet (newest first)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=kpis.LOOKBACK_DAYS, help="How many days back to look."
        )

    def handle(self, *args, days: int, **options):
        rolled = kpis.kpi_days_rollup(limit=days, lookback=days)
        self.stdout.write(f"Rolled up {len(rolled)} day(s).")
