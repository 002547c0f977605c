"""What each download's columns mean, shown on the Downloads page beside the file itself.

Every column the exports write must have its meaning here (importing fails otherwise), so the
page cannot fall behind the files.
"""

from __future__ import annotations

from dataclasses import dataclass

from learning.reports.exports import DECISION_COLUMNS, DECISION_TAIL, MATRIX_COLUMNS, QUIZ_COLUMNS

_LEARNER = {
    "learner_id": "The learner's account number in this site.",
    "learner_name": "The learner's name.",
    "learner_ref": "The awarding body's learner reference, if one is recorded.",
    "cohort": "The cohort's name (a learner in two cohorts has a row for each in the matrix).",
}


def _in_file_order(columns, meanings: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Each column the file has, in its order, with its meaning (a column without one is a
    KeyError when this module is imported: the page never leaves a column unexplained)."""
    return tuple((c, meanings[c]) for c in columns)


@dataclass(frozen=True)
class Explained:
    rows: str
    columns: tuple[tuple[str, str], ...]
    #: Columns that repeat, one per module, quiz, task or criterion.
    repeated: tuple[tuple[str, str], ...] = ()


MATRIX = Explained(
    "One row per learner and cohort, by learner name.",
    _in_file_order(MATRIX_COLUMNS, {**_LEARNER,
        "rag": "Red, Amber or Green, by the rule on the completion matrix page.",
        "rag_reasons": "Why, separated by semicolons (\"on track\" when green).",
        "progress_percent": "Items done out of items required, as a whole percentage.",
        "items_done": "Items done that count towards progress.",
        "items_required": "Items that count for this cohort.",
        "items_overdue": "Items past their due date and not handed in.",
        "items_due_soon": "Items due within 7 days and not handed in.",
    }),
    (("module:…, quiz:…, task:…", "One column per module, quiz and written task, in course "
      "order: the status in words (a module is complete by the rule of the cohort's unit: "
      "read, or read and its quiz passed), the best quiz score or the task's round in "
      "brackets, and "
      "\", due\" with the date when the cohort has a deadline for it (\"set before joining\" "
      "after a date that had passed when the learner joined)."),))

QUIZZES = Explained(
    "One row per submitted quiz attempt (attempts still open are left out), oldest first.",
    _in_file_order(QUIZ_COLUMNS, {
        "attempt_id": "The attempt's number in this site.", **_LEARNER,
        "quiz_slug": "The quiz's short name.", "quiz_title": "The quiz's title.",
        "attempt": "Which attempt this was for the learner at this quiz (1, 2, …).",
        "started_at": "When it was started (UK time).",
        "submitted_at": "When it was submitted (UK time).",
        "marks": "Marks scored.", "max_marks": "Marks available.",
        "percent": "The score as a percentage, to one decimal place.",
        "pass_mark": "The pass mark when the attempt started.",
        "passed": "yes or no.",
        "timed_out": "yes when time ran out and the site submitted the saved answers.",
        "counts_toward_completion": "Whether the quiz counted towards completing its module "
                                    "when the attempt started.",
        "quiz_version": "A fingerprint of the quiz file the learner saw.",
    }))

DECISIONS = Explained(
    "One row per decision released to a learner (marking drafts are left out), oldest first.",
    _in_file_order((*DECISION_COLUMNS, *DECISION_TAIL), {
        "decision_id": "The decision's number in this site.", **_LEARNER,
        "task_slug": "The written task's short name.", "task_title": "The task's title.",
        "round": "The submission decided: 1 for the first, 2 for the first resubmission, …",
        "submitted_at": "When that submission was handed in (UK time).",
        "released_at": "When the decision was released to the learner (UK time).",
        "days_to_decision": "Days from submission to release, to one decimal place.",
        "assessor": "The assessor's name.",
        "outcome": "achieved or referred.",
        "criteria_met": "Criteria met in this decision.",
        "criteria_total": "Criteria decided in this decision.",
        "criteria_not_met": "The criteria not yet met, separated by semicolons.",
        "feedback": "The overall feedback.",
        "actions": "What the learner had to do before resubmitting (referrals).",
        "iqa_sampled": "yes when the decision is in the IQA sample.",
        "iqa_verdict": "The latest IQA verdict (agree or disagree), empty if not reviewed.",
    }),
    (("criterion:…", "One column per assessment criterion of any task, between "
      "criteria_not_met and feedback: met, not met, or empty when the task does not assess "
      "it."),))
