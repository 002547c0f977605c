"""Running cohorts: create and edit, per-centre access, archive, people, moving learners."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from learning.assessment import submissions
from learning.assessment.models import Submission
from learning.cohorts.models import Deadline
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.course.models import ModuleProgress
from learning.people import membership
from learning.people.models import CentreMember, Cohort, CohortStaff, Enrolment
from learning.quizzes.models import QuizAttempt
from tests.conftest import csrf_from, post_form


@pytest.fixture
def world(make_user, make_cohort, make_centre):
    """Two centres, each with a coordinator and a cohort; an admin; spare staff."""
    coordinator, other_coordinator = (make_user("coordinator", name="Cora Coordinator"),
                                      make_user("coordinator", name="Otto Other"))
    north = make_centre("North College", coordinators=[coordinator])
    south = make_centre("South College", coordinators=[other_coordinator])
    learner = make_user("learner", name="Maya Patel", email="maya@example.test")
    assessor = make_user("assessor", name="Asha Assessor")
    mine = make_cohort("Tuesday group", learners=[learner], assessors=[assessor], centre=north)
    theirs = make_cohort("Thursday group", learners=[make_user("learner", name="Olu Outsider")],
                         centre=south)
    return {"coordinator": coordinator, "other_coordinator": other_coordinator,
            "north": north, "south": south, "learner": learner, "assessor": assessor,
            "mine": mine, "theirs": theirs, "admin": make_user("admin")}


def join(centre, *people) -> None:
    """Make people members of a centre (an administrator's action)."""
    for person in people:
        db.session.add(CentreMember(centre_id=centre.id, user_id=person.id))
    db.session.commit()


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _cohort_data(world, **overrides):
    """A valid create/edit form for the North centre, with some fields changed."""
    return {"name": "Level 3 evening", "starts_on": "2026-09-01", "ends_on": "2027-07-31",
            "centre_id": str(world["north"].id), **overrides}


@pytest.fixture
def unit_id(app):
    return app.extensions["catalog"].units[0].id


# ---- access (the role x URL matrix for these pages is in test_access.py) ----

def test_coordinator_sees_and_touches_only_their_centres_cohorts(client, auth, world):
    auth.login(world["coordinator"])
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Tuesday group" in listing and "Thursday group" not in listing
    theirs = world["theirs"].id
    for url in (f"/cohorts/{theirs}", f"/cohorts/{theirs}/edit", f"/cohorts/{theirs}/deadlines",
                f"/cohorts/{theirs}/learners/{world['learner'].id}/move"):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get(f"/cohorts/{world['mine'].id}").get_data(as_text=True))
    for url in (f"/cohorts/{theirs}/archive", f"/cohorts/{theirs}/learners",
                f"/cohorts/{theirs}/iqa", f"/cohorts/{theirs}/assessors",
                f"/cohorts/{theirs}/deadlines"):
        assert client.post(url, data={"csrf_token": token,
                                      "email": "maya@example.test"}).status_code == 403, url
    assert not db.session.get(Cohort, theirs).archived
    assert client.get("/cohorts/9999").status_code == 404


def test_admin_sees_every_cohort(client, auth, world):
    auth.login(world["admin"])
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Tuesday group" in listing and "Thursday group" in listing
    assert client.get(f"/cohorts/{world['theirs'].id}").status_code == 200


# ---- create and edit ----

def test_create_validates_and_audits(client, auth, world, unit_id):
    auth.login(world["coordinator"])
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "North College" in page and "South College" not in page  # only their centres

    blank = post_form(client, "/cohorts/new", data={"name": " ", "centre_id": ""})
    text = blank.get_data(as_text=True)
    assert blank.status_code == 200 and "There is a problem" in text
    for message in ("Enter a name for the cohort.", "Enter the start date.",
                    "Enter the end date.", "Choose the qualification unit the cohort studies.",
                    "Choose the centre that runs the cohort."):
        assert message in text
    assert "<title>Error: " in text

    backwards = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, starts_on="2026-09-01", ends_on="2026-08-31"))
    assert ("The end date must be the same as or after the start date (1 September 2026)."
            in backwards.get_data(as_text=True))

    nonsense = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, starts_on="31/02/2026"))
    assert "Enter the start date as a real date" in nonsense.get_data(as_text=True)

    duplicate = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, name="tuesday GROUP"))
    assert "There is already a cohort called tuesday GROUP" in duplicate.get_data(as_text=True)

    other_centre = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, centre_id=str(world["south"].id)))
    assert "Choose the centre that runs the cohort." in other_centre.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Cohort.id))) == 2

    made = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, name="  Level 3 evening ", starts_on="1 September 2026"))
    assert made.status_code == 302
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Level 3 evening"))
    assert (cohort.starts_on, cohort.ends_on) == (date(2026, 9, 1), date(2027, 7, 31))
    assert cohort.unit_id == unit_id and cohort.centre_id == world["north"].id
    assert made.headers["Location"].endswith(f"/cohorts/{cohort.id}")
    assert [e.subject_id for e in _audits("cohort.create")] == [str(cohort.id)]


