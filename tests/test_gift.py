"""Moodle GIFT import and export: every type, escapes, categories, bad input and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning.core.rendering import render_inline, render_text
from learning.quizzes.gift.convert import gift_to_quiz_yaml, parse_gift, quiz_to_gift
from learning.quizzes.grading import grade
from learning.quizzes.loader import load_quiz_file, parse_quiz_text
from learning.quizzes.types import NumericAnswer, Option, Question, Quiz

DATA = Path(__file__).parent / "data"
VARIED = DATA / "gift" / "varied.gift"
MALFORMED = DATA / "gift" / "malformed.gift"


def load(path: Path) -> tuple[dict[str, Question], list[str]]:
    questions, problems = parse_gift(path.read_text(encoding="utf-8"), str(path))
    return {q.id: q for q in questions}, [str(p) for p in problems]


def parse_text(text: str) -> tuple[list[Question], list[str]]:
    questions, problems = parse_gift(text, "t.gift")
    return questions, [str(p) for p in problems]


@pytest.fixture(scope="module")
def varied() -> dict[str, Question]:
    questions, problems = load(VARIED)
    assert problems == []
    return questions


def test_ids_come_from_titles_moodle_ids_or_position(varied):
    assert list(varied) == [
        "safeguarding-partners", "lado", "coordinator", "s47", "paramountcy", "not-a-crime",
        "sections", "emergency", "wildcard", "ofsted-days", "pi", "range", "weighted",
        "escapes", "q15", "html", "lado-2", "custom-id", "steps",
    ]


def test_categories_follow_category_lines(varied):
    categories = {q.id: q.category for q in varied.values()}
    assert categories["safeguarding-partners"] == "roles-and-duties"
    assert categories["coordinator"] == "roles-and-duties"
    assert categories["sections"] == "law"
    assert categories["steps"] == "practice"


def test_multiple_response_with_weights_and_general_feedback(varied):
    q = varied["safeguarding-partners"]
    assert q.type == "multiple"
    assert q.text == "Which are the three statutory safeguarding partners?"
    assert [(o.id, o.weight, o.feedback) for o in q.options] == [
        ("a", 33.33333, "Yes."), ("b", 33.33333, ""), ("c", 33.33333, ""),
        ("d", -100, "Ofsted inspects; it is not a partner."),
    ]
    assert q.general_feedback == "Working Together 2023 names them."


def test_single_choice_with_partial_credit(varied):
    q = varied["lado"]
    assert q.type == "single"
    assert [(o.text, o.weight, o.feedback) for o in q.options] == [
        ("The LADO", 100, "Right."), ("The child's parents", 0, "Not first."),
        ("Only your manager", 25, "Partly."),
    ]


def test_missing_word_puts_a_gap_where_the_answers_were(varied):
    q = varied["coordinator"]
    assert q.text == "The ___ makes sure agencies talk."
    assert q.gap() == ("The ", " makes sure agencies talk.")


def test_true_false_feedback_goes_to_the_right_answer(varied):
    q = varied["s47"]
    assert (q.type, q.answer) == ("truefalse", True)
    assert q.text == "Section 47 of the Children Act 1989 is about **significant harm**."
    # {T#wrong#right}: "wrong" is what someone answering False sees.
    assert (q.feedback_true, q.feedback_false) == ("Yes.", "No, it is.")
    assert q.general_feedback == "Section 17 is about children in need."
    assert varied["paramountcy"].answer is True
    crime = varied["not-a-crime"]
    assert (crime.answer, crime.feedback_true, crime.feedback_false) == (
        False, "It is not a crime.", "")
    assert varied["custom-id"].answer is False


def test_matching_with_distractor(varied):
    q = varied["sections"]
    assert [(p.id, p.prompt, p.answer) for p in q.pairs] == [
        ("a", "Section 17", "Children in need"),
        ("b", "Section 47", "Enquiries into significant harm"),
        ("c", "Section 11 (2004)", "Duty to safeguard"),
    ]
    assert q.distractors == ("Adoption orders",)


def test_short_answers_with_partial_credit_and_wildcard(varied):
    q = varied["emergency"]
    assert [(a.text, a.fraction, a.feedback) for a in q.text_answers] == [
        ("999", 1, "Yes."), ("112", 1, ""), ("police", 0.5, "Ring 999 for the police."),
    ]
    wildcard = varied["wildcard"]
    assert [a.text for a in wildcard.text_answers][-1] == "early years*"
    assert wildcard.general_feedback == "The EYFS."


def test_numerical_forms(varied):
    assert varied["ofsted-days"].numeric_answers == (NumericAnswer(value=14),)
    assert varied["pi"].numeric_answers == (NumericAnswer(value=3.1415, tolerance=0.0005),)
    assert varied["range"].numeric_answers == (NumericAnswer(min=1, max=5),)
    assert varied["weighted"].numeric_answers == (
        NumericAnswer(value=3.14, tolerance=0.01, feedback="Good."),
        NumericAnswer(value=3.1, tolerance=0.1, fraction=0.5, feedback="Close."),
    )


def test_escapes(varied):
    q = varied["escapes"]
    # Unmarked text is Moodle's default format ([moodle]), kept as written: shown with its
    # line breaks.
    assert q.text_format == "moodle"
    assert q.text == ("A tilde ~, equals =, hash #, braces { }, colon : and backslash \\ "
                      "need escaping.\nSecond line.")
    assert str(render_text(q.text, q.text_format)) == (
        '<div class="text_to_html">A tilde ~, equals =, hash #, braces { }, colon : and '
        "backslash \\ need escaping.<br>\nSecond line.</div>")
    assert (q.options[0].text, q.options[0].feedback) == (
        "Yes: with a backslash", "Right, {really}.")


def test_untitled_multi_line_question(varied):
    q = varied["q15"]
    assert (q.text, q.text_format) == ("Who does not need\na title, and spans\nthree lines?",
                                       "moodle")
    assert str(render_text(q.text, q.text_format)) == (
        '<div class="text_to_html">Who does not need<br>\na title, and spans<br>\n'
        "three lines?</div>")


def test_html_is_kept_as_html_and_shown_sanitised(varied):
    q = varied["html"]
    assert q.text_format == "html" and q.text.startswith("<p>Who is the <b>DSL</b>?</p>")


def test_ordering_comes_back_from_its_matching_form(varied):
    q = varied["steps"]
    assert q.type == "ordering"
    assert [(i.id, i.text) for i in q.items] == [
        ("listen", "Listen"), ("record", "Record"), ("report", "Report")]


def test_malformed_questions_are_reported_at_their_first_line_and_the_rest_imports():
    questions, problems = load(MALFORMED)
    assert list(questions) == ["good-one", "description", "two-right", "junk", "last-good"]
    assert questions["junk"].type == "short"  # `{just text}` is a short answer, as in Moodle
    assert questions["description"].type == "description"  # text with no {...}, as Moodle
    assert problems == [f"{MALFORMED}:{line}: {message}" for line, message in [
        (4, "warning: question 'Essay' is an essay question ({}); essays are not supported, "
            "so it is not imported"),
        (8, "question 'Unclosed' has a '{' that is never closed (write '\\{' for a brace "
            "in text)"),
        (10, "question 'Bad weight' has a weight in '%abc%a' that is not like %50% or %-25%"),
        (12, "question 'Bad numeric' has numerical answer 'lots'; write a number, "
             "number:tolerance or min..max"),
        (14, "question 'No arrow' has matching pair 'c' without '->'"),
        (18, "question 'bad-sum' has positive weights that add up to 90; they must add up "
             "to 100"),
    ]]


def test_comments_crlf_and_urls():
    text = ("// heading\r\n::a::See http://example.org // not a comment{T}\r\n\r\n"
            "::b::Pick.{\r\n=Yes\r\n// a comment between answers\r\n~No\r\n}\r\n")
    questions, problems = parse_text(text)
    assert problems == []
    assert questions[0].text == "See http://example.org // not a comment"
    assert [o.text for o in questions[1].options] == ["Yes", "No"]


def test_other_answer_feedback_imports_and_dropped_html_is_named():
    text = ("::n::How many?{#=5 ~#Any other number is wrong}\n\n"
            "::img::[html]<p>Look <img src='x.png'> <a href='https://gov.uk'>here</a>"
            "<table><tr><td>1</td></tr></table></p>{T}\n")
    questions, problems = parse_text(text)
    assert [q.id for q in questions] == ["n", "img"]
    assert questions[0].numeric_answers[-1] == NumericAnswer(
        any=True, fraction=0, feedback="Any other number is wrong")
    assert str(render_text(questions[1].text, questions[1].text_format)) == (
        '<p>Look  <a href="https://gov.uk">here</a></p><table><tbody><tr><td>1</td></tr>'
        '</tbody></table><p></p>')
    assert problems == [
        "t.gift:3: warning: question 'img' has HTML that will not be shown: an image "
        "('x.png'); check the wording",
    ]


def test_round_trip_import_export_import_keeps_everything(varied):
    quiz = Quiz(slug="varied", title="Varied", questions=tuple(varied.values()))
    exported = quiz_to_gift(quiz)
    again, problems = parse_text(exported)
    assert problems == []
    assert again == list(varied.values())
    # And the export of the re-import is the same text, apart from the version line.
    second = quiz_to_gift(Quiz(slug="varied", title="Varied", questions=tuple(again)))
    assert second == exported


def test_round_trip_from_yaml_keeps_ids_marks_and_ordering():
    quiz, _ = load_quiz_file(DATA / "quiz-files" / "partnership-working-check.yaml")
    assert quiz is not None
    exported = quiz_to_gift(quiz)
    assert "// joinedup:ordering" in exported and "// joinedup:marks 2" in exported
    again, problems = parse_text(exported)
    assert problems == []

    def rounded(question: Question) -> dict:
        snapshot = question.to_snapshot()
        for option in snapshot.get("options", []):
            option["weight"] = round(option["weight"], 4)  # GIFT keeps 5 decimal places
        return snapshot

    assert [rounded(q) for q in again] == [rounded(q) for q in quiz.questions]


@pytest.mark.parametrize("tricky", [
    "a~b=c#d{e}f:g\\h", "50% sure", "%50% sure", "line one\nline two", "ends with \\",
    "// not a comment", "-> arrow", "####", "::not a title::", "$CATEGORY: nope", "[html]<b>",
])
def test_export_escapes_any_text(tricky):
    question = Question(
        id="q1", type="single", text=f"Text: {tricky}", general_feedback=tricky,
        options=(Option(id="a", text=tricky, weight=100, feedback=tricky),
                 Option(id="b", text="other")),
    )
    again, problems = parse_text(quiz_to_gift(Quiz(slug="t", title="T", questions=(question,))))
    assert problems == [] and again == [question]


def test_gift_to_quiz_yaml_gives_a_loadable_quiz(varied):
    text, problems = gift_to_quiz_yaml(VARIED.read_text(), "imported", "Imported", str(VARIED))
    assert problems == []
    assert text.startswith(f"# Imported from {VARIED}.\n")
    quiz, found = parse_quiz_text(text, "quizzes/imported.yaml")
    assert quiz is not None
    assert [str(p) for p in found] == [
        "quizzes/imported.yaml:6: warning: quiz has no modules, so no module will show it"]
    assert list(quiz.questions) == list(varied.values())
    assert (quiz.slug, quiz.title, quiz.settings.pass_mark) == ("imported", "Imported", 80)


def test_gift_to_quiz_yaml_reports_problems():
    text, problems = gift_to_quiz_yaml("::e::Write.{}\n", "Bad Slug", "Bad", "e.gift")
    assert [str(p) for p in problems] == [
        "e.gift:1: warning: question 'e' is an essay question ({}); essays are not "
        "supported, so it is not imported",
        "e.gift:0: quiz slug 'Bad Slug' must use only a-z, 0-9 and single '-' between words",
        "e.gift:0: no questions could be imported",
    ]
    assert "questions: []" in text


def test_plain_marker_keeps_text_as_written():
    questions, problems = parse_text("::p::[plain]Plain *text* & <b>tags</b>\\n1. not a "
                                     "list{T}\n")
    assert problems == []
    # Moodle shows [plain] text exactly as typed, line breaks kept: so do we.
    assert (questions[0].text, questions[0].text_format) == (
        "Plain *text* & <b>tags</b>\n1. not a list", "plain")
    assert str(render_text(questions[0].text, "plain")) == (
        "<p>Plain *text* &amp; &lt;b&gt;tags&lt;/b&gt;<br>\n1. not a list</p>")


def test_moodle_style_export_with_html_answers_and_category_comments():
    text = (
        "// question: 0  name: Switch category to $course$/top/Default for SG/Partnership\n"
        "$CATEGORY: $course$/top/Default for SG/Partnership\n"
        "\n"
        "\n"
        "// question: 101  name: Who leads\n"
        "::Who leads::[html]<p>Who leads a section&nbsp;47 enquiry?</p>{\n"
        "\t=<p>Children's social care</p>\n"
        "\t~<p>The school</p>#<p>No, the <em>local authority</em>.</p>\n"
        "}\n"
    )
    questions, problems = parse_text(text)
    assert problems == []
    (question,) = questions
    assert (question.id, question.category) == ("who-leads", "partnership")
    assert question.text == "<p>Who leads a section&nbsp;47 enquiry?</p>"
    assert [(o.text, o.feedback) for o in question.options] == [
        ("<p>Children's social care</p>", ""),
        ("<p>The school</p>", "<p>No, the <em>local authority</em>.</p>"),
    ]
    # Kept as HTML, shown as HTML: a label inline (no paragraph inside a <label>).
    assert str(render_inline(question.options[0].text, "html")) == "Children's social care"
    assert str(render_text(question.options[1].feedback, "html")) == (
        "<p>No, the <em>local authority</em>.</p>")
    # And written back with the [html] marker, which its answers and feedback inherit.
    exported = quiz_to_gift(Quiz(slug="w", title="W", questions=tuple(questions)))
    assert "::Who leads::[html]<p>Who leads a section&nbsp;47 enquiry?</p> {\n" in exported
    assert "~<p>The school</p>#<p>No, the <em>local authority</em>.</p>\n" in exported
    assert parse_text(exported) == (questions, [])


MOODLE_RULES = DATA / "gift" / "moodle-rules.gift"


@pytest.fixture(scope="module")
def moodle_rules() -> dict[str, Question]:
    questions, problems = load(MOODLE_RULES)
    assert problems == [  # one format per question: the others are converted to it
        f"{MOODLE_RULES}:23: warning: question 'formats-per-field' has [plain] and [markdown] "
        "text in a [html] question; it was converted to [html] (we keep one format per "
        "question)"]
    return questions


def test_escapes_are_restored_before_html_so_links_keep_their_url(moodle_rules):
    q = moodle_rules["link"]
    assert str(render_text(q.text, q.text_format)).endswith(
        'Read <a href="https://www.gov.uk/guidance">the guidance</a>.</p>')


def test_numerical_feedback_for_any_other_answer_is_a_zero_star_answer(moodle_rules):
    q = moodle_rules["year-range"]
    assert q.numeric_answers == (
        NumericAnswer(value=1884, tolerance=2),
        NumericAnswer(any=True, fraction=0, feedback="Completely wrong"))
    assert grade(q, "1800").feedback == ("Completely wrong",)


def test_true_false_feedback_may_follow_a_space(moodle_rules):
    q = moodle_rules["feedback-after-a-space"]
    assert (q.type, q.answer, q.feedback_true) == ("truefalse", False,
                                                   "Only the police or a court can.")


def test_single_choice_may_have_two_full_credit_answers(moodle_rules):
    q = moodle_rules["two-right"]
    assert q.type == "single" and [o.weight for o in q.options] == [100, 100, 0]
    assert grade(q, "b").score == 1.0


def test_answers_without_equals_and_lower_case_true_are_short_answers(moodle_rules):
    police, lower = moodle_rules["no-equals"], moodle_rules["lower-case"]
    assert (police.type, [a.text for a in police.text_answers]) == ("short", ["Police"])
    assert (lower.type, [a.text for a in lower.text_answers]) == ("short", ["true"])
    # Imported short answers compare as Moodle does: no forgiveness for curly quotes.
    assert not police.lenient and grade(police, " POLICE ").score == 1.0


def test_weights_that_moodle_accepts_after_rounding_import(moodle_rules):
    q = moodle_rules["thirds"]
    assert q.type == "multiple" and grade(q, ["a", "b", "c"]).score == 1.0


def test_a_negative_weight_imports_and_scores_negative(moodle_rules):
    assert grade(moodle_rules["negative"], "b").score == -0.5


def test_a_stray_closing_brace_after_a_blank_line_is_an_error():
    text = "::Split::Pick one.{\n=Yes\n~No\n\n}\n\n::Fine::Still here?{T}\n"
    questions, problems = parse_text(text)
    assert [q.id for q in questions] == ["fine"]
    assert problems == [
        "t.gift:1: question 'Split' has a '{' that is never closed (write '\\{' for a brace "
        "in text)",
        "t.gift:5: question has a '}' with no '{' before it; a blank line inside an answer "
        "block ends the question there (write '\\}' for a brace in text)",
    ]


def test_moodle_rules_file_round_trips(moodle_rules):
    quiz = Quiz(slug="rules", title="Rules", questions=tuple(moodle_rules.values()))
    again, problems = parse_text(quiz_to_gift(quiz))
    assert problems == [] and again == list(moodle_rules.values())


def test_names_and_full_category_paths_are_kept_and_written_back(varied):
    partners, lado_again = varied["safeguarding-partners"], varied["lado-2"]
    assert (partners.name, partners.category, partners.category_path) == (
        "Safeguarding partners", "roles-and-duties", "$course$/top/Roles and duties")
    # Untitled: named after its text, as Moodle's create_default_question_name does.
    assert (lado_again.name, varied["q15"].name) == (
        "LADO", "Who does not need\na title, and spans\nthree lines?")
    exported = quiz_to_gift(Quiz(slug="v", title="V", questions=tuple(varied.values())))
    assert "$CATEGORY: $course$/top/Roles and duties\n" in exported
    assert "::Safeguarding partners::" in exported
    assert "// joinedup:id lado-2\n::LADO::" in exported  # the title alone would give 'lado'
    again, problems = parse_text(exported)
    assert problems == [] and again == list(varied.values())
    assert quiz_to_gift(Quiz(slug="v", title="V", questions=tuple(again))) == exported


def test_moodle_tags_are_reported_as_left_out():
    questions, problems = parse_text("// [tag:law] [tag:year 1]\n::Tagged::Is it?{T}\n")
    assert [q.id for q in questions] == ["tagged"]
    assert problems == ["t.gift:2: warning: question 'tagged' has Moodle tags (law, year 1), "
                        "which are not imported"]


def test_a_catch_all_short_answer_comes_last_because_the_first_match_wins(moodle_rules):
    q = moodle_rules["catch-all"]
    assert grade(q, "social care").score == 0.5
    assert grade(q, "the police").feedback == (
        "No: the local authority's children's social care leads.",)


def test_each_field_may_carry_its_own_format_marker(moodle_rules):
    q = moodle_rules["formats-per-field"]
    # We keep one format per question: the [plain] and [markdown] prompts became [html]
    # (with a warning, see the fixture), so they show as Moodle shows them.
    assert (q.text, q.text_format) == ("Match each <b>agency</b> to its role.", "html")
    assert [p.prompt for p in q.pairs] == [
        "<i>Police</i>", "Health visitor", "<p><strong>Ofsted</strong></p>"]
    assert [str(render_inline(p.prompt, "html")) for p in q.pairs] == [
        "<i>Police</i>", "Health visitor", "<strong>Ofsted</strong>"]


def test_unmarked_text_is_moodle_auto_format_shown_as_written(moodle_rules):
    """Moodle's default format for GIFT text is [moodle]: no Markdown, line breaks kept,
    and (as Moodle trims the text) no break where the title's line ends."""
    q = moodle_rules["auto-format"]
    assert str(render_text(q.text, q.text_format)) == (
        '<div class="text_to_html">Unmarked text is Moodle\'s auto-format: *stars* stay '
        "stars,<br>\nand line breaks stay.</div>")


