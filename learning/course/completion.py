"""When a module counts as complete for a learner: the one rule every page, report and export uses.

A unit sets the rule (`module_completion:` in units.yaml, learning.content.catalog):

- `read` (the default): the learner has read the module, that is marked it complete, or
  passed one of its quizzes (passing marks it read, learning.course.progress).
- `read-and-quiz-passed`: read, and every quiz of the module that counts toward completion
  passed. A module's quizzes are those that belong to it alone (its check-your-understanding
  quiz); a quiz spanning modules (the end-of-unit quiz) is an item of its own, not part of
  any one module.

A learner whose current cohorts study several units gets the strictest of their rules, so
"complete" on their pages means complete for every unit they study; a learner with no unit
(or no cohort) gets the default. A cohort's completion matrix counts by its own unit's rule:
it reports that unit.

Everything here is pure: callers read the progress rows and quiz results (in a fixed number
of queries) and pass them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from learning.content.catalog import DEFAULT_MODULE_COMPLETION, Catalog, ModuleCompletion
from learning.quizzes.types import Quiz

__all__ = ["ModuleCompletion", "counting_quizzes", "module_complete", "rule_for_units",
           "rule_words"]


def unit_rules(catalog: Catalog) -> tuple[tuple[str, ModuleCompletion], ...]:
    """Each unit that sets a rule other than the default, with its rule."""
    return tuple((u.id, u.module_completion) for u in catalog.units
                 if u.module_completion is not DEFAULT_MODULE_COMPLETION)


def strictest(rules: Iterable[tuple[str, ModuleCompletion]],
              unit_ids: Iterable[str | None]) -> ModuleCompletion:
    """The strictest rule of these units, from (unit id, rule) pairs (unit_rules); the
    default for no unit, or a unit that sets none."""
    by_unit = dict(rules)
    found = [by_unit[u] for u in unit_ids if u in by_unit]
    return max(found, key=lambda r: r.strictness, default=DEFAULT_MODULE_COMPLETION)


def rule_for_units(catalog: Catalog, unit_ids: Iterable[str | None]) -> ModuleCompletion:
    """The strictest rule of these units (a learner's current cohorts' units); the default
    for none, or for a unit the course does not know."""
    return strictest(unit_rules(catalog), unit_ids)


def counting_quizzes(module_slug: str, quizzes: Iterable[Quiz]) -> tuple[Quiz, ...]:
    """The quizzes the stricter rule asks a learner to pass for this module: those that belong
    to it alone and count toward completion."""
    return tuple(q for q in quizzes if q.modules == (module_slug,)
                 and q.settings.counts_toward_completion)


def module_complete(read: bool, quizzes_passed: Iterable[bool], rule: ModuleCompletion) -> bool:
    """Whether a module is complete: `read` (the learner's progress row has a completion
    date), `quizzes_passed` (for each of the module's counting_quizzes, whether the learner
    has passed it) and the rule that applies to them."""
    if not read:
        return False
    if rule is ModuleCompletion.READ:
        return True
    return all(quizzes_passed)


def complete_of(read: Iterable[str], passed: set[str], rule: ModuleCompletion,
                quizzes: Iterable[Quiz]) -> set[str]:
    """Of the modules a learner has read (slugs), those complete by the rule, given the quiz
    slugs they have passed: for reports that count many learners."""
    quizzes = list(quizzes)
    return {slug for slug in read
            if module_complete(True, passed_each(counting_quizzes(slug, quizzes), passed), rule)}


def passed_each(quizzes: Iterable[Quiz], passed: Mapping[str, object] | set[str]) -> list[bool]:
    """For each quiz, whether the learner passed it: `passed` is a set of passed quiz slugs,
    or each quiz's best attempt (with `.passed`) by slug."""
    if isinstance(passed, set):
        return [q.slug in passed for q in quizzes]
    return [bool(getattr(passed.get(q.slug), "passed", False)) for q in quizzes]


def rule_words(rule: ModuleCompletion, quizzes: Iterable[Quiz]) -> str:
    """The rule in plain words for the module page, naming the pass mark of each quiz."""
    quizzes = list(quizzes)
    if rule is ModuleCompletion.READ or not quizzes:
        return "This module is complete when you have read it and marked it as complete."
    if len(quizzes) == 1:
        return ("This module is complete when you have read it and passed its quiz "
                f"(pass mark {_mark(quizzes[0])}).")
    marks = "; ".join(f"{q.title}: {_mark(q)}" for q in quizzes)
    return ("This module is complete when you have read it and passed its quizzes "
            f"(pass marks: {marks}).")


def _mark(quiz: Quiz) -> str:
    return f"{quiz.settings.pass_mark:g}%"
