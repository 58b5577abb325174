"""The business calendars and SLA policies a provider starts with.

Names and targets are data (changed in the admin). Rerunnable: calendars that exist are
left alone, and policies are only created while there are none.
"""

from datetime import time

from django.db import migrations

EVERY_DAY = range(7)
WORKDAYS = range(5)
CALENDARS = [
    # slug, name, days, opens, closes, state
    ("hotline", "Hotline (täglich 6–23 Uhr)", EVERY_DAY, time(6), time(23), "NW"),
    ("office", "Büro (Mo–Fr 8–18 Uhr)", WORKDAYS, time(8), time(18), "NW"),
    ("management", "Geschäftsleitung (Mo–Fr 9–17 Uhr)", WORKDAYS, time(9), time(17), "NW"),
]
POLICIES = [
    # name, calendar, priority, segment, department, first response, next update,
    # resolution (business minutes), breach moves up
    ("Standard", "hotline", None, "", None, 240, 480, 2400, True),
    ("Dringend", "hotline", 4, "", None, 30, 120, 480, True),
    ("Hoch", "hotline", 3, "", None, 60, 240, 1200, True),
    ("Niedrig", "hotline", 1, "", None, 480, 960, 4800, True),
    ("Geschäftskunden", "hotline", None, "business", None, 120, 240, 1440, True),
    ("Geschäftskunden dringend", "hotline", 4, "business", None, 15, 60, 240, True),
    ("Buchhaltung", "office", None, "", "billing", 480, 960, 2400, True),
    ("Verträge", "office", None, "", "contracts", 600, 1200, 3000, False),
    ("Geschäftsleitung", "management", None, "", "management", 480, 960, 2400, False),
]


def create(apps, schema_editor):
    BusinessCalendar = apps.get_model("escalation", "BusinessCalendar")
    OpeningHours = apps.get_model("escalation", "OpeningHours")
    SlaPolicy = apps.get_model("escalation", "SlaPolicy")
    Department = apps.get_model("tickets", "Department")
    for slug, name, days, opens, closes, state in CALENDARS:
        calendar, created = BusinessCalendar.objects.get_or_create(
            slug=slug, defaults={"name": name, "holiday_subdivision": state}
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
                for day in days
            )
    if SlaPolicy.objects.exists():
        return
    for name, calendar, priority, segment, department, first, update, resolution, up in POLICIES:
        SlaPolicy.objects.create(
            name=name,
            calendar=BusinessCalendar.objects.get(slug=calendar),
            priority=priority,
            segment=segment,
            department=Department.objects.filter(slug=department).first() if department else None,
            first_response_minutes=first,
            next_update_minutes=update,
            resolution_minutes=resolution,
            breach_moves_up=up,
            is_default=name == "Standard",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0001_calendars_policies_clocks"),
        ("tickets", "0002_default_organisation"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