def test_a_description_imports_as_an_information_item_and_exports_as_one():
    """Text with no {...} is Moodle's description: kept (in its format, like any question
    text), 0 marks, in its place; exported as a title and text with no braces."""
    text = ("::Intro::[html]<p>Read <b>this</b> first.</p>\n\n"
            "::Q1::Is the LADO told?{T}\n\n"
            "Untitled \\{note\\}\nover two lines\n\n"
            "$CATEGORY: $course$/top/Law\n\n"
            "// [id:law-note]\n::Law::[markdown]The *law* section.\n")
    questions, problems = parse_text(text)
    assert problems == []
    assert [(q.id, q.type, q.text, q.text_format, q.marks) for q in questions] == [
        ("intro", "description", "<p>Read <b>this</b> first.</p>", "html", 0),
        ("q1", "truefalse", "Is the LADO told?", "moodle", 1),
        ("q3", "description", "Untitled {note}\nover two lines", "moodle", 0),
        ("law-note", "description", "The *law* section.", "markdown", 0),
    ]
    assert (questions[3].name, questions[3].category) == ("Law", "law")
    quiz = Quiz(slug="notes", title="Notes", questions=tuple(questions))
    exported = quiz_to_gift(quiz)
    assert "::Intro::[html]<p>Read <b>this</b> first.</p>\n" in exported
    assert ("// joinedup:id q3\n::Untitled \\{note\\}\\nover two lines::[moodle]Untitled "
            "\\{note\\}\\nover two lines\n") in exported  # Moodle's default name
    again, problems = parse_text(exported)
    assert problems == [] and again == questions
    assert quiz_to_gift(Quiz(slug="notes", title="Notes", questions=tuple(again))) == exported


