"""The departments, queues and support areas every provider starts with.

Names are data (renamed in the admin); rerunnable: existing rows are left alone.
"""

from django.db import migrations

DEPARTMENTS = [
    # slug, name, position, lines
    ("customer-service", "Kundenservice", 10, (1, 2)),
    ("tech", "Technik", 20, (1, 2, 3)),
    ("billing", "Buchhaltung", 30, (1, 2)),
    ("contracts", "Verträge", 40, (1,)),
    ("management", "Geschäftsleitung", 50, (1,)),
]
SUPPORT_AREAS = [
    # slug, name, department, line, IVR choice, position
    ("no-internet", "Kein Internet", "tech", 1, "1", 10),
    ("tv-decoder", "TV/Receiver", "tech", 1, "2", 20),
    ("email-setup", "E-Mail-Einrichtung", "customer-service", 1, "3", 30),
    ("domain-transfer", "Domain-Umzug", "tech", 1, "4", 40),
    ("invoice-question", "Frage zur Rechnung", "customer-service", 1, "5", 50),
    ("payment-check", "Zahlungsprüfung", "billing", 1, "6", 60),
    ("tariff-change", "Tarifwechsel", "customer-service", 1, "7", 70),
    ("cancellation", "Kündigung", "contracts", 1, "8", 80),
    ("general", "Allgemeine Frage", "customer-service", 1, "0", 90),
]


def create(apps, schema_editor):
    Department = apps.get_model("tickets", "Department")
    Queue = apps.get_model("tickets", "Queue")
    SupportArea = apps.get_model("tickets", "SupportArea")
    for slug, name, position, lines in DEPARTMENTS:
        department, _ = Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
        for line in lines:
            Queue.objects.get_or_create(department=department, line=line)
    for slug, name, department, line, ivr, position in SUPPORT_AREAS:
        if SupportArea.objects.filter(slug=slug).exists():
            continue
        queue = Queue.objects.get(department__slug=department, line=line)
        SupportArea.objects.create(
            slug=slug, name=name, first_queue=queue, ivr_choice=ivr, position=position
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_organisation_and_tickets")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
