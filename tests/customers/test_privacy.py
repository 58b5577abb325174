"""Data protection: the portal's data download, erasure by an admin, its replay after a
restore, and the retention pass.

Erika (alice's record) has a full history: lines with a private credential (the CANARY),
a request with a public reply and an internal note (the CANARY again), attachments on
both, a request to management, a visit, a feature-request ask, a verified call, mail both
ways. Malte (mallory's) has a request of his own that must stay untouched.
"""

# The fixtures come from the tickets tests and are taken as arguments below, which ruff
# reads as redefining the imported names.
# ruff: noqa: F811

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from calls.choices import Match
from calls.models import Call
from customers.choices import OrderKind, VerificationChannel, VerificationMethod
from customers.choices import VerificationResult as Result
from customers.models import (
    Connection,
    Contract,
    CreditNote,
    Customer,
    CustomerNote,
    Erasure,
    Invoice,
    Order,
    PhoneNumber,
    PrivateCredential,
    VerificationAttempt,
)
from customers.services import privacy
from escalation.choices import ProposalKind
from escalation.models import ManagementRequest, Proposal
from escalation.services import management
from feature_requests import services as feature_services
from feature_requests.models import Ask
from helpdesk import services as helpdesk_services
from helpdesk.choices import AuditAction
from helpdesk.models import AuditEvent, UserSession
from mail.choices import InboundOutcome, InboundSource
from mail.models import InboundMail, OutboundMail
from tests.conftest import PASSWORD
from tests.customers.conftest import CANARY, make_invoices
from tests.tickets.conftest import (  # noqa: F401
    bob_agent,
    carol_agent,
    malte_ticket,
    team,
    tech_ticket,
    ticket,
    tina_agent,
    trent,
)
from tickets import services as ticket_services
from tickets.choices import Status
from tickets.models import Appointment, Attachment, Ticket, TicketMessage, VisitRegion, VisitWindow

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOTE_TEXT = f"Kundin wirkte verärgert, Zugang {CANARY}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ERASURE_LOG_PATH = tmp_path / "erasures.jsonl"
    return settings.MEDIA_ROOT


@pytest.fixture
def erasure_log(settings) -> Path:
    return Path(settings.ERASURE_LOG_PATH)


@pytest.fixture
def history(erika, alice, bob, max_, erika_line, erika_voip, erika_contract, ticket, tech_ticket):
    """Everything Erika's account has gathered; returns the objects the tests look at."""
    make_invoices(erika, 2)
    invoice = Invoice.objects.filter(customer=erika).first()
    CreditNote.objects.create(
        customer=erika,
        invoice=invoice,
        number="G-0001",
        issued_on=timezone.localdate(),
        amount=Decimal("5.00"),
        reason="Kulanz",
    )
    Order.objects.create(customer=erika, kind=OrderKind.SHIPMENT, description="FRITZ!Box 7590")
    reply = ticket_services.ticket_reply(
        ticket=ticket,
        actor=bob,
        body="Die Gutschrift anbei.",
        attachments=[SimpleUploadedFile("Gutschrift Oktober.pdf", PDF)],
    )
    note = ticket_services.ticket_note_add(
        ticket=ticket,
        actor=bob,
        body=NOTE_TEXT,
        attachments=[SimpleUploadedFile("intern-abbuchung.log", CANARY.encode())],
    )
    ticket_services.ticket_subject_change(ticket=ticket, subject="Doppelte Abbuchung", actor=bob)
    request = management.management_request_create(
        customer=erika,
        subject="Drei Wochen ohne Internet",
        text="Ich bin seit drei Wochen ohne Internet und niemand hilft mir.",
        actor=alice,
    )
    management.proposal_make(
        request=request,
        kind=ProposalKind.CREDIT_NOTE,
        findings="Die Leitung war vom 1. bis 21. gestört.",
        amount="25.00",
        invoice=invoice,
        actor=max_,
    )
    region = VisitRegion.objects.create(
        name="Köln", area="50667-51149", ranges=[["50667", "51149"]]
    )
    window = VisitWindow.objects.create(
        region=region,
        date=timezone.localdate() + timedelta(days=2),
        starts="08:00",
        ends="12:00",
        capacity=2,
        booked=1,
    )
    Appointment.objects.create(
        ticket=tech_ticket, window=window, note="Hund im Garten", move_request="Lieber nachmittags"
    )
    feature_services.feature_request_create(
        title="Rufnummernanzeige im Portal",
        department="tech",
        kind="wish",
        actor=bob,
        customer=erika,
        ticket=ticket,
        note="Frau Musterfrau fragt zum dritten Mal",
    )
    VerificationAttempt.objects.create(
        customer=erika,
        agent=bob,
        method=VerificationMethod.PHONE_PASSWORD,
        channel=VerificationChannel.AGENT,
        result=Result.SUCCESS,
        ticket_reference=ticket.reference,
    )
    Call.objects.create(
        caller_number="0221 1234567",
        caller_normalized="02211234567",
        match=Match.PHONE_NUMBER,
        customer=erika,
        candidates=[{"number": erika.number, "name": erika.full_name}],
    )
    InboundMail.objects.create(
        message_id="<abc@example.de>",
        source=InboundSource.API,
        from_address="erika@example.de",
        subject="Re: Rechnung doppelt",
        sha256="0" * 64,
        outcome=InboundOutcome.ATTACHED,
        ticket=ticket,
    )
    CustomerNote.objects.create(customer=erika, author=bob, text="Ruft oft abends an")
    TOTPDevice.objects.create(user=alice, name="Handy", confirmed=True)
    StaticDevice.objects.create(user=alice, name="Recovery")
    helpdesk_services.audit_record(
        action=AuditAction.LOGIN, actor=alice, details={"second_factor": "not required"}
    )
    helpdesk_services.audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor_label="alice",
        object_type="user",
        object_label="alice",
    )
    return {"ticket": ticket, "tech_ticket": tech_ticket, "reply": reply, "note": note}


