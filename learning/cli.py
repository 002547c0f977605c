"""Command-line tools: `flask seed-demo`, `flask create-user`, `flask content check`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from learning.catalog.content import load_catalog
from learning.catalog.quizzes import load_quizzes
from learning.extensions import db
from learning.models import Centre, CentreMember, Cohort, Role
from learning.models.types import utcnow
from learning.services import accounts, cohorts, demo

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = [
    ("learner@example.com", "Lola Learner", [Role.LEARNER]),
    ("assessor@example.com", "Asha Assessor", [Role.ASSESSOR]),
    ("iqa@example.com", "Ian Quality", [Role.IQA]),
    ("coordinator@example.com", "Chloe Coordinator", [Role.COORDINATOR]),
    ("admin@example.com", "Adam Admin", [Role.ADMIN]),
]
DEMO_COHORT = "Demo cohort 2026"
DEMO_CENTRE = "Demo College"

content_cli = AppGroup("content", help="Check the course content in CONTENT_DIR.")
quiz_cli = AppGroup("quiz", help="Import and export quiz question banks (Moodle GIFT).")


@content_cli.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings as failures too.")
def content_check(strict: bool) -> None:
    """Validate every content file; print problems as file:line: message and figures."""
    catalog = load_catalog(Path(current_app.config["CONTENT_DIR"]))
    quizzes, quiz_problems = load_quizzes(Path(current_app.config["QUIZ_DIR"]),
                                          {m.slug for m in catalog.modules})
    problems = [*catalog.problems, *quiz_problems]
    for problem in problems:
        click.echo(str(problem), err=True)
    for m in catalog.modules:
        r = m.readability
        click.echo(f"{m.path}: {m.slug}: {r.words:,} words, about {r.reading_minutes} min "
                   f"reading ({m.minutes} min estimated), Flesch reading ease {r.flesch}")
    for quiz in sorted(quizzes.values(), key=lambda q: q.slug):
        click.echo(f"{quiz.path}: {quiz.slug}: {len(quiz.questions)} questions")
    errors = sum(1 for p in problems if p.level == "error")
    warnings = len(problems) - errors
    click.echo(f"{len(catalog.modules)} modules, {len(catalog.glossary)} glossary terms, "
               f"{len(catalog.tasks)} written tasks, {len(quizzes)} quizzes: "
               f"{errors} errors, {warnings} warnings")
    if errors or (strict and warnings):
        raise SystemExit(1)


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo accounts and cohort (development only; safe to run twice)."""
    if current_app.config.get("APP_ENV") != "development" and not current_app.testing:
        raise click.ClickException(
            "seed-demo only runs with APP_ENV=development: it creates accounts with a "
            "published password.")
    created = []
    users = {}
    for email, name, roles in DEMO_USERS:
        user = accounts.find_by_email(email)
        if user is None:
            user = accounts.create_user(email, name, DEMO_PASSWORD, roles)
            created.append(email)
        users[roles[0]] = user
    centre = db.session.scalar(select(Centre).where(Centre.name == DEMO_CENTRE))
    if centre is None:
        centre = Centre(name=DEMO_CENTRE)
        db.session.add(centre)
        db.session.flush()
    coordinator = users[Role.COORDINATOR]
    if db.session.get(CentreMember, (centre.id, coordinator.id)) is None:
        db.session.add(CentreMember(centre_id=centre.id, user_id=coordinator.id))
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
    if cohort is None:
        cohort = Cohort(name=DEMO_COHORT, starts_on=dt.date(2026, 9, 7),
                        ends_on=dt.date(2027, 7, 16), unit_id="CYP33", centre_id=centre.id)
        db.session.add(cohort)
        db.session.flush()
    cohorts.enrol(users[Role.LEARNER], cohort)
    cohorts.assign_staff(users[Role.ASSESSOR], cohort, Role.ASSESSOR)
    cohorts.assign_staff(users[Role.IQA], cohort, Role.IQA)
    db.session.commit()
    created += demo.seed_classmates(cohort, current_app.extensions["catalog"],
                                    current_app.extensions["quizzes"], users[Role.ASSESSOR],
                                    DEMO_PASSWORD, utcnow())
    if created:
        click.echo(f"Created {len(created)} demo accounts (password {DEMO_PASSWORD}): "
                   + ", ".join(created))
    else:
        click.echo("Demo data already present; nothing changed.")


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


