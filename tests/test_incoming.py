"""What a request brings in (core/incoming.py): numbers no row can have are not found or
ignored, never a 500; every page here also runs on PostgreSQL (TEST_DATABASE_URL)."""

import io
import re

import pytest
from sqlalchemy import select

from learning.assessment.models import DraftVersion
from learning.core.extensions import db
from learning.core.incoming import MAX_ID, db_int
from learning.core.pagination import paginate
from learning.people.models import Cohort, User
from learning.quizzes.models import QuizAnswer
from tests.conftest import csrf_from

HUGE = "99999999999999999999"


@pytest.fixture
def world(make_user, make_cohort, make_centre):
    people = {role: make_user(role) for role in ("learner", "assessor", "iqa", "coordinator",
                                                  "admin")}
    centre = make_centre(coordinators=[people["coordinator"]])
    make_cohort(learners=[people["learner"]], assessors=[people["assessor"]],
                iqas=[people["iqa"]], centre=centre)
    return people


# A path id past the database's integer range is a page that does not exist.
NOT_FOUND = [
    ("assessor", f"/marking/{HUGE}"),
    ("assessor", f"/marking/{MAX_ID + 1}"),
    ("coordinator", f"/cohorts/{HUGE}"),
    ("coordinator", f"/cohorts/{HUGE}/edit"),
    ("coordinator", f"/cohorts/1/learners/{HUGE}/move"),
    ("coordinator", f"/staff/learners/{HUGE}"),
    ("coordinator", f"/admin/people/{HUGE}"),
    ("iqa", f"/iqa/samples/{HUGE}"),
    ("learner", f"/attempts/{HUGE}"),
    ("learner", f"/attempts/{2**63}/review"),
    ("learner", f"/tasks/cyp33-explain-partnership/versions/{HUGE}"),
]


@pytest.mark.parametrize(("role", "url"), NOT_FOUND)
def test_an_id_no_row_can_have_is_not_found(client, auth, world, role, url):
    auth.login(world[role])
    assert client.get(url).status_code == 404


# A filter or page number past the database's range is ignored: the page shows as without it.
IGNORED = [
    ("coordinator", f"/reports/matrix?cohort={HUGE}"),
    ("coordinator", f"/reports/matrix?assessor={HUGE}&page={HUGE}"),
    ("coordinator", f"/reports/charts?cohort={HUGE}"),
    ("coordinator", f"/staff/learners?cohort={HUGE}"),
    ("coordinator", f"/admin/people?page={HUGE}"),
    ("coordinator", "/admin/people?page=-5"),
    ("admin", f"/admin/audit?page={HUGE}"),
    ("assessor", f"/marking/?cohort={HUGE}"),
    ("iqa", f"/iqa/?assessor={HUGE}"),
    ("iqa", f"/iqa/decisions?page={HUGE}"),
    ("iqa", "/iqa/decisions?page=-1"),
    ("learner", f"/tasks/cyp33-explain-partnership?conflict={HUGE}"),
]


@pytest.mark.parametrize(("role", "url"), IGNORED)
def test_a_filter_no_row_can_match_is_ignored(client, auth, world, role, url):
    auth.login(world[role])
    assert client.get(url).status_code == 200


def test_a_huge_id_in_a_form_is_not_found(client, auth, world):
    auth.login(world["coordinator"])
    page = client.get("/iqa/plans").get_data(as_text=True)
    response = client.post("/iqa/plans", data={"csrf_token": csrf_from(page), "assessor": HUGE})
    assert response.status_code == 404


def test_a_huge_version_number_is_saved_as_a_plain_save(client, auth, world):
    """`based_on` names the version the text was edited from; an impossible one is no base."""
    auth.login(world["learner"])
    url = "/tasks/cyp33-explain-partnership"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "text": "My answer.",
                                      "based_on": HUGE, "save": "1"})
    assert response.status_code in (302, 409)
    restore = client.post(f"{url}/versions/{HUGE}/restore", data={"csrf_token": token})
    assert restore.status_code == 404


def test_a_page_past_the_database_range_is_the_last_page(world):
    query = select(User).order_by(User.id)
    page = paginate(query, 10**20, per_page=2)
    assert (page.number, page.pages) == (3, 3)


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 42 ", 42), (str(MAX_ID), MAX_ID)])
def test_db_int_reads_whole_numbers_the_database_can_hold(text, value):
    assert db_int(text) == value


@pytest.mark.parametrize("text", ["-1", str(MAX_ID + 1), HUGE, "1.5", "", "x", "9" * 5000])
def test_db_int_refuses_the_rest(text):
    with pytest.raises(ValueError):
        db_int(text)


# ---- NUL bytes: PostgreSQL refuses them in text, so they are dropped as a request is read ----

