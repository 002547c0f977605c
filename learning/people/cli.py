"""`flask create-user` and `flask users import-csv`: accounts from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from learning.core.extensions import db
from learning.people import accounts
from learning.people.models import Role


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.password_option(help="At least 12 characters; asked for if not given.")
def create_user(email: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an account, for example the first admin of a new site."""
    try:
        accounts.create_user(email, name, password, list(roles))
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {email} with roles: {', '.join(roles)}")


users_cli = AppGroup("users", help="Manage accounts in bulk.")


@users_cli.command("import-csv")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True, metavar="EMAIL",
              help="The coordinator or admin importing: only their cohorts can be named.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would happen.")
def import_csv(csv_file: Path, actor: str, dry_run: bool) -> None:
    """Enrol learners from a CSV file (name, email, cohort[, learner_ref]): all rows or none."""
    from learning.people import enrolment_csv as csv_import

    person = accounts.find_by_email(actor)
    if person is None or not person.active or not person.has_role(Role.COORDINATOR,
                                                                   Role.ADMIN):
        raise click.ClickException(f"{actor} is not an active coordinator or admin.")
    try:
        text = csv_import.read(csv_file.read_bytes())
    except csv_import.CsvFileError as exc:
        raise click.ClickException(f"{csv_file}: {exc}") from exc
    preview = csv_import.check(text, person)
    if not preview.ok:
        _fail_with_problems(csv_file, preview.problems)
    click.echo(f"{csv_file}: {_count(len(preview.rows), 'learner')}: "
               f"{_count(preview.new_accounts, 'new account')}, "
               f"{_count(preview.existing_accounts, 'existing account')} to enrol, "
               f"{preview.unchanged} already enrolled.")
    if dry_run:
        return
    try:
        with click.progressbar(length=len(preview.rows), label="Importing") as bar:
            result = csv_import.import_text(text, person, csv_file.name, progress=bar.update)
    except csv_import.ImportRefused as refused:
        _fail_with_problems(csv_file, refused.preview.problems)
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    for link in result.links:
        click.echo(f"{link.user.email}: {base}{link.path} (until "
                   f"{link.expires_at:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"Enrolled {_count(len(preview.rows), 'learner')}: "
               f"{_count(result.created, 'new account')} "
               f"({result.emailed} emailed their link by the worker), "
               f"{_count(result.enrolled_existing, 'existing account')}, "
               f"{result.unchanged} already enrolled.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail_with_problems(csv_file: Path, problems) -> None:
    """Print problems as FILE:ROW: message, then stop with exit code 1 (nothing imported)."""
    for problem in problems:
        where = f"{csv_file}:{problem.row}" if problem.row else f"{csv_file}"
        column = f"column {problem.column}: " if problem.column else ""
        click.echo(f"{where}: {column}{problem.message}", err=True)
    click.echo(f"{_count(len(problems), 'problem')}: nothing was imported.", err=True)
    raise SystemExit(1)


def init_app(app) -> None:
    from learning.people.centres_cli import centres_cli

    app.cli.add_command(centres_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(create_user)
