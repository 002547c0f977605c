"""The dashboard's to-do list per role: what waits, where it links, whose it is, and a fixed
number of SQL statements however many cohorts, learners and answers there are."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.assessment import marking
from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.cohorts.models import Deadline
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa.models import IqaReview, IqaSample
from learning.people.models import Cohort, User
from tests.htmlcheck import html_errors, needs_checker
from tests.test_matrix import today_uk, written_work

#: Long enough ago to be past any marking target of 10 working days.
LONG_AGO = timedelta(days=40)


@pytest.fixture
def tasks(app):
    return [t.slug for t in app.extensions["catalog"].tasks]


def _text(html: str) -> str:
    """The page's words, tags removed and spaces collapsed, to assert what a person reads."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _section(html: str, heading_id: str) -> str:
    match = re.search(r'<section aria-labelledby="' + heading_id + r'".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def busy_cohort(label: str, staff: dict, tasks: list[str], make_user, make_cohort,
                centre=None) -> Cohort:
    """A cohort with two learners: Red has a task referred twice (red in the matrix) and an
    answer waiting past the marking target; Resub has a resubmission waiting. Red's second
    referral is in the IQA sample unreviewed; Resub's referral was disagreed with (an open
    action, sent back to the assessor). The cohort starts in a few days."""
    assessor = staff["assessor"]
    red = make_user("learner", name=f"Red {label}")
    resub = make_user("learner", name=f"Resub {label}")
    cohort = make_cohort(label, learners=[red, resub], assessors=[assessor],
                         iqas=[staff["iqa"]], centre=centre)
    cohort.starts_on = today_uk() + timedelta(days=3)
    cohort.ends_on = today_uk() + timedelta(days=300)
    long_ago = utcnow() - LONG_AGO
    twice = written_work(red, tasks[0], ["referred", "referred"], assessor, at=long_ago)
    written_work(red, tasks[1], [None], assessor, at=long_ago)
    reopened = written_work(resub, tasks[0], ["referred", None], assessor, at=utcnow())
    reopened.reassess = True
    db.session.commit()

    def latest_decision(sub: Submission) -> Decision:
        return db.session.scalars(select(Decision).join(SubmittedWork).where(
            SubmittedWork.submission_id == sub.id).order_by(Decision.id.desc())).first()

    db.session.add(IqaSample(decision_id=latest_decision(twice).id, reason="manual"))
    sample = IqaSample(decision_id=latest_decision(reopened).id, reason="manual")
    db.session.add(sample)
    db.session.flush()
    db.session.add(IqaReview(sample_id=sample.id, iqa_id=staff["iqa"].id, verdict="disagree",
                             action="Check criterion 2.3 again."))
    db.session.commit()
    return cohort


@pytest.fixture
def staff(make_user, make_centre):
    """One person per staff role, and the centre the coordinator runs."""
    people = {"assessor": make_user("assessor", name="Asha Assessor"),
              "iqa": make_user("iqa", name="Ivy Iqa"),
              "coordinator": make_user("coordinator", name="Cora Coordinator")}
    people["centre"] = make_centre("North", coordinators=[people["coordinator"]])
    return people


@pytest.fixture
def counted_dashboard(app, client, auth, count_queries):
    """The dashboard as `user` sees it, with the SQL statements it ran (its own app context,
    a fresh session, as a real request has)."""
    def get(user: User):
        auth.login(user)
        client.get("/dashboard")  # the first look builds what it builds once (matrix summary)
        with app.app_context(), count_queries() as q:
            response = client.get("/dashboard")
        assert response.status_code == 200
        auth.logout()
        return q.count, response.get_data(as_text=True), q.statements

    return get


# ---- a fixed number of statements, per role ----

@pytest.mark.parametrize("role", ["assessor", "iqa", "coordinator"])
def test_each_staff_to_do_list_runs_the_same_statements_for_1_or_5_cohorts(
        role, staff, tasks, make_user, make_cohort, counted_dashboard):
    busy_cohort("Cohort 1", staff, tasks, make_user, make_cohort, staff["centre"])
    few, page, _ = counted_dashboard(staff[role])
    for n in range(2, 6):
        busy_cohort(f"Cohort {n}", staff, tasks, make_user, make_cohort, staff["centre"])
    many, page_many, statements = counted_dashboard(staff[role])
    assert many == few, "\n".join(statements)
    # The five cohorts' work is really counted (the figures grew with it).
    assert _section(page, f"todo-{role}-heading") != _section(page_many, f"todo-{role}-heading")


