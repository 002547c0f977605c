"""Grading follows Moodle's rules: each row names the Moodle function (moodle/moodle) it mirrors.

Where we differ on purpose (lenient short answers in our own quizzes) the row says so.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from learning.quizzes.grading import (
    grade,
    grade_attempt,
    normalise_answer,
    parse_number,
    validation_error,
)
from learning.quizzes.loader import parse_quiz_text
from learning.quizzes.questions import question_from_snapshot
from learning.quizzes.types import Question


def make(**data) -> Question:
    return question_from_snapshot({"id": "q", "text": "Question?", **data})


NEGATIVE = make(type="single", options=[
    {"id": "right", "text": "Right", "weight": 100},
    {"id": "wrong", "text": "Wrong", "weight": -33.33333},
    {"id": "blank", "text": "Not sure", "weight": 0},
])
MULTI = make(type="multiple", options=[
    {"id": "a", "text": "A", "weight": 50}, {"id": "b", "text": "B", "weight": 50},
    {"id": "x", "text": "X", "weight": -100},
])
SHORT = [{"text": "*meeting*", "fraction": 0.5, "feedback": "broad"},
         {"text": "strategy meeting", "fraction": 1, "feedback": "exact"}]
STRICT = make(type="short", lenient=False, answers=[{"text": "children's services"},
                                                     {"text": "café"}])
LENIENT = make(type="short", answers=[{"text": "children's services"}, {"text": "café"}])
CASED = make(type="short", lenient=False, case_sensitive=True, answers=["NSPCC"])
STARS = make(type="short", lenient=False, answers=["early**years", "5\\*"])
NUM_FIRST = make(type="numerical", answers=[
    {"value": 10, "tolerance": 5, "fraction": 0.5, "feedback": "close"},
    {"value": 12, "feedback": "exact"},
])
NUM_ANY = make(type="numerical", answers=[
    {"value": 1822, "feedback": "Yes"},
    {"any": True, "fraction": 0, "feedback": "Completely wrong"},
])


@pytest.mark.parametrize("question, answer, score, feedback, moodle", [
    # Single choice scores the chosen answer's fraction, negative included.
    (NEGATIVE, "wrong", -0.3333333, (), "qtype_multichoice_single_question::grade_response"),
    (NEGATIVE, "blank", 0.0, (), "qtype_multichoice_single_question::grade_response"),
    (NEGATIVE, "right", 1.0, (), "qtype_multichoice_single_question::grade_response"),
    # Multiple response never goes below 0.
    (MULTI, ["a", "x"], 0.0, (), "qtype_multichoice_multi_question::get_min_fraction"),
    # Short answer: the first matching answer in file order wins, not the best.
    (make(type="short", answers=SHORT), "Strategy meeting", 0.5, ("broad",),
     "question_first_matching_answer_grading_strategy::grade"),
    (make(type="short", answers=SHORT[::-1]), "Strategy meeting", 1.0, ("exact",),
     "question_first_matching_answer_grading_strategy::grade"),
    # Strict (Moodle's) comparison: trimmed, case ignored, nothing else forgiven.
    (STRICT, "  CHILDREN'S SERVICES ", 1.0, (), "compare_string_with_wildcard (trim, /i)"),
    (STRICT, "children’s services", 0.0, (), "compare_string_with_wildcard (no quote folding)"),
    (STRICT, "children's   services", 0.0, (), "compare_string_with_wildcard (spaces kept)"),
    (STRICT, "cafe\u0301", 1.0, (), "qtype_shortanswer_question::safe_normalize (NFC)"),
    (CASED, "nspcc", 0.0, (), "compare_string_with_wildcard with usecase"),
    (CASED, "NSPCC", 1.0, (), "compare_string_with_wildcard with usecase"),
    (STARS, "early years", 1.0, (), "compare_string_with_wildcard (** is *)"),
    (STARS, "5*", 1.0, (), "compare_string_with_wildcard (\\* is a star)"),
    (STARS, "55", 0.0, (), "compare_string_with_wildcard (\\* is a star)"),
    # Ours, on purpose: lenient comparison (the default in our YAML quizzes).
    (LENIENT, "children’s   services", 1.0, (), "ours: lenient (curly quotes, spaces)"),
    # Numerical: the first answer whose range holds the number wins.
    (NUM_FIRST, "12", 0.5, ("close",), "qtype_numerical_question::get_matching_answer"),
    (NUM_FIRST, "20", 0.0, (), "qtype_numerical_question::grade_response"),
    # `*` (GIFT's ~#feedback) matches any other number, with its feedback.
    (NUM_ANY, "7", 0.0, ("Completely wrong",), "qtype_numerical_answer::within_tolerance (*)"),
    (NUM_ANY, "1822", 1.0, ("Yes",), "qtype_numerical_question::get_matching_answer"),
    # A lone comma is a decimal point to Moodle: "1,822" is 1.822, graded, not blank.
    (NUM_ANY, "1,822", 0.0, ("Completely wrong",),
     "qtype_numerical_answer_processor::apply_units"),
    (NUM_ANY, "1,822.0", 1.0, ("Yes",), "qtype_numerical_answer_processor::apply_units"),
])
def test_moodle_rule(question, answer, score, feedback, moodle):
    result = grade(question, answer)
    assert (result.score, result.feedback) == (pytest.approx(score), feedback), moodle
    assert result.answered


@pytest.mark.parametrize("typed, value", [
    ("1,822", Decimal("1.822")),  # one comma, no point: a decimal comma
    ("1,5", Decimal("1.5")),
    ("1,822.5", Decimal("1822.5")),  # a point present: commas are thousands
    ("2,456,789", Decimal("2456789")),  # several commas: thousands
    ("1 000", Decimal("1000")),  # spaces dropped
    ("3x10^2", Decimal("300")), ("3*10**2", Decimal("300")), ("3×10^2", Decimal("300")),
    ("-.5", Decimal("-0.5")), ("+4", Decimal("4")), ("1E3", Decimal("1000")),
    ("14 cm", None), ("fourteen", None), ("1.2.3", None), ("", None),
])
def test_numbers_are_read_as_moodle_reads_them(typed, value):
    """qtype_numerical_answer_processor::apply_units, for a question without units."""
    assert parse_number(typed) == value


def test_a_thousands_separator_asks_the_learner_to_re_enter():
    """qtype_numerical_question::get_validation_error (pleaseenteranswerwithoutthousandssep)."""
    assert normalise_answer(NUM_ANY, " 1,822 ") == "1,822"  # kept, not blank
    assert "without using the thousands separator (,)" in validation_error(NUM_ANY, "1,822")
    assert validation_error(NUM_ANY, "1822") == ""
    assert validation_error(LENIENT, "1,822") == ""


def test_attempt_total_adds_negative_marks_and_stops_at_zero():
    """question_usage_by_activity::get_total_mark adds marks as they are; the quiz's grade
    item has grademin 0 (quiz_grade_item_update), so the result shown is never negative."""
    second = make(type="single", options=[{"text": "R", "correct": True}, {"text": "W"}])
    second = question_from_snapshot({**second.to_snapshot(), "id": "q2", "marks": 2})
    both_wrong = grade_attempt([NEGATIVE, second], {"q": "wrong", "q2": "b"})
    assert [g.marks for g in both_wrong.grades] == [-0.333333, 0.0]
    assert (both_wrong.total_marks, both_wrong.percent) == (0.0, 0.0)
    one_right = grade_attempt([NEGATIVE, second], {"q": "wrong", "q2": "a"})
    assert one_right.total_marks == 1.666667  # 2 - 0.333333
    assert one_right.percent == round(100 * 1.666667 / 3, 6)


QUIZ = """\
quiz: {slug: t, title: T, modules: [m]}
questions:
  - id: strict
    type: short
    text: Name it.
    lenient: false
    answers: ["children's services"]
  - id: default
    type: short
    text: Name it.
    answers: ["children's services"]
  - id: bad
    type: short
    text: Name it.
    lenient: sometimes
    answers: [x]
