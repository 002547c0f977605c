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
from learning.quizzes.questions import question_from_snapshot, shared_weights
from learning.quizzes.types import QUESTION_TYPE_NAMES, Draw, Question, Quiz, QuizSettings

EXAMPLE = Path(__file__).parent / "data" / "quiz-files" / "partnership-working-check.yaml"


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
    ("c", -0.5, ("No",)),  # negative weight scores negative, as in Moodle
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



@pytest.mark.parametrize("correct, weights", [
    ([True, False, True, False], [50, -50, 50, -50]),
    ([True, True, True], [100 / 3] * 3),  # no wrong option to share a penalty
    ([False, False], [0, 0]),  # nothing right: the loader reports it
    ([], []),
])
def test_correct_flags_share_the_marks(correct, weights):
    assert shared_weights(correct) == pytest.approx(weights)
    if any(correct):
        assert sum(w for w in shared_weights(correct) if w > 0) == pytest.approx(100)

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


@pytest.mark.parametrize("junk", ["NaN", "inf", "three", "", True, "1e", "--1", "14 cm"])
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


# ---- what the review page and the question page are given ----

def test_review_view_of_matching_ordering_and_short_answer():
    assert correct_answer_view(MATCH) == {
        "id": "q", "type": "matching", "text": "Question?", "general_feedback": "",
        "answer": {"p1": "Crime", "p2": "Health", "p3": "Health"},
        "pairs": [{"id": "p1", "prompt": "Police", "answer": "Crime"},
                  {"id": "p2", "prompt": "GP", "answer": "Health"},
                  {"id": "p3", "prompt": "Health visitor", "answer": "Health"}],
        "distractors": ["Passports"]}
    assert correct_answer_view(ORDER)["items"] == [
        {"id": "one", "text": "One"}, {"id": "two", "text": "Two"},
        {"id": "three", "text": "Three"}, {"id": "four", "text": "Four"}]
    assert correct_answer_view(SHORT)["answers"][:2] == [
        {"text": "children's services", "fraction": 1, "feedback": "Yes"},
        {"text": "social care*", "fraction": 0.5, "feedback": "Nearly"}]


def test_an_escaped_star_is_shown_as_a_star_and_that_answer_scores_one():
    question = make(type="short", answers=[{"text": "5 \\* 5"}, {"text": "five*"}])
    shown = correct_answer_view(question)["answer"]
    assert shown == "5 * 5"
    assert grade(question, shown).score == 1.0


def test_multiple_response_every_positive_weight_is_right_even_a_small_one():
    question = make(type="multiple", options=[
        {"id": "a", "text": "A", "weight": 99}, {"id": "b", "text": "B", "weight": 1},
        {"id": "z", "text": "Z", "weight": 0, "feedback": "Neutral"},
        {"id": "n", "text": "N", "weight": -100}])
    view = correct_answer_view(question)
    assert view["answer"] == ["a", "b"]
    assert [(o["id"], o["correct"]) for o in view["options"]] == [
        ("a", True), ("b", True), ("z", False), ("n", False)]
    assert grade(question, ["a"]).score == pytest.approx(0.99)
    result = grade(question, ["a", "b", "z"])
    assert (result.score, result.feedback) == (1.0, ("Neutral",))
    assert result.parts == (("a", True), ("b", True), ("z", False))  # a neutral pick: no tick


def test_numerical_right_answer_as_people_write_it():
    assert (correct_answer_view(NUM)["answer"], correct_answer_view(NUM)["shown"]) == (
        "3.14", "3.14 ± 0.01")
    assert correct_answer_view(NUM)["answers"][1] == {"min": 3, "max": 3.3, "fraction": 0.5,
                                                      "feedback": "Close"}
    exact = make(type="numerical", answers=[{"value": 22}])
    assert (correct_answer_view(exact)["answer"], correct_answer_view(exact)["shown"]) == (
        "22", "22")
    for low, high in ((0, 5), (3, 3.3), (-5, 0)):
        ranged = make(type="numerical", answers=[{"min": low, "max": high}])
        view = correct_answer_view(ranged)
        assert (view["answer"], view["shown"]) == (str(low), f"{low} to {high}")
        assert grade(ranged, view["answer"]).score == 1.0


def test_numerical_answers_longer_than_40_characters_are_blank():
    assert normalise_answer(NUM, "3." + "1" * 38) == "3." + "1" * 38  # 40 characters
    assert normalise_answer(NUM, "3." + "1" * 39) is None


def test_grade_for_a_question_not_in_the_attempt_is_none():
    result = grade_attempt([SINGLE], {"q": "a"})
    assert result.grade_for("q").score == 1.0
    assert result.grade_for("elsewhere") is None


