"""Enrolment CSV uploads wait in the database (any app server can confirm them, once), and
large imports run in the worker with a progress page, safely retried after a crash."""

from __future__ import annotations

import contextlib
import io
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from learning import create_app
from learning.core import worker
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.people import csv_uploads, import_jobs
from learning.people import enrolment_csv as csv_import
from learning.people.models import CsvUpload, Enrolment, EnrolmentImport, Invitation, User
from tests.conftest import Auth, csrf_from, fixture_settings

GOOD = (Path(__file__).parent / "data" / "csv" / "good.csv").read_bytes()
#: Six learners: five new, one with an account already.
LARGE = ("name,email,cohort\n" + "".join(f"Learner {n},learner{n}@example.com,North 2026\n"
                                         for n in range(1, 6))
         + "Existing Learner,existing@example.com,North 2026\n").encode()


@pytest.fixture
def world(make_user, make_centre, make_cohort):
    coordinator, other = make_user("coordinator"), make_user("coordinator")
    admin = make_user("admin")
    existing = make_user("learner", email="existing@example.com", name="Existing Learner")
    north = make_centre("North College", coordinators=[coordinator, other])
    return {"coordinator": coordinator, "other": other, "admin": admin, "existing": existing,
            "north": make_cohort("North 2026", centre=north)}


@pytest.fixture
def large(app, monkeypatch):
    """Imports of more than two learners go to the worker, written two rows at a time."""
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 2)
    monkeypatch.setattr(import_jobs, "BATCH", 2)


def upload(client, data: bytes, filename: str = "learners.csv"):
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    return client.post("/admin/enrol", data={"csrf_token": token,
                                             "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def upload_id(preview_html: str) -> str:
    return re.search(r'name="upload_id"[^>]*value="([^"]+)"', preview_html).group(1)


def confirm(client, upload_token: str, csrf: str | None = None):
    csrf = csrf or csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    return client.post("/admin/enrol/confirm", data={"csrf_token": csrf,
                                                     "upload_id": upload_token})


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Enrolment.id))),
            db.session.scalar(select(func.count(Invitation.id))))


def audits(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action))


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


# ---- the upload waits in the database ----

def test_preview_then_import_writes_no_file(app, client, auth, world):
    before = _files(Path(app.instance_path))
    auth.login(world["coordinator"])
    token = upload_id(upload(client, GOOD).get_data(as_text=True))
    waiting = db.session.scalar(select(CsvUpload).where(CsvUpload.token == token))
    assert waiting.actor_id == world["coordinator"].id and "amara@example.com" in waiting.text
    assert waiting.rows == 3
    done = confirm(client, token)
    assert done.status_code == 200 and "Learners enrolled" in done.get_data(as_text=True)
    assert counts()[0] == 4 + 2  # the world's four people and two new learners
    assert _files(Path(app.instance_path)) == before
    db.session.expire_all()
    claimed = db.session.scalar(select(CsvUpload).where(CsvUpload.token == token))
    assert claimed.confirmed_at is not None and claimed.text == ""  # the file is not kept


def test_preview_on_one_server_and_import_on_another(app, client, auth, world,
                                                     database_url, tmp_path):
    """Two app objects on one database, as two servers behind a load balancer."""
    other = create_app(fixture_settings(database_url, PASSWORD_CHECKS_AT_ONCE=8,
                                        PASSWORD_CHECK_DIR=str(tmp_path / "checks")))
    try:
        auth.login(world["coordinator"])
        token = upload_id(upload(client, GOOD).get_data(as_text=True))
        second = other.test_client()
        Auth(second).login(world["coordinator"])
        done = confirm(second, token)
        assert done.status_code == 200, done.get_data(as_text=True)
        assert "2 new accounts" in done.get_data(as_text=True)
        assert counts()[1] == 3
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_another_person_cannot_import_someone_elses_upload(client, auth, world):
    auth.login(world["coordinator"])
    token = upload_id(upload(client, GOOD).get_data(as_text=True))
    auth.logout()
    before = counts()
    for person in ("other", "admin"):  # same centre, and even an admin
        auth.login(world[person])
        response = confirm(client, token)
        assert response.status_code == 302
        assert "no longer waiting" in client.get("/admin/enrol").get_data(as_text=True)
        auth.logout()
    assert counts() == before
    auth.login(world["coordinator"])  # still there for its uploader
    assert confirm(client, token).status_code == 200
    assert counts()[1] == before[1] + 3