# --- Data download ----------------------------------------------------------------------


def download(client, user):
    client.force_login(user)
    return client.post(reverse("portal-data-download"))


def test_the_account_page_links_to_the_data_page(client, alice, erika):
    client.force_login(alice)
    page = client.get(reverse("portal-account"))
    assert reverse("portal-data-export") in page.content.decode()


def test_the_data_page_explains_the_download(client, alice, erika):
    client.force_login(alice)
    page = client.get(reverse("portal-data-export"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("portal-data-download") in html
    assert "meine-daten-K1000001.json" in html


def test_alice_downloads_her_own_data_as_a_json_file(client, alice, history, erika):
    response = download(client, alice)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="meine-daten-K1000001.json"'
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["customer"]["number"] == "K1000001"
    assert data["customer"]["last_name"] == "Musterfrau"
    assert data["customer"]["street"] == "Heidestraße 17"
    assert data["customer"]["birth_date"] == "1964-08-12"
    assert data["customer"]["phone_password_set"] is True
    assert data["login"]["username"] == "alice"
    assert {phone["number"] for phone in data["phone_numbers"]} == {"0221 1234567", "0221 555001"}
    assert [contract["number"] for contract in data["contracts"]] == ["V-1000001-1"]
    assert len(data["invoices"]) == 2
    assert data["credit_notes"][0]["number"] == "G-0001"
    assert data["orders"][0]["description"] == "FRITZ!Box 7590"
    assert {line["identifier"] for line in data["connections"]} == {"DEU.1234.5678", "VOIP-1"}
    references = {ticket["reference"] for ticket in data["tickets"]}
    assert history["ticket"].reference in references
    assert history["tech_ticket"].reference in references
    assert data["attachments"] == [
        {
            "filename": "Gutschrift Oktober.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
            "created_at": data["attachments"][0]["created_at"],
            "ticket": history["ticket"].reference,
        }
    ]
    assert data["management_requests"][0]["subject"] == "Drei Wochen ohne Internet"
    assert data["management_requests"][0]["proposals"][0]["kind"] == ProposalKind.CREDIT_NOTE
    assert data["visits"][0]["move_request"] == "Lieber nachmittags"
    assert data["feature_requests"][0]["feature_request"] == "Rufnummernanzeige im Portal"
    assert data["verification_attempts"][0]["result"] == Result.SUCCESS
    assert "agent" not in data["verification_attempts"][0]
    assert data["sign_ins"] and all("at" in row and "ip_address" in row for row in data["sign_ins"])


def test_the_download_holds_no_secrets_internal_notes_or_hashes(client, alice, history, erika):
    text = download(client, alice).content.decode()
    assert CANARY not in text
    assert "intern-abbuchung.log" not in text
    assert "Kundin wirkte" not in text
    assert "AUTH-xyz" not in text
    assert Customer.objects.get(pk=erika.pk).phone_password not in text
    assert User.objects.get(pk=alice.pk).password not in text
    assert "Ruft oft abends an" not in text  # agents' notes on the customer
    data = json.loads(text)
    kinds = {m["kind"] for ticket in data["tickets"] for m in ticket["messages"]}
    assert kinds <= {"customer", "reply"}


def test_the_download_holds_nothing_of_another_customer(
    client, alice, history, malte, malte_ticket
):
    text = download(client, alice).content.decode()
    assert "K1000002" not in text
    assert "Malte" not in text
    assert malte_ticket.reference not in text
    assert "Tarifwechsel" not in text


def test_mallory_gets_only_her_own_record(client, mallory, malte, history):
    data = json.loads(download(client, mallory).content)
    assert data["customer"]["number"] == "K1000002"
    assert "Musterfrau" not in json.dumps(data)


def test_the_download_is_audited_as_an_export(client, alice, erika):
    download(client, alice)
    entry = AuditEvent.objects.get(action=AuditAction.EXPORTED)
    assert entry.actor == alice
    assert entry.object_id == str(erika.pk)
    assert entry.details == {"export": "personal_data"}


def test_the_download_costs_the_same_queries_whatever_the_history(
    client, alice, erika, erika_line, django_assert_num_queries, ticket, bob
):
    client.force_login(alice)
    client.get(reverse("portal-account"))  # the session's first touches are not the page's
    with django_assert_num_queries(21) as small:
        client.get(reverse("portal-data-download"))
    make_invoices(erika, 30)
    for number in range(5):
        ticket_services.ticket_reply(
            ticket=ticket,
            actor=bob,
            body=f"Antwort {number}",
            attachments=[SimpleUploadedFile(f"a{number}.pdf", PDF)],
        )
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("portal-data-download"))


@pytest.mark.parametrize("persona", ["bob", "tina", "max_", "phone_system"])
def test_staff_and_integrations_get_no_data_download(client, request, persona, erika):
    client.force_login(request.getfixturevalue(persona))
    for name in ("portal-data-export", "portal-data-download"):
        assert client.get(reverse(name)).status_code in (302, 403, 404)
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORTED).exists()


