"""Bulk loading shared by the benches: INSERT … SELECT that fills every required column."""


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
