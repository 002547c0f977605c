"""`flask data retention`: learners whose cohorts all ended long enough ago are anonymised like
an erasure, and only with --apply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.assessment.models import Decision
from learning.core import dates
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.people.models import Role, User, UserRole
from learning.privacy import erasure
from learning.privacy.retention import Period, due, parse_period
from tests.test_matrix import written_work


@pytest.mark.parametrize("text, period", [
    ("6y", Period(6, "y")), ("18m", Period(18, "m")), ("30d", Period(30, "d")),
    (" 6Y ", Period(6, "y")), ("1 d", Period(1, "d")),
])
def test_periods_are_written_like_6y_18m_30d(text, period):
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["", "6", "y", "6w", "six years", "-1y", "0d", "6y2m",
                                  "101y"])
def test_anything_else_is_refused_with_the_forms_that_work(text):
    with pytest.raises(ValueError) as refused:
        parse_period(text)
    assert any(word in str(refused.value) for word in ("6y", "at least 1", "hundred"))


@pytest.mark.parametrize("period, day, before", [
    (Period(6, "y"), date(2026, 3, 1), date(2020, 3, 1)),
    (Period(1, "y"), date(2028, 2, 29), date(2027, 2, 28)),
    (Period(18, "m"), date(2026, 3, 31), date(2024, 9, 30)),
    (Period(1, "m"), date(2026, 3, 31), date(2026, 2, 28)),
    (Period(30, "d"), date(2026, 3, 1), date(2026, 1, 30)),
])
def test_a_period_before_a_day_is_a_calendar_date(period, day, before):
    assert period.before(day) == before
    assert str(Period(1, "y")) == "1 year" and str(period).startswith(str(period.count))


@pytest.fixture
def cohorts(app, make_user, make_cohort):
    """Learners of an old cohort, a recent one, one without dates; a mover; a staff learner."""
    today = dates.today()
    old, recent, undated = (make_cohort("Old"), make_cohort("Recent"), make_cohort("Undated"))
    old.starts_on, old.ends_on = date(2015, 9, 1), today - timedelta(days=7 * 365)
    recent.starts_on, recent.ends_on = date(2023, 9, 1), today - timedelta(days=365)
    p = {name: make_user("learner", name=name) for name in
         ("Olive Old", "Rita Recent", "Una Undated", "Mo Mover", "Sid Staff", "Nia Nowhere")}
    from learning.people import membership

    for name, cohort in [("Olive Old", old), ("Rita Recent", recent), ("Una Undated", undated),
                         ("Mo Mover", old), ("Mo Mover", recent), ("Sid Staff", old)]:
        membership.enrol(p[name], cohort)
    p["Sid Staff"].roles.append(UserRole(role=Role.ASSESSOR.value))
    assessor = make_user("assessor", name="Asha Assessor")
    written_work(p["Olive Old"], "any-task", ["referred", "achieved"], assessor,
                 text="Olive's words about partnership")
    db.session.commit()
    return p


def _names(rows) -> list[str]:
    return [user.name for user, _ in rows]


def test_due_are_those_whose_every_cohort_ended_before_the_cutoff(cohorts):
    cutoff = Period(6, "y").before(dates.today())
    assert _names(due(cutoff)) == ["Olive Old", "Sid Staff"]
    [(_, ended), _] = due(cutoff)
    assert ended == dates.today() - timedelta(days=7 * 365)
    assert _names(due(dates.today())) == ["Olive Old", "Rita Recent", "Mo Mover", "Sid Staff"]


def test_the_dry_run_says_what_it_would_do_and_changes_nothing(runner, cohorts):
    result = runner.invoke(args=["data", "retention", "--older-than", "6y"])
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert f"would anonymise learner #{cohorts['Olive Old'].id} Olive Old" in result.output
    assert "2 submission rounds" in result.output and "2 decisions" in result.output
    assert f"skipped learner #{cohorts['Sid Staff'].id} Sid Staff" in result.output
    assert "staff role" in result.output
    assert "Rita Recent" not in result.output and "Una Undated" not in result.output
    assert "1 learner would be anonymised and 1 skipped" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.name == "Olive Old")) is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erase")) \
        is None


def test_apply_anonymises_them_like_an_erasure(runner, cohorts):
    olive = cohorts["Olive Old"].id
    result = runner.invoke(args=["data", "retention", "--older-than", "6y", "--apply"])
    assert result.exit_code == 0, result.output
    assert f"anonymised learner #{olive} Olive Old" in result.output
    assert "Anonymised 1 learner; skipped 1." in result.output
    db.session.expire_all()
    user = db.session.get(User, olive)
    assert (user.name, user.active, user.erased_at is not None) == (
        erasure.placeholder_name(olive), False, True)
    assert [d.outcome for d in db.session.scalars(select(Decision).order_by(Decision.id))] == [
        "referred", "achieved"]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erase"))
    assert (event.actor_id, event.detail["reason"], event.detail["older_than"]) == (
        None, "retention", "6 years")
    # Run again: nothing left to do for Olive.
    again = runner.invoke(args=["data", "retention", "--older-than", "6y", "--apply"])
    assert "Olive" not in again.output and "Anonymised 0 learners; skipped 1." in again.output


def test_a_bad_period_is_a_usage_error(runner, cohorts):
    result = runner.invoke(args=["data", "retention", "--older-than", "six years"])
    assert result.exit_code == 2
    assert "6y (six years), 18m (eighteen months) or 30d" in result.output
    assert runner.invoke(args=["data", "retention"]).exit_code == 2  # the period is required

