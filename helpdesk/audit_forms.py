"""The audit trail's search filter (a GET form): what, who, which object, from where, when.

Every value is checked before anything is read: a bad date, address or page cursor gives
the form's message and an empty page (400), never a list for some other filter.
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from helpdesk.choices import AuditAction
from helpdesk.selectors import AuditFilter

# Event kinds as the select groups them; a group's first option picks all of its kinds.
GROUPS = (
    ("auth", _("Sign-in and sessions"), _("All sign-in events")),
    ("2fa", _("Two-factor sign-in"), _("All two-factor events")),
    ("phone_password", _("Phone password"), _("All phone-password events")),
    ("access", _("Access"), _("All refusals")),
    ("data", _("Personal data"), _("All exports and erasures")),
    ("token", _("API tokens"), _("All token events")),
    ("role", _("Roles"), _("All role changes")),
    ("user", _("Users"), _("All user changes")),
)
GROUP_PREFIX = "group:"
# What an object can be, as `audit_record` names it (a model's name).
OBJECT_TYPES = (
    ("user", _("User")),
    ("customer", _("Customer")),
    ("ticket", _("Ticket")),
    ("apitoken", _("API token")),
)
CUSTOMER_NUMBER = re.compile(r"^[kK]\d{5,10}$")
# Names as the trail holds them: user names, and labels such as "manage.py api_token_create".
USERNAME = re.compile(r"^[^\x00-\x1f\x7f*]+$")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def actions_of_group(group: str) -> list[str]:
    return [action for action in AuditAction.values if action.split(".", 1)[0] == group]


def kind_choices() -> list:
    choices = [("", _("All events"))]
    for key, label, all_label in GROUPS:
        members = [
            (value, text) for value, text in AuditAction.choices if value.startswith(key + ".")
        ]
        if members:
            choices.append((label, [(GROUP_PREFIX + key, all_label), *members]))
    return choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        # The browser's date picker sends and expects ISO dates, whatever the language.
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    """`filter()` gives the selector's AuditFilter; dates are Berlin calendar days."""

    kind = forms.ChoiceField(label=_("Event"), required=False)
    who = forms.CharField(
        label=_("Who"),
        required=False,
        max_length=151,
        help_text=_("User name; end with * for all names starting so."),
    )
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    object = forms.CharField(
        label=_("Object"),
        required=False,
        max_length=64,
        help_text=_("Customer number, ticket reference, user name, or an id with its type."),
    )
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False, unpack_ipv4=True)
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To (inclusive)"), required=False, widget=DateInput())
    before = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
        self.fields["object_type"].choices = [("", _("Any type")), *OBJECT_TYPES]
        self.fields["who"].widget.attrs.update({"placeholder": "tina, ti*", "autocomplete": "off"})
        self.fields["object"].widget.attrs.update(
            {"placeholder": "K1000001", "autocomplete": "off"}
        )

    def clean_who(self) -> str:
        who = self.cleaned_data["who"].strip()
        name = who[:-1] if who.endswith("*") else who
        if who and (not name or not USERNAME.match(name) or len(name) > 150):
            raise forms.ValidationError(
                _("Enter a user name (no control characters), optionally ending in *.")
            )
        return who

    def clean_object(self) -> str:
        value = self.cleaned_data["object"].strip()
        if CUSTOMER_NUMBER.match(value):
            value = value.upper()
        return value

    def clean_before(self) -> tuple[datetime, int] | None:
        raw = self.cleaned_data["before"].strip()
        if not raw:
            return None
        at_text, _comma, id_text = raw.rpartition(",")
        try:
            at = parse_datetime(at_text)
        except ValueError:
            at = None
        if at is None or at.tzinfo is None or not id_text.isascii() or not id_text.isdigit():
            raise forms.ValidationError(_("This page link is damaged; start from the first page."))
        return at, int(id_text)

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a date between 2000 and 2999."))
                data[name] = None
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        if data.get("object_type") and not data.get("object"):
            self.add_error("object", _("Name the object too, or choose any type."))
        return data

    def filter(self) -> AuditFilter:
        """The checked values as a filter for `helpdesk.selectors.audit_event_list`."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind.startswith(GROUP_PREFIX):
            actions = actions_of_group(kind.removeprefix(GROUP_PREFIX))
        else:
            actions = [kind] if kind else []
        who = data["who"]
        berlin = ZoneInfo(settings.TIME_ZONE)
        start = data["start"]
        end = data["end"]
        return AuditFilter(
            actions=actions,
            who=who.removesuffix("*"),
            who_prefix=who.endswith("*"),
            object_type=data["object_type"],
            object=data["object"],
            ip=data["ip"] or "",
            since=datetime.combine(start, time.min, tzinfo=berlin) if start else None,
            until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=berlin)
            if end
            else None,
            before=data["before"],
        )
