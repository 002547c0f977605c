"""The set-password links of an enrolment import, downloaded as a CSV file: by the uploader
only, while the links work, audited, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select, update

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people import import_jobs
from learning.people.models import EnrolmentImport, Invitation, User
from tests.conftest import csrf_from
from tests.htmlcheck import html_errors, needs_checker
from tests.test_csv_jobs import GOOD, LARGE, _run_worker, audits, confirm, upload, upload_id

LINK = re.compile(r"http://localhost/set-password/([\w-]+)")


@pytest.fixture
def world(make_user, make_centre, make_cohort):
    coordinator, other = make_user("coordinator"), make_user("coordinator")
    existing = make_user("learner", email="existing@example.com", name="Existing Learner")
    north = make_centre("North College", coordinators=[coordinator, other])
    return {"coordinator": coordinator, "other": other, "admin": make_user("admin"),
            "existing": existing, "north": make_cohort("North 2026", centre=north)}


def _import(client, auth, world, data: bytes = GOOD) -> tuple[str, int]:
    """Import `data` as the coordinator; (the done page, the import's id)."""
    auth.login(world["coordinator"])
    done = confirm(client, upload_id(upload(client, data).get_data(as_text=True)))
    assert done.status_code == 200
    return done.get_data(as_text=True), db.session.scalar(select(EnrolmentImport.id))


def _download(client, import_id: int, page: str = "/admin/enrol"):
    csrf = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(f"/admin/enrol/imports/{import_id}/links.csv",
                       data={"csrf_token": csrf})


def _rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so Excel reads the names' accents right
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_done_page_offers_the_links_and_says_to_keep_the_file_safe(client, auth, world):
    html, import_id = _import(client, auth, world)
    assert "Download the set-password links (CSV)" in html
    assert f'action="/admin/enrol/imports/{import_id}/links.csv"' in html
    assert "name, email, cohort, set-password link and the date the link works until" in html
    assert "keep the file safe" in html


def test_the_file_holds_each_new_learners_working_link(client, auth, world):
    html, import_id = _import(client, auth, world)
    shown = LINK.findall(html)
    response = _download(client, import_id)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "set-password-links.csv" in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert rows[0] == ["name", "email", "cohort", "set-password link", "works until (UK time)"]
    assert [r[:3] for r in rows[1:]] == [["Amara Okafor", "amara@example.com", "North 2026"],
                                         ["Ben Carter", "ben.carter@example.com", "North 2026"]]
    # The very links the page showed, each of which works, with the date it works until.
    assert [LINK.fullmatch(r[3]).group(1) for r in rows[1:]] == shown
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r[4]) for r in rows[1:])
    auth.logout()
    for token in shown:
        assert client.get(f"/set-password/{token}").status_code == 200


def test_a_download_is_audited(client, auth, world):
    _, import_id = _import(client, auth, world)
    assert audits("enrolment.links_download") == 0
    _download(client, import_id)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "enrolment.links_download"))
    assert event.actor_id == world["coordinator"].id
    assert (event.subject_type, event.subject_id) == ("EnrolmentImport", str(import_id))
    assert event.detail == {"filename": "learners.csv", "links": 2}
    auth.logout()
    auth.login(world["admin"])
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "downloaded the set-password links of" in log


def test_a_used_link_is_left_out(client, auth, world):
    html, import_id = _import(client, auth, world)
    amara = db.session.scalar(select(User.id).where(User.email == "amara@example.com"))
    db.session.execute(update(Invitation).where(Invitation.user_id == amara)
                       .values(used_at=utcnow()))
    db.session.commit()
    rows = _rows(_download(client, import_id))
    assert [r[0] for r in rows[1:]] == ["Ben Carter"]


