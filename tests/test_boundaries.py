"""Trust boundaries: centres cannot reach each other's people, and nobody judges their own work."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from learning.assessment import marking, submissions
from learning.cohorts import admin as cohort_admin
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa import reviews as iqa
from learning.iqa.models import IqaSample
from learning.people import enrolment_csv as csv_import
from learning.people import membership
from learning.people.models import CentreMember, CohortStaff, Enrolment, Role
from tests.conftest import post_form


@pytest.fixture
def centres(make_user, make_centre, make_cohort):
    """North and South, each with a coordinator, a cohort, a learner and an assessor."""
    north_coord, south_coord = make_user("coordinator"), make_user("coordinator")
    north = make_centre("North", coordinators=[north_coord])
    south = make_centre("South", coordinators=[south_coord])
    north_learner = make_user("learner", name="Nia North", email="nia@example.test")
    south_learner = make_user("learner", name="Sam South", email="sam@example.com")
    north_assessor = make_user("assessor", name="Nadia Assessor")
    south_assessor = make_user("assessor", name="Sid Assessor")
    mine = make_cohort("North group", learners=[north_learner], assessors=[north_assessor],
                       centre=north)
    theirs = make_cohort("South group", learners=[south_learner], assessors=[south_assessor],
                         centre=south)
    return {"coordinator": north_coord, "south_coordinator": south_coord, "north": north,
            "south": south, "mine": mine, "theirs": theirs, "north_learner": north_learner,
            "south_learner": south_learner, "north_assessor": north_assessor,
            "south_assessor": south_assessor, "admin": make_user("admin")}


def _enrolled(user, cohort) -> bool:
    return bool(db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.user_id == user.id, Enrolment.cohort_id == cohort.id)))


def _add_learner(client, cohort, email):
    url = f"/cohorts/{cohort.id}"
    return post_form(client, url, f"{url}/learners", data={"email": email},
                     follow_redirects=True)


# ---- centres are a hard boundary ----

def test_a_coordinator_cannot_enrol_another_centres_learner(client, auth, centres):
    auth.login(centres["coordinator"])
    page = _add_learner(client, centres["mine"], "sam@example.com").get_data(as_text=True)
    assert "This person belongs to another centre: ask an administrator." in page
    assert not _enrolled(centres["south_learner"], centres["mine"])
    # and so cannot reach their portfolio or issue them a reset link
    sam = centres["south_learner"]
    assert client.get(f"/reports/learners/{sam.id}/portfolio").status_code == 403
    assert client.get(f"/admin/people/{sam.id}").status_code == 403


def test_a_coordinator_cannot_enrol_an_admin_who_is_also_a_learner(client, auth, centres,
                                                                    make_user):
    make_user(roles=[Role.ADMIN, Role.LEARNER], email="boss@example.test")
    auth.login(centres["coordinator"])
    page = _add_learner(client, centres["mine"], "boss@example.test").get_data(as_text=True)
    assert "This person belongs to another centre: ask an administrator." in page


def test_a_learner_who_once_studied_elsewhere_needs_an_administrator(client, auth, centres):
    """Even a past enrolment ties a person to the other centre (their records are there)."""
    enrolment = db.session.scalar(select(Enrolment).where(
        Enrolment.user_id == centres["south_learner"].id))
    enrolment.left_at = utcnow()
    db.session.commit()
    auth.login(centres["coordinator"])
    page = _add_learner(client, centres["mine"], "sam@example.com").get_data(as_text=True)
    assert "belongs to another centre" in page


def test_a_new_account_with_no_ties_can_be_enrolled(client, auth, centres, make_user):
    make_user("learner", email="new@example.test")
    auth.login(centres["coordinator"])
    page = _add_learner(client, centres["mine"], "new@example.test").get_data(as_text=True)
    assert "belongs to another centre" not in page


def test_an_admin_may_enrol_anyone(client, auth, centres):
    auth.login(centres["admin"])
    asked = _add_learner(client, centres["mine"], "sam@example.com").get_data(as_text=True)
    assert "Choose whether to move them here or add them" in asked  # in a South cohort now
    url = f"/cohorts/{centres['mine'].id}"
    post_form(client, url, f"{url}/learners", data={"email": "sam@example.com",
                                                    "choice": "add"})
    assert _enrolled(centres["south_learner"], centres["mine"])


def test_the_csv_import_refuses_another_centres_learner_without_naming_them(centres):
    text = "name,email,cohort\nSam,sam@example.com,North group\n"
    preview = csv_import.check(text, centres["coordinator"])
    assert [str(p) for p in preview.problems] == [
        "Row 2, column B (email): sam@example.com cannot be enrolled from here: ask an "
        "administrator."]
    with pytest.raises(csv_import.ImportRefused):
        csv_import.import_text(text, centres["coordinator"])
    assert not _enrolled(centres["south_learner"], centres["mine"])


def test_the_assessor_pick_list_shows_only_the_centres_own_people(client, auth, centres,
                                                                   make_user):
    spare = make_user("assessor", name="Nell Spare")
    db.session.add(CentreMember(centre_id=centres["north"].id, user_id=spare.id))
    db.session.commit()
    make_user("assessor", name="Una Unattached")
    auth.login(centres["coordinator"])
    page = client.get(f"/cohorts/{centres['mine'].id}").get_data(as_text=True)
    assert "Nell Spare" in page
    assert "Sid Assessor" not in page and "Una Unattached" not in page


@pytest.fixture
def make_iqa_in(make_user):
    def make(cohort):
        person = make_user("iqa")
        membership.assign_staff(person, cohort, Role.IQA)
        db.session.commit()
        return person
    return make


def test_assigning_another_centres_assessor_by_id_is_refused(client, auth, centres,
                                                             make_iqa_in):
    auth.login(centres["coordinator"])
    url = f"/cohorts/{centres['mine'].id}"
    post_form(client, url, f"{url}/assessors",
              data={"assessor-user_id": str(centres["south_assessor"].id)})
    assert db.session.get(CohortStaff, (centres["mine"].id, centres["south_assessor"].id,
                                        "assessor")) is None
    # The rule itself, not only the pick list, refuses it.
    with pytest.raises(cohort_admin.CohortError, match="belongs to another centre"):
        cohort_admin.assign_assessor(centres["mine"], centres["south_assessor"],
                                     centres["coordinator"])
    with pytest.raises(cohort_admin.CohortError, match="belongs to another centre"):
        cohort_admin.set_iqa(centres["mine"], make_iqa_in(centres["theirs"]),
                             centres["coordinator"])


def test_reset_links_and_deactivation_only_for_people_wholly_inside(client, auth, centres):
    """A learner in both centres' cohorts belongs to both: only an admin manages them."""
    both = centres["south_learner"]
    membership.enrol(both, centres["mine"])  # an admin enrolled them here too
    db.session.commit()
    auth.login(centres["coordinator"])
    assert client.get(f"/admin/people/{both.id}").status_code == 403
    page = client.get(f"/admin/people/{centres['north_learner'].id}")
    assert page.status_code == 200
    response = post_form(client, f"/admin/people/{centres['north_learner'].id}",
                         f"/admin/people/{both.id}/deactivate")
    assert response.status_code == 403
    assert both.active


