"""Forms of the agent workspace's ticket pages.

Forms only read and shape input; every rule about what may happen to a ticket lives in
`tickets.services`, whose `DomainError` the views put next to the form field it names.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core import validators
from django.utils.translation import gettext_lazy as _

from customers.choices import Language
from tickets import permissions, selectors, services
from tickets.choices import MOVES, Channel, Priority, Status
from tickets.models import Department, SupportArea

AGENT_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.LETTER, Channel.CHAT]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; what they may be is checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        return [single(item, initial) for item in files if item]


def _body_field(label, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 5, **attrs}),
        error_messages={"required": _("Write a message first.")},
    )


def _apply_limits(form: forms.Form) -> None:
    """Message length and attachment limits, read per form (they come from the environment)."""
    body = form.fields.get("body")
    if body is not None:
        body.max_length = settings.TICKET_MESSAGE_MAX_CHARS
        body.validators.append(validators.MaxLengthValidator(body.max_length))
        body.widget.attrs["maxlength"] = str(body.max_length)
    attachments = form.fields.get("attachments")
    if attachments is not None:
        attachments.help_text = _(
            "Up to %(count)d files, %(size)d MB each: PDF, images, text, office documents."
        ) % {
            "count": settings.TICKET_ATTACHMENTS_PER_MESSAGE,
            "size": settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }


def _note_field(label, required_message, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": required_message},
    )


# --- Lists --------------------------------------------------------------------------------


WORKSPACE_SORT = "deadline"


class TicketFilterForm(forms.Form):
    """The filter bar above a ticket list (GET); unknown values fall back to the defaults."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("active", _("Active")),
            ("done", _("Resolved or closed")),
            ("all", _("All")),
            *Status.choices,
        ],
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *Priority.choices],
    )
    support_area = forms.ModelChoiceField(
        label=_("Support area"),
        required=False,
        empty_label=_("Any"),
        queryset=SupportArea.objects.none(),
    )
    older_than = forms.ChoiceField(
        label=_("Older than"),
        required=False,
        choices=[
            ("", _("Any age")),
            ("1h", _("1 hour")),
            ("4h", _("4 hours")),
            ("1d", _("1 day")),
            ("3d", _("3 days")),
            ("7d", _("7 days")),
        ],
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        choices=[("", _("Anyone")), ("none", _("Nobody")), ("me", _("Me"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("deadline", _("Next deadline first")),
            ("oldest", _("Oldest first")),
            ("newest", _("Newest first")),
            ("priority", _("Most urgent first")),
            ("updated", _("Recently changed")),
        ],
    )

    def __init__(self, *args, with_assignee: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # The list of areas is read when the form renders, not for every request's filter.
        self.fields["support_area"].queryset = selectors.support_area_list()
        if not with_assignee:
            del self.fields["assignee"]

    def to_filter(self) -> selectors.TicketFilter:
        self.is_valid()  # a nonsense value drops that filter only, not the others
        data = getattr(self, "cleaned_data", {})
        area = data.get("support_area")
        return selectors.TicketFilter(
            status=data.get("status") or "active",
            priority=data.get("priority"),
            support_area=area.pk if area else None,
            older_than=data.get("older_than") or "",
            assignee=data.get("assignee") or "",
            # The workspace works against the clock: next deadline first unless asked.
            sort=data.get("sort") or WORKSPACE_SORT,
        )


class TicketSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search tickets"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autofocus": True,
                "placeholder": _("Reference, subject, text, customer name or number"),
            }
        ),
    )


# --- A new ticket -------------------------------------------------------------------------


class TicketCreateForm(forms.Form):
    """A request the agent takes on the phone, from a letter, a chat or an e-mail."""

    support_area = forms.ModelChoiceField(
        label=_("Support area"), queryset=SupportArea.objects.none(), empty_label=None
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(channel.value, channel.label) for channel in AGENT_CHANNELS],
        initial=Channel.PHONE,
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Give the request a subject.")},
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    body = _body_field(_("What the customer asks for"), rows=8)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, outages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["support_area"].queryset = selectors.support_area_list()
        _apply_limits(self)
        # Outages over the customer's address: the new ticket joins one unless the agent
        # says otherwise. Only these may be posted; a resolved or foreign one is refused.
        self.outages = {str(outage.pk): outage for outage in outages}
        choices = [
            (key, _("Link with the outage “%(title)s”") % {"title": outage.title})
            for key, outage in self.outages.items()
        ]
        self.fields["outage"] = forms.ChoiceField(
            label=_("Outage"),
            choices=[*choices, ("", _("Do not link with an outage"))],
            initial=choices[0][0] if choices else "",
            required=False,
            widget=forms.RadioSelect,
            error_messages={
                "invalid_choice": _(
                    "This outage is resolved or does not affect this customer; choose again."
                )
            },
        )

    def clean_outage(self):
        return self.outages.get(self.cleaned_data.get("outage") or "")


# --- Actions on one ticket ------------------------------------------------------------------


