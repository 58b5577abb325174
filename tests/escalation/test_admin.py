"""Calendars and SLA policies in the admin: bad weeks, targets and criteria are refused with
a clear message and change nothing; the default policy stays; clocks are read-only."""

import html
from datetime import time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from escalation.models import (
    BusinessCalendar,
    ClosedDay,
    Notification,
    OpeningHours,
    SlaClock,
    SlaPolicy,
)
from tests.tickets import conftest as tickets_fixtures
from tests.tickets.conftest import (  # noqa: F401 (fixtures)
    bob_agent,
    carol_agent,
    erika,
    team,
    tina_agent,
    trent,
)

pytestmark = pytest.mark.django_db

ticket = tickets_fixtures.ticket

OVERLAP = "Opening hours on the same day must not overlap."
INSIDE_OUT = "Opening hours must close after they open (00:00 means midnight)."
EMPTY_WEEK = "A calendar needs opening hours on at least one day."
NO_OPEN_TIME = "This calendar has no open time in the next year; no deadline could ever fall."
BAD_TARGET = "A target must be at least one business minute."
BAD_WARNING = "Warn between 1 and 99 percent of the target."
TWIN = "Another active policy already has exactly these criteria"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    return client


def calendar(slug: str) -> BusinessCalendar:
    return BusinessCalendar.objects.get(slug=slug)


def policy(name: str) -> SlaPolicy:
    return SlaPolicy.objects.get(name=name)


def text(response) -> str:
    return html.unescape(response.content.decode())


def state() -> tuple:
    """Everything a refused save must leave as it was."""
    return (
        list(BusinessCalendar.objects.order_by("pk").values()),
        list(OpeningHours.objects.order_by("pk").values()),
        list(ClosedDay.objects.order_by("pk").values()),
        list(SlaPolicy.objects.order_by("pk").values()),
    )


def formset(prefix: str, rows: list[dict], *, initial: int) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        data |= {f"{prefix}-{index}-{key}": value for key, value in row.items()}
    return data


def calendar_data(
    cal: BusinessCalendar | None,
    *,
    hours: list[tuple[int, str, str]],
    closed_days: list = (),
    delete_closed_days: bool = False,
    **fields,
) -> dict:
    """The calendar page as a browser sends it: the stored week deleted and `hours` added;
    stored closed days kept (or deleted) and `closed_days` added."""
    main = {"time_zone": "Europe/Berlin", "holiday_country": "DE", "holiday_subdivision": "NW"}
    if cal is not None:
        main = {
            "name": cal.name,
            "slug": cal.slug,
            "time_zone": cal.time_zone,
            "holiday_country": cal.holiday_country,
            "holiday_subdivision": cal.holiday_subdivision,
        }
    stored_hours = list(cal.hours.all()) if cal else []
    stored_days = list(cal.closed_days.all()) if cal else []
    hour_rows = [
        {
            "id": row.pk,
            "calendar": cal.pk,
            "weekday": row.weekday,
            "opens": f"{row.opens:%H:%M}",
            "closes": f"{row.closes:%H:%M}",
            "DELETE": "on",
        }
        for row in stored_hours
    ] + [{"weekday": day, "opens": opens, "closes": closes} for day, opens, closes in hours]
    day_rows = [
        {"id": row.pk, "calendar": cal.pk, "date": row.date.isoformat(), "reason": row.reason}
        | ({"DELETE": "on"} if delete_closed_days else {})
        for row in stored_days
    ] + [{"date": day.isoformat(), "reason": "zu"} for day in closed_days]
    return (
        main
        | fields
        | formset("hours", hour_rows, initial=len(stored_hours))
        | formset("closed_days", day_rows, initial=len(stored_days))
    )


def mondays(weeks: int = 60) -> list:
    today = timezone.localdate()
    first = today + timedelta(days=-today.weekday())
    return [first + timedelta(weeks=n) for n in range(weeks)]


def change(client, cal: BusinessCalendar, data: dict):
    return client.post(reverse("admin:escalation_businesscalendar_change", args=[cal.pk]), data)


# --- Pages -------------------------------------------------------------------------------


def test_calendars_policies_clocks_and_notices_have_admin_pages(admin_client, ticket):
    for name in ("businesscalendar", "slapolicy", "slaclock", "notification"):
        response = admin_client.get(reverse(f"admin:escalation_{name}_changelist"))
        assert response.status_code == 200, name
    for name in ("businesscalendar", "slapolicy"):
        assert admin_client.get(reverse(f"admin:escalation_{name}_add")).status_code == 200
    office = admin_client.get(
        reverse("admin:escalation_businesscalendar_change", args=[calendar("office").pk])
    )
    assert office.status_code == 200


def test_the_policy_list_shows_criteria_targets_and_calendar(admin_client):
    response = admin_client.get(reverse("admin:escalation_slapolicy_changelist"))
    page = text(response)
    assert "every ticket" in page  # the default policy
    assert "Urgent · Business" in page  # "Geschäftskunden dringend"
    assert BusinessCalendar.objects.get(slug="hotline").name in page
    assert ">2400<" in page  # the default policy's resolution target


