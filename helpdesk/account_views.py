"""The signed-in user's own security pages (staff and customers): the second factor at
sign-in and its set-up, recovery codes, own sessions, the web password.

After the password, a session that owes a second factor is "pending" (helpdesk.sessions);
the middleware lets only the verify and set-up pages (and sign-out) answer until a code
was accepted. Success rotates the session key, so the id seen before the code is worthless.
"""

from base64 import b32encode
from functools import wraps

import django_otp
import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk import account_forms as forms
from helpdesk import http, permissions, selectors, services, sessions, two_factor
from helpdesk.errors import DomainError

# The recovery codes just made, kept in the session until the user says they stored them.
RECOVERY_CODES = "hd_2fa_new_codes"
SESSIONS_PAGE_SIZE = 20


# --- helpers ------------------------------------------------------------------------------


def _next_url(request) -> str:
    """Where to go afterwards: `next` if it stays on this site, else the user's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return permissions.home_url_for(request.user)


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def second_factor_url(user, next_url: str) -> str:
    """The step after a correct password for a user who owes a code: enter it, or set up
    an authenticator first."""
    step = (
        "account:two-factor-verify" if two_factor.has_device(user) else "account:two-factor-setup"
    )
    return _with_next(step, next_url)


def _pending(request) -> bool:
    return request.session.get(sessions.TWO_FACTOR) not in ("ok", "none")


def _second_factor_passed(request, device) -> None:
    """Mark the session complete and give it a new key (no fixation across the step)."""
    request.session[sessions.TWO_FACTOR] = "ok"
    request.session.cycle_key()
    django_otp.login(request, device)


def account_required(view):
    """Signed-in people (staff and customers); integrations have no account pages."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("agent-login"))
        if permissions.is_integration(request.user):
            raise PermissionDenied(_("Integrations have no account pages."))
        return view(request, *args, **kwargs)

    return wrapped