def test_anonymous_visitors_are_sent_to_the_portal_login(client, erika):
    for name in ("portal-data-export", "portal-data-download"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("portal-login") in response["Location"]


def test_a_customer_login_without_a_record_gets_404(client, alice):
    client.force_login(alice)
    assert client.get(reverse("portal-data-download")).status_code == 404


# --- Erasure ----------------------------------------------------------------------------


def erase(customer, actor, reason="Antrag vom 12.03. per Brief"):
    return privacy.customer_erase(customer=customer, actor=actor, reason=reason)


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


def test_erasure_replaces_the_customer_record_with_a_pseudonym(history, erika, admin_user):
    erase(erika, admin_user)
    erika.refresh_from_db()
    pseudonym = privacy.pseudonym_for("K1000001")
    assert erika.number == "K1000001"
    assert (erika.first_name, erika.last_name) == ("Gelöscht", pseudonym)
    assert (erika.street, erika.postal_code, erika.city, erika.email, erika.company) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert erika.birth_date is None
    assert erika.phone_password == "" and erika.phone_password_set_at is None
    assert erika.search_name == f"{pseudonym} gelöscht"


def test_erasure_deletes_numbers_and_secrets_and_replaces_notes(history, erika, admin_user):
    erase(erika, admin_user)
    assert not PhoneNumber.objects.filter(customer=erika).exists()
    assert not PrivateCredential.objects.filter(customer=erika).exists()
    assert not Connection.objects.filter(customer=erika, auth_code_encrypted__isnull=False).exists()
    assert list(CustomerNote.objects.filter(customer=erika).values_list("text", flat=True)) == [
        privacy.PLACEHOLDER
    ]


def test_erasure_keeps_contracts_invoices_credit_notes_orders_and_lines(history, erika, admin_user):
    erase(erika, admin_user)
    assert Contract.objects.filter(customer=erika, number="V-1000001-1").exists()
    assert Invoice.objects.filter(customer=erika).count() == 2
    assert CreditNote.objects.filter(customer=erika, number="G-0001").exists()
    assert Order.objects.filter(customer=erika).count() == 1
    assert Connection.objects.filter(customer=erika).count() == 2


def test_erasure_disables_the_login_and_ends_every_access(
    client, history, erika, alice, admin_user
):
    client.force_login(alice)
    assert UserSession.objects.filter(user=alice).exists()
    erase(erika, admin_user)
    alice.refresh_from_db()
    assert alice.username == privacy.erased_username("K1000001")
    assert (alice.first_name, alice.last_name, alice.email) == ("", "", "")
    assert not alice.is_active
    assert not alice.has_usable_password()
    assert not UserSession.objects.filter(user=alice).exists()
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert client.get(reverse("portal-account")).status_code == 302
    client.logout()
    response = client.post(reverse("portal-login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200  # the form again: no such user any more


def test_erasure_keeps_ticket_references_but_replaces_their_content(
    history, erika, admin_user, media, django_capture_on_commit_callbacks
):
    ticket = history["ticket"]
    stored = [Path(media) / name for name in Attachment.objects.values_list("file", flat=True)]
    assert stored and all(path.exists() for path in stored)
    with django_capture_on_commit_callbacks(execute=True):
        erase(erika, admin_user)
    ticket.refresh_from_db()
    assert Ticket.objects.filter(reference=ticket.reference, customer=erika).exists()
    assert ticket.subject == privacy.PLACEHOLDER
    assert ticket.contact_email == ""
    assert ticket.personal_data_removed_at is not None
    bodies = set(
        TicketMessage.objects.filter(ticket__customer=erika).values_list("body", flat=True)
    )
    assert bodies == {privacy.PLACEHOLDER}
    assert not Attachment.objects.filter(message__ticket__customer=erika).exists()
    assert not any(path.exists() for path in stored)
    changed = ticket.events.get(kind="ticket.subject_changed")
    assert changed.data == {"from": privacy.PLACEHOLDER, "to": privacy.PLACEHOLDER}


def test_erasure_pseudonymises_mail_calls_requests_visits_and_asks(history, erika, admin_user):
    erase(erika, admin_user)
    mails = OutboundMail.objects.filter(ticket__customer=erika)
    assert mails.exists()
    for mail in mails:
        assert mail.to_address == f"{privacy.erased_username('K1000001')}@erased.invalid"
        assert mail.state != "pending"  # never sent to the pseudonym address
        assert mail.subject == mail.body_text == privacy.PLACEHOLDER
        assert mail.body_html == ""
    inbound = InboundMail.objects.get()
    assert (inbound.from_address, inbound.subject) == ("", privacy.PLACEHOLDER)
    call = Call.objects.get()
    assert (call.caller_number, call.caller_normalized, call.candidates) == ("", "", [])
    request = ManagementRequest.objects.get(customer=erika)
    assert request.subject == request.text == privacy.PLACEHOLDER
    assert Proposal.objects.get(request=request).findings == privacy.PLACEHOLDER
    visit = Appointment.objects.get()
    assert (visit.note, visit.move_request) == ("", "")
    assert Ask.objects.get(customer=erika).note == ""
    attempt = VerificationAttempt.objects.get()
    assert attempt.customer is None and attempt.ticket_reference == ""


def test_erasure_keeps_the_audit_trail_with_names_pseudonymised(history, erika, alice, admin_user):
    before = AuditEvent.objects.count()
    erase(erika, admin_user)
    username = privacy.erased_username("K1000001")
    assert AuditEvent.objects.count() > before
    assert AuditEvent.objects.filter(actor=alice, action=AuditAction.LOGIN).exists()
    assert not AuditEvent.objects.filter(actor_label="alice").exists()
    assert not AuditEvent.objects.filter(object_label="alice").exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, actor_label=username).exists()
    erased = AuditEvent.objects.get(action=AuditAction.ERASED)
    assert erased.actor == admin_user
    assert erased.object_label == "K1000001"
    assert erased.details["repeated"] is False
    labels = " ".join(AuditEvent.objects.values_list("object_label", flat=True))
    assert "Musterfrau" not in labels and "Erika" not in labels


def test_erasure_relabels_the_admin_history(history, erika, alice, admin_user):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    for obj in (erika, alice):
        LogEntry.objects.create(
            user=admin_user,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
        )
    erase(erika, admin_user)
    labels = set(LogEntry.objects.values_list("object_repr", flat=True))
    assert labels == {"K1000001", privacy.erased_username("K1000001")}


def test_erasure_is_recorded_in_the_database_and_the_log(history, erika, admin_user, erasure_log):
    erasure = erase(erika, admin_user)
    assert Erasure.objects.get() == erasure
    assert (erasure.customer_number, erasure.actor, erasure.reason) == (
        "K1000001",
        admin_user,
        "Antrag vom 12.03. per Brief",
    )
    lines = erasure_log.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["number"] == "K1000001" and entry["erasure"] == erasure.pk
    assert "Musterfrau" not in lines[0] and "Erika" not in lines[0]


def test_erasure_twice_changes_nothing_more_and_records_once(
    history, erika, admin_user, erasure_log
):
    erase(erika, admin_user)
    snapshot = (
        Customer.objects.filter(pk=erika.pk).values().get(),
        sorted(TicketMessage.objects.values_list("id", "body")),
    )
    second = erase(erika, admin_user)
    assert second == Erasure.objects.get()
    assert snapshot == (
        Customer.objects.filter(pk=erika.pk).values().get(),
        sorted(TicketMessage.objects.values_list("id", "body")),
    )
    assert len(erasure_log.read_text().splitlines()) == 1
    assert AuditEvent.objects.filter(action=AuditAction.ERASED).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.ERASED, details__repeated=True).count() == 1


def test_erasure_leaves_other_customers_alone(history, erika, malte, malte_ticket, admin_user):
    erase(erika, admin_user)
    malte.refresh_from_db()
    malte_ticket.refresh_from_db()
    assert malte.last_name == "Meier" and malte.email == "malte@example.de"
    assert malte_ticket.subject == "Tarifwechsel gewünscht"
    assert malte_ticket.personal_data_removed_at is None
    assert PhoneNumber.objects.filter(customer=malte).exists()
    assert User.objects.filter(username="mallory", is_active=True).exists()


def test_a_reason_that_is_too_long_erases_nothing(history, erika, admin_user, erasure_log):
    with pytest.raises(privacy.DomainError):
        erase(erika, admin_user, reason="x" * 301)
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"
    assert not Erasure.objects.exists()
    assert not erasure_log.exists()


def test_an_unwritable_log_erases_nothing(history, erika, admin_user, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.ERASURE_LOG_PATH = blocker / "erasures.jsonl"
    with pytest.raises(privacy.DomainError):
        erase(erika, admin_user)
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"
    assert not Erasure.objects.exists()
    assert Attachment.objects.filter(message__ticket__customer=erika).exists()


# --- Admin action -----------------------------------------------------------------------


def changelist_action(client, customer):
    return client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": [customer.pk]},
    )


def test_the_admin_action_leads_to_the_confirmation_page(client, admin_user, erika):
    client.force_login(admin_user)
    response = changelist_action(client, erika)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_erase", args=[erika.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "K1000001" in page.content.decode()


def test_the_confirmation_erases_with_the_right_number(client, admin_user, history, erika):
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_erase", args=[erika.pk])
    response = client.post(url, {"number": "k1000001", "reason": "Antrag per Brief"})
    assert response.status_code == 302
    erika.refresh_from_db()
    assert erika.first_name == "Gelöscht"
    assert Erasure.objects.get().reason == "Antrag per Brief"


def test_a_wrong_number_is_refused_and_nothing_changes(client, admin_user, history, erika, malte):
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_erase", args=[erika.pk])
    for typed in ("K1000002", "", "Musterfrau"):
        response = client.post(url, {"number": typed, "reason": ""})
        assert response.status_code == 200
        assert response.context["form"].errors["number"]
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"
    assert not Erasure.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ERASED).exists()


