"""`flask reports rebuild-summary` and `flask reports check-summary`: the matrix's stored rows."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="The completion matrix's stored summary.")


@reports_cli.command("rebuild-summary")
def rebuild_summary() -> None:
    """Work out every learner's summary row from scratch (after `flask db upgrade`, or after a
    course edit, so that no page or write has to)."""
    from learning.core.extensions import db
    from learning.reports import summary

    started = time.perf_counter()
    rows = summary.rebuild(summary.current_layout(), force=True)
    db.session.commit()
    click.echo(f"Matrix summary rebuilt: {rows} learners in their cohorts, "
               f"{time.perf_counter() - started:.1f} s.")


@reports_cli.command("check-summary")
def check_summary() -> None:
    """Compare every stored row with one worked out from scratch; fail listing differences."""
    from learning.reports import summary

    layout = summary.current_layout()
    if summary.saved_layout() != summary.layout_json(layout):
        raise click.ClickException("The summary is not built for this course's items: run "
                                   "`flask reports rebuild-summary`.")
    problems = summary.differences(layout)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} summary rows differ from a recompute.")
    click.echo("Matrix summary matches a recompute.")


def init_app(app) -> None:
    app.cli.add_command(reports_cli)
