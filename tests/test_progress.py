"""Reading modules and marking them complete changes what the learner sees and what is stored."""

from sqlalchemy import select

from learning.core.extensions import db
from learning.course.models import ModuleProgress
from tests.conftest import post_form


def _modules(app):
    return app.extensions["catalog"].modules


def test_course_overview_lists_modules_in_order_with_criteria(client, auth, app, make_user):
    auth.login(make_user("learner"))
    html = client.get("/course").get_data(as_text=True)
    positions = [html.index(m.title) for m in _modules(app)]
    assert positions == sorted(positions)
    assert "Not started" in html
    assert "2.3" in html and "Explain what is meant by partnership working" in html
    assert f"About {_modules(app)[0].minutes} minutes" in html


def test_opening_a_module_starts_it(client, auth, app, make_user):
    learner = make_user("learner")
    auth.login(learner)
    first = _modules(app)[0]
    page = client.get(f"/course/{first.slug}").get_data(as_text=True)
    assert f"<h1>{first.title}</h1>" in page
    assert "In progress" in page
    row = db.session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == learner.id))
    assert row.module_slug == first.slug and row.completed_at is None
    assert row.started_at.tzinfo is not None  # stored and returned as UTC


def test_mark_complete_updates_progress_and_moves_on(client, auth, app, make_user):
    learner = make_user("learner")
    auth.login(learner)
    first, second = _modules(app)[:2]
    response = post_form(client, f"/course/{first.slug}", f"/course/{first.slug}/complete")
    # The first module has a quiz of its own: on to it, not past it.
    assert response.headers["Location"].endswith("/quizzes/partnership-basics-check")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"Course: 1 of {len(_modules(app))} modules complete" in dashboard
    assert f"Continue: {second.title}" in dashboard
    row = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.user_id == learner.id, ModuleProgress.module_slug == first.slug))
    assert row.completed_at is not None and row.completed_version == first.version
    overview = client.get("/course").get_data(as_text=True)
    assert "Complete" in overview


def test_completing_twice_keeps_first_date(client, auth, app, make_user):
    learner = make_user("learner")
    auth.login(learner)
    slug = _modules(app)[0].slug
    post_form(client, f"/course/{slug}", f"/course/{slug}/complete")
    first_date = db.session.scalar(select(ModuleProgress.completed_at))
    post_form(client, f"/course/{slug}", f"/course/{slug}/complete")
    db.session.expire_all()
    assert db.session.scalar(select(ModuleProgress.completed_at)) == first_date
    assert db.session.query(ModuleProgress).count() == 1


def test_undo_completion(client, auth, app, make_user):
    auth.login(make_user("learner"))
    slug = _modules(app)[0].slug
    post_form(client, f"/course/{slug}", f"/course/{slug}/complete")
    page = client.get(f"/course/{slug}").get_data(as_text=True)
    assert "Mark as not complete" in page
    post_form(client, f"/course/{slug}", f"/course/{slug}/incomplete")
    page = client.get(f"/course/{slug}").get_data(as_text=True)
    assert "Mark as complete" in page
    assert db.session.scalar(select(ModuleProgress.completed_at)) is None


def test_learners_progress_is_their_own(client, auth, app, make_user):
    a, b = make_user("learner"), make_user("learner")
    slug = _modules(app)[0].slug
    auth.login(a)
    post_form(client, f"/course/{slug}", f"/course/{slug}/complete")
    auth.logout()
    auth.login(b)
    assert "Course: 0 of" in client.get("/dashboard").get_data(as_text=True)


def test_module_page_has_toc_and_pager(client, auth, app, make_user):
    auth.login(make_user("learner"))
    first, second = _modules(app)[:2]
    html = client.get(f"/course/{first.slug}").get_data(as_text=True)
    assert "On this page" in html
    assert f'href="#{first.rendered.toc[0].id}"' in html
    assert f'href="/course/{second.slug}" rel="next"' in html
    assert "Last reviewed" in html


def test_unknown_module_is_404(client, auth, make_user):
    auth.login(make_user("learner"))
    response = client.get("/course/no-such-module")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_staff_can_read_modules_without_progress_rows(client, auth, app, make_user):
    auth.login(make_user("assessor"))
    slug = _modules(app)[0].slug
    html = client.get(f"/course/{slug}").get_data(as_text=True)
    assert "Mark as complete" not in html
    assert db.session.query(ModuleProgress).count() == 0


def test_learner_sees_only_their_units_wording(client, auth, app, make_user, make_cohort):
    from learning.people.models import Cohort

    learner = make_user("learner")
    cohort = make_cohort("EYE group", learners=[learner])
    cohort_row = db.session.get(Cohort, cohort.id)
    cohort_row.unit_id = "EYE22"
    db.session.commit()
    auth.login(learner)
    catalog = app.extensions["catalog"]
    eye = [c for u in catalog.units if u.id == "EYE22" for c in u.criteria]
    cyp = [c for u in catalog.units if u.id == "CYP33" for c in u.criteria]
    html = client.get("/course").get_data(as_text=True)
    mapped_eye = [c for c in eye if any(c.id in m.criteria for m in catalog.modules)]
    assert mapped_eye and all(c.text in html for c in mapped_eye)
    assert not any(f"CYP Core 3.3 {c.number}</strong> {c.text}" in html for c in cyp)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Your assessment criteria" in dashboard
    assert mapped_eye[0].text in dashboard


def test_staff_see_every_units_criteria(client, auth, app, make_user):
    auth.login(make_user("assessor"))
    html = client.get("/course").get_data(as_text=True)
    units = {c.unit_id for m in app.extensions["catalog"].modules for cid in m.criteria
             if (c := app.extensions["catalog"].criterion(cid))}
    codes = {u.code for u in app.extensions["catalog"].units if u.id in units}
    assert all(code in html for code in codes)


