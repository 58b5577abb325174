"""Forms of the customer portal: input only; the services decide and write."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from customers import services
from customers.models import Customer
from helpdesk import permissions as roles
from helpdesk import services as helpdesk_services
from helpdesk.tasks import email_send_task


def _secret(label, *, autocomplete: str, help_text: str = "") -> forms.CharField:
    # render_value=False: a typed secret is never sent back to the browser, not even
    # when the form comes back with an error.
    return forms.CharField(
        label=label,
        help_text=help_text,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": autocomplete}),
    )


class PhonePasswordForm(forms.Form):
    """Set or change the phone password; the web password proves it is the customer."""

    current_password = _secret(
        _("Current web password"),
        autocomplete="current-password",
        help_text=_("The password you sign in to this portal with."),
    )
    phone_password = _secret(_("New phone password"), autocomplete="off")
    phone_password_again = _secret(_("Repeat the phone password"), autocomplete="off")

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_phone_password(self) -> str:
        value = self.cleaned_data["phone_password"]
        # The service checks the same rules again; asking here shows every problem at
        # once, next to the field, even when the web password is wrong too.
        problems = services.phone_password_problems(customer=self.customer, raw=value)
        if problems:
            raise forms.ValidationError(problems)
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        first, again = cleaned.get("phone_password"), cleaned.get("phone_password_again")
        if first and again is not None and first != again:
            self.add_error("phone_password_again", _("The two phone passwords differ."))
        return cleaned


class WebPasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's password change with the portal's words (web password, not phone password)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current web password")
        self.fields["new_password1"].label = _("New web password")
        self.fields["new_password2"].label = _("Repeat the new web password")


class PortalSetPasswordForm(auth_forms.SetPasswordForm):
    """The last step of a password reset: choose a new web password."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("New web password")
        self.fields["new_password2"].label = _("Repeat the new web password")


class PortalPasswordResetForm(auth_forms.PasswordResetForm):
    """Reset mails go to active customer logins only; the page looks the same either way.

    Staff and admin accounts are never reset from the public portal: an agent's account
    opens every customer record, so its reset stays with the administrators.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        # Rendered here (the link needs the request), sent by a worker: answering a known
        # address then costs about as long as answering an unknown one.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        helpdesk_services.task_enqueue(email_send_task, subject=subject, body=body, to=[to_email])

    def get_users(self, email: str):
        # Django's rules first (active, usable password, same address after Unicode
        # case folding), then ours; only a handful of logins share an address.
        return (
            user
            for user in super().get_users(email)
            if roles.can_use_portal(user) and not (user.is_staff or user.is_superuser)
        )
