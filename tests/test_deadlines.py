"""Deadlines and a cohort's items: done and overdue, the UK calendar boundary, every page."""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from learning.assessment import submissions
from learning.assessment.marking_target import (
    marking_cutoff,
    marking_due_by,
    marking_overdue,
    overdue_marking,
    working_days_between,
)
from learning.cohorts import admin as cohort_admin
from learning.cohorts.deadlines import cohort_overdue_counts, learner_deadlines
from learning.cohorts.items import (
    WORK_ROWS,
    DeadlineStatus,
    achieved,
    for_unit,
    handed_in,
    handed_in_by,
    items_for,
    status_on,
)
from learning.cohorts.models import Deadline
from learning.core.dates import local_today
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.people import membership
from learning.quizzes.models import QuizAttempt
from learning.reports import matrix
from learning.reports.matrix_rules import CellStatus
from tests.test_matrix import matrix_row, today_uk

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


@pytest.mark.parametrize("rule", [achieved, handed_in])
def test_unknown_kind_is_an_error(rule):
    with pytest.raises(ValueError):
        rule("essay")


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


def test_marking_due_by_is_the_last_day_inside_the_target():
    friday = date(2026, 6, 12)
    assert marking_due_by(friday, 1) == date(2026, 6, 15)  # the Monday after
    assert marking_due_by(friday, 10) == date(2026, 6, 26)
    for offset in range(14):
        handed_in = friday + timedelta(days=offset)
        for days in (1, 5, 10):
            due = marking_due_by(handed_in, days)
            assert working_days_between(handed_in, due) == days
            assert working_days_between(handed_in, due + timedelta(days=1)) in (days, days + 1)
            assert marking_overdue(datetime.combine(handed_in, time(12), UTC),
                                   due + timedelta(days=1 if due.weekday() < 4 else 3),
                                   days)


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


# ---- a cohort's items ----

def _catalog(module_orders, quizzes, tasks=()):
    """A stand-in catalog: modules m<order>, quizzes (slug, modules), tasks (slug, unit)."""
    modules = [SimpleNamespace(slug=f"m{n}", order=n, title=f"Module {n} title")
               for n in module_orders]
    criteria = {f"{unit}-1": SimpleNamespace(unit_id=unit) for _, unit in tasks}
    catalog = SimpleNamespace(
        modules=modules, criterion=criteria.get, units=(),
        tasks=[SimpleNamespace(slug=slug, title=slug, criteria=(f"{unit}-1",))
               for slug, unit in tasks])
    quiz_map = {slug: SimpleNamespace(slug=slug, title=slug, modules=tuple(mods),
                                      settings=SimpleNamespace(counts_toward_completion=True))
                for slug, mods in quizzes}
    return catalog, quiz_map


def test_items_follow_course_order(course):
    items = course["items"]
    kinds = [i.kind for i in items]
    assert kinds == sorted(kinds, key=["module", "quiz", "task"].index)
    modules = [i.slug for i in items if i.kind == "module"]
    catalog = course["catalog"]
    assert modules == [m.slug for m in sorted(catalog.modules, key=lambda m: m.order)]
    assert len({i.code for i in items}) == len(items)
    assert len({i.key for i in items}) == len(items)


def test_quizzes_sit_with_their_modules_and_spanning_quizzes_by_their_last_module():
    catalog, quizzes = _catalog([3, 1, 2, 4], [
        ("whole-course", ["m1", "m2", "m3", "m4"]), ("middle", ["m2", "m3"]),
        ("check-2", ["m2"]), ("check-1", ["m1"]), ("lost", ["gone"])])
    items = items_for(catalog, quizzes)
    assert [i.slug for i in items if i.kind == "module"] == ["m1", "m2", "m3", "m4"]
    # A single-module quiz whose module has gone sits after the ones whose module is known.
    assert [i.slug for i in items if i.kind == "quiz"] == [
        "check-1", "check-2", "lost", "middle", "whole-course"]
    assert [i.code for i in items if i.kind == "quiz"] == ["Q1", "Q2", "Q3", "Q4", "Q5"]


def test_item_titles():
    catalog, quizzes = _catalog([1], [("check-1", ["m1"])], [("t", "CYP33")])
    module, quiz, task = items_for(catalog, quizzes)
    assert (module.title, module.full_title, module.kind_label) == (
        "Module 1 title", "Module 1: Module 1 title", "Module")
    assert (quiz.full_title, task.full_title, task.kind_label) == ("check-1", "t",
                                                                  "Written task")


