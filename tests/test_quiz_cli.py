"""`flask quiz import-gift` and `export-gift`: question banks in and out."""

from pathlib import Path

import pytest

from learning.quizzes.loader import load_quiz_file

DATA = Path(__file__).parent / "data" / "gift"


@pytest.fixture
def quiz_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "QUIZ_DIR", tmp_path)
    return tmp_path


def test_import_with_partial_writes_the_good_questions_and_counts_the_failed_ones(
        app, runner, quiz_dir):
    module = app.extensions["catalog"].modules[0].slug
    result = runner.invoke(args=["quiz", "import-gift", str(DATA / "malformed.gift"),
                                 "--slug", "bank", "--title", "Bank", "--module", module,
                                 "--partial"])
    text = result.output
    assert "Wrote" in text and "bank.yaml" in text
    # The description imports too, and is counted apart from the questions to answer.
    assert ("with 4 questions and 1 descriptions; 5 questions could not be imported; "
            "1 warnings.") in text
    assert "malformed.gift:" in text  # each bad question named with its file and line
    quiz, problems = load_quiz_file(quiz_dir / "bank.yaml", {module})
    assert quiz is not None and not [p for p in problems if p.level == "error"]
    assert quiz.modules == (module,) and len(quiz.graded_questions) == 4
    assert [q.type for q in quiz.questions].count("description") == 1


def test_import_is_all_or_nothing_and_counts_questions_not_messages(runner, quiz_dir, tmp_path):
    bank = tmp_path / "bank.gift"
    # The second question has two errors (an empty answer, weights adding up to 90).
    bank.write_text("::Fine::Sure?{T}\n\n::Twice wrong::Pick.{~%50% ~%40%b}\n")
    result = runner.invoke(args=["quiz", "import-gift", str(bank)])
    assert result.exit_code == 1
    assert result.output.count("bank.gift:3: question 'twice-wrong'") == 2
    assert ("1 questions have errors, so nothing was written. Fix them, or use --partial to "
            "import the other 1 questions.") in result.output
    assert not (quiz_dir / "bank.yaml").exists()
    partial = runner.invoke(args=["quiz", "import-gift", str(bank), "--partial"])
    assert "with 1 questions; 1 questions could not be imported" in partial.output


def test_import_refuses_a_file_over_two_megabytes(runner, quiz_dir, tmp_path):
    bank = tmp_path / "huge.gift"
    bank.write_text("::Q::Sure?{T}\n\n" * 150_000)  # 2.2 MB
    result = runner.invoke(args=["quiz", "import-gift", str(bank)])
    assert result.exit_code == 1
    assert "is 2.2 MB; GIFT files over 2 MB are refused" in result.output
    assert not (quiz_dir / "huge.yaml").exists()


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


def test_regrade_lists_attempts_the_new_rules_score_differently_and_applies_on_request(
        app, runner, make_user):
    """An attempt submitted when the best matching short answer won (1 mark) is 0.5 under
    Moodle's first-match rule; the command says so, and changes nothing without --apply."""
    from sqlalchemy import select

    from learning.core.audit import AuditEvent
    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.quizzes.grading import public_view
    from learning.quizzes.models import QuizAnswer, QuizAttempt
    from learning.quizzes.questions import question_from_snapshot

    question = question_from_snapshot({
        "id": "name", "type": "short", "text": "What is it called?",
        "answers": [{"text": "*meeting*", "fraction": 0.5}, {"text": "strategy meeting"}]})
    learner, now = make_user("learner"), utcnow()
    attempt = QuizAttempt(
        user_id=learner.id, quiz_slug="old-quiz", quiz_version="v1", number=1,
        state="submitted", started_at=now, submitted_at=now,
        settings={"pass_mark": 80, "counts_toward_completion": True},
        questions=[{"question": question.to_snapshot(), "view": public_view(question)}],
        max_marks=1, marks=1, percent=100, passed=True)
    db.session.add(attempt)
    db.session.add(QuizAnswer(attempt=attempt, question_id="name", answer="strategy meeting",
                              saved_at=now, score=1.0, marks=1))
    db.session.commit()

    listed = runner.invoke(args=["quiz", "regrade"])
    assert listed.exit_code == 0, listed.output
    assert (f"attempt {attempt.id} (user {learner.id}, old-quiz #1): 100% -> 50%, "
            "no longer passes (name 1 -> 0.5)") in listed.output
    assert "1 attempts would change; run again with --apply" in listed.output
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).percent == 100

    applied = runner.invoke(args=["quiz", "regrade", "old-quiz", "--apply"])
    assert applied.exit_code == 0 and "Regraded 1 attempts." in applied.output
    db.session.expire_all()
    stored = db.session.get(QuizAttempt, attempt.id)
    assert (stored.marks, stored.percent, stored.passed) == (0.5, 50, False)
    assert stored.answers[0].score == 0.5
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "quiz.regrade"))
    assert event.detail == {"quiz": "old-quiz", "old_percent": 100, "percent": 50,
                            "old_passed": True, "passed": False}
    again = runner.invoke(args=["quiz", "regrade"])
    assert "Every submitted attempt already has the result" in again.output
