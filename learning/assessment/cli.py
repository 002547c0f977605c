"""`flask originality add-reference` and `reindex`: the originality check's index."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

originality_cli = AppGroup("originality",
                           help="Reference essays and the index for the originality check.")


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


@originality_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from what is stored: every indexed text's fingerprints again, and
    every submitted answer not yet indexed (after an upgrade, or a change to fingerprinting).
    """
    from learning.assessment.originality.index import reindex

    titles = {task.slug: task.title for task in current_app.extensions["catalog"].tasks}
    done = reindex(titles)
    click.echo(f"Indexed {done.texts} texts again ({done.references} reference essays) and "
               f"added {done.added} submitted answers that were missing: "
               f"{done.fingerprints:,} fingerprints.")


@originality_cli.command("compare-content")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def compare_content(folder: Path) -> None:
    """Fail if a passage of the course (CONTENT_DIR, QUIZ_DIR) is in an essay in FOLDER.

    CI runs it against the shared reference essays: the course must be in our own words.
    """
    from learning.assessment.originality.course import (
        QUOTED,
        copied_passages,
        course_texts,
        read_essays,
    )
    from learning.content.catalog import load_units

    essays = read_essays(folder)
    if not essays:
        raise click.ClickException(f"{folder}: no .txt essays to compare the course with")
    content_dir = Path(current_app.config["CONTENT_DIR"])
    # The awarding bodies' criterion wording is quoted by essays and course alike.
    units, _ = load_units(content_dir / "units.yaml", "units.yaml")
    quoted = " ".join([*(c.text for u in units for c in u.criteria), *QUOTED])
    texts = course_texts(content_dir, Path(current_app.config["QUIZ_DIR"]))
    found = copied_passages(texts, essays, quoted)
    for passage in found:
        click.echo(str(passage), err=True)
    click.echo(f"{len(texts)} course files against {len(essays)} essays: "
               f"{len(found)} copied passages.")
    if found:
        raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(originality_cli)