def test_same_day_start_and_end_is_allowed(client, auth, world, unit_id):
    auth.login(world["coordinator"])
    made = post_form(client, "/cohorts/new", data=_cohort_data(
        world, unit_id=unit_id, starts_on="2026-09-01", ends_on="2026-09-01"))
    assert made.status_code == 302


def test_edit_changes_details_and_audits(client, auth, world, unit_id):
    cohort = world["mine"]
    auth.login(world["coordinator"])
    form = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'value="Tuesday group"' in form
    url = f"/cohorts/{cohort.id}/edit"
    clash = post_form(client, url, data=_cohort_data(world, unit_id=unit_id,
                                                     name="Thursday group"))
    assert "There is already a cohort called Thursday group" in clash.get_data(as_text=True)
    bad = post_form(client, url, data=_cohort_data(world, unit_id=unit_id,
                                                   ends_on="2026-01-01"))
    assert "The end date must be the same as or after the start date" in bad.get_data(
        as_text=True)
    saved = post_form(client, url, data=_cohort_data(world, unit_id=unit_id,
                                                     name="Tuesday group"))
    assert saved.status_code == 302
    db.session.refresh(cohort)
    assert cohort.starts_on == date(2026, 9, 1) and cohort.unit_id == unit_id
    [event] = _audits("cohort.update")
    assert event.detail["changes"]["starts_on"] == [None, "2026-09-01"]
    assert "name" not in event.detail["changes"]


# ---- archive ----

def test_archive_hides_the_cohort_and_keeps_learners_work(client, auth, world, app):
    cohort, learner = world["mine"], world["learner"]
    module = app.extensions["catalog"].modules[0]
    progress.mark_complete(learner, module)
    auth.login(world["coordinator"])
    archived = post_form(client, f"/cohorts/{cohort.id}", f"/cohorts/{cohort.id}/archive")
    assert archived.status_code == 302
    assert "Its learners&#39; work is kept." in client.get(archived.headers["Location"]).get_data(
        as_text=True)
    db.session.refresh(cohort)
    assert cohort.archived
    assert "Tuesday group" not in client.get("/cohorts/").get_data(as_text=True)
    shown = client.get("/cohorts/?archived=1").get_data(as_text=True)
    assert "Tuesday group" in shown and "Archived" in shown
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    assert enrolment.left_at is None
    assert db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.user_id == learner.id)).completed_at is not None
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Maya Patel" in page and "This cohort is archived" in page
    assert post_form(client, f"/cohorts/{cohort.id}", f"/cohorts/{cohort.id}/unarchive",
                     ).status_code == 302
    db.session.refresh(cohort)
    assert not cohort.archived
    assert [len(_audits(a)) for a in ("cohort.archive", "cohort.unarchive")] == [1, 1]


# ---- people ----