TASK = "/tasks/cyp33-explain-partnership"


def _drafts() -> list[str]:
    return list(db.session.scalars(select(DraftVersion.text).order_by(DraftVersion.id)))


def test_an_essay_with_a_nul_byte_saves_without_it(client, auth, world):
    auth.login(world["learner"])
    token = csrf_from(client.get(TASK).get_data(as_text=True))
    response = client.post(TASK, data={"csrf_token": token, "text": "Partners\x00 share.",
                                       "based_on": "", "save": "1"})
    assert response.status_code == 302
    assert _drafts() == ["Partners share."]
    assert "Partners share." in client.get(TASK).get_data(as_text=True)


def test_an_autosave_with_a_nul_byte_saves_without_it(client, auth, world):
    auth.login(world["learner"])
    token = csrf_from(client.get(TASK).get_data(as_text=True))
    response = client.post(f"{TASK}/autosave", data={"csrf_token": token, "based_on": "",
                                                     "text": "\x00Every word\x00 kept."})
    assert response.status_code == 200 and response.json["version"] == 1
    assert _drafts() == ["Every word kept."]


@pytest.mark.parametrize(("email", "password"), [("learner1@example.test\x00", "x" * 12),
                                                 ("nobody@example.test", "pass\x00word")])
def test_login_with_a_nul_byte_is_a_wrong_password(client, world, email, password):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                           "password": password})
    assert response.status_code == 422
    assert "email address or password is not correct" in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "url"), [
    ("coordinator", "/admin/people?q=Learner%00"),
    ("admin", "/admin/audit?actor=a%00b&action=login%00"),
    ("assessor", "/marking/?task=cyp33%00&status=%00"),
    ("coordinator", "/reports/matrix?q=%00&sort=%00"),
    ("coordinator", "/reports/matrix.csv?q=%00"),
])
def test_filters_with_a_nul_byte_are_read_without_it(client, auth, world, role, url):
    auth.login(world[role])
    response = client.get(url)
    assert response.status_code == 200
    assert "\x00" not in response.get_data(as_text=True)


def test_people_search_matches_the_text_without_its_nul_byte(client, auth, world):
    auth.login(world["admin"])
    page = client.get("/admin/people?q=Lear%00ner").get_data(as_text=True)
    assert world["learner"].email in page


def test_a_cohort_renamed_with_a_nul_byte_is_saved_without_it(client, auth, world):
    auth.login(world["coordinator"])
    cohort = db.session.scalars(select(Cohort)).one()
    url = f"/cohorts/{cohort.id}/edit"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={
        "csrf_token": token, "name": "Tuesday\x00 group", "starts_on": "1/9/2026",
        "ends_on": "31/7/2027", "unit_id": "CYP33", "centre_id": str(cohort.centre_id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).name == "Tuesday group"


def test_adding_a_learner_by_an_email_with_a_nul_byte(client, auth, world):
    auth.login(world["coordinator"])
    cohort = db.session.scalars(select(Cohort)).one()
    token = csrf_from(client.get(f"/cohorts/{cohort.id}").get_data(as_text=True))
    response = client.post(f"/cohorts/{cohort.id}/learners", data={
        "csrf_token": token, "email": "nobody\x00@example.test"})
    assert response.status_code == 200
    assert "nobody@example.test" in response.get_data(as_text=True)


def test_a_csv_file_with_a_nul_byte_is_refused_with_a_message(client, auth, world, tmp_path,
                                                             app, monkeypatch):
    auth.login(world["coordinator"])
    token = csrf_from(client.get("/admin/enrol").get_data(as_text=True))
    response = client.post("/admin/enrol", content_type="multipart/form-data", data={
        "csrf_token": token,
        "file": (io.BytesIO(b"name,email,cohort\nAnn\x00,ann@example.test,Cohort 1\n"),
                 "learn\x00ers.csv")})
    assert response.status_code == 422
    assert "The file is not a text file" in response.get_data(as_text=True)


def test_a_short_answer_with_a_nul_byte_is_saved_without_it(client, auth, world):
    auth.login(world["learner"])
    quiz = "/quizzes/who-does-what-check"
    token = csrf_from(client.get(quiz).get_data(as_text=True))
    started = client.post(f"{quiz}/start", data={"csrf_token": token})
    attempt = re.search(r"/attempts/(\d+)", started.headers["Location"]).group(1)
    response = client.post(f"/attempts/{attempt}/autosave", data={
        "csrf_token": token, "q-staff-worry": "LA\x00DO"})
    assert response.status_code == 200 and response.json["saved"] == ["staff-worry"]
    assert db.session.scalars(select(QuizAnswer.answer)).all() == ["LADO"]
