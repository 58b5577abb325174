"""Forms of the customer portal for requests: input only; `tickets.services` decides and writes.

The forms check what they can show next to a field at once (every refused file, not just
the first); the services check the same rules again, so nothing depends on the form.
"""

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets import services
from tickets.models import SupportArea


def attachment_extensions() -> list[str]:
    """The accepted file endings, sorted, with their dot (".pdf")."""
    return sorted(services.ATTACHMENT_TYPES)


def attachment_rules() -> dict:
    """What the page tells the customer about attachments (read at request time)."""
    return {
        "types": ", ".join(extension.lstrip(".") for extension in attachment_extensions()),
        "max_mb": settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        "max_files": settings.TICKET_ATTACHMENTS_PER_MESSAGE,
    }


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none were chosen)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        uploads = data if isinstance(data, list | tuple) else [data]
        return [
            super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload
        ]


class _MessageForm(forms.Form):
    """The text and files every customer message has."""

    body = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write a message first.")},
    )
    attachments = MultipleFileField(label=_("Attach files (optional)"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Limits come from settings, which app modules do not read at import time.
        limit = settings.TICKET_MESSAGE_MAX_CHARS
        self.fields["body"].max_length = limit
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        self.fields["attachments"].widget.attrs["accept"] = ",".join(attachment_extensions())
        rules = attachment_rules()
        self.fields["attachments"].help_text = ngettext(
            "Up to %(files)d file of at most %(mb)d MB: %(types)s.",
            "Up to %(files)d files of at most %(mb)d MB each: %(types)s.",
            rules["max_files"],
        ) % {"files": rules["max_files"], "mb": rules["max_mb"], "types": rules["types"]}

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data["attachments"]
        limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
        if len(uploads) > limit:
            raise forms.ValidationError(
                ngettext(
                    "You can attach at most %(count)d file to a message.",
                    "You can attach at most %(count)d files to a message.",
                    limit,
                )
                % {"count": limit}
            )
        problems = [
            problem for upload in uploads if (problem := services.attachment_problem(upload))
        ]
        if problems:
            raise forms.ValidationError(problems)
        return uploads


class RequestForm(_MessageForm):
    """A new request: what it is about, a subject, the text and files."""

    support_area = forms.ModelChoiceField(
        label=_("What is it about?"),
        queryset=SupportArea.objects.none(),
        empty_label=_("Please choose"),
        error_messages={
            "required": _("Choose what your request is about."),
            "invalid_choice": _("Choose one of the topics in the list."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=services.SUBJECT_MAX_LENGTH,
        help_text=_("A few words, e.g. “No internet since this morning”."),
        error_messages={"required": _("Give the request a subject.")},
    )

    field_order = ["support_area", "subject", "body", "attachments"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["support_area"].queryset = SupportArea.objects.filter(
            in_portal=True, is_active=True
        ).order_by("position", "name")
        self.fields["body"].help_text = _(
            "What happened, since when, and what you have already tried. For a fault, "
            "please name the affected line, phone number or domain."
        )


class ReplyForm(_MessageForm):
    """The customer's answer on their request."""