def test_pressing_import_twice_imports_once(client, auth, world):
    auth.login(world["coordinator"])
    token = upload_id(upload(client, GOOD).get_data(as_text=True))
    assert confirm(client, token).status_code == 200
    after = counts()
    again = confirm(client, token)
    # The second press is shown the first one's outcome; its links are not shown again.
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Everyone in learners.csv is enrolled: 2 new accounts" in page
    assert "were shown once" in page and "set-password/" not in page
    assert counts() == after
    assert audits("enrolment.import") == 1


def test_two_presses_at_once_import_once(app, auth, world, monkeypatch):
    """Both requests read the upload as waiting before either claims it: the conditional
    UPDATE lets one through."""
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        Auth(c).login(world["coordinator"])
    token = upload_id(upload(clients[0], GOOD).get_data(as_text=True))
    tokens = [csrf_from(c.get("/admin/enrol").get_data(as_text=True)) for c in clients]
    inside = threading.Barrier(2)
    real_execute = db.session.execute

    def both_read_first(statement, *args, **kwargs):
        result = real_execute(statement, *args, **kwargs)
        if getattr(statement, "is_select", False) and "csv_upload" in str(statement):
            with contextlib.suppress(threading.BrokenBarrierError):
                inside.wait(timeout=2)
        return result

    results: list = [None, None]

    def press(i):
        with app.app_context():
            monkeypatch.setattr(db.session, "execute", both_read_first)
            try:
                results[i] = confirm(clients[i], token, tokens[i])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status_code for r in results)
    # The other press is told the file was imported (302), or sent to the import's page
    # when the first press committed before it looked (303).
    assert statuses in ([200, 302], [200, 303]), [r.get_data(as_text=True)[:300]
                                                  for r in results]
    assert counts()[1] == 3
    assert audits("enrolment.import") == 1


def test_an_upload_past_its_hour_says_so(client, auth, world):
    auth.login(world["coordinator"])
    token = upload_id(upload(client, GOOD).get_data(as_text=True))
    long_ago = utcnow() - timedelta(hours=2)
    db.session.execute(update(CsvUpload).values(created_at=long_ago - timedelta(hours=1),
                                                expires_at=long_ago))
    db.session.commit()
    before = counts()
    response = confirm(client, token)
    assert response.status_code == 302
    page = client.get("/admin/enrol").get_data(as_text=True)
    assert "waited more than an hour" in page and "Nothing was imported" in page
    assert counts() == before


def test_old_uploads_are_forgotten(world):
    now = utcnow()
    fresh = csv_uploads.store(world["coordinator"], "a.csv", "x", 1, now)
    csv_uploads.store(world["coordinator"], "b.csv", "x", 1, now - timedelta(hours=2))
    db.session.commit()
    csv_uploads.store(world["coordinator"], "c.csv", "x", 1, now)  # removes the old one
    db.session.commit()
    names = set(db.session.scalars(select(CsvUpload.filename)))
    assert names == {"a.csv", "c.csv"}
    assert csv_uploads.claim(fresh, world["other"], now) is csv_uploads.Missing.UNKNOWN


# ---- large imports in the worker ----

def _start_large(client, auth, world) -> str:
    auth.login(world["coordinator"])
    token = upload_id(upload(client, LARGE).get_data(as_text=True))
    response = confirm(client, token)
    assert response.status_code == 303
    return response.headers["Location"]


