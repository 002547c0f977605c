"""Core's commands: `flask backup create/restore` (the whole database to one file and back) and
`flask worker` (the process that runs the outbox's jobs, such as email, outside requests)."""

from __future__ import annotations

import getpass
import logging
import signal
import threading
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from learning.core import audit, backups, in_use, jobs, readiness
from learning.core import worker as jobs_worker
from learning.core.backups import Backup, BackupError
from learning.core.extensions import db
from learning.core.types import utcnow

backup_cli = AppGroup("backup", help="Back up the database to one file, or restore one.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def create_command(path: Path) -> None:
    """Write a backup of the whole database to PATH, safely while the app runs.

    PATH is a new file, or a folder, where the backup gets a dated name
    (joined-up-20270115T020000Z.sqlite3, or .dump for PostgreSQL).
    """
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        written = backups.create(url, path)
        made = backups.describe(written)  # reading it back is the first test of a backup
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(_os_error(exc)) from exc
    size = written.stat().st_size / 1_000_000
    click.echo(f"Backed up {backups.shown(url)} to {written} ({size:.1f} MB, "
               f"migration {made.revision}).")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Restore without asking first.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup in PATH. Stop the app first.

    The database as it is now is backed up to instance/backups/ first, and the restore is
    recorded in the audit log.
    """
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        backup = backups.describe(path)
        behind = _check_fits(backup, url)
        _let_go()
        _refuse_if_in_use(url)
        if not yes:
            click.confirm(f"Replace everything in {backups.shown(url)} with the backup "
                          f"{path} (migration {backup.revision})?", abort=True)
        safety = _restore(url, backup)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(_os_error(exc)) from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(f"{backups.shown(url)} does not answer "
                                   f"({exc.__class__.__name__}): nothing was restored.") from exc
    click.echo(f"Restored {backups.shown(url)} from {path}."
               + (f" The database as it was is in {safety}." if safety else ""))
    _record(backup, safety)
    if behind:
        click.echo("The backup is from an older version: run `flask --app app db upgrade` "
                   "before starting the app.")


def _os_error(exc: OSError) -> str:
    return f"{exc.filename or 'a file'}: {exc.strerror or exc}. Nothing was changed."


def _check_fits(backup: Backup, url: str) -> bool:
    """Refuse a backup of the other kind or of an unknown migration; True when it is older."""
    kind = "sqlite" if backups.is_sqlite(url) else "postgresql"
    if backup.kind != kind:
        raise BackupError(f"{backup.path} is a backup of an {backup.kind} database, but "
                          f"DATABASE_URL is {kind}.")
    if backup.revision is None:
        raise BackupError(f"{backup.path} records no migration (its alembic_version table is "
                          "empty): it is not a backup of a Joined Up database.")
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        scripts.get_revision(backup.revision)
    except CommandError as exc:
        raise BackupError(
            f"{backup.path} was made at migration {backup.revision}, which this version of "
            "Joined Up does not know: a newer version made it. Restore it with that "
            "version.") from exc
    return backup.revision != scripts.get_current_head()


def _let_go() -> None:
    """This process lets go of its own connections: they must not count as the app's."""
    db.session.remove()
    db.engine.dispose()


def _refuse_if_in_use(url: str) -> None:
    if backups.is_sqlite(url):
        database = backups.sqlite_path(url)
        if in_use.in_use_elsewhere(database):
            pids = ", ".join(map(str, in_use.holders(database))) or "unknown"
            raise BackupError(
                f"The app is running: other processes (process ids {pids}) are using "
                f"{database}. Stop the web server and the worker first (systemctl stop "
                "joined-up-web joined-up-worker), then restore.")
        return
    with db.engine.connect() as conn:
        others = in_use.other_connections(conn)
    db.engine.dispose()
    if others:
        listed = "; ".join(f"pid {o['pid']} from {o['client_addr'] or 'a local socket'} "
                           f"({o['state'] or 'unknown'})" for o in others[:5])
        raise BackupError(
            f"The app is running: {len(others)} connections to {backups.shown(url)} come "
            f"from Joined Up processes ({listed}). Stop the web servers and the worker on "
            "every machine first (systemctl stop joined-up-web joined-up-worker), then "
            "restore.")


def _restore(url: str, backup: Backup) -> Path | None:
    """Keep a copy of the database as it is, then put the backup in its place."""
    if backups.is_sqlite(url):
        database = backups.sqlite_path(url)
        try:
            with in_use.only_user(database):
                safety = _safety_copy(url) if database.exists() else None
                backups.restore_sqlite(url, backup)
        except in_use.InUse as exc:
            raise BackupError("The app started while you were answering: stop it, then "
                              "restore.") from exc
    else:
        _refuse_if_in_use(url)
        safety = _safety_copy(url)
        backups.restore_postgresql(url, backup)
    _let_go()
    return safety


def _safety_copy(url: str) -> Path:
    folder = Path(current_app.instance_path) / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / f"before-restore-{backups.stamped_name(url)}"
    try:
        return backups.create(url, target)
    except BackupError as exc:
        raise BackupError(
            f"The database as it is now could not be backed up first, so nothing was "
            f"restored ({exc}). If it is damaged, move it out of the way yourself "
            "(SQLite: move the file; PostgreSQL: drop and create the database), then "
            "restore again.") from exc


def _record(backup: Backup, safety: Path | None) -> None:
    try:
        audit.record("database.restore", backup=str(backup.path.resolve()),
                     revision=backup.revision, safety_copy=str(safety) if safety else None,
                     os_user=getpass.getuser())
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise click.ClickException(
            "The database was restored, but the restore could not be recorded in the audit "
            f"log ({exc.__class__.__name__}). Note it yourself.") from exc



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
    # The web server's start-up checks: a job run on a schema behind the code fails, and one
    # about work on a task whose file did not load would run without it.
    try:
        readiness.check_ready(app, db.engine)
    except readiness.NotReady as exc:
        click.echo(f"Joined Up's worker cannot start: {exc}", err=True)
        raise SystemExit(readiness.NOT_READY_EXIT) from exc
    logging.getLogger(__name__).info("worker: runs jobs of kinds %s",
                                     ", ".join(jobs.kinds()))
    if once:
        counts = jobs_worker.run_pending()
        jobs_worker.prune(utcnow(), jobs_worker.settings_from(app.config).keep_done)
        jobs_worker.run_cleanups(utcnow())
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
    app.cli.add_command(backup_cli)
    app.cli.add_command(worker)
