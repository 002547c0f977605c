"""Centres (the colleges and training providers that run cohorts): create, rename, archive."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learning.core import audit
from learning.core.extensions import db
from learning.core.names import name_problem
from learning.people.models import Centre, User


class CentreError(Exception):
    """The change cannot be made as asked; the message says why."""


def _clean(name: str) -> str:
    name = " ".join((name or "").split())
    if problem := name_problem(name, "The centre name"):
        raise CentreError(problem)
    return name


def _taken(name: str, other_than: Centre | None = None) -> bool:
    query = select(Centre.id).where(func.lower(Centre.name) == name.lower())
    if other_than is not None:
        query = query.where(Centre.id != other_than.id)
    return db.session.scalar(query) is not None


def find(name: str) -> Centre | None:
    return db.session.scalar(select(Centre).where(func.lower(Centre.name) ==
                                                  " ".join(name.split()).lower()))


def create(name: str, actor: User | None) -> Centre:
    """A new centre (names are unique, whatever their capitals); the caller commits."""
    name = _clean(name)
    if _taken(name):
        raise CentreError(f"There is already a centre called {name}.")
    centre = Centre(name=name)
    try:  # two admins adding the same name at once: the unique name decides, no 500
        with db.session.begin_nested():
            db.session.add(centre)
    except IntegrityError as exc:
        raise CentreError(f"There is already a centre called {name}.") from exc
    audit.record("centre.create", actor=actor, subject=centre, name=name)
    return centre


def rename(centre: Centre, name: str, actor: User | None) -> bool:
    """Give a centre a new name; False when it is the same. The caller commits."""
    name = _clean(name)
    if name == centre.name:
        return False
    if _taken(name, other_than=centre):
        raise CentreError(f"There is already a centre called {name}.")
    audit.record("centre.rename", actor=actor, subject=centre, before=centre.name, after=name)
    centre.name = name
    return True


def set_archived(centre: Centre, archived: bool, actor: User | None) -> bool:
    """Archive a centre (it leaves the lists new cohorts and staff are chosen from; nothing
    in it is deleted) or bring it back; False when nothing changed. The caller commits."""
    if centre.archived == archived:
        return False
    centre.archived = archived
    audit.record("centre.archive" if archived else "centre.unarchive", actor=actor,
                 subject=centre)
    return True


def listing(include_archived: bool = True) -> list[Centre]:
    query = select(Centre).order_by(Centre.archived, Centre.name)
    if not include_archived:
        query = query.where(Centre.archived.is_(False))
    return list(db.session.scalars(query))
