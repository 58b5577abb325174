"""Forms of the customer portal for requests to management: input only;
`escalation.services.management` decides and writes.

The choices are the customer's own tickets and contracts, so an id of someone else's
(typed into a forged POST) is "not a valid choice" before the service is asked; the
service checks ownership again, so nothing depends on the form.
"""

from django import forms
from django.db.models import Subquery
from django.utils.translation import gettext_lazy as _

from customers.models import Contract, Customer
from escalation.services import management as services
from tickets.models import Ticket

# The related requests offered: the customer's most recent ones.
RELATED_CHOICES = 20


class _TicketChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, ticket: Ticket) -> str:
        return f"{ticket.subject} ({ticket.reference})"


class _ContractChoice(forms.ModelChoiceField):
    def label_from_instance(self, contract: Contract) -> str:
        return f"{contract.product.name} ({contract.number})"


class ManagementRequestForm(forms.Form):
    """A new request to management: subject, text, optionally related requests and a contract."""

    subject = forms.CharField(
        label=_("Subject"),
        max_length=services.SUBJECT_MAX,
        help_text=_("A few words, e.g. “Three weeks without internet”."),
        error_messages={"required": _("Give your request a subject.")},
    )
    text = forms.CharField(
        label=_("Your message to management"),
        max_length=services.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("What happened, what you expected from us, and what would settle it for you."),
        error_messages={"required": _("Write what your request is about.")},
    )
    related_tickets = _TicketChoices(
        label=_("Related requests (optional)"),
        queryset=Ticket.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Choose only requests from the list."),
            "invalid_pk_value": _("Choose only requests from the list."),
        },
    )
    contract = _ContractChoice(
        label=_("Contract concerned (optional)"),
        queryset=Contract.objects.none(),
        required=False,
        empty_label=_("No particular contract"),
        error_messages={"invalid_choice": _("Choose one of your contracts from the list.")},
    )

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The most recent requests that are not requests to management themselves; the
        # limit sits in a subquery so the offered list and the check are the same rows
        # (a sliced queryset cannot be filtered when the POST is checked).
        recent = (
            Ticket.objects.filter(customer=customer, management_request__isnull=True)
            .order_by("-created_at", "-id")
            .values("pk")[:RELATED_CHOICES]
        )
        self.fields["related_tickets"].queryset = Ticket.objects.filter(
            pk__in=Subquery(recent)
        ).order_by("-created_at", "-id")
        self.fields["contract"].queryset = (
            Contract.objects.filter(customer=customer)
            .select_related("product")
            .order_by("-start_date", "-id")
        )

    def clean_related_tickets(self):
        tickets = self.cleaned_data["related_tickets"]
        if len(tickets) > services.RELATED_TICKETS_MAX:
            raise forms.ValidationError(
                _("Choose at most %(count)d related requests.")
                % {"count": services.RELATED_TICKETS_MAX}
            )
        return tickets


class ProposalAnswerForm(forms.Form):
    """The customer's answer to a proposal: accept (confirmed) or reject (with a reason)."""

    ACCEPT, REJECT = "accept", "reject"

    decision = forms.ChoiceField(choices=[(ACCEPT, ACCEPT), (REJECT, REJECT)])
    comment = forms.CharField(
        label=_("Your comment (optional)"),
        max_length=services.COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    confirm = forms.BooleanField(label=_("I accept this proposal."), required=False)

    def __init__(self, *args, decision: str, **kwargs) -> None:
        # Each of the two forms on the page gets its own ids.
        kwargs.setdefault("auto_id", f"id_{decision}_%s")
        super().__init__(*args, **kwargs)
        self.fields["decision"].initial = decision
        self.fields["decision"].widget = forms.HiddenInput()
        if decision == self.REJECT:
            self.fields["comment"].label = _("Why do you reject it?")
            self.fields["comment"].help_text = _(
                "Tell us what would settle it for you; we will make you a new proposal."
            )

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision == self.ACCEPT and not data.get("confirm"):
            self.add_error("confirm", _("Tick the box to confirm that you accept the proposal."))
        if decision == self.REJECT and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Tell us why you reject the proposal."))
        return data

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == self.ACCEPT
