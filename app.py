"""Entry point: `flask --app app run` and `gunicorn app:app`."""

import sys

from learning import create_app
from learning.core import readiness, requestlog
from learning.core.config import ConfigError
from learning.core.extensions import db

#: gunicorn's "application failed to load": its master stops, rather than starting new workers
#: that fail the same way for ever. Any other runner sees a non-zero exit.
APP_LOAD_ERROR = readiness.NOT_READY_EXIT

try:
    # Serving (gunicorn, `flask run`) needs a secret key, a whole course and the code's
    # schema; the other flask commands (db upgrade, content check...) are how one gets
    # there, so they run without them.
    serving = readiness.serving()
    app = create_app(serving=serving)
    if serving:
        requestlog.to_stdout()
        with app.app_context():
            readiness.check_ready(app, db.engine)
except ConfigError as exc:
    print(f"Joined Up cannot start: {exc}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