@quiz_cli.command("import-gift")
@click.argument("gift_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="Slug for the new quiz (default: from the file name).")
@click.option("--title", help="Title for the new quiz (default: from the file name).")
@click.option("--module", "modules", multiple=True, help="Module slug it belongs to; repeat.")
@click.option("--force", is_flag=True, help="Overwrite an existing quiz file.")
def import_gift(gift_file: Path, slug: str | None, title: str | None, modules: tuple[str, ...],
                force: bool) -> None:
    """Turn a Moodle GIFT file into quizzes/SLUG.yaml, reporting what could not be imported."""
    import yaml

    from learning.services.gift import gift_to_quiz_yaml

    slug = slug or gift_file.stem.lower().replace("_", "-").replace(" ", "-")
    title = title or gift_file.stem.replace("-", " ").replace("_", " ").capitalize()
    target = Path(current_app.config["QUIZ_DIR"]) / f"{slug}.yaml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists; use --force to replace it.")
    try:
        text = gift_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{gift_file}: not UTF-8 text (byte {exc.start}); save it "
                                   "as UTF-8 and try again.") from exc
    quiz_yaml, problems = gift_to_quiz_yaml(text, slug, title, str(gift_file), modules)
    for problem in problems:
        click.echo(str(problem), err=True)
    data = yaml.safe_load(quiz_yaml)
    count = len(data.get("questions") or [])
    if not count:
        raise click.ClickException("No questions could be imported; nothing was written.")
    target.write_text(quiz_yaml, encoding="utf-8")
    errors = sum(1 for p in problems if p.level == "error")
    click.echo(f"Wrote {target} with {count} questions; {errors} questions could not be "
               f"imported, {len(problems) - errors} warnings.")
    if errors:
        raise SystemExit(1)


@quiz_cli.command("export-gift")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: print to the screen).")
def export_gift(slug: str, output: Path | None) -> None:
    """Write quiz SLUG's questions as Moodle GIFT."""
    from learning.services.gift import quiz_to_gift

    quiz = current_app.extensions["quizzes"].get(slug)
    if quiz is None:
        known = ", ".join(sorted(current_app.extensions["quizzes"])) or "none"
        raise click.ClickException(f"No quiz with slug '{slug}' (known: {known}).")
    text = quiz_to_gift(quiz)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(quiz.questions)} questions to {output}")
    else:
        click.echo(text, nl=False)


originality_cli = AppGroup("originality", help="Reference essays for the originality check.")


@originality_cli.command("add-reference")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def add_reference(folder: Path) -> None:
    """Index every *.txt file in FOLDER as a reference essay (safe to run twice)."""
    from learning.services.originality import add_reference_dir

    added, skipped, problems = add_reference_dir(folder)
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Added {added} reference texts; {skipped} already indexed; "
               f"{len(problems)} could not be added.")
    if problems:
        raise SystemExit(1)


users_cli = AppGroup("users", help="Manage accounts in bulk.")


@users_cli.command("import-csv")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True, metavar="EMAIL",
              help="The coordinator or admin importing: only their cohorts can be named.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would happen.")
def import_csv(csv_file: Path, actor: str, dry_run: bool) -> None:
    """Enrol learners from a CSV file (name, email, cohort[, learner_ref]): all rows or none."""
    from learning.services import enrolment_csv as csv_import

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
    emailed = csv_import.email_links(result)
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    for link in result.links:
        click.echo(f"{link.user.email}: {base}{link.path} (until "
                   f"{link.expires_at:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"Enrolled {_count(len(preview.rows), 'learner')}: "
               f"{_count(result.created, 'new account')} ({emailed} emailed their link), "
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
    app.cli.add_command(users_cli)
    app.cli.add_command(originality_cli)
    app.cli.add_command(quiz_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
