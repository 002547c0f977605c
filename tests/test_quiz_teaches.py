"""`teaches:` on quiz questions: checked against the modules' headings (file:line when wrong),
and a missed question's review links to the section that teaches it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from learning.quizzes.loader import parse_quiz_text, quiz_to_yaml
from tests.conftest import csrf_from, post_form

SECTIONS = {"basics": {"what-it-means": "What it means", "your-part": "Your part"},
            "roles": {"the-police": "The police"}}

QUIZ = textwrap.dedent("""\
    quiz:
      slug: t
      title: T
      modules: [{modules}]
    questions:
      - id: one
        type: truefalse
        {teaches}
        text: Sharing helps.
        answer: true
      - id: two
        type: truefalse
        teaches: basics#your-part
        text: Tell the DSL.
        answer: true
    """)


def load(teaches: str, modules: str = "basics"):
    text = QUIZ.format(modules=modules, teaches=teaches)
    quiz, problems = parse_quiz_text(text, "quizzes/t.yaml", set(SECTIONS), SECTIONS)
    return quiz, [str(p) for p in problems]


@pytest.mark.parametrize("written, stored", [
    ('teaches: "#what-it-means"', "basics#what-it-means"),
    ("teaches: basics#what-it-means", "basics#what-it-means"),
    ("teaches: roles#the-police", "roles#the-police"),  # another module's section is fine
])
def test_teaches_is_stored_as_module_and_anchor(written, stored):
    quiz, problems = load(written)
    assert problems == []
    assert quiz.question("one").teaches == stored


@pytest.mark.parametrize("written, message", [
    ("teaches: basics#what-it-mean",
     "quizzes/t.yaml:8: question 'one' has teaches 'basics#what-it-mean', but module 'basics' "
     "has no heading with the anchor 'what-it-mean'; did you mean 'what-it-means'?"),
    ("teaches: basic#your-part",
     "quizzes/t.yaml:8: question 'one' has teaches 'basic#your-part', but there is no module "
     "'basic'; did you mean 'basics'?"),
    ("teaches: #what-it-means",
     "quizzes/t.yaml:8: question 'one' has an empty 'teaches'; write 'teaches: "
     "module-slug#section' (in YAML a '#' after a space starts a comment, so quote a bare "
     "section: teaches: \"#section\")"),
    ("teaches: what it means",
     "quizzes/t.yaml:8: question 'one' has teaches 'what it means'; write "
     "'module-slug#section'"),
])
def test_a_wrong_teaches_is_an_error_at_its_line(written, message):
    quiz, problems = load(written)
    assert quiz is None
    assert any(p.startswith(message) for p in problems), problems


def test_a_bare_anchor_needs_a_quiz_of_one_module():
    quiz, problems = load('teaches: "#what-it-means"', modules="basics, roles")
    assert quiz is None
    assert ("quizzes/t.yaml:8: question 'one' has teaches '#what-it-means'; this quiz has 2 "
            "modules, so name the module too: 'module-slug#section'") in problems


def test_a_question_left_without_teaches_among_others_is_a_warning():
    quiz, problems = load("category: x")
    assert quiz is not None and quiz.question("one").teaches == ""
    assert problems == [
        "quizzes/t.yaml:6: warning: question 'one' has no teaches, but other questions of "
        "this quiz have; add 'teaches: module-slug#section' so that a learner who misses it "
        "is shown where to read about it again"]


def test_teaches_is_not_part_of_the_snapshot_or_the_version_and_survives_yaml_export():
    with_teaches, _ = load("teaches: basics#what-it-means")
    without, _ = parse_quiz_text(
        QUIZ.format(modules="basics", teaches="").replace("    teaches: basics#your-part\n", ""),
        "quizzes/t.yaml")
    assert with_teaches.version == without.version
    assert "teaches" not in with_teaches.question("one").to_snapshot()
    again, problems = parse_quiz_text(quiz_to_yaml(with_teaches), "quizzes/t.yaml",
                                      set(SECTIONS), SECTIONS)
    assert problems == []
    assert again.question("one").teaches == "basics#what-it-means"


def test_content_check_names_the_file_and_line_of_a_missing_anchor(app, monkeypatch, tmp_path):
    quizzes = tmp_path / "quizzes"
    quizzes.mkdir()
    source = Path(app.config["QUIZ_DIR"]) / "partnership-basics-check.yaml"
    text = source.read_text().replace('"#your-part"', '"#your-role"')
    (quizzes / source.name).write_text(text)
    monkeypatch.setitem(app.config, "QUIZ_DIR", quizzes)
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    line = text.splitlines().index('    teaches: "#your-role"') + 1
    assert (f"quizzes/partnership-basics-check.yaml:{line}: question 'tell-whom' has teaches "
            "'#your-role', but module 'partnership-basics' has no heading with the anchor "
            "'your-role'; did you mean 'your-part'?") in result.output


# ---- the review links each missed question to its section ----

@pytest.fixture
def learner(client, auth, make_user):
    user = make_user("learner")
    auth.login(user)
    return user


def test_the_review_links_each_missed_question_to_the_section_that_teaches_it(client, learner):
    start = post_form(client, "/quizzes/partnership-basics-check",
                      "/quizzes/partnership-basics-check/start")
    attempt = start.headers["Location"]
    page = client.get(attempt).get_data(as_text=True)
    client.post(attempt, data={
        "csrf_token": csrf_from(page), "page": 1, "action": "save",
        "q-what-it-means": "share-and-plan",          # right
        "q-partners": "nursery", "q-partners-shown": "1",  # partly right: missed
        "q-assume": "true",                            # wrong
    })                                                 # tell-whom: not answered
    review = client.get(post_form(client, attempt + "/summary", attempt + "/submit")
                        .headers["Location"]).get_data(as_text=True)
    top = review.split('<ol class="review-list">')[0]
    assert "<h2>Questions to read about again</h2>" in top
    link = '<a href="/course/partnership-basics#{}">Read about this again: {}</a>'
    for number, anchor, heading in ((2, "who-the-partners-are", "Who the partners are"),
                                    (3, "who-the-partners-are", "Who the partners are"),
                                    (4, "your-part", "Your part")):
        assert f"<li>Question {number}: {link.format(anchor, heading)}</li>" in top
    assert "Question 1:" not in top
    assert "#what-it-means" not in review  # answered right: nothing to read again
    items = review.split('<ol class="review-list">')[1]
    assert items.count("Read about this again:") == 3


def test_the_section_a_review_links_to_has_that_anchor(client, learner):
    page = client.get("/course/partnership-basics").get_data(as_text=True)
    assert 'id="who-the-partners-are"' in page and 'id="your-part"' in page


def test_a_review_with_nothing_missed_lists_nothing_to_read(client, learner):
    start = post_form(client, "/quizzes/partnership-basics-check",
                      "/quizzes/partnership-basics-check/start")
    attempt = start.headers["Location"]
    page = client.get(attempt).get_data(as_text=True)
    client.post(attempt, data={
        "csrf_token": csrf_from(page), "page": 1, "action": "save",
        "q-what-it-means": "share-and-plan", "q-partners-shown": "1",
        "q-partners": ["nursery", "health", "family"], "q-assume": "false",
        "q-tell-whom": "dsl"})
    review = client.get(post_form(client, attempt + "/summary", attempt + "/submit")
                        .headers["Location"]).get_data(as_text=True)
    assert "4 out of 4" in review
    assert "Read about this again" not in review
