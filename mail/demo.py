"""Demo data of the mail app, added by `manage.py seed_demo`.

Three e-mails go through the real inbound pipeline, as a mail gateway would deliver them:
a new request in HTML with the quoted history of an earlier exchange and a remote image
(blocked), a customer's answer to one of the demo tickets (its tag in the subject), and
an out-of-office reply that is recorded and ignored. A second run delivers the same
Message-IDs again, which changes nothing.
"""

from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone

from customers.models import Customer
from mail import inbound
from mail.choices import InboundSource
from tickets.choices import OPEN_STATUSES
from tickets.models import Ticket


def _message(*, sender: str, subject: str, message_id: str, text: str, html: str = "", **extra):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.net"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(timezone.now())
    for name, value in extra.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def seed(*, stdout) -> list[dict]:
    """File the three demo e-mails (idempotent by Message-ID)."""
    customer = Customer.objects.exclude(email="").order_by("number")[10:11].first()
    mails = []
    if customer is not None:
        sender = f"{customer.full_name} <{customer.email}>"
        mails.append(
            _message(
                sender=sender,
                subject="Fritz!Box verliert nachts die Verbindung",
                message_id="<demo-new-request@mail.example.de>",
                text=(
                    "Hallo,\n\nseit Montag bricht die Verbindung jede Nacht gegen 3 Uhr ab.\n"
                    "Die Info-LED blinkt dann rot.\n\nViele Grüße\n"
                    f"{customer.full_name}\n\n"
                    "-----Ursprüngliche Nachricht-----\n"
                    "Von: Kundenservice\nGesendet: Freitag\n"
                    "Betreff: Ihr Tarifwechsel\n\nIhr Tarifwechsel ist zum 1. umgestellt."
                ),
                html=(
                    "<p>Hallo,</p><p>seit <b>Montag</b> bricht die Verbindung jede Nacht gegen "
                    "3 Uhr ab. Die Info-LED blinkt dann rot.</p>"
                    '<p><img src="https://tracker.example.com/pixel.gif" alt="Foto der LED"></p>'
                    f"<p>Viele Grüße<br>{customer.full_name}</p>"
                    "<script>alert('x')</script>"
                    "<blockquote><p>Ihr Tarifwechsel ist zum 1. umgestellt.</p></blockquote>"
                ),
            )
        )
        mails.append(
            _message(
                sender=sender,
                subject="Abwesenheitsnotiz: Ihre Anfrage",
                message_id="<demo-out-of-office@mail.example.de>",
                text="Ich bin bis Montag nicht im Büro.",
                Auto_Submitted="auto-replied",
            )
        )
    ticket = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, customer__isnull=False)
        .exclude(customer__email="")
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    if ticket is not None:
        mails.append(
            _message(
                sender=f"{ticket.customer.full_name} <{ticket.customer.email}>",
                subject=f"AW: [#{ticket.reference}] {ticket.subject}",
                message_id="<demo-answer@mail.example.de>",
                text=(
                    "Danke, ich habe es ausprobiert, leider ohne Erfolg.\n\n"
                    "> Bitte starten Sie den Router einmal neu.\n> Ihr Kundenservice"
                ),
            )
        )
    filed = [inbound.inbound_mail_process(raw=raw, source=InboundSource.API) for raw in mails]
    new = sum(not mail.duplicate for mail in filed)
    stdout.write(f"Mail: {new} demo e-mails filed ({len(filed) - new} seen before)")
    return []
