"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from helpdesk.env import load_settings_or_exit

load_settings_or_exit()
application = get_asgi_application()
