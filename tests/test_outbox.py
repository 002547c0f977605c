"""The outbox: an action stores its email with itself, and a worker sends it later, retrying
with growing waits; workers at once never take the same job; a dead worker's job is taken over.
"""

from __future__ import annotations

import io
import os
import signal
import smtplib
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from learning.assessment.originality import similar_job
from learning.core import jobs, worker
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.people.notifications import notify
from tests.conftest import FakeSMTP, csrf_from, post_form
from tests.test_races import _together

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def silent_mail(app, silent_smtp, monkeypatch):
    """Mail goes to a server that accepts and never answers; SMTP waits 0.2 s per step."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", silent_smtp.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 0.2)
    return silent_smtp


def _jobs() -> list[Job]:
    """The jobs but a submission's similar-meaning check (tests/test_originality_similar.py)."""
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind != similar_job.KIND)
                                   .order_by(Job.id)))


def _submit(client, task):
    post_form(client, f"/tasks/{task.slug}", data={"text": "Agencies share what they know.",
                                                   "based_on": "", "save": "1"})
    return post_form(client, f"/tasks/{task.slug}/submit",
                     data={"declaration": "y", "sources": "", "confirm_short": "y"})


# ---- a mail server that never answers ----

def test_a_mail_server_that_never_answers_does_not_hold_up_a_submission(
        app, client, auth, make_user, make_cohort, task, silent_mail):
    """Once a submission waited for the mail server inside its transaction: killed by
    gunicorn's timeout on PostgreSQL, holding SQLite's write lock for everyone else."""
    learner = make_user("learner", name="Maya Patel")
    assessor = make_user("assessor")
    make_cohort(learners=[learner], assessors=[assessor])
    auth.login(learner)
    response = _submit(client, task)
    assert response.status_code == 302
    assert silent_mail.connections == 0, "the request itself talked to the mail server"
    [job] = _jobs()
    assert (job.kind, job.status, job.payload["to"]) == ("email", "pending", assessor.email)
    # The worker meets the silent server: the attempt times out and is tried again later.
    now = utcnow()
    counts = worker.run_pending(app, now=now)
    assert (counts.done, counts.retry, counts.failed) == (1, 1, 0)  # done: similar meaning
    assert silent_mail.connections == 1
    [job] = _jobs()
    assert (job.status, job.attempts) == ("pending", 1)
    assert "timed out" in job.last_error
    assert job.run_after == now + timedelta(seconds=app.config["JOB_BACKOFF_SECONDS"])


def test_while_the_worker_waits_on_the_mail_server_learners_still_save(
        app, client, auth, make_user, make_cohort, task, silent_mail, monkeypatch):
    """On SQLite the waiting submission held the write lock: other learners' autosaves
    failed with "database is locked". The worker holds no transaction while it sends."""
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 30)  # it waits until released below
    maya, tom = make_user("learner"), make_user("learner")
    make_cohort(learners=[maya, tom], assessors=[make_user("assessor")])
    auth.login(maya)
    _submit(client, task)
    sending = threading.Thread(target=worker.run_pending, args=(app,))
    sending.start()
    try:
        assert silent_mail.connected.wait(10), "the worker never reached the mail server"
        assert [j.status for j in _jobs()] == ["running"]  # claimed, and committed
        auth.logout()
        auth.login(tom)
        page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
        saved = client.post(f"/tasks/{task.slug}/autosave", data={
            "csrf_token": csrf_from(page), "text": "Tom's draft", "based_on": ""})
        assert saved.status_code == 200 and saved.get_json()["version"] == 1
    finally:
        silent_mail.release()  # hangs up: the worker's attempt fails
        sending.join(20)
    [job] = _jobs()
    assert (job.status, job.attempts) == ("pending", 1)


