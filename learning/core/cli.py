"""`flask worker`: the process that runs the outbox's jobs (sends email) outside requests."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask, current_app

from learning.core import worker as jobs_worker
from learning.core.extensions import db
from learning.core.types import utcnow


@click.command("worker")
@click.option("--once", "--burst", "once", is_flag=True,
              help="Run every job that is due now, then exit (jobs put off by a failure are "
                   "not waited for).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between looks at an empty outbox.")
def worker(once: bool, poll: float) -> None:
    """Send the outbox's email (and run its other jobs), retrying with growing waits.

    Run one or more beside the web server; several may run at once on PostgreSQL.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        counts = jobs_worker.run_pending()
        jobs_worker.prune(utcnow(), jobs_worker.settings_from(app.config).keep_done)
        click.echo(f"Ran {counts.total} {'job' if counts.total == 1 else 'jobs'}: "
                   f"{counts.done} done, {counts.retry} to try again later, "
                   f"{counts.failed} failed.")
        return
    stop = threading.Event()

    def finish(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    db.session.remove()  # the loop holds its own app context and session
    jobs_worker.serve(app, poll, stop)


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