def test_tasks_apply_only_to_their_unit():
    catalog, quizzes = _catalog([1], [], [("cyp", "CYP33"), ("eye", "EYE22")])
    items = items_for(catalog, quizzes)
    module, cyp, eye = items
    assert cyp.applies_to(None) and cyp.applies_to("CYP33")
    assert not cyp.applies_to("EYE22")
    assert module.applies_to("EYE22")
    assert for_unit(items, "EYE22") == (module, eye)
    assert for_unit(items, None) == items


# ---- queries ----

@pytest.fixture
def course(app):
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    return {"catalog": catalog, "quizzes": quizzes, "items": items_for(catalog, quizzes),
            "module": catalog.modules[0],
            "task": catalog.tasks[0], "quiz": next(iter(quizzes.values()))}


def _attempt(learner, slug, passed, counts=True, state="submitted", number=1, settings=None):
    now = utcnow()
    db.session.add(QuizAttempt(
        user_id=learner.id, quiz_slug=slug, quiz_version="v1", number=number, state=state,
        started_at=now, submitted_at=now if state == "submitted" else None,
        settings=settings or {"counts_toward_completion": counts, "pass_mark": 80},
        questions=[], max_marks=1, passed=passed))
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


def test_handed_in_by_reads_what_each_learner_did(make_user, course):
    a, b = make_user("learner"), make_user("learner")
    progress.mark_complete(a, course["module"])
    progress.record_visit(b, course["module"])  # started, not complete
    _attempt(a, course["quiz"].slug, passed=False)
    _attempt(a, course["quiz"].slug, passed=True, number=2)
    _attempt(b, course["quiz"].slug, passed=None, state="in_progress")
    _submit(a, course["task"])
    submissions.get_or_create(b, course["task"])
    module, quiz, task = (("module", course["module"].slug), ("quiz", course["quiz"].slug),
                          ("task", course["task"].slug))
    assert handed_in_by([a.id, b.id]) == {a.id: {module, quiz, task}, b.id: frozenset()}
    assert handed_in_by([a.id], [module, ("quiz", "other")]) == {a.id: {module}}
    assert handed_in_by([]) == {}


def test_learner_deadlines_for_each_kind(make_user, make_cohort, course):
    learner = make_user("learner")
    cohort = make_cohort("Tuesday group", learners=[learner])
    _deadlines(cohort, course)
    day_after = DUE + timedelta(days=1)

    def statuses(today):
        return {d.kind: (d.status, d.days_overdue)
                for d in learner_deadlines(learner, course["items"], today)}

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

    rows = learner_deadlines(learner, course["items"], day_after)
    assert {r.title for r in rows} == {f"Module {course['module'].order}: "
                                       f"{course['module'].title}", course["quiz"].title,
                                       course["task"].title}
    assert all(r.cohort_name == "Tuesday group" for r in rows)


def test_learner_deadlines_at_midnight_bst(make_user, make_cohort, course):
    learner = make_user("learner")
    _deadlines(make_cohort(learners=[learner]), course)
    now = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 June in London
    rows = learner_deadlines(learner, course["items"], local_today(now))
    assert {r.status for r in rows} == {DeadlineStatus.OVERDUE}


def test_practice_quiz_needs_only_a_submitted_attempt(make_user, make_cohort, course):
    learner = make_user("learner")
    _deadlines(make_cohort(learners=[learner]), course)
    _attempt(learner, course["quiz"].slug, passed=False, counts=False)
    rows = learner_deadlines(learner, course["items"], DUE + timedelta(1))
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
    [row] = learner_deadlines(learner, course["items"], DUE)
    assert (row.due_on, row.cohort_name, row.status, row.days_overdue) == (
        DUE - timedelta(days=5), "Second", DeadlineStatus.OVERDUE, 5)
    cohort_admin.remove_learner(second, learner, coordinator)
    [row] = learner_deadlines(learner, course["items"], DUE)
    assert (row.due_on, row.status) == (DUE, DeadlineStatus.DUE)
    cohort_admin.set_archived(first, True, coordinator)
    assert learner_deadlines(learner, course["items"], DUE) == []