def test_a_get_of_the_confirmation_page_changes_nothing(client, admin_user, erika):
    client.force_login(admin_user)
    client.get(reverse("admin:customers_customer_erase", args=[erika.pk]))
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"


def test_staff_with_the_permission_may_erase(client, erika, tina):
    tina.user_permissions.add(
        Permission.objects.get(codename="erase_customer"),
        Permission.objects.get(codename="view_customer"),
    )
    client.force_login(tina)
    url = reverse("admin:customers_customer_erase", args=[erika.pk])
    assert client.post(url, {"number": "K1000001"}).status_code == 302
    assert Erasure.objects.get().actor == tina


def test_staff_without_the_permission_cannot_erase(client, erika, tina):
    tina.user_permissions.add(
        Permission.objects.get(codename="view_customer"),
        Permission.objects.get(codename="change_customer"),
    )
    client.force_login(tina)
    url = reverse("admin:customers_customer_erase", args=[erika.pk])
    assert client.post(url, {"number": "K1000001"}).status_code == 403
    changelist_action(client, erika)
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"
    assert not Erasure.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "bob", "max_"])
def test_non_admin_users_never_reach_the_confirmation_page(client, request, persona, erika):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("admin:customers_customer_erase", args=[erika.pk])
    response = client.post(url, {"number": "K1000001"})
    assert response.status_code in (302, 403)
    erika.refresh_from_db()
    assert erika.last_name == "Musterfrau"


