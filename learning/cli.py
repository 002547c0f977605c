"""Commands that span every domain: `flask content check` and `flask seed-demo`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from learning import demo
from learning.content.catalog import load_catalog
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people import accounts
from learning.people import membership as cohorts
from learning.people.models import Centre, CentreMember, Cohort, Role
from learning.quizzes.loader import load_quizzes

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


@content_cli.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings as failures too.")
def content_check(strict: bool) -> None:
    """Validate every content file; print problems as file:line: message and figures."""
    catalog = load_catalog(Path(current_app.config["CONTENT_DIR"]))
    quizzes, quiz_problems = load_quizzes(Path(current_app.config["QUIZ_DIR"]),
                                          {m.slug for m in catalog.modules},
                                          catalog.sections())
    problems = [*catalog.problems, *quiz_problems]
    for problem in problems:
        click.echo(str(problem), err=True)
    for m in catalog.modules:
        r = m.readability
        click.echo(f"{m.path}: {m.slug}: {r.words:,} words, about {r.reading_minutes} min "
                   f"reading ({m.minutes} min estimated), Flesch reading ease {r.flesch}")
    for page in catalog.pages:
        r = page.readability
        click.echo(f"{page.path}: {page.slug}: {r.words:,} words, Flesch reading ease {r.flesch}")
    for quiz in sorted(quizzes.values(), key=lambda q: q.slug):
        descriptions = len(quiz.questions) - len(quiz.graded_questions)
        click.echo(f"{quiz.path}: {quiz.slug}: {len(quiz.graded_questions)} questions"
                   + (f", {descriptions} descriptions" if descriptions else ""))
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


def init_app(app) -> None:
    app.cli.add_command(content_cli)
    app.cli.add_command(seed_demo)