def test_cohort_counts(make_user, make_cohort, course, count_queries):
    learners = [make_user("learner") for _ in range(3)]
    cohort = make_cohort("Counted", learners=learners)
    empty = make_cohort("No deadlines", learners=[make_user("learner")])
    _deadlines(cohort, course)
    progress.mark_complete(learners[0], course["module"])
    _attempt(learners[0], course["quiz"].slug, passed=True)
    _submit(learners[1], course["task"])
    counts = cohort_overdue_counts([cohort.id, empty.id], course["items"], DUE + timedelta(days=2))
    by_kind = {i.item.kind: (i.done, i.overdue, i.not_yet_due) for i in counts[cohort.id].items}
    assert by_kind == {"module": (1, 2, 0), "quiz": (1, 2, 0), "task": (1, 2, 0)}
    assert counts[cohort.id].overdue_by_learner == {learners[0].id: 1, learners[1].id: 2,
                                                    learners[2].id: 3}
    assert counts[cohort.id].learners_overdue == 3
    assert counts[empty.id].items == () and counts[empty.id].learners == 1
    before = cohort_overdue_counts([cohort.id], course["items"], DUE)[cohort.id]
    assert {(i.done, i.overdue, i.not_yet_due) for i in before.items} == {(1, 0, 2)}

    ids = [cohort.id, empty.id]
    with count_queries() as few:
        cohort_overdue_counts(ids, course["items"], DUE)
    for learner in [make_user("learner") for _ in range(8)]:
        membership.enrol(learner, cohort)
        progress.mark_complete(learner, course["module"])
    db.session.commit()
    with count_queries() as many:
        counts = cohort_overdue_counts(ids, course["items"], DUE)
    assert counts[ids[0]].learners == 11
    assert many.count == few.count <= 3


def test_deadlines_outside_the_cohorts_items_are_ignored(client, auth, make_user, make_cohort,
                                                        make_centre, course):
    """A deadline for another unit's task or for an item no longer in the course counts on
    no page, as the matrix already ignored it; the form offers only the cohort's items."""
    coordinator = make_user("coordinator")
    learner = make_user("learner")
    cohort = make_cohort("Early years", learners=[learner],
                         centre=make_centre(coordinators=[coordinator]))
    cohort.unit_id = "EYE22"
    other_unit = next(t for t in course["items"] if t.kind == "task" and "EYE22" not in t.units)
    own_task = next(t for t in course["items"] if t.kind == "task" and "EYE22" in t.units)
    long_ago = date(2025, 10, 1)  # after the fixtures joined (conftest.FIXTURE_JOINED)
    db.session.add_all([
        Deadline(cohort_id=cohort.id, item_kind="task", item_slug=other_unit.slug,
                 due_on=long_ago),
        Deadline(cohort_id=cohort.id, item_kind="module", item_slug="no-longer-exists",
                 due_on=long_ago),
        Deadline(cohort_id=cohort.id, item_kind="task", item_slug=own_task.slug,
                 due_on=long_ago)])
    db.session.commit()
    [row] = learner_deadlines(learner, course["items"], DUE)
    assert (row.slug, row.status) == (own_task.slug, DeadlineStatus.OVERDUE)
    counts = cohort_overdue_counts([cohort.id], course["items"], DUE)[cohort.id]
    assert [c.item for c in counts.items] == [own_task]
    assert counts.overdue_by_learner == {learner.id: 1}

    auth.login(coordinator)
    form = client.get(f"/cohorts/{cohort.id}/deadlines").get_data(as_text=True)
    assert f'name="task-{own_task.slug}"' in form
    assert f'name="task-{other_unit.slug}"' not in form


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








def test_learner_dashboard_data_via_service_matches_cohort_page(client, auth, make_user,
                                                              make_cohort, make_centre,
                                                              course):
    coordinator = make_user("coordinator")
    learner = make_user("learner", name="Maya Patel")
    cohort = make_cohort("Group", learners=[learner],
                         centre=make_centre(coordinators=[coordinator]))
    _deadlines(cohort, course, due=date(2025, 10, 1))  # long past, after they joined
    auth.login(coordinator)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "3 overdue" in page
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Learners with overdue work" in listing


# ---- one rule on every page (issue #9) ----

