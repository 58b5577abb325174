"""Forms of the agent workspace's customer pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.choices import NoteKind
from customers.models import Product

# Long enough that a 10 kB paste is still an attempt (and counted), short enough to refuse abuse.
SPOKEN_MAX_LENGTH = 16384


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autofocus": True,
                "placeholder": _("Customer number, name, postal code, phone or e-mail"),
            }
        ),
    )


class PhonePasswordCheckForm(forms.Form):
    phone_password = forms.CharField(
        label=_("Phone password as the caller says it"),
        max_length=SPOKEN_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Type what the caller says.")},
    )
    ticket_reference = forms.CharField(label=_("Ticket (optional)"), max_length=20, required=False)


class IdentityCheckForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=100)


class CustomerNoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=NoteKind.choices, initial=NoteKind.INFO)
    text = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a note first.")},
    )


class TariffChangeForm(forms.Form):
    product = forms.ModelChoiceField(label=_("New tariff"), queryset=Product.objects.none())

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(
            kind=contract.product.kind, active=True
        ).exclude(pk=contract.product_id)