# ---- conflicts of interest ----

@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


def _submit(learner, task):
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "An answer about working together to keep children safe.",
                           None, utcnow())
    return submissions.submit(sub, task, learner, True, "", utcnow())


def test_nobody_marks_their_own_answer(client, auth, centres, make_user, task):
    """An account holding assessor and learner, in two cohorts it may hold each role in."""
    both = make_user(roles=[Role.ASSESSOR, Role.LEARNER], name="Dual Role")
    # Old data, from before the enrolment rule: they assess the cohort they learn in.
    db.session.add(Enrolment(user_id=both.id, cohort_id=centres["theirs"].id))
    db.session.add(CohortStaff(cohort_id=centres["theirs"].id, user_id=both.id,
                               role="assessor"))
    db.session.commit()
    work = _submit(both, task)
    assert not marking.can_mark(both, work.submission)
    assert all(r.submission.id != work.submission_id for r in marking.queue(both, utcnow()))
    auth.login(both)
    assert client.get(f"/marking/{work.submission_id}").status_code == 403


def test_nobody_is_assessor_or_iqa_of_a_cohort_they_learn_in(centres, client, auth):
    learner = centres["north_learner"]
    learner_roles = [Role.ASSESSOR, Role.IQA]
    for role in learner_roles:
        with pytest.raises(membership.ConflictOfInterest):
            membership.assign_staff(learner, centres["mine"], role)
    with pytest.raises(membership.ConflictOfInterest):
        membership.enrol(centres["north_assessor"], centres["mine"])