def test_ordering_ticks_the_last_item_only_when_it_really_is_last_and_nothing_is_missing():
    assert grade(ORDER, ["one", "two", "three", "four"]).parts[-1] == ("four", True)
    assert grade(ORDER, ["two", "three", "four", "one"]).parts[-1] == ("one", False)
    assert grade(ORDER, ["one", "two", "four"]).parts[-1] == ("four", False)  # "three" missing
    assert grade(ORDER, ["three", "four"]).parts == (("three", True), ("four", False))


def test_question_page_texts_for_every_kind():
    view = public_view(MATCH, random.Random(1))
    assert sorted((p["id"], p["text"]) for p in view["prompts"]) == [
        ("p1", "Police"), ("p2", "GP"), ("p3", "Health visitor")]
    assert sorted(o["text"] for o in public_view(MULTI)["options"]) == ["A", "B", "C", "X", "Y"]
    assert sorted(i["text"] for i in public_view(ORDER, random.Random(1))["items"]) == [
        "Four", "One", "Three", "Two"]


def test_with_an_rng_prompts_choices_and_items_follow_it():
    """Shuffled options (an rng per attempt): each attempt may show another order."""
    def orders(key, question, field):
        return {tuple(x if isinstance(x, str) else x[key] for x in
                      public_view(question, random.Random(seed))[field]) for seed in range(20)}

    assert len(orders("id", MATCH, "prompts")) > 1
    assert len(orders("id", MATCH, "choices")) > 1
    assert len(orders("id", ORDER, "items")) > 1


def test_without_an_rng_the_scramble_is_fixed_per_question():
    """Matching choices and ordering items are never in the author's order (it is the answer);
    without an rng the scramble depends on the question id, so two questions differ."""
    first = make(type="ordering", items=["A", "B", "C", "D", "E"], id="first")
    second = make(type="ordering", items=["A", "B", "C", "D", "E"], id="second")
    items = [[i["id"] for i in public_view(q)["items"]] for q in (first, second)]
    assert items[0] != items[1]
    assert items[0] == [i["id"] for i in public_view(first)["items"]]
    matching = [make(type="matching", id=f"m{n}", pairs=[
        {"id": f"p{k}", "prompt": f"Prompt {k}", "answer": f"Answer {k}"} for k in range(5)])
        for n in range(2)]
    choices = [public_view(q)["choices"] for q in matching]
    assert choices[0] != choices[1]
    assert [p["id"] for p in public_view(matching[0])["prompts"]] == [f"p{k}" for k in range(5)]


def test_review_view_of_single_choice_lists_every_option_with_its_weight_and_feedback():
    assert correct_answer_view(SINGLE) == {
        "id": "q", "type": "single", "text": "Question?", "general_feedback": "",
        "answer": "a",
        "options": [
            {"id": "a", "text": "Right", "weight": 100, "correct": True, "feedback": "Yes"},
            {"id": "b", "text": "Half", "weight": 50, "correct": False, "feedback": "Partly"},
            {"id": "c", "text": "Bad", "weight": -50, "correct": False, "feedback": "No"}]}


def test_single_choice_options_follow_the_rng():
    orders = {tuple(o["id"] for o in public_view(SINGLE, random.Random(seed))["options"])
              for seed in range(20)}
    assert len(orders) > 1


def test_a_blank_answer_still_gets_the_general_feedback():
    question = replace(SINGLE, general_feedback="Read section 2 again.")
    result = grade(question, None)
    assert (result.answered, result.score, result.general_feedback) == (
        False, 0.0, "Read section 2 again.")


def test_marks_keep_partial_credit_to_six_decimal_places():
    two_marks = replace(SINGLE, marks=2.0)
    assert grade(two_marks, "b").marks == 1.0
    assert grade(SINGLE, "b").marks == 0.5
    third = make(type="multiple", options=[
        {"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B", "correct": True},
        {"id": "c", "text": "C", "correct": True}])
    assert grade(third, ["a"]).marks == 0.333333


def test_pass_mark_is_reached_exactly_and_not_by_rounding_up():
    seven_of_ten = grade_attempt([replace(TF, id=f"q{n}") for n in range(10)],
                                 {f"q{n}": "false" if n < 7 else "true" for n in range(10)})
    assert seven_of_ten.percent == 70.0
    assert seven_of_ten.passed(70) and not seven_of_ten.passed(70.1)
    seven_of_nine = grade_attempt([replace(TF, id=f"q{n}") for n in range(9)],
                                  {f"q{n}": "false" if n < 7 else "true" for n in range(9)})
    assert seven_of_nine.passed(77.7)
    assert not seven_of_nine.passed(77.8)  # 77.78% is shown as 78%, but is below 77.8
    assert not seven_of_nine.passed(78)


