"""The security audit trail's search page for team leads and management."""

from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpdesk import audit_forms, http, permissions, selectors
from helpdesk.choices import AuditAction

IP_SHOWN = 18  # characters; long IPv6 addresses are cut, the whole one is the tooltip


def ip_short(ip_address: str | None) -> str:
    if not ip_address:
        return ""
    return ip_address if len(ip_address) <= IP_SHOWN else ip_address[: IP_SHOWN - 1] + "…"


def detail_text(value) -> str:
    """A detail's value as people read it: lists joined, nothing Python-looking."""
    if isinstance(value, list | tuple):
        return ", ".join(detail_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={detail_text(item)}" for key, item in value.items())
    return str(value)


def _details(details) -> list[tuple[str, str]]:
    if not isinstance(details, dict):
        return []
    return [
        (key, detail_text(value))
        for key, value in sorted(details.items())
        if value not in ("", None, [], {})
    ]


def _rows(page: selectors.AuditPage) -> list[dict]:
    labels = dict(AuditAction.choices)
    types = dict(audit_forms.OBJECT_TYPES)
    return [
        {
            "event": event,
            "label": labels.get(event.action, event.action),
            "group": event.action.split(".", 1)[0],
            "object_type": types.get(event.object_type, event.object_type),
            "browser": http.browser_label(event.user_agent),
            "ip": ip_short(event.ip_address),
            "details": _details(event.details),
        }
        for event in page.rows
    ]


@never_cache
@permissions.workspace_required
@require_GET
def event_list(request):
    """Search the audit trail: newest first, keyset pages, every filter validated (400)."""
    permissions.ensure_can_read_audit(request.user)
    form = audit_forms.AuditFilterForm(request.GET)
    context = {"form": form, "filtered": any(value for value in request.GET.values())}
    if not form.is_valid():
        return render(request, "helpdesk/audit_list.html", context, status=400)
    page = selectors.audit_event_list(query=form.filter())
    params = request.GET.copy()
    params.pop("before", None)
    first_url = f"{request.path}?{params.urlencode()}" if params else request.path
    next_url = None
    if page.next_cursor:
        query = urlencode([*params.lists(), ("before", [page.next_cursor])], doseq=True)
        next_url = f"{request.path}?{query}"
    context.update(
        {
            "rows": _rows(page),
            "valid": True,
            "is_later_page": bool(form.cleaned_data["before"]),
            "first_url": first_url,
            "next_url": next_url,
        }
    )
    return render(request, "helpdesk/audit_list.html", context)
