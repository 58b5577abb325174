"""The public expected-wait-times page (no login, no customer data)."""

import math

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from escalation.selectors import duration_label, waits
from tickets.choices import Channel

# One key for every language: the numbers are cached, the words are rendered per request.
CACHE_KEY = "escalation:wait-times:v1"


def wait_figures_cached() -> dict:
    figures = cache.get(CACHE_KEY)
    if figures is None:
        figures = waits.wait_figures()
        cache.set(CACHE_KEY, figures, settings.WAIT_TIMES_CACHE_SECONDS)
    return figures


def phone_label(seconds: int) -> str:
    """A caller's expected wait, rounded up to whole minutes."""
    if seconds < 60:
        return _("under a minute")
    minutes = math.ceil(seconds / 60)
    return ngettext("about %(count)d minute", "about %(count)d minutes", minutes) % {
        "count": minutes
    }


def written_label(minutes: int) -> str:
    """An expected first answer in business time, rounded up (a promise, not a
    measurement): 5-minute steps under an hour, quarter hours up to a working day, then
    whole hours."""
    if minutes < 60:
        return _("about %(time)s") % {"time": duration_label(max(5, math.ceil(minutes / 5) * 5))}
    if minutes < 8 * 60:
        return _("about %(time)s") % {"time": duration_label(math.ceil(minutes / 15) * 15)}
    hours = math.ceil(minutes / 60)
    return ngettext("about %(count)d hour", "about %(count)d hours", hours) % {"count": hours}


def _channels(figures: dict) -> list[dict]:
    phone = figures["phone"]
    channels = [
        {
            "key": Channel.PHONE,
            "label": Channel.PHONE.label,
            "value": phone["seconds"],
            "text": phone_label(phone["seconds"]) if phone["seconds"] is not None else "",
            "basis": phone["basis"],
            "count": phone["count"],
        }
    ]
    for key in waits.WRITTEN_CHANNELS:
        written = figures["written"][key]
        channels.append(
            {
                "key": key,
                "label": Channel(key).label,
                "value": written["minutes"],
                "text": written_label(written["minutes"]) if written["minutes"] is not None else "",
                "basis": waits.BASIS_RECENT_DAYS,
                "count": written["count"],
            }
        )
    return channels


@require_GET
def wait_times(request):
    """Expected answer time per channel and whether the hotline is open, for everyone.

    The figures are computed at most once per WAIT_TIMES_CACHE_SECONDS for all visitors
    and languages; the hotline's open/closed state is worked out per request from the
    cached calendar, without the database.
    """
    figures = wait_figures_cached()
    now = timezone.now()
    hotline = waits.hotline_state(figures["hotline"], now)
    if hotline and hotline["opens_at"]:
        days_ahead = (timezone.localdate(hotline["opens_at"]) - timezone.localdate(now)).days
        hotline["opens_today"], hotline["opens_tomorrow"] = days_ahead == 0, days_ahead == 1
    return render(
        request,
        "escalation/wait_times.html",
        {
            "figures": figures,
            "channels": _channels(figures),
            "hotline": hotline,
            "basis_last_hour": waits.BASIS_LAST_HOUR,
            "recent_minutes": int(waits.PHONE_RECENT.total_seconds() // 60),
            "refresh_minutes": max(1, settings.WAIT_TIMES_CACHE_SECONDS // 60),
        },
    )
