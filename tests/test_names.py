"""Names of people, cohorts and centres refuse control, direction-changing and zero-width
characters (core/names.py), with a message naming the field, wherever a name comes in."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from learning.cohorts import admin as cohort_admin
from learning.cohorts.admin import CohortError
from learning.core.extensions import db
from learning.core.names import NameRefused, name_problem
from learning.people import accounts
from learning.people.models import Centre, Cohort, User
from tests.conftest import csrf_from, post_form

#: One of each kind refused, as (character, words in the message).
REFUSED = [
    ("\x00", "a control character (U+0000"),
    ("\x07", "a control character (U+0007"),
    ("\x1b", "a control character (U+001B"),
    ("\x7f", "a control character (U+007F"),
    ("\x85", "a control character (U+0085"),
    ("\u202a", "a character that changes the direction of the text (U+202A"),
    ("\u202e", "a character that changes the direction of the text (U+202E"),
    ("\u2066", "a character that changes the direction of the text (U+2066"),
    ("\u2069", "a character that changes the direction of the text (U+2069"),
    ("\u200b", "an invisible (zero-width) character (U+200B"),
    ("\u200c", "an invisible (zero-width) character (U+200C"),
    ("\u200d", "an invisible (zero-width) character (U+200D"),
    ("\u2060", "an invisible (zero-width) character (U+2060"),
    ("\ufeff", "an invisible (zero-width) character (U+FEFF"),
]


@pytest.mark.parametrize(("char", "words"), REFUSED)
def test_each_kind_is_refused_with_the_field_the_character_and_where(char, words):
    assert name_problem(f"Ann{char} Lee", "Full name") == (
        f"Full name cannot contain {words}, character 4). Type it again without it.")


@pytest.mark.parametrize("name", ["Zoë O'Brien-Łukasiewicz", "Nguyễn Thị Minh Khai",
                                  "محمد الأحمد", "王小明", "Ann  Lee", "Level 3 (Tuesday) 2026/27",
                                  "Siân ap Rhys", ""])
def test_real_names_pass(name):
    assert name_problem(name, "Full name") is None


@pytest.mark.parametrize(("model", "field"), [(User, "The name"), (Cohort, "The cohort name"),
                                              (Centre, "The centre name")])
def test_the_models_refuse_them_too(app, model, field):
    """The last line: a name set in code that skipped the forms is refused before it is kept."""
    with pytest.raises(NameRefused, match=f"^{field} cannot contain a character that changes"):
        model(name="North\u202e College")


def test_self_registration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SELF_REGISTRATION", True)
    response = post_form(client, "/register", data={
        "name": "Kemi\u202e Adeyemi", "email": "kemi@example.org",
        "password": "long-enough-password", "confirm": "long-enough-password"})
    assert response.status_code == 422
    assert ("Full name cannot contain a character that changes the direction of the text "
            "(U+202E, character 5)") in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user_command_and_service(runner):
    result = runner.invoke(args=["create-user", "--email", "boss@example.test", "--name",
                                 "Bo\u200bss", "--role", "admin", "--password", "x" * 16])
    assert result.exit_code != 0
    assert "The name cannot contain an invisible (zero-width) character (U+200B" in result.output
    with pytest.raises(accounts.AccountError, match="The name cannot contain a control"):
        accounts.create_user("b@example.test", "B\x07", None, ["learner"])


@pytest.fixture
def coordinator(make_user, make_centre, make_cohort, app, tmp_path, monkeypatch):
    person = make_user("coordinator")
    make_cohort("North 2026", centre=make_centre("North College", coordinators=[person]))
    return person


def test_csv_import_names_the_row_and_column(client, auth, coordinator):
    auth.login(coordinator)
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    data = ("name,email,cohort\nAnn Lee,ann@example.test,North 2026\n"
            "Bo\u202eb Ray,bob@example.test,North 2026\n").encode()
    response = client.post("/admin/enrol", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(data), "learners.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("Row 3, column A (name): The name cannot contain a character that changes the "
            "direction of the text (U+202E, character 3)") in page


def _cohort_form(coordinator, **fields):
    centre = db.session.scalar(select(Centre))
    return {"name": "Level 3 evening", "starts_on": "1/9/2026", "ends_on": "31/7/2027",
            "unit_id": "CYP33", "centre_id": str(centre.id), **fields}


def test_cohort_create_and_rename(client, auth, coordinator):
    auth.login(coordinator)
    created = post_form(client, "/cohorts/new", data=_cohort_form(
        coordinator, name="Evening\u2066 group"))
    assert ("Cohort name cannot contain a character that changes the direction of the text "
            "(U+2066, character 8)") in created.get_data(as_text=True)
    cohort = db.session.scalar(select(Cohort))
    renamed = post_form(client, f"/cohorts/{cohort.id}/edit", data=_cohort_form(
        coordinator, name="North\x1b[31m 2026"))
    assert "Cohort name cannot contain a control character (U+001B, character 6)" in \
        renamed.get_data(as_text=True)
    db.session.expire_all()
    assert [c.name for c in db.session.scalars(select(Cohort))] == ["North 2026"]


def test_cohort_service_refuses_them_for_the_name_field(coordinator):
    with pytest.raises(CohortError, match="The cohort name cannot contain an invisible") as exc:
        cohort_admin.create_cohort(coordinator, name="A\ufeffB", starts_on=None, ends_on=None,
                                   unit_id=None, centre_id=None)
    assert exc.value.field == "name"
