"""Who may open which page: one role x URL matrix for every area, then per-object checks."""

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from learning.cohorts.admin import move_learner, remove_learner
from learning.core.extensions import db
from learning.people.membership import assign_staff, visible_cohorts
from learning.people.models import Centre, Cohort, Enrolment, Role
from learning.people.permissions import can_view_learner, visible_cohort_ids
from tests.conftest import post_form

ROLES = ["learner", "assessor", "iqa", "coordinator", "admin"]

# url -> roles that may open it (anyone logged in when None)
MATRIX = {
    "/dashboard": None,
    "/course": None,
    "/account/password": None,
    "/account/data": None,
    "/account/data.zip": None,
    "/staff/learners": {"assessor", "iqa", "coordinator", "admin"},
    "/staff/criteria": {"assessor", "iqa", "coordinator", "admin"},
    "/cohorts/": {"coordinator", "admin"},
    "/tasks/": {"learner"},
    "/marking/": {"assessor"},
    "/notifications/": None,
    "/glossary": None,
    "/cohorts/new": {"coordinator", "admin"},
    "/admin/": {"coordinator", "admin"},
    "/admin/enrol": {"coordinator", "admin"},
    "/admin/enrol/template.csv": {"coordinator", "admin"},
    "/admin/people": {"coordinator", "admin"},
    "/admin/audit": {"admin"},
    "/admin/outbox": {"admin"},
    "/reports/conflicts": {"admin"},
    "/iqa/": {"iqa"},
    "/iqa/decisions": {"iqa"},
    "/iqa/plans": {"iqa", "coordinator", "admin"},
    "/iqa/report": {"iqa", "coordinator", "admin"},
    "/reports/": {"assessor", "iqa", "coordinator", "admin"},
    "/reports/matrix": {"assessor", "iqa", "coordinator", "admin"},
    "/reports/charts": {"assessor", "iqa", "coordinator", "admin"},
    "/quizzes/unit-review/statistics": {"coordinator", "admin"},
}


@pytest.mark.parametrize("url", list(MATRIX))
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(MATRIX))
def test_role_matrix(client, auth, make_user, role, url):
    auth.login(make_user(role))
    allowed = MATRIX[url]
    expected = 200 if allowed is None or role in allowed else 403
    response = client.get(url)
    assert response.status_code == expected
    if expected == 403:
        assert "You do not have permission" in response.get_data(as_text=True)


def test_staff_navigation_only_for_staff(client, auth, make_user):
    auth.login(make_user("learner"))
    assert "/staff/learners" not in client.get("/dashboard").get_data(as_text=True)


@pytest.fixture
def two_cohorts(make_user, make_cohort, make_centre):
    mine, theirs = make_user("learner", name="In My Cohort"), make_user("learner",
                                                                         name="Elsewhere")
    assessor, other_assessor = make_user("assessor"), make_user("assessor")
    iqa = make_user("iqa")
    coordinator, other_coordinator = make_user("coordinator"), make_user("coordinator")
    centre = make_centre("North College", coordinators=[coordinator])
    make_centre("South College", coordinators=[other_coordinator])
    make_cohort("A", learners=[mine], assessors=[assessor], iqas=[iqa], centre=centre)
    make_cohort("B", learners=[theirs], assessors=[other_assessor], centre=centre)
    return {"mine": mine, "theirs": theirs, "assessor": assessor, "iqa": iqa,
            "coordinator": coordinator, "other_coordinator": other_coordinator}


def test_assessor_sees_only_their_cohorts(client, auth, two_cohorts):
    auth.login(two_cohorts["assessor"])
    listing = client.get("/staff/learners").get_data(as_text=True)
    assert "In My Cohort" in listing
    assert "Elsewhere" not in listing
    assert client.get(f"/staff/learners/{two_cohorts['mine'].id}").status_code == 200
    assert client.get(f"/staff/learners/{two_cohorts['theirs'].id}").status_code == 403


def test_iqa_scoped_like_assessor(client, auth, two_cohorts):
    auth.login(two_cohorts["iqa"])
    assert client.get(f"/staff/learners/{two_cohorts['mine'].id}").status_code == 200
    assert client.get(f"/staff/learners/{two_cohorts['theirs'].id}").status_code == 403


def test_coordinator_sees_their_centres_cohorts_only(client, auth, two_cohorts):
    auth.login(two_cohorts["coordinator"])
    listing = client.get("/staff/learners").get_data(as_text=True)
    assert "In My Cohort" in listing and "Elsewhere" in listing
    auth.logout()
    auth.login(two_cohorts["other_coordinator"])
    listing = client.get("/staff/learners").get_data(as_text=True)
    assert "In My Cohort" not in listing and "Elsewhere" not in listing
    assert client.get(f"/staff/learners/{two_cohorts['mine'].id}").status_code == 403


