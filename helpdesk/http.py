"""Where a request came from (address, browser): for the audit trail, the session list,
the sign-in lock-out and the API rate."""

import ipaddress
import re

from django.conf import settings

# Browser families as a person names them, most specific first (Edge and Opera say
# "Chrome" too, Chrome says "Safari").
BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"Firefox/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
    ("curl", re.compile(r"^curl/(\d+)")),
    ("python-requests", re.compile(r"python-requests/(\d+)")),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


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


def browser_label(user_agent: str) -> str:
    """ "Firefox 128 · Linux" from a User-Agent header; the first 24 characters otherwise."""
    if not user_agent:
        return ""
    name = ""
    for label, pattern in BROWSERS:
        match = pattern.search(user_agent)
        if match:
            version = next((group for group in match.groups() if group), "")
            name = f"{label} {version}".strip()
            break
    system = next((label for marker, label in SYSTEMS if marker in user_agent), "")
    if name:
        return f"{name} · {system}" if system else name
    return user_agent if len(user_agent) <= 24 else user_agent[:23] + "…"