def test_several_customers_at_once_are_refused(client, admin_user, erika, malte):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": [erika.pk, malte.pk]},
        follow=True,
    )
    assert (
        "Select exactly one customer" in response.content.decode() or response.context["messages"]
    )
    assert not Erasure.objects.exists()


# --- Replay -----------------------------------------------------------------------------


def test_replay_erases_again_what_a_restore_brought_back(
    history, erika, admin_user, erasure_log, capsys
):
    erase(erika, admin_user)
    # A restore of an older dump: the record is back, the erasure row is gone.
    Erasure.objects.all().delete()
    Customer.objects.filter(pk=erika.pk).update(last_name="Musterfrau", email="erika@example.de")
    PhoneNumber.objects.create(customer=erika, number="0221 1234567", normalized="02211234567")
    call_command("erasures_replay")
    assert "1 re-applied" in capsys.readouterr().out
    erika.refresh_from_db()
    assert (erika.last_name, erika.email) == (privacy.pseudonym_for("K1000001"), "")
    assert not PhoneNumber.objects.filter(customer=erika).exists()
    erasure = Erasure.objects.get()
    assert erasure.reason == "Antrag vom 12.03. per Brief"
    assert AuditEvent.objects.filter(action=AuditAction.ERASED, details__replayed=True).exists()