def _run_worker(app, **kwargs):
    db.session.commit()
    counted = worker.run_pending(app, **kwargs)
    db.session.expire_all()
    return counted


def test_a_small_import_stays_in_the_request(app, client, auth, world, large):
    auth.login(world["coordinator"])
    token = upload_id(upload(client, GOOD[:GOOD.index(b"Ben")]).get_data(as_text=True))
    assert confirm(client, token).status_code == 200
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_large_import_runs_in_the_worker_with_progress(app, client, auth, world, large,
                                                          monkeypatch):
    before = counts()
    page_url = _start_large(client, auth, world)
    assert re.fullmatch(r"/admin/enrol/imports/\d+", page_url)
    waiting = client.get(page_url)
    html = waiting.get_data(as_text=True)
    assert waiting.headers["Cache-Control"] == "no-store"
    assert "Importing learners" in html and 'role="status"' in html
    assert "Waiting to start: 6 learners from learners.csv" in html
    assert "Check progress now" in html  # without JavaScript
    assert counts() == before  # nothing imported in the request
    status = client.get(page_url + "/status").get_json()
    assert status == {"status": "waiting", "done": 0, "total": 6,
                      "summary": "Waiting to start: 6 learners from learners.csv. This page "
                                 "updates itself."}

    reported = []
    real = worker._Context.progress
    monkeypatch.setattr(worker._Context, "progress",
                        lambda self, done, total: (reported.append((done, total)),
                                                   real(self, done, total)))
    assert _run_worker(app).done == 1
    assert reported == [(2, 6), (4, 6), (6, 6)]
    assert db.session.scalar(select(Job.progress)) == {"done": 6, "total": 6}

    html = client.get(page_url).get_data(as_text=True)
    assert "Everyone in learners.csv is enrolled: 5 new accounts, 1 existing account" in html
    links = re.findall(r"http://localhost/set-password/([\w-]+)", html)
    assert len(links) == 5
    assert client.get(page_url + "/status").get_json()["status"] == "done"
    # Each link works (the page worked out the very tokens the worker hashed) ...
    auth.logout()
    for token in links:
        assert client.get(f"/set-password/{token}").status_code == 200
    # ... and is shown only once.
    auth.login(world["coordinator"])
    again = client.get(page_url).get_data(as_text=True)
    assert "set-password/" not in again and "were shown once" in again
    record = db.session.scalar(select(EnrolmentImport))
    assert record.links_shown_at is not None and record.text == ""
    assert counts() == (before[0] + 5, before[1] + 6, before[2] + 5)
    assert audits("enrolment.import") == 1


def test_pressing_import_twice_on_a_large_file_leads_to_its_one_import(client, auth, world,
                                                                       large):
    page_url = _start_large(client, auth, world)
    token = db.session.scalar(select(EnrolmentImport.upload_token))
    again = confirm(client, token)
    assert again.status_code == 303 and again.headers["Location"] == page_url
    assert db.session.scalar(select(func.count(EnrolmentImport.id))) == 1
    assert db.session.scalar(select(func.count(Job.id))) == 1


@pytest.mark.parametrize("who", ["other", "admin", "existing"])
def test_only_the_uploader_sees_the_progress_page(app, client, auth, world, large, who):
    page_url = _start_large(client, auth, world)
    _run_worker(app)
    auth.logout()
    auth.login(world[who])
    expected = 403 if who == "existing" else 404  # a learner; managers elsewhere see nothing
    assert client.get(page_url).status_code == expected
    assert client.get(page_url + "/status").status_code == expected
    db.session.expire_all()
    assert db.session.scalar(select(EnrolmentImport.link_salt)) is not None  # still unseen


def test_a_file_that_went_bad_before_the_worker_ran_imports_nothing(app, client, auth, world,
                                                                   large):
    before = counts()
    page_url = _start_large(client, auth, world)
    world["north"].archived = True
    _run_worker(app)
    html = client.get(page_url).get_data(as_text=True)
    assert "Import stopped" in html and "Stopped: nothing was imported." in html
    assert "is archived" in html
    assert counts() == before


