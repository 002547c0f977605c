"""Loading quiz YAML: the example quiz, and exact `file:line: message` output for bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from learning.core.problems import Problem
from learning.quizzes.loader import (
    _Dumper,
    load_quiz_file,
    load_quizzes,
    parse_quiz_text,
    quiz_to_yaml,
)
from learning.quizzes.types import Draw

DATA = Path(__file__).parent / "data" / "quiz-files"
MODULES = {"partnership-working", "roles-and-responsibilities"}


def messages(path: Path) -> list[str]:
    quiz, problems = load_quiz_file(path, MODULES)
    assert quiz is None
    return [str(p) for p in problems]


def label(path: Path) -> str:
    """How the loader names a file in messages: its folder and name."""
    return f"{path.parent.name}/{path.name}"


def parse(text: str, label: str = "quizzes/t.yaml") -> list[str]:
    quiz, problems = parse_quiz_text(text, label)
    return [str(p) for p in problems]


HEADER = "quiz:\n  slug: t\n  title: T\n  modules: [m]\nquestions:\n"


def test_example_quiz_loads_with_every_setting():
    quiz, problems = load_quiz_file(DATA / "partnership-working-check.yaml", MODULES)
    assert problems == [] and quiz is not None
    assert quiz.slug == "partnership-working-check"
    assert quiz.modules == ("partnership-working", "roles-and-responsibilities")
    assert quiz.intro.startswith("Ten minutes. You need **80%** to pass.\n\n")
    s = quiz.settings
    assert (s.pass_mark, s.attempts_allowed, s.delay_minutes, s.time_limit_minutes) == (
        80, None, 30, 20)
    assert s.draw == Draw(per_category=(("roles", 2), ("law", 2), ("practice", 3)))
    assert (s.feedback, s.show_correct_answers, s.layout) == (
        "after_submit", "after_pass_or_last", "one_per_page")
    assert s.shuffle_questions and s.shuffle_options and s.counts_toward_completion
    assert [q.type for q in quiz.questions] == [
        "multiple", "single", "single", "truefalse", "matching", "ordering", "short", "numerical"]
    assert quiz.question("lado").options[2].weight == 25
    assert quiz.question("ofsted-days").marks == 2


def test_bad_questions_are_each_reported_at_their_line():
    path = DATA / "bad-questions.yaml"
    assert messages(path) == [f"{label(path)}:{line}: {message}" for line, message in [
        (11, "question 'q1': option 'b' has weight 150; weights must be between -100 and 100"),
        (15, "question 'q2' has positive weights that add up to 90; they must add up to 100"),
        (17, "question 'q2' has option id 'a' twice"),
        (18, "question #3 has id 'Q3'; ids must use only a-z, 0-9 and single '-' between "
             "words (for example 'q3')"),
        (21, "question 'Q3' has answer 'maybe'; answer must be true or false"),
        (25, "question 'q4' needs at least 2 items, but has 1"),
        (29, "question 'q5' needs at least 2 pairs, but has 1"),
        (31, "question 'q5' has distractor '1', which is also the answer to a prompt"),
        (36, "question 'q6': answer 1 has min 5 greater than max 1"),
        (37, "question 'q6': answer 2 has tolerance -1; a tolerance cannot be negative"),
        (41, "question 'q7' has unknown key 'catgory'; did you mean 'category'?"),
        (42, "question 'q7' needs at least one answer with fraction 1 (full marks)"),
        (44, "question 'q1' has the same id as the question at line 6; ids must be unique "
             "within a quiz"),
        (45, "question 'q1' has unknown type 'essay'; use one of: single, multiple, truefalse, "
             "matching, ordering, short, numerical, description"),
        (49, "question 'q9' has an empty 'text'"),
        (51, "question 'q9' has key 'options', which type 'truefalse' does not use"),
    ]]


def test_bad_settings_and_draw_are_reported_at_their_line():
    path = DATA / "bad-settings.yaml"
    assert messages(path) == [f"{label(path)}:{line}: {message}" for line, message in [
        (4, "quiz has module 'partnership-workin', which does not exist; "
            "did you mean 'partnership-working'?"),
        (6, "settings has pass_mark 150; pass_mark must be between 0 and 100"),
        (7, "settings has attempts_allowed 0; attempts_allowed must be a whole number of at "
            "least 1 or 'unlimited'"),
        (8, "settings has delay_minutes -5; delay_minutes must be a whole number of at least 0"),
        (9, "settings has feedback 'later'; feedback must be one of: immediate, after_submit, "
            "after_pass_or_last"),
        (10, "settings has show_correct_answers 'sometimes'; show_correct_answers must be one "
             "of: immediate, after_submit, after_pass_or_last, never"),
        (12, "settings has shuffle_questions 'yes'; shuffle_questions must be true or false"),
        (13, "settings: draw per_category asks for 3 questions from 'roles', but only 2 "
             "questions have that category"),
        (13, "settings: draw per_category has 'law', but no question has category 'law'"),
        (14, "settings has unknown key 'time_limt_minutes'; did you mean 'time_limit_minutes'?"),
        (26, "warning: question 'q3' has no category, which the draw does not use, so it is "
             "never asked"),
    ]]


def test_bad_header_and_duplicate_keys():
    path = DATA / "bad-header.yaml"
    assert messages(path) == [f"{label(path)}:{line}: {message}" for line, message in [
        (1, "quiz is missing required key 'title'"),
        (2, "quiz has slug 'Bad Header'; slugs must use only a-z, 0-9 and single '-' between "
            "words"),
        (3, "quiz has unknown key 'titel'; did you mean 'title'?"),
        (4, "warning: quiz has no modules, so no module will show it"),
        (5, "key 'slug' appears twice here (first at line 2); remove one"),
        (6, "the file has unknown key 'extra'"),
    ]]


def test_yaml_syntax_error_gives_its_line():
    path = DATA / "bad-syntax.yaml"
    assert messages(path) == [
        f"{label(path)}:7: invalid YAML: while parsing a block collection, expected <block end>, "
        "but found '<block mapping start>' (check the indentation of this line and the one above)"
    ]


def test_colon_in_unquoted_text_gets_a_hint():
    text = HEADER + "  - id: q1\n    type: truefalse\n    text: Note: this breaks\n"
    assert parse(text) == [
        "quizzes/t.yaml:8: invalid YAML: mapping values are not allowed here "
        "(text containing ': ' must be in quotes)"
    ]


@pytest.mark.parametrize("text, expected", [
    ("", ["quizzes/t.yaml:1: the file is empty; it needs the keys 'quiz' and 'questions'"]),
    ("quiz:\n  title: \x07\n", ["quizzes/t.yaml:2: invalid YAML: unacceptable character "
                                "#x0007: special characters are not allowed"]),
    ("- a\n- b\n", ["quizzes/t.yaml:1: the file must be a mapping with the keys 'quiz' and "
                    "'questions'"]),
    (HEADER + "  []\n", ["quizzes/t.yaml:5: questions is empty; a quiz needs at least one "
                         "question"]),
    (HEADER.replace("questions:\n", ""), ["quizzes/t.yaml:1: the file is missing required "
                                          "key 'questions'"]),
])
def test_whole_file_problems(text, expected):
    assert parse(text) == expected


def test_an_alias_in_a_quiz_file_is_refused_at_its_line():
    text = HEADER + "  - &q {id: a, type: truefalse, text: T, answer: true}\n  - *q\n"
    assert parse(text) == ["quizzes/t.yaml:6: invalid YAML: the anchor &q is not allowed (YAML "
                           "anchors and aliases are refused): write the value out in full"]


def test_quiz_yaml_we_write_has_no_aliases():
    """The same list twice is written out twice: the reader would refuse an alias."""
    shared = ["a", "b"]
    assert "&" not in yaml.dump({"x": shared, "y": shared}, Dumper=_Dumper)


def test_single_choice_needs_a_full_credit_option_and_may_have_two():
    text = HEADER + """\
  - id: q1
    type: single
    text: Pick.
    options:
      - {text: A, weight: 50}
      - {text: B}
      - {text: C, correct: true, weight: 50}