def test_replay_twice_changes_nothing_more(history, erika, admin_user, erasure_log, capsys):
    erase(erika, admin_user)
    call_command("erasures_replay", log=str(erasure_log))
    call_command("erasures_replay", log=str(erasure_log))
    assert "0 re-applied, 1 already recorded" in capsys.readouterr().out
    assert Erasure.objects.count() == 1


def test_replay_counts_customers_missing_from_the_database(erasure_log, capsys, db):
    erasure_log.write_text(
        json.dumps({"number": "K9999999", "at": timezone.now().isoformat(), "reason": ""}) + "\n"
    )
    call_command("erasures_replay")
    assert "1 customers not in this database" in capsys.readouterr().out


def test_replay_reports_unreadable_lines(erasure_log, db):
    erasure_log.write_text("not json\n")
    with pytest.raises(CommandError, match="Unreadable lines"):
        call_command("erasures_replay")


def test_replay_without_a_log_says_so(tmp_path, db):
    with pytest.raises(CommandError, match="No erasure log"):
        call_command("erasures_replay", log=str(tmp_path / "missing.jsonl"))


# --- Retention --------------------------------------------------------------------------


def finish(ticket, actor, *, days_ago: int, close: bool = True):
    ticket_services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=actor)
    if close:
        ticket_services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=actor)
    past = timezone.now() - timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=past, closed_at=past if close else None)


