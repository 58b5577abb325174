"""Where a request came from, for the audit trail, the sign-in lock-out and the API rate."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's address.

    Without proxies (TRUSTED_PROXY_COUNT=0) that is REMOTE_ADDR, and an X-Forwarded-For
    header is ignored: the caller could write anything into it. Behind N proxies of our
    own, it is the address the outermost of them saw: the N-th entry from the right of
    X-Forwarded-For (each proxy appends the address it received the request from).
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