def test_enrol_by_email_and_remove_keeps_history(client, auth, world, make_user, app):
    cohort = world["mine"]
    newcomer = make_user("learner", name="Nia Newcomer", email="nia@example.test")
    make_user("assessor", email="not-a-learner@example.test")
    auth.login(world["coordinator"])
    url = f"/cohorts/{cohort.id}"
    for email, message in (("", "Enter the learner&#39;s email address."),
                           ("nobody@example.test", "There is no learner account"),
                           ("not-a-learner@example.test", "There is no learner account"),
                           ("MAYA@example.test", "Maya Patel is already in this cohort.")):
        response = post_form(client, url, f"{url}/learners", data={"email": email})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), email
    added = post_form(client, url, f"{url}/learners", data={"email": " Nia@Example.test "})
    assert added.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Nia Newcomer" in page and "2 learners in Tuesday group" in page

    progress.mark_complete(newcomer, app.extensions["catalog"].modules[0])
    removed = post_form(client, url, f"{url}/learners/{newcomer.id}/remove",
                        follow_redirects=True)
    assert "Nia Newcomer is no longer in Tuesday group. Their work is kept." in (
        removed.get_data(as_text=True))
    assert "Nia Newcomer" not in client.get(url).get_data(as_text=True)
    rows = list(db.session.scalars(select(Enrolment).where(Enrolment.user_id == newcomer.id)))
    assert len(rows) == 1 and rows[0].left_at is not None
    assert db.session.scalar(select(func.count(ModuleProgress.id)).where(
        ModuleProgress.user_id == newcomer.id)) == 1
    assert post_form(client, url, f"{url}/learners/{newcomer.id}/remove").status_code == 404
    by_coordinator = [(e.action, e.detail["learner_id"]) for e in _audits("cohort.enrol")
                      + _audits("cohort.remove") if e.actor_id == world["coordinator"].id]
    assert by_coordinator == [("cohort.enrol", newcomer.id), ("cohort.remove", newcomer.id)]


def test_learner_reference_is_shown(client, auth, world):
    world["learner"].learner_ref = "ULN-12345"
    db.session.commit()
    auth.login(world["coordinator"])
    assert "ULN-12345" in client.get(f"/cohorts/{world['mine'].id}").get_data(as_text=True)


def _quiz_attempt(learner, slug, passed=True):
    now = utcnow()
    db.session.add(QuizAttempt(user_id=learner.id, quiz_slug=slug, quiz_version="v1", number=1,
                               state="submitted", started_at=now, submitted_at=now,
                               settings={"counts_toward_completion": True, "pass_mark": 80},
                               questions=[], max_marks=1, marks=1, percent=100,
                               passed=passed))
    db.session.commit()


def test_moving_a_learner_keeps_their_work_and_shows_it_in_the_new_cohort(
        client, auth, world, make_user, make_cohort, app):
    learner, old = world["learner"], world["mine"]
    new_assessor = make_user("assessor", name="Nadia New")
    new = make_cohort("Wednesday group", assessors=[new_assessor], centre=world["north"])
    catalog = app.extensions["catalog"]
    task = catalog.tasks[0]
    progress.mark_complete(learner, catalog.modules[0])
    _quiz_attempt(learner, next(iter(app.extensions["quizzes"])))
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "My answer about partnership working.", None, utcnow())
    submissions.submit(sub, task, learner, True, "", utcnow())
    before = {model: db.session.scalar(select(func.count(model.id)).where(column == learner.id))
              for model, column in ((ModuleProgress, ModuleProgress.user_id),
                                    (QuizAttempt, QuizAttempt.user_id),
                                    (Submission, Submission.learner_id))}

    auth.login(world["coordinator"])
    url = f"/cohorts/{old.id}/learners/{learner.id}/move"
    form = client.get(url).get_data(as_text=True)
    assert "Wednesday group" in form and "Thursday group" not in form  # their centres only
    wrong = post_form(client, url, data={"target": str(world["theirs"].id)})
    assert "Choose the cohort to move them to." in wrong.get_data(as_text=True)
    moved = post_form(client, url, data={"target": str(new.id)})
    assert moved.status_code == 302

    enrolments = list(db.session.scalars(select(Enrolment).where(
        Enrolment.user_id == learner.id).order_by(Enrolment.id)))
    assert [(e.cohort_id, e.left_at is None) for e in enrolments] == [(old.id, False),
                                                                      (new.id, True)]
    after = {model: db.session.scalar(select(func.count(model.id)).where(column == learner.id))
             for model, column in ((ModuleProgress, ModuleProgress.user_id),
                                   (QuizAttempt, QuizAttempt.user_id),
                                   (Submission, Submission.learner_id))}
    assert after == before and all(after.values())
    assert "Maya Patel" in client.get(f"/cohorts/{new.id}").get_data(as_text=True)
    assert "Maya Patel" not in client.get(f"/cohorts/{old.id}").get_data(as_text=True)
    [event] = _audits("cohort.move")
    assert event.detail == {"from_cohort": old.id, "to_cohort": new.id}

    # The new cohort's assessor now has the submitted work in their queue; the old one not.
    auth.logout()
    auth.login(new_assessor)
    assert "Maya Patel" in client.get("/marking/").get_data(as_text=True)
    auth.logout()
    auth.login(world["assessor"])
    assert "Maya Patel" not in client.get("/marking/").get_data(as_text=True)