def _apply_error(form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _secret_groups(device) -> list[str]:
    """The secret as authenticator apps take it by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return [secret[index : index + 4] for index in range(0, len(secret), 4)]


def _qr_code(device) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2, dark="#16202c")


# --- sign-in: the second factor -----------------------------------------------------------


@never_cache
@sensitive_post_parameters("code", "recovery_code")
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Second step of the sign-in: a code from the app, or one recovery code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("agent-login"))
    next_url = _next_url(request)
    if not _pending(request):
        return redirect(next_url)
    if not two_factor.has_device(request.user):
        return redirect(_with_next("account:two-factor-setup", next_url))
    recovery = request.GET.get("method") == "recovery" or "recovery_code" in request.POST
    form_class = forms.RecoveryCodeForm if recovery else forms.CodeForm
    form = form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            if recovery:
                device = services.two_factor_recovery_verify(
                    user=request.user, code=form.cleaned_data["recovery_code"], request=request
                )
            else:
                device = services.two_factor_verify(
                    user=request.user, code=form.cleaned_data["code"], request=request
                )
        except DomainError as error:
            _apply_error(form, error)
        else:
            _second_factor_passed(request, device)
            if recovery:
                left = device.token_set.count()
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; %(count)d is left. "
                        "Make new ones on your security page.",
                        "You signed in with a recovery code; %(count)d are left. "
                        "Make new ones on your security page.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(next_url)
    return render(
        request,
        "account/two_factor_verify.html",
        {
            "form": form,
            "recovery": recovery,
            "next": next_url,
            "app_url": _with_next("account:two-factor-verify", next_url),
            "recovery_url": reverse("account:two-factor-verify")
            + "?"
            + urlencode({"method": "recovery", "next": next_url}),
        },
    )


@never_cache
@sensitive_post_parameters("code", "password")
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: QR code (or the secret by hand), then its first code.

    Right after the password (a pending session) this is the first sign-in of someone who
    must use a second factor; from a complete session it is opting in, or a new phone,
    and asks for the web password.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("agent-login"))
    if permissions.is_integration(request.user):
        raise PermissionDenied(_("Integrations have no account pages."))
    next_url = _next_url(request)
    pending = _pending(request)
    has_device = two_factor.has_device(request.user)
    if pending and has_device:
        return redirect(_with_next("account:two-factor-verify", next_url))
    device = services.two_factor_enrol_start(user=request.user)
    form = forms.SetupForm(
        request.POST if request.method == "POST" else None, needs_password=not pending
    )
    if form.is_bound and form.is_valid():
        try:
            device, codes = services.two_factor_enrol_confirm(
                user=request.user,
                code=form.cleaned_data["code"],
                password=None if pending else form.cleaned_data["password"],
                request=request,
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            _second_factor_passed(request, device)
            request.session[RECOVERY_CODES] = codes
            return redirect(_with_next("account:two-factor-recovery-codes", next_url))
    return render(
        request,
        "account/two_factor_setup.html",
        {
            "form": form,
            "pending": pending,
            "replacing": has_device,
            "qr_code": _qr_code(device),
            "secret_groups": _secret_groups(device),
            "issuer": device.name,
            "next": next_url,
        },
    )


@never_cache
@account_required
@require_http_methods(["GET", "POST"])
def two_factor_recovery_codes(request):
    """The new recovery codes, shown until the user confirms they stored them."""
    codes = request.session.get(RECOVERY_CODES)
    if not codes:
        return redirect("account:security")
    next_url = _next_url(request)
    if request.method == "POST":
        request.session.pop(RECOVERY_CODES, None)
        return redirect(next_url)
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": next_url})


@never_cache
@account_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def two_factor_recovery_renew(request):
    """New recovery codes for the signed-in user (the old ones stop working)."""
    if not two_factor.has_device(request.user):
        return redirect("account:security")
    form = forms.PasswordConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            codes = services.two_factor_recovery_codes_renew(
                user=request.user, password=form.cleaned_data["password"], request=request
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            request.session[RECOVERY_CODES] = codes
            return redirect(
                _with_next("account:two-factor-recovery-codes", reverse("account:security"))
            )
    return render(request, "account/recovery_renew.html", {"form": form})


@never_cache
@account_required
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def two_factor_disable(request):
    """Switch two-factor sign-in off: only where it is not required (customers; agents when
    the setting makes it optional); needs the web password and a code."""
    if two_factor.is_required(request.user):
        raise PermissionDenied(_("Your account must sign in with a second factor."))
    if not two_factor.has_device(request.user):
        return redirect("account:security")
    form = forms.DisableForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.two_factor_disable(
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                request=request,
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            request.session[sessions.TWO_FACTOR] = "none"
            messages.success(request, _("Two-factor sign-in is switched off."))
            return redirect("account:security")
    return render(request, "account/two_factor_disable.html", {"form": form})


# --- the account security page ---------------------------------------------------------


def _security_context(request, sessions_form=None) -> dict:
    user = request.user
    state = selectors.account_security(user=user)
    page = Paginator(state.sessions, SESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.browser = http.browser_label(row.user_agent) or _("unknown")
        row.is_current = row.session_key == request.session.session_key
    on_portal = permissions.can_use_portal(user)
    return {
        "device": state.device,
        "required": two_factor.is_required(user),
        "recovery_left": state.recovery_left,
        "page": page,
        "sessions_form": sessions_form or forms.PasswordConfirmForm(),
        "password_url": reverse("portal-password" if on_portal else "account:password-change"),
    }


@never_cache
@account_required
@require_http_methods(["GET"])
def security(request):
    """Second factor, own sessions and the web password, for staff and customers alike."""
    return render(request, "account/security.html", _security_context(request))


@never_cache
@account_required
@sensitive_post_parameters("password")
@require_POST
def sessions_end(request):
    """ "End all other sessions": every device but this one is signed out at once."""
    form = forms.PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            ended = services.user_other_sessions_end(
                user=request.user, password=form.cleaned_data["password"], request=request
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d other session was ended.",
                    "%(count)d other sessions were ended.",
                    ended,
                )
                % {"count": ended},
            )
            return redirect("account:security")
    return render(request, "account/security.html", _security_context(request, form))


@never_cache
@account_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
def password_change(request):
    """Change the web password (staff; customers use the portal's page): the current one
    first; this session stays signed in, all others end."""
    if permissions.can_use_portal(request.user):
        return redirect("portal-password")
    form = forms.StaffPasswordChangeForm(
        request.user, request.POST if request.method == "POST" else None
    )
    if form.is_bound and form.is_valid():
        ended = services.user_password_change(
            user=request.user, new_password=form.cleaned_data["new_password1"], request=request
        )
        messages.success(request, password_changed_message(ended))
        return redirect("account:security")
    return render(request, "account/password_change.html", {"form": form})


def password_changed_message(ended: int) -> str:
    if not ended:
        return _("Your web password has been changed.")
    return ngettext(
        "Your web password has been changed; %(count)d other session was ended.",
        "Your web password has been changed; %(count)d other sessions were ended.",
        ended,
    ) % {"count": ended}