def test_the_cohort_page_says_why_a_learner_cannot_be_their_own_assessor(client, auth, centres,
                                                                         make_user):
    both = make_user(roles=[Role.ASSESSOR, Role.LEARNER], name="Dual Role")
    membership.enrol(both, centres["mine"])
    db.session.commit()
    auth.login(centres["coordinator"])
    url = f"/cohorts/{centres['mine'].id}"
    page = post_form(client, url, f"{url}/assessors",
                     data={"assessor-user_id": str(both.id)}).get_data(as_text=True)
    assert "Dual Role is a learner in North group, so cannot also assess or quality-assure it." \
        in page
    assert db.session.get(CohortStaff, (centres["mine"].id, both.id, "assessor")) is None


def test_an_iqa_cannot_sample_their_own_decision(centres, make_user, task):
    dual = make_user(roles=[Role.ASSESSOR, Role.IQA], name="Dual Staff")
    membership.assign_staff(dual, centres["mine"], Role.ASSESSOR)
    membership.assign_staff(dual, centres["mine"], Role.IQA)
    db.session.commit()
    work = _submit(centres["north_learner"], task)
    decision = marking.save_decision(work, task, dual, {c: (True, "ok") for c in task.criteria},
                                     "Well done.", "", utcnow(), release=True)
    assert not iqa.may_sample(dual, decision)
    db.session.execute(delete(IqaSample))  # whatever the plan sampled: list it as unsampled
    db.session.commit()
    assert all(r.decision.id != decision.id for r in iqa.unsampled_decisions(dual).rows)
    other_iqa = make_user("iqa")
    membership.assign_staff(other_iqa, centres["mine"], Role.IQA)
    db.session.commit()
    assert iqa.may_sample(other_iqa, decision)
    assert [r.decision.id for r in iqa.unsampled_decisions(other_iqa).rows] == [decision.id]


def test_admins_see_conflicts_listed(client, auth, centres, make_user):
    dual = make_user(roles=[Role.ASSESSOR, Role.LEARNER], name="Old Data")
    # Made before the rule existed (straight into the tables).
    db.session.add(Enrolment(user_id=dual.id, cohort_id=centres["mine"].id))
    db.session.add(CohortStaff(cohort_id=centres["mine"].id, user_id=dual.id, role="assessor"))
    db.session.commit()
    auth.login(centres["admin"])
    page = client.get("/reports/conflicts").get_data(as_text=True)
    assert "Old Data</a> is a learner in North group and also its assessor." in page


def test_an_admin_moves_a_person_between_centres_and_it_is_audited(client, auth, centres,
                                                                   make_user):
    from learning.core.audit import AuditEvent

    newcomer = make_user("assessor", name="Nova Newcomer")
    auth.login(centres["admin"])
    url = f"/admin/people/{newcomer.id}"
    assert "Centres Nova Newcomer belongs to" in client.get(url).get_data(as_text=True)
    response = post_form(client, url, f"{url}/centres",
                         data={"centres": [str(centres["north"].id)]}, follow_redirects=True)
    assert "Centres saved for Nova Newcomer." in response.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.centres"))
    assert event.detail == {"added": [centres["north"].id], "removed": []}
    auth.logout()
    auth.login(centres["coordinator"])  # now North's coordinator can pick them
    assert "Nova Newcomer" in client.get(f"/cohorts/{centres['mine'].id}").get_data(as_text=True)
    assert client.post(f"{url}/centres", data={}).status_code in (400, 403)


def test_an_iqa_never_reviews_their_own_answer(centres, make_user, task):
    dual = make_user(roles=[Role.IQA, Role.LEARNER], name="Old Data")
    db.session.add(Enrolment(user_id=dual.id, cohort_id=centres["mine"].id))
    db.session.add(CohortStaff(cohort_id=centres["mine"].id, user_id=dual.id, role="iqa"))
    db.session.commit()
    work = _submit(dual, task)
    decision = marking.save_decision(work, task, centres["north_assessor"],
                                     {c: (True, "ok") for c in task.criteria}, "Good.", "",
                                     utcnow(), release=True)
    sample = iqa.add_to_sample(decision, centres["admin"], utcnow())
    assert not iqa.can_review(dual, sample)
    assert not iqa.may_sample(dual, decision)