def test_the_assessor_list_counts_waiting_overdue_resubmitted_and_iqa_actions(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    for n in range(1, 6):
        busy_cohort(f"Cohort {n}", staff, tasks, make_user, make_cohort, staff["centre"])
    _, page, _ = counted_dashboard(staff["assessor"])
    todo = _section(page, "todo-assessor-heading")
    words = _text(todo)
    assert "10 answers waiting to be marked: the oldest has waited 33 days; " \
           "5 past the marking target of 10 working days" in words
    assert "5 resubmissions waiting" in words
    assert words.count("IQA action to address: make a new decision on Resub Cohort") == 5
    assert 'href="/marking/"' in todo
    assert 'href="/marking/?status=resubmitted"' in todo
    reopened = db.session.scalar(select(Submission).where(Submission.reassess.is_(True)))
    assert f'href="/marking/{reopened.id}"' in todo


def test_the_iqa_list_counts_the_sample_to_review_and_open_actions(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    for n in range(1, 4):
        busy_cohort(f"Cohort {n}", staff, tasks, make_user, make_cohort, staff["centre"])
    _, page, _ = counted_dashboard(staff["iqa"])
    todo = _section(page, "todo-iqa-heading")
    words = _text(todo)
    assert "3 sampled decisions to review" in words
    assert 'href="/iqa/?reviewed=no"' in todo
    assert words.count("Open action: Resub Cohort") == 3
    assert "waiting for a new decision by Asha Assessor" in words
    sample = db.session.scalar(select(IqaReview.sample_id))
    assert f'href="/iqa/samples/{sample}"' in todo


def test_the_coordinator_list_names_red_learners_overdue_marking_and_cohorts_starting(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    cohort = busy_cohort("Cohort 1", staff, tasks, make_user, make_cohort, staff["centre"])
    _, page, _ = counted_dashboard(staff["coordinator"])
    todo = _section(page, "todo-coordinator-heading")
    words = _text(todo)
    assert "1 learner at red in Cohort 1" in words
    assert f'href="/reports/matrix?cohort={cohort.id}&amp;status=red"' in todo
    assert "1 answer in Cohort 1 past the marking target of 10 working days" in words
    assert f'href="/reports/matrix?cohort={cohort.id}&amp;status=waiting"' in todo
    assert f"Cohort 1 starts on {cohort.starts_on.day}" in words
    assert f'href="/cohorts/{cohort.id}"' in todo


def test_the_red_count_is_the_matrix_own(staff, tasks, make_user, make_cohort, client, auth,
                                          counted_dashboard):
    cohort = busy_cohort("Cohort 1", staff, tasks, make_user, make_cohort, staff["centre"])
    # An overdue module makes Resub red too, by the matrix's rule on deadlines.
    module = client.application.extensions["catalog"].modules[0].slug
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module", item_slug=module,
                            due_on=today_uk() - timedelta(days=2)))
    db.session.commit()
    _, page, _ = counted_dashboard(staff["coordinator"])
    assert "2 learners at red in Cohort 1" in _text(page)
    auth.login(staff["coordinator"])
    matrix = client.get(f"/reports/matrix?cohort={cohort.id}&status=red").get_data(as_text=True)
    assert "Red Cohort 1" in matrix and "Resub Cohort 1" in matrix


def test_the_queue_lists_only_resubmissions_when_asked(
        staff, tasks, make_user, make_cohort, client, auth):
    busy_cohort("Cohort 1", staff, tasks, make_user, make_cohort)
    auth.login(staff["assessor"])
    words = _text(client.get("/marking/?status=resubmitted").get_data(as_text=True))
    assert "1 answer waiting" in words
    assert "Resub Cohort 1" in words and "Red Cohort 1" not in words
    assert "Red Cohort 1" in _text(client.get("/marking/").get_data(as_text=True))


# ---- whose work: per-object scope ----

def test_an_assessor_sees_nothing_from_another_assessors_cohort(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    other = {"assessor": make_user("assessor"), "iqa": make_user("iqa")}
    busy_cohort("Not yours", other, tasks, make_user, make_cohort)
    _, page, _ = counted_dashboard(staff["assessor"])
    todo = _section(page, "todo-assessor-heading")
    assert "Nothing waiting." in todo
    assert "Resub Not yours" not in todo


def test_an_iqa_sees_nothing_from_another_iqas_cohort(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    other = {"assessor": make_user("assessor"), "iqa": make_user("iqa")}
    busy_cohort("Not yours", other, tasks, make_user, make_cohort)
    _, page, _ = counted_dashboard(staff["iqa"])
    assert "Nothing waiting." in _section(page, "todo-iqa-heading")


def test_a_coordinator_sees_nothing_from_another_centre(
        staff, tasks, make_user, make_cohort, make_centre, counted_dashboard):
    other = {"assessor": make_user("assessor"), "iqa": make_user("iqa")}
    busy_cohort("South group", other, tasks, make_user, make_cohort,
                make_centre("South", coordinators=[make_user("coordinator")]))
    _, page, _ = counted_dashboard(staff["coordinator"])
    todo = _section(page, "todo-coordinator-heading")
    assert "Nothing waiting." in todo
    assert "South group" not in todo


def test_a_person_with_several_roles_gets_a_list_per_role(
        staff, tasks, make_user, make_cohort, counted_dashboard):
    both = make_user(roles=["assessor", "iqa"], name="Bo Both")
    busy_cohort("Cohort 1", {"assessor": both, "iqa": both}, tasks, make_user, make_cohort)
    _, page, _ = counted_dashboard(both)
    assert "Marking to do" in page and "Quality assurance to do" in page
    assert "Your centre: to do" not in page and "What to do next" not in page
    # As IQA, their own decisions are not theirs to review.
    assert "sampled decision" not in _section(page, "todo-iqa-heading")


# ---- learners ----

def test_a_learner_sees_next_step_overdue_feedback_and_portfolio(
        app, client, auth, make_user, make_cohort, tasks):
    learner = make_user("learner", name="Lee Learner")
    assessor = make_user("assessor")
    cohort = make_cohort("Cohort 1", learners=[learner], assessors=[assessor])
    modules = app.extensions["catalog"].modules
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module", item_slug=modules[0].slug,
                            due_on=today_uk() - timedelta(days=3)))
    db.session.commit()
    written_work(learner, tasks[0], ["referred"], assessor)
    auth.login(learner)
    page = client.get("/dashboard").get_data(as_text=True)
    todo = _section(page, "todo-learner-heading")
    words = _text(todo)
    assert f"Next step: start Module {modules[0].order}: {modules[0].title}" in words
    assert f"Overdue by 3 days: Module {modules[0].order}: {modules[0].title}" in words
    assert "Feedback to read: your assessor's decision on" in words
    assert f'href="/tasks/{tasks[0]}/feedback"' in todo
    assert f'href="/reports/learners/{learner.id}/portfolio"' in todo
    # The to-do list comes first, right under the greeting.
    assert page.index("What to do next") < page.index("Your progress")

    client.get(f"/tasks/{tasks[0]}/feedback")  # opened: read
    todo = _section(client.get("/dashboard").get_data(as_text=True), "todo-learner-heading")
    assert "Feedback to read" not in todo
    assert "Referred: improve and resubmit" in _text(todo)
    decision = db.session.scalar(select(Decision))
    db.session.refresh(decision)
    assert decision.learner_read_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.read")
                             ).actor_id == learner.id


