"""The admin's form for a new API token (the key itself is made by the service)."""

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.choices import Role
from helpdesk.models import SCOPES


class ApiTokenCreateForm(forms.Form):
    """Who gets the token, for what, and until when; the service checks it all again."""

    user = forms.ModelChoiceField(
        queryset=User.objects.filter(groups__name=Role.INTEGRATION, is_active=True).order_by(
            "username"
        ),
        label=_("Integration user"),
        help_text=_("Only active users with the integration role can hold tokens."),
    )
    name = forms.CharField(
        max_length=100,
        label=_("Token name"),
        help_text=_("Which system uses the token, e.g. the phone system in Berlin."),
    )
    scopes = forms.MultipleChoiceField(
        choices=[
            (scope, format_lazy("{scope} – {description}", scope=scope, description=text))
            for scope, text in SCOPES.items()
        ],
        widget=forms.CheckboxSelectMultiple,
        label=_("Scopes"),
        help_text=_("Give only what the system needs; every API call checks its scope."),
        error_messages={"required": _("Choose at least one scope.")},
    )
    expires_at = forms.DateTimeField(
        required=False,
        label=_("Expires"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Optional. Empty: valid until revoked."),
    )

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must lie in the future."))
        return expires_at
