#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    from helpdesk.env import EnvError, load_settings_or_exit

    load_settings_or_exit()
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except EnvError as exc:
        sys.exit(f"helpdesk: configuration error: {exc}")


if __name__ == "__main__":
    main()