def test_work_handed_in_on_time_is_not_overdue_on_any_page(client, auth, make_user,
                                                           make_cohort, make_centre, course):
    """A task handed in before its deadline and not marked yet: the learner's dashboard says
    done, the cohort page counts nothing overdue, and the matrix (page and CSV) does not call
    it overdue or make the learner red for it."""
    coordinator = make_user("coordinator")
    learner = make_user("learner", name="Tia Ontime")
    cohort = make_cohort("Handed in", learners=[learner],
                         centre=make_centre(coordinators=[coordinator]))
    task = course["task"]
    due = today_uk() - timedelta(days=3)
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="task", item_slug=task.slug,
                            due_on=due))
    db.session.commit()
    _submit(learner, task, when=datetime.combine(due - timedelta(days=2), time(10), UTC))
    assert submissions.get_submission(learner, task).status == "submitted"  # not marked yet

    auth.login(learner)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    [row] = re.findall(r"<tr[^>]*>\s*<th scope=\"row\"><a[^>]*>" + re.escape(task.title)
                       + r"</a>.*?</tr>", dashboard, re.S)
    assert "Done" in row and "Overdue" not in row
    auth.logout()

    auth.login(coordinator)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "tag-overdue" not in page  # neither the learner's count nor the item's
    counts = cohort_overdue_counts([cohort.id], course["items"], today_uk())[cohort.id]
    assert (counts.items[0].done, counts.items[0].overdue) == (1, 0)

    html = client.get("/reports/matrix").get_data(as_text=True)
    row = matrix_row(html, "Tia Ontime")
    assert "overdue" not in row.lower()
    assert "Red" not in row
    [csv_row] = csv.DictReader(io.StringIO(
        client.get("/reports/matrix.csv").get_data(as_text=True).lstrip("\ufeff")))
    assert csv_row["items_overdue"] == "0"
    assert csv_row["rag"] != "Red"
    assert csv_row[f"task:{task.slug}"].startswith("Submitted")
    assert csv_row["items_done"] == "0"  # completion still waits for the task to be achieved


def _work(case: str, learner, course):
    """Put the learner's work on one item in the state named by `case`."""
    module, quiz, task = course["module"], course["quiz"].slug, course["task"]
    if case == "module opened":
        progress.record_visit(learner, module)
    elif case == "module completed":
        progress.mark_complete(learner, module)
    elif case == "quiz open":
        _attempt(learner, quiz, passed=None, state="in_progress")
    elif case == "quiz failed":
        _attempt(learner, quiz, passed=False)
    elif case == "quiz passed":
        _attempt(learner, quiz, passed=True)
    elif case == "practice quiz failed":
        _attempt(learner, quiz, passed=False, counts=False)
    elif case == "practice quiz open":
        _attempt(learner, quiz, passed=None, counts=False, state="in_progress")
    elif case == "quiz failed, settings without the flag":
        _attempt(learner, quiz, passed=False, settings={"pass_mark": 80})
    elif case == "task draft":
        submissions.save_draft(submissions.get_or_create(learner, task), "A start.", None,
                               utcnow())
    elif case.startswith("task "):
        sub = _submit(learner, task)
        sub.status = case.removeprefix("task ")
        db.session.commit()