"""


def test_leniency_is_a_per_question_option_in_quiz_yaml():
    quiz, problems = parse_quiz_text(QUIZ.split("  - id: bad")[0], "quizzes/t.yaml")
    assert quiz is not None and problems == []
    strict, default = quiz.questions
    assert (strict.lenient, default.lenient) == (False, True)
    assert grade(strict, "children’s services").score == 0.0
    assert grade(default, "children’s services").score == 1.0
    _, problems = parse_quiz_text(QUIZ, "quizzes/t.yaml")
    assert [str(p) for p in problems] == [
        "quizzes/t.yaml:15: question 'bad' has lenient 'sometimes'; lenient must be true or "
        "false"]


def test_a_catch_all_answer_before_others_is_reported():
    """With the first matching answer counting, answers after a catch-all are never used."""
    text = QUIZ.split("  - id: strict")[0] + """\
  - id: num
    type: numerical
    text: How many?
    answers: [{any: true, fraction: 0, feedback: No}, 5]
  - id: short
    type: short
    text: Name it.
    answers: [police, "*"]
"""
    quiz, problems = parse_quiz_text(text, "quizzes/t.yaml")
    assert quiz is not None
    assert [str(p) for p in problems] == [
        "quizzes/t.yaml:6: warning: question 'num' has answer 1, which matches every answer, "
        "before others: the first matching answer counts, so put it last"]


def test_a_numerical_star_answer_with_credit_survives_a_gift_round_trip():
    from learning.quizzes.gift.convert import parse_gift, questions_to_gift

    q = make(type="numerical", answers=[{"value": 5}, {"any": True, "fraction": 0.1}])
    exported = questions_to_gift([q])
    assert "=%10%*" in exported
    again, problems = parse_gift(exported, "t.gift")
    assert problems == [] and again == [q]


@pytest.mark.parametrize("weight, accepted", [(33.33, True), (33.2, True), (33, False)])
def test_multiple_response_weights_are_checked_as_moodle_rounds_them(weight, accepted):
    """qtype_multichoice::save_question_options: round(total fraction, 2) must be 1."""
    data = {"id": "q", "text": "Pick.", "type": "multiple",
            "options": [{"text": t, "weight": weight} for t in "abc"] + [{"text": "d"}]}
    if accepted:
        assert grade(question_from_snapshot(data), ["a", "b", "c"]).score == 1.0
    else:
        with pytest.raises(ValueError, match="add up to 99"):
            question_from_snapshot(data)
