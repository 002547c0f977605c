"""Progress per assessment criterion, for the cohorts a member of staff may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from learning.assessment.models import CriterionDecision, Decision, Submission, SubmittedWork
from learning.content.catalog import Catalog, Criterion, Unit
from learning.core.extensions import db
from learning.course.completion import ModuleCompletion, complete_of, rule_for_units
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, Enrolment, User
from learning.people.permissions import visible_cohort_ids
from learning.quizzes.access import get_quizzes
from learning.quizzes.attempts import passed_by


@dataclass(frozen=True)
class CriterionRow:
    unit_code: str
    number: str
    text: str
    learners: int
    #: Learners who have completed every module mapped to the criterion.
    prepared: int
    #: Learners whose latest released decision on the criterion is "met".
    met: int
    #: Learners whose latest released decision is "not yet met".
    not_yet_met: int


def criteria_progress(viewer: User, catalog: Catalog) -> list[CriterionRow]:
    """One row per criterion of the units studied in the viewer's cohorts (four queries, and
    one more for quiz results when a unit's completion rule asks for them)."""
    learners_by_unit = _learners_by_unit(viewer)
    everyone = set().union(*learners_by_unit.values())
    if not everyone:
        return []
    read = _completed_modules(everyone)
    return criterion_rows(catalog, learners_by_unit, read, _latest_decisions(everyone),
                          _complete_by_unit(catalog, learners_by_unit, read))


def _complete_by_unit(catalog: Catalog, learners_by_unit: dict[str, set[int]],
                      read: dict[int, set[str]]) -> dict[str, dict[int, set[str]]]:
    """For each unit whose rule is not plain reading, its learners' complete modules by that
    rule (learning.course.completion): the unit's criterion rows count by its own rule, as
    its cohorts' matrix does."""
    strict = {unit_id: rule for unit_id in learners_by_unit
              if (rule := rule_for_units(catalog, [unit_id])) is not ModuleCompletion.READ}
    if not strict:
        return {}
    passed = passed_by(sorted(set().union(*(learners_by_unit[u] for u in strict))))
    quizzes = list(get_quizzes().values())
    return {unit_id: {u: complete_of(read.get(u, set()), passed[u], rule, quizzes)
                      for u in learners_by_unit[unit_id]}
            for unit_id, rule in strict.items()}


def _learners_by_unit(viewer: User) -> dict[str, set[int]]:
    """The learners now in each unit's cohorts, of the cohorts the viewer may see."""
    query = (select(Enrolment.user_id, Cohort.unit_id)
             .join(Cohort, Cohort.id == Enrolment.cohort_id)
             .where(Enrolment.left_at.is_(None), Cohort.unit_id.is_not(None)))
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(Cohort.id.in_(visible))
    learners_by_unit: dict[str, set[int]] = defaultdict(set)
    for user_id, unit_id in db.session.execute(query):
        if unit_id is not None:  # the query leaves out cohorts with no unit
            learners_by_unit[unit_id].add(user_id)
    return learners_by_unit


def _completed_modules(learners: set[int]) -> dict[int, set[str]]:
    """The slugs of the modules each of these learners has read (marked complete): complete
    under the default rule."""
    completed: dict[int, set[str]] = defaultdict(set)
    for user_id, slug in db.session.execute(
            select(ModuleProgress.user_id, ModuleProgress.module_slug).where(
                ModuleProgress.user_id.in_(select(Enrolment.user_id).where(
                    Enrolment.left_at.is_(None))), ModuleProgress.completed_at.is_not(None))):
        if user_id in learners:
            completed[user_id].add(slug)
    return completed


def _latest_decisions(learners: set[int]) -> dict[tuple[int, str], bool]:
    """(learner, criterion) -> met?, from the latest released decision on it."""
    latest: dict[tuple[int, str], bool] = {}
    for learner_id, criterion_id, criterion_met in db.session.execute(
            select(Submission.learner_id, CriterionDecision.criterion_id, CriterionDecision.met)
            .join(Decision, Decision.id == CriterionDecision.decision_id)
            .join(SubmittedWork, SubmittedWork.id == Decision.work_id)
            .join(Submission, Submission.id == SubmittedWork.submission_id)
            .where(Decision.released_at.is_not(None))
            .order_by(Decision.released_at, Decision.id)):
        if learner_id in learners:
            latest[(learner_id, criterion_id)] = criterion_met  # later rows overwrite earlier
    return latest


def criterion_rows(catalog: Catalog, learners_by_unit: dict[str, set[int]],
                   completed: dict[int, set[str]],
                   latest: dict[tuple[int, str], bool],
                   complete_by_unit: dict[str, dict[int, set[str]]] | None = None
                   ) -> list[CriterionRow]:
    """The rows, from who studies each unit, their completed modules (`complete_by_unit`
    for a unit with its own completion rule, else `completed`) and latest decisions.

    A criterion that no module and no task covers has nothing to show, so it has no row.
    """
    rows = []
    for unit in catalog.units:
        learners = learners_by_unit.get(unit.id, set())
        if not learners:
            continue
        for c in unit.criteria:
            modules = {m.slug for m in catalog.modules if c.id in m.criteria}
            if modules or any(c.id in t.criteria for t in catalog.tasks):
                done = (complete_by_unit or {}).get(unit.id, completed)
                rows.append(_row(unit, c, modules, learners, done, latest))
    return rows


def _row(unit: Unit, criterion: Criterion, modules: set[str], learners: set[int],
         completed: dict[int, set[str]], latest: dict[tuple[int, str], bool]) -> CriterionRow:
    # Without a module to complete nobody is "prepared": an empty set is a subset of anything.
    prepared = sum(1 for u in learners if modules and modules <= completed.get(u, set()))
    met = sum(1 for u in learners if latest.get((u, criterion.id)) is True)
    not_met = sum(1 for u in learners if latest.get((u, criterion.id)) is False)
    return CriterionRow(unit.code, criterion.number, criterion.text, len(learners), prepared,
                        met, not_met)
