"""`flask quiz import-gift` and `export-gift`: question banks in and out."""

from pathlib import Path

import pytest

from learning.quizzes.loader import load_quiz_file

DATA = Path(__file__).parent / "data" / "gift"


@pytest.fixture
def quiz_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "QUIZ_DIR", tmp_path)
    return tmp_path


def test_import_writes_a_valid_quiz_and_reports_bad_lines(app, runner, quiz_dir):
    module = app.extensions["catalog"].modules[0].slug
    result = runner.invoke(args=["quiz", "import-gift", str(DATA / "malformed.gift"),
                                 "--slug", "bank", "--title", "Bank", "--module", module])
    text = result.output
    assert "Wrote" in text and "bank.yaml" in text
    assert "malformed.gift:" in text  # each bad question named with its file and line
    quiz, problems = load_quiz_file(quiz_dir / "bank.yaml", {module})
    assert quiz is not None and not [p for p in problems if p.level == "error"]
    assert quiz.modules == (module,) and len(quiz.questions) >= 1


def test_import_refuses_to_overwrite(runner, quiz_dir):
    (quiz_dir / "varied.yaml").write_text("keep me")
    result = runner.invoke(args=["quiz", "import-gift", str(DATA / "varied.gift")])
    assert result.exit_code != 0 and "already exists" in result.output
    assert (quiz_dir / "varied.yaml").read_text() == "keep me"


def test_round_trip_through_the_cli(app, runner, quiz_dir, monkeypatch, tmp_path_factory):
    assert runner.invoke(args=["quiz", "import-gift", str(DATA / "varied.gift"),
                               "--slug", "varied"]).exit_code in (0, 1)
    quiz, _ = load_quiz_file(quiz_dir / "varied.yaml")
    monkeypatch.setitem(app.extensions, "quizzes", {"varied": quiz})
    out = tmp_path_factory.mktemp("gift") / "out.gift"
    result = runner.invoke(args=["quiz", "export-gift", "varied", "-o", str(out)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["quiz", "import-gift", str(out), "--slug", "again"])
    assert again.exit_code == 0, again.output
    back, _ = load_quiz_file(quiz_dir / "again.yaml")
    assert [q.to_snapshot() for q in back.questions] == [q.to_snapshot() for q in quiz.questions]


def test_export_unknown_slug(runner):
    result = runner.invoke(args=["quiz", "export-gift", "nope"])
    assert result.exit_code != 0 and "No quiz with slug 'nope'" in result.output
