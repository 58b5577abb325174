"""Demo data of the calls app, added by `manage.py seed_demo`.

A week of calls the phone system reported (for the wait-time and volume figures), a few
of them noted as solved on first contact, and two calls that bob took just now and has
not noted yet: the screen pop shows them when he signs in within the next two hours.
Everything goes through the services; a second run finds the calls and adds none. (The
demo phone-system token, from helpdesk.demo, carries `calls:write`.)
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from calls import services
from calls.choices import Outcome
from calls.models import Call
from customers.models import Customer, PhoneNumber
from tickets.models import SupportArea

SEED = 4712
DAYS = 7
EXTENSIONS = ["201", "202", "301", "303", "401", "501"]
SOLVED = [
    "Router neu gestartet, Verbindung steht wieder.",
    "Rechnung erklärt: anteiliger Monat nach dem Tarifwechsel.",
    "E-Mail-Server für das Postfach durchgegeben, funktioniert.",
]


@transaction.atomic
def seed(*, stdout) -> list[dict]:
    """A week of calls, five solved on first contact, two waiting for bob's note."""
    if Call.objects.filter(external_id__startswith="demo-").exists():
        stdout.write("Calls: demo calls exist, none added")
        return []
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    now = timezone.now()
    numbers = list(PhoneNumber.objects.order_by("pk").values_list("number", flat=True)[:150]) or [
        "0221 1234567"
    ]
    choices = [*SupportArea.objects.exclude(ivr_choice="").values_list("ivr_choice", flat=True)]
    count = 0
    for day in range(DAYS, 0, -1):
        for index in range(rng.randint(12, 24)):
            moment = now - timedelta(days=day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
            wait = int(rng.expovariate(1 / 60))
            answered = rng.random() > 0.08  # some callers hang up in the queue
            call, _created = services.call_report(
                external_id=f"demo-{day}-{index}",
                caller_number=rng.choice(numbers),
                ivr_choice=rng.choice([*choices, "9"]) if choices else "",
                queue_name="Hotline",
                wait_seconds=min(wait, 900),
                extension=rng.choice(EXTENSIONS) if answered else "",
                answered_at=moment if answered else None,
                actor=None,
                now=moment,
            )
            services.call_end(
                call=call, actor=None, now=moment + timedelta(seconds=rng.randint(40, 600))
            )
            if call.agent_id:
                services.call_notice_dismiss(call=call, actor=call.agent.user, now=moment)
            count += 1
    _solved_examples(rng)
    _waiting_for_bob(now)
    stdout.write(f"Calls: {count} over {DAYS} days, 2 waiting for bob's note")
    return []


def _solved_examples(rng: random.Random) -> None:
    calls = Call.objects.filter(
        external_id__startswith="demo-", customer__isnull=False, support_area__isnull=False
    ).select_related("agent__user", "customer", "support_area")
    for call in list(calls.filter(extension="201").order_by("pk")[:5]):  # bob's
        services.call_note_record(
            call=call,
            customer=call.customer,
            actor=call.agent.user,
            outcome=Outcome.FIRST_CONTACT_SOLVED,
            summary=rng.choice(SOLVED),
            support_area=call.support_area,
        )


def _waiting_for_bob(now) -> None:
    erika = Customer.objects.filter(number="K1000001").first()
    phone = erika.phones.order_by("pk").first() if erika else None
    services.call_report(
        external_id="demo-now-1",
        caller_number=phone.number if phone else "",
        customer_number="" if phone else "1000001",
        ivr_choice="1",
        queue_name="Hotline",
        wait_seconds=52,
        extension="201",
        answered_at=now - timedelta(minutes=3),
        actor=None,
        now=now,
    )
    services.call_report(
        external_id="demo-now-2",
        caller_number="+49 170 5550123",
        ivr_choice="9",
        queue_name="Hotline",
        wait_seconds=95,
        extension="201",
        answered_at=now - timedelta(minutes=1),
        actor=None,
        now=now,
    )