"""
    assert parse(text) == [
        "quizzes/t.yaml:9: question 'q1' needs an option with full credit (correct: true), "
        "but none has",
        "quizzes/t.yaml:12: question 'q1': option 3 has both 'correct' and 'weight'; "
        "use one or the other",
    ]
    two = HEADER + """\
  - id: q1
    type: single
    text: Pick.
    options:
      - {text: A, correct: true}
      - {text: B, correct: true}
      - {text: C}
"""
    assert parse(two) == []  # Moodle allows two 100% answers in a single choice


def test_multiple_cannot_mix_correct_flags_and_weights():
    text = HEADER + """\
  - id: q1
    type: multiple
    text: Pick.
    options:
      - {id: a, text: A, weight: 100}
      - {id: b, text: B, correct: true}
"""
    assert parse(text) == [
        "quizzes/t.yaml:11: question 'q1': option 'b' uses 'correct', but other options have "
        "weights; give every option a 'weight' instead",
    ]


def test_multiple_needs_a_correct_option():
    text = HEADER + ("  - id: q1\n    type: multiple\n    text: P.\n"
                     "    options: [{text: A}, {text: a}]\n")
    assert parse(text) == [
        "quizzes/t.yaml:9: question 'q1' needs at least one correct option (correct: true)",
        "quizzes/t.yaml:9: warning: question 'q1' has options 'a' and 'b' with the same text",
    ]


def test_yaml_booleans_and_numbers_in_text_fields_stay_as_typed():
    text = HEADER + """\
  - id: q1
    type: short
    text: yes
    answers: [no, 3.10, {text: on, feedback: 1e3}]
