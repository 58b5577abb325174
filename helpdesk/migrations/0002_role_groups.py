from django.db import migrations

# Copied, not imported (STYLE R14): the role names as of this migration.
ROLES = ["agent", "team_lead", "management", "customer", "integration"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0001_api_token"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
