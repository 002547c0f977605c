"""The completion matrix: cell statuses, the RAG rule, filters, paging, scope and query count."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from learning.assessment.models import (
    CriterionDecision,
    Decision,
    DraftVersion,
    Submission,
    SubmittedWork,
)
from learning.cohorts.items import Item, items_for
from learning.cohorts.models import Deadline
from learning.core.dates import local
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course.models import ModuleProgress
from learning.people.models import User
from learning.quizzes.models import QuizAttempt
from learning.reports import matrix
from learning.reports.matrix import Filters
from learning.reports.matrix_rules import (
    Cell,
    CellStatus,
    QuizSummary,
    Rag,
    TaskSummary,
    base_cell,
    not_required,
    rag_status,
    with_deadline,
)
from tests.htmlcheck import html_errors, needs_checker

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


# ---- data helpers (used by the other report tests too) ----

def module_progress(user: User, slug: str, done: bool = True, at: datetime = T0):
    db.session.add(ModuleProgress(user_id=user.id, module_slug=slug, started_at=at,
                                  last_viewed_at=at, completed_at=at + timedelta(hours=1)
                                  if done else None))
    db.session.commit()


def quiz_attempt(user: User, slug: str, percent: float | None, number: int = 1,
                 at: datetime = T0, pass_mark: float = 80, submitted: bool = True):
    attempt = QuizAttempt(
        user_id=user.id, quiz_slug=slug, quiz_version="v1", number=number,
        state="submitted" if submitted else "in_progress", started_at=at,
        submitted_at=at + timedelta(minutes=20) if submitted else None,
        settings={"pass_mark": pass_mark, "counts_toward_completion": True},
        questions=[], max_marks=10, marks=percent / 10 if percent is not None else None,
        percent=percent if submitted else None,
        passed=(percent >= pass_mark) if submitted and percent is not None else None)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def written_work(user: User, task_slug: str, outcomes: list[str | None], assessor: User,
                 at: datetime = T0, criteria: tuple[str, ...] = ("C1",),
                 text: str = "My answer.") -> Submission:
    """A submission with one round per outcome ('achieved', 'referred', or None: not decided).

    The submission's status follows the last outcome, as the marking service sets it."""
    sub = Submission(learner_id=user.id, task_slug=task_slug, created_at=at)
    db.session.add(sub)
    db.session.flush()
    when = at
    for n, outcome in enumerate(outcomes, 1):
        draft = DraftVersion(submission_id=sub.id, number=n, text=f"{text} (round {n})",
                             word_count=3, saved_at=when, kind="save")
        db.session.add(draft)
        db.session.flush()
        work = SubmittedWork(submission_id=sub.id, number=n, text=draft.text, word_count=3,
                             draft_version_id=draft.id, submitted_at=when, declared_at=when)
        db.session.add(work)
        db.session.flush()
        if outcome:
            decision = Decision(work_id=work.id, assessor_id=assessor.id, outcome=outcome,
                                feedback=f"Feedback on round {n}.",
                                actions="" if outcome == "achieved" else "Add detail.",
                                created_at=when, updated_at=when,
                                released_at=when + timedelta(days=3), release_number=1)
            decision.criteria = [CriterionDecision(criterion_id=c, met=outcome == "achieved",
                                                   comment=f"Comment on {c}")
                                 for c in criteria]
            db.session.add(decision)
        when += timedelta(days=7)
        sub.submitted_at = when
    last = outcomes[-1] if outcomes else None
    sub.status = last or ("submitted" if outcomes else "draft")
    db.session.commit()
    return sub


def set_deadline(cohort, kind: str, slug: str, due_on: date):
    db.session.add(Deadline(cohort_id=cohort.id, item_kind=kind, item_slug=slug,
                            due_on=due_on))
    db.session.commit()


def today_uk() -> date:
    return local(utcnow()).date()


