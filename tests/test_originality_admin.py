"""The admin page's "Rebuild the index": one re-index job at a time, run by the worker with
progress, the same rebuild as `flask originality reindex`."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from learning.assessment.models import SubmittedWork
from learning.assessment.originality import index as originality
from learning.assessment.originality import reindex_job
from learning.assessment.originality.models import Fingerprint, SourceKind, TextSource
from learning.core import jobs, worker
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from tests.conftest import Auth, csrf_from, post_form
from tests.test_originality_reindex import _index_state, _seeded
from tests.test_races import _hold_inside, _together

PAGE = "/admin/originality/"
POST = "/admin/originality/reindex"


def _jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind == reindex_job.KIND)))


def _press(client):
    return post_form(client, PAGE, POST)


def test_an_admin_queues_a_rebuild_and_it_is_audited(client, auth, make_user):
    admin = make_user("admin")
    auth.login(admin)
    page = client.get(PAGE).get_data(as_text=True)
    assert "The index has not been rebuilt from this page." in page
    assert "Rebuild the index</button>" in page
    done = _press(client)
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE)
    [job] = _jobs()
    assert (job.status, job.payload, job.once_key) == ("pending", {"requested_by": admin.id},
                                                       reindex_job.KIND)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "originality.reindex_requested"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (admin.id, "Job",
                                                                      str(job.id))
    page = client.get(PAGE).get_data(as_text=True)
    assert "Waiting for the worker." in page
    assert "Rebuild the index</button>" not in page  # nothing to press while one waits
    assert "Check again</a>" in page


@pytest.mark.parametrize("role", ["learner", "assessor", "iqa", "coordinator"])
def test_only_administrators_see_the_page_or_queue_a_rebuild(client, auth, make_user, role):
    auth.login(make_user(role))
    assert client.get(PAGE).status_code == 403
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    assert client.post(POST, data={"csrf_token": token}).status_code == 403
    assert _jobs() == []


def test_a_post_without_the_csrf_token_queues_nothing(client, auth, make_user):
    auth.login(make_user("admin"))
    assert client.post(POST, data={}).status_code == 400
    assert _jobs() == []


def test_a_second_request_while_one_waits_says_so_and_queues_nothing(client, auth, make_user):
    auth.login(make_user("admin"))
    _press(client)
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    again = client.post(POST, data={"csrf_token": token}, follow_redirects=True)
    assert "A rebuild of the index is already waiting or running: nothing more was queued." \
        in again.get_data(as_text=True)
    assert len(_jobs()) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "originality.reindex_requested")) == 1


def test_two_admins_at_once_give_one_job(app, make_user, monkeypatch):
    """Guard: both requests are past the look for a waiting job before either inserts; the
    partial unique index on job.once_key settles it (without it, two jobs)."""
    clients = []
    for _ in range(2):
        c = app.test_client()
        Auth(c).login(make_user("admin"))
        clients.append((c, csrf_from(c.get(PAGE).get_data(as_text=True))))
    _hold_inside(monkeypatch, jobs, "active")  # enqueue_once's look, then its INSERT

    def press(c, token):
        return lambda: c.post(POST, data={"csrf_token": token},
                              follow_redirects=True).get_data(as_text=True)

    pages = _together(app, [press(c, t) for c, t in clients])
    assert len(_jobs()) == 1
    said = sorted("already waiting or running" in p for p in pages)
    assert said == [False, True], pages


def test_a_job_in_the_way_is_found_even_past_the_look(app, monkeypatch):
    """enqueue_once's INSERT, not its first look, is what keeps a second job out."""
    first, queued = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    db.session.commit()
    assert queued
    real, looks = jobs.active, []

    def first_look_misses(key):  # as a racing request's look would
        looks.append(key)
        return None if len(looks) == 1 else real(key)

    monkeypatch.setattr(jobs, "active", first_look_misses)
    second, queued = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    db.session.commit()
    assert (second.id, queued) == (first.id, False)
    assert len(_jobs()) == 1


def test_the_worker_rebuilds_the_index_with_progress(app, client, auth, runner, make_user,
                                                     monkeypatch):
    _seeded(runner)
    worker.run_pending(app)  # the seeded answers' similar-meaning checks
    before = _index_state()
    work = db.session.scalars(select(SubmittedWork).order_by(SubmittedWork.id)).first()
    db.session.execute(delete(Fingerprint))
    db.session.execute(delete(TextSource).where(TextSource.kind == SourceKind.SUBMISSION))
    db.session.commit()
    assert originality.check(work.text).matches == ()
    seen: list = []
    original = worker._Context.progress

    def recording(self, done, total):
        original(self, done, total)
        seen.append((done, total))

    monkeypatch.setattr(worker._Context, "progress", recording)
    monkeypatch.setattr(originality, "REINDEX_BATCH", 2)
    monkeypatch.setattr(reindex_job, "reindex",
                        lambda titles, progress: originality.reindex(titles, progress, batch=2))
    auth.login(make_user("admin"))
    _press(client)
    ran = worker.run_pending(app)
    assert ran.done == 1
    assert _index_state() == before  # the same index as before it was emptied
    assert originality.check(work.text).matches
    # 2 reference essays fingerprinted again, then 3 answers added, two at a time.
    assert seen == [(2, 5), (4, 5), (5, 5)]
    [job] = _jobs()
    assert (job.status, job.progress) == ("done", {"done": 5, "total": 5})
    assert job.payload["result"] == {"texts": 2, "references": 2, "added": 3,
                                     "fingerprints": len([fp for v in before.values()
                                                          for fp in v[3]])}
    page = client.get(PAGE).get_data(as_text=True)
    assert "2 texts indexed again (2 reference essays), 3 submitted answers added" in page
    assert "Rebuild the index</button>" in page  # and it may be asked for again
    _press(client)
    assert len(_jobs()) == 2


def test_the_page_shows_how_far_a_running_rebuild_has_come(client, auth, make_user):
    job, _ = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    job.status, job.progress = "running", {"done": 300, "total": 1200}
    db.session.commit()
    auth.login(make_user("admin"))
    page = client.get(PAGE).get_data(as_text=True)
    assert "Being rebuilt now: 300 of 1200 texts done." in page
    assert '<progress id="reindex-progress" max="1200" value="300">25%</progress>' in page
    assert 'role="status"' in page


def test_a_failed_rebuild_says_why_and_may_be_asked_for_again(client, auth, make_user):
    job, _ = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    job.status, job.last_error = "failed", "OperationalError: disk full"
    db.session.commit()
    auth.login(make_user("admin"))
    page = client.get(PAGE).get_data(as_text=True)
    assert "<strong>Failed</strong>: OperationalError: disk full." in page
    _press(client)
    assert sorted(j.status for j in _jobs()) == ["failed", "pending"]


def test_a_failed_rebuild_is_not_retried_while_another_waits(make_user):
    """Guard: jobs.retry leaves a failed one-of-a-kind job failed while another job with its
    key waits (the partial unique index would refuse it with an error)."""
    failed, _ = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    failed.status = "failed"
    db.session.commit()
    waiting, queued = jobs.enqueue_once(reindex_job.KIND, {}, reindex_job.KIND)
    db.session.commit()
    assert queued and waiting.id != failed.id
    assert jobs.retry(failed.id, make_user("admin")) is False
    db.session.commit()
    assert sorted(j.status for j in _jobs()) == ["failed", "pending"]
    waiting.status = "done"
    db.session.commit()
    assert jobs.retry(failed.id, make_user("admin")) is True