def test_a_csv_import_shows_its_links_whatever_the_mail_server_does(
        app, client, auth, make_user, make_centre, make_cohort, silent_mail, tmp_path,
        monkeypatch):
    """Once the links were committed, then the page waited on the mail server and never
    came: the only place the links are shown was lost."""
    coordinator = make_user("coordinator")
    make_cohort("North 2026", centre=make_centre(coordinators=[coordinator]))
    auth.login(coordinator)
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    preview = client.post("/admin/enrol", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(
            b"name,email,cohort\nAmira Khan,amira@example.org,North 2026\n"
            b"Ben Cole,ben@example.org,North 2026\n"), "learners.csv")}).get_data(as_text=True)
    upload_id = preview.split('name="upload_id" type="hidden" value="')[1].split('"')[0]
    done = client.post("/admin/enrol/confirm", data={"csrf_token": csrf_from(preview),
                                                     "upload_id": upload_id})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert html.count("/set-password/") == 2 and "on its way to each new learner" in html
    assert silent_mail.connections == 0
    assert sorted(j.payload["to"] for j in _jobs()) == ["amira@example.org", "ben@example.org"]


# ---- retries, back-off, giving up ----

def test_back_off_doubles_from_the_base_up_to_an_hour():
    assert [jobs.backoff(n, 30).total_seconds() for n in range(1, 9)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600]
    assert jobs.backoff(0, 30) == timedelta(0)
    assert jobs.backoff(10**9, 30) == jobs.MAX_BACKOFF


def test_a_failing_email_is_retried_with_back_off_then_fails_for_good(
        app, make_user, deliver_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_MAX_ATTEMPTS", 3)
    tries: list = []

    class Down(FakeSMTP):
        def __init__(self, host, port, timeout=None):
            tries.append(timeout)
            raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(smtplib, "SMTP", Down)
    notify(make_user("learner"), "feedback", "Ready.", "/x")
    start = utcnow()
    db.session.commit()
    deliver_outbox(start)
    [job] = _jobs()
    assert (job.status, job.attempts, job.run_after) == ("pending", 1,
                                                         start + timedelta(seconds=30))
    assert "Connection refused" in job.last_error
    assert tries == [app.config["MAIL_TIMEOUT"]]  # the timeout comes from the config
    deliver_outbox(start + timedelta(seconds=29))  # not yet due
    assert len(tries) == 1
    second = start + timedelta(seconds=31)
    deliver_outbox(second)
    [job] = _jobs()
    assert (job.status, job.attempts, job.run_after) == ("pending", 2,
                                                         second + timedelta(seconds=60))
    third = second + timedelta(seconds=61)
    deliver_outbox(third)
    [job] = _jobs()
    assert (job.status, job.attempts, job.finished_at) == ("failed", 3, third)
    deliver_outbox(third + timedelta(days=1))  # failed jobs wait for an admin
    assert len(tries) == 3


def test_an_address_the_server_refuses_fails_at_once(app, make_user, deliver_outbox,
                                                     monkeypatch):
    class Refusing(FakeSMTP):
        def send_message(self, message):
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"No such user")})

    notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    deliver_outbox()
    [job] = _jobs()
    assert (job.status, job.attempts) == ("failed", 1)
    assert "refused the address" in job.last_error


def test_a_kind_this_worker_does_not_know_is_retried_not_lost(app):
    db.session.add(Job(kind="gone-away", payload={}, run_after=utcnow()))
    db.session.commit()
    worker.run_pending(app)
    [job] = _jobs()
    assert job.status == "pending" and "no handler for jobs of kind 'gone-away'" in \
        job.last_error
    assert jobs.describe(job) == "A job of a kind this version does not know (gone-away)"


