from django.conf import settings
from django.db import migrations, models


def search_name_c_collation(apps, schema_editor):
    # Byte-order ("C") collation makes one plain btree index serve both prefix LIKE and
    # ORDER BY on PostgreSQL; SQLite compares bytes (BINARY) already.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE customers_customer ALTER COLUMN search_name TYPE varchar(201) COLLATE "C"'
    )


def search_name_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE customers_customer ALTER COLUMN search_name TYPE varchar(201) "
        'COLLATE "default"'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_customer_records"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_search_name",
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["search_name", "id"], name="customer_search_name_c"),
        ),
        migrations.RunPython(search_name_c_collation, search_name_default_collation),
    ]
