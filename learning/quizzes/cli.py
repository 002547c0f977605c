"""`flask quiz import-gift` and `flask quiz export-gift`: Moodle GIFT in and out."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

quiz_cli = AppGroup("quiz", help="Import and export quiz question banks (Moodle GIFT).")


@quiz_cli.command("import-gift")
@click.argument("gift_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="Slug for the new quiz (default: from the file name).")
@click.option("--title", help="Title for the new quiz (default: from the file name).")
@click.option("--module", "modules", multiple=True, help="Module slug it belongs to; repeat.")
@click.option("--force", is_flag=True, help="Overwrite an existing quiz file.")
@click.option("--partial", is_flag=True,
              help="Import the good questions even when others have errors.")
def import_gift(gift_file: Path, slug: str | None, title: str | None, modules: tuple[str, ...],
                force: bool, partial: bool) -> None:
    """Turn a Moodle GIFT file into quizzes/SLUG.yaml, reporting what could not be imported.

    All or nothing, as Moodle's import: a file with any error writes nothing (every error is
    listed with its line); --partial writes the good questions and says how many failed.
    """
    from learning.core.yamlfile import load_text
    from learning.quizzes.gift.convert import MAX_GIFT_BYTES, failed_questions, gift_to_quiz_yaml

    slug = slug or gift_file.stem.lower().replace("_", "-").replace(" ", "-")
    title = title or gift_file.stem.replace("-", " ").replace("_", " ").capitalize()
    target = Path(current_app.config["QUIZ_DIR"]) / f"{slug}.yaml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists; use --force to replace it.")
    size = gift_file.stat().st_size
    if size > MAX_GIFT_BYTES:  # a big bank would make every start of the app slow
        raise click.ClickException(
            f"{gift_file} is {size / 1_000_000:.1f} MB; GIFT files over "
            f"{MAX_GIFT_BYTES // 1_000_000} MB are refused. Split the question bank into "
            "smaller files, one quiz each.")
    try:
        text = gift_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{gift_file}: not UTF-8 text (byte {exc.start}); save it "
                                   "as UTF-8 and try again.") from exc
    quiz_yaml, problems = gift_to_quiz_yaml(text, slug, title, str(gift_file), modules)
    for problem in problems:
        click.echo(str(problem), err=True)
    data, unreadable = load_text(quiz_yaml, str(target))
    if unreadable:  # the YAML we wrote does not read back: a bug of ours, not the file's
        raise click.ClickException("; ".join(str(p) for p in unreadable))
    items = (data or {}).get("questions") or []
    descriptions = sum(1 for q in items if q.get("type") == "description")
    count = len(items) - descriptions
    failed = failed_questions(problems)
    if not count:
        raise click.ClickException("No questions could be imported; nothing was written.")
    if failed and not partial:
        raise click.ClickException(
            f"{failed} questions have errors, so nothing was written. Fix them, or use "
            f"--partial to import the other {count} questions.")
    target.write_text(quiz_yaml, encoding="utf-8")
    warnings = sum(1 for p in problems if p.level == "warning")
    shown = f" and {descriptions} descriptions" if descriptions else ""
    click.echo(f"Wrote {target} with {count} questions{shown}; {failed} questions could not "
               f"be imported; {warnings} warnings.")
    if failed:
        raise SystemExit(1)


@quiz_cli.command("export-gift")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: print to the screen).")
def export_gift(slug: str, output: Path | None) -> None:
    """Write quiz SLUG's questions as Moodle GIFT."""
    from learning.quizzes.gift.convert import quiz_to_gift

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



@quiz_cli.command("regrade")
@click.argument("slug", required=False)
@click.option("--apply", "apply_", is_flag=True,
              help="Store the new results (default: only list what would change).")
def regrade(slug: str | None, apply_: bool) -> None:
    """List submitted attempts (of quiz SLUG, or all) that today's grading rules score
    differently from their stored result; --apply stores the new results (audited)."""
    from learning.core.extensions import db
    from learning.quizzes import regrade as rg

    changes = rg.changed_attempts(slug)
    for change in changes:
        click.echo(change.describe())
    if not changes:
        click.echo("Every submitted attempt already has the result today's rules give it.")
        return
    if not apply_:
        click.echo(f"{len(changes)} attempts would change; run again with --apply to store "
                   "the new results.")
        return
    for change in changes:
        rg.apply(change)
    db.session.commit()
    click.echo(f"Regraded {len(changes)} attempts.")


def init_app(app) -> None:
    app.cli.add_command(quiz_cli)
