"""The matrix's stored summary: every kind of write keeps it equal to a recompute, today's date
moves deadlines without a write, and the SQL filters and sorts agree with the RAG rule."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update

from learning.assessment import marking, submissions
from learning.cohorts import admin as cohort_admin
from learning.cohorts import deadlines as cohort_deadlines
from learning.cohorts.items import items_for
from learning.core import dates
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.course.models import ModuleProgress
from learning.people import membership
from learning.people.models import Cohort, Enrolment, User
from learning.privacy import erasure
from learning.quizzes import attempts
from learning.reports import charts, matrix, summary
from learning.reports.matrix import Filters
from learning.reports.matrix_rules import Rag
from learning.reports.models import MatrixSummary
from learning.reports.totals import Layout
from tests.test_matrix import module_progress, quiz_attempt, set_deadline, written_work
from tests.test_races import _hold_inside, _together

TODAY = date(2026, 3, 10)


@pytest.fixture
def course(app):
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    items = items_for(catalog, quizzes)
    return {"catalog": catalog, "quizzes": quizzes, "items": items,
            "modules": catalog.modules, "tasks": catalog.tasks,
            "counted": sum(1 for i in items if i.counts)}


@pytest.fixture
def world(make_user, make_cohort, make_centre, course):
    """Two cohorts of one centre, Ada and Ben in the first, and the summary built."""
    admin = make_user("admin", name="Ann Admin")
    coordinator = make_user("coordinator")
    assessor = make_user("assessor", name="Asha Assessor")
    ada = make_user("learner", name="Ada Ames")
    ben = make_user("learner", name="Ben Bell")
    centre = make_centre("North", coordinators=[coordinator])
    monday = make_cohort("Monday", learners=[ada, ben], assessors=[assessor], centre=centre)
    tuesday = make_cohort("Tuesday", assessors=[assessor], centre=centre)
    _page(admin, course)  # builds the summary: from here on, writes keep it
    return {"admin": admin, "coordinator": coordinator, "assessor": assessor, "ada": ada,
            "ben": ben, "monday": monday, "tuesday": tuesday}


def _page(viewer, course, today=TODAY, **filters):
    return matrix.matrix_page(viewer, course["items"], Filters(**filters), today, 1, 1000)


def _row(world, course, name="Ada Ames", today=TODAY, **filters):
    rows = [r.summary for r in _page(world["admin"], course, today, **filters).rows
            if r.summary.name == name]
    return rows[0] if rows else None


def _agrees(course) -> None:
    assert summary.differences(Layout(course["items"])) == []


def _stored() -> list[dict]:
    return [dict(r) for r in db.session.execute(
        select(MatrixSummary.__table__).order_by(MatrixSummary.enrolment_id)).mappings()]


def _right_answers(quiz) -> dict:
    """The answers that score full marks on the choice questions of the fixture quizzes."""
    out: dict = {}
    for q in quiz.questions:
        if q.type == "single":
            out[q.id] = next(o.id for o in q.options if o.weight == 100)
        elif q.type == "multiple":
            out[q.id] = [o.id for o in q.options if o.weight > 0]
        elif q.type == "truefalse":
            out[q.id] = "true" if q.answer else "false"
        else:
            raise AssertionError(f"no right answer written for {q.type}")
    return out


def _submit(learner, task):
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "An answer about agencies working together.", None, utcnow())
    return submissions.submit(sub, task, learner, True, "", utcnow())


def _release(work, task, assessor, met: bool):
    criteria = {c: (met, f"Comment on {c}") for c in task.criteria}
    return marking.save_decision(work, task, assessor, criteria, "Feedback.",
                                 "" if met else "Say more.", utcnow(), release=True)


# ---- each kind of write ----

def test_completing_a_module(world, course):
    progress.mark_complete(world["ada"], course["modules"][0])
    assert _row(world, course).done == 1
    assert _row(world, course, status="not-started", name="Ben Bell") is not None
    assert _row(world, course, status="not-started") is None
    _agrees(course)


def test_passing_a_quiz_and_its_module_completing(world, course):
    quiz = course["quizzes"]["partnership-basics-check"]
    attempt = attempts.start_attempt(world["ada"], quiz, utcnow())
    assert _row(world, course).started  # an open attempt is a start
    attempts.save_answers(attempt, _right_answers(quiz), utcnow())
    attempts.submit_attempt(attempt, utcnow(), catalog=course["catalog"])
    # The quiz, and (through quizzes.signals.quiz_passed) its module.
    assert _row(world, course).done == 2
    # The charts' figures follow too: one attempt in the 90–100% band.
    assert charts.quiz_chart(matrix.learners_in(select(Cohort.id))).table.rows[-1] == (
        "90–100%", "1")
    _agrees(course)


def test_submitting_then_a_referral_then_achieving(world, course):
    task = course["tasks"][0]
    work = _submit(world["ada"], task)
    assert _row(world, course).waiting == 1
    assert _row(world, course, status="waiting") is not None
    _release(work, task, world["assessor"], met=False)
    ada = _row(world, course)
    assert (ada.waiting, ada.referred_now, ada.referrals) == (0, 1, 1)
    sub = submissions.get_submission(world["ada"], task)
    work = submissions.submit(sub, task, world["ada"], True, "", utcnow())
    _release(work, task, world["assessor"], met=False)
    ada = _row(world, course)
    assert (ada.referrals, ada.rag.rag) == (2, Rag.RED)
    sub = submissions.get_submission(world["ada"], task)
    work = submissions.submit(sub, task, world["ada"], True, "", utcnow())
    _release(work, task, world["assessor"], met=True)
    ada = _row(world, course)
    assert (ada.done, ada.referred_now) == (1, 0)
    turnaround = charts.turnaround_chart(matrix.learners_in(select(Cohort.id)))
    assert dict(turnaround.table.rows)["Under 1 day"] == "3"  # each round decided at once
    _agrees(course)


def test_a_learner_in_two_cohorts_counts_once_in_the_charts(world, course):
    membership.enrol(world["ada"], world["tuesday"])
    db.session.commit()
    quiz_attempt(world["ada"], course["quizzes"]["unit-review"].slug, 45)
    chart = charts.quiz_chart(matrix.learners_in(select(Cohort.id)))
    assert dict(chart.table.rows)["40–49%"] == "1"
    assert chart.summary.startswith("1 submitted attempts")
    _agrees(course)


def test_setting_changing_and_clearing_a_deadline(world, course):
    key = ("module", course["modules"][0].slug)
    cohort_deadlines.save_deadlines(world["monday"], {key: TODAY - timedelta(days=1)},
                                    world["coordinator"], utcnow())
    assert (_row(world, course).overdue, _row(world, course).rag.rag) == (1, Rag.RED)
    assert _row(world, course, overdue_only=True) is not None
    cohort_deadlines.save_deadlines(world["monday"], {key: TODAY + timedelta(days=2)},
                                    world["coordinator"], utcnow())
    assert (_row(world, course).due_soon, _row(world, course).rag.rag) == (1, Rag.AMBER)
    cohort_deadlines.save_deadlines(world["monday"], {key: None}, world["coordinator"],
                                    utcnow())
    assert _row(world, course).rag.rag is Rag.GREEN
    _agrees(course)


def test_enrolling_one_and_many(world, course, make_user):
    cal = make_user("learner", name="Cal Cole")
    membership.enrol(cal, world["tuesday"])
    db.session.commit()
    assert _row(world, course, "Cal Cole").cohort_name == "Tuesday"
    # The CSV import's bulk INSERT (no ORM objects) is seen too.
    dee = make_user("learner", name="Dee Dunn")
    membership.insert_enrolments([{"user_id": dee.id, "cohort_id": world["tuesday"].id,
                                   "enrolled_at": utcnow()}])
    db.session.commit()
    assert _row(world, course, "Dee Dunn").cohort_name == "Tuesday"
    _agrees(course)


def test_moving_and_removing_learners_and_the_cohorts_pace(world, course):
    for module in course["modules"]:
        progress.mark_complete(world["ben"], module)
    # Ada has done nothing while Ben has done every module: she is behind her cohort.
    assert "points behind the cohort average" in " ".join(_row(world, course).rag.reasons)
    cohort_admin.move_learner(world["ben"], world["monday"], world["tuesday"],
                              world["coordinator"])
    assert _row(world, course, "Ben Bell").cohort_name == "Tuesday"
    assert _row(world, course).rag.rag is Rag.GREEN  # alone in Monday now
    cohort_admin.remove_learner(world["tuesday"], world["ben"], world["coordinator"])
    assert _row(world, course, "Ben Bell") is None
    _agrees(course)


def test_changing_a_cohorts_unit(world, course):
    monday = world["monday"]
    cohort_admin.update_cohort(monday, world["coordinator"], name=monday.name,
                               starts_on=monday.starts_on, ends_on=monday.ends_on,
                               unit_id="EYE22", centre_id=monday.centre_id)
    expected = sum(1 for i in course["items"] if i.counts and i.applies_to("EYE22"))
    assert expected < course["counted"]
    assert _row(world, course).required == expected
    _agrees(course)


def test_erasing_a_learner_renames_their_row(world, course):
    erasure.erase(world["ada"], world["admin"], "request", utcnow())
    db.session.commit()
    assert _row(world, course, q="ada") is None
    assert _row(world, course, erasure.placeholder_name(world["ada"].id)) is not None
    _agrees(course)


def test_bulk_update_and_delete_statements(world, course):
    for module in course["modules"]:
        progress.mark_complete(world["ada"], module)
    # Statements that load no objects: the rows they match are read with their WHERE clause.
    db.session.execute(update(ModuleProgress).where(ModuleProgress.user_id == world["ada"].id,
                                                    ModuleProgress.module_slug
                                                    == course["modules"][0].slug)
                       .values(completed_at=None))
    db.session.commit()
    assert _row(world, course).done == len(course["modules"]) - 1
    db.session.query(ModuleProgress).filter_by(user_id=world["ada"].id).delete()
    db.session.commit()
    assert _row(world, course).done == 0
    _agrees(course)


def test_a_rolled_back_write_leaves_the_summary_alone(world, course):
    module_progress(world["ada"], course["modules"][0].slug)
    db.session.add(ModuleProgress(user_id=world["ben"].id,
                                  module_slug=course["modules"][0].slug,
                                  started_at=utcnow(), last_viewed_at=utcnow(),
                                  completed_at=utcnow()))
    db.session.flush()
    db.session.rollback()
    assert [r["done"] for r in _stored()] == [1, 0]
    module_progress(world["ada"], course["modules"][1].slug)  # the next commit is Ada's alone
    assert [r["done"] for r in _stored()] == [2, 0]
    _agrees(course)


def test_autosaves_leave_the_summary_alone(world, course, count_queries):
    """Draft and quiz autosaves claim their row with SET status = status many times a
    minute: nothing the summary holds changes, so they cost it no statement."""
    task = course["tasks"][0]
    sub = submissions.get_or_create(world["ada"], task)
    quiz = course["quizzes"]["partnership-basics-check"]
    attempt = attempts.start_attempt(world["ada"], quiz, utcnow())
    with count_queries() as counted:
        submissions.save_draft(sub, "A first go at an answer.", None, utcnow())
        attempts.save_answers(attempt, _right_answers(quiz), utcnow())
    assert not [s for s in counted.statements if "matrix_summary" in s]
    with count_queries() as counted:
        _submit(world["ada"], task)  # SET status = 'submitted': Ada's row is worked out again
    assert [s for s in counted.statements if "matrix_summary" in s]
    assert _row(world, course).waiting == 1
    _agrees(course)


# ---- time passes without a write ----

def test_overdue_arrives_at_midnight_without_any_write(world, course, client, auth,
                                                       monkeypatch):
    set_deadline(world["monday"], "module", course["modules"][0].slug, TODAY)
    stored = _stored()
    due_today = _row(world, course, today=TODAY)
    assert (due_today.rag.rag, due_today.overdue, due_today.due_soon) == (Rag.AMBER, 0, 1)
    assert _row(world, course, today=TODAY, status="red") is None
    a_week_before = _row(world, course, today=TODAY - timedelta(days=7))
    assert a_week_before.rag.rag is Rag.AMBER
    assert _row(world, course, today=TODAY - timedelta(days=8)).rag.rag is Rag.GREEN
    next_day = TODAY + timedelta(days=1)
    late = _row(world, course, today=next_day)
    assert (late.rag.rag, late.overdue, late.rag.reasons) == (Rag.RED, 1, ("1 item overdue",))
    assert _row(world, course, today=next_day, status="red") is not None
    assert _row(world, course, today=next_day, overdue_only=True) is not None
    assert _stored() == stored  # nothing was written: the page compared dates

    # The page itself, on the day after, with the clock moved on.
    monkeypatch.setattr(dates, "today", lambda: next_day)
    auth.login(world["admin"])
    html = client.get("/reports/matrix?status=red").get_data(as_text=True)
    assert "Ada Ames" in html and "1 item overdue" in html


# ---- the SQL side of the rule agrees with the rule ----

def test_exactly_twenty_points_behind_is_amber(make_user, make_cohort, course):
    """Seven items count; five learners have done 0, 1, 2, 7 and 7: the cohort's average is
    170/7 % and Cal's 200/7 %, exactly 20 points apart, so Cal is amber. (Adding up shares as
    floating-point numbers made the gap 19.999999999999996 and Cal green.)"""
    assert course["counted"] == 7
    done = {"Ann": 0, "Bob": 1, "Cal": 2, "Dan": 7, "Eve": 7}
    people = {name: make_user("learner", name=name) for name in done}
    make_cohort("Pace", learners=list(people.values()))
    assessor = make_user("assessor")
    modules = [i.slug for i in course["items"] if i.kind == "module"]
    quizzes = [i.slug for i in course["items"] if i.kind == "quiz" and i.counts]
    tasks = [i.slug for i in course["items"] if i.kind == "task"]
    for name, count in done.items():
        for n, (kind, slug) in enumerate([*(("m", s) for s in modules),
                                          *(("q", s) for s in quizzes),
                                          *(("t", s) for s in tasks)]):
            if n >= count:
                break
            if kind == "m":
                module_progress(people[name], slug)
            elif kind == "q":
                quiz_attempt(people[name], slug, 90)
            else:
                written_work(people[name], slug, ["achieved"], assessor)
    admin = make_user("admin")
    rags = {r.summary.name: r.summary.rag for r in _page(admin, course).rows}
    assert rags["Cal"].rag is Rag.AMBER
    assert rags["Cal"].reasons == ("20 points behind the cohort average",)
    assert [r.summary.name for r in _page(admin, course, status="amber").rows] == [
        "Ann", "Bob", "Cal"]


def _random_world(make_user, make_cohort, course, seed: int):
    rng = random.Random(seed)
    assessor = make_user("assessor")
    modules = [i.slug for i in course["items"] if i.kind == "module"]
    quizzes = [i.slug for i in course["items"] if i.kind == "quiz"]
    tasks = [i.slug for i in course["items"] if i.kind == "task"]
    for c, unit in enumerate((None, "CYP33", "EYE22")):
        people = [make_user("learner", name=f"{rng.choice('ABCDE')}{c}{n:02d} Person")
                  for n in range(9)]
        cohort = make_cohort(f"Random {c}", learners=people)
        cohort.unit_id = unit
        db.session.commit()
        for kind, slugs in (("module", modules), ("quiz", quizzes), ("task", tasks)):
            for slug in slugs:
                if rng.random() < 0.5:
                    set_deadline(cohort, kind, slug, TODAY + timedelta(days=rng.randint(-5, 12)))
        for person in people:
            for slug in modules:
                if rng.random() < 0.6:
                    module_progress(person, slug, done=rng.random() < 0.7)
            for slug in quizzes:
                if rng.random() < 0.5:
                    quiz_attempt(person, slug, rng.choice((40, 85)))
            for slug in tasks:
                if rng.random() < 0.4:
                    written_work(person, slug, rng.choice(
                        ([None], ["achieved"], ["referred"], ["referred", "referred"],
                         ["referred", None])), assessor)


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_filters_and_sorts_agree_with_the_rule(make_user, make_cohort, course, seed):
    _random_world(make_user, make_cohort, course, seed)
    admin = make_user("admin")
    for today in (TODAY - timedelta(days=9), TODAY, TODAY + timedelta(days=4),
                  TODAY + timedelta(days=30)):
        everyone = [r.summary for r in _page(admin, course, today).rows]
        assert len(everyone) == 27
        for rag in Rag:
            wanted = [s.name for s in everyone if s.rag.rag is rag]
            page = _page(admin, course, today, status=rag.value)
            assert [r.summary.name for r in page.rows] == wanted, (today, rag)
            assert page.counts[rag.value] == len(wanted)
        assert [r.summary.name for r in _page(admin, course, today, overdue_only=True).rows] \
            == [s.name for s in everyone if s.overdue]
        by_rag = sorted(everyone, key=lambda s: (s.rag.rag.rank, s.percent))
        assert [r.summary.enrolment_id for r in _page(admin, course, today, sort="rag").rows] \
            == [s.enrolment_id for s in by_rag]
        by_progress = sorted(everyone, key=lambda s: -s.percent)
        assert [r.summary.enrolment_id for r in _page(admin, course, today,
                                                      sort="progress-desc").rows] \
            == [s.enrolment_id for s in by_progress]


def test_search_folds_case_in_any_script(make_user, make_cohort, course):
    zoe = make_user("learner", name="Zoë Ärger")
    make_cohort("Search", learners=[zoe, make_user("learner", name="Ola Straße")])
    zoe.learner_ref = "ÉCOLE-7"
    db.session.commit()
    admin = make_user("admin")

    def names(q):
        return [r.summary.name for r in _page(admin, course, q=q).rows]

    assert names("ÄRGER") == ["Zoë Ärger"]
    assert names("zoë") == ["Zoë Ärger"]
    assert names("école") == ["Zoë Ärger"]
    assert names("STRASSE") == ["Ola Straße"]  # ß folds to ss
    assert names("_") == []  # a wildcard is a character


# ---- a fixed number of queries ----

@pytest.mark.parametrize("url", [
    "/reports/matrix", "/reports/matrix?status=red&sort=rag", "/reports/matrix?overdue=1&q=e",
    "/reports/matrix?sort=progress", "/reports/matrix?cohort={cohort}&sort=progress-desc",
])
def test_query_count_is_the_same_for_5_and_50_learners(client, auth, make_user, make_cohort,
                                                        count_queries, course, url):
    admin_id = make_user("admin").id
    modules = [i.slug for i in course["items"] if i.kind == "module"]

    def cohort_of(n: int):
        people = [make_user("learner", name=f"Learner {n}-{i:02d}") for i in range(n)]
        cohort = make_cohort(f"Cohort of {n}", learners=people)
        set_deadline(cohort, "module", modules[1], date.today() - timedelta(days=1))
        for i, learner in enumerate(people):
            module_progress(learner, modules[i % len(modules)], done=i % 2 == 0)
        return cohort.id

    def measure(cohort_id: int) -> int:
        db.session.expunge_all()
        with count_queries() as counted:
            response = client.get(url.format(cohort=cohort_id))
        assert response.status_code == 200
        return counted.count

    small = cohort_of(5)
    auth.login(db.session.get(User, admin_id))
    few = measure(small)
    large = cohort_of(50)
    assert measure(large) == few


# ---- when the course changes, and from the command line ----

def test_a_course_edit_rebuilds_the_summary_for_the_new_items(world, course):
    module_progress(world["ada"], course["modules"][0].slug)
    fewer = tuple(i for i in course["items"] if i.slug != course["modules"][0].slug)
    page = matrix.matrix_page(world["admin"], fewer, Filters(), TODAY)
    ada = next(r.summary for r in page.rows if r.summary.name == "Ada Ames")
    assert (ada.done, ada.required) == (0, course["counted"] - 1)
    assert summary.saved_layout() == summary.layout_json(Layout(fewer))
    # The next write is made by an app serving the whole course: every row follows it.
    module_progress(world["ben"], course["modules"][0].slug)
    assert summary.saved_layout() == summary.layout_json(Layout(course["items"]))
    assert _row(world, course).done == 1
    _agrees(course)


def test_rebuild_and_check_commands(world, course, runner):
    module_progress(world["ada"], course["modules"][0].slug)
    result = runner.invoke(args=["reports", "check-summary"])
    assert result.exit_code == 0, result.output
    # A row changed behind the application's back (by hand, or by a bug): check says which.
    enrolment_id = db.session.scalar(select(Enrolment.id).where(
        Enrolment.user_id == world["ada"].id))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE matrix_summary SET done = 0 WHERE enrolment_id = :e"),
                     {"e": enrolment_id})
    db.session.expire_all()
    result = runner.invoke(args=["reports", "check-summary"])
    assert result.exit_code == 1
    assert f"enrolment {enrolment_id}: done 0, expected 1" in result.output
    result = runner.invoke(args=["reports", "rebuild-summary"])
    assert result.exit_code == 0 and "Matrix summary rebuilt: 2 learners" in result.output
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0


# ---- at once ----

def test_a_deadline_and_a_completion_at_once_leave_the_summary_right(app, world, course,
                                                                    monkeypatch):
    """Both rewrite Ada's row. Each waits for the other's lock on the cohort (PostgreSQL) or
    the one writer (SQLite), so neither writes a row worked out without the other's change."""
    module = course["modules"][0]
    progress.record_visit(world["ada"], module)  # so that completing is one transaction
    ada_id, monday_id, coordinator_id = (world["ada"].id, world["monday"].id,
                                         world["coordinator"].id)
    _hold_inside(monkeypatch, summary, "_write")  # each has worked out its rows

    def complete():
        progress.mark_complete(db.session.get(User, ada_id), module)

    def set_due():
        cohort = db.session.get(type(world["monday"]), monday_id)
        return cohort_deadlines.save_deadlines(cohort, {("module", module.slug): TODAY},
                                               db.session.get(User, coordinator_id), utcnow())

    assert _together(app, [complete, set_due]) == [None, 1]
    db.session.expire_all()
    _agrees(course)
    ada = _row(world, course, today=TODAY + timedelta(days=1))
    assert (ada.done, ada.overdue) == (1, 0)
