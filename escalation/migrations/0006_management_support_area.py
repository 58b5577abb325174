"""The support area requests to management are filed under: the management department's
queue, never offered in the portal's normal request form.

Rerunnable: an existing area is left alone, and without a management queue (renamed or
removed by the provider) nothing is created; the service then refuses with a message.
"""

from django.db import migrations


def create(apps, schema_editor):
    Queue = apps.get_model("tickets", "Queue")
    SupportArea = apps.get_model("tickets", "SupportArea")
    if SupportArea.objects.filter(slug="management").exists():
        return
    queue = Queue.objects.filter(department__slug="management").order_by("line").first()
    if queue is None:
        return
    SupportArea.objects.create(
        slug="management",
        name="Anliegen an die Geschäftsleitung",
        first_queue=queue,
        in_portal=False,
        position=100,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0005_management_requests_kpis"),
        ("tickets", "0002_default_organisation"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