def test_admin_sees_every_centre(client, auth, make_user, two_cohorts):
    auth.login(make_user("admin"))
    listing = client.get("/staff/learners").get_data(as_text=True)
    assert "In My Cohort" in listing and "Elsewhere" in listing


def test_staff_no_longer_see_a_learner_who_left_their_cohort(client, auth, two_cohorts):
    mine, assessor = two_cohorts["mine"], two_cohorts["assessor"]
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "A"))
    assert can_view_learner(assessor, mine)
    remove_learner(cohort, mine, two_cohorts["coordinator"])
    # The enrolment row stays (with left_at set) so their history is kept; access does not.
    assert db.session.scalar(select(Enrolment.left_at).where(
        Enrolment.user_id == mine.id)) is not None
    for viewer in (assessor, two_cohorts["iqa"], two_cohorts["coordinator"]):
        assert not can_view_learner(viewer, mine)
    auth.login(assessor)
    assert client.get(f"/staff/learners/{mine.id}").status_code == 403
    assert "In My Cohort" not in client.get("/staff/learners").get_data(as_text=True)


def test_a_moved_learner_is_seen_by_the_new_cohorts_staff_only(client, auth, two_cohorts,
                                                               make_user):
    mine, coordinator = two_cohorts["mine"], two_cohorts["coordinator"]
    old = db.session.scalar(select(Cohort).where(Cohort.name == "A"))
    new = db.session.scalar(select(Cohort).where(Cohort.name == "B"))
    new_assessor = make_user("assessor")
    assign_staff(new_assessor, new, Role.ASSESSOR)
    db.session.commit()
    assert not can_view_learner(new_assessor, mine)
    move_learner(mine, old, new, coordinator)
    assert can_view_learner(new_assessor, mine) and can_view_learner(coordinator, mine)
    assert not can_view_learner(two_cohorts["assessor"], mine)
    auth.login(two_cohorts["assessor"])
    assert client.get(f"/staff/learners/{mine.id}").status_code == 403


def test_who_sees_a_learner(two_cohorts, make_user):
    """Per-object rule: themselves, staff of a cohort they are in now, admins; nobody else."""
    mine, theirs = two_cohorts["mine"], two_cohorts["theirs"]
    assert can_view_learner(mine, mine)
    assert not can_view_learner(mine, theirs)  # a learner never sees another learner
    assert can_view_learner(make_user("admin"), theirs)
    assert not can_view_learner(make_user("assessor"), mine)  # assigned to no cohort
    assert not can_view_learner(two_cohorts["other_coordinator"], mine)
    assert can_view_learner(two_cohorts["coordinator"], theirs)
    assert not can_view_learner(AnonymousUserMixin(), mine)


def test_visible_cohorts_follow_each_role_a_person_holds(two_cohorts, make_user, make_cohort,
                                                         make_centre):
    """Someone both coordinator and assessor sees their centre's cohorts and their own."""
    both = make_user(roles=["coordinator", "assessor"])
    make_centre("East College", coordinators=[both])
    east = make_cohort("East", centre=db.session.scalar(
        select(Centre).where(Centre.name == "East College")))
    staffed = db.session.scalar(select(Cohort).where(Cohort.name == "A"))
    assign_staff(both, staffed, Role.ASSESSOR)
    db.session.commit()
    assert {c.name for c in visible_cohorts(both)} == {"A", "East"}
    assert east.id in set(db.session.scalars(visible_cohort_ids(both)))
    assert can_view_learner(both, two_cohorts["mine"])
    assert not can_view_learner(both, two_cohorts["theirs"])
    assert visible_cohort_ids(make_user("admin")) is None
    assert list(db.session.scalars(visible_cohort_ids(make_user("learner")))) == []


def test_learner_cannot_open_staff_pages_even_for_themselves(client, auth, two_cohorts):
    auth.login(two_cohorts["mine"])
    assert client.get(f"/staff/learners/{two_cohorts['mine'].id}").status_code == 403


def test_staff_cannot_mark_a_learners_module(client, auth, app, two_cohorts):
    slug = app.extensions["catalog"].modules[0].slug
    auth.login(two_cohorts["assessor"])
    response = post_form(client, f"/course/{slug}", f"/course/{slug}/complete")
    assert response.status_code == 403


def test_unknown_learner_is_404(client, auth, make_user):
    auth.login(make_user("coordinator"))
    assert client.get("/staff/learners/99999").status_code == 404


def test_learner_list_uses_a_fixed_number_of_queries(client, auth, make_user, make_cohort,
                                                     count_queries):
    coordinator = make_user("admin")
    auth.login(coordinator)
    make_cohort("Small", learners=[make_user("learner") for _ in range(2)])
    with count_queries() as few:
        assert client.get("/staff/learners").status_code == 200
    make_cohort("Big", learners=[make_user("learner") for _ in range(25)])
    with count_queries() as many:
        page = client.get("/staff/learners")
    assert page.get_data(as_text=True).count("/staff/learners/") >= 27
    assert many.count == few.count, many.statements