def test_assessors_are_added_and_removed(client, auth, world, make_user):
    cohort = world["mine"]
    second = make_user("assessor", name="Ben Second")
    join(world["north"], second)  # staff are picked from the coordinator's own centre
    auth.login(world["coordinator"])
    url = f"/cohorts/{cohort.id}"
    empty = post_form(client, url, f"{url}/assessors", data={"assessor-user_id": ""})
    assert "Choose the assessor to add." in empty.get_data(as_text=True)
    assert post_form(client, url, f"{url}/assessors",
                     data={"assessor-user_id": str(second.id)}).status_code == 302
    staff = set(db.session.execute(select(CohortStaff.user_id, CohortStaff.role).where(
        CohortStaff.cohort_id == cohort.id)))
    assert staff == {(world["assessor"].id, "assessor"), (second.id, "assessor")}
    assert post_form(client, url, f"{url}/staff/{world['assessor'].id}/assessor/remove",
                     ).status_code == 302
    assert set(db.session.scalars(select(CohortStaff.user_id).where(
        CohortStaff.cohort_id == cohort.id))) == {second.id}
    assert len(_audits("cohort.unassign")) == 1


def test_assigning_a_new_iqa_replaces_the_previous_one(client, auth, world, make_user):
    cohort = world["mine"]
    first, second = make_user("iqa", name="Ivy First"), make_user("iqa", name="Ian Second")
    learner_only = make_user("learner")
    join(world["north"], first, second, learner_only)
    auth.login(world["coordinator"])
    url = f"/cohorts/{cohort.id}"
    assert post_form(client, url, f"{url}/iqa", data={"iqa-user_id": str(first.id)}
                     ).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Ivy First" in page and "Replace IQA" in page
    not_iqa = post_form(client, url, f"{url}/iqa", data={"iqa-user_id": str(learner_only.id)})
    assert "Choose the internal quality assurer." in not_iqa.get_data(as_text=True)
    replaced = post_form(client, url, f"{url}/iqa", data={"iqa-user_id": str(second.id)},
                         follow_redirects=True)
    assert "Ian Second is now the IQA for Tuesday group, in place of Ivy First." in (
        replaced.get_data(as_text=True))
    iqas = list(db.session.scalars(select(CohortStaff.user_id).where(
        CohortStaff.cohort_id == cohort.id, CohortStaff.role == "iqa")))
    assert iqas == [second.id]
    assert [e.detail["user_id"] for e in _audits("cohort.unassign")] == [first.id]
    assert [e.detail["user_id"] for e in _audits("cohort.assign")
            if e.detail["role"] == "iqa"] == [first.id, second.id]


# ---- deadlines ----

