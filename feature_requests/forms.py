"""Forms of the feature-request pages in the agent workspace.

Forms read and shape input: they turn a customer number or a ticket reference into the
record the agent may see (or a field error). Every rule about what may happen to a request
(allowed moves, required reasons, sizes, stale versions) is the service's; the views put its
`DomainError` next to the field it names.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers import permissions as customer_permissions
from feature_requests import permissions, services
from feature_requests.choices import AskKind, Ordering, Status, TargetDepartment
from feature_requests.models import DESCRIPTION_MAX, NOTE_MAX, REASON_MAX, TITLE_MAX
from helpdesk.errors import DomainError
from tickets import permissions as tickets_permissions

QUEUES = [("", _("All")), ("qm", _("Quality management")), ("department", _("Department"))]


def _department_choices(empty_label=None) -> list:
    choices = list(TargetDepartment.choices)
    return [("", empty_label), *choices] if empty_label is not None else choices


# --- The list ---------------------------------------------------------------------------


class RequestFilterForm(forms.Form):
    """The filter bar above the list (GET); a nonsense value drops that filter only."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Words in title or description")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All but merged")), *Status.choices],
    )
    department = forms.ChoiceField(
        label=_("Target department"),
        required=False,
        choices=_department_choices(_("Any department")),
    )
    ordering = forms.ChoiceField(label=_("Sort"), required=False, choices=Ordering.choices)
    queue = forms.ChoiceField(required=False, choices=QUEUES, widget=forms.HiddenInput)

    def to_filter(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": (data.get("q") or "").strip(),
            "status": [data["status"]] if data.get("status") else [],
            "department": data.get("department") or "",
            "queue": data.get("queue") or "",
            "ordering": data.get("ordering") or Ordering.ASKS,
        }


# --- Asks -------------------------------------------------------------------------------


class AskFieldsForm(forms.Form):
    """Who asked and where: kind, customer number, ticket reference, a note."""

    kind = forms.ChoiceField(
        label=_("What happened"),
        choices=AskKind.choices,
        initial=AskKind.WISH,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether it was a wish or a request we declined."),
            "invalid_choice": _("Choose whether it was a wish or a request we declined."),
        },
    )
    customer = forms.CharField(
        label=_("Customer number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": "K1234567", "autocomplete": "off", "class": "mono"}
        ),
    )
    ticket = forms.CharField(
        label=_("Ticket"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": "2026-004711", "autocomplete": "off", "class": "mono"}
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX}),
        help_text=_("What exactly the customer wanted, in their words."),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_customer(self):
        number = (self.cleaned_data.get("customer") or "").strip().upper()
        if not number:
            return None
        customer = (
            customer_permissions.customers_visible_to(self.user).filter(number=number).first()
        )
        if customer is None:
            raise forms.ValidationError(
                _("No customer has the number %(number)s."), params={"number": number}
            )
        return customer

    def clean_ticket(self):
        reference = (self.cleaned_data.get("ticket") or "").strip().lstrip("#")
        if not reference:
            return None
        ticket = (
            tickets_permissions.tickets_visible_to(self.user)
            .select_related("customer")
            .filter(reference=reference)
            .first()
        )
        if ticket is None:
            raise forms.ValidationError(
                _("There is no ticket %(reference)s that you may open."),
                params={"reference": reference},
            )
        return ticket

    def ask_data(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "customer": data["customer"],
            "ticket": data["ticket"],
            "note": data["note"],
        }


class AskForm(AskFieldsForm):
    """Record one more ask on a request (its detail page)."""


class CreateForm(AskFieldsForm):
    """File a new request with its first ask, or (`ask_on`) count an ask on a similar one."""

    title = forms.CharField(
        label=_("Title"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": TITLE_MAX, "autocomplete": "off"}),
        help_text=_("In a few words, what is wished for, e.g. “Invoices by post again”."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": DESCRIPTION_MAX}),
        help_text=_("Why customers want it, what they use instead today."),
    )
    department = forms.ChoiceField(
        label=_("Target department"),
        required=False,
        choices=_department_choices(_("Choose…")),
    )
    # The ticket page the agent came from: saving goes back there.
    from_ticket = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    field_order = ["title", "department", "description", "kind", "customer", "ticket", "note"]

    def __init__(self, *args, for_ask: bool = False, **kwargs):
        # Counting an ask on a suggestion needs no title or department of its own.
        self.for_ask = for_ask
        super().__init__(*args, **kwargs)

    def clean_title(self):
        title = self.cleaned_data.get("title") or ""
        if self.for_ask:
            return title
        try:
            return services.title_clean(title)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None

    def clean_department(self):
        department = self.cleaned_data.get("department") or ""
        if not self.for_ask and department not in TargetDepartment.values:
            raise forms.ValidationError(_("Choose the department the request concerns."))
        return department


# --- Review -----------------------------------------------------------------------------


class VersionedForm(forms.Form):
    """Carries the version of the request the user saw; a change meanwhile refuses the action."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("Reload the page and try again."),
            "invalid": _("Reload the page and try again."),
            "min_value": _("Reload the page and try again."),
        },
    )


class TransitionForm(VersionedForm):
    """One button per allowed move; the service checks the move and the reason."""

    to = forms.CharField(
        max_length=30,
        error_messages={"required": _("Choose a status this request can move to.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": REASON_MAX}),
        help_text=_("Required for a rejection: agents read it out to the next customer who asks."),
    )
    department = forms.ChoiceField(
        label=_("Department that reviews it"),
        required=False,
        choices=_department_choices(),
    )


class MergeForm(VersionedForm):
    """Fold this request into the one that stays; the number is looked up here."""

    into = forms.CharField(
        label=_("Number of the request that stays"),
        max_length=22,
        widget=forms.TextInput(attrs={"placeholder": "#42", "autocomplete": "off"}),
        error_messages={"required": _("Enter the number of the request that stays, e.g. 42.")},
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_into(self):
        raw = (self.cleaned_data.get("into") or "").strip().lstrip("#").strip()
        if not raw.isdigit() or not 0 < int(raw) <= permissions.MAX_ID:
            raise forms.ValidationError(_("Enter the number of the request that stays, e.g. 42."))
        survivor = permissions.requests_visible_to(self.user).filter(pk=int(raw)).first()
        if survivor is None:
            raise forms.ValidationError(
                _("There is no feature request #%(id)s."), params={"id": raw}
            )
        return survivor


class EditForm(VersionedForm):
    """Title, description and target department; the service checks them."""

    title = forms.CharField(
        label=_("Title"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": TITLE_MAX}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": DESCRIPTION_MAX}),
    )
    department = forms.ChoiceField(
        label=_("Target department"),
        required=False,
        choices=_department_choices(),
    )
