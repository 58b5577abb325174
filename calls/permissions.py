"""The one place where access to calls is decided (STYLE R7).

- The phone system reports calls and their end: integration users whose token carries
  `calls:write` (the scope is checked by `helpdesk.authentication.ScopedAccess`). Staff
  sessions may not: a person never reports a call on the phone system's behalf.
- An agent sees the notices and call notes of their own calls only (the extension that
  took the call names the agent). Another agent's call is a 404, like a missing one; so
  are calls to team leads and management: a call is the person's who took it.
- A call note without a phone-system call may be written by any workspace user for any
  customer (they read every customer record already).
- A call note may be logged on any open ticket of the caller's customer, whatever its
  department: the first line takes the calls about tickets other departments work, and
  the note is what those departments need to read.
- Customers and integrations never reach the pages.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from calls.models import Call
from helpdesk import permissions as roles

MAX_ID = 2**63 - 1  # BigAutoField


def can_report_calls(user) -> bool:
    return roles.is_integration(user)


def ensure_can_report_calls(user) -> None:
    if not can_report_calls(user):
        raise PermissionDenied


def can_take_calls(user) -> bool:
    """Workspace users get notices and write call notes."""
    return roles.can_use_workspace(user)


def calls_visible_to(user):
    """Every lookup of a call on the pages starts here: the user's own calls."""
    if not can_take_calls(user):
        return Call.objects.none()
    return Call.objects.filter(agent__user_id=user.pk)


def call_for(user, call_id: int, queryset=None) -> Call:
    """The user's own call with that id; 404 for missing and not yours alike."""
    if not 0 < call_id <= MAX_ID:  # a URL's digits may not fit the column
        raise Http404
    visible = calls_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, pk=call_id)


def reported_call_for(user, external_id: str) -> Call:
    """A call the phone system reported, by its own id (404 if unknown), for the phone system."""
    ensure_can_report_calls(user)
    calls = Call.objects.select_related("customer", "support_area", "agent__user", "ticket")
    return get_object_or_404(calls.exclude(external_id=""), external_id=external_id)