def test_deadlines_save_validate_and_clear(client, auth, world, app):
    cohort = world["mine"]
    cohort.starts_on, cohort.ends_on = date(2026, 9, 1), date(2027, 7, 31)
    db.session.commit()
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    module, task = catalog.modules[0], catalog.tasks[0]
    quiz = next(iter(quizzes.values()))
    auth.login(world["coordinator"])
    url = f"/cohorts/{cohort.id}/deadlines"
    page = client.get(url).get_data(as_text=True)
    # One labelled date input per item.
    inputs = re.findall(r'<input [^>]*name="(module|quiz|task)-', page)
    assert len(inputs) == len(catalog.modules) + len(quizzes) + len(catalog.tasks)
    assert f'<label class="label" for="module-{module.slug}">Module {module.order}: ' in page
    assert f">{task.title}</label>" in page

    bad = post_form(client, url, data={f"module-{module.slug}": "2026-13-01",
                                       f"task-{task.slug}": "2026-08-01"})
    text = bad.get_data(as_text=True)
    assert "enter a real date" in text
    assert "the date must be on or after the cohort&#39;s start date (1 September 2026)" in text
    assert db.session.scalar(select(func.count(Deadline.id))) == 0

    saved = post_form(client, url, data={f"module-{module.slug}": "2026-10-01",
                                         f"quiz-{quiz.slug}": "15/10/2026",
                                         f"task-{task.slug}": "2026-11-01"})
    assert saved.status_code == 302
    rows = {(d.item_kind, d.item_slug): d.due_on for d in db.session.scalars(select(Deadline))}
    assert rows == {("module", module.slug): date(2026, 10, 1),
                    ("quiz", quiz.slug): date(2026, 10, 15),
                    ("task", task.slug): date(2026, 11, 1)}
    again = client.get(url).get_data(as_text=True)
    assert 'value="15/10/2026"' in again
    assert "1 October 2026" in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)

    # Blank clears; the rest stay.
    post_form(client, url, data={f"quiz-{quiz.slug}": "2026-10-15",
                                 f"task-{task.slug}": "2026-11-02"})
    rows = {(d.item_kind, d.item_slug): d.due_on for d in db.session.scalars(select(Deadline))}
    assert rows == {("quiz", quiz.slug): date(2026, 10, 15),
                    ("task", task.slug): date(2026, 11, 2)}
    events = _audits("cohort.deadlines")
    assert len(events) == 2
    assert {c["item"] for c in events[1].detail["changes"]} == {f"module:{module.slug}",
                                                                 f"task:{task.slug}"}


# ---- performance ----

def test_cohort_page_query_count_is_fixed(client, auth, world, make_user, app, count_queries):
    cohort, catalog = world["mine"], app.extensions["catalog"]
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                            item_slug=catalog.modules[0].slug, due_on=date(2026, 1, 1)))
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="task",
                            item_slug=catalog.tasks[0].slug, due_on=date(2026, 1, 1)))
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="quiz",
                            item_slug=next(iter(app.extensions["quizzes"])),
                            due_on=date(2026, 1, 1)))
    db.session.commit()
    auth.login(world["coordinator"])
    url = f"/cohorts/{cohort.id}"
    db.session.commit()  # expire what the test loaded, as a fresh request would find it
    with count_queries() as few:
        client.get(url)
    for n in range(10):
        learner = make_user("learner", name=f"Extra {n}")
        membership.enrol(learner, cohort)
        progress.mark_complete(learner, catalog.modules[0])
        _quiz_attempt(learner, next(iter(app.extensions["quizzes"])), passed=bool(n % 2))
    db.session.commit()
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert "11 learners in Tuesday group" in page
    assert many.count == few.count, many.statements
    assert "Overdue" in page


def test_a_name_taken_at_the_same_moment_is_reported_not_a_crash(world, monkeypatch):
    from learning.cohorts import admin as cohort_admin

    monkeypatch.setattr(cohort_admin, "name_taken", lambda name, exclude_id=None: False)
    with pytest.raises(cohort_admin.CohortError) as caught:
        cohort_admin.create_cohort(world["coordinator"], name="Tuesday group", starts_on=None,
                                   ends_on=None, unit_id=None, centre_id=world["north"].id)
    assert caught.value.field == "name"
    with pytest.raises(cohort_admin.CohortError):
        cohort_admin.update_cohort(world["mine"], world["coordinator"], name="Thursday group",
                                   starts_on=None, ends_on=None, unit_id=None,
                                   centre_id=world["north"].id)
    assert db.session.get(Cohort, world["mine"].id).name == "Tuesday group"


def test_removing_a_learner_and_archiving_a_cohort_ask_first(client, auth, world):
    cohort, learner = world["mine"], world["learner"]
    auth.login(world["coordinator"])
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    remove_url = f"/cohorts/{cohort.id}/learners/{learner.id}/remove"
    archive_url = f"/cohorts/{cohort.id}/archive"
    assert f'href="{remove_url}">Remove…' in page and f'href="{archive_url}">Archive' in page
    asked = client.get(remove_url).get_data(as_text=True)
    assert "<h1>Remove Maya Patel from Tuesday group?</h1>" in asked
    assert "Their progress, quiz attempts and written work are kept." in asked
    asked = client.get(archive_url).get_data(as_text=True)
    assert "<h1>Archive Tuesday group?</h1>" in asked
    db.session.refresh(cohort)
    assert not cohort.archived  # asking changes nothing
    assert db.session.scalar(select(Enrolment.left_at).where(
        Enrolment.cohort_id == cohort.id, Enrolment.user_id == learner.id)) is None
    assert post_form(client, remove_url, remove_url).status_code == 302
    assert post_form(client, archive_url, archive_url).status_code == 302
    db.session.refresh(cohort)
    assert cohort.archived
    auth.logout()
    auth.login(world["other_coordinator"])  # another centre's cohort: not even the question
    other = world["theirs"]
    assert client.get(f"/cohorts/{cohort.id}/archive").status_code in (403, 404)
    assert client.get(f"/cohorts/{other.id}/archive").status_code == 200


