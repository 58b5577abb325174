"""Reads shared by pages and API: IVR routing, keyset pages, the timeline in words."""

from django.utils import translation

from tests.tickets.conftest import area, department, queue
from tickets import selectors, services
from tickets.selectors import TicketFilter


def test_an_ivr_choice_names_its_support_area(db):
    assert selectors.support_area_for_ivr(" 1 ") == area("no-internet")
    assert selectors.support_area_for_ivr("8").first_queue == queue("contracts", 1)
    assert selectors.support_area_for_ivr("77") is None
    assert selectors.support_area_for_ivr("") is None


def test_a_switched_off_support_area_is_not_offered_to_the_phone_system(db):
    no_internet = area("no-internet")
    no_internet.is_active = False
    no_internet.save()
    assert selectors.support_area_for_ivr("1") is None


def test_keyset_pages_walk_every_ticket_once(erika, alice, team, bob):
    from tickets.choices import Channel

    for n in range(7):
        services.ticket_create(
            customer=erika,
            subject=f"Frage {n}",
            body="Text",
            channel=Channel.PHONE,
            support_area=area("general"),
            actor=alice,
        )
    seen, cursor = [], ""
    tickets = selectors.permissions.tickets_visible_to(bob)
    for sort in ("oldest", "newest", "priority", "updated"):
        seen, cursor = [], ""
        while True:
            page = selectors.ticket_list(
                tickets=tickets, user=bob, filters=TicketFilter(sort=sort), cursor=cursor, size=3
            )
            seen += [ticket.subject for ticket in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert sorted(seen) == [f"Frage {n}" for n in range(7)], sort
    assert seen  # the last sort walked the whole queue


def test_a_forged_cursor_starts_from_the_beginning(ticket, bob):
    tickets = selectors.permissions.tickets_visible_to(bob)
    page = selectors.ticket_list(
        tickets=tickets, user=bob, filters=TicketFilter(), cursor="not-base64!!"
    )
    assert page.rows == [ticket]


def test_the_timeline_says_who_moved_it_where(ticket, bob, carol):
    services.ticket_take(ticket=ticket, actor=bob)
    services.ticket_handoff(
        ticket=ticket, actor=bob, department=department("billing"), note="prüfen"
    )
    with translation.override("en"):
        timeline = selectors.ticket_timeline(ticket=ticket)
    handoff = next(entry for entry in timeline if entry["kind"] == "ticket.handed_off")
    assert handoff["title"] == "Handed off"
    assert handoff["actor"] == "Bob Bauer"
    assert handoff["before"] == "Kundenservice · 1st line"
    assert handoff["after"] == "Buchhaltung · 1st line"
    assert handoff["note"] == "prüfen"
    assert selectors.ticket_last_handover(timeline=timeline) == handoff
    assert [entry["kind"] for entry in timeline] == [
        "ticket.created",
        "sla.started",
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.handed_off",
        "sla.recomputed",  # billing works office hours under its own policy
    ]
    recomputed = timeline[-1]
    assert recomputed["title"] == "SLA deadlines recomputed"
    assert recomputed["before"] == "Buchhaltung"
