"""Admin pages: who may open them, people and their accounts, roles, and the audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.worker import run_pending
from learning.people.models import Enrolment, Role, User
from tests.conftest import csrf_from
from tests.htmlcheck import html_errors, needs_checker


@pytest.mark.parametrize("role", ["learner", "assessor", "iqa"])
def test_staff_and_learners_cannot_change_anything(client, auth, make_user, role):
    target = make_user("learner")
    auth.login(make_user(role))
    token = csrf_from(client.get("/dashboard").get_data(as_text=True))
    for action in ("deactivate", "reactivate", "reset-link", "roles"):
        response = client.post(f"/admin/people/{target.id}/{action}",
                               data={"csrf_token": token, "roles": ["admin"]})
        assert response.status_code == 403
    assert client.get(f"/admin/people/{target.id}").status_code == 403


@pytest.fixture
def centres(make_user, make_centre, make_cohort):
    coordinator, other = make_user("coordinator"), make_user("coordinator")
    mine = make_user("learner", name="Mina Mine", email="mina@example.com")
    theirs = make_user("learner", name="Theo Theirs", email="theo@example.com")
    assessor = make_user("assessor", name="Asha Assessor")
    north = make_centre("North", coordinators=[coordinator])
    south = make_centre("South", coordinators=[other])
    make_cohort("North 2026", learners=[mine], assessors=[assessor], centre=north)
    make_cohort("South 2026", learners=[theirs], centre=south)
    return {"coordinator": coordinator, "other": other, "mine": mine, "theirs": theirs,
            "assessor": assessor, "admin": make_user("admin", name="Ada Admin")}


def _post(client, page_url: str, url: str, **data):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


# ---- scope ----

def test_coordinator_sees_and_manages_only_their_centres_learners(client, auth, centres):
    auth.login(centres["coordinator"])
    listing = client.get("/admin/people").get_data(as_text=True)
    assert "Mina Mine" in listing
    assert "Theo Theirs" not in listing and "Asha Assessor" not in listing
    assert client.get(f"/admin/people/{centres['mine'].id}").status_code == 200
    assert client.get(f"/admin/people/{centres['theirs'].id}").status_code == 403
    assert client.get(f"/admin/people/{centres['assessor'].id}").status_code == 403
    response = _post(client, "/admin/people", f"/admin/people/{centres['theirs'].id}/deactivate")
    assert response.status_code == 403
    assert db.session.get(User, centres["theirs"].id).active
    assert client.get("/admin/people/99999").status_code == 404


def test_admin_sees_everyone(client, auth, centres):
    auth.login(centres["admin"])
    listing = client.get("/admin/people").get_data(as_text=True)
    for name in ("Mina Mine", "Theo Theirs", "Asha Assessor", "Ada Admin"):
        assert name in listing
    assert client.get(f"/admin/people/{centres['assessor'].id}").status_code == 200


# ---- roles ----

def test_admin_grants_and_revokes_roles_with_audit(client, auth, centres):
    person = centres["assessor"]
    auth.login(centres["admin"])
    page = f"/admin/people/{person.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'type="checkbox"' in html and "<legend" in html
    response = _post(client, page, f"{page}/roles", roles=["assessor", "iqa"])
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).role_set == {Role.ASSESSOR, Role.IQA}
    response = _post(client, page, f"{page}/roles", roles=["iqa"])
    db.session.expire_all()
    assert db.session.get(User, person.id).role_set == {Role.IQA}
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_id == str(person.id)).order_by(AuditEvent.id)))
    assert actions[-2:] == ["user.grant_role", "user.revoke_role"]


def test_roles_need_at_least_one_and_admins_keep_their_own(client, auth, centres):
    admin = centres["admin"]
    auth.login(admin)
    page = f"/admin/people/{admin.id}"
    response = _post(client, page, f"{page}/roles")
    assert response.status_code == 422
    assert "Choose at least one role" in response.get_data(as_text=True)
    response = _post(client, page, f"{page}/roles", roles=["learner"])
    assert response.status_code == 422
    assert "cannot take away your own administrator role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).has_role(Role.ADMIN)


def test_coordinator_cannot_change_roles(client, auth, centres):
    auth.login(centres["coordinator"])
    page = f"/admin/people/{centres['mine'].id}"
    html = client.get(page).get_data(as_text=True)
    assert 'type="checkbox"' not in html and "Only administrators can change roles" in html
    response = _post(client, page, f"{page}/roles", roles=["admin"])
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, centres["mine"].id).role_set == {Role.LEARNER}


# ---- deactivating ----

def test_deactivate_and_reactivate(client, auth, centres):
    learner = centres["mine"]
    auth.login(centres["coordinator"])
    page = f"/admin/people/{learner.id}"
    response = _post(client, page, f"{page}/deactivate")
    assert response.status_code == 302
    assert "Deactivated" in client.get(page).get_data(as_text=True)
    auth.logout()
    assert auth.login(learner).status_code == 422  # login refused
    # Nothing of theirs was removed.
    assert db.session.get(User, learner.id) is not None
    assert db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.user_id == learner.id, Enrolment.left_at.is_(None))) == 1
    auth.login(centres["coordinator"])
    assert _post(client, page, f"{page}/reactivate").status_code == 302
    auth.logout()
    assert auth.login(learner).status_code == 302
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_id == str(learner.id))))
    assert {"user.deactivate", "user.reactivate"} <= actions


def test_admin_cannot_deactivate_themselves(client, auth, centres):
    admin = centres["admin"]
    auth.login(admin)
    page = f"/admin/people/{admin.id}"
    assert "You cannot deactivate your own account" in client.get(page).get_data(as_text=True)
    _post(client, page, f"{page}/deactivate")
    assert "You cannot deactivate your own account" in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_deactivation_ends_an_existing_session(client, auth, centres):
    """Flask-Login treats an inactive user as not authenticated, so the session stops working."""
    learner = centres["mine"]
    auth.login(learner)
    learner.active = False
    db.session.commit()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- the people list ----

def test_search_filter_and_pages(client, auth, make_user):
    admin = make_user("admin", name="Ada Admin")
    for n in range(30):
        make_user("learner", name=f"Learner {n:02d}", email=f"l{n:02d}@example.test",
                  active=n % 10 != 0)
    make_user("assessor", name="Sam Searchable", email="sam@findme.test")
    auth.login(admin)
    first = client.get("/admin/people?role=learner").get_data(as_text=True)
    assert "30 people matching: page 1 of 2" in first
    assert len(re.findall(r'href="/admin/people/\d+"', first)) == 25
    second = client.get("/admin/people?role=learner&page=2").get_data(as_text=True)
    assert "Learner 29" in second and "Previous page" in second
    assert "Sam Searchable" in client.get("/admin/people?q=FINDME").get_data(as_text=True)
    assert "1 person matching" in client.get("/admin/people?q=sam").get_data(as_text=True)
    inactive = client.get("/admin/people?active=no").get_data(as_text=True)
    assert "3 people matching" in inactive and "Learner 10" in inactive
    # Wildcards typed by the user are taken literally.
    assert "No one matches" in client.get("/admin/people?q=%25_%25").get_data(as_text=True)


def test_people_list_runs_a_fixed_number_of_queries(client, auth, make_user, make_cohort,
                                                   count_queries):
    admin = make_user("admin")
    auth.login(admin)

    def queries() -> int:
        with count_queries() as q:
            assert client.get("/admin/people").status_code == 200
        return q.count

    make_cohort(learners=[make_user("learner") for _ in range(2)])
    few = queries()
    make_cohort(learners=[make_user(roles=["learner", "assessor"]) for _ in range(25)])
    assert queries() == few


# ---- the audit log ----

def _event(action: str, actor: User | None, at: datetime, subject=None) -> None:
    audit.record(action, actor=actor, subject=subject).at = at


def test_audit_log_filters(client, auth, make_user, make_cohort):
    admin = make_user("admin", email="boss@example.test")
    other = make_user("coordinator", email="chloe@example.test")
    learner = make_user("learner", name="Lena Learner")
    _event("user.deactivate", other, datetime(2026, 3, 1, 12, tzinfo=UTC), learner)
    _event("user.reactivate", other, datetime(2026, 3, 2, 12, tzinfo=UTC), learner)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    _event("user.grant_role", admin, datetime(2026, 6, 30, 23, 30, tzinfo=UTC), learner)
    db.session.commit()
    auth.login(admin)
    everything = client.get("/admin/audit").get_data(as_text=True).split("<tbody>")[1]
    assert everything.index("Role given") < everything.index("Account reactivated") \
        < everything.index("Account deactivated")  # newest first
    assert "Lena Learner" in everything
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "<caption" in html and '<th scope="col">When</th>' in html

    by_action = client.get("/admin/audit?action=user.deactivate").get_data(as_text=True)
    assert "1 event matching" in by_action and "Account deactivated" in by_action
    by_actor = client.get("/admin/audit?actor=CHLOE").get_data(as_text=True)
    assert "2 events matching" in by_actor
    by_date = client.get("/admin/audit?date_from=2026-03-02&date_to=2026-06-30")
    assert "1 event matching" in by_date.get_data(as_text=True)
    july = client.get("/admin/audit?date_from=2026-07-01&date_to=2026-07-01")
    html = july.get_data(as_text=True)
    assert "1 event matching" in html and "1 July 2026 at 12:30am" in html


def test_audit_log_date_errors(client, auth, make_user):
    auth.login(make_user("admin"))
    response = client.get("/admin/audit?date_from=2026-13-45")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a real date" in html and 'href="#date_from"' in html
    response = client.get("/admin/audit?date_from=2026-05-02&date_to=2026-05-01")
    assert response.status_code == 422
    assert "must be the same as or after" in response.get_data(as_text=True)


def test_audit_log_runs_a_fixed_number_of_queries(client, auth, make_user, make_cohort,
                                                  count_queries):
    admin = make_user("admin")
    auth.login(admin)

    def queries() -> int:
        with count_queries() as q:
            assert client.get("/admin/audit").status_code == 200
        return q.count

    def add(n: int) -> None:
        for _ in range(n):
            person = make_user("learner")
            make_cohort(learners=[person])  # cohort.enrol events are about cohorts
            audit.record("user.deactivate", actor=admin, subject=person)
        db.session.commit()

    add(2)
    few = queries()
    add(20)
    assert queries() == few


def test_audit_filter_offers_every_action_in_the_log_without_a_distinct(
        client, auth, make_user, count_queries):
    """Actions no longer written (or written by an older version) can still be chosen; the
    list is read by skipping through the index on action, not DISTINCT over the table."""
    admin = make_user("admin")
    for action in ("legacy.export", "legacy.export", "zz.retired", "user.deactivate"):
        audit.record(action, actor=admin)
    db.session.commit()
    auth.login(admin)
    with count_queries() as q:
        html = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="legacy.export">legacy.export</option>' in html
    assert '<option value="zz.retired">zz.retired</option>' in html
    assert html.count('value="user.deactivate"') == 1
    assert not any("DISTINCT" in s.upper() for s in q.statements)


def test_admin_pages_have_one_h1(client, auth, centres):
    auth.login(centres["admin"])
    for url in ("/admin/", "/admin/enrol", "/admin/people", "/admin/audit",
                f"/admin/people/{centres['mine'].id}"):
        assert client.get(url).get_data(as_text=True).count("<h1") == 1, url


@needs_checker
def test_admin_and_invitation_pages_are_valid_html(app, client, auth, centres, tmp_path,
                                                   monkeypatch):
    pages: dict[str, str] = {}
    auth.login(centres["admin"])
    person = f"/admin/people/{centres['mine'].id}"
    for name, url in {"admin": "/admin/", "enrol": "/admin/enrol", "people": "/admin/people",
                      "person": person, "audit": "/admin/audit",
                      "audit-error": "/admin/audit?date_from=nope"}.items():
        pages[name] = client.get(url).get_data(as_text=True)
    pages["roles-error"] = _post(client, person, f"{person}/roles").get_data(as_text=True)
    token = csrf_from(pages["enrol"])

    def upload(text: str):
        return client.post("/admin/enrol", data={"csrf_token": token, "file": (
            io.BytesIO(text.encode()), "learners.csv")}, content_type="multipart/form-data")

    pages["enrol-problems"] = upload("name,email,cohort\nA,bad,Nowhere\n").get_data(as_text=True)
    pages["enrol-file-error"] = upload("").get_data(as_text=True)
    preview = upload("name,email,cohort\nAnn,ann@example.com,North 2026\n"
                     "Mina,mina@example.com,North 2026\n").get_data(as_text=True)
    pages["enrol-preview"] = preview
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', preview).group(1)
    pages["enrol-done"] = client.post("/admin/enrol/confirm", data={
        "csrf_token": token, "upload_id": upload_id}).get_data(as_text=True)
    # A large import: its progress page while it waits, then its outcome with the links.
    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 1)
    preview = upload("name,email,cohort\nJo,jo@example.com,North 2026\n"
                     "Kit,kit@example.com,North 2026\n").get_data(as_text=True)
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', preview).group(1)
    progress = client.post("/admin/enrol/confirm", data={
        "csrf_token": token, "upload_id": upload_id}).headers["Location"]
    pages["enrol-import-waiting"] = client.get(progress).get_data(as_text=True)
    db.session.commit()
    run_pending(app)
    pages["enrol-import-done"] = client.get(progress).get_data(as_text=True)
    assert "set-password/" in pages["enrol-import-done"]
    link = _post(client, person, f"{person}/reset-link").get_data(as_text=True)
    pages["reset-link"] = link
    pages["person-with-links"] = client.get(person).get_data(as_text=True)
    path = re.search(r"http://localhost(/set-password/[\w-]+)", link).group(1)
    auth.logout()
    pages["set-password"] = client.get(path).get_data(as_text=True)
    pages["set-password-error"] = client.post(path, data={
        "csrf_token": csrf_from(pages["set-password"]), "password": "x"}).get_data(as_text=True)
    pages["link-invalid"] = client.get("/set-password/nope").get_data(as_text=True)
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html)
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)


def test_the_audit_log_reads_as_sentences_filters_by_whom_it_is_about_and_downloads(
        client, auth, make_user):
    admin = make_user("admin", name="Ada Admin", email="boss@example.test")
    chloe = make_user("coordinator", name="Chloe Coord", email="chloe@example.test")
    lena = make_user("learner", name="Lena Learner", email="lena@example.test")
    omar = make_user("learner", name="=Omar Formula", email="omar@example.test")
    _event("user.deactivate", chloe, datetime(2026, 3, 1, 12, tzinfo=UTC), lena)
    _event("user.reactivate", chloe, datetime(2026, 3, 2, 12, tzinfo=UTC), omar)
    db.session.commit()
    auth.login(admin)
    html = unescape(client.get("/admin/audit").get_data(as_text=True))
    assert "<tbody>" in html, re.findall(r'error-message[^<]*<[^<]*<[^<]*', html)
    assert ("Chloe Coord (training coordinator) deactivated the account of Lena Learner "
            "(lena@example.test).") in html
    about = client.get("/admin/audit?about=LENA").get_data(as_text=True)
    assert "1 event matching" in about and "Omar" not in about.split("<tbody>")[1]
    assert 'href="/admin/audit.csv?about=LENA"' in about

    download = client.get("/admin/audit.csv?about=lena")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert download.headers["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["when (UK time)", "what happened", "action"]
    assert [r[2] for r in rows[1:]] == ["user.deactivate"]
    assert rows[1][0] == "2026-03-01 12:00" and rows[1][3] == "Chloe Coord"
    everything = list(csv.reader(io.StringIO(
        client.get("/admin/audit.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert any(r[5].startswith("'=Omar Formula") for r in everything[1:])  # never a formula
    # The download is itself in the log; coordinators cannot download it.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "audit.export")) == 2
    auth.logout()
    auth.login(chloe)
    assert client.get("/admin/audit.csv").status_code == 403
