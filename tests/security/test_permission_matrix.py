"""The permission matrix: every URL of the project, for every role, answers as expected.

The URLs come from the URL conf (`matrix.routes()`), so a page added anywhere fails
`test_every_url_has_an_expectation` until it is placed in one of the groups below. Each
request points at customer A's objects (alice's record, tickets, visit, request, …): alice
is the owner, mallory (customer B) must never get them (404, STYLE R7).

Roles: anonymous; alice and mallory (customers); bob (customer service, 1st line), trent
(tech), carol (billing), conny (contracts), dana (dispatcher, tech), tina (team lead of
customer service and tech), max (management); root (a Django superuser with no helpdesk
role); integration (the phone system's *browser session*, which gets nothing) and token
(the same integration through the API with every scope; API routes only).

Outcomes: PASS means the role got through the permission layer (the page, a redirect after
an empty POST, or a validation error for it); a refused role must be refused before any
validation (403/404), anonymous visitors are sent to a sign-in page (401 on the API).
"""

from collections.abc import Callable

import pytest
from django.test import Client

from tests.security import matrix
from tests.security.matrix import (
    FORBIDDEN,
    INVALID,
    LOGIN,
    MISSING,
    OK,
    REDIRECT,
    UNAUTHENTICATED,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = ("alice", "mallory")
STAFF = ("bob", "trent", "carol", "conny", "dana", "tina", "max")
NO_SIDE = ("root", "integration")  # signed in, but neither workspace nor portal
ROLES = ("anonymous", *CUSTOMERS, *STAFF, *NO_SIDE, "token")

PASS = {OK, REDIRECT, INVALID}
DENY = {FORBIDDEN, MISSING}

Rule = Callable[[str], set[str]]


# --- Rules: what each role gets -------------------------------------------------------------


def public(role: str) -> set[str]:
    return {OK}


# Pages the same for everyone are asked by one role of each kind only (the matrix stays fast).
public.roles = ("anonymous", "alice", "bob", "integration", "token")


def sign_in_page(role: str) -> set[str]:
    """A signed-in user is sent home; everyone else gets the form."""
    return {OK} if role in ("anonymous", "token") else {REDIRECT}


def landing(role: str) -> set[str]:
    return {OK} if role in ("anonymous", "token", *NO_SIDE) else {REDIRECT}


def everyone_redirected(role: str) -> set[str]:
    return {REDIRECT}


def account(role: str) -> set[str]:
    """The signed-in person's own security pages; no object of anyone else in the URL."""
    if role in ("anonymous", "token"):
        return {LOGIN}
    if role == "integration":
        return {FORBIDDEN}
    return PASS


def account_staff_refused(role: str) -> set[str]:
    """Switching the second factor off: customers only (staff cannot skip it)."""
    return {FORBIDDEN} if role in (*STAFF, "root") else account(role)


def second_factor_step(role: str) -> set[str]:
    return {LOGIN} if role in ("anonymous", "token") else {OK, REDIRECT, FORBIDDEN}


def polled(rule: Rule) -> Rule:
    """An htmx fragment polled every few seconds: a signed-out browser gets 286, htmx's
    "stop polling", instead of a sign-in page swapped into the workspace."""

    def polled_rule(role: str) -> set[str]:
        return {"286"} if role == "anonymous" else rule(role)

    return polled_rule


def portal(role: str) -> set[str]:
    """Customers' pages without an object in the URL: each customer sees their own."""
    if role in ("anonymous", "token"):
        return {LOGIN}
    return PASS if role in CUSTOMERS else {FORBIDDEN}


def portal_own(role: str) -> set[str]:
    """Customer A's object: alice gets it, mallory a 404, staff the portal's 403."""
    if role == "mallory":
        return {MISSING}
    return portal(role)


def workspace(*allowed: str, refused: set[str] = DENY) -> Rule:
    """Workspace pages: `allowed` staff get through, other staff are refused."""

    def rule(role: str) -> set[str]:
        if role in ("anonymous", "token"):
            return {LOGIN}
        if role in (*CUSTOMERS, *NO_SIDE):
            return {FORBIDDEN}
        return PASS if role in allowed else refused

    rule.__doc__ = f"workspace: {', '.join(allowed)}"
    return rule


def api(*allowed: str, refused: set[str] = DENY, token: bool = True) -> Rule:
    """API routes: the token with every scope and the `allowed` staff sessions."""

    def rule(role: str) -> set[str]:
        if role == "anonymous":
            return {UNAUTHENTICATED}
        if role == "token":
            return PASS if token else DENY
        if role in (*CUSTOMERS, *NO_SIDE):
            return {FORBIDDEN}
        return PASS if role in allowed else refused

    return rule


def attachment(*allowed: str) -> Rule:
    """A file: whoever may see its ticket and message; 404 for everyone else (no sign-in
    redirect either, so a file's address reveals nothing)."""

    def rule(role: str) -> set[str]:
        return {OK} if role in allowed else {MISSING}

    return rule


def admin(route_key: str) -> Rule:
    """Django admin: only `is_staff` users, and only with model permissions; everyone else
    to the admin's sign-in. tina and max are `is_staff` without model permissions; root is
    a superuser, whose answer depends on what each ModelAdmin allows (an audit entry is
    never added, changed or deleted)."""

    def rule(role: str) -> set[str]:
        if route_key in ("admin:login", "admin:logout"):
            return PASS
        if role == "root":
            return {OK, REDIRECT, FORBIDDEN, MISSING}
        if role in ("tina", "max"):
            if route_key in ("admin:index", "admin:jsi18n"):
                return {OK}
            if route_key in ("admin:password_change", "admin:password_change_done"):
                return {OK, REDIRECT}  # to the account page, which asks for the password
            return {FORBIDDEN, MISSING, REDIRECT}
        if route_key == "admin:jsi18n":
            return {OK, LOGIN}
        return {LOGIN}

    return rule


EVERY_STAFF = STAFF
CS_TICKET = ("bob", "tina", "max")  # who works customer A's customer-service ticket
TECH_TICKET = ("trent", "dana", "tina", "max")
BILLING_TICKET = ("carol", "max")
CONTRACTS_TICKET = ("conny", "max")
DISPATCH = ("dana", "tina", "max")  # tina leads tech
OUTAGE_MANAGERS = ("trent", "dana", "tina", "max")
LEADS = ("tina", "max")  # team leads and management
QUALITY_MANAGEMENT = ("tina", "max")  # customer service's team lead and management
MANAGEMENT = ("max",)

# --- The table: every URL name in exactly one group -----------------------------------------

GROUPS: dict[str, tuple[Rule, tuple[str, ...]]] = {
    "public: anyone, signed in or not": (
        public,
        (
            "status:status-page",
            "wait_times:wait-times",
            "healthz",
            "portal-password-reset",
            "portal-password-reset-done",
            "portal-password-reset-confirm",
            "portal-password-reset-complete",
            # The API's description; it holds no data and the API itself needs a token.
            "api-schema",
            "api-docs",
        ),
    ),
    "sign-in pages: signed-in users go home": (sign_in_page, ("agent-login", "portal-login")),
    "landing page: signed-in users go to their own home": (landing, ("home",)),
    "redirect for everyone": (everyone_redirected, ("logout", "set-language")),
    "account: every signed-in person, their own account": (
        account,
        (
            "account:security",
            "account:sessions-end",
            "account:password-change",
            "account:two-factor-setup",
            "account:two-factor-recovery-codes",
            "account:two-factor-recovery-renew",
        ),
    ),
    "account: customers only": (account_staff_refused, ("account:two-factor-disable",)),
    "the second-factor step: sends away whoever has nothing pending": (
        second_factor_step,
        ("account:two-factor-verify",),
    ),
    "portal: customers only, their own data": (
        portal,
        (
            "portal-home",
            "portal-account",
            "portal-contracts",
            "portal-invoices",
            "portal-phone-password",
            "portal-password",
            "portal-data-export",
            "portal-data-download",
            "portal_tickets:ticket-list",
            "portal_tickets:ticket-create",
            "portal_management:request-list",
            "portal_management:request-create",
        ),
    ),
    "portal: customers only, own objects (404 for another customer's)": (
        portal_own,
        (
            "portal-contract-cancel",
            "portal_tickets:ticket-detail",
            "portal_tickets:ticket-reply",
            "portal_tickets:ticket-close",
            "portal_visits:visit",
            "portal_visits:confirm",
            "portal_visits:cancel",
            "portal_visits:move",
            "portal_management:request-detail",
            "portal_management:proposal-answer",
        ),
    ),
    "files: whoever sees the ticket and the message": (
        attachment("alice", *CS_TICKET),
        ("attachment-download",),
    ),
    "workspace: every staff member": (
        workspace(*EVERY_STAFF),
        (
            "agent-home",
            "customers:customer-search",
            "customers:customer-detail",
            "customers:customer-verify",
            "customers:customer-identity",
            "customers:customer-note-add",
            "customers:customer-invoices",
            "customers:contract-cancel",
            "customers:contract-change-product",
            "customers:connection-auth-code",
            "tickets:my-tickets",
            "tickets:ticket-search",
            "tickets:ticket-create",
            "tickets:customer-tickets",
            "escalation:notices-read",
            "feature_requests:request-list",
            "feature_requests:request-create",
            "feature_requests:request-similar",
            "feature_requests:request-detail",
            "feature_requests:request-ask",
            "calls:call-list",
            "calls:customer-call-note",
            "outages:outage-list",
            "outages:outage-detail",
        ),
    ),
    "workspace: every staff member, polled": (
        polled(workspace(*EVERY_STAFF)),
        ("calls:notice-list",),
    ),
    "workspace: the ticket's department and management (404 for other departments)": (
        workspace(*CS_TICKET),
        (
            "tickets:queue-detail",
            "tickets:ticket-text-modules",
            "tickets:ticket-detail",
            "tickets:ticket-take",
            "tickets:ticket-assign",
            "tickets:ticket-unassign",
            "tickets:ticket-reply",
            "tickets:ticket-note",
            "tickets:ticket-status",
            "tickets:ticket-escalate",
            "tickets:ticket-handoff",
            "tickets:ticket-hand-back",
            "tickets:ticket-priority",
            "outages:ticket-link",
            "outages:ticket-unlink",
            "management:ticket-escalate",
        ),
    ),
    "tech-only: visits of tech tickets, for who works them": (
        workspace(*TECH_TICKET),
        (
            "visits:ticket-visits",
            "visits:book",
            "visits:reschedule",
            "visits:cancel",
            "visits:confirm",
        ),
    ),
    "tech-only: the day plan (dispatchers, tech, leads)": (
        workspace("trent", *DISPATCH, refused={FORBIDDEN}),
        ("visits:day",),
    ),
    "dispatchers only: technicians, done/missed, time windows": (
        workspace(*DISPATCH, refused={FORBIDDEN}),
        (
            "visits:technician",
            "visits:done",
            "visits:missed",
            "visits:window-create",
            "visits:window-capacity",
            "visits:windows-fill",
        ),
    ),
    "tech-only: open, update, resolve outages": (
        workspace(*OUTAGE_MANAGERS, refused={FORBIDDEN}),
        (
            "outages:outage-create",
            "outages:outage-update",
            "outages:outage-resolve",
            "outages:outage-edit",
        ),
    ),
    "team leads and management: text modules, KPIs, audit trail": (
        workspace(*LEADS, refused={FORBIDDEN}),
        (
            "tickets:text-module-list",
            "tickets:text-module-create",
            "tickets:text-module-edit",
            "tickets:text-module-archive",
            "tickets:text-module-restore",
            "management:kpis",
            "management:kpis-csv",
            "audit:event-list",
        ),
    ),
    "quality management: decide, edit and merge feature requests": (
        workspace(*QUALITY_MANAGEMENT, refused={FORBIDDEN}),
        (
            "feature_requests:request-transition",
            "feature_requests:request-merge",
            "feature_requests:request-edit",
        ),
    ),
    "a call is the agent's who took it (404 for everyone else)": (
        workspace("bob", refused={MISSING}),
        ("calls:call-seen", "calls:call-note"),
    ),
    "management only: the board (403)": (
        workspace(*MANAGEMENT, refused={FORBIDDEN}),
        ("management:board", "management:request-list"),
    ),
    "management only: requests and proposals (404)": (
        workspace(*MANAGEMENT, refused={MISSING}),
        (
            "management:request-detail",
            "management:proposal-make",
            "management:proposal-withdraw",
        ),
    ),
    "API: the token and every staff session (workspace rules)": (
        api(*EVERY_STAFF),
        (
            "api:me",
            "api:customer-list",
            "api:customer-detail",
            "api:customer-contracts",
            "api:customer-invoices",
            "api:customer-verify-phone-password",
            "api:ticket-list",
            "api:ticket-list POST",
            "api:queue-list",
            "api:support-area-list",
            "api:outage-list",
            "api:outage-detail",
            "api:sla-calendar-list",
            "api:sla-calendar-detail",
            "api:sla-policy-list",
            "api:sla-policy-detail",
            "api:feature-request-list",
            "api:feature-request-list POST",
            "api:feature-request-similar",
            "api:feature-request-detail",
            "api:feature-request-asks",
        ),
    ),
    "API: the ticket's department and management": (
        api(*CS_TICKET),
        (
            "api:ticket-detail",
            "api:ticket-assign",
            "api:ticket-escalate",
            "api:ticket-hand-back",
            "api:ticket-handoff",
            "api:ticket-detail PATCH",
            "api:ticket-messages",
            "api:ticket-messages POST",
            "api:ticket-status",
        ),
    ),
    "API: outage managers": (
        api(*OUTAGE_MANAGERS, refused={FORBIDDEN}),
        ("api:outage-list POST", "api:outage-resolve", "api:outage-updates"),
    ),
    "API: SLA changes by management": (
        api(*MANAGEMENT, refused={FORBIDDEN}),
        ("api:sla-calendar-list POST", "api:sla-policy-list POST", "api:sla-policy-detail PATCH"),
    ),
    "API: KPIs for team leads and management": (api(*LEADS, refused={FORBIDDEN}), ("api:stats",)),
    "API: feature request decisions by quality management": (
        api(*QUALITY_MANAGEMENT, refused={FORBIDDEN}),
        ("api:feature-request-transition",),
    ),
    "API: integrations only (a person never reports for a machine)": (
        api(refused={FORBIDDEN}),
        ("api:call-list", "api:call-end", "api:inbound-email", "api:connection-detail"),
    ),
}

# Some URLs are asked again with other objects: a ticket of each department, the file on
# an internal note. `name@variant` → (path values to change, rule).
VARIANTS: dict[str, tuple[str, Callable, Rule]] = {
    "tickets:ticket-detail@tech": (
        "reference",
        lambda w: w.a.tickets.tech.reference,
        workspace(*TECH_TICKET),
    ),
    "tickets:ticket-detail@billing": (
        "reference",
        lambda w: w.a.tickets.billing.reference,
        workspace(*BILLING_TICKET),
    ),
    "tickets:ticket-detail@contracts": (
        "reference",
        lambda w: w.a.tickets.contracts.reference,
        workspace(*CONTRACTS_TICKET),
    ),
    "tickets:ticket-reply@tech": (
        "reference",
        lambda w: w.a.tickets.tech.reference,
        workspace(*TECH_TICKET),
    ),
    "tickets:ticket-handoff@billing": (
        "reference",
        lambda w: w.a.tickets.billing.reference,
        workspace(*BILLING_TICKET),
    ),
    "tickets:ticket-status@contracts": (
        "reference",
        lambda w: w.a.tickets.contracts.reference,
        workspace(*CONTRACTS_TICKET),
    ),
    "outages:ticket-link@tech": (
        "reference",
        lambda w: w.a.tickets.tech.reference,
        workspace(*TECH_TICKET),
    ),
    "management:ticket-escalate@billing": (
        "reference",
        lambda w: w.a.tickets.billing.reference,
        workspace(*BILLING_TICKET),
    ),
    "api:ticket-detail@tech": (
        "reference",
        lambda w: w.a.tickets.tech.reference,
        api(*TECH_TICKET),
    ),
    "api:ticket-status@billing": (
        "reference",
        lambda w: w.a.tickets.billing.reference,
        api(*BILLING_TICKET),
    ),
    # Billing may not book a visit, nor work a tech ticket's visit.
    "visits:book@billing": ("reference", lambda w: w.a.tickets.billing.reference, workspace()),
    "attachment-download@note": ("token", lambda w: w.a.note.token, attachment(*CS_TICKET)),
}


def expectations() -> dict[str, Rule]:
    table: dict[str, Rule] = {}
    for label, (rule, names) in GROUPS.items():
        for name in names:
            assert name not in table, f"{name} is in two groups (the second: {label!r})"
            table[name] = rule
    return table


def expected_for(key: str, table: dict[str, Rule]) -> Rule | None:
    if key.startswith(f"{matrix.ADMIN}:"):
        return admin(key)  # the admin site guards every model alike
    return table.get(key)


def test_every_url_has_an_expectation():
    """A new page fails here until it is placed in a group of GROUPS."""
    table = expectations()
    keys = [key for route in matrix.routes() for key, _method in matrix.cells(route)]
    missing = [key for key in keys if expected_for(key, table) is None]
    assert not missing, (
        "These URLs have no entry in the permission matrix. Add each name to the group of "
        "tests/security/test_permission_matrix.py GROUPS whose rule it follows (or a new "
        "group with its rule), and make sure its view checks through the app's "
        "permissions.py. Missing:\n  "
        + "\n  ".join(missing)
        + "\nGroups:\n  "
        + "\n  ".join(GROUPS)
    )
    stale = sorted(set(table) - set(keys))
    assert not stale, f"Entries for URLs that no longer exist: {stale}"
    unknown = [key.split("@")[0] for key in VARIANTS if key.split("@")[0] not in table]
    assert not unknown, f"Variants of URLs that do not exist: {unknown}"


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role not in ("anonymous", "token"):
            client.force_login(getattr(world.users, role))
        clients[role] = client
    return clients


def _run(world, cases) -> tuple[int, list[str]]:
    clients = _clients(world)
    token = {"HTTP_AUTHORIZATION": f"Token {world.token}"}
    failures, asked = [], 0
    for key, path, method, rule, is_api, roles in cases:
        for role in roles:
            if role == "token" and not is_api:
                continue
            headers = token if role == "token" else {}
            used, got, status = matrix.ask(clients[role], path, method, headers=headers)
            asked += 1
            if got not in rule(role):
                wanted = "/".join(sorted(rule(role)))
                failures.append(f"{key:45} {role:11} {used} {path}: got {status}, want {wanted}")
    return asked, failures


def _cases(world, *, admin_site: bool):
    table = expectations()
    cases = []
    for route in matrix.routes():
        if route.is_admin != admin_site:
            continue
        values = matrix.path_values(world, route, world.a)
        for key, method in matrix.cells(route):
            rule = expected_for(key, table)
            assert rule is not None, f"{key}: see test_every_url_has_an_expectation"
            roles = ADMIN_ROLES if admin_site else getattr(rule, "roles", ROLES)
            cases.append(
                (key, matrix.concrete(route.route, values), method, rule, route.is_api, roles)
            )
        for variant, (param, value, rule) in VARIANTS.items():
            if variant.split("@")[0] == route.key:
                changed = {**values, param: value(world)}
                cases.append(
                    (
                        variant,
                        matrix.concrete(route.route, changed),
                        None if not route.is_api else matrix.cells(route)[0][1],
                        rule,
                        route.is_api,
                        ROLES,
                    )
                )
    return cases


# Admin pages are guarded by `is_staff` and model permissions, not by helpdesk roles: one
# of each kind is enough (bob stands for every non-staff agent, tina for is_staff ones).
ADMIN_ROLES = ("anonymous", "alice", "bob", "tina", "root", "integration")


def test_every_url_answers_every_role_as_expected(world, settings):
    """Every URL x role; all failures are listed at once."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    asked, failures = _run(world, _cases(world, admin_site=False))
    assert not failures, f"{len(failures)} of {asked} cells differ:\n" + "\n".join(failures)


def test_the_admin_site_is_for_staff_with_model_permissions_only(world, settings):
    """Every admin URL x role: non-staff to the admin's sign-in, staff without model
    permissions refused."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    asked, failures = _run(world, _cases(world, admin_site=True))
    assert not failures, f"{len(failures)} of {asked} cells differ:\n" + "\n".join(failures)