def test_deadlines_are_filled_in_from_another_cohort_and_moved_then_saved(
        client, auth, world, app, make_cohort):
    source, theirs = world["mine"], world["theirs"]
    target = make_cohort("Wednesday group", centre=world["north"])
    catalog = app.extensions["catalog"]
    module, task = catalog.modules[0], catalog.tasks[0]
    for c in (source, target):
        c.starts_on, c.ends_on = date(2026, 9, 1), date(2027, 7, 31)
    db.session.add_all([
        Deadline(cohort_id=source.id, item_kind="module", item_slug=module.slug,
                 due_on=date(2026, 10, 1)),
        Deadline(cohort_id=target.id, item_kind="task", item_slug=task.slug,
                 due_on=date(2026, 12, 1)),
        Deadline(cohort_id=theirs.id, item_kind="module", item_slug=module.slug,
                 due_on=date(2026, 9, 20))])
    db.session.commit()
    auth.login(world["coordinator"])
    url = f"/cohorts/{target.id}/deadlines"
    page = client.get(f"{url}?source={source.id}&shift=7").get_data(as_text=True)
    assert "Dates filled in from Tuesday group, moved 7 days later." in page
    assert f'name="module-{module.slug}" type="text" value="8/10/2026"' in page
    assert f'name="task-{task.slug}" type="text" value="1/12/2026"' in page  # kept
    assert db.session.scalar(select(func.count(Deadline.id)).where(
        Deadline.cohort_id == target.id)) == 1  # nothing saved yet
    # Move this cohort's own dates a week earlier.
    own = client.get(f"{url}?source={target.id}&shift=-7").get_data(as_text=True)
    assert "moved 7 days earlier" in own and 'value="24/11/2026"' in own
    # A cohort of another centre cannot be read this way; nonsense is told.
    assert client.get(f"{url}?source={theirs.id}&shift=0").status_code == 404
    assert "Shift the dates by a whole number of days" in client.get(
        f"{url}?source={source.id}&shift=soon", follow_redirects=True).get_data(as_text=True)
    assert "at most 366 either way" in client.get(
        f"{url}?source={source.id}&shift=400").get_data(as_text=True)
    saved = post_form(client, url, data={f"module-{module.slug}": "8/10/2026",
                                         f"task-{task.slug}": "1/12/2026"})
    assert saved.status_code == 302
    assert {d.item_slug: d.due_on for d in db.session.scalars(select(Deadline).where(
        Deadline.cohort_id == target.id))} == {module.slug: date(2026, 10, 8),
                                               task.slug: date(2026, 12, 1)}