def test_a_long_job_reports_progress_and_keeps_its_lease(app, monkeypatch):
    seen: list = []

    def count_to_ten(payload, context):
        context.progress(3, 10)
        seen.append(db.session.get(Job, context.job_id).locked_until)

    monkeypatch.setitem(jobs._KINDS, "count", jobs.Kind("count", count_to_ten, str))
    jobs.enqueue("count", {})
    db.session.commit()
    before = utcnow()
    worker.run_pending(app)
    [job] = _jobs()
    assert (job.status, job.progress) == ("done", {"done": 3, "total": 10})
    assert seen[0] >= before + timedelta(seconds=app.config["JOB_LEASE_SECONDS"])


def test_enqueue_refuses_a_kind_nobody_registered(app):
    with pytest.raises(ValueError, match="no handler"):
        jobs.enqueue("emial", {})


# ---- workers at once ----

def _held_at_take(monkeypatch, parties=2, timeout=5.0):
    """Every worker waits inside `_take`, after choosing its jobs, until the others have
    chosen theirs; returns a record of whether the wait ever timed out."""
    original = worker._take
    inside = threading.Barrier(parties)
    record = {"broken": False}

    def held(*args, **kwargs):
        try:
            inside.wait(timeout=timeout)
        except threading.BrokenBarrierError:
            record["broken"] = True
        return original(*args, **kwargs)

    monkeypatch.setattr(worker, "_take", held)
    return record


def _claim_in(app, worker_id, now, settings):
    def call():
        return worker.claim(worker_id, now, settings)
    return call


def test_two_workers_choosing_the_same_job_claim_it_once(app, make_user, monkeypatch):
    """Guard: the conditional UPDATE (only rows still due change)."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    for _ in range(2):
        notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    _held_at_take(monkeypatch, timeout=1.5)
    now, settings = utcnow(), worker.Settings(batch=1)
    results = _together(app, [_claim_in(app, "a", now, settings),
                              _claim_in(app, "b", now, settings)])
    assert not any(isinstance(r, Exception) for r in results), results
    claimed = [c.id for result in results for c in result]
    assert len(claimed) == len(set(claimed)) >= 1
    assert db.session.scalar(select(func.sum(Job.attempts))) == len(claimed)


@pytest.mark.postgres
def test_postgres_workers_skip_each_others_jobs_instead_of_waiting(app, make_user,
                                                                  monkeypatch):
    """Guard: SELECT ... FOR UPDATE SKIP LOCKED. Both workers are inside the claim at once,
    each with its own job: without SKIP LOCKED the second waits for the first's lock (and
    then finds nothing), without FOR UPDATE both choose the first job."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    for _ in range(2):
        notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    record = _held_at_take(monkeypatch, timeout=3)
    now, settings = utcnow(), worker.Settings(batch=1)
    results = _together(app, [_claim_in(app, "a", now, settings),
                              _claim_in(app, "b", now, settings)])
    assert not record["broken"], "a worker waited for the other's lock"
    assert sorted(len(r) for r in results) == [1, 1]
    assert results[0][0].id != results[1][0].id


def test_two_workers_draining_together_send_each_email_once(app, make_user, deliver_outbox,
                                                            monkeypatch):
    learners = [make_user("learner") for _ in range(25)]
    for learner in learners:
        notify(learner, "feedback", "Ready.", "/x")
    db.session.commit()
    sent: list = []
    lock = threading.Lock()

    class Counting(FakeSMTP):
        def send_message(self, message):
            with lock:
                sent.append(message["To"])

    monkeypatch.setattr(smtplib, "SMTP", Counting)
    _held_at_take(monkeypatch, timeout=1.5)  # both choose their jobs before either claims
    results = _together(app, [lambda: worker.run_pending(), lambda: worker.run_pending()])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(sent) == sorted(u.email for u in learners)  # each once
    assert sum(r.done for r in results) == 25
    assert {j.status for j in _jobs()} == {"done"}


# ---- a worker that dies ----