def test_progress_per_criterion_for_staff(client, auth, app, make_user, make_cohort,
                                          make_centre, count_queries):
    from learning.people.models import Cohort

    coordinator = make_user("coordinator")
    centre = make_centre("East College", coordinators=[coordinator])
    learners = [make_user("learner") for _ in range(3)]
    cohort = make_cohort("CYP group", learners=learners, centre=centre)
    db.session.get(Cohort, cohort.id).unit_id = "CYP33"
    db.session.commit()
    catalog = app.extensions["catalog"]
    criterion = catalog.criterion("CYP33-2.3")
    mapped = [m for m in catalog.modules if "CYP33-2.3" in m.criteria]
    auth.login(learners[0])
    for m in mapped:
        post_form(client, f"/course/{m.slug}", f"/course/{m.slug}/complete")
    auth.logout()
    auth.login(coordinator)
    with count_queries() as q:
        html = client.get("/staff/criteria").get_data(as_text=True)
    row = html.split(criterion.text)[1].split("</tr>")[0]
    assert [c.strip() for c in row.split("<td>")[1:4]] == ["3</td>", "1</td>", "0</td>"]
    assert q.count <= 8
    auth.logout()
    auth.login(make_user("learner"))
    assert client.get("/staff/criteria").status_code == 403


def test_criterion_rows_count_prepared_met_and_not_yet_met():
    from types import SimpleNamespace as Fake

    from learning.reports.criteria import CriterionRow, criterion_rows

    unit = Fake(id="U1", code="Unit 1", criteria=(
        Fake(id="a", number="1.1", text="A"), Fake(id="b", number="1.2", text="B"),
        Fake(id="c", number="1.3", text="C")))
    nobody_studies = Fake(id="U2", code="Unit 2", criteria=(Fake(id="d", number="1", text="D"),))
    catalog = Fake(units=(unit, nobody_studies), tasks=(Fake(criteria=("a", "b", "d")),),
                   modules=(Fake(slug="m1", criteria=("a", "d")), Fake(slug="m2", criteria=("a",))))
    rows = criterion_rows(catalog, {"U1": {1, 2, 3}}, {1: {"m1", "m2"}, 2: {"m1"}},
                          {(1, "a"): True, (2, "a"): False, (3, "b"): True})
    # b is covered by a task only, so no one is prepared by modules; c is covered by nothing.
    assert rows == [CriterionRow("Unit 1", "1.1", "A", 3, 1, 1, 1),
                    CriterionRow("Unit 1", "1.2", "B", 3, 0, 1, 0)]


def test_the_course_page_says_what_the_learners_unit_does_not_cover(client, auth, make_user,
                                                                     make_cohort):
    from learning.people.models import Cohort

    learner = make_user("learner")
    cohort = make_cohort("EYE group", learners=[learner])
    db.session.get(Cohort, cohort.id).unit_id = "EYE22"
    db.session.commit()
    auth.login(learner)
    html = client.get("/course").get_data(as_text=True)
    assert "What this course does not cover" in html
    assert "The test course leaves out the rights of parents (EYE22 test note)." in html
    assert "CYP33 test note" not in html


def test_staff_see_what_each_unit_does_not_cover(client, auth, make_user):
    auth.login(make_user("assessor"))
    html = client.get("/course").get_data(as_text=True)
    assert "CYP33 test note" in html and "EYE22 test note" in html


def test_module_page_links_each_criterion_to_the_sections_that_teach_it(client, auth, make_user):
    auth.login(make_user("assessor"))
    html = client.get("/course/partnership-basics").get_data(as_text=True)
    assert ('Taught in: <a href="#what-it-means">What it means</a>; '
            '<a href="#who-the-partners-are">Who the partners are</a>') in html
    # The overview lists the criteria without the section links.
    assert "Taught in:" not in client.get("/course").get_data(as_text=True)


def test_modules_carry_the_same_number_on_the_course_list_and_the_dashboard(
        client, auth, app, make_user, make_cohort):
    """The dashboard sends learners to "Module 3"; the course list must say which that is."""
    learner = make_user("learner")
    make_cohort(learners=[learner])
    auth.login(learner)
    course = client.get("/course").get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    linked = 0
    for module in _modules(app):
        assert f'{module.slug}">Module {module.order}: {module.title}</a>' in course
        if f'/course/{module.slug}">Module' in dashboard:
            assert f'/course/{module.slug}">Module {module.order}</a>' in dashboard
            linked += 1
    assert linked  # the dashboard's criteria name modules by number


def test_completing_a_module_leads_to_its_quiz_until_passed_then_onwards(
        client, auth, app, make_user):
    from tests.test_matrix import quiz_attempt

    learner = make_user("learner")
    auth.login(learner)
    first, second, third = _modules(app)[:3]
    complete = f"/course/{first.slug}/complete"
    assert post_form(client, f"/course/{first.slug}", complete).headers["Location"].endswith(
        "/quizzes/partnership-basics-check")
    quiz_attempt(learner, "partnership-basics-check", 40, pass_mark=80)  # not passed yet
    db.session.commit()
    assert post_form(client, f"/course/{first.slug}", complete).headers["Location"].endswith(
        "/quizzes/partnership-basics-check")
    quiz_attempt(learner, "partnership-basics-check", 90, number=2, pass_mark=80)
    db.session.commit()
    assert post_form(client, f"/course/{first.slug}", complete).headers["Location"].endswith(
        f"/course/{second.slug}")
    # No quiz of its own (the end-of-unit quiz spans modules), and the last module: the list.
    assert post_form(client, f"/course/{third.slug}",
                     f"/course/{third.slug}/complete").headers["Location"].endswith("/course")
