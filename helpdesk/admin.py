from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from helpdesk import services, token_forms
from helpdesk.errors import DomainError
from helpdesk.models import ApiToken, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only records (events, audit rows, clocks): shown, never added or changed."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens: created here (the key is shown once), listed by prefix, revoked, never edited.

    The add page is our own form, not a model form: the key is made by the service and
    rendered straight into the answer to the POST, so it never passes through a message,
    the session or a redirect.
    """

    list_display = [
        "name",
        "holder",
        "prefix",
        "scope_list",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    fields = [
        "holder",
        "name",
        "prefix",
        "scope_list",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("helpdesk.change_apitoken")

    @admin.display(description=gettext_lazy("Integration user"), ordering="user__username")
    def holder(self, token: ApiToken) -> str:
        return token.user.get_username()

    @admin.display(description=gettext_lazy("Scopes"))
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(description=gettext_lazy("state"))
    def state(self, token: ApiToken) -> str:
        if token.revoked_at is not None:
            return _("revoked")
        if not token.is_usable(now=timezone.now()):
            return _("expired")
        return _("active")

    @admin.action(description=gettext_lazy("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at=None):
            services.api_token_revoke(token=token, actor=request.user, request=request)
            revoked += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d token revoked; it is refused from now on.",
                "%(count)d tokens revoked; they are refused from now on.",
                revoked,
            )
            % {"count": revoked},
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="helpdesk_apitoken_revoke",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = token_forms.ApiTokenCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                token, key = services.api_token_create(
                    actor=request.user, request=request, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.log_addition(request, token, [{"added": {}}])
                response = TemplateResponse(
                    request,
                    "admin/helpdesk/apitoken/created.html",
                    {**self._context(request, _("API token created")), "token": token, "key": key},
                )
                response["Cache-Control"] = "no-store"
                return response
        return TemplateResponse(
            request,
            "admin/helpdesk/apitoken/add.html",
            {**self._context(request, _("Create an API token")), "form": form},
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_revoke": self.has_revoke_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(require_POST)
    def revoke_view(self, request, object_id):
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        if not object_id.isdigit():
            raise Http404
        token = get_object_or_404(ApiToken, pk=object_id)
        if token.revoked_at is not None:
            self.message_user(request, _("This token was already revoked."), messages.INFO)
        else:
            services.api_token_revoke(token=token, actor=request.user, request=request)
            self.message_user(
                request, _("Token revoked; it is refused from now on."), messages.SUCCESS
            )
        return redirect(reverse("admin:helpdesk_apitoken_change", args=[token.pk]))

    def _context(self, request, title) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "has_view_permission": self.has_view_permission(request),
        }


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The security audit trail, for reading only: no add, change or delete, and no bulk
    actions (Django's "delete selected" included). Team leads search it at /agent/audit/."""

    list_display = ["at", "action", "actor_label", "object_type", "object_label", "ip_address"]
    list_filter = ["action", "at"]
    search_fields = ["actor_label", "object_label", "object_id"]
    list_select_related = ["actor"]
    actions = None
    show_full_result_count = False  # no COUNT(*) over the whole trail on every page


def _password_change_in_account(request, extra_context=None):
    """The admin's own "change password" would skip the audit entry and the ending of the
    other sessions: it goes to the account page that does both."""
    return redirect("account:password-change")


admin.site.password_change = _password_change_in_account


class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin; a password set here is audited and ends that user's sessions.

    (Disabling a user and changing roles are caught for every path in helpdesk.signals.)
    """

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            services.user_password_set_by_admin(user=User.objects.get(pk=id), request=request)
        return response


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