def test_a_dead_workers_job_is_taken_over_when_its_lease_runs_out(app, make_user,
                                                                  deliver_outbox):
    notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    start = utcnow()
    settings = worker.settings_from(app.config)
    [crashed] = worker.claim("dead-worker", start, settings)  # ... and then nothing, ever
    assert deliver_outbox(start + settings.lease - timedelta(seconds=1)) == []
    [job] = _jobs()
    assert (job.status, job.locked_by) == ("running", "dead-worker")
    sent = deliver_outbox(start + settings.lease + timedelta(seconds=1))
    assert len(sent) == 1
    [job] = _jobs()
    assert (job.status, job.attempts) == ("done", 2)
    # Had the first worker only been slow, its late outcome changes nothing.
    assert worker._finish(crashed, "dead-worker", status="failed") is False
    assert _jobs()[0].status == "done"


def test_a_job_whose_worker_died_on_the_last_attempt_fails(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    db.session.execute(update(Job).values(status="running", attempts=2,
                                          locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    worker.run_pending(app)
    [job] = _jobs()
    assert (job.status, job.attempts) == ("failed", 3)
    assert "stopped before it finished" in job.last_error


def test_kill_9_in_the_middle_of_sending_strands_nothing(app, database_url, make_user,
                                                         silent_mail, monkeypatch):
    """A real worker process, killed while the mail server keeps it waiting."""
    notify(make_user("learner", email="amira@example.org"), "feedback", "Ready.", "/x")
    db.session.commit()
    script = ("import sys\n"
              "from learning import create_app\n"
              "from learning.core.worker import run_pending\n"
              "from tests.conftest import fixture_settings\n"
              "app = create_app(fixture_settings(sys.argv[1], MAIL_SERVER='127.0.0.1',\n"
              "                 MAIL_PORT=int(sys.argv[2]), MAIL_TIMEOUT=60))\n"
              "run_pending(app)\n")
    process = subprocess.Popen([sys.executable, "-c", script, database_url,
                                str(silent_mail.port)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert silent_mail.connected.wait(60), "the worker never reached the mail server"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL
    [job] = _jobs()
    assert (job.status, job.attempts) == ("running", 1)

    class Recording(FakeSMTP):
        sent: list = []

    monkeypatch.setattr(smtplib, "SMTP", Recording)
    assert worker.run_pending(app, now=job.locked_until - timedelta(seconds=1)).total == 0
    assert worker.run_pending(app, now=job.locked_until + timedelta(seconds=1)).done == 1
    assert [m["To"] for m in Recording.sent] == ["amira@example.org"]
    [job] = _jobs()
    assert (job.status, job.attempts) == ("done", 2)


def test_flask_worker_once_sends_what_is_due_and_says_so(app, runner, make_user,
                                                         deliver_outbox):
    notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Ran 1 job: 1 done, 0 to try again later, 0 failed." in result.output
    assert [j.status for j in _jobs()] == ["done"]
    assert "Ran 0 jobs" in runner.invoke(args=["worker", "--burst"]).output


def test_sent_jobs_are_forgotten_after_the_keeping_period(app, make_user, deliver_outbox):
    notify(make_user("learner"), "feedback", "Ready.", "/x")
    db.session.commit()
    deliver_outbox()
    [job] = _jobs()
    keep = timedelta(days=30)
    assert worker.prune(job.finished_at + keep - timedelta(seconds=1), keep) == 0
    assert worker.prune(job.finished_at + keep + timedelta(seconds=1), keep) == 1
    assert _jobs() == []


def test_the_worker_loop_sends_as_jobs_arrive_and_stops_when_told(app, make_user,
                                                                  deliver_outbox):
    stop = threading.Event()
    loop = threading.Thread(target=worker.serve, args=(app, 0.1, stop))
    loop.start()
    try:
        notify(make_user("learner"), "feedback", "Ready.", "/x")
        db.session.commit()
        for _ in range(200):  # at most 20 s; done in well under one
            if [j.status for j in _jobs()] == ["done"]:
                break
            stop.wait(0.1)
        assert [j.status for j in _jobs()] == ["done"]
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
