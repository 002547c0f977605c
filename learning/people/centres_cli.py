"""`flask centres list|create|rename|archive|unarchive`: centres from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.core.extensions import db
from learning.people import centres

centres_cli = AppGroup("centres", help="Create, rename and archive centres.")


def _named(name: str):
    centre = centres.find(name)
    if centre is None:
        raise click.ClickException(f"There is no centre called {name!r}. "
                                   "`flask centres list` shows them.")
    return centre


def _done(change) -> None:
    try:
        change()
    except centres.CentreError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()


@centres_cli.command("list")
def list_centres() -> None:
    """Every centre, archived ones last."""
    for centre in centres.listing():
        click.echo(centre.name + ("  (archived)" if centre.archived else ""))


@centres_cli.command("create")
@click.argument("name")
def create(name: str) -> None:
    """A new centre called NAME."""
    _done(lambda: centres.create(name, None))
    click.echo(f"Created the centre {' '.join(name.split())}.")


@centres_cli.command("rename")
@click.argument("name")
@click.argument("new_name")
def rename(name: str, new_name: str) -> None:
    """Call the centre NAME by NEW_NAME from now on."""
    centre = _named(name)
    _done(lambda: centres.rename(centre, new_name, None))
    click.echo(f"The centre is now called {centre.name}.")


def _set_archived(name: str, archived: bool) -> None:
    centre = _named(name)
    _done(lambda: centres.set_archived(centre, archived, None))
    click.echo(f"{centre.name} is archived." if archived else f"{centre.name} is back.")


@centres_cli.command("archive")
@click.argument("name")
def archive(name: str) -> None:
    """Leave the centre NAME out of the centres new cohorts are put in (nothing is deleted)."""
    _set_archived(name, True)


@centres_cli.command("unarchive")
@click.argument("name")
def unarchive(name: str) -> None:
    """Bring the centre NAME back."""
    _set_archived(name, False)
