"""Large matrix exports: prepared by the worker above EXPORT_INLINE_ROWS, the same file as the
streamed one, one job however often the button is pressed, downloaded only by the person who
asked (audited), gone after EXPORT_KEEP_DAYS."""

# ruff: noqa: F811 (centre_with_work is a fixture from test_exports, named in each test)

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.core import worker
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.people.models import UserRole
from learning.reports import export_jobs
from learning.reports import exports as exports_mod
from learning.reports.models import ExportFile
from tests.conftest import Auth, csrf_from
from tests.test_exports import centre_with_work  # noqa: F401 (a fixture)
from tests.test_matrix import today_uk
from tests.test_races import _hold_inside, _together


@pytest.fixture
def small_limit(app, monkeypatch):
    """Two learners are a "large" export here (the limit is 1 row)."""
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 1)


def _exports() -> list[ExportFile]:
    db.session.expire_all()
    return list(db.session.scalars(select(ExportFile).order_by(ExportFile.id)))


def _jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind == export_jobs.KIND)))


def _prepare(client, query: str = ""):
    page = client.get(f"/reports/matrix.csv{query}").get_data(as_text=True)
    action = re.search(r'<form method="post" action="(/reports/exports/[^"]+)"', page).group(1)
    return client.post(action.replace("&amp;", "&"), data={"csrf_token": csrf_from(page)})


def test_a_small_export_still_streams(client, auth, centre_with_work):
    auth.login(centre_with_work["coordinator"])
    response = client.get("/reports/matrix.csv")
    assert response.status_code == 200 and response.is_streamed
    assert _exports() == [] and _jobs() == []


def test_a_large_export_asks_to_be_prepared_and_a_get_changes_nothing(
        client, auth, centre_with_work, small_limit):
    auth.login(centre_with_work["coordinator"])
    response = client.get("/reports/matrix.csv?sort=rag")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "This file has 2 rows: more than the 1 we send straight away." in page
    assert 'action="/reports/exports/completion-matrix?sort=rag"' in page
    assert _exports() == [] and _jobs() == []


def test_preparing_queues_one_job_and_says_so(client, auth, centre_with_work,
                                              small_limit):
    coordinator = centre_with_work["coordinator"]
    auth.login(coordinator)
    done = _prepare(client, "?sort=rag")
    [export] = _exports()
    assert done.status_code == 302
    assert done.headers["Location"] == f"/reports/exports/{export.id}"
    [job] = _jobs()
    assert (export.user_id, export.kind, export.status, export.job_id) == (
        coordinator.id, "completion-matrix", "pending", job.id)
    assert export.filters["sort"] == "rag" and export.filters["today"] == today_uk().isoformat()
    assert export.expires_at - export.created_at == timedelta(days=7)
    assert job.payload == {"export_id": export.id}
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "report.export_requested"))
    assert (event.actor_id, event.subject_id) == (coordinator.id, str(export.id))
    page = client.get(f"/reports/exports/{export.id}").get_data(as_text=True)
    assert "Your export is being prepared: waiting for its turn." in page
    assert "Download the CSV file" not in page
    downloads = client.get("/reports/").get_data(as_text=True)
    assert "Files prepared for you" in downloads
    assert f'<a href="/reports/exports/{export.id}">The completion matrix, asked for' in downloads


def test_pressing_twice_gives_one_job(client, auth, centre_with_work,
                                      small_limit):
    auth.login(centre_with_work["coordinator"])
    first, second = _prepare(client), _prepare(client)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_exports()) == 1 and len(_jobs()) == 1


def test_two_presses_at_once_give_one_job(app, centre_with_work, small_limit,
                                          monkeypatch):
    """Guard: jobs.enqueue_once's INSERT ... ON CONFLICT on the once-key (both requests are
    past the look for a waiting job before either inserts)."""
    from learning.core import jobs

    forms = []
    for _ in range(2):
        c = app.test_client()
        Auth(c).login(centre_with_work["coordinator"])
        page = c.get("/reports/matrix.csv").get_data(as_text=True)
        forms.append((c, csrf_from(page)))
    _hold_inside(monkeypatch, jobs, "active")

    def press(c, token):
        return lambda: c.post("/reports/exports/completion-matrix",
                              data={"csrf_token": token}).headers.get("Location")

    places = _together(app, [press(c, t) for c, t in forms])
    assert places[0] == places[1] and places[0].startswith("/reports/exports/")
    assert len(_exports()) == 1 and len(_jobs()) == 1


def test_the_prepared_file_is_the_streamed_file(app, client, auth, centre_with_work,
                                                monkeypatch):
    auth.login(centre_with_work["coordinator"])
    inline = client.get("/reports/matrix.csv?q=ada").get_data()
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)
    _prepare(client, "?q=ada")
    seen: list = []
    original = worker._Context.progress

    def recording(self, done, total):
        original(self, done, total)
        seen.append((done, total))

    monkeypatch.setattr(worker._Context, "progress", recording)
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 1)
    assert worker.run_pending(app).done == 1
    [export] = _exports()
    assert (export.status, export.rows, export.size) == ("done", 1, len(inline))
    assert seen == [(0, 1), (1, 1), (1, 1)]
    [job] = _jobs()
    assert (job.status, job.progress) == ("done", {"done": 1, "total": 1})
    page = client.get(f"/reports/exports/{export.id}").get_data(as_text=True)
    assert "Your file is ready: 1 row," in page
    response = client.get(f"/reports/exports/{export.id}/download")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data() == inline
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="completion-matrix-{export.created_at.date().isoformat()}.csv"')


