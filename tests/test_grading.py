"""Grading of every question type, public views, snapshots, versions and question selection."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from learning.quizzes.grading import (
    QUESTION_TYPES,
    correct_answer_view,
    grade,
    grade_attempt,
    may_reveal,
    normalise_answer,
    public_view,
    select_questions,
)
from learning.quizzes.loader import load_quiz_file
from learning.quizzes.questions import question_from_snapshot
from learning.quizzes.types import QUESTION_TYPE_NAMES, Draw, Question, Quiz, QuizSettings

EXAMPLE = Path(__file__).parent / "data" / "quizzes" / "partnership-working-check.yaml"


def make(**data) -> Question:
    """A question from snapshot-style data, checked by the same rules as quiz files."""
    return question_from_snapshot({"id": "q", "text": "Question?", **data})


@pytest.fixture(scope="module")
def example() -> Quiz:
    quiz, problems = load_quiz_file(EXAMPLE)
    assert quiz is not None and problems == []
    return quiz


SINGLE = make(type="single", options=[
    {"id": "a", "text": "Right", "correct": True, "feedback": "Yes"},
    {"id": "b", "text": "Half", "weight": 50, "feedback": "Partly"},
    {"id": "c", "text": "Bad", "weight": -50, "feedback": "No"},
])
MULTI = make(type="multiple", options=[
    {"id": "a", "text": "A", "correct": True, "feedback": "fa"},
    {"id": "b", "text": "B", "correct": True, "feedback": "fb"},
    {"id": "c", "text": "C", "correct": True},
    {"id": "x", "text": "X", "feedback": "fx"},
    {"id": "y", "text": "Y"},
])
TF = make(type="truefalse", answer=False, feedback_true="said true", feedback_false="said false")
MATCH = make(type="matching", pairs=[
    {"id": "p1", "prompt": "Police", "answer": "Crime"},
    {"id": "p2", "prompt": "GP", "answer": "Health"},
    {"id": "p3", "prompt": "Health visitor", "answer": "Health"},
], distractors=["Passports"])
ORDER = make(type="ordering", items=["One", "Two", "Three", "Four"])
SHORT = make(type="short", answers=[
    {"text": "children's services", "feedback": "Yes"},
    {"text": "social care*", "fraction": 0.5, "feedback": "Nearly"},
    {"text": "social*", "fraction": 0.25},
    {"text": "5 \\* 5", "fraction": 1},
    {"text": "police", "fraction": 0, "feedback": "Not the police"},
])
NUM = make(type="numerical", answers=[
    {"value": 3.14, "tolerance": 0.01, "feedback": "Good"},
    {"min": 3, "max": 3.3, "fraction": 0.5, "feedback": "Close"},
    {"value": 22, "fraction": 0, "feedback": "That's 22/7 without dividing"},
])
ALL = [SINGLE, MULTI, TF, MATCH, ORDER, SHORT, NUM]


def test_registry_has_every_type_and_nothing_else():
    assert set(QUESTION_TYPES) == set(QUESTION_TYPE_NAMES)
    assert all(QUESTION_TYPES[name].name == name for name in QUESTION_TYPES)


@pytest.mark.parametrize("question", ALL, ids=lambda q: q.type)
@pytest.mark.parametrize("blank", [None, "", [], {}, "   ", ["zzz"], 42.5j])
def test_blank_or_junk_answer_scores_zero_without_crashing(question, blank):
    result = grade(question, blank)
    assert (result.score, result.marks, result.correct, result.feedback) == (0.0, 0.0, False, ())


@pytest.mark.parametrize("question", ALL, ids=lambda q: q.type)
def test_the_correct_answer_scores_one(question):
    result = grade(question, correct_answer_view(question)["answer"])
    assert result.score == 1.0 and result.correct and result.answered


@pytest.mark.parametrize("answer, score, feedback", [
    ("a", 1.0, ("Yes",)),
    (["a"], 1.0, ("Yes",)),
    (" b ", 0.5, ("Partly",)),
    ("c", 0.0, ("No",)),  # negative weight: clamped to 0
    (["a", "b"], 0.0, ()),  # two values for one choice is junk
    ("zz", 0.0, ()),
])
def test_single(answer, score, feedback):
    result = grade(SINGLE, answer)
    assert (result.score, result.feedback) == (score, feedback)


def test_single_correct_only_for_full_credit():
    assert grade(SINGLE, "a").correct and not grade(SINGLE, "b").correct
    assert grade(SINGLE, "a").parts == (("a", True),)


def test_multiple_flags_give_equal_shares_and_shared_penalty():
    assert [o.weight for o in MULTI.options] == pytest.approx([100 / 3] * 3 + [-50, -50])
    assert grade(MULTI, ["a", "b", "c"]).score == 1.0
    assert grade(MULTI, ["a", "b"]).score == pytest.approx(2 / 3)
    assert grade(MULTI, ["a", "b", "x"]).score == pytest.approx(2 / 3 - 0.5)
    assert grade(MULTI, ["a", "b", "c", "x", "y"]).score == 0.0  # ticking everything


def test_multiple_feedback_and_parts_follow_the_ticked_options():
    result = grade(MULTI, ["x", "b"])
    assert result.feedback == ("fb", "fx")
    assert result.parts == (("b", True), ("x", False))


def test_multiple_duplicates_count_once_and_unknown_ids_are_dropped():
    assert normalise_answer(MULTI, ["b", "a", "a", "nope", 7]) == ["a", "b"]
    assert grade(MULTI, ["a", "a", "a"]).score == pytest.approx(1 / 3)
    assert normalise_answer(MULTI, "c") == ["c"]


def test_multiple_score_stays_within_0_and_1_for_every_combination():
    question = make(type="multiple", options=[
        {"id": "a", "text": "A", "weight": 60}, {"id": "b", "text": "B", "weight": 40},
        {"id": "c", "text": "C", "weight": -100}, {"id": "d", "text": "D", "weight": -30},
        {"id": "e", "text": "E", "weight": 0},
    ])
    ids = [o.id for o in question.options]
    for size in range(len(ids) + 1):
        for combo in itertools.combinations(ids, size):
            assert 0.0 <= grade(question, list(combo)).score <= 1.0
    assert grade(question, ["a", "b", "e"]).score == 1.0
    assert grade(question, ["a", "d"]).score == pytest.approx(0.3)


def test_multiple_thirds_written_as_33_33_still_score_exactly_one():
    question = make(type="multiple", options=[
        {"id": x, "text": x.upper(), "weight": 33.33} for x in "abc"
    ] + [{"id": "d", "text": "D", "weight": -100}])
    assert grade(question, ["a", "b", "c"]).correct


@pytest.mark.parametrize("answer, score, feedback", [
    (False, 1.0, "said false"), ("false", 1.0, "said false"), ("F", 1.0, "said false"),
    (["0"], 1.0, "said false"), (True, 0.0, "said true"), ("TRUE", 0.0, "said true"),
])
def test_truefalse(answer, score, feedback):
    result = grade(TF, answer)
    assert (result.score, result.feedback) == (score, (feedback,))


def test_truefalse_junk_is_blank():
    assert normalise_answer(TF, "maybe") is None
    assert normalise_answer(TF, ["true", "false"]) is None


def test_matching_scores_share_of_prompts():
    answer = {"p1": "Crime", "p2": "Health", "p3": "Passports"}
    result = grade(MATCH, answer)
    assert result.score == pytest.approx(2 / 3)
    assert result.parts == (("p1", True), ("p2", True), ("p3", False))


def test_matching_shared_answers_and_junk():
    assert grade(MATCH, {"p1": "Crime", "p2": "Health", "p3": "Health"}).correct
    answer = {"p1": " Crime ", "p2": "Made up", "zz": "Health", "p3": ["Health", "Crime"]}
    assert normalise_answer(MATCH, answer) == {"p1": "Crime"}
    assert normalise_answer(MATCH, ["Crime"]) == {}


def test_ordering_relative_to_next_item():
    ids = [i.id for i in ORDER.items]
    assert ids == ["one", "two", "three", "four"]
    assert grade(ORDER, ids).score == 1.0
    assert grade(ORDER, ids[::-1]).score == 0.0
    assert grade(ORDER, ["four", "one", "two", "three"]).score == pytest.approx(2 / 3)
    assert grade(ORDER, ["two", "one", "three", "four"]).score == pytest.approx(1 / 3)


def test_ordering_parts_tick_items_followed_by_the_right_one():
    result = grade(ORDER, ["four", "one", "two", "three"])
    assert result.parts == (("four", False), ("one", True), ("two", True), ("three", False))


def test_ordering_two_items_swapped_scores_zero():
    question = make(type="ordering", items=["First", "Second"])
    assert grade(question, ["second", "first"]).score == 0.0


def test_ordering_accepts_csv_positions_and_drops_junk():
    assert normalise_answer(ORDER, "two, one,three,nope,two") == ["two", "one", "three"]
    positions = {"one": "2", "two": "1", "three": "4", "four": "3", "zz": "0"}
    assert normalise_answer(ORDER, positions) == ["two", "one", "four", "three"]
    assert normalise_answer(ORDER, {"one": "first"}) == []
    assert grade(ORDER, ["one", "two"]).score == pytest.approx(1 / 3)  # incomplete answer


@pytest.mark.parametrize("typed, score, feedback", [
    ("children's services", 1.0, ("Yes",)),
    ("  CHILDREN’S    Services ", 1.0, ("Yes",)),  # case, spaces, curly apostrophe
    ("Social care team", 0.5, ("Nearly",)),  # wildcard; best match wins over "social*"
    ("social care", 0.5, ("Nearly",)),  # `*` matches nothing too
    ("Socialism", 0.25, ()),
    ("5 * 5", 1.0, ()),  # \* is a literal star
    ("5 x 5", 0.0, ()),
    ("police", 0.0, ("Not the police",)),
    ("the children's services", 0.0, ()),  # whole-answer match, not substring
])
def test_short(typed, score, feedback):
    result = grade(SHORT, typed)
    assert (result.score, result.feedback) == (score, feedback)


def test_short_answer_is_stored_trimmed_and_capped():
    assert normalise_answer(SHORT, "  Hello  ") == "Hello"
    assert len(normalise_answer(SHORT, "x" * 5000)) == 1000
    assert normalise_answer(SHORT, ["a", "b"]) is None


@pytest.mark.parametrize("typed, score", [
    ("3.14", 1.0), ("3.13", 1.0), ("3.15", 1.0),  # tolerance boundaries included exactly
    ("3.1299", 0.5), ("3.1501", 0.5), ("+3.14", 1.0), (".314e1", 1.0), ("3.140000", 1.0),
    ("3", 0.5), ("3.3", 0.5), ("2.999", 0.0), ("3.3001", 0.0), ("22", 0.0),
    (3.14, 1.0), (3, 0.5),
])
def test_numerical(typed, score):
    assert grade(NUM, typed).score == score


@pytest.mark.parametrize("junk", ["3,14", "NaN", "inf", "1 000", "three", "", True, "1e", "--1"])
def test_numerical_junk_is_blank(junk):
    assert normalise_answer(NUM, junk) is None
    assert not grade(NUM, junk).answered


def test_numerical_feedback_and_canonical_form():
    assert grade(NUM, "22").feedback == ("That's 22/7 without dividing",)
    assert grade(NUM, "22").answered
    assert normalise_answer(NUM, " +3.14 ") == "3.14"


def test_numerical_range_boundaries_are_inclusive():
    question = make(type="numerical", answers=[{"min": 1, "max": 5}])
    assert [grade(question, x).score for x in ("1", "5", "0.999", "5.001", "-1")] == [
        1.0, 1.0, 0.0, 0.0, 0.0,
    ]


@pytest.mark.parametrize("question", ALL, ids=lambda q: q.type)
def test_normalise_answer_is_idempotent(question):
    raw = {
        "single": "b", "multiple": ["c", "a", "a"], "truefalse": "true",
        "matching": {"p1": "Crime"}, "ordering": "two,one", "short": " x  ", "numerical": " 3 ",
    }[question.type]
    once = normalise_answer(question, raw)
    assert normalise_answer(question, once) == once
    json.dumps(once)  # storable as JSON


def test_public_view_leaks_nothing(example):
    secrets = {"weight", "correct", "feedback", "fraction", "tolerance", "answer"}
    for question in example.questions:
        view = json.dumps(public_view(question, random.Random(1)))
        for key in secrets:
            assert f'"{key}' not in view, (question.id, key)
        texts = [question.general_feedback, question.feedback_true, question.feedback_false]
        texts += [o.feedback for o in question.options]
        texts += [a.feedback for a in (*question.text_answers, *question.numeric_answers)]
        texts += [a.text for a in question.text_answers]
        for secret in filter(None, texts):
            assert secret not in view, (question.id, secret)
        assert "14" not in view.replace(question.text, "")


def test_public_view_of_each_kind(example):
    view = public_view(example.question("who-coordinates"))
    assert [o["id"] for o in view["options"]] == ["dsl", "cook", "parent-rep"]  # no rng
    assert view["gap"] == {"before": "The ",
                           "after": " makes sure each agency knows what the others are doing."}
    view = public_view(example.question("match-sections"))
    assert sorted(view["choices"]) == sorted(
        ["Children in need", "Enquiries into significant harm",
         "Duty to safeguard and promote welfare", "Adoption orders"])
    assert [p["id"] for p in view["prompts"]] == ["s17", "s47", "s11"]


def test_options_shuffle_is_deterministic_per_seed():
    views = [[o["id"] for o in public_view(MULTI, random.Random(seed))["options"]]
             for seed in range(20)]
    assert views[3] == [o["id"] for o in public_view(MULTI, random.Random(3))["options"]]
    assert len({tuple(v) for v in views}) > 1


def test_ordering_never_starts_in_the_right_order():
    for seed in range(50):
        question = make(type="ordering", items=["A", "B"], id=f"q{seed}")
        items = [i["id"] for i in public_view(question, random.Random(seed))["items"]]
        assert items == ["b", "a"]
    assert public_view(ORDER) == public_view(ORDER)  # without an rng: stable


def test_snapshots_round_trip_through_json(example):
    for question in [*example.questions, *ALL]:
        snapshot = json.loads(json.dumps(question.to_snapshot()))
        assert question_from_snapshot(snapshot) == question


def test_grading_from_a_snapshot_survives_a_changed_file(example):
    shown = example.question("lado")
    stored = json.dumps(shown.to_snapshot())
    changed = replace(shown, options=tuple(replace(o, weight=100 if o.id == "parents" else 0)
                                           for o in shown.options))
    assert grade(changed, "lado").score == 0.0
    assert grade(question_from_snapshot(json.loads(stored)), "lado").score == 1.0


def test_bad_snapshot_raises_value_error():
    with pytest.raises(ValueError, match="unknown type 'essay'"):
        question_from_snapshot({"id": "q", "type": "essay", "text": "x"})


def test_version_ignores_layout_and_follows_content(example):
    text = EXAMPLE.read_text()
    from learning.quizzes.loader import parse_quiz_text

    same, _ = parse_quiz_text("# a comment\n" + text.replace("  - id: lado", "  - id:   lado"),
                              str(EXAMPLE))
    changed, _ = parse_quiz_text(text.replace("Not first.", "Not yet."), str(EXAMPLE))
    assert same is not None and changed is not None
    assert same.version == example.version and len(example.version) == 64
    assert changed.version != example.version
    assert replace(example, settings=replace(example.settings, pass_mark=70)).version \
        != example.version


def test_grade_attempt_totals_and_pass_mark(example):
    answers = {q.id: correct_answer_view(q)["answer"] for q in example.questions}
    answers["ofsted-days"] = "12"  # 2 marks at half credit
    del answers["section-47"]  # unanswered
    result = grade_attempt(example.questions, answers)
    assert (result.total_marks, result.max_marks) == (7.0, 9.0)
    assert result.percent == pytest.approx(700 / 9)
    assert result.passed(77.7) and not result.passed(80)
    assert result.grade_for("ofsted-days").marks == 1.0
    assert not result.grade_for("section-47").answered


def test_grade_attempt_with_no_questions():
    result = grade_attempt([], {})
    assert (result.total_marks, result.max_marks, result.percent) == (0, 0, 0.0)


def _quiz(draw: Draw | None, shuffle: bool) -> Quiz:
    questions = tuple(
        make(id=f"{cat}-{n}", type="truefalse", answer=True, category=cat)
        for cat in ("roles", "law") for n in range(5)
    )
    return Quiz(slug="q", title="Q", questions=questions,
                settings=QuizSettings(draw=draw, shuffle_questions=shuffle))


def test_select_questions_is_deterministic_per_seed():
    quiz = _quiz(Draw(total=4), shuffle=True)
    first = [q.id for q in select_questions(quiz, random.Random(42))]
    assert first == [q.id for q in select_questions(quiz, random.Random(42))]
    assert len(first) == 4 and len(set(first)) == 4
    others = {tuple(q.id for q in select_questions(quiz, random.Random(s))) for s in range(10)}
    assert len(others) > 1


def test_select_questions_per_category():
    quiz = _quiz(Draw(per_category=(("roles", 2), ("law", 3))), shuffle=False)
    for seed in range(10):
        chosen = select_questions(quiz, random.Random(seed))
        assert [q.category for q in chosen].count("roles") == 2
        assert [q.category for q in chosen].count("law") == 3
        order = [quiz.questions.index(q) for q in chosen]
        assert order == sorted(order)  # without shuffle, file order


def test_select_questions_without_draw_or_shuffle_is_everything_in_order():
    quiz = _quiz(None, shuffle=False)
    assert select_questions(quiz, random.Random(1)) == list(quiz.questions)


@pytest.mark.parametrize("when, kwargs, expected", [
    ("immediate", {"answered": True}, True),
    ("immediate", {}, False),
    ("immediate", {"submitted": True}, True),  # after submitting, unchecked answers too
    ("after_submit", {"answered": True}, False),
    ("after_submit", {"submitted": True}, True),
    ("after_pass_or_last", {"submitted": True}, False),
    ("after_pass_or_last", {"submitted": True, "passed": True}, True),
    ("after_pass_or_last", {"submitted": True, "attempts_left": False}, True),
    ("never", {"submitted": True, "passed": True}, False),
])
def test_may_reveal(when, kwargs, expected):
    assert may_reveal(when, **kwargs) is expected
