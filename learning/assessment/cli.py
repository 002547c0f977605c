"""`flask originality add-reference`: index reference essays for the originality check."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

originality_cli = AppGroup("originality", help="Reference essays for the originality check.")


@originality_cli.command("add-reference")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def add_reference(folder: Path) -> None:
    """Index every *.txt file in FOLDER as a reference essay (safe to run twice)."""
    from learning.assessment.originality.index import add_reference_dir

    added, skipped, problems = add_reference_dir(folder)
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Added {added} reference texts; {skipped} already indexed; "
               f"{len(problems)} could not be added.")
    if problems:
        raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(originality_cli)
