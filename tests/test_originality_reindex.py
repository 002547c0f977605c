"""`flask originality reindex`: the index rebuilt from the texts the database stores."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from learning.assessment.models import SubmittedWork
from learning.assessment.originality import index as originality
from learning.assessment.originality.models import Fingerprint, SourceKind, TextSource
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import User
from learning.privacy.erasure import erase
from tests.conftest import ESSAYS


def _index_state() -> dict:
    """Each indexed text (by kind, owner and answer round) with its words and fingerprints."""
    sources = db.session.scalars(select(TextSource)).all()
    return {(s.kind, s.owner_user_id, s.ref, s.label): (
        s.text, s.content_hash, s.word_count,
        sorted(db.session.execute(select(Fingerprint.position, Fingerprint.hash)
                                  .where(Fingerprint.source_id == s.id)).all()))
        for s in sources}


def _seeded(runner) -> None:
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    originality.add_reference_dir(ESSAYS)


def test_reindex_rebuilds_an_emptied_index_as_it_was(runner):
    _seeded(runner)
    before = _index_state()
    answers = {k for k in before if k[0] == SourceKind.SUBMISSION}
    assert len(answers) == 3 and len(before) == 5
    db.session.execute(delete(Fingerprint))
    db.session.execute(delete(TextSource).where(TextSource.kind == SourceKind.SUBMISSION))
    db.session.commit()

    result = runner.invoke(args=["originality", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 texts again (2 reference essays) and added 3 submitted answers" \
        in result.output
    assert _index_state() == before
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "originality.reindex"))
    assert event.detail["added"] == 3


def test_reindex_finds_copying_again(runner):
    _seeded(runner)
    work = db.session.scalars(select(SubmittedWork).order_by(SubmittedWork.id)).first()
    assert originality.check(work.text).matches  # the answer is in the index
    db.session.execute(delete(Fingerprint))
    db.session.commit()
    assert originality.check(work.text).matches == ()
    assert runner.invoke(args=["originality", "reindex"]).exit_code == 0
    assert originality.check(work.text).matches


def test_reindex_twice_changes_nothing_and_leaves_erased_learners_out(runner):
    _seeded(runner)
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    priya = db.session.scalar(select(User).where(User.email == "priya@example.com"))
    erase(priya, admin, "Asked in writing", utcnow())
    db.session.commit()
    before = _index_state()
    assert not [k for k in before if k[1] == priya.id]
    for _ in range(2):
        result = runner.invoke(args=["originality", "reindex"])
        assert "added 0 submitted answers" in result.output
        assert _index_state() == before
    ids = db.session.scalar(select(func.count()).select_from(TextSource))
    assert ids == len(before)
