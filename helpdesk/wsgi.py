"""WSGI entry point (gunicorn helpdesk.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from helpdesk.env import load_settings_or_exit

load_settings_or_exit()
application = get_wsgi_application()