def test_negative_marks_count_against_the_attempt_but_the_total_never_goes_below_zero():
    assert grade(SINGLE, "c").score == -0.5  # weight -50: Moodle's single choice goes negative
    assert grade(MULTI, ["a", "x", "y"]).score == 0.0  # multiple response stops at 0
    attempt = grade_attempt([SINGLE, replace(MULTI, id="m")], {"q": "c", "m": ["x"]})
    assert (attempt.total_marks, attempt.percent) == (0.0, 0.0)  # -0.5 + 0, shown as 0
    attempt = grade_attempt([SINGLE, replace(MULTI, id="m")], {"q": "c", "m": ["a", "b", "c"]})
    assert attempt.total_marks == 0.5  # the penalty takes marks off the other question
    attempt = grade_attempt([SINGLE, replace(MULTI, id="m")], {"q": "a", "m": ["x"]})
    assert attempt.total_marks == 1.0


def test_float_noise_near_zero_and_one_is_snapped():
    # 0.1 + 0.2 - 0.3 is 5.5e-17 in floating point, not 0: still "not correct", not "partly".
    noisy = make(type="multiple", options=[
        {"id": "a", "text": "A", "weight": 0.1}, {"id": "b", "text": "B", "weight": 0.2},
        {"id": "c", "text": "C", "weight": 99.7}, {"id": "x", "text": "X", "weight": -0.3}])
    assert grade(noisy, ["a", "b", "x"]).score == 0.0
    # A fraction a hair below 1 (as imports write 100%) is full marks.
    nearly = make(type="numerical", answers=[{"value": 5}, {"value": 6,
                                                             "fraction": 0.9999999999}])
    result = grade(nearly, "6")
    assert (result.score, result.correct) == (1.0, True)


def test_true_false_views_and_ticks():
    assert public_view(TF)["options"] == [{"id": "true", "text": "True"},
                                          {"id": "false", "text": "False"}]
    assert correct_answer_view(TF) | {"text": ""} == {
        "id": "q", "type": "truefalse", "text": "", "general_feedback": "", "answer": False,
        "feedback_true": "said true", "feedback_false": "said false"}
    assert grade(TF, "true").parts == (("true", False),)  # ids match the options above
    assert grade(TF, "false").parts == (("false", True),)


def test_an_unregistered_question_type_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown question type 'essay'"):
        grade(replace(TF, type="essay"), "true")


def test_attempt_totals_keep_fractions_of_marks():
    half = replace(SINGLE, id="half", marks=0.5)
    result = grade_attempt([half, replace(SINGLE, id="one")], {"half": "b", "one": "b"})
    assert (result.total_marks, result.max_marks, result.percent) == (0.75, 1.5, 50.0)
    third = grade_attempt([replace(TF, id=f"q{n}") for n in range(3)], {"q0": "false"})
    assert third.percent == 33.333333


def test_the_snapping_tolerance_is_strictly_a_billionth():
    edge = make(type="numerical", answers=[{"value": 5}, {"value": 6, "fraction": 0.999999999}])
    assert grade(edge, "6").score == 0.999999999 and not grade(edge, "6").correct


def test_maximum_marks_are_rounded_like_marks():
    odd = replace(TF, marks=0.1234567)
    assert grade_attempt([odd], {"q": "false"}).max_marks == 0.123457


def test_descriptions_are_never_drawn_or_shuffled_and_never_graded():
    """A description stays at its place in the file (and is always shown); the questions
    drawn and shuffled fill the other places. grade_attempt leaves it out."""
    note = make(id="note", type="description", text="Read this.", marks=0)
    base = _quiz(Draw(total=4), shuffle=True)
    quiz = replace(base, questions=(note, *base.questions[:5], replace(note, id="half-way"),
                                    *base.questions[5:]))
    for seed in range(10):
        chosen = [q.id for q in select_questions(quiz, random.Random(seed))]
        assert len(chosen) == 6 and chosen[0] == "note" and "half-way" in chosen
        # Same draw and order as the quiz without descriptions, for the same seed.
        assert [c for c in chosen if c not in ("note", "half-way")] == [
            q.id for q in select_questions(base, random.Random(seed))]
    unshuffled = replace(quiz, settings=QuizSettings())
    assert [q.id for q in select_questions(unshuffled, random.Random(1))] == [
        q.id for q in quiz.questions]
    result = grade_attempt([note, base.questions[0]], {"note": "x", base.questions[0].id: True})
    assert (result.total_marks, result.max_marks, result.percent) == (1, 1, 100)
    assert [g.question_id for g in result.grades] == [base.questions[0].id]