def test_a_file_of_descriptions_only_is_refused():
    quiz_yaml, problems = gift_to_quiz_yaml("Just text.\n\n::T::More text.\n", "notes", "Notes",
                                            "n.gift")
    assert [str(p) for p in problems] == [
        "n.gift:0: the file has only descriptions; a quiz needs at least one question to answer"]


def test_formatting_lost_from_html_is_named_too():
    """x<sup>2</sup> becomes x2 and a styled span loses its italics: the import used to drop
    these without a word. Now they are named with the line, like images and tables."""
    text = ('::f::[html]Is x<sup>2</sup> <span style\\="font-style\\: italic;">always</span> '
            '<u>positive</u>?<script>alert(1)</script>{T}\n')
    questions, problems = parse_text(text)
    assert str(render_text(questions[0].text, "html")) == (
        "Is x<sup>2</sup> always positive?alert(1)")  # the script's text is inert
    assert problems == [
        "t.gift:1: warning: question 'f' has HTML that will not be shown: styling (style=...), "
        "<u>, a <script> block; check the wording",
    ]


def test_untitled_questions_are_named_as_moodle_names_them():
    """qformat_default::create_default_question_name: shorten_text(text, 80) (tags not
    counted, cut after the last space so that text and "..." make 80), then tags stripped."""
    long = ("[html]<p>Which <b>statutory</b> guidance sets out what the three safeguarding "
            "partners must do together in every local area?</p>{=Working Together ~KCSIE}")
    questions, problems = parse_text(
        f"{long}\n\n[html]<p>Short &amp; <i>sweet</i></p>{{T}}\n\n"
        "A missing {=word} here.\n\n" + "x" * 90 + "{T}")
    assert problems == []
    assert [q.name for q in questions] == [
        "Which statutory guidance sets out what the three safeguarding partners must ...",
        "Short & sweet", "A missing _____ here.", "x" * 77 + "..."]
    assert [q.id for q in questions] == ["q1", "q2", "q3", "q4"]  # ids as before
    exported = quiz_to_gift(Quiz(slug="n", title="N", questions=tuple(questions)))
    assert "::Short & sweet::" in exported
    again, problems = parse_text(exported)
    assert problems == [] and again == questions
