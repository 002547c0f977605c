"""Deadlines: the overdue rules (pure), the UK calendar boundary, and the queries around them."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from learning.assessment import submissions
from learning.assessment.marking_target import (
    marking_cutoff,
    marking_overdue,
    overdue_marking,
    overdue_submission_ids,
    working_days_between,
)
from learning.cohorts import admin as cohort_admin
from learning.cohorts.deadlines import (
    DeadlineStatus,
    LearnerRecord,
    attempt_finishes_quiz,
    catalog_items,
    cohort_overdue_counts,
    deadlines_by_cohort,
    is_done,
    item_titles,
    learner_deadlines,
    records_for,
    save_deadlines,
    status_on,
)
from learning.cohorts.models import Deadline
from learning.core.audit import AuditEvent
from learning.core.dates import local_today
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.people import membership
from learning.quizzes.models import QuizAttempt

DUE = date(2026, 6, 10)  # a Wednesday in British Summer Time


# ---- pure rules ----

def test_today_is_the_uk_date_not_the_utc_date():
    # 23:30 UTC on 10 June is 00:30 on 11 June in London (BST, UTC+1).
    just_after_midnight_bst = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    assert local_today(just_after_midnight_bst) == date(2026, 6, 11)
    assert local_today(datetime(2026, 6, 10, 22, 59, tzinfo=UTC)) == date(2026, 6, 10)
    # In winter London is on UTC: 23:30 UTC is still the same day.
    assert local_today(datetime(2026, 1, 10, 23, 30, tzinfo=UTC)) == date(2026, 1, 10)


def test_status_around_the_due_date():
    assert status_on(DUE, False, DUE - timedelta(days=1)) == (DeadlineStatus.DUE, 0)
    assert status_on(DUE, False, DUE) == (DeadlineStatus.DUE, 0)  # the last day to finish
    assert status_on(DUE, False, DUE + timedelta(days=1)) == (DeadlineStatus.OVERDUE, 1)
    assert status_on(DUE, False, DUE + timedelta(days=9)) == (DeadlineStatus.OVERDUE, 9)
    assert status_on(DUE, True, DUE + timedelta(days=9)) == (DeadlineStatus.DONE, 0)


def test_bst_midnight_makes_an_item_overdue():
    """At 00:30 BST on the 11th a learner with an item due on the 10th is overdue, although
    the UTC date is still the 10th."""
    now = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    assert now.date() == DUE
    assert status_on(DUE, False, local_today(now)) == (DeadlineStatus.OVERDUE, 1)
    assert status_on(DUE, False, local_today(now - timedelta(hours=1))) == (DeadlineStatus.DUE,
                                                                           0)


def test_module_is_done_when_completed():
    assert not is_done("module", "m1", LearnerRecord())
    assert is_done("module", "m1", LearnerRecord(completed_modules=frozenset({"m1"})))


@pytest.mark.parametrize(("passed", "counts", "finishes"), [
    (True, True, True),
    (False, True, False),  # counts toward completion: a failed attempt is not enough
    (None, True, False),
    (False, False, True),  # practice quiz: any submitted attempt finishes it
    (True, False, True),
])
def test_quiz_attempt_finishes_quiz(passed, counts, finishes):
    assert attempt_finishes_quiz(passed, {"counts_toward_completion": counts}) is finishes


def test_quiz_settings_default_to_counting():
    assert not attempt_finishes_quiz(False, {})


@pytest.mark.parametrize(("status", "done"), [
    (None, False),  # never started
    ("draft", False),
    ("submitted", True),
    ("being_marked", True),
    ("referred", False),  # back with the learner until they resubmit
    ("achieved", True),
])
def test_task_done_rule(status, done):
    record = LearnerRecord(task_status={"t1": status} if status else {})
    assert is_done("task", "t1", record) is done


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown item kind 'essay'"):
        is_done("essay", "x", LearnerRecord())


def test_working_days():
    monday = date(2026, 6, 8)
    assert working_days_between(monday, monday) == 0
    assert working_days_between(monday, monday + timedelta(days=1)) == 1
    assert working_days_between(monday, monday + timedelta(days=5)) == 4  # Saturday
    assert working_days_between(monday, monday + timedelta(days=7)) == 5  # next Monday
    assert working_days_between(monday, monday + timedelta(days=14)) == 10
    assert working_days_between(monday, monday + timedelta(days=15)) == 11
    friday = date(2026, 6, 12)
    assert working_days_between(friday, friday + timedelta(days=3)) == 1  # Monday
    assert working_days_between(monday, monday - timedelta(days=3)) == 0


def test_marking_cutoff_agrees_with_working_days():
    start = date(2026, 1, 1)
    for offset in range(40):
        today = start + timedelta(days=offset)
        for days in (1, 5, 10):
            cutoff = marking_cutoff(today, days)
            assert working_days_between(cutoff, today) > days
            assert working_days_between(cutoff + timedelta(days=1), today) <= days


def test_marking_overdue_uses_the_uk_date_of_submission():
    # Submitted at 00:30 BST on Tuesday 9 June (23:30 UTC Monday).
    submitted = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)
    assert not marking_overdue(submitted, date(2026, 6, 23))  # 10 working days
    assert marking_overdue(submitted, date(2026, 6, 24))  # 11


def test_marking_overdue_in_another_zone_counts_from_that_zones_date():
    # 23:30 UTC on Monday 8 June is still Monday in UTC (Tuesday in London).
    submitted = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)
    assert marking_overdue(submitted, date(2026, 6, 23), zone="UTC")  # 11 working days
    assert not marking_overdue(submitted, date(2026, 6, 23))
    assert not marking_overdue(submitted, date(2026, 6, 22), zone="UTC")  # 10


def test_working_days_across_weekends_and_whole_weeks():
    saturday, sunday = date(2026, 6, 13), date(2026, 6, 14)
    assert working_days_between(saturday, sunday) == 0
    assert working_days_between(saturday, sunday + timedelta(days=1)) == 1  # Monday
    assert working_days_between(date(2026, 6, 10), date(2026, 6, 17)) == 5  # Wed to Wed
    assert working_days_between(date(2026, 6, 11), date(2026, 6, 20)) == 6  # Thu to Sat
    assert working_days_between(date(2026, 6, 12), date(2026, 6, 26)) == 10
    wednesday = date(2026, 6, 10)
    for n in range(60):  # the count never jumps by more than one a day
        step = working_days_between(wednesday, wednesday + timedelta(days=n + 1)) - \
            working_days_between(wednesday, wednesday + timedelta(days=n))
        weekday = (wednesday + timedelta(days=n + 1)).weekday()
        assert step == (1 if weekday < 5 else 0)


def test_marking_cutoff_examples():
    wednesday = date(2026, 6, 24)
    # Overdue today (more than 10 working days): handed in on or before Tuesday 9 June.
    assert marking_cutoff(wednesday) == date(2026, 6, 9)
    assert marking_cutoff(wednesday, 1) == date(2026, 6, 22)  # Monday: 2 working days ago
    assert marking_cutoff(date(2026, 6, 22), 1) == date(2026, 6, 18)  # Monday: from Thursday
    assert marking_cutoff(date(2026, 6, 21), 0) == date(2026, 6, 18)  # Sunday


class _Row:
    """A marking-queue row: its submission and the round handed in."""

    def __init__(self, id, status, submitted_at):
        self.submission = type("S", (), {"id": id, "status": status})()
        self.work = type("W", (), {"submitted_at": submitted_at})()


def test_overdue_submission_ids_only_counts_work_waiting_for_a_decision():
    old = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)  # Tuesday 9 June in London
    recent = datetime(2026, 6, 22, 9, 0, tzinfo=UTC)
    rows = [_Row(1, "submitted", old), _Row(2, "being_marked", old), _Row(3, "referred", old),
            _Row(4, "achieved", old), _Row(5, "submitted", recent)]
    assert overdue_submission_ids(rows, date(2026, 6, 24)) == {1, 2}
    assert overdue_submission_ids(rows, date(2026, 6, 23)) == set()  # 10 days: on target
    assert overdue_submission_ids(rows, date(2026, 6, 23), zone="UTC") == {1, 2}
    assert overdue_submission_ids(rows, date(2026, 6, 24), days=1) == {1, 2, 5}


# ---- queries ----

@pytest.fixture
def course(app):
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    return {"catalog": catalog, "quizzes": quizzes, "module": catalog.modules[0],
            "task": catalog.tasks[0], "quiz": next(iter(quizzes.values()))}


def _attempt(learner, slug, passed, counts=True, state="submitted", number=1):
    now = utcnow()
    db.session.add(QuizAttempt(
        user_id=learner.id, quiz_slug=slug, quiz_version="v1", number=number, state=state,
        started_at=now, submitted_at=now if state == "submitted" else None,
        settings={"counts_toward_completion": counts, "pass_mark": 80}, questions=[],
        max_marks=1, passed=passed))
    db.session.commit()


def _submit(learner, task, when=None):
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "An answer about working together.", None, utcnow())
    submissions.submit(sub, task, learner, True, "", utcnow())
    if when is not None:
        sub.submitted_at = when
        sub.rounds[-1].submitted_at = when
        db.session.commit()
    return sub


def _deadlines(cohort, course, due=DUE):
    for kind, slug in (("module", course["module"].slug), ("quiz", course["quiz"].slug),
                       ("task", course["task"].slug)):
        db.session.add(Deadline(cohort_id=cohort.id, item_kind=kind, item_slug=slug,
                                due_on=due))
    db.session.commit()


def test_records_for_reads_what_each_learner_did(make_user, course):
    a, b = make_user("learner"), make_user("learner")
    progress.mark_complete(a, course["module"])
    progress.record_visit(b, course["module"])  # started, not complete
    _attempt(a, course["quiz"].slug, passed=False)
    _attempt(a, course["quiz"].slug, passed=True, number=2)
    _attempt(b, course["quiz"].slug, passed=None, state="in_progress")
    _submit(a, course["task"])
    submissions.get_or_create(b, course["task"])
    records = records_for([a.id, b.id])
    assert records[a.id].completed_modules == {course["module"].slug}
    assert records[a.id].finished_quizzes == {course["quiz"].slug}
    assert records[a.id].task_status == {course["task"].slug: "submitted"}
    assert records[b.id] == LearnerRecord(task_status={course["task"].slug: "draft"})


def test_learner_deadlines_for_each_kind(make_user, make_cohort, course):
    learner = make_user("learner")
    cohort = make_cohort("Tuesday group", learners=[learner])
    _deadlines(cohort, course)
    day_after = DUE + timedelta(days=1)

    def statuses(today):
        return {d.kind: (d.status, d.days_overdue) for d in learner_deadlines(
            learner, course["catalog"], course["quizzes"], today)}

    assert statuses(DUE) == {k: (DeadlineStatus.DUE, 0) for k in ("module", "quiz", "task")}
    assert statuses(day_after) == {k: (DeadlineStatus.OVERDUE, 1)
                                   for k in ("module", "quiz", "task")}

    progress.mark_complete(learner, course["module"])
    _attempt(learner, course["quiz"].slug, passed=False)
    _submit(learner, course["task"])
    assert statuses(day_after) == {"module": (DeadlineStatus.DONE, 0),
                                   "quiz": (DeadlineStatus.OVERDUE, 1),
                                   "task": (DeadlineStatus.DONE, 0)}
    _attempt(learner, course["quiz"].slug, passed=True, number=2)
    assert statuses(day_after)["quiz"] == (DeadlineStatus.DONE, 0)

    # A referral puts the task back with the learner until they resubmit.
    sub = submissions.get_submission(learner, course["task"])
    sub.status = "referred"
    db.session.commit()
    assert statuses(day_after)["task"] == (DeadlineStatus.OVERDUE, 1)

    rows = learner_deadlines(learner, course["catalog"], course["quizzes"], day_after)
    assert {(r.kind, r.slug) for r in rows} == {("module", course["module"].slug),
                                                ("quiz", course["quiz"].slug),
                                                ("task", course["task"].slug)}
    assert {r.title for r in rows} == {f"Module {course['module'].order}: "
                                       f"{course['module'].title}", course["quiz"].title,
                                       course["task"].title}
    assert all(r.cohort_name == "Tuesday group" for r in rows)


def test_learner_deadlines_at_midnight_bst(make_user, make_cohort, course):
    learner = make_user("learner")
    _deadlines(make_cohort(learners=[learner]), course)
    now = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 June in London
    rows = learner_deadlines(learner, course["catalog"], course["quizzes"], local_today(now))
    assert {r.status for r in rows} == {DeadlineStatus.OVERDUE}


def test_practice_quiz_needs_only_a_submitted_attempt(make_user, make_cohort, course):
    learner = make_user("learner")
    _deadlines(make_cohort(learners=[learner]), course)
    _attempt(learner, course["quiz"].slug, passed=False, counts=False)
    rows = learner_deadlines(learner, course["catalog"], course["quizzes"], DUE + timedelta(1))
    assert next(r for r in rows if r.kind == "quiz").status is DeadlineStatus.DONE


def test_learner_deadlines_earliest_date_and_current_cohorts_only(
        make_user, make_cohort, make_centre, course):
    coordinator = make_user("coordinator")
    centre = make_centre(coordinators=[coordinator])
    learner = make_user("learner")
    first = make_cohort("First", learners=[learner], centre=centre)
    second = make_cohort("Second", learners=[learner], centre=centre)
    db.session.add_all([
        Deadline(cohort_id=first.id, item_kind="module", item_slug=course["module"].slug,
                 due_on=DUE),
        Deadline(cohort_id=second.id, item_kind="module", item_slug=course["module"].slug,
                 due_on=DUE - timedelta(days=5)),
        Deadline(cohort_id=second.id, item_kind="module", item_slug="no-longer-exists",
                 due_on=DUE)])
    db.session.commit()
    [row] = learner_deadlines(learner, course["catalog"], course["quizzes"], DUE)
    assert (row.due_on, row.cohort_name, row.status, row.days_overdue) == (
        DUE - timedelta(days=5), "Second", DeadlineStatus.OVERDUE, 5)
    cohort_admin.remove_learner(second, learner, coordinator)
    [row] = learner_deadlines(learner, course["catalog"], course["quizzes"], DUE)
    assert (row.due_on, row.status) == (DUE, DeadlineStatus.DUE)
    cohort_admin.set_archived(first, True, coordinator)
    assert learner_deadlines(learner, course["catalog"], course["quizzes"], DUE) == []


def test_cohort_counts(make_user, make_cohort, course, count_queries):
    learners = [make_user("learner") for _ in range(3)]
    cohort = make_cohort("Counted", learners=learners)
    empty = make_cohort("No deadlines", learners=[make_user("learner")])
    _deadlines(cohort, course)
    progress.mark_complete(learners[0], course["module"])
    _attempt(learners[0], course["quiz"].slug, passed=True)
    _submit(learners[1], course["task"])
    counts = cohort_overdue_counts([cohort.id, empty.id], DUE + timedelta(days=2))
    by_kind = {i.kind: (i.done, i.overdue, i.not_yet_due) for i in counts[cohort.id].items}
    assert by_kind == {"module": (1, 2, 0), "quiz": (1, 2, 0), "task": (1, 2, 0)}
    assert counts[cohort.id].overdue_by_learner == {learners[0].id: 1, learners[1].id: 2,
                                                    learners[2].id: 3}
    assert counts[cohort.id].learners_overdue == 3
    assert counts[empty.id].items == () and counts[empty.id].learners == 1
    before = cohort_overdue_counts([cohort.id], DUE)[cohort.id]
    assert {(i.done, i.overdue, i.not_yet_due) for i in before.items} == {(1, 0, 2)}

    ids = [cohort.id, empty.id]
    with count_queries() as few:
        cohort_overdue_counts(ids, DUE)
    for learner in [make_user("learner") for _ in range(8)]:
        membership.enrol(learner, cohort)
        progress.mark_complete(learner, course["module"])
    db.session.commit()
    with count_queries() as many:
        counts = cohort_overdue_counts(ids, DUE)
    assert counts[ids[0]].learners == 11
    assert many.count == few.count <= 5


def test_overdue_marking(make_user, make_cohort, course):
    assessor, other = make_user("assessor"), make_user("assessor")
    old, recent, elsewhere, draft = (make_user("learner", name=n) for n in
                                     ("Old", "Recent", "Elsewhere", "Draft"))
    make_cohort("Mine", learners=[old, recent, draft], assessors=[assessor])
    make_cohort("Theirs", learners=[elsewhere], assessors=[other])
    today = date(2026, 6, 24)  # Wednesday
    # Tuesday 9 June at 00:30 BST: 11 working days before today.
    eleven = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)
    # Wednesday 10 June at 09:00: 10 working days, on target.
    ten = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    _submit(old, course["task"], when=eleven)
    _submit(recent, course["task"], when=ten)
    _submit(elsewhere, course["task"], when=eleven)
    submissions.get_or_create(draft, course["task"])
    rows = overdue_marking(assessor, today)
    assert [(r.submission.learner.name, r.submitted_on, r.working_days) for r in rows] == [
        ("Old", date(2026, 6, 9), 11)]
    assert [r.submission.learner.name for r in overdue_marking(assessor, today, days=5)] == [
        "Old", "Recent"]
    assert [r.submission.learner.name for r in overdue_marking(other, today)] == ["Elsewhere"]
    # Decided work is no longer waiting.
    sub = rows[0].submission
    sub.status = "achieved"
    db.session.commit()
    assert overdue_marking(assessor, today) == []


def test_overdue_marking_oldest_first_once_each_with_its_cohort(make_user, make_cohort,
                                                                course):
    assessor, iqa = make_user("assessor"), make_user("iqa")
    newer, older, twice = (make_user("learner", name=n) for n in ("Newer", "Older", "Twice"))
    make_cohort("Monday", learners=[newer, older, twice], assessors=[assessor], iqas=[iqa])
    make_cohort("Friday", learners=[twice], assessors=[assessor])
    today = date(2026, 6, 24)
    _submit(newer, course["task"], when=datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
    _submit(older, course["task"], when=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    _submit(twice, course["task"], when=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    rows = overdue_marking(assessor, today)
    assert [r.submission.learner.name for r in rows] == ["Twice", "Older", "Newer"]
    assert [r.cohort.name for r in rows][1:] == ["Monday", "Monday"]
    assert rows[0].cohort.name in {"Monday", "Friday"}  # in both: listed once, either cohort
    assert overdue_marking(iqa, today) == []  # the IQA does not mark this cohort's work


def test_overdue_marking_starts_at_midnight_in_the_zone_given(make_user, make_cohort, course):
    assessor = make_user("assessor")
    on_time, late = make_user("learner", name="On time"), make_user("learner", name="Late")
    make_cohort("Zone", learners=[on_time, late], assessors=[assessor])
    today = date(2026, 6, 24)
    # The last overdue day is Tuesday 9 June: work from midnight on the 10th is on target.
    midnight = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    _submit(on_time, course["task"], when=midnight)
    _submit(late, course["task"], when=midnight - timedelta(microseconds=1))
    assert [r.submission.learner.name for r in overdue_marking(assessor, today, zone="UTC")
            ] == ["Late"]
    [row] = overdue_marking(assessor, today, zone="UTC")
    assert (row.submitted_on, row.working_days) == (date(2026, 6, 9), 11)
    # In London both were handed in on 10 June (01:00 BST): neither is overdue yet.
    assert overdue_marking(assessor, today) == []


def test_an_open_attempt_does_not_finish_even_a_practice_quiz(make_user, course):
    learner = make_user("learner")
    _attempt(learner, course["quiz"].slug, passed=None, counts=False, state="in_progress")
    assert records_for([learner.id])[learner.id].finished_quizzes == frozenset()


def test_same_date_in_two_cohorts_names_the_first_cohort_alphabetically(make_user,
                                                                        make_cohort, course):
    learner = make_user("learner")
    for name in ("Zulu group", "Alpha group"):  # Alpha's deadline is stored second
        cohort = make_cohort(name, learners=[learner])
        db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                                item_slug=course["module"].slug, due_on=DUE))
    db.session.commit()
    [row] = learner_deadlines(learner, course["catalog"], course["quizzes"], DUE)
    assert row.cohort_name == "Alpha group"


def test_cohort_counts_by_due_date_current_learners_only(make_user, make_cohort, make_centre,
                                                         course):
    coordinator = make_user("coordinator")
    learners = [make_user("learner") for _ in range(3)]
    cohort = make_cohort("Counted", learners=learners,
                         centre=make_centre(coordinators=[coordinator]))
    later = DUE + timedelta(days=3)
    db.session.add_all([
        Deadline(cohort_id=cohort.id, item_kind="module", item_slug=course["module"].slug,
                 due_on=later),
        Deadline(cohort_id=cohort.id, item_kind="task", item_slug=course["task"].slug,
                 due_on=DUE)])
    db.session.commit()
    for learner in learners[:2]:
        progress.mark_complete(learner, course["module"])
    cohort_admin.remove_learner(cohort, learners[2], coordinator)  # left: not counted
    counts = cohort_overdue_counts([cohort.id], later + timedelta(days=1))[cohort.id]
    assert counts.learners == 2
    assert [(i.kind, i.slug, i.due_on, i.done, i.overdue) for i in counts.items] == [
        ("task", course["task"].slug, DUE, 0, 2),  # the earlier date first
        ("module", course["module"].slug, later, 2, 0)]
    assert counts.overdue_by_learner == {learners[0].id: 1, learners[1].id: 1}


def test_learner_dashboard_data_via_service_matches_cohort_page(client, auth, make_user,
                                                              make_cohort, make_centre,
                                                              course):
    coordinator = make_user("coordinator")
    learner = make_user("learner", name="Maya Patel")
    cohort = make_cohort("Group", learners=[learner],
                         centre=make_centre(coordinators=[coordinator]))
    _deadlines(cohort, course, due=date(2020, 1, 1))  # long past: overdue whatever today is
    auth.login(coordinator)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "3 overdue" in page
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Learners with overdue work" in listing


def test_save_deadlines_sets_changes_and_clears_with_one_audit_record(make_user, make_cohort,
                                                                       course):
    coordinator = make_user("coordinator")
    cohort = make_cohort("Dated")
    module, task = ("module", course["module"].slug), ("task", course["task"].slug)
    now = utcnow()
    assert save_deadlines(cohort, {module: DUE, task: None}, coordinator, now) == 1
    [row] = deadlines_by_cohort([cohort.id])[cohort.id].values()
    assert (row.item_kind, row.item_slug, row.due_on, row.set_by_id) == (
        "module", course["module"].slug, DUE, coordinator.id)
    later = DUE + timedelta(days=7)
    assert save_deadlines(cohort, {module: later, task: DUE}, coordinator, now) == 2
    assert save_deadlines(cohort, {module: later}, coordinator, now) == 0  # unchanged
    saved = deadlines_by_cohort([cohort.id])[cohort.id]
    assert (saved[task].set_at, saved[task].set_by_id) == (now, coordinator.id)
    # An unchanged item does not stop the ones after it.
    assert save_deadlines(cohort, {task: DUE, module: None}, coordinator, now) == 1
    saved = deadlines_by_cohort([cohort.id])[cohort.id]
    assert {k: d.due_on for k, d in saved.items()} == {task: DUE}
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "cohort.deadlines").order_by(AuditEvent.id)))
    assert [e.detail["changes"] for e in events] == [
        [{"item": f"module:{module[1]}", "from": None, "to": "2026-06-10"}],
        [{"item": f"module:{module[1]}", "from": "2026-06-10", "to": "2026-06-17"},
         {"item": f"task:{task[1]}", "from": None, "to": "2026-06-10"}],
        [{"item": f"module:{module[1]}", "from": "2026-06-17", "to": None}]]
    assert {(e.actor_id, e.subject_id) for e in events} == {(coordinator.id, str(cohort.id))}


def test_save_deadlines_refuses_an_unknown_kind(make_user, make_cohort):
    cohort = make_cohort("Dated")
    with pytest.raises(ValueError, match="essay"):
        save_deadlines(cohort, {("essay", "x"): DUE}, make_user("coordinator"), utcnow())
    assert deadlines_by_cohort([cohort.id]) == {cohort.id: {}}


def test_deadline_items_modules_then_quizzes_in_module_order_then_tasks():
    from types import SimpleNamespace as NS

    catalog = NS(modules=[NS(slug=s, order=o, title=s.upper()) for s, o in
                          (("a", 10), ("b", 20), ("c", 100))],
                 tasks=[NS(slug="t1", title="Task one")])
    quizzes = {s: NS(slug=s, title=f"Quiz {s}", modules=m) for s, m in (
        ("spans", ["c", "a"]), ("for-c", ["c"]), ("for-a", ["a"]), ("for-b", ["b"]),
        ("orphan", ["gone"]), ("end", []))}
    items = catalog_items(catalog, quizzes)
    assert [(i.kind, i.slug) for i in items] == [
        ("module", "a"), ("module", "b"), ("module", "c"),
        ("quiz", "for-a"), ("quiz", "for-b"), ("quiz", "for-c"),
        ("quiz", "orphan"),  # its module is gone: after the module quizzes
        ("quiz", "spans"),  # spans modules: by its first module, after single-module ones
        ("quiz", "end"), ("task", "t1")]
    assert item_titles(catalog, quizzes)[("module", "b")] == "Module 20: B"
    assert item_titles(catalog, quizzes)[("task", "t1")] == "Task one"


def test_cohort_counts_read_only_the_kinds_with_deadlines(make_user, make_cohort, course,
                                                          count_queries):
    learner = make_user("learner")
    cohort = make_cohort("Modules only", learners=[learner])
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                            item_slug=course["module"].slug, due_on=DUE))
    db.session.commit()
    cohort_id = cohort.id
    with count_queries() as q:
        counts = cohort_overdue_counts([cohort_id], DUE)
    # Deadlines, members, completed modules: no quiz attempts or submissions are read.
    assert q.count == 3, q.statements
    assert not any("quiz_attempt" in s or "submission" in s for s in q.statements)
    assert [(i.kind, i.done) for i in counts[cohort_id].items] == [("module", 0)]
