"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os
import sys
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

if sys.argv and Path(sys.argv[0]).name == "celery":
    # Started as `celery -A helpdesk …`: a bad environment value ends start-up with one line.
    from helpdesk.env import load_settings_or_exit

    load_settings_or_exit()

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