def test_a_deadline_set_before_the_learner_joined_is_not_overdue_in_the_list(
        app, client, auth, make_user, make_cohort):
    learner = make_user("learner")
    cohort = make_cohort("Late joiners", learners=[learner], joined=None)  # joined today
    module = app.extensions["catalog"].modules[0]
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module", item_slug=module.slug,
                            due_on=today_uk() - timedelta(days=3)))
    db.session.commit()
    auth.login(learner)
    todo = _section(client.get("/dashboard").get_data(as_text=True), "todo-learner-heading")
    assert "Overdue" not in todo


def test_only_the_learner_reading_it_marks_feedback_read(make_user, make_cohort, tasks):
    learner = make_user("learner")
    assessor = make_user("assessor")
    make_cohort(learners=[learner], assessors=[assessor])
    sub = written_work(learner, tasks[0], ["achieved"], assessor)
    assert marking.mark_feedback_read(sub, assessor, utcnow()) == 0  # not theirs to read
    db.session.commit()
    assert db.session.scalar(select(Decision.learner_read_at)) is None
    assert marking.mark_feedback_read(sub, learner, utcnow()) == 1
    db.session.commit()
    assert db.session.scalar(select(Decision.learner_read_at)) is not None


def test_empty_lists_say_nothing_waiting(client, auth, make_user):
    for role in ("assessor", "iqa", "coordinator"):
        auth.login(make_user(role))
        page = client.get("/dashboard").get_data(as_text=True)
        assert "Nothing waiting." in _section(page, f"todo-{role}-heading")
        auth.logout()


@needs_checker
def test_every_to_do_list_is_valid_html(staff, tasks, make_user, make_cohort, client, auth,
                                        tmp_path):
    busy_cohort("Cohort 1", staff, tasks, make_user, make_cohort, staff["centre"])
    learner = db.session.scalar(select(User).where(User.name == "Red Cohort 1"))
    both = make_user(roles=["assessor", "iqa", "coordinator", "learner"])
    for name, user in [("learner", learner), ("both", both),
                       *((role, staff[role]) for role in ("assessor", "iqa", "coordinator"))]:
        auth.login(user)
        (tmp_path / f"dashboard-{name}.html").write_text(
            client.get("/dashboard").get_data(as_text=True))
        auth.logout()
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)
