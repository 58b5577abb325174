"""Forms of the account pages: second factor, sessions, web password.

They check the shape of what was typed; whether a code or a password is right is decided
by the services (helpdesk.services), which also count and audit the attempts.
"""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _


def _code_input(**attrs) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "pattern": "[0-9 ]*",
            "maxlength": "7",
            "class": "code-input",
            "autofocus": True,
            **attrs,
        }
    )


def _password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Current web password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    """Six digits from the authenticator app (spaces allowed, as some apps show 123 456)."""

    code = forms.CharField(label=_("Code from your authenticator app"), widget=_code_input())

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the six digits your app shows."))
        return code


class RecoveryCodeForm(forms.Form):
    """One of the recovery codes shown when two-factor sign-in was set up."""

    recovery_code = forms.CharField(
        label=_("Recovery code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


class SetupForm(CodeForm):
    """The first code from the newly added app; signed in already, also the web password."""

    def __init__(self, *args, needs_password: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if needs_password:
            self.fields["password"] = _password_field()
            self.fields["code"].widget.attrs.pop("autofocus", None)


class PasswordConfirmForm(forms.Form):
    """The current web password, asked again before a sensitive change."""

    password = _password_field()


class DisableForm(PasswordConfirmForm):
    code = forms.CharField(
        label=_("Code from your app, or a recovery code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class StaffPasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's password change (current password, the validators) with our words."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current web password")
        self.fields["new_password1"].label = _("New web password")
        self.fields["new_password2"].label = _("Repeat the new web password")