class Killed(BaseException):
    """The worker process dying (kill -9): no handler or worker code runs after it."""


def test_a_worker_that_dies_halfway_is_taken_over_with_the_same_outcome(
        app, client, auth, world, large, monkeypatch, deliver_outbox):
    before = counts()
    page_url = _start_large(client, auth, world)
    real = csv_import.write_batch
    calls = []

    def dies_in_the_second_batch(*args, **kwargs):
        calls.append(1)
        written = real(*args, **kwargs)
        if len(calls) == 2:
            raise Killed  # the second batch was written but never committed
        return written

    monkeypatch.setattr(csv_import, "write_batch", dies_in_the_second_batch)
    db.session.commit()
    with pytest.raises(Killed):
        worker.run_pending(app)
    db.session.expire_all()
    record = db.session.scalar(select(EnrolmentImport))
    assert (record.status, record.rows_done, record.created) == ("running", 2, 2)
    assert counts() == (before[0] + 2, before[1] + 2, before[2] + 2)
    page = client.get(page_url).get_data(as_text=True)
    assert "Importing: 2 of 6 learners done." in page

    monkeypatch.setattr(csv_import, "write_batch", real)
    lease_over = utcnow() + timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    sent = deliver_outbox(now=lease_over)  # another worker takes the job over
    html = client.get(page_url).get_data(as_text=True)
    assert "Everyone in learners.csv is enrolled: 5 new accounts, 1 existing account" in html
    assert len(re.findall(r"/set-password/[\w-]+", html)) == 5
    # The same final state as an import that never stopped: each new learner made, invited,
    # emailed and enrolled once; the existing learner enrolled once.
    assert counts() == (before[0] + 5, before[1] + 6, before[2] + 5)
    assert sorted(m["To"] for m in sent) == [f"learner{n}@example.com" for n in range(1, 6)]
    for email in ["existing@example.com"] + [f"learner{n}@example.com" for n in range(1, 6)]:
        user = db.session.scalar(select(User).where(User.email == email))
        assert db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.user_id == user.id)) == 1
    assert audits("user.create") == 5 and audits("cohort.enrol") == 6
    assert audits("enrolment.import") == 1
    record = db.session.scalar(select(EnrolmentImport))
    assert (record.created, record.enrolled_existing, record.unchanged, record.emailed) == (
        5, 1, 0, 5)


def test_an_import_the_worker_gives_up_on_says_it_stopped(app, client, auth, world, large,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "JOB_MAX_ATTEMPTS", 2)
    before = counts()
    page_url = _start_large(client, auth, world)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(csv_import, "write_batch", broken)
    assert _run_worker(app).retry == 1
    assert "The server hit a problem and will try again shortly." in client.get(
        page_url).get_data(as_text=True)
    assert _run_worker(app, now=utcnow() + timedelta(hours=1)).failed == 1
    html = client.get(page_url).get_data(as_text=True)
    assert "Import stopped" in html
    assert ("Stopped: nothing was imported. The server could not finish the import, even "
            "after trying again.") in html
    assert "disk is full" not in html  # the technical reason is for admins (the outbox)
    assert client.get(page_url + "/status").get_json()["status"] == "failed"
    assert counts() == before
    assert db.session.scalar(select(EnrolmentImport.text)) == ""


def test_a_queued_import_that_never_starts_suggests_telling_an_administrator(world):
    record = EnrolmentImport(upload_token="t", actor_id=world["coordinator"].id,
                             filename="big.csv", status=import_jobs.WAITING, rows_total=900,
                             created_at=utcnow() - timedelta(minutes=20))
    assert "tell your administrator" in import_jobs.summary(record)
    record.created_at = utcnow()
    assert "administrator" not in import_jobs.summary(record)
