"""The learner portfolio: what it holds, the self-contained download, and who may open it."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from html import unescape

import pytest

from learning.assessment.models import Decision, SubmittedWork
from learning.core.extensions import db
from learning.iqa.models import IqaReview, IqaSample
from tests.test_matrix import T0, module_progress, quiz_attempt, today_uk, written_work


@pytest.fixture
def people(make_user, make_cohort, make_centre, app):
    """A learner with a full record in a North cohort; staff inside and outside it."""
    catalog = app.extensions["catalog"]
    p = {
        "learner": make_user("learner", name="Ada Ames"),
        "classmate": make_user("learner", name="Ben Bell"),
        "assessor": make_user("assessor", name="Asha Assessor"),
        "iqa": make_user("iqa", name="Ivy Iqa"),
        "coordinator": make_user("coordinator"),
        "other_assessor": make_user("assessor"),
        "other_iqa": make_user("iqa"),
        "other_coordinator": make_user("coordinator"),
        "admin": make_user("admin"),
    }
    north = make_centre("North", coordinators=[p["coordinator"]])
    south = make_centre("South", coordinators=[p["other_coordinator"]])
    make_cohort("Monday", learners=[p["learner"], p["classmate"]], assessors=[p["assessor"]],
                iqas=[p["iqa"]], centre=north)
    make_cohort("Friday", learners=[make_user("learner")], assessors=[p["other_assessor"]],
                iqas=[p["other_iqa"]], centre=south)
    learner, task = p["learner"], catalog.tasks[0]
    modules = sorted(catalog.modules, key=lambda m: m.order)
    module_progress(learner, modules[0].slug, at=T0)
    module_progress(learner, modules[1].slug, done=False, at=T0)
    quiz = next(q for q in app.extensions["quizzes"].values() if q.modules == (modules[0].slug,))
    quiz_attempt(learner, quiz.slug, 65, number=1, at=T0)
    quiz_attempt(learner, quiz.slug, 92.5, number=2, at=T0 + timedelta(days=1))
    written_work(learner, task.slug, ["referred", "achieved"], p["assessor"],
                 criteria=task.criteria, text="My final thoughts on partnership.")
    final = db.session.query(SubmittedWork).order_by(SubmittedWork.id.desc()).first()
    # A marking draft on top of the released decision stays private to the assessor.
    db.session.add(Decision(work_id=final.id, assessor_id=p["assessor"].id, outcome="referred",
                            feedback="DRAFT NOT RELEASED", actions="x", created_at=T0,
                            updated_at=T0))
    first_decision = db.session.query(Decision).order_by(Decision.id).first()
    sample = IqaSample(decision_id=first_decision.id, reason="manual",
                       sampled_by_id=p["iqa"].id, sampled_at=T0 + timedelta(days=4))
    db.session.add(sample)
    db.session.flush()
    db.session.add(IqaReview(sample_id=sample.id, iqa_id=p["iqa"].id, verdict="agree",
                             comments="Sound referral.", created_at=T0 + timedelta(days=5)))
    db.session.commit()
    p.update(task=task, modules=modules, quiz=quiz)
    return p


def url(p, suffix=""):
    return f"/reports/learners/{p['learner'].id}/portfolio{suffix}"


def test_portfolio_holds_what_an_external_qa_asks_for(client, auth, people, app):
    catalog = app.extensions["catalog"]
    auth.login(people["assessor"])
    html = client.get(url(people)).get_data(as_text=True)
    modules, task, quiz = people["modules"], people["task"], people["quiz"]
    assert "Portfolio: Ada Ames" in html
    assert f"1 of {len(modules)} modules complete" in html
    assert modules[0].title in html and "5 January 2026" in html
    # quizzes: the best result and every attempt
    best = re.search(rf"<th scope=\"row\">{re.escape(quiz.title)}</th>\s*<td>([^<]*)</td>", html)
    assert best and best.group(1).endswith("(92%)"), best
    assert f"{quiz.title}: attempt 1" in html and f"{quiz.title}: attempt 2" in html
    # written work: the final version, the criterion decisions and the feedback
    assert "My final thoughts on partnership. (round 2)" in html
    assert "My final thoughts on partnership. (round 1)" not in html  # only the final text
    for cid in task.criteria:
        assert catalog.criterion(cid).text in html
    assert "Comment on" in html and "Met</td>" in html
    assert "Feedback on round 2." in html
    assert "DRAFT NOT RELEASED" not in html
    # history and IQA
    assert "First submission (1)" in html and "Resubmission 1 (2)" in html
    assert "Referred by Asha Assessor" in html and "Achieved by Asha Assessor" in html
    assert "picked by hand" in html and "Agreed: Ivy Iqa" in html and "Sound referral." in html
    assert " style=" not in html  # the served page keeps to the site's CSP


def test_download_is_one_self_contained_file(client, auth, people):
    auth.login(people["learner"])
    response = client.get(url(people, ".html?download=1"))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="portfolio-ada-ames-{today_uk().isoformat()}.html"')
    html = response.get_data(as_text=True)
    assert '<link rel="stylesheet"' not in html and "<script" not in html
    assert "<nav" not in html  # no site navigation in the file
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "@media print" in style
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "script-src" not in policy
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    # The same policy travels inside the file (frame-ancestors works only as a header).
    assert policy == unescape(meta.group(1)) + "; frame-ancestors 'none'"
    assert "My final thoughts on partnership. (round 2)" in html
    # Without download=1 the same file opens in the browser.
    inline = client.get(url(people, ".html"))
    assert "Content-Disposition" not in inline.headers
    assert inline.headers["Content-Security-Policy"] == policy


def test_the_site_csp_is_unchanged_elsewhere(client, auth, people):
    auth.login(people["learner"])
    policy = client.get(url(people)).headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy and "sha256" not in policy


ROLES = [("learner", 200), ("assessor", 200), ("iqa", 200), ("coordinator", 200),
         ("classmate", 403), ("other_assessor", 403), ("other_iqa", 403),
         ("other_coordinator", 403), ("admin", 403)]


@pytest.mark.parametrize(("who", "status"), ROLES)
@pytest.mark.parametrize("suffix", ["", ".html", ".html?download=1"])
def test_who_may_open_the_portfolio(client, auth, people, who, status, suffix):
    auth.login(people[who])
    assert client.get(url(people, suffix)).status_code == status


def test_anonymous_and_unknown(client, auth, people):
    assert "/login" in client.get(url(people)).headers["Location"]
    auth.login(people["coordinator"])
    assert client.get("/reports/learners/999999/portfolio").status_code == 404
    assert client.get(f"/reports/learners/{people['assessor'].id}/portfolio").status_code == 404


def test_a_learner_who_left_is_out_of_staff_reach(client, auth, people):
    from learning.core.types import utcnow
    from learning.people.models import Enrolment

    for e in db.session.query(Enrolment).filter_by(user_id=people["learner"].id):
        e.left_at = utcnow()
    db.session.commit()
    auth.login(people["assessor"])
    assert client.get(url(people)).status_code == 403
    auth.logout()
    auth.login(people["learner"])
    assert client.get(url(people)).status_code == 200


def test_drill_down_links_to_the_portfolio_only_for_those_allowed(client, auth, people):
    timeline = f"/staff/learners/{people['learner'].id}"
    auth.login(people["assessor"])
    assert url(people) in client.get(timeline).get_data(as_text=True)
    auth.logout()
    auth.login(people["admin"])
    assert url(people) not in client.get(timeline).get_data(as_text=True)


@pytest.mark.parametrize("outcomes, heading", [
    (["referred"], "Referred answer: submission 1"),
    (["referred", "achieved"], "Final answer: submission 2"),
    (["referred", None], "Latest answer, waiting for marking: submission 2"),
])
def test_the_answer_is_named_by_where_it_stands(client, auth, make_user, make_cohort, app,
                                               outcomes, heading):
    """A referred answer used to be headed "Final answer"."""
    learner, assessor = make_user("learner"), make_user("assessor")
    make_cohort("Tuesday", learners=[learner], assessors=[assessor])
    written_work(learner, app.extensions["catalog"].tasks[0].slug, outcomes, assessor)
    db.session.commit()
    auth.login(learner)
    page = client.get(f"/reports/learners/{learner.id}/portfolio").get_data(as_text=True)
    assert f"<h4>{heading}," in page
    assert page.count("Final answer") == (1 if outcomes[-1] == "achieved" else 0)


def test_a_learner_reaches_their_portfolio_from_the_menu_and_the_dashboard(
        client, auth, people):
    auth.login(people["learner"])
    page = client.get("/dashboard").get_data(as_text=True)
    link = f'href="/reports/learners/{people["learner"].id}/portfolio"'
    assert page.count(link) == 2  # the menu and the to-do list
    auth.logout()
    auth.login(people["assessor"])  # staff reach portfolios from a learner's page instead
    assert "/portfolio" not in client.get("/dashboard").get_data(as_text=True)