def test_clocks_and_notices_are_read_only(admin_client, ticket):
    clock = SlaClock.objects.filter(ticket=ticket).first()
    assert clock is not None
    assert admin_client.get(reverse("admin:escalation_slaclock_add")).status_code == 403
    page = admin_client.get(reverse("admin:escalation_slaclock_change", args=[clock.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    delete = admin_client.post(
        reverse("admin:escalation_slaclock_delete", args=[clock.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert SlaClock.objects.filter(pk=clock.pk).exists()
    assert admin_client.get(reverse("admin:escalation_notification_add")).status_code == 403
    assert not Notification.objects.exists()


def test_staff_without_permissions_do_not_reach_the_sla_admin(client, tina):
    client.force_login(tina)  # a team lead: is_staff, but no model permissions
    response = client.get(reverse("admin:escalation_slapolicy_changelist"))
    assert response.status_code == 403


# --- Calendars ---------------------------------------------------------------------------


def test_a_week_with_a_lunch_break_and_a_midnight_close_is_saved(admin_client):
    office = calendar("office")
    hours = [(0, "08:00", "12:00"), (0, "13:00", "17:00"), (6, "18:00", "00:00")]
    response = change(admin_client, office, calendar_data(office, hours=hours))
    assert response.status_code == 302, text(response)
    saved = [(h.weekday, h.opens, h.closes) for h in office.hours.all()]
    assert saved == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
        (6, time(18), time(0)),
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([(0, "08:00", "12:00"), (0, "11:00", "14:00")], OVERLAP),
        ([(0, "08:00", "12:00"), (0, "08:00", "10:00")], OVERLAP),
        ([(0, "18:00", "00:00"), (0, "19:00", "20:00")], OVERLAP),
        ([(0, "12:00", "08:00")], INSIDE_OUT),
        ([(0, "08:00", "08:00")], INSIDE_OUT),
        ([], EMPTY_WEEK),
    ],
    ids=["overlap", "same-start", "after-a-midnight-close", "inside-out", "empty", "no-rows"],
)
def test_a_bad_week_is_refused_and_nothing_changes(admin_client, hours, message):
    office = calendar("office")
    before = state()
    response = change(admin_client, office, calendar_data(office, hours=hours))
    assert response.status_code == 200
    assert message in text(response)
    assert state() == before


def test_deleting_every_row_is_an_empty_week(admin_client):
    office = calendar("office")
    before = state()
    response = change(admin_client, office, calendar_data(office, hours=[]))
    assert EMPTY_WEEK in text(response)
    assert state() == before
    assert office.hours.count() == 5


def test_a_week_whose_only_day_is_always_closed_is_refused(admin_client):
    office = calendar("office")
    ClosedDay.objects.bulk_create(ClosedDay(calendar=office, date=day) for day in mondays())
    before = state()
    response = change(admin_client, office, calendar_data(office, hours=[(0, "09:00", "17:00")]))
    assert response.status_code == 200
    assert NO_OPEN_TIME in text(response)
    assert state() == before


def test_closed_days_sent_with_the_week_count_in_the_check(admin_client):
    office = calendar("office")
    before = state()
    data = calendar_data(office, hours=[(0, "09:00", "17:00")], closed_days=mondays())
    response = change(admin_client, office, data)
    assert NO_OPEN_TIME in text(response)
    assert state() == before


def test_deleting_the_closed_days_with_the_new_week_is_fine(admin_client):
    office = calendar("office")
    ClosedDay.objects.bulk_create(ClosedDay(calendar=office, date=day) for day in mondays())
    data = calendar_data(office, hours=[(0, "09:00", "17:00")], delete_closed_days=True)
    response = change(admin_client, office, data)
    assert response.status_code == 302, text(response)
    assert not office.closed_days.exists()
    assert office.hours.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"time_zone": "../etc/passwd"}, "Unknown time zone"),
        ({"holiday_country": "XX"}, "Unknown country for public holidays"),
        ({"holiday_country": ""}, "Public holidays of a state need the country too."),
        ({"holiday_country": "AT"}, "This country has no such state"),
    ],
)
def test_unknown_time_zones_and_holidays_are_refused(admin_client, fields, message):
    office = calendar("office")
    before = state()
    data = calendar_data(office, hours=[(0, "08:00", "18:00")], **fields)
    response = change(admin_client, office, data)
    assert response.status_code == 200
    assert message in text(response)
    assert state() == before


def test_a_new_calendar_is_added_with_its_week(admin_client):
    data = calendar_data(None, hours=[(0, "07:00", "15:00")], name="Technik", slug="technik")
    response = admin_client.post(reverse("admin:escalation_businesscalendar_add"), data)
    assert response.status_code == 302, text(response)
    assert calendar("technik").hours.count() == 1


def test_a_new_calendar_without_hours_is_not_added(admin_client):
    before = state()
    data = calendar_data(None, hours=[], name="Technik", slug="technik")
    response = admin_client.post(reverse("admin:escalation_businesscalendar_add"), data)
    assert EMPTY_WEEK in text(response)
    assert state() == before


# --- Policies ----------------------------------------------------------------------------