def test_enrolling_a_learner_from_another_cohort_asks_to_move_or_add(
        client, auth, world, make_cohort, make_user):
    learner, mine = world["learner"], world["mine"]
    second = make_cohort("Friday group", centre=world["north"])
    auth.login(world["coordinator"])
    url = f"/cohorts/{second.id}"

    def enrol(**data):
        return post_form(client, url, f"{url}/learners", data={"email": learner.email, **data})

    def cohorts_of(user):
        return sorted(db.session.scalars(select(Enrolment.cohort_id).where(
            Enrolment.user_id == user.id, Enrolment.left_at.is_(None))))

    asked = enrol()
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert ("Maya Patel is already in Tuesday group. Choose whether to move them here or add "
            "them to this cohort as well.") in html
    assert 'href="#choice"' in html and 'id="choice-move"' in html and 'id="choice-add"' in html
    assert cohorts_of(learner) == [mine.id]  # asking changes nothing
    assert enrol(choice="move").status_code == 302
    assert cohorts_of(learner) == [second.id]
    assert [e.action for e in _audits("cohort.move")] == ["cohort.move"]

    # In two other cohorts: which to leave is not this page's to guess, so only "add".
    twice = make_user("learner", name="Tia Twice")
    third = make_cohort("Saturday group", learners=[twice], centre=world["north"])
    from learning.people import membership
    membership.enrol(twice, mine)
    db.session.commit()
    html = post_form(client, url, f"{url}/learners", data={"email": twice.email}
                     ).get_data(as_text=True)
    assert "Tia Twice is already in Saturday group, Tuesday group." in html
    assert 'id="choice-add"' in html and 'id="choice-move"' not in html
    refused = post_form(client, url, f"{url}/learners",
                        data={"email": twice.email, "choice": "move"})
    assert "can only be added here" in refused.get_data(as_text=True)
    assert post_form(client, url, f"{url}/learners",
                     data={"email": twice.email, "choice": "add"}).status_code == 302
    assert cohorts_of(twice) == sorted([third.id, mine.id, second.id])


def test_enrolling_from_a_csv_file_is_reachable_from_the_cohort_page(client, auth, world):
    auth.login(world["coordinator"])
    page = client.get(f"/cohorts/{world['mine'].id}").get_data(as_text=True)
    assert 'href="/admin/enrol">enrol from a CSV file</a>' in page
    assert client.get("/admin/enrol").status_code == 200


def test_dates_are_entered_in_day_month_and_year_boxes(client, auth, world, unit_id):
    """The GOV.UK date input: three labelled boxes in a fieldset, a month as a number or a
    word, and a message naming the part that is missing, linked to that box."""
    auth.login(world["coordinator"])
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert '<legend class="label">Start date</legend>' in page
    for box, label in (("starts_on", "Day"), ("starts_on-month", "Month"),
                       ("starts_on-year", "Year")):
        assert f'<label class="label" for="{box}">{label}</label>' in page

    def boxes(prefix, day, month, year):
        return {f"{prefix}-day": day, f"{prefix}-month": month, f"{prefix}-year": year}

    data = {"name": "Boxes group", "unit_id": unit_id, "centre_id": str(world["north"].id),
            **boxes("starts_on", "1", "9", "2026"), **boxes("ends_on", "31", "July", "2027")}
    made = post_form(client, "/cohorts/new", data=data)
    assert made.status_code == 302
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Boxes group"))
    assert (cohort.starts_on, cohort.ends_on) == (date(2026, 9, 1), date(2027, 7, 31))
    edit = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'id="ends_on-month" name="ends_on-month" type="text" inputmode="text" value="7"' in edit

    no_month = post_form(client, "/cohorts/new", data={
        **data, "name": "Another", **boxes("starts_on", "1", "", "2026")})
    text = no_month.get_data(as_text=True)
    assert '<a href="#starts_on-month">The start date must include a month.</a>' in text
    for day, month, year, message in (
            ("31", "2", "2027", "The end date must be a real date: that day does not exist"),
            ("31", "Juliet", "2027", "write the month as a number or a word"),
            ("31", "7", "27", "the year must include 4 numbers")):
        wrong = post_form(client, "/cohorts/new", data={
            **data, "name": "Another", **boxes("ends_on", day, month, year)})
        assert message in wrong.get_data(as_text=True)
        # What was typed stays in the boxes to be corrected.
        assert f'name="ends_on-month" type="text" inputmode="text" value="{month}"' in \
            wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Cohort.id))) == 3


@pytest.mark.parametrize("day, month, year", [
    ("9" * 40, "1", "2026"), ("1", "9" * 40, "2026"), ("²", "1", "2026"), ("1", "1", "２０２６"),
    ("0", "0", "0000"), ("-1", "1", "2026")])
def test_hostile_date_boxes_get_a_message_not_an_error_page(client, auth, world, unit_id,
                                                            day, month, year):
    auth.login(world["coordinator"])
    page = post_form(client, "/cohorts/new", data={
        "name": "Odd", "unit_id": unit_id, "centre_id": str(world["north"].id),
        "starts_on-day": day, "starts_on-month": month, "starts_on-year": year,
        "ends_on": "31/7/2027"})
    assert page.status_code == 200
    assert "The start date" in page.get_data(as_text=True)
