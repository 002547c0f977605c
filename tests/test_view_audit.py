"""The audit log records who opened a learner's work or record: one insert per page, no more."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from learning.assessment.models import Submission
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.iqa.models import IqaSample
from learning.people.admin import ACTION_LABELS
from tests.test_portfolio import people  # noqa: F401  (the fixture: a learner with a record)


def _views() -> list[tuple[str, int | None, str | None, str | None]]:
    return [(e.action, e.actor_id, e.subject_type, e.subject_id) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("view.%")).order_by(AuditEvent.id))]


def _pages(p) -> dict[str, str]:
    learner = p["learner"].id
    sub = db.session.scalar(select(Submission.id).where(Submission.learner_id == learner))
    sample = db.session.scalar(select(IqaSample.id))
    return {
        "view.marking": f"/marking/{sub}",
        "view.iqa_review": f"/iqa/samples/{sample}",
        "view.learner": f"/staff/learners/{learner}",
        "view.portfolio": f"/reports/learners/{learner}/portfolio",
        "view.portfolio_file": f"/reports/learners/{learner}/portfolio.html?download=1",
    }


@pytest.mark.parametrize("action, who", [
    ("view.marking", "assessor"), ("view.iqa_review", "iqa"), ("view.learner", "coordinator"),
("view.portfolio", "iqa"),
    ("view.portfolio_file", "coordinator"),
])
def test_opening_a_learners_work_is_recorded_once_with_one_insert(client, auth, people,  # noqa: F811
                                                                   count_queries, action, who):
    url = _pages(people)[action]
    viewer_id, learner_id = people[who].id, people["learner"].id
    auth.login(people[who])
    db.session.expunge_all()  # each request starts from an empty session, as in production
    with count_queries() as q:
        assert client.get(url).status_code == 200
    assert _views() == [(action, viewer_id, "User", str(learner_id))]
    inserts = [i for i, s in enumerate(q.statements) if s.lstrip().upper().startswith("INSERT")]
    # One insert, and nothing read after it: the page was rendered before the commit.
    assert [q.statements[i].split()[2].strip('"') for i in inserts] == ["audit_event"]
    assert inserts[0] == len(q.statements) - 1, q.statements[inserts[0]:]
    assert action in ACTION_LABELS


def test_a_refused_page_records_nothing(client, auth, people):  # noqa: F811
    auth.login(people["other_assessor"])
    for url in _pages(people).values():
        assert client.get(url).status_code == 403, url
    assert _views() == []


def test_the_learner_opening_their_own_portfolio_is_not_recorded(client, auth, people):  # noqa: F811
    auth.login(people["learner"])
    learner = people["learner"].id
    assert client.get(f"/reports/learners/{learner}/portfolio").status_code == 200
    assert client.get(f"/reports/learners/{learner}/portfolio.html").status_code == 200
    assert _views() == []


def test_the_audit_log_shows_who_viewed_whom(client, auth, people, make_user):  # noqa: F811
    auth.login(people["assessor"])
    client.get(_pages(people)["view.learner"])
    auth.logout()
    auth.login(make_user("admin"))
    html = unescape(client.get("/admin/audit?action=view.learner").get_data(as_text=True))
    assert "Viewed a learner's page" in html
    assert "Ada Ames" in html and "Asha Assessor" in html


def test_every_action_the_code_records_reads_as_words_in_the_audit_log():
    """The audit log once showed a bare code ("user.centres") under a sentence: every action
    written anywhere in learning/ has a label for the filter and a verb for its sentence."""
    import re
    from pathlib import Path

    from learning.people.admin import SENTENCE_VERBS

    source = Path(__file__).parent.parent / "learning"
    pattern = re.compile(r"""audit\.record(?:_view)?\(\s*["']([a-z_.]+)["']"""
                         r"""|action = ["']([a-z_.]+)["'] if .* else ["']([a-z_.]+)["']""")
    actions = set()
    for path in source.rglob("*.py"):
        for match in pattern.finditer(path.read_text()):
            actions.update(a for a in match.groups() if a)
    assert {"user.centres", "submission.resubmit", "decision.release"} <= actions
    assert sorted(a for a in actions if a not in ACTION_LABELS) == []
    assert sorted(a for a in actions if a not in SENTENCE_VERBS) == []