def test_retention_pseudonymises_tickets_closed_long_ago(
    history, bob, settings, malte_ticket, media, django_capture_on_commit_callbacks
):
    settings.RETENTION_CLOSED_TICKET_DAYS = 365
    old, recent = history["ticket"], history["tech_ticket"]
    finish(old, bob, days_ago=400)
    finish(recent, bob, days_ago=10)
    finish(malte_ticket, bob, days_ago=400, close=False)  # resolved long ago counts too
    files = [Path(media) / f for f in Attachment.objects.values_list("file", flat=True)]
    with django_capture_on_commit_callbacks(execute=True):
        counts = privacy.personal_data_retention_run()
    assert counts["tickets"] == 2
    old.refresh_from_db()
    assert old.subject == privacy.PLACEHOLDER and old.contact_email == ""
    assert set(old.messages.values_list("body", flat=True)) == {privacy.PLACEHOLDER}
    assert not Attachment.objects.filter(message__ticket=old).exists()
    assert not any(path.exists() for path in files)
    recent.refresh_from_db()
    assert recent.subject == "Kein Internet seit heute Morgen"
    assert recent.personal_data_removed_at is None
    malte_ticket.refresh_from_db()
    assert malte_ticket.subject == privacy.PLACEHOLDER
    # The customer record and the reference stay.
    assert Ticket.objects.filter(reference=old.reference, customer__number="K1000001").exists()


def test_retention_leaves_open_tickets_alone(history, settings):
    settings.RETENTION_CLOSED_TICKET_DAYS = 1
    Ticket.objects.update(created_at=timezone.now() - timedelta(days=900))
    assert privacy.personal_data_retention_run()["tickets"] == 0


def test_retention_unlinks_old_verification_attempts(history, erika, bob, settings):
    settings.RETENTION_VERIFICATION_DAYS = 90
    VerificationAttempt.objects.update(created_at=timezone.now() - timedelta(days=91))
    fresh = VerificationAttempt.objects.create(
        customer=erika,
        agent=bob,
        method=VerificationMethod.PHONE_PASSWORD,
        channel=VerificationChannel.IVR,
        result=Result.FAILURE,
    )
    assert privacy.personal_data_retention_run()["verification_attempts"] == 1
    assert list(VerificationAttempt.objects.filter(customer=erika)) == [fresh]
    assert VerificationAttempt.objects.filter(customer=None, ticket_reference="").count() == 1


def test_retention_runs_twice_without_changing_more(history, bob, settings):
    settings.RETENTION_CLOSED_TICKET_DAYS = 30
    finish(history["ticket"], bob, days_ago=31)
    VerificationAttempt.objects.update(created_at=timezone.now() - timedelta(days=365))
    first = privacy.personal_data_retention_run()
    assert first["tickets"] == 1 and first["verification_attempts"] == 1
    second = privacy.personal_data_retention_run()
    assert second == {"tickets": 0, "messages": 0, "attachments": 0, "verification_attempts": 0}


def test_retention_works_in_batches(erika, alice, team, bob, settings):
    from tests.tickets.conftest import area

    settings.RETENTION_CLOSED_TICKET_DAYS = 30
    for number in range(5):
        created = ticket_services.ticket_create(
            customer=erika,
            subject=f"Frage {number}",
            body="Text",
            channel="portal",
            support_area=area("invoice-question"),
            actor=alice,
        )
        finish(created, bob, days_ago=60)
    assert privacy.personal_data_retention_run(batch_size=2)["tickets"] == 5
    assert not Ticket.objects.filter(personal_data_removed_at=None).exists()


def test_retention_is_audited_once_per_run_with_counts(history, bob, settings):
    settings.RETENTION_CLOSED_TICKET_DAYS = 30
    finish(history["ticket"], bob, days_ago=31)
    privacy.personal_data_retention_run()
    entry = AuditEvent.objects.get(action=AuditAction.PSEUDONYMISED)
    assert entry.details["tickets"] == 1
    assert entry.details["ticket_days"] == 30


def test_the_retention_task_runs_the_pass_and_is_on_the_beat(history, bob, settings):
    from customers.tasks import personal_data_retention_task

    assert (
        settings.CELERY_BEAT_SCHEDULE["personal-data-retention"]["task"]
        == "customers.tasks.personal_data_retention_task"
    )
    settings.RETENTION_CLOSED_TICKET_DAYS = 30
    finish(history["ticket"], bob, days_ago=31)
    assert personal_data_retention_task.delay().get()["tickets"] == 1
    assert personal_data_retention_task.delay().get()["tickets"] == 0


def test_erased_tickets_are_skipped_by_retention(history, erika, admin_user, bob, settings):
    settings.RETENTION_CLOSED_TICKET_DAYS = 30
    finish(history["ticket"], bob, days_ago=31)
    erase(erika, admin_user)
    assert privacy.personal_data_retention_run()["tickets"] == 0