def matrix_row(html: str, name: str) -> str:
    """The <tr> of the matrix for this learner."""
    match = re.search(r"<tr>\s*<th scope=\"row\"><a[^>]*>" + re.escape(name) + r"</a>.*?</tr>",
                      html, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


@pytest.fixture
def items(app):
    return items_for(app.extensions["catalog"], app.extensions["quizzes"])


def first(items, kind: str) -> Item:
    return next(i for i in items if i.kind == kind)


# ---- cells (pure) ----

MOD = Item("module", "m", "Module", "M1")
QUIZ = Item("quiz", "q", "Quiz", "Q1")
TASK = Item("task", "t", "Task", "T1", units=frozenset({"CYP33"}))


@pytest.mark.parametrize(("kwargs", "status", "label"), [
    ({"item": MOD}, CellStatus.NOT_STARTED, "Not started"),
    ({"item": MOD, "module_done": False}, CellStatus.IN_PROGRESS, "In progress"),
    ({"item": MOD, "module_done": True}, CellStatus.DONE, "Complete"),
    ({"item": QUIZ}, CellStatus.NOT_STARTED, "Not started"),
    ({"item": QUIZ, "quiz": QuizSummary(None, False, 0, True)}, CellStatus.IN_PROGRESS,
     "In progress"),
    ({"item": QUIZ, "quiz": QuizSummary(60, False, 2, False)}, CellStatus.IN_PROGRESS,
     "Not passed yet"),
    ({"item": QUIZ, "quiz": QuizSummary(85, True, 1, False)}, CellStatus.DONE, "Passed"),
    ({"item": TASK}, CellStatus.NOT_STARTED, "Not started"),
    ({"item": TASK, "task": TaskSummary("draft", 0)}, CellStatus.IN_PROGRESS, "Draft"),
    ({"item": TASK, "task": TaskSummary("submitted", 1)}, CellStatus.SUBMITTED, "Submitted"),
    ({"item": TASK, "task": TaskSummary("being_marked", 1)}, CellStatus.SUBMITTED,
     "Being marked"),
    ({"item": TASK, "task": TaskSummary("referred", 1)}, CellStatus.REFERRED, "Referred"),
    ({"item": TASK, "task": TaskSummary("achieved", 2)}, CellStatus.DONE, "Achieved"),
])
def test_base_cell_statuses(kwargs, status, label):
    cell = base_cell(**kwargs)
    assert (cell.status, cell.label) == (status, label)


def test_cell_notes_show_best_score_and_round():
    assert base_cell(QUIZ, quiz=QuizSummary(84.6, True, 3, False)).note == "85%"
    assert base_cell(TASK, task=TaskSummary("achieved", 2)).note == "round 2"
    assert base_cell(TASK, task=TaskSummary("achieved", 1)).note == ""


def test_overdue_only_when_past_due_and_not_handed_in():
    today = date(2026, 3, 10)
    started = Cell(MOD, CellStatus.IN_PROGRESS, "In progress")
    done = Cell(MOD, CellStatus.DONE, "Complete")
    waiting = Cell(TASK, CellStatus.SUBMITTED, "Submitted")
    overdue = with_deadline(started, date(2026, 3, 9), today, handed_in=False)
    assert overdue.status is CellStatus.OVERDUE
    assert overdue.label == "Overdue: in progress"
    assert "due 2026-03-09" in overdue.text
    due_today = with_deadline(started, today, today, handed_in=False)
    assert due_today.status is CellStatus.IN_PROGRESS
    assert with_deadline(done, date(2026, 1, 1), today, handed_in=True).status is CellStatus.DONE
    assert with_deadline(started, None, today, handed_in=False).status is CellStatus.IN_PROGRESS
    # Handed in on time and waiting for marking: not overdue, still shown as submitted.
    submitted = with_deadline(waiting, date(2026, 3, 1), today, handed_in=True)
    assert (submitted.status, submitted.text) == (CellStatus.SUBMITTED,
                                                  "Submitted, due 2026-03-01")
    not_required_cell = with_deadline(not_required(TASK), date(2026, 3, 1), today,
                                      handed_in=False)
    assert not_required_cell.status is CellStatus.NOT_REQUIRED


# ---- the RAG rule (pure) ----

@pytest.mark.parametrize(("kwargs", "rag"), [
    ({}, Rag.GREEN),
    ({"overdue": 1}, Rag.RED),
    ({"referrals": 2}, Rag.RED),
    ({"referrals": 1}, Rag.GREEN),
    ({"due_soon": 1}, Rag.AMBER),
    ({"percent": 40, "cohort_percent": 60}, Rag.AMBER),
    ({"percent": 41, "cohort_percent": 60}, Rag.GREEN),
    ({"percent": 90, "cohort_percent": 60}, Rag.GREEN),
    ({"overdue": 1, "due_soon": 3}, Rag.RED),
])
def test_rag_rule(kwargs, rag):
    args = {"overdue": 0, "referrals": 0, "due_soon": 0, "percent": 50, "cohort_percent": 50}
    assert rag_status(**{**args, **kwargs}).rag is rag


def test_rag_reasons_say_why():
    result = rag_status(overdue=2, referrals=3, due_soon=0, percent=0, cohort_percent=0)
    assert result.reasons == ("2 items overdue", "a written task referred 3 times")
    amber = rag_status(overdue=0, referrals=0, due_soon=1, percent=10, cohort_percent=45)
    assert amber.reasons == ("1 item due within 7 days", "35 points behind the cohort average")


# ---- the service against the database ----

@pytest.fixture
def cohort_of_three(make_user, make_cohort, make_centre):
    assessor = make_user("assessor", name="Asha Assessor")
    ada, ben, cal = (make_user("learner", name=n) for n in ("Ada Ames", "Ben Bell", "Cal Cole"))
    cohort = make_cohort("Monday group", learners=[ada, ben, cal], assessors=[assessor],
                         centre=make_centre("North"))
    return {"assessor": assessor, "ada": ada, "ben": ben, "cal": cal, "cohort": cohort}


def _page(viewer, items, today=None, **filters):
    per_page = filters.pop("per_page", matrix.PER_PAGE)
    page = filters.pop("page", 1)
    return matrix.matrix_page(viewer, items, Filters(**filters), today or today_uk(), page,
                              per_page)


def _cells(page, name) -> dict[str, Cell]:
    row = next(r for r in page.rows if r.summary.name == name)
    return {c.item.code: c for c in row.cells}


def test_cells_from_the_database(app, make_user, cohort_of_three, items):
    c = cohort_of_three
    ada, assessor = c["ada"], c["assessor"]
    m1, m2 = [i for i in items if i.kind == "module"][:2]
    q1, q2 = [i for i in items if i.kind == "quiz"][:2]
    t1, t2 = [i for i in items if i.kind == "task"][:2]
    module_progress(ada, m1.slug, done=True)
    module_progress(ada, m2.slug, done=False)
    quiz_attempt(ada, q1.slug, 60, number=1)
    quiz_attempt(ada, q1.slug, 85, number=2)
    quiz_attempt(ada, q2.slug, 50)
    written_work(ada, t1.slug, ["referred"], assessor)
    written_work(ada, t2.slug, [None], assessor)
    admin = make_user("admin")
    cells = _cells(_page(admin, items), "Ada Ames")
    assert cells[m1.code].status is CellStatus.DONE
    assert cells[m2.code].status is CellStatus.IN_PROGRESS
    assert (cells[q1.code].status, cells[q1.code].note) == (CellStatus.DONE, "85%")
    assert cells[q2.code].label == "Not passed yet"
    assert cells[t1.code].status is CellStatus.REFERRED
    assert cells[t2.code].status is CellStatus.SUBMITTED
    untouched = [i for i in items if i not in (m1, m2, q1, q2, t1, t2)]
    assert untouched  # the fixture course has a third module and a third quiz
    assert all(cells[i.code].status is CellStatus.NOT_STARTED for i in untouched)


def test_sql_totals_match_the_cells(app, make_user, cohort_of_three, items):
    """The per-learner totals worked out in SQL agree with the cells worked out in Python."""
    c = cohort_of_three
    modules = [i for i in items if i.kind == "module"]
    quizzes = [i for i in items if i.kind == "quiz"]
    tasks = [i for i in items if i.kind == "task"]
    for m in modules[:2]:
        module_progress(c["ada"], m.slug)
    module_progress(c["ben"], modules[0].slug, done=False)
    quiz_attempt(c["ada"], quizzes[0].slug, 90)
    quiz_attempt(c["ada"], quizzes[-1].slug, 95)  # does not count toward completion
    written_work(c["ada"], tasks[0].slug, ["referred", "achieved"], c["assessor"])
    page = _page(make_user("admin"), items)
    for row in page.rows:
        done = sum(1 for cell in row.cells if cell.item.counts
                   and cell.status is CellStatus.DONE)
        assert row.summary.done == done, row.summary.name
    ada = next(r.summary for r in page.rows if r.summary.name == "Ada Ames")
    assert ada.done == 4  # two modules, the first quiz and the achieved task
    assert ada.required == sum(1 for i in items if i.counts)
    assert ada.started and not next(r.summary for r in page.rows
                                    if r.summary.name == "Cal Cole").started


def test_tasks_outside_the_cohort_unit_are_not_required(app, make_user, make_cohort, items):
    learner = make_user("learner", name="Eve Early")
    cohort = make_cohort("Early years")
    cohort.unit_id = "EYE22"
    db.session.commit()
    from learning.people import membership as cohorts

    cohorts.enrol(learner, cohort)
    db.session.commit()
    other_unit = next(i for i in items if i.kind == "task" and "EYE22" not in i.units)
    set_deadline(cohort, "task", other_unit.slug, today_uk() - timedelta(days=5))
    page = _page(make_user("admin"), items)
    row = page.rows[0]
    assert row.summary.overdue == 0  # a deadline for another unit's task is ignored
    statuses = {c.item.slug: c.status for c in row.cells if c.item.kind == "task"}
    for item in (i for i in items if i.kind == "task"):
        expected_required = "EYE22" in item.units
        assert (statuses[item.slug] is not CellStatus.NOT_REQUIRED) == expected_required
    skipped = next(c for c in row.cells if c.item.slug == other_unit.slug)
    # Screen readers read the label, and the CSV writes the text.
    assert (skipped.label, skipped.text, skipped.status.symbol) == (
        "Not part of this cohort's unit", "Not part of this cohort's unit", "–")
    assert row.summary.required == sum(1 for i in items if i.counts and i.applies_to("EYE22"))


def test_rag_from_the_database(app, make_user, cohort_of_three, items):
    c = cohort_of_three
    today = date(2026, 3, 10)
    modules = [i for i in items if i.kind == "module"]
    task = first(items, "task")
    set_deadline(c["cohort"], "module", modules[0].slug, date(2026, 3, 1))   # passed
    set_deadline(c["cohort"], "module", modules[1].slug, date(2026, 3, 14))  # in 4 days
    for who in ("ada", "ben", "cal"):
        module_progress(c[who], modules[0].slug)  # nobody is overdue on module 1...
    module_progress(c["ben"], modules[1].slug)
    module_progress(c["cal"], modules[1].slug)
    written_work(c["cal"], task.slug, ["referred", "referred"], c["assessor"])
    page = _page(make_user("admin"), items, today=today)
    rags = {r.summary.name: r.summary.rag for r in page.rows}
    assert rags["Ada Ames"].rag is Rag.AMBER  # module 2 due within 7 days, not done
    assert "1 item due within 7 days" in rags["Ada Ames"].reasons
    assert rags["Ben Bell"].rag is Rag.GREEN
    assert rags["Cal Cole"].rag is Rag.RED
    assert rags["Cal Cole"].reasons == ("a written task referred 2 times",)
    # ...until one of them has not done it.
    db.session.query(ModuleProgress).filter_by(user_id=c["ada"].id).delete()
    db.session.commit()
    ada = next(r for r in _page(make_user("admin"), items, today=today).rows
               if r.summary.name == "Ada Ames")
    assert ada.summary.rag.rag is Rag.RED and ada.summary.overdue == 1
    assert _cells_status(ada, modules[0]) is CellStatus.OVERDUE


def _cells_status(row, item):
    return next(c.status for c in row.cells if c.item.slug == item.slug)


def test_behind_the_cohort_pace_is_amber(app, make_user, make_cohort, items):
    modules = [i for i in items if i.kind == "module"]
    ahead = [make_user("learner", name=f"Ahead {n}") for n in range(3)]
    slow = make_user("learner", name="Slow Sam")
    make_cohort("Pace", learners=[*ahead, slow])
    for learner in ahead:
        for m in modules:
            module_progress(learner, m.slug)
    page = _page(make_user("admin"), items)
    rags = {r.summary.name: r.summary.rag.rag for r in page.rows}
    assert rags["Slow Sam"] is Rag.AMBER
    assert rags["Ahead 0"] is Rag.GREEN
    # Searching for one learner still compares them with their whole cohort.
    only = _page(make_user("admin"), items, q="slow")
    assert [r.summary.rag.rag for r in only.rows] == [Rag.AMBER]


def test_filters_search_sort_and_paging(app, make_user, make_cohort, items):
    modules = [i for i in items if i.kind == "module"]
    a1, a2 = make_user("assessor", name="First Assessor"), make_user("assessor")
    zed = make_user("learner", name="Zed Zulu")
    amy = make_user("learner", name="Amy Able")
    max_ = make_user("learner", name="Max Mid")
    ola = make_user("learner", name="Ola Other")
    ola.learner_ref = "REF-123"
    db.session.commit()
    mine = make_cohort("Mine", learners=[zed, amy, max_], assessors=[a1])
    make_cohort("Theirs", learners=[ola], assessors=[a2])
    for m in modules:
        module_progress(zed, m.slug)
    module_progress(max_, modules[0].slug)
    set_deadline(mine, "module", modules[1].slug, today_uk() - timedelta(days=1))
    admin = make_user("admin")

    def names(**f):
        return [r.summary.name for r in _page(admin, items, **f).rows]

    assert names() == ["Amy Able", "Max Mid", "Ola Other", "Zed Zulu"]
    assert names(cohort_id=mine.id) == ["Amy Able", "Max Mid", "Zed Zulu"]
    assert names(assessor_id=a1.id) == ["Amy Able", "Max Mid", "Zed Zulu"]
    assert names(q="zul") == ["Zed Zulu"]
    assert names(q="ref-1") == ["Ola Other"]
    assert names(q="100%") == []  # wildcards are taken literally
    assert names(overdue_only=True) == ["Amy Able", "Max Mid"]
    assert names(status="red") == ["Amy Able", "Max Mid"]
    assert names(status="not-started") == ["Amy Able", "Ola Other"]
    assert names(sort="progress-desc")[:2] == ["Zed Zulu", "Max Mid"]
    assert names(sort="progress")[-1] == "Zed Zulu"
    assert names(sort="rag")[:2] == ["Amy Able", "Max Mid"]
    paged = _page(admin, items, per_page=3, page=2)
    assert (paged.number, paged.pages, paged.total) == (2, 2, 4)
    assert [r.summary.name for r in paged.rows] == ["Zed Zulu"]
    assert _page(admin, items, per_page=3, page=99).number == 2
    assert _page(admin, items, status="red").counts == {"red": 2, "amber": 0, "green": 0}


def test_archived_cohorts_and_leavers_drop_out(app, make_user, make_cohort, items):
    stays, leaves = make_user("learner", name="Stays"), make_user("learner", name="Leaves")
    cohort = make_cohort("Live", learners=[stays, leaves])
    old = make_cohort("Old", learners=[make_user("learner", name="Archived Ann")])
    old.archived = True
    for e in cohort.enrolments:
        if e.user_id == leaves.id:
            e.left_at = utcnow()
    db.session.commit()
    admin = make_user("admin")
    assert [r.summary.name for r in _page(admin, items).rows] == ["Stays"]
    assert [r.summary.name for r in _page(admin, items, cohort_id=old.id).rows] == [
        "Archived Ann"]


# ---- the page ----

def test_page_shows_words_symbols_rule_and_table_structure(client, auth, make_user,
                                                             cohort_of_three, items):
    c = cohort_of_three
    module = first(items, "module")
    module_progress(c["ada"], module.slug)
    set_deadline(c["cohort"], "module", module.slug, today_uk() - timedelta(days=2))
    auth.login(make_user("admin"))
    response = client.get("/reports/matrix")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "How the RAG status is worked out" in html
    assert "any item is overdue" in html
    assert '<caption id="matrix-caption">' in html
    assert 'role="region" aria-labelledby="matrix-caption" tabindex="0"' in html
    assert f'<span class="visually-hidden">Module: {module.title}</span>' in html
    ada = matrix_row(html, "Ada Ames")
    assert '<span class="visually-hidden">Complete, due' in ada
    assert "Green" in ada
    ben = matrix_row(html, "Ben Bell")
    assert '<span aria-hidden="true">!</span><span class="visually-hidden">Overdue: not started' \
        in ben
    assert "Red" in ben and "1 item overdue" in ben
    assert html.count('<th scope="row">') == 3


def test_page_filters_and_pager_keep_the_query(client, auth, make_user, make_cohort, items):
    learners = [User(email=f"l{n}@example.test", name=f"Learner {n:03d}") for n in range(53)]
    for user in learners:
        from learning.people.models import UserRole

        user.roles = [UserRole(role="learner")]
        db.session.add(user)
    db.session.commit()
    cohort = make_cohort("Big", learners=learners)
    auth.login(make_user("admin"))
    html = client.get(f"/reports/matrix?cohort={cohort.id}&sort=rag").get_data(as_text=True)
    assert html.count('<th scope="row">') == 50
    assert "page 1 of 2" in html
    assert f"/reports/matrix?page=2&amp;cohort={cohort.id}&amp;sort=rag" in html
    page2 = client.get(f"/reports/matrix?page=2&cohort={cohort.id}").get_data(as_text=True)
    assert page2.count('<th scope="row">') == 3
    found = client.get("/reports/matrix?q=Learner+052").get_data(as_text=True)
    assert found.count('<th scope="row">') == 1
    assert client.get("/reports/matrix?sort=nonsense&status=evil").status_code == 200


def test_query_count_is_fixed(client, auth, make_user, make_cohort, count_queries, items):
    """5 learners or 40: the page runs the same number of queries."""
    modules = [i for i in items if i.kind == "module"]
    quizzes = [i for i in items if i.kind == "quiz"]
    task = first(items, "task")
    assessor_id = make_user("assessor").id
    admin_id = make_user("admin").id

    def cohort_with(n: int, label: str):
        assessor = db.session.get(User, assessor_id)
        people = [make_user("learner") for _ in range(n)]
        cohort = make_cohort(label, learners=people, assessors=[assessor])
        set_deadline(cohort, "module", modules[2].slug, today_uk() - timedelta(days=1))
        for i, learner in enumerate(people):
            module_progress(learner, modules[i % len(modules)].slug, done=i % 2 == 0)
            quiz_attempt(learner, quizzes[0].slug, 50 + i)
            if i % 3 == 0:
                written_work(learner, task.slug, ["referred", None], assessor)

    def measure(url):
        db.session.expunge_all()
        with count_queries() as counted:
            page = client.get(url).get_data(as_text=True)
        return counted.count, page

    cohort_with(5, "Small")
    auth.login(db.session.get(User, admin_id))
    few, _ = measure("/reports/matrix")
    few_filtered, _ = measure("/reports/matrix?status=red&sort=rag")
    cohort_with(35, "Large")
    many, page = measure("/reports/matrix")
    many_filtered, _ = measure("/reports/matrix?status=red&sort=rag")
    assert page.count('<th scope="row">') == 40
    assert many == few
    assert many_filtered == few_filtered
    assert many <= 12


# ---- who sees what ----

@pytest.fixture
def two_centres(make_user, make_cohort, make_centre):
    north_coord, south_coord = make_user("coordinator"), make_user("coordinator")
    north_assessor, south_assessor = make_user("assessor"), make_user("assessor")
    north_iqa = make_user("iqa")
    north_learner = make_user("learner", name="Nora North")
    north_other = make_user("learner", name="Ned Northern")
    south_learner = make_user("learner", name="Sam South")
    north = make_centre("North", coordinators=[north_coord])
    south = make_centre("South", coordinators=[south_coord])
    make_cohort("N1", learners=[north_learner], assessors=[north_assessor], iqas=[north_iqa],
                centre=north)
    make_cohort("N2", learners=[north_other], centre=north)
    make_cohort("S1", learners=[south_learner], assessors=[south_assessor], centre=south)
    return {"north_coord": north_coord, "south_coord": south_coord,
            "north_assessor": north_assessor, "south_assessor": south_assessor,
            "north_iqa": north_iqa, "north_learner": north_learner,
            "north_other": north_other, "south_learner": south_learner}


@pytest.mark.parametrize(("who", "sees"), [
    ("north_coord", {"Nora North", "Ned Northern"}),
    ("south_coord", {"Sam South"}),
    ("north_assessor", {"Nora North"}),
    ("north_iqa", {"Nora North"}),
    ("south_assessor", {"Sam South"}),
])
def test_scope_by_role(client, auth, two_centres, who, sees):
    auth.login(two_centres[who])
    html = client.get("/reports/matrix").get_data(as_text=True)
    shown = {n for n in ("Nora North", "Ned Northern", "Sam South") if n in html}
    assert shown == sees


def test_admin_sees_everyone_and_a_foreign_cohort_filter_shows_nothing(client, auth, make_user,
                                                                     two_centres, items):
    auth.login(make_user("admin"))
    html = client.get("/reports/matrix").get_data(as_text=True)
    assert all(n in html for n in ("Nora North", "Ned Northern", "Sam South"))
    auth.logout()
    south = next(r for r in _page(make_user("admin"), items).rows
                 if r.summary.name == "Sam South").summary.cohort_id
    auth.login(two_centres["north_coord"])
    html = client.get(f"/reports/matrix?cohort={south}").get_data(as_text=True)
    assert "Sam South" not in html


URLS = ["/reports/", "/reports/matrix", "/reports/charts", "/reports/matrix.csv",
        "/reports/quiz-results.csv", "/reports/decisions.csv"]


@pytest.mark.parametrize("url", URLS)
def test_learners_are_refused_and_anonymous_sent_to_login(client, auth, make_user, url):
    assert "/login" in client.get(url).headers.get("Location", "")
    auth.login(make_user("learner"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["assessor", "iqa", "coordinator", "admin"])
@pytest.mark.parametrize("url", URLS)
def test_staff_may_open_reports(client, auth, make_user, role, url):
    auth.login(make_user(role))
    assert client.get(url).status_code == 200


# ---- the learner drill-down ----

def test_timeline_newest_first(client, auth, two_centres, items):
    learner, assessor = two_centres["north_learner"], two_centres["north_assessor"]
    module = first(items, "module")
    quiz = first(items, "quiz")
    task = first(items, "task")
    module_progress(learner, module.slug, at=T0)
    quiz_attempt(learner, quiz.slug, 72, at=T0 + timedelta(days=1))
    written_work(learner, task.slug, ["referred", "achieved"], assessor,
                 at=T0 + timedelta(days=2))
    from learning.iqa.models import IqaReview, IqaSample

    decision = db.session.query(Decision).order_by(Decision.id).first()
    sample = IqaSample(decision_id=decision.id, reason="plan", sampled_at=T0 + timedelta(days=6))
    db.session.add(sample)
    db.session.flush()
    db.session.add(IqaReview(sample_id=sample.id, iqa_id=two_centres["north_iqa"].id,
                             verdict="agree", created_at=T0 + timedelta(days=7)))
    db.session.commit()
    auth.login(assessor)
    html = client.get(f"/staff/learners/{learner.id}").get_data(as_text=True)
    order = [f"Started module: {module.title}", f"Completed module: {module.title}",
             f"Quiz attempt 1: {quiz.title}", f"Submitted: {task.title}",
             f"Referred: {task.title} (submission 1)",
             f"Decision sampled for quality assurance: {task.title}",
             f"IQA agreed with the decision: {task.title}",
             f"Resubmitted (submission 2): {task.title}",
             f"Achieved: {task.title} (submission 2)"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions, reverse=True)
    assert "Scored 72%, not passed" in html


@pytest.mark.parametrize(("who", "status"), [
    ("north_assessor", 200), ("north_iqa", 200), ("north_coord", 200),
    ("south_assessor", 403), ("south_coord", 403), ("north_learner", 403),
])
def test_drill_down_is_checked_per_learner(client, auth, two_centres, who, status):
    auth.login(two_centres[who])
    url = f"/staff/learners/{two_centres['north_learner'].id}"
    assert client.get(url).status_code == status
    # The old address of the timeline leads there, where the same check is made.
    old = client.get(f"/reports/learners/{two_centres['north_learner'].id}",
                     follow_redirects=True)
    assert old.status_code == status


def test_drill_down_404_for_staff_accounts(client, auth, make_user, two_centres):
    auth.login(make_user("admin"))
    assert client.get(f"/staff/learners/{two_centres['north_coord'].id}").status_code == 404
    assert client.get("/reports/learners/999999", follow_redirects=True).status_code == 404


# ---- markup ----

@needs_checker
def test_report_pages_are_valid_html(client, auth, two_centres, items, tmp_path):
    learner, assessor = two_centres["north_learner"], two_centres["north_assessor"]
    module_progress(learner, first(items, "module").slug)
    quiz_attempt(learner, first(items, "quiz").slug, 88)
    written_work(learner, first(items, "task").slug, ["referred", "achieved"], assessor)
    auth.login(two_centres["north_coord"])
    pages = {"matrix": "/reports/matrix", "matrix-empty": "/reports/matrix?q=nobody",
             "charts": "/reports/charts", "downloads": "/reports/",
             "learner": f"/staff/learners/{learner.id}",
             "portfolio": f"/reports/learners/{learner.id}/portfolio",
             "portfolio-file": f"/reports/learners/{learner.id}/portfolio.html"}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        (tmp_path / f"{name}.html").write_text(response.get_data(as_text=True))
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)


# ---- cells and columns, in detail (pure) ----

@pytest.mark.parametrize("status", ["draft", "submitted", "being_marked", "referred",
                                    "achieved"])
def test_every_task_cell_keeps_its_item_and_round(status):
    cell = base_cell(TASK, task=TaskSummary(status, 3))
    assert (cell.item, cell.note) == (TASK, "round 3")
    assert cell.text == f"{cell.label} (round 3)"


def test_quiz_cells_keep_their_item_and_best_score():
    not_passed = base_cell(QUIZ, quiz=QuizSummary(59.5, False, 2, False))
    assert (not_passed.item, not_passed.label, not_passed.note) == (QUIZ, "Not passed yet",
                                                                    "60%")
    assert base_cell(QUIZ, quiz=QuizSummary(None, False, 1, False)).note == ""
    open_attempt = base_cell(QUIZ, quiz=QuizSummary(None, False, 0, True))
    assert (open_attempt.item, open_attempt.note, open_attempt.text) == (QUIZ, "",
                                                                         "In progress")




def test_green_says_on_track():
    assert rag_status(overdue=0, referrals=1, due_soon=0, percent=50,
                      cohort_percent=60).reasons == ("on track",)


def _course(modules, quizzes, tasks=()):
    """A small catalog and quiz set: modules as (slug, order), quizzes as (slug, modules)."""
    from types import SimpleNamespace as NS

    criteria = {"2.3": NS(unit_id="CYP33"), "E2.3": NS(unit_id="EYE22")}
    catalog = NS(modules=[NS(slug=s, order=o, title=f"Module {s}") for s, o in modules],
                 tasks=[NS(slug=s, title=f"Task {s}", criteria=c) for s, c in tasks],
                 criterion=criteria.get)
    quizzes = {s: NS(slug=s, title=f"Quiz {s}", modules=m,
                     settings=NS(counts_toward_completion=s != "practice"))
               for s, m in quizzes}
    return catalog, quizzes




def test_one_cohort_shows_only_its_units_columns_and_the_page_is_wide(client, auth, make_user,
                                                                      make_cohort, app):
    tasks = {t.slug: t for t in app.extensions["catalog"].tasks}
    cyp, eye = tasks["cyp33-explain-partnership"], tasks["eye22-analyse-benefits"]
    admin = make_user("admin")
    cohort = make_cohort("Level 3", learners=[make_user("learner", name="Una Unit")])
    cohort.unit_id = "CYP33"
    db.session.commit()
    auth.login(admin)
    everyone = client.get("/reports/matrix").get_data(as_text=True)
    assert f"Written task: {cyp.title}" in everyone and f"Written task: {eye.title}" in everyone
    one = client.get(f"/reports/matrix?cohort={cohort.id}").get_data(as_text=True)
    assert f"Written task: {cyp.title}" in one and f"Written task: {eye.title}" not in one
    assert matrix_row(one, "Una Unit").count('class="cell ') == one.count('class="item-head"')
    assert '<main id="main" class="wrap wrap-wide"' in one
