"""Bulk enrolment from CSV: preview with row-level problems, all-or-nothing import, the CLI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learning.core.audit import AuditEvent
from learning.core.errors import size_in_words
from learning.core.extensions import db
from learning.people import enrolment_csv as csv_import
from learning.people.models import Enrolment, Invitation, Role, User
from tests.conftest import csrf_from

DATA = Path(__file__).parent / "data" / "csv"


@pytest.fixture
def world(make_user, make_centre, make_cohort):
    coordinator, other = make_user("coordinator"), make_user("coordinator")
    admin = make_user("admin")
    existing = make_user("learner", email="existing@example.com", name="Existing Learner")
    north = make_centre("North College", coordinators=[coordinator])
    south = make_centre("South College", coordinators=[other])
    return {"coordinator": coordinator, "other": other, "admin": admin, "existing": existing,
            "north": make_cohort("North 2026", centre=north),
            "south": make_cohort("South 2026", centre=south)}


def upload(client, data: bytes, filename: str = "learners.csv"):
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    return client.post("/admin/enrol", data={"csrf_token": token,
                                             "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, preview_html: str):
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', preview_html).group(1)
    return client.post("/admin/enrol/confirm", data={"csrf_token": csrf_from(preview_html),
                                                     "upload_id": upload_id})


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Enrolment.id))),
            db.session.scalar(select(func.count(Invitation.id))))


# ---- the file on its own ----

def test_rows_are_numbered_like_a_spreadsheet_with_the_column_named():
    parsed = csv_import.parse((DATA / "bad_rows.csv").read_text())
    messages = [str(p) for p in parsed.problems]
    assert messages[0].startswith("Row 3, column B (email): “not-an-email” is not a valid email")
    assert messages[1] == "Row 4, column A (name): Enter the learner’s name."
    assert messages[2].startswith("Row 6, column B (email): twice@example.com is also on row 5")
    assert [r.row for r in parsed.rows] == [2, 5, 7]


def test_headings_are_matched_loosely_and_emails_normalised():
    parsed = csv_import.parse(" Name , E-mail address,COHORT,learner reference number\n"
                              "Ann  Example ,Ann@Example.COM,North 2026,X1\n")
    assert not parsed.problems
    row = parsed.rows[0]
    assert (row.name, row.email, row.cohort, row.learner_ref) == (
        "Ann Example", "ann@example.com", "North 2026", "X1")


def test_semicolons_quoted_commas_and_trailing_blank_rows():
    parsed = csv_import.parse((DATA / "semicolons.csv").read_text())
    assert not parsed.problems
    assert [r.name for r in parsed.rows] == ["Okafor, Amara"]


@pytest.mark.parametrize(("name", "expected"), [
    ("empty.csv", "The file is empty"),
    ("headings_only.csv", "column headings but no learners"),
])
def test_empty_files(name, expected):
    data = (DATA / name).read_bytes()
    try:
        text = csv_import.read(data)
    except csv_import.CsvFileError as exc:
        assert expected in str(exc)
    else:
        assert expected in str(csv_import.parse(text).problems[0])


def test_wrong_headings_are_reported_on_row_one():
    problems = csv_import.parse((DATA / "wrong_headers.csv").read_text()).problems
    text = "\n".join(str(p) for p in problems)
    assert "Row 1, column A (Full name)" not in text  # "Full name" is an accepted heading
    assert "Row 1, column B (Mail): This is not a column we know" in text
    assert "email, cohort missing" in text


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 3)
    text = "name,email,cohort\n" + "".join(f"P{i},p{i}@example.com,C\n" for i in range(4))
    problems = csv_import.parse(text).problems
    assert len(problems) == 1 and "more than 3 learners" in problems[0].message


def test_files_that_are_not_csv_utf8():
    with pytest.raises(csv_import.CsvFileError, match="CSV UTF-8"):
        csv_import.read((DATA / "windows1252.csv").read_bytes())
    with pytest.raises(csv_import.CsvFileError, match="Excel workbook"):
        csv_import.read(b"PK\x03\x04rest-of-a-zip")
    with pytest.raises(csv_import.CsvFileError, match="UTF-16"):
        csv_import.read("name,email\n".encode("utf-16"))
    with pytest.raises(csv_import.CsvFileError, match="limit is 2 MB"):
        csv_import.read(b"a" * (csv_import.MAX_BYTES + 1))


def test_byte_order_mark_is_not_part_of_the_first_heading():
    text = csv_import.read((DATA / "bom.csv").read_bytes())
    parsed = csv_import.parse(text)
    assert not parsed.problems
    assert [r.name for r in parsed.rows] == ["Zoë Åberg", "Siân O'Neill"]


# ---- the upload page ----

def test_good_file_previews_then_imports_everything(client, auth, world):
    auth.login(world["coordinator"])
    before = counts()
    preview = upload(client, (DATA / "good.csv").read_bytes())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2</strong> new accounts" in html
    assert "Existing account, enrolled" in html
    assert counts() == before  # the preview changes nothing

    done = confirm(client, html)
    page = done.get_data(as_text=True)
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    assert page.count("/set-password/") == 2
    users, enrolments, links = counts()
    assert (users, enrolments, links) == (before[0] + 2, before[1] + 3, 2)
    assert db.session.scalar(select(func.count(User.id)).where(
        User.email == "existing@example.com")) == 1
    ben = db.session.scalar(select(User).where(User.email == "ben.carter@example.com"))
    assert ben.has_role(Role.LEARNER) and ben.password_hash is None
    amara = db.session.scalar(select(User).where(User.email == "amara@example.com"))
    assert amara.learner_ref == "LRN001"
    assert world["existing"].learner_ref == "LRN003"  # filled in where none was recorded
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrolment.import"))
    assert event.actor_id == world["coordinator"].id
    assert event.detail["created"] == 2 and event.detail["enrolled_existing"] == 1


def test_bad_rows_are_listed_and_nothing_is_imported(client, auth, world):
    auth.login(world["coordinator"])
    before = counts()
    response = upload(client, (DATA / "bad_rows.csv").read_bytes())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing has been imported" in html
    assert "Row 3, column B (email)" in html
    assert "Row 7, column C (cohort): There is no cohort called “Nowhere 2026”" in html
    assert 'name="upload_id"' not in html  # nothing to confirm
    assert counts() == before


def test_bom_file_with_other_headings_works(client, auth, world):
    auth.login(world["coordinator"])
    done = confirm(client, upload(client, (DATA / "bom.csv").read_bytes()).get_data(
        as_text=True))
    assert done.status_code == 200
    zoe = db.session.scalar(select(User).where(User.email == "zoe@example.com"))
    assert zoe.name == "Zoë Åberg" and zoe.learner_ref == "LRN010"


def test_windows_1252_file_gets_the_save_as_message(client, auth, world):
    auth.login(world["coordinator"])
    response = upload(client, (DATA / "windows1252.csv").read_bytes())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "CSV UTF-8" in html and 'href="#file"' in html


def test_only_csv_files_are_accepted(client, auth, world):
    auth.login(world["coordinator"])
    response = upload(client, b"name,email,cohort\n", "learners.xlsx")
    assert response.status_code == 422
    assert "must be a CSV file" in response.get_data(as_text=True)


def test_coordinator_cannot_import_into_another_centres_cohort(client, auth, world):
    data = (DATA / "other_centre.csv").read_bytes()
    auth.login(world["coordinator"])
    before = counts()
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Row 3, column C (cohort): There is no cohort called “South 2026” among your" in html
    assert counts() == before
    auth.logout()
    auth.login(world["admin"])  # admins may use every cohort
    assert confirm(client, upload(client, data).get_data(as_text=True)).status_code == 200


def test_confirm_checks_again_and_imports_nothing_if_a_row_went_bad(client, auth, world):
    auth.login(world["coordinator"])
    html = upload(client, (DATA / "good.csv").read_bytes()).get_data(as_text=True)
    world["north"].archived = True  # changed by someone else between preview and confirm
    db.session.commit()
    before = counts()
    response = confirm(client, html)
    assert response.status_code == 422
    assert "is archived" in response.get_data(as_text=True)
    assert counts() == before


def test_import_is_one_transaction(world, monkeypatch):
    """A failure after some rows were written leaves nothing behind."""
    text = (DATA / "good.csv").read_text()
    calls = []
    real = csv_import.write_batch

    def fail_on_third(batch, actor, now, token_for=None):
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(batch, actor, now, token_for)

    before = counts()
    monkeypatch.setattr(csv_import, "_BATCH", 1)
    monkeypatch.setattr(csv_import, "write_batch", fail_on_third)
    with pytest.raises(RuntimeError):
        csv_import.import_text(text, world["coordinator"])
    assert len(calls) == 3
    assert counts() == before


def test_an_account_made_meanwhile_refuses_the_whole_import(world, make_user, monkeypatch):
    """Two imports racing: the second finds the unique email taken and imports nothing."""
    text = (DATA / "good.csv").read_text()
    preview = csv_import.check(text, world["coordinator"])
    monkeypatch.setattr(csv_import, "check", lambda *args: preview)  # the stale check
    make_user("learner", email="ben.carter@example.com")
    before = counts()
    with pytest.raises(csv_import.ImportRefused):
        csv_import.import_text(text, world["coordinator"])
    assert counts() == before


def test_upload_belongs_to_the_person_who_made_it(client, auth, world):
    auth.login(world["coordinator"])
    html = upload(client, (DATA / "good.csv").read_bytes()).get_data(as_text=True)
    auth.logout()
    auth.login(world["admin"])
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/admin/enrol/confirm", data={"csrf_token": token,
                                                         "upload_id": upload_id})
    assert response.status_code == 302
    assert "no longer waiting" in client.get("/admin/enrol").get_data(as_text=True)


def test_staff_and_conflicting_accounts(world, make_user):
    make_user("assessor", email="asha@example.com")
    text = ("name,email,cohort,learner_ref\n"
            "Asha,asha@example.com,North 2026,\n"
            "Existing Learner,existing@example.com,North 2026,LRN9\n")
    world["existing"].learner_ref = "LRN1"
    db.session.commit()
    problems = [str(p) for p in csv_import.check(text, world["coordinator"]).problems]
    assert problems[0] == ("Row 2, column B (email): asha@example.com cannot be enrolled from "
                           "here: ask an administrator.")
    assert problems[1].startswith("Row 3, column D (learner_ref): existing@example.com already "
                                  "has the learner reference LRN1")
    # An admin may enrol a member of staff as a learner too; they gain the learner role.
    preview = csv_import.check(text.replace(",LRN9", ",LRN1"), world["admin"])
    assert preview.ok
    assert "given the learner role" in preview.rows[0].outcome


def test_already_enrolled_is_no_change(world, make_cohort):
    make_cohort("Old", learners=[world["existing"]])
    csv_import.import_text("name,email,cohort\nE,existing@example.com,North 2026\n",
                           world["admin"])
    preview = csv_import.check("name,email,cohort\nE,existing@example.com,North 2026\n",
                               world["admin"])
    assert preview.ok and preview.unchanged == 1


def test_template_download(client, auth, world):
    auth.login(world["coordinator"])
    response = client.get("/admin/enrol/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == "name,email,cohort,learner_ref\n"


# ---- the command line ----

def test_cli_imports_with_progress_and_prints_links(runner, world):
    result = runner.invoke(args=["users", "import-csv", str(DATA / "good.csv"),
                                 "--actor", world["coordinator"].email])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output
    assert result.output.count("/set-password/") == 2
    assert re.search(r"^amara@example.com: \S*/set-password/\S+ \(until ", result.output, re.M)
    assert db.session.scalar(select(func.count(Invitation.id))) == 2


def test_cli_reports_file_row_problems_and_imports_nothing(runner, world):
    before = counts()
    path = DATA / "bad_rows.csv"
    result = runner.invoke(args=["users", "import-csv", str(path), "--actor",
                                 world["coordinator"].email])
    assert result.exit_code == 1
    assert f"{path}:3: column B (email): “not-an-email” is not a valid" in result.output
    assert f"{path}:7: column C (cohort): There is no cohort" in result.output
    assert "nothing was imported" in result.output
    assert counts() == before


def test_cli_encoding_problem_and_unknown_actor(runner, world):
    result = runner.invoke(args=["users", "import-csv", str(DATA / "windows1252.csv"),
                                 "--actor", world["admin"].email])
    assert result.exit_code == 1 and "CSV UTF-8" in result.output
    result = runner.invoke(args=["users", "import-csv", str(DATA / "good.csv"),
                                 "--actor", world["existing"].email])
    assert result.exit_code == 1 and "not an active coordinator or admin" in result.output


def test_cli_dry_run_changes_nothing(runner, world):
    before = counts()
    result = runner.invoke(args=["users", "import-csv", str(DATA / "good.csv"), "--actor",
                                 world["admin"].email, "--dry-run"])
    assert result.exit_code == 0
    assert "2 new accounts" in result.output
    assert counts() == before


@pytest.mark.parametrize(("limit", "words"), [(3 * 1024 * 1024, "3 MB"),
                                              (1536 * 1024, "1.5 MB")])
def test_a_request_over_the_limit_gets_a_413_naming_the_limit(app, client, auth, world,
                                                               monkeypatch, limit, words):
    """The limit is MAX_CONTENT_LENGTH, whatever it is set to; the page says it in words."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", limit)
    auth.login(world["coordinator"])
    response = upload(client, b"name,email,cohort\n" + b"x" * limit)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "That was too big to send" in page
    assert f"The most you can send at once is {words}." in page


@pytest.mark.parametrize(("size", "words"), [(3 * 1024 * 1024, "3 MB"), (1024 * 1024, "1 MB"),
                                             (1572864, "1.5 MB"), (512000, "500 KB"),
                                             (10, "1 KB")])
def test_sizes_in_words(size, words):
    assert size_in_words(size) == words
