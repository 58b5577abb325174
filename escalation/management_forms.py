"""Forms of management's pages: a proposal, withdrawing it, passing a ticket to management.

Forms read and shape input; what may be proposed (amounts, invoices, contracts, dates, one
open proposal at a time) is decided by `escalation.services.management`, whose
`DomainError` the views put next to the field it names. The invoice and contract choices
are the request's customer's only, so an id of another customer's invoice or contract is
refused here already and reaches no service.
"""

from django import forms
from django.db.models import Sum
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from customers.choices import ContractStatus
from customers.models import Contract, Customer, Invoice
from escalation.choices import ProposalKind
from escalation.services.management import COMMENT_MAX, TEXT_MAX

REASON_MAX = 2000  # management_escalate's limit


def _money(value) -> str:
    return formats.number_format(value, 2, use_l10n=True)


class InvoiceChoiceField(forms.ModelChoiceField):
    """The customer's invoices, each with its amount and what is left to credit."""

    def label_from_instance(self, invoice: Invoice) -> str:
        return _("%(number)s · %(amount)s € · %(left)s € not yet credited") % {
            "number": invoice.number,
            "amount": _money(invoice.amount),
            "left": _money(invoice_left(invoice)),
        }


def invoice_left(invoice: Invoice):
    """What is not credited yet (customers.services.invoice_credit_left, from the
    `credited` sum read with the list instead of one query per invoice)."""
    return invoice.amount - (invoice.credited or 0)


def customer_invoices(customer: Customer):
    """The customer's invoices, newest first, with their credited sum (one query)."""
    return (
        Invoice.objects.filter(customer=customer)
        .annotate(credited=Sum("credit_notes__amount"))
        .order_by("-issued_on", "-id")
    )


def contracts_ending_early(customer: Customer):
    """The customer's contracts that may still end early (`Contract.may_end_early`)."""
    return (
        Contract.objects.filter(
            customer=customer,
            early_termination_at=None,
            status__in=[ContractStatus.ACTIVE, ContractStatus.CANCELLATION_REQUESTED],
        )
        .select_related("product")
        .order_by("-start_date", "-id")
    )


class ProposalForm(forms.Form):
    """What management found and proposes; the fields of the other kinds are ignored."""

    kind = forms.ChoiceField(
        label=_("What do you propose?"),
        choices=ProposalKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what you propose."),
            "invalid_choice": _("Choose what you propose."),
        },
    )
    findings = forms.CharField(
        label=_("What we found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}),
        help_text=_("The customer reads this with the proposal."),
    )
    text = forms.CharField(
        label=_("Proposal in your words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}),
        help_text=_("Required for an individual solution; optional otherwise."),
    )
    amount = forms.CharField(
        label=_("Amount in €"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "placeholder": "25,00", "autocomplete": "off"}
        ),
    )
    invoice = InvoiceChoiceField(
        label=_("Invoice"),
        queryset=Invoice.objects.none(),
        required=False,
        empty_label=_("Choose the invoice…"),
        error_messages={"invalid_choice": _("Choose one of the customer's own invoices.")},
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": _("Choose one of the customer's contracts that may still end early.")
        },
    )
    end_date = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the end date as a date, e.g. 2026-06-30.")},
        help_text=_("Regardless of the minimum term and the notice period."),
    )
    free_month = forms.BooleanField(
        label=_("One more month free of charge, to move domains, web site and mailboxes"),
        required=False,
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = customer_invoices(customer)
        self.fields["contract"].queryset = contracts_ending_early(customer)

    def proposal_data(self) -> dict:
        """The keyword arguments of `proposal_make` for the chosen kind."""
        data = self.cleaned_data
        kind = data["kind"]
        fields = {"kind": kind, "findings": data["findings"], "text": data["text"]}
        if kind == ProposalKind.CREDIT_NOTE:
            fields.update(amount=data["amount"], invoice=data["invoice"])
        elif kind == ProposalKind.TERMINATION:
            fields.update(
                contract=data["contract"],
                end_date=data["end_date"],
                free_month=data["free_month"],
            )
        return fields


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you withdraw it?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX}),
        help_text=_("Recorded in the history of the request."),
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": REASON_MAX, "autofocus": True}),
        help_text=_(
            "Why the customer's case needs management: what was tried, what the customer "
            "expects. Management reads it first."
        ),
    )