def test_each_download_is_audited(app, client, auth, centre_with_work,
                                  small_limit):
    coordinator = centre_with_work["coordinator"]
    auth.login(coordinator)
    _prepare(client)
    worker.run_pending(app)
    [export] = _exports()
    for _ in range(2):
        assert client.get(f"/reports/exports/{export.id}/download").status_code == 200
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "report.export_download")).all()
    assert [(e.actor_id, e.subject_type, e.subject_id, e.detail["rows"]) for e in events] == [
        (coordinator.id, "ExportFile", str(export.id), 2)] * 2


@pytest.mark.parametrize("who", ["other coordinator", "admin", "assessor", "learner"])
def test_only_the_requester_sees_or_downloads_it(app, client, auth, make_user, make_centre,
                                                 centre_with_work, small_limit,
                                                 who):
    auth.login(centre_with_work["coordinator"])
    _prepare(client)
    worker.run_pending(app)
    [export] = _exports()
    auth.logout()
    role = who.split()[-1]
    other = make_user(role)
    if role == "coordinator":
        make_centre("North two", coordinators=[other])
    auth.login(other)
    expected = 403 if role == "learner" else 404  # staff learn nothing of others' files
    assert client.get(f"/reports/exports/{export.id}").status_code == expected
    response = client.get(f"/reports/exports/{export.id}/download")
    assert response.status_code == expected and b"Ada Ames" not in response.get_data()
    if role != "learner":
        assert "Files prepared for you" not in client.get("/reports/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "report.export_download")) is None


def test_a_post_without_the_csrf_token_queues_nothing(client, auth, centre_with_work,
                                                      small_limit):
    auth.login(centre_with_work["coordinator"])
    assert client.post("/reports/exports/completion-matrix", data={}).status_code == 400
    assert _exports() == []


def test_an_expired_file_is_refused_and_the_worker_removes_it(
        app, client, auth, runner, centre_with_work, small_limit):
    auth.login(centre_with_work["coordinator"])
    _prepare(client)
    worker.run_pending(app)
    [export] = _exports()
    export.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    export_id = export.id
    page = client.get(f"/reports/exports/{export_id}")
    assert page.status_code == 410
    assert "This file has expired: prepared files are kept for 7 days." in \
        page.get_data(as_text=True)
    download = client.get(f"/reports/exports/{export_id}/download")
    assert download.status_code == 302 and b"Ada Ames" not in download.get_data()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0  # its clean-ups run
    assert _exports() == []
    assert client.get(f"/reports/exports/{export_id}").status_code == 404


def test_a_file_not_yet_expired_is_kept_by_the_clean_up(app, client, auth, centre_with_work,
                                                        small_limit):
    auth.login(centre_with_work["coordinator"])
    _prepare(client)
    assert worker.run_cleanups(utcnow() + timedelta(days=6)) == {"expired exports": 0}
    assert worker.run_cleanups(utcnow() + timedelta(days=7, seconds=1)) == {
        "expired exports": 1}
    assert _exports() == []


def test_a_requester_who_is_no_longer_staff_gets_no_file(app, client, auth, centre_with_work,
                                                         small_limit):
    coordinator = centre_with_work["coordinator"]
    auth.login(coordinator)
    _prepare(client)
    db.session.execute(UserRole.__table__.delete().where(UserRole.user_id == coordinator.id,
                                                         UserRole.role == "coordinator"))
    db.session.commit()
    assert worker.run_pending(app).failed == 1
    [export] = _exports()
    assert (export.status, export.content) == ("pending", None)
    [job] = _jobs()
    assert "no longer has a staff role" in job.last_error


def test_a_file_that_fails_part_way_is_not_kept_and_is_tried_again(
        app, client, auth, centre_with_work, small_limit, monkeypatch):
    """A streamed download that fails ends with the "incomplete" row; a prepared file must
    not be kept that way and offered as whole."""
    from learning.reports import matrix
    from tests.test_exports import _first_then_fail

    real = matrix.iter_matrix
    monkeypatch.setattr(matrix, "iter_matrix",
                        lambda *a, **k: _first_then_fail(real(*a, **k), False))
    auth.login(centre_with_work["coordinator"])
    _prepare(client)
    assert worker.run_pending(app).retry == 1
    [export] = _exports()
    assert (export.status, export.content) == ("pending", None)
    [job] = _jobs()
    assert job.status == "pending" and "the database went away" in job.last_error
    monkeypatch.setattr(matrix, "iter_matrix", real)
    worker.run_pending(app, now=job.run_after)
    [export] = _exports()
    assert export.status == "done" and export.rows == 2
    assert exports_mod.INCOMPLETE.encode() not in export.content
