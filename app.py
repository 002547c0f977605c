"""Entry point: `flask --app app run` and `gunicorn app:app`."""

import sys

from learning import create_app
from learning.core.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Joined Up cannot start: {exc}")
