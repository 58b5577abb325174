"""Full-text and trigram search for "find before you file", on PostgreSQL only.

A generated column holds the German and English tsvector of title (weight A) and the start
of the description (weight B); a GIN index serves `@@`, a trigram GIN index on the title
serves `<%` (word similarity: a short typed title against a longer stored one, typos
included). SQLite gets neither; the selector falls back to word matching there. The
column is not on the model: PostgreSQL writes it, only the search SQL reads it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TABLE = "feature_requests_featurerequest"
FORWARD = [
    f"""
    ALTER TABLE {TABLE} ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('german'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('german'::regconfig, left(description, 2000)), 'B')
        || setweight(to_tsvector('english'::regconfig, left(description, 2000)), 'B')
    ) STORED
    """,
    f"CREATE INDEX fr_search ON {TABLE} USING gin (search)",
    f"CREATE INDEX fr_title_trgm ON {TABLE} USING gin (title gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS fr_title_trgm",
    "DROP INDEX IF EXISTS fr_search",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("feature_requests", "0001_feature_requests_asks_events")]

    operations = [
        TrigramExtension(),  # a no-op on other databases
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