class VersionedForm(forms.Form):
    """Carries the ticket version the agent saw; a change meanwhile refuses the action."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)
        _apply_limits(self)


class ReplyForm(VersionedForm):
    body = _body_field(_("Reply to the customer"), autofocus=True)
    attachments = MultipleFileField(label=_("Attachments"))
    status = forms.ChoiceField(label=_("Then set status"), required=False, choices=Status.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only the moves allowed from here; anything else posted is refused by the
        # service with a message naming both statuses.
        moves = sorted(MOVES.get(self.ticket.status, set()), key=Status.values.index)
        self.fields["status"].widget.choices = [("", _("Keep as it is"))] + [
            (status, Status(status).label) for status in moves
        ]


class NoteForm(VersionedForm):
    body = _body_field(_("Internal note (colleagues only)"))
    attachments = MultipleFileField(label=_("Attachments"))


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    note = forms.CharField(
        label=_("Note (optional)"), max_length=services.NOTE_MAX_LENGTH, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        moves = sorted(MOVES.get(self.ticket.status, set()), key=Status.values.index)
        self.fields["status"].widget.choices = [(status, Status(status).label) for status in moves]


class PriorityForm(VersionedForm):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class EscalateForm(VersionedForm):
    reason = _note_field(_("Why it goes up a line"), _("Say why the ticket goes up a line."))


class HandoffForm(VersionedForm):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a department.")},
    )
    note = _note_field(_("Note for the department"), _("Write a note for the other department."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offered: every other department; posting the own one gets the service's message.
        self.fields["department"].widget.choices = [
            (department.pk, department.name)
            for department in Department.objects.exclude(pk=self.ticket.queue.department_id)
        ]


class HandBackForm(VersionedForm):
    note = _note_field(_("Note for the colleagues"), _("Write a note for the colleagues."))


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_active=True),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a colleague.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].widget.choices = [
            (user.pk, user.get_full_name() or user.get_username())
            for user in selectors.queue_agents(queue=self.ticket.queue)
        ]


class VersionOnlyForm(VersionedForm):
    """Take and unassign: nothing to fill in but the version."""


# --- Text modules ---------------------------------------------------------------------------


class TextModuleFilterForm(forms.Form):
    """The filter bar above the text module list (GET); unknown values drop that filter."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        required=False,
        empty_label=_("All my departments"),
        queryset=Department.objects.none(),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All")), *Language.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("In use")), ("archived", _("Archived")), ("all", _("All"))],
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Short name, title or text")}
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = permissions.text_module_departments_of(user)

    def to_filter(self) -> selectors.TextModuleFilter:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        department = data.get("department")
        return selectors.TextModuleFilter(
            department=department.pk if department else None,
            language=data.get("language") or "",
            status=data.get("status") or "active",
            query=data.get("q") or "",
        )


class TextModuleForm(forms.Form):
    """Create or edit a text module; the rules (short name, placeholders) are the service's."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the departments you manage.")},
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        initial=Language.GERMAN,
        error_messages={"invalid_choice": _("Choose German, English or Polish.")},
    )
    shortcut = forms.CharField(
        label=_("Short name"),
        error_messages={"required": _("Give the text module a short name.")},
        help_text=_(
            "Agents type :: and this name in the reply box, e.g. ::router-reset. "
            "Letters a-z, digits and hyphens."
        ),
        widget=forms.TextInput(
            attrs={
                "maxlength": services.TEXT_MODULE_SHORTCUT_MAX_LENGTH + 2,
                "autocomplete": "off",
                "spellcheck": "false",
                "class": "mono",
            }
        ),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=services.TEXT_MODULE_TITLE_MAX_LENGTH,
        error_messages={"required": _("Give the text module a title.")},
        help_text=_("Shown in the suggestion list, e.g. “Restart the router”."),
    )
    body = forms.CharField(
        label=_("Text"),
        error_messages={"required": _("Write the text of the module.")},
        widget=forms.Textarea(
            attrs={"rows": 12, "maxlength": services.TEXT_MODULE_BODY_MAX_LENGTH}
        ),
        help_text=_("Plain text, as the customer reads it. Placeholders are listed beside."),
    )
    # Edits only: the version the team lead saw; a change meanwhile refuses the save.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args, user, module=None, **kwargs):
        if module is not None:
            kwargs.setdefault(
                "initial",
                {
                    "department": module.department_id,
                    "language": module.language,
                    "shortcut": module.shortcut,
                    "title": module.title,
                    "body": module.body,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = permissions.text_module_departments_of(user)

    def clean(self):
        data = super().clean()
        # Every problem at once (short name and placeholders), not one per attempt; the
        # service checks the same again when it writes.
        problems = services.text_module_problems(
            **{name: data.get(name) or "" for name in ("language", "shortcut", "title", "body")}
        )
        for name, message in problems.items():
            if name not in self.errors:
                self.add_error(name, message)
        return data

    def service_data(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("department", "language", "shortcut", "title", "body")
        }


class TextModuleVersionForm(forms.Form):
    """Archive and restore: nothing to fill in but the version seen in the list."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TextModuleSearchForm(forms.Form):
    """The reply box's `::` search: what the agent typed after the two colons."""

    q = forms.CharField(
        required=False,
        max_length=services.TEXT_MODULE_SHORTCUT_MAX_LENGTH,
        error_messages={
            "max_length": _("Type at most %(limit_value)d characters after the two colons.")
        },
    )
