"""Vacuum the clock table after a fixed number of changed rows, not 20 % of the table.

Every fired, re-armed or stopped clock leaves a dead entry in the partial index
`sla_clock_due` whose moment lies in the past; the timer's bitmap scan rechecks each one
until vacuum removes it. With PostgreSQL's default (20 % of 2,000,000 clocks) an idle pass
grew from 2 ms to 160 ms before autovacuum came (bench/README.md, "sla.py").
"""

from django.db import migrations

TABLE = "escalation_slaclock"


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0, "
        "autovacuum_vacuum_threshold = 20000, autovacuum_analyze_scale_factor = 0.02)"
    )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, "
        "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor)"
    )


class Migration(migrations.Migration):
    dependencies = [("escalation", "0002_default_calendars_and_policies")]

    operations = [migrations.RunPython(tune, untune)]