"""
    quiz, problems = parse_quiz_text(text, "quizzes/t.yaml")
    assert problems == [] and quiz is not None
    question = quiz.questions[0]
    assert question.text == "yes"
    assert [a.text for a in question.text_answers] == ["no", "3.10", "on"]
    assert question.text_answers[2].feedback == "1e3"


def test_option_ids_are_derived_when_missing():
    text = HEADER + """\
  - id: q1
    type: single
    text: Pick.
    options: [{text: A, correct: true}, {id: a, text: B}, {text: C}]
  - id: q2
    type: ordering
    text: Order.
    items: [Call the police!, {id: x, text: Record}, Call the police again]
"""
    quiz, problems = parse_quiz_text(text, "quizzes/t.yaml")
    assert problems == [] and quiz is not None
    # Derived by position; a letter already taken gets a suffix.
    assert [o.id for o in quiz.questions[0].options] == ["a-2", "a", "c"]
    assert [i.id for i in quiz.questions[1].items] == ["call-the-police", "x",
                                                       "call-the-police-again"]


def test_draw_total_cannot_exceed_the_pool():
    text = ("quiz:\n  slug: t\n  title: T\n  modules: [m]\n  settings:\n    draw: {total: 3}\n"
            "questions:\n  - {id: q1, type: truefalse, text: A, answer: true}\n")
    assert parse(text) == [
        "quizzes/t.yaml:6: settings: draw has total 3, but the quiz has only 1 questions",
    ]


def test_slug_differing_from_file_name_is_a_warning():
    quiz, problems = parse_quiz_text(HEADER + "  - {id: q1, type: truefalse, text: A, "
                                              "answer: true}\n", "quizzes/other.yaml")
    assert quiz is not None
    assert [str(p) for p in problems] == [
        "quizzes/other.yaml:2: warning: quiz has slug 't' but the file is called "
        "'other.yaml'; keep them the same"
    ]


def test_known_modules_are_only_checked_when_given():
    text = HEADER + "  - {id: q1, type: truefalse, text: A, answer: true}\n"
    assert parse_quiz_text(text, "t.yaml")[0] is not None
    quiz, problems = parse_quiz_text(text, "t.yaml", known_modules={"other"})
    assert quiz is None
    assert [str(p) for p in problems] == ["t.yaml:4: quiz has module 'm', which does not exist"]


def test_load_quizzes_leaves_out_bad_files_and_duplicate_slugs(tmp_path):
    shutil.copy(DATA / "partnership-working-check.yaml", tmp_path / "a-first.yaml")
    shutil.copy(DATA / "partnership-working-check.yaml", tmp_path / "b-copy.yml")
    shutil.copy(DATA / "bad-syntax.yaml", tmp_path / "bad-syntax.yaml")
    (tmp_path / "notes.txt").write_text("not a quiz")
    quizzes, problems = load_quizzes(tmp_path, MODULES)
    assert list(quizzes) == ["partnership-working-check"]
    assert quizzes["partnership-working-check"].path == f"{tmp_path.name}/a-first.yaml"
    errors = [str(p) for p in problems if p.level == "error"]
    assert errors == [
        f"{tmp_path.name}/b-copy.yml:3: quiz has slug 'partnership-working-check', which "
        f"{tmp_path.name}/a-first.yaml already uses; each quiz needs its own slug",
        f"{tmp_path.name}/bad-syntax.yaml:7: invalid YAML: while parsing a block collection, "
        "expected <block end>, but found '<block mapping start>' (check the indentation of "
        "this line and the one above)",
    ]


def test_load_quizzes_never_raises(tmp_path):
    assert load_quizzes(tmp_path / "missing") == (
        {}, [Problem(str(tmp_path / "missing"), 0, "quiz folder not found")])
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "tab.yaml").write_text("quiz:\n\tslug: x\n")
    (tmp_path / "alias.yaml").write_text("quiz: &a\n  self: *a\n")
    quizzes, problems = load_quizzes(tmp_path)
    assert quizzes == {}
    first = {}
    for problem in problems:
        first.setdefault(Path(problem.path).name, str(problem).split(": ", 1)[1])
    assert first == {
        "alias.yaml": "invalid YAML: the anchor &a is not allowed (YAML anchors and aliases "
                      "are refused): write the value out in full",
        "binary.yaml": "cannot read the file: 'utf-8' codec can't decode byte 0xff in "
                       "position 0: invalid start byte",
        "tab.yaml": "invalid YAML: while scanning for the next token, found character '\\t' "
                    "that cannot start any token (indent with spaces, not tabs)",
    }
    assert str(problems[-1]).startswith(f"{tmp_path.name}/tab.yaml:2: ")


def test_quiz_to_yaml_reads_back_equal():
    quiz, _ = load_quiz_file(DATA / "partnership-working-check.yaml")
    assert quiz is not None
    again, problems = parse_quiz_text(quiz_to_yaml(quiz, comment="Made by a test"), quiz.path)
    assert problems == []
    assert again == quiz and again.version == quiz.version


def test_a_description_loads_with_no_marks_and_is_left_out_of_draws():
    text = ("quiz:\n  slug: t\n  title: T\n  modules: [m]\n  settings:\n"
            "    draw: {per_category: {law: 1}}\nquestions:\n"
            "  - {id: intro, type: description, text: Read **this** first.}\n"
            "  - {id: q1, type: truefalse, category: law, text: A, answer: true}\n")
    quiz, problems = parse_quiz_text(text, "quizzes/t.yaml")
    assert problems == []  # the description has no category, yet no "never asked" warning
    assert quiz is not None
    assert [(q.type, q.marks) for q in quiz.questions] == [("description", 0), ("truefalse", 1)]
    assert quiz.graded_questions == quiz.questions[1:]
    again, problems = parse_quiz_text(quiz_to_yaml(quiz), "quizzes/t.yaml")
    assert problems == [] and again == quiz
    assert "marks" not in quiz_to_yaml(quiz)
    total = text.replace("{per_category: {law: 1}}", "{total: 2}")
    assert parse(total) == [
        "quizzes/t.yaml:6: settings: draw has total 2, but the quiz has only 1 questions",
    ]


def test_a_description_has_no_marks_answers_or_feedback_and_a_quiz_needs_a_question():
    assert parse(HEADER + "  - {id: d, type: description, text: A, marks: 2}\n"
                 "  - {id: e, type: description, text: B, general_feedback: C}\n"
                 "  - {id: f, type: description, text: C, options: [x, y]}\n"
                 "  - {id: q1, type: truefalse, text: A, answer: true}\n") == [
        "quizzes/t.yaml:6: question 'd' has marks, but a description is not answered and has "
        "no marks; remove 'marks'",
        "quizzes/t.yaml:7: question 'e' has general_feedback, but a description has no answer "
        "to give feedback on; put the text in 'text'",
        "quizzes/t.yaml:8: question 'f' has key 'options', which type 'description' does not "
        "use",
    ]
    assert parse(HEADER + "  - {id: d, type: description, text: A}\n") == [
        "quizzes/t.yaml:5: questions has only descriptions; a quiz needs at least one "
        "question to answer",
    ]
