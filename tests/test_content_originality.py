"""`flask originality compare-content`: the course shares no passage with the reference essays.

CI runs the command on the real course against ../shared/reference/essays (see .ci/run);
these tests run it on the fixture course and the fixture essays.
"""

import shutil

import pytest

from learning.assessment.originality.course import copied_passages, course_texts, read_essays
from tests.conftest import COURSE_CONTENT, COURSE_QUIZZES, ESSAYS
from tests.test_originality import COPIED_1, ROLES_ESSAY


@pytest.fixture
def course_copy(app, tmp_path, monkeypatch):
    """A copy of the fixture course that a test may edit, installed as CONTENT_DIR."""
    content = tmp_path / "content"
    shutil.copytree(COURSE_CONTENT, content)
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    return content


def _add_to_module(content, text):
    module = content / "01-partnership-basics.md"
    module.write_text(module.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


def test_the_fixture_course_matches_no_essay(runner):
    result = runner.invoke(args=["originality", "compare-content", str(ESSAYS)])
    assert result.exit_code == 0, result.output
    assert "10 course files against 2 essays: 0 copied passages." in result.output


def test_a_copied_passage_is_reported_with_its_file_and_essay(runner, course_copy):
    _add_to_module(course_copy, COPIED_1)
    result = runner.invoke(args=["originality", "compare-content", str(ESSAYS)])
    assert result.exit_code == 1
    assert (f"content/01-partnership-basics.md ~ {ROLES_ESSAY}: "
            f"{COPIED_1.rstrip('.')!r}") in result.output
    assert ": 1 copied passages." in result.output


def test_a_copied_passage_in_a_page_is_reported_too(runner, course_copy):
    page = course_copy / "pages" / "worried-about-a-child.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\n{COPIED_1}\n", encoding="utf-8")
    result = runner.invoke(args=["originality", "compare-content", str(ESSAYS)])
    assert result.exit_code == 1
    assert f"content/pages/worried-about-a-child.md ~ {ROLES_ESSAY}: " in result.output


def test_quoting_criterion_wording_and_full_names_is_not_copying(runner, course_copy, tmp_path):
    criterion = "Describe what different organisations do when a child may have been harmed"
    essays = tmp_path / "essays"
    essays.mkdir()
    (essays / "quoting.txt").write_text(
        f"The task says: {criterion}. I chose the NSPCC National Society for the Prevention "
        "of Cruelty to Children as my example.", encoding="utf-8")
    _add_to_module(course_copy, f"Criterion 2.4 asks you to {criterion.lower()}.\n\nMany "
                   "organisations help families in our area, and a national charity is one of "
                   "them: the NSPCC National Society for the Prevention of Cruelty to Children.")
    result = runner.invoke(args=["originality", "compare-content", str(essays)])
    assert result.exit_code == 0, result.output
    assert ": 0 copied passages." in result.output
    # Both passages do match: only the allow-list lets them through.
    texts = course_texts(course_copy, COURSE_QUIZZES)
    assert len(copied_passages(texts, read_essays(essays), quoted="")) == 2


def test_a_folder_without_essays_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["originality", "compare-content", str(tmp_path)])
    assert result.exit_code != 0 and "no .txt essays" in result.output
