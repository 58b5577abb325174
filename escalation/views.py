"""Pages of the escalation app: thin, they call selectors and services."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from escalation import selectors, services
from helpdesk.permissions import workspace_required


@require_POST
@workspace_required
def notices_read(request):
    """Mark the signed-in person's notices read (all, or the one posted); only their own."""
    raw = request.POST.get("notice", "")
    ids = [int(raw)] if raw.isdigit() else None
    services.notifications_mark_read(user=request.user, notification_ids=ids)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "escalation/partials/notices.html",
            {"notices": selectors.notice_list(user=request.user)},
        )
    return redirect("agent-home")
