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
    """Users of every role with a known password; an admin; an integration user with a token."""
    logins = []
    for username, first, last, role, is_staff, where in DEMO_USERS:
        user = _user(username, first_name=first, last_name=last, is_staff=is_staff)
        services.user_role_grant(user=user, role=role)
        logins.append({"username": username, "role": role.label, "where": where})
    _user("admin", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)
    logins.append({"username": "admin", "role": "Superuser", "where": "/admin/"})

    phone, _created = User.objects.get_or_create(username="phone-system")
    if phone.has_usable_password():
        phone.set_unusable_password()
        phone.save(update_fields=["password"])
    services.user_role_grant(user=phone, role=Role.INTEGRATION)
    if not ApiToken.objects.filter(user=phone, revoked_at=None).exists():
        _token, key = services.api_token_create(
            user=phone,
            name="Demo phone system",
            scopes=[
                "customers:read",
                "customers:verify",
                "connections:write",
                "tickets:read",
                "tickets:write",
                "calls:write",
                "mail:write",
            ],
        )
        stdout.write(f"API token for phone-system (shown once): {key}")
    return logins


def _user(username: str, **fields) -> User:
    user, _created = User.objects.get_or_create(username=username, defaults=fields)
    for name, value in fields.items():
        setattr(user, name, value)
    user.email = f"{username}@example.com"
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user
