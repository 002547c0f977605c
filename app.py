"""Entry point: `flask --app app run` and `gunicorn app:app`."""

import sys

from learning import create_app
from learning.core.config import ConfigError

#: gunicorn's "application failed to load": its master stops, rather than starting new workers
#: that fail the same way for ever. Any other runner sees a non-zero exit.
APP_LOAD_ERROR = 4

try:
    app = create_app()
except ConfigError as exc:
    print(f"Joined Up cannot start: {exc}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
