"""Session engine: Django's database sessions with the user, sign-in time and origin as
columns (Django's documented way of extending the database session engine)."""

from datetime import datetime

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

# Keys our sign-in writes into the session (helpdesk.signals).
SIGNED_IN_AT = "hd_signed_in_at"  # ISO timestamp: the absolute time-out counts from here
SEEN_AT = "hd_seen_at"  # ISO timestamp of the last request, to a minute: the idle time-out
IP_ADDRESS = "hd_ip"
USER_AGENT = "hd_ua"
# "pending" until the second factor was entered (or set up); "ok" afterwards; "none" when
# the user needs none. A signed-in session without it counts as "pending" (fail closed).
TWO_FACTOR = "hd_2fa"


class SessionStore(DbSessionStore):
    @classmethod
    def get_model_class(cls):
        from helpdesk.models import UserSession

        return UserSession

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        obj.user_id = int(user_id) if user_id else None
        signed_in = data.get(SIGNED_IN_AT)
        obj.created_at = datetime.fromisoformat(signed_in) if signed_in else None
        obj.ip_address = data.get(IP_ADDRESS) or None
        obj.user_agent = (data.get(USER_AGENT) or "")[:200]
        return obj
