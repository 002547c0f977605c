"""`flask data retention`: anonymise the learners whose cohorts ended long enough ago."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.core import dates
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.privacy import erasure, retention

data_cli = AppGroup("data", help="Personal data: the retention period.")


@data_cli.command("retention")
@click.option("--older-than", "older_than", required=True, metavar="PERIOD",
              help="How long after a learner's last cohort ended: 6y, 18m or 30d.")
@click.option("--apply", "apply", is_flag=True,
              help="Anonymise them. Without it nothing changes: the command says what would.")
def retention_command(older_than: str, apply: bool) -> None:
    """Anonymise learners whose every cohort ended more than PERIOD ago (a dry run unless
    --apply), the way erasure on request does: decisions stay, personal data goes."""
    try:
        period = retention.parse_period(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from exc
    cutoff = period.before(dates.today())
    due = retention.due(cutoff)
    verb = "Anonymising" if apply else "Dry run: would anonymise"
    click.echo(f"{verb} learners whose last cohort ended before {cutoff.isoformat()} "
               f"({period} ago).")
    done = skipped = 0
    for person, ended in due:
        label = f"learner #{person.id} {person.name} (last cohort ended {ended.isoformat()})"
        if why := erasure.refusal_for(person, None):
            click.echo(f"  skipped {label}: {why}")
            skipped += 1
            continue
        if apply:
            changes = erasure.erase(person, None, "retention", utcnow(),
                                    older_than=str(period), cutoff=cutoff.isoformat())
            db.session.commit()  # one learner at a time: an interruption loses nothing done
            click.echo(f"  anonymised {label}: {changes.in_words()}")
        else:
            click.echo(f"  would anonymise {label}: {erasure.preview(person).in_words()}")
        done += 1
    if apply:
        click.echo(f"Anonymised {_learners(done)}; skipped {skipped}.")
    else:
        click.echo(f"Nothing changed. {_learners(done)} would be anonymised and {skipped} "
                   "skipped: run again with --apply to do it.")


def _learners(n: int) -> str:
    return f"{n} learner" if n == 1 else f"{n} learners"


def init_app(app) -> None:
    app.cli.add_command(data_cli)