def policy_data(p: SlaPolicy, **changes) -> dict:
    data = {
        "name": p.name,
        "calendar": p.calendar_id,
        "is_active": "on" if p.is_active else "",
        "priority": p.priority or "",
        "channel": p.channel,
        "segment": p.segment,
        "department": p.department_id or "",
        "first_response_minutes": p.first_response_minutes,
        "next_update_minutes": p.next_update_minutes,
        "resolution_minutes": p.resolution_minutes,
        "warning_percent": p.warning_percent,
        "breach_raises_priority": "on" if p.breach_raises_priority else "",
        "breach_moves_up": "on" if p.breach_moves_up else "",
    } | changes
    return {key: value for key, value in data.items() if value != ""}


def change_policy(client, p: SlaPolicy, **changes):
    url = reverse("admin:escalation_slapolicy_change", args=[p.pk])
    return client.post(url, policy_data(p, **changes))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_response_minutes", 0, BAD_TARGET),
        ("next_update_minutes", -5, BAD_TARGET),
        ("resolution_minutes", 0, BAD_TARGET),
        ("resolution_minutes", 10**8, "A target can be at most 527040 business minutes."),
        ("warning_percent", 0, BAD_WARNING),
        ("warning_percent", 100, BAD_WARNING),
    ],
)
def test_bad_targets_are_refused_and_nothing_changes(admin_client, field, value, message):
    before = state()
    response = change_policy(admin_client, policy("Hoch"), **{field: value})
    assert response.status_code == 200
    assert message in text(response)
    assert response.context["adminform"].form.errors[field] == [message]
    assert state() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"priority": 4}, "priority"),
        ({"channel": "phone"}, "channel"),
        ({"segment": "business"}, "segment"),
        ({"is_active": ""}, "is_active"),
    ],
)
def test_the_default_policy_keeps_no_criteria_and_stays_active(admin_client, changes, field):
    before = state()
    response = change_policy(admin_client, policy("Standard"), **changes)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert "default policy" in text(response)
    assert state() == before


def test_the_default_policy_cannot_be_deleted(admin_client):
    default = policy("Standard")
    url = reverse("admin:escalation_slapolicy_delete", args=[default.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:escalation_slapolicy_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [default.pk, policy("Niedrig").pk],
            "post": "yes",
        },
    )
    assert bulk.status_code == 403  # one of the selected may not be deleted: none is
    assert SlaPolicy.objects.filter(pk=default.pk, is_default=True).exists()
    assert SlaPolicy.objects.filter(name="Niedrig").exists()
    change_page = admin_client.get(reverse("admin:escalation_slapolicy_change", args=[default.pk]))
    assert url not in change_page.content.decode()


def test_a_policy_nobody_uses_can_be_deleted(admin_client):
    spare = policy("Niedrig")
    url = reverse("admin:escalation_slapolicy_delete", args=[spare.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not SlaPolicy.objects.filter(pk=spare.pk).exists()


def test_two_active_policies_cannot_share_their_criteria(admin_client):
    before = state()
    data = policy_data(policy("Dringend"), name="Noch dringender", first_response_minutes=10)
    response = admin_client.post(reverse("admin:escalation_slapolicy_add"), data)
    assert response.status_code == 200
    assert TWIN in text(response) and "(Dringend)" in text(response)
    assert state() == before


def test_a_switched_off_twin_may_wait_but_not_be_switched_on(admin_client):
    data = policy_data(policy("Dringend"), name="Dringend neu", first_response_minutes=10)
    del data["is_active"]
    response = admin_client.post(reverse("admin:escalation_slapolicy_add"), data)
    assert response.status_code == 302
    twin = policy("Dringend neu")
    assert not twin.is_active
    before = state()
    response = change_policy(admin_client, twin, is_active="on")
    assert TWIN in text(response)
    assert state() == before


def test_a_changed_policy_recomputes_the_open_tickets_on_it(admin_client, ticket):
    on = ticket.sla_policy
    first = SlaClock.objects.get(ticket=ticket, kind="first_response")
    response = change_policy(
        admin_client, on, first_response_minutes=on.first_response_minutes + 60
    )
    assert response.status_code == 302
    shown = [str(m) for m in response.wsgi_request._messages]
    assert "The deadlines of 1 open ticket on this policy were recomputed." in shown
    first.refresh_from_db()
    assert first.target_minutes == on.first_response_minutes + 60
    assert ticket.events.filter(kind="sla.recomputed").count() == 1


def test_renaming_a_policy_moves_no_deadline(admin_client, ticket):
    response = change_policy(admin_client, ticket.sla_policy, name="Umbenannt")
    assert response.status_code == 302
    assert not [str(m) for m in response.wsgi_request._messages if "deadlines" in str(m)]
    assert not ticket.events.filter(kind="sla.recomputed").exists()


def test_management_with_model_permissions_may_edit_policies(client, max_):
    max_.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_slapolicy", "change_slapolicy"])
    )
    client.force_login(max_)
    response = change_policy(client, policy("Hoch"), resolution_minutes=1000)
    assert response.status_code == 302
    assert policy("Hoch").resolution_minutes == 1000