def test_expired_links_are_not_downloaded_and_the_page_says_why(client, auth, world):
    _, import_id = _import(client, auth, world)
    db.session.execute(update(Invitation).values(expires_at=utcnow()))
    db.session.commit()
    response = _download(client, import_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/enrol/imports/{import_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "There are no set-password links to download" in page
    assert "expired or been used" in page
    assert "set-password/" not in page
    assert audits("enrolment.links_download") == 0


def test_links_past_their_week_are_not_offered(client, auth, world):
    _, import_id = _import(client, auth, world)
    db.session.execute(update(EnrolmentImport).values(
        finished_at=utcnow() - import_jobs.LINKS_KEEP))
    db.session.execute(update(Invitation).values(expires_at=utcnow()))
    db.session.commit()
    page = client.get(f"/admin/enrol/imports/{import_id}").get_data(as_text=True)
    assert "have expired and are not kept" in page
    assert "Download the set-password links" not in page
    assert _download(client, import_id).status_code == 303


@pytest.mark.parametrize("who, status", [("other", 404), ("admin", 404), ("existing", 403)])
def test_only_the_uploader_may_download_the_links(client, auth, world, who, status):
    _, import_id = _import(client, auth, world)
    auth.logout()
    auth.login(world[who])
    page = "/account/password" if who == "existing" else "/admin/enrol"
    response = _download(client, import_id, page)
    assert response.status_code == status
    assert "set-password/" not in response.get_data(as_text=True)
    assert audits("enrolment.links_download") == 0


def test_the_download_needs_the_forms_csrf_token(client, auth, world):
    _, import_id = _import(client, auth, world)
    response = client.post(f"/admin/enrol/imports/{import_id}/links.csv")
    assert response.status_code == 400
    assert audits("enrolment.links_download") == 0


def test_a_name_a_spreadsheet_would_run_is_written_as_text(client, auth, world):
    data = b"name,email,cohort\n=HYPERLINK(\"x\"),formula@example.com,North 2026\n"
    _, import_id = _import(client, auth, world, data)
    rows = _rows(_download(client, import_id))
    assert rows[1][0] == "'=HYPERLINK(\"x\")"


def test_a_worker_import_offers_the_download_after_its_one_showing(
        app, client, auth, world, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 2)
    auth.login(world["coordinator"])
    page_url = confirm(client, upload_id(upload(client, LARGE).get_data(as_text=True)))
    page_url = page_url.headers["Location"]
    running = client.get(page_url).get_data(as_text=True)
    assert "Download the set-password links" not in running  # nothing to download yet
    _run_worker(app)
    first = client.get(page_url).get_data(as_text=True)
    assert len(LINK.findall(first)) == 5 and "Download the set-password links (CSV)" in first
    again = client.get(page_url).get_data(as_text=True)
    assert "set-password/" not in again and "were shown once" in again
    assert "Download the set-password links (CSV)" in again
    import_id = int(page_url.rsplit("/", 1)[1])
    rows = _rows(_download(client, import_id, page_url))
    assert [r[0] for r in rows[1:]] == [f"Learner {n}" for n in range(1, 6)]
    assert {LINK.fullmatch(r[3]).group(1) for r in rows[1:]} == set(LINK.findall(first))
    assert import_jobs.find(import_id, world["coordinator"]).links_shown_at is not None


@needs_checker
def test_the_pages_offering_the_download_are_valid_html(client, auth, world, tmp_path):
    html, import_id = _import(client, auth, world)
    (tmp_path / "enrol-done.html").write_text(html)
    (tmp_path / "enrol-again.html").write_text(
        client.get(f"/admin/enrol/imports/{import_id}").get_data(as_text=True))
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)


def test_a_small_import_forgets_the_links_of_imports_past_their_week(client, auth, world):
    _import(client, auth, world)
    db.session.execute(update(EnrolmentImport).values(
        finished_at=utcnow() - import_jobs.LINKS_KEEP - import_jobs.LINKS_KEEP / 7))
    db.session.commit()
    data = b"name,email,cohort\nCara Dunn,cara@example.com,North 2026\n"
    assert confirm(client, upload_id(upload(client, data).get_data(as_text=True))
                   ).status_code == 200
    db.session.expire_all()
    # The first import's week is over: its record is gone and only the new one is kept.
    kept = db.session.scalars(select(EnrolmentImport)).all()
    assert [(r.created, r.link_salt is not None) for r in kept] == [(1, True)]
    assert kept[0].finished_at > utcnow() - import_jobs.LINKS_KEEP / 7
