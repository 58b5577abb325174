"""What the PostgreSQL benches share: INSERT … SELECT that fills every required column,
their own database, raw SQL, weighted random choices in SQL and the 95th percentile."""

import statistics


def insert_select(model, values: dict[str, str]) -> tuple[str, str, dict]:
    """Column list and SELECT list for INSERT … SELECT: our expressions for `values`, the
    model's default for any other required column (one a later migration adds)."""
    from django.db import connection

    columns, selects, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.column in values:
            columns.append(field.column)
            selects.append(values[field.column])
        elif field.primary_key or field.null:
            continue
        elif field.has_default():
            columns.append(field.column)
            selects.append(f"%(default_{field.column})s")
            params[f"default_{field.column}"] = field.get_db_prep_save(
                field.get_default(), connection
            )
        else:
            raise SystemExit(
                f"{model._meta.label}.{field.name} is required and has no default: give it a "
                "value in the bench that loads it."
            )
    return ", ".join(columns), ", ".join(selects), params


def bench_db_use(bench_db: str, script: str) -> None:
    """Point Django at the bench's own database (created and migrated if missing, kept
    between runs); refuses anything but PostgreSQL and any other database name."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            f"bench/{script} needs PostgreSQL: set DATABASE_URL, e.g. "
            f"postgres://postgres@127.0.0.1:5432/helpdesk (it works in {bench_db})."
        )
    connection.settings_dict["TEST"]["NAME"] = bench_db
    # serialize=False: the test runner's JSON snapshot of the database would take minutes.
    name = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    if name != bench_db or connection.settings_dict["NAME"] != bench_db:
        raise SystemExit(f"Refusing to run: would write to {name!r}, not {bench_db!r}.")
    # Timings as in production: no query log kept in memory (CaptureQueriesContext turns
    # it on where queries are counted).
    settings.DEBUG = False


def sql(statement: str, params: dict | list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def weighted(draw: str, choices: list[tuple[object, float]]) -> str:
    """SQL choosing one of (value, share) by the uniform random column `draw`."""
    branches, bound = [], 0.0
    for value, share in choices[:-1]:
        bound += share
        branches.append(f"WHEN {draw} < {bound:.4f} THEN {value!r}")
    return f"CASE {' '.join(branches)} ELSE {choices[-1][0]!r} END"


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]
