"""Demo users of every role, created by `manage.py seed_demo`."""

from django.contrib.auth.models import User
from django.db import transaction

from helpdesk import services
from helpdesk.choices import Role
from helpdesk.models import ApiToken

# Demo only: seed_demo refuses to run with DEBUG off, so these never reach production.
DEMO_PASSWORD = "helpdesk-demo"  # noqa: S105

DEMO_USERS = [
    # username, first name, last name, role, is_staff (admin site), where they sign in
    ("bob", "Bob", "Bauer", Role.AGENT, False, "/agent/login/"),
    ("carol", "Carol", "Krause", Role.AGENT, False, "/agent/login/"),
    ("tina", "Tina", "Lehmann", Role.TEAM_LEAD, True, "/agent/login/"),
    ("max", "Max", "Vogel", Role.MANAGEMENT, True, "/agent/login/"),
    ("alice", "Alice", "Schmidt", Role.CUSTOMER, False, "/portal/login/"),
    ("mallory", "Mallory", "Meier", Role.CUSTOMER, False, "/portal/login/"),
]


@transaction.atomic
def seed(*, stdout) -> list[dict]:
    """Users of every role with a known password; an admin; the integrations with a token."""
    logins = []
    for username, first, last, role, is_staff, where in DEMO_USERS:
        user = _user(username, first_name=first, last_name=last, is_staff=is_staff)
        services.user_role_grant(user=user, role=role)
        logins.append({"username": username, "role": role.label, "where": where})
    _user("admin", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)
    logins.append({"username": "admin", "role": "Superuser", "where": "/admin/"})

    _integration(
        "phone-system",
        "Demo phone system",
        [
            "customers:read",
            "customers:verify",
            "connections:write",
            "tickets:read",
            "tickets:write",
            "calls:write",
            "mail:write",
        ],
        stdout=stdout,
    )
    # Network monitoring: opens, updates and resolves outages, reports line states.
    _integration(
        "monitoring",
        "Demo network monitoring",
        ["outages:read", "outages:write", "connections:write"],
        stdout=stdout,
    )
    return logins


def _integration(username: str, name: str, scopes: list[str], *, stdout) -> None:
    """An integration user (no password) with one API token, shown once when created."""
    user, _created = User.objects.get_or_create(username=username)
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    services.user_role_grant(user=user, role=Role.INTEGRATION)
    if not ApiToken.objects.filter(user=user, revoked_at=None).exists():
        _token, key = services.api_token_create(user=user, name=name, scopes=scopes)
        stdout.write(f"API token for {username} (shown once): {key}")


def _user(username: str, **fields) -> User:
    user, _created = User.objects.get_or_create(username=username, defaults=fields)
    for name, value in fields.items():
        setattr(user, name, value)
    user.email = f"{username}@example.com"
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user