@pytest.mark.parametrize(("kind", "case", "is_handed_in", "is_achieved"), [
    ("module", "nothing", False, False),
    ("module", "module opened", False, False),
    ("module", "module completed", True, True),
    ("quiz", "nothing", False, False),
    ("quiz", "quiz open", False, False),
    ("quiz", "quiz failed", False, False),
    ("quiz", "quiz passed", True, True),
    ("quiz", "practice quiz failed", True, False),  # as the learner took it: not counting
    ("quiz", "practice quiz open", False, False),
    ("quiz", "quiz failed, settings without the flag", False, False),  # counts by default
    ("task", "nothing", False, False),
    ("task", "task draft", False, False),
    ("task", "task submitted", True, False),
    ("task", "task being_marked", True, False),
    ("task", "task referred", False, False),  # back with the learner until they resubmit
    ("task", "task achieved", True, True),
])
def test_every_page_reads_the_same_rules(make_user, make_cohort, course, kind, case,
                                         is_handed_in, is_achieved):
    """Handed in decides the learner's deadline, the cohort's counts and the matrix's overdue
    count and cell alike; achieved decides progress."""
    learner = make_user("learner")
    cohort = make_cohort(learners=[learner])
    _work(case, learner, course)
    item = next(i for i in course["items"] if i.key == (kind, course[kind].slug))
    today = today_uk()
    deadline = Deadline(cohort_id=cohort.id, item_kind=kind, item_slug=item.slug,
                        due_on=today - timedelta(days=1))
    db.session.add(deadline)
    db.session.commit()

    assert (item.key in handed_in_by([learner.id])[learner.id]) is is_handed_in
    learner_col, slug_col = WORK_ROWS[kind]
    assert bool(db.session.execute(select(slug_col).where(
        learner_col == learner.id, achieved(kind))).all()) is is_achieved

    [mine] = learner_deadlines(learner, course["items"], today)
    assert (mine.status is DeadlineStatus.DONE) is is_handed_in
    counts = cohort_overdue_counts([cohort.id], course["items"], today)[cohort.id]
    assert (counts.items[0].done, counts.items[0].overdue) == (
        (1, 0) if is_handed_in else (0, 1))

    page = matrix.matrix_page(make_user("admin"), course["items"], matrix.Filters(), today)
    [row] = page.rows
    cell = next(c for c in row.cells if c.item == item)
    assert row.summary.overdue == (0 if is_handed_in else 1)
    assert (cell.status is CellStatus.OVERDUE) is not is_handed_in
    assert row.summary.done == int(is_achieved)
    assert (cell.status is CellStatus.DONE) is is_achieved

    deadline.due_on = today + timedelta(days=3)  # due soon: amber unless handed in
    db.session.commit()
    [row] = matrix.matrix_page(make_user("admin"), course["items"], matrix.Filters(),
                               today).rows
    assert row.summary.due_soon == (0 if is_handed_in else 1)


# ---- deadlines that had passed before a learner joined ----

def test_a_date_already_past_on_joining_is_not_the_learners():
    joined = date(2026, 6, 11)
    assert status_on(DUE, False, date(2026, 7, 1), joined) == (DeadlineStatus.BEFORE_JOINING, 0)
    assert status_on(DUE, True, date(2026, 7, 1), joined) == (DeadlineStatus.DONE, 0)
    # Joined on the last day: still theirs, and overdue from the day after.
    assert status_on(DUE, False, date(2026, 6, 12), DUE) == (DeadlineStatus.OVERDUE, 2)
    assert status_on(DUE, False, date(2026, 7, 1), None)[0] is DeadlineStatus.OVERDUE


def test_a_learner_who_joined_after_the_deadlines_is_not_overdue_anywhere(
        make_user, make_cohort, make_centre, course):
    coordinator = make_user("coordinator")
    early, late = make_user("learner", name="Early Bird"), make_user("learner", name="Late Joiner")
    cohort = make_cohort("Group", learners=[early], centre=make_centre(coordinators=[coordinator]))
    _deadlines(cohort, course, due=date(2025, 10, 1))
    joined = datetime(2025, 10, 2, 9, tzinfo=UTC)  # the day after every due date
    membership.enrol(late, cohort).enrolled_at = joined
    db.session.commit()
    today = date(2025, 10, 20)

    assert {r.status for r in learner_deadlines(late, course["items"], today)} == {
        DeadlineStatus.BEFORE_JOINING}
    assert {r.status for r in learner_deadlines(early, course["items"], today)} == {
        DeadlineStatus.OVERDUE}
    counts = cohort_overdue_counts([cohort.id], course["items"], today)[cohort.id]
    assert counts.overdue_by_learner == {early.id: 3, late.id: 0}
    assert {(i.overdue, i.joined_after, i.not_yet_due) for i in counts.items} == {(1, 1, 0)}

    items = course["items"]
    page = matrix.matrix_page(coordinator, items, matrix.Filters(sort="rag"), today)
    by_name = {r.summary.name: r for r in page.rows}
    assert by_name["Late Joiner"].summary.overdue == 0
    assert by_name["Late Joiner"].summary.rag.rag.value != "red"
    assert by_name["Early Bird"].summary.rag.rag.value == "red"
    assert page.counts["red"] == 1
    late_cells = [c for c in by_name["Late Joiner"].cells if c.due_on]
    assert late_cells and all(c.status is not CellStatus.OVERDUE and c.before_joining
                              and c.text.endswith("(set before joining)") for c in late_cells)
    overdue_only = matrix.matrix_page(coordinator, items, matrix.Filters(overdue_only=True),
                                      today)
    assert [r.summary.name for r in overdue_only.rows] == ["Early Bird"]
