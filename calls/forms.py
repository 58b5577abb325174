"""The call note form: what the caller wanted, and what happens with it.

The form checks what each outcome needs (a support area for a new ticket, a reason to
escalate, a department and a note to hand off, a ticket to log on); every rule about
tickets themselves stays in `tickets.services`, whose refusals the view puts next to the
field they name.
"""

from django import forms
from django.conf import settings
from django.core import validators
from django.utils.translation import gettext_lazy as _

from calls.choices import NEW_TICKET_OUTCOMES, Outcome
from tickets import selectors as tickets_selectors
from tickets import services as tickets_services
from tickets.models import Department, SupportArea, Ticket

OUTCOME_CHOICES = [
    (Outcome.FIRST_CONTACT_SOLVED, _("Solved on first contact (ticket opened and resolved)")),
    (Outcome.TICKET_OPENED, _("Open a ticket")),
    (Outcome.ESCALATED, _("Open a ticket and escalate it to the next line")),
    (Outcome.HANDED_OFF, _("Open a ticket and hand it off to another department")),
    (Outcome.LOGGED_ON_TICKET, _("Log the call on an open ticket")),
]
# A refusal of a service names its own field; this is where it goes on the form.
SERVICE_FIELDS = {
    "body": "summary",
    "subject": "subject",
    "support_area": "support_area",
    "reason": "note",
    "note": "note",
    "department": "department",
    "ticket": "ticket",
    "outcome": "outcome",
}


class CallNoteForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 6, "autofocus": True}),
        error_messages={"required": _("Write down what the caller wanted and what you did.")},
        help_text=_("For a new ticket this is the customer's request, as they see it."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=tickets_services.SUBJECT_MAX_LENGTH,
        required=False,
        help_text=_("Empty: the first line of the summary."),
    )
    support_area = forms.ModelChoiceField(
        label=_("Support area"),
        queryset=SupportArea.objects.none(),
        required=False,
        empty_label=_("Choose …"),
        error_messages={"invalid_choice": _("Choose the support area.")},
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=OUTCOME_CHOICES,
        initial=Outcome.FIRST_CONTACT_SOLVED,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what happens with the call."),
            "invalid_choice": _("Choose what happens with the call."),
        },
    )
    note = forms.CharField(
        label=_("Reason or note for the colleagues"),
        max_length=tickets_services.NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to escalate or hand off: why, and what has been tried."),
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("Choose …"),
        error_messages={"invalid_choice": _("Choose a department.")},
    )
    ticket = forms.ChoiceField(
        label=_("Ticket to log the call on"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the customer's open tickets.")},
    )

    def __init__(self, *args, open_tickets: list[Ticket], **kwargs):
        super().__init__(*args, **kwargs)
        self.open_tickets = {ticket.reference: ticket for ticket in open_tickets}
        self.fields["support_area"].queryset = tickets_selectors.support_area_list()
        summary = self.fields["summary"]
        summary.max_length = settings.TICKET_MESSAGE_MAX_CHARS
        summary.validators.append(validators.MaxLengthValidator(summary.max_length))
        summary.widget.attrs["maxlength"] = str(summary.max_length)
        self.fields["ticket"].choices = [("", _("Choose …"))] + [
            (
                ticket.reference,
                f"{ticket.reference} · {ticket.subject} ({ticket.get_status_display()})",
            )
            for ticket in open_tickets
        ]
        if not open_tickets:
            self.fields["outcome"].choices = [
                choice for choice in OUTCOME_CHOICES if choice[0] != Outcome.LOGGED_ON_TICKET
            ]

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome in NEW_TICKET_OUTCOMES and not data.get("support_area"):
            self.add_error("support_area", _("Choose the support area."))
        if outcome == Outcome.ESCALATED and not data.get("note", "").strip():
            self.add_error("note", _("Say why the ticket goes up a line."))
        if outcome == Outcome.HANDED_OFF:
            if not data.get("department"):
                self.add_error("department", _("Choose a department."))
            if not data.get("note", "").strip():
                self.add_error("note", _("Write a note for the other department."))
        if outcome == Outcome.LOGGED_ON_TICKET and not data.get("ticket"):
            self.add_error("ticket", _("Choose one of the customer's open tickets."))
        return data

    def service_arguments(self) -> dict:
        """The cleaned input as `calls.services.call_note_record` takes it."""
        data = self.cleaned_data
        outcome = data["outcome"]
        return {
            "outcome": outcome,
            "summary": data["summary"],
            "subject": data["subject"],
            "support_area": data["support_area"] if outcome in NEW_TICKET_OUTCOMES else None,
            "note": data["note"],
            "department": data["department"] if outcome == Outcome.HANDED_OFF else None,
            "ticket": self.open_tickets.get(data["ticket"])
            if outcome == Outcome.LOGGED_ON_TICKET
            else None,
        }

    def add_service_error(self, field: str | None, message: str) -> None:
        self.add_error(SERVICE_FIELDS.get(field or ""), message)

    def focus_first_error(self) -> None:
        """After a refusal the cursor goes to the first field to fix, not to the summary."""
        invalid = [name for name in self.fields if name in self.errors]
        if invalid and invalid[0] != "summary":
            self.fields["summary"].widget.attrs.pop("autofocus", None)
            self.fields[invalid[0]].widget.attrs["autofocus"] = True


class CustomerChoiceForm(forms.Form):
    """Whose call it is, when the phone system could not tell (GET, no writes)."""

    customer = forms.CharField(
        label=_("Customer number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "K1234567", "autocomplete": "off"}),
    )
