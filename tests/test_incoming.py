"""What a request brings in (core/incoming.py): numbers no row can have are not found or
ignored, never a 500; every page here also runs on PostgreSQL (TEST_DATABASE_URL)."""

import pytest
from sqlalchemy import select

from learning.core.incoming import MAX_ID, db_int
from learning.core.pagination import paginate
from learning.people.models import User
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
    ("coordinator", f"/reports/learners/{HUGE}"),
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
