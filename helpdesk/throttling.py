"""The API rate limit: API_RATE_PER_MINUTE calls a minute per token, user or address.

Kept apart from `helpdesk.api` for the same reason as `helpdesk.authentication`: DRF reads
DEFAULT_THROTTLE_CLASSES while it defines APIView, so this module must not import
`rest_framework.views`.

A fixed one-minute window counted in the default cache (Redis in production): one `add`
and one `incr` a call, no SQL, and the same count for every web process. A burst at a
window's edge may reach twice the rate for a moment; that is the price of one counter
instead of DRF's per-call history list, which grows with the rate it enforces.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling

from helpdesk import http
from helpdesk.models import ApiToken

WINDOW_SECONDS = 60
KEY_PREFIX = "helpdesk:api-rate"


def _identity(request) -> str:
    """Who is counted: the token, else the signed-in user, else the calling address.

    Ids are paired with their creation time so a reused id (a database restored from a
    backup, a rolled-back test) never inherits another token's or user's count.
    """
    token = request.auth
    if isinstance(token, ApiToken):
        return f"token:{token.pk}:{token.created_at.timestamp():.6f}"
    user = request.user
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}:{user.date_joined.timestamp():.6f}"
    # X-Forwarded-For counts only behind our own proxies (TRUSTED_PROXY_COUNT): a header
    # the caller made up would otherwise reset the count.
    return f"ip:{http.client_ip(request) or ''}"


class ApiRateThrottle(throttling.BaseThrottle):
    """Refuses calls over the rate with 429 and `Retry-After` (seconds to the next window).

    The rate is read from settings on every call, not at class definition (unlike DRF's
    SimpleRateThrottle), so tests and a changed setting take effect at once.
    """

    def allow_request(self, request, view) -> bool:
        rate = settings.API_RATE_PER_MINUTE
        if not rate:
            return True  # 0 switches the limit off (a load test, a trusted network)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"{KEY_PREFIX}:{_identity(request)}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= rate

    def wait(self) -> float:
        return max(1, math.ceil(getattr(self, "_wait", WINDOW_SECONDS)))
