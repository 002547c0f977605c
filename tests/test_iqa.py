"""Internal quality assurance: sampling plans, picking by hand, reviews, access and the report."""

import re

import pytest
from sqlalchemy import func, select

from learning.assessment import marking, submissions
from learning.assessment.models import Submission
from learning.cohorts import admin as cohort_admin
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa import sampling
from learning.iqa.models import IqaReview, IqaSample, SamplingPlan
from learning.people import membership as cohorts
from learning.people.models import Cohort, Notification, User
from tests.conftest import csrf_from, post_form
from tests.htmlcheck import html_errors, needs_checker


@pytest.fixture
def task(app):
    tasks = app.extensions["catalog"].tasks
    assert tasks, "tests/data/content/tasks/ must hold at least one task"
    return tasks[0]


@pytest.fixture
def team(make_user, make_cohort, make_centre):
    """A cohort with four learners, an assessor and an IQA; another cohort with its own, run
    by another centre. Each centre has a coordinator."""
    learners = [make_user("learner", name=f"Learner {n}") for n in range(4)]
    assessor = make_user("assessor", name="Asha Assessor")
    iqa = make_user("iqa", name="Ivy Iqa")
    coordinator, other_coordinator = make_user("coordinator"), make_user("coordinator")
    make_cohort("Tuesday group", learners=learners, assessors=[assessor], iqas=[iqa],
                centre=make_centre("North", coordinators=[coordinator]))
    outsider = make_user("learner", name="Olu Outsider")
    other_assessor = make_user("assessor", name="Omar Other")
    other_iqa = make_user("iqa", name="Orla Other IQA")
    make_cohort("Thursday group", learners=[outsider], assessors=[other_assessor],
                iqas=[other_iqa], centre=make_centre("South", coordinators=[other_coordinator]))
    return {"learners": learners, "assessor": assessor, "iqa": iqa, "outsider": outsider,
            "other_assessor": other_assessor, "other_iqa": other_iqa,
            "coordinator": coordinator, "other_coordinator": other_coordinator}


def _plan(assessor, actor, rate=0, new=False):
    sampling.save_plan(assessor, rate, new, actor, utcnow())


def _submit(learner, task, text):
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, text, None, utcnow())
    return submissions.submit(sub, task, learner, True, "", utcnow())


def _decide(work, task, assessor, met: bool):
    criteria = {c: (met, f"Comment on {c}") for c in task.criteria}
    return marking.save_decision(work, task, assessor, criteria, "Overall feedback.",
                                 "" if met else "Say more about each organisation.", utcnow(),
                                 release=True)


def _release(learner, task, assessor, met: bool, text=None):
    work = _submit(learner, task, text or f"The answer written by {learner.name}.")
    return _decide(work, task, assessor, met)


def _sampled_ids() -> set[int]:
    return set(db.session.scalars(select(IqaSample.decision_id)))


def _sample_of(decision) -> IqaSample:
    return db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))


# ---- sampling ----

def test_plan_always_samples_first_referral_and_first_achievement(team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    a, b, c, d = team["learners"]
    first_referral = _release(a, task, team["assessor"], met=False)
    second_referral = _release(b, task, team["assessor"], met=False)
    first_achievement = _release(c, task, team["assessor"], met=True)
    second_achievement = _release(d, task, team["assessor"], met=True)
    assert _sampled_ids() == {first_referral.id, first_achievement.id}
    assert second_referral.id not in _sampled_ids()
    assert second_achievement.id not in _sampled_ids()
    assert {s.reason for s in db.session.scalars(select(IqaSample))} == {"plan"}
    # The IQA of the learners' cohort is told; the other cohort's IQA is not.
    notes = db.session.scalars(select(Notification).where(Notification.kind == "iqa-sample"))
    assert {n.user_id for n in notes} == {team["iqa"].id}


def test_new_assessor_has_every_decision_sampled(team, task):
    _plan(team["assessor"], team["iqa"], rate=0, new=True)
    decisions = [_release(learner, task, team["assessor"], met=i % 2 == 0)
                 for i, learner in enumerate(team["learners"])]
    assert _sampled_ids() == {d.id for d in decisions}


def _draft(learner, task, assessor):
    """A decision saved but not yet released: it has its id (and so its draw) already."""
    work = _submit(learner, task, f"The answer written by {learner.name}.")
    criteria = {c: (True, f"Comment on {c}") for c in task.criteria}
    return marking.save_decision(work, task, assessor, criteria, "Overall feedback.", "",
                                 utcnow(), release=False)


def test_a_rate_between_0_and_100_samples_the_decisions_drawn_below_it(team, task):
    first, *others = team["learners"]
    _plan(team["assessor"], team["iqa"], rate=0)
    first_achievement = _release(first, task, team["assessor"], met=True)
    drafts = [_draft(learner, task, team["assessor"]) for learner in others]
    draws = {d.id: sampling._draw(d.id) for d in drafts}
    # The plan's rate is the highest draw: every decision drawn below it is sampled, the one
    # drawn exactly at it is not ("rate %" means draws 0 .. rate - 1).
    rate = max(draws.values())
    assert 0 < rate < 100 and min(draws.values()) < rate
    _plan(team["assessor"], team["iqa"], rate=rate)
    for draft in drafts:
        _decide(draft.work, task, team["assessor"], met=True)
    expected = {first_achievement.id} | {i for i, draw in draws.items() if draw < rate}
    assert _sampled_ids() == expected
    assert len(expected) < 1 + len(drafts)
    assert db.session.get(SamplingPlan, team["assessor"].id).rate == rate


def test_the_draw_is_stable_and_spreads_evenly_over_0_to_99():
    # Stable across releases and machines, so an IQA can be told why a decision was drawn.
    assert [sampling._draw(i) for i in range(1, 9)] == [74, 75, 48, 25, 32, 91, 67, 77]
    draws = [sampling._draw(i) for i in range(1, 5001)]
    assert min(draws) == 0 and max(draws) == 99
    assert 0.27 < sum(d < 30 for d in draws) / len(draws) < 0.33


@pytest.mark.parametrize("rate, draw, outcome, already, sampled", [
    (30, 29, "achieved", {"achieved", "referred"}, True),  # drawn below the rate
    (30, 30, "achieved", {"achieved", "referred"}, False),  # drawn at the rate: not sampled
    (0, 0, "referred", {"achieved", "referred"}, False),
    (100, 99, "referred", {"achieved", "referred"}, True),
    (0, 50, "referred", {"achieved"}, True),  # the assessor's first referral
    (0, 50, "achieved", {"referred"}, True),  # the assessor's first achievement
])
def test_should_sample_rule(rate, draw, outcome, already, sampled):
    assert sampling.should_sample(rate, draw, outcome, already) is sampled


def test_plan_in_words_and_effective_rate(team):
    assessor = team["assessor"]
    default = sampling.plan_for(assessor.id)  # not saved: what applies until one is
    assert (default.assessor_id, default.rate, default.new_assessor) == (assessor.id, 25, False)
    assert sampling.DEFAULT_RATE == 25 and db.session.get(SamplingPlan, assessor.id) is None
    assert sampling.rule_in_words(sampling.plan_for(assessor.id)) == (
        "25% of released decisions at random, plus the assessor's first referral and first "
        "achievement.")
    _plan(assessor, team["iqa"], rate=40)
    plan = sampling.plan_for(assessor.id)
    assert (plan.rate, sampling.rate_of(plan)) == (40, 40)
    _plan(assessor, team["iqa"], rate=40, new=True)
    assert sampling.rate_of(sampling.plan_for(assessor.id)) == 100
    assert sampling.rule_in_words(sampling.plan_for(assessor.id)) == (
        "New assessor: every released decision is sampled.")


def test_plan_for_an_assessor_without_one_samples_a_quarter(team, task):
    """No plan saved: the default of 25% applies."""
    first, *others = team["learners"]
    first_achievement = _release(first, task, team["assessor"], met=True)
    drafts = [_draft(learner, task, team["assessor"]) for learner in others]
    for draft in drafts:
        _decide(draft.work, task, team["assessor"], met=True)
    expected = {first_achievement.id} | {d.id for d in drafts if sampling._draw(d.id) < 25}
    assert _sampled_ids() == expected


@pytest.mark.parametrize("rate", [-1, 101])
def test_a_rate_outside_0_to_100_is_refused(team, rate):
    with pytest.raises(ValueError, match=r"^rate must be 0\.\.100$"):
        _plan(team["assessor"], team["iqa"], rate=rate)
    assert db.session.get(SamplingPlan, team["assessor"].id) is None


def test_changing_a_plan_records_what_it_was(team):
    _plan(team["assessor"], team["iqa"], rate=10)
    now = utcnow()
    returned = sampling.save_plan(team["assessor"], 60, True, team["coordinator"], now)
    first, second = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "iqa.plan").order_by(AuditEvent.id))
    assert first.detail["previous"] is None
    assert second.detail == {"rate": 60, "new_assessor": True,
                             "previous": {"rate": 10, "new_assessor": False}}
    assert second.actor_id == team["coordinator"].id
    assert (second.subject_type, second.subject_id) == ("User", str(team["assessor"].id))
    db.session.expire_all()  # what was committed, not what is in memory
    plan = db.session.get(SamplingPlan, team["assessor"].id)
    assert plan is returned
    assert (plan.rate, plan.new_assessor, plan.updated_by_id, plan.updated_at) == (
        60, True, team["coordinator"].id, now)


def test_a_sampled_decision_is_recorded_audited_and_its_iqas_told(team, task, make_user,
                                                                  make_cohort):
    learner = team["learners"][0]
    second_iqa, cohort_assessor = make_user("iqa"), team["assessor"]
    make_cohort("Evening group", learners=[learner], iqas=[second_iqa, team["iqa"]])
    _plan(team["assessor"], team["iqa"], rate=0)
    decision = _release(learner, task, cohort_assessor, met=False)
    sample = _sample_of(decision)
    assert (sample.reason, sample.sampled_by_id) == ("plan", None)
    assert sample.sampled_at == decision.released_at  # sampled as it was released
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "iqa.sample"))
    submission = db.session.scalar(select(Submission).where(Submission.learner_id == learner.id))
    assert (event.actor_id, event.subject_type, event.subject_id) == (None, "IqaSample",
                                                                      str(sample.id))
    assert event.detail == {"decision_id": decision.id, "reason": "plan",
                            "submission_id": submission.id}
    notes = list(db.session.scalars(select(Notification).where(
        Notification.kind == "iqa-sample")))
    # Each IQA of the learner's cohorts once (Ivy is IQA of both), never the assessor.
    assert sorted(n.user_id for n in notes) == sorted([team["iqa"].id, second_iqa.id])
    assert {(n.message, n.link) for n in notes} == {
        (f"{learner.name}'s answer to '{task.title}', referred by {cohort_assessor.name}, "
         "is in your IQA sample.", f"/iqa/samples/{sample.id}")}


def test_iqas_of_a_cohort_the_learner_left_are_not_told(team, task, make_user, make_cohort,
                                                        make_centre):
    learner = team["learners"][0]
    former_iqa, coordinator = make_user("iqa"), make_user("coordinator")
    old = make_cohort("Old group", learners=[learner], iqas=[former_iqa],
                      centre=make_centre(coordinators=[coordinator]))
    cohort_admin.remove_learner(old, learner, coordinator)
    assert [u.id for u in sampling.iqas_for(learner.id)] == [team["iqa"].id]
    _plan(team["assessor"], team["iqa"], rate=0)
    _release(learner, task, team["assessor"], met=True)
    notes = db.session.scalars(select(Notification).where(Notification.kind == "iqa-sample"))
    assert [n.user_id for n in notes] == [team["iqa"].id]


def test_picking_by_hand_is_audited_with_the_iqa_and_tells_nobody(team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    _release(team["learners"][0], task, team["assessor"], met=False)
    second = _release(team["learners"][1], task, team["assessor"], met=False)
    before = db.session.scalar(select(func.count(Notification.id)))
    sample = sampling.sample_by_hand(second, team["iqa"], utcnow())
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "iqa.sample", AuditEvent.subject_id == str(sample.id)))
    assert event.actor_id == team["iqa"].id and event.detail["reason"] == "manual"
    assert db.session.scalar(select(func.count(Notification.id))) == before


def test_the_first_of_each_kind_is_per_assessor(team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    _plan(team["other_assessor"], team["iqa"], rate=0)
    mine = _release(team["learners"][0], task, team["assessor"], met=False)
    _release(team["learners"][1], task, team["assessor"], met=False)
    theirs = _release(team["outsider"], task, team["other_assessor"], met=False)
    assert _sampled_ids() == {mine.id, theirs.id}


def test_plans_page_saves_validates_and_audits(client, auth, team):
    assessor = team["assessor"]
    auth.login(team["iqa"])
    page = client.get("/iqa/plans").get_data(as_text=True)
    assert "X% of released decisions at random, plus each assessor's first referral and " \
           "first achievement; new assessors: every decision" in page
    assert "Asha Assessor" in page and "Omar Other" not in page  # only the IQA's cohorts
    for bad in ("lots", "150", ""):
        response = post_form(client, "/iqa/plans", data={
            "assessor": assessor.id, f"plan-{assessor.id}-rate": bad})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "There is a problem" in html
        assert f'href="#plan-{assessor.id}-rate"' in html
        assert "Enter the sampling rate as a whole number from 0 to 100." in html
        assert html.count("Enter the sampling rate as a whole number") == 2  # summary + field
    assert db.session.get(SamplingPlan, assessor.id) is None
    saved = post_form(client, "/iqa/plans", data={
        "assessor": assessor.id, f"plan-{assessor.id}-rate": "10",
        f"plan-{assessor.id}-new_assessor": "y"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "Sampling plan for Asha Assessor saved." in html
    assert "New assessor: every released decision is sampled." in html
    plan = db.session.get(SamplingPlan, assessor.id)
    assert (plan.rate, plan.new_assessor, plan.updated_by_id) == (10, True, team["iqa"].id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "iqa.plan"))
    assert event.actor_id == team["iqa"].id and event.detail["rate"] == 10
    # An assessor outside the IQA's cohorts cannot be planned for.
    other = team["other_assessor"]
    refused = post_form(client, "/iqa/plans", data={"assessor": other.id,
                                                    f"plan-{other.id}-rate": "50"})
    assert refused.status_code == 403


def test_coordinators_plan_for_their_centres_and_admins_for_all(client, auth, team,
                                                                 make_user):
    auth.login(team["coordinator"])
    page = client.get("/iqa/plans").get_data(as_text=True)
    assert "Asha Assessor" in page and "Omar Other" not in page
    other = team["other_assessor"]
    assert post_form(client, "/iqa/plans", data={
        "assessor": other.id, f"plan-{other.id}-rate": "50"}).status_code == 403
    auth.logout()
    auth.login(make_user("admin"))
    page = client.get("/iqa/plans").get_data(as_text=True)
    assert "Asha Assessor" in page and "Omar Other" in page


# ---- the sample and picking by hand ----

def test_sample_page_lists_unreviewed_first_and_filters(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=0, new=True)
    a, b = team["learners"][:2]
    _release(a, task, team["assessor"], met=False)
    newer = _release(b, task, team["assessor"], met=True)
    _release(team["outsider"], task, team["other_assessor"], met=True)  # not this IQA's
    auth.login(team["iqa"])
    post_form(client, f"/iqa/samples/{_sample_of(newer).id}", data={"verdict": "agree"})
    page = client.get("/iqa/").get_data(as_text=True)
    assert "Olu Outsider" not in page
    assert page.index("Learner 0") < page.index("Learner 1")  # not reviewed comes first
    assert "Not reviewed" in page and "Agreed" in page and "Sampling plan" in page
    assert task.title in page
    todo = client.get("/iqa/?reviewed=no").get_data(as_text=True)
    assert "Learner 0" in todo and "Learner 1" not in todo
    done = client.get("/iqa/?reviewed=yes").get_data(as_text=True)
    assert "Learner 1" in done and "Learner 0" not in done


def test_iqa_adds_a_decision_to_the_sample_by_hand(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    a, b, c = team["learners"][:3]
    _release(a, task, team["assessor"], met=False)
    _release(b, task, team["assessor"], met=True)
    unsampled = _release(c, task, team["assessor"], met=False, text="Hidden until sampled.")
    assert unsampled.id not in _sampled_ids()
    auth.login(team["iqa"])
    listing = client.get("/iqa/decisions").get_data(as_text=True)
    assert "1 decision not in the sample" in listing
    assert "Learner 2" in listing and "Add to sample" in listing
    assert "Hidden until sampled." not in listing  # the answer only once it is sampled
    added = post_form(client, "/iqa/decisions", f"/iqa/decisions/{unsampled.id}/sample")
    assert added.status_code == 302
    sample = _sample_of(unsampled)
    assert (sample.reason, sample.sampled_by_id) == ("manual", team["iqa"].id)
    assert added.headers["Location"].endswith(f"/iqa/samples/{sample.id}")
    review = client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True)
    assert "Hidden until sampled." in review
    assert "Chosen by hand" in client.get("/iqa/").get_data(as_text=True)
    assert "not in the sample" not in client.get("/iqa/decisions").get_data(as_text=True)


def test_picking_by_hand_adds_that_decision_once(team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    a, b, c = team["learners"][:3]
    planned = _release(a, task, team["assessor"], met=False)  # first referral: the plan's
    _release(b, task, team["assessor"], met=False)
    picked = _release(c, task, team["assessor"], met=False)
    now = utcnow()
    sample = sampling.sample_by_hand(picked, team["iqa"], now)
    assert (sample.decision_id, sample.reason, sample.sampled_by_id) == (
        picked.id, "manual", team["iqa"].id)
    assert sample.sampled_at == now
    assert sampling.sample_by_hand(picked, team["iqa"], utcnow()).id == sample.id
    again = sampling.sample_by_hand(planned, team["iqa"], utcnow())  # already in the sample
    assert (again.decision_id, again.reason, again.sampled_by_id) == (planned.id, "plan", None)
    assert _sampled_ids() == {planned.id, picked.id}


def test_decisions_list_is_paginated(client, auth, make_user, make_cohort, task):
    learners = [make_user("learner") for _ in range(29)]
    assessor, iqa = make_user("assessor"), make_user("iqa")
    make_cohort("Big group", learners=learners, assessors=[assessor], iqas=[iqa])
    _plan(assessor, iqa, rate=0)
    for i, learner in enumerate(learners):
        _release(learner, task, assessor, met=i % 2 == 0)
    auth.login(iqa)
    first = client.get("/iqa/decisions").get_data(as_text=True)
    assert "27 decisions not in the sample: page 1 of 2" in first  # 29 less 2 by the plan
    assert len(re.findall(r"/iqa/decisions/\d+/sample", first)) == 25
    assert "Next page" in first and "Previous page" not in first
    second = client.get("/iqa/decisions?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    assert len(re.findall(r"/iqa/decisions/\d+/sample", second)) == 2
    assert "Previous page" in second and "Next page" not in second



def test_decisions_list_query_count_is_fixed(client, auth, make_user, make_cohort, task,
                                             count_queries):
    learners = [make_user("learner") for _ in range(8)]
    assessor, iqa = make_user("assessor"), make_user("iqa")
    make_cohort("Big group", learners=learners, assessors=[assessor], iqas=[iqa])
    _plan(assessor, iqa, rate=0)

    def measure():
        db.session.expunge_all()  # each request starts from an empty session, as in production
        with count_queries() as counted:
            page = client.get("/iqa/decisions").get_data(as_text=True)
        return counted, page

    for learner in learners[:3]:
        _release(learner, task, assessor, met=True)
    later, assessor_id = [learner.id for learner in learners[3:]], assessor.id
    auth.login(iqa)
    few, page = measure()
    shown = len(re.findall(r"/iqa/decisions/\d+/sample", page))
    for learner_id in later:
        _release(db.session.get(User, learner_id), task, db.session.get(User, assessor_id),
                 met=False)
    many, page = measure()
    assert len(re.findall(r"/iqa/decisions/\d+/sample", page)) > shown > 0
    assert many.count == few.count, "\n".join(many.statements)

# ---- reviews ----

def test_iqa_agrees(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    decision = _release(team["learners"][0], task, team["assessor"], met=True)
    sample = _sample_of(decision)
    auth.login(team["iqa"])
    page = client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True)
    assert "The answer written by Learner 0." in page
    assert "Overall feedback." in page and f"Comment on {task.criteria[0]}" in page
    assert "Met when the answer:" in page  # the marking guide
    response = post_form(client, f"/iqa/samples/{sample.id}", data={
        "verdict": "agree", "comments": "Sound judgement against the guide."},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Your review is saved." in html and "Sound judgement against the guide." in html
    review = db.session.scalar(select(IqaReview))
    assert (review.verdict, review.iqa_id) == ("agree", team["iqa"].id)
    sub = db.session.scalar(select(Submission))
    assert sub.reassess is False and sub.status == "achieved"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "iqa.review"))
    assert event.detail["verdict"] == "agree" and event.actor_id == team["iqa"].id


def test_disagree_needs_an_action(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    sample = _sample_of(_release(team["learners"][0], task, team["assessor"], met=True))
    auth.login(team["iqa"])
    response = post_form(client, f"/iqa/samples/{sample.id}", data={
        "verdict": "disagree", "comments": "Part B is missing.", "action": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert '<a href="#action">Say what the assessor must do, because you disagree with the ' \
           'decision.</a>' in html
    assert 'id="action-error"' in html and 'aria-invalid="true"' in html
    assert "Part B is missing." in html  # what was typed is kept
    no_verdict = post_form(client, f"/iqa/samples/{sample.id}", data={"comments": "Hmm."})
    assert '<a href="#verdict">Choose whether you agree or disagree' in \
        no_verdict.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IqaReview.id))) == 0
    assert db.session.scalar(select(Submission)).reassess is False


def test_disagreement_reopens_for_the_assessor_until_a_new_decision(
        client, auth, team, task, app):
    _plan(team["assessor"], team["iqa"], rate=0)
    a, b = team["learners"][:2]
    agreed = _release(a, task, team["assessor"], met=False)
    disputed = _release(b, task, team["assessor"], met=True)
    sub = db.session.scalar(select(Submission).where(Submission.learner_id == b.id))
    auth.login(team["iqa"])
    post_form(client, f"/iqa/samples/{_sample_of(agreed).id}", data={"verdict": "agree"})
    response = post_form(client, f"/iqa/samples/{_sample_of(disputed).id}", data={
        "verdict": "disagree", "comments": "Part B is not answered.",
        "action": "Look again at criterion 1 against Part B."}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The assessor has been asked to make a new decision." in html
    assert "Action open" in html

    db.session.expire_all()
    sub = db.session.get(Submission, sub.id)
    assert sub.reassess is True
    assert sub.status == "achieved"  # the learner's outcome stands
    note = db.session.scalar(select(Notification).where(
        Notification.user_id == team["assessor"].id, Notification.kind == "iqa-action"))
    assert note.message == (
        f"IQA action on {sub.learner.name}'s answer to '{task.title}': "
        f"{team['iqa'].name} disagreed with your decision. Make a new decision.")
    assert note.link == f"/marking/{sub.id}"
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "iqa.review", AuditEvent.actor_id == team["iqa"].id)
        .order_by(AuditEvent.id.desc())).detail["verdict"] == "disagree"
    report = client.get("/iqa/report").get_data(as_text=True)
    assert _report_row(report, "Asha Assessor")[-1] == "1"  # one open action

    # The learner's outcome changes only through the assessor's new decision.
    _decide(sub.rounds[-1], task, team["assessor"], met=False)
    db.session.expire_all()
    sub = db.session.get(Submission, sub.id)
    assert sub.reassess is False and sub.status == "referred"
    review = db.session.scalar(select(IqaReview).where(IqaReview.verdict == "disagree"))
    assert review.action_closed_at is not None
    row = _report_row(client.get("/iqa/report").get_data(as_text=True), "Asha Assessor")
    released, sampled, reviewed, agreement, open_actions = row
    assert released == "3"  # two first decisions and the new one
    assert reviewed == "2" and agreement == "50% (1 of 2)" and open_actions == "0"
    assert "Action closed" in client.get(
        f"/iqa/samples/{_sample_of(disputed).id}").get_data(as_text=True)


def test_a_second_review_is_added_not_overwritten(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=0)
    sample = _sample_of(_release(team["learners"][0], task, team["assessor"], met=True))
    auth.login(team["iqa"])
    post_form(client, f"/iqa/samples/{sample.id}", data={"verdict": "agree",
                                                         "comments": "First look."})
    post_form(client, f"/iqa/samples/{sample.id}", data={"verdict": "agree",
                                                         "comments": "Second look."})
    comments = list(db.session.scalars(select(IqaReview.comments).order_by(IqaReview.id)))
    assert comments == ["First look.", "Second look."]


def test_an_iqa_cannot_review_their_own_decision(client, auth, make_user, make_cohort, task):
    both = make_user(roles=["assessor", "iqa"], name="Dual Role")
    learner = make_user("learner")
    make_cohort("Small", learners=[learner], assessors=[both], iqas=[both])
    _plan(both, both, rate=100)
    sample = _sample_of(_release(learner, task, both, met=True))
    auth.login(both)
    page = client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True)
    assert "You made this decision, so another IQA must review it." in page
    page_token = csrf_from(client.get("/iqa/").get_data(as_text=True))
    refused = client.post(f"/iqa/samples/{sample.id}", data={
        "csrf_token": page_token, "verdict": "agree"})
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count(IqaReview.id))) == 0


# ---- access (the role x URL matrix for these pages is in test_access.py) ----

def test_sample_access_is_per_cohort_and_per_role(client, auth, team, task, make_user):
    _plan(team["assessor"], team["iqa"], rate=0)
    decision = _release(team["learners"][0], task, team["assessor"], met=True)
    sample = _sample_of(decision)
    url = f"/iqa/samples/{sample.id}"
    auth.login(team["other_iqa"])
    assert client.get(url).status_code == 403
    assert "Learner 0" not in client.get("/iqa/").get_data(as_text=True)
    assert "Learner 0" not in client.get("/iqa/decisions").get_data(as_text=True)
    token = csrf_from(client.get("/iqa/").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "verdict": "agree"}).status_code == 403
    auth.logout()
    for role_user in (team["learners"][0], team["assessor"], team["coordinator"],
                      make_user("admin")):
        auth.login(role_user)
        assert client.get(url).status_code == 403
        auth.logout()
    assert db.session.scalar(select(func.count(IqaReview.id))) == 0


def test_an_unsampled_decision_cannot_be_reviewed_or_picked_from_another_cohort(
        client, auth, team, task, make_user):
    _plan(team["assessor"], team["iqa"], rate=0)
    _plan(team["other_assessor"], team["iqa"], rate=0)
    a, b = team["learners"][:2]
    _release(a, task, team["assessor"], met=True)
    unsampled = _release(b, task, team["assessor"], met=True)
    assert unsampled.id not in _sampled_ids()
    missing = (db.session.scalar(select(func.max(IqaSample.id))) or 0) + 1
    auth.login(team["iqa"])
    assert client.get(f"/iqa/samples/{missing}").status_code == 404
    token = csrf_from(client.get("/iqa/").get_data(as_text=True))
    assert client.post(f"/iqa/samples/{missing}", data={
        "csrf_token": token, "verdict": "agree"}).status_code == 404
    # Picking a decision from a cohort the IQA does not cover is refused.
    _release(team["outsider"], task, team["other_assessor"], met=True)  # sampled by the plan
    second_outsider = make_user("learner", name="Second Outsider")
    cohorts.enrol(second_outsider, db.session.scalar(select(Cohort).where(
        Cohort.name == "Thursday group")))
    db.session.commit()
    elsewhere = _release(second_outsider, task, team["other_assessor"], met=True)
    assert elsewhere.id not in _sampled_ids()
    assert client.post(f"/iqa/decisions/{elsewhere.id}/sample",
                       data={"csrf_token": token}).status_code == 403
    assert elsewhere.id not in _sampled_ids()
    assert client.post("/iqa/decisions/99999/sample",
                       data={"csrf_token": token}).status_code == 404


# ---- the report ----

def _report_row(html: str, name: str) -> list[str]:
    row = re.search(rf'<th scope="row">{re.escape(name)}</th>(.*?)</tr>', html, re.S)
    assert row, f"no report row for {name}"
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def test_report_scope(client, auth, team, task, make_user):
    _plan(team["assessor"], team["iqa"], rate=0)
    _plan(team["other_assessor"], team["iqa"], rate=0)
    _release(team["learners"][0], task, team["assessor"], met=True)
    _release(team["learners"][1], task, team["assessor"], met=True)
    _release(team["outsider"], task, team["other_assessor"], met=False)
    auth.login(team["iqa"])
    mine = client.get("/iqa/report").get_data(as_text=True)
    assert "Omar Other" not in mine
    assert _report_row(mine, "Asha Assessor") == ["2", "1 (50% of released)", "0",
                                                  "No reviews yet", "0"]
    auth.logout()
    auth.login(team["other_coordinator"])
    theirs = client.get("/iqa/report").get_data(as_text=True)
    assert "Asha Assessor" not in theirs
    assert _report_row(theirs, "Omar Other")[:2] == ["1", "1 (100% of released)"]
    auth.logout()
    auth.login(make_user("admin"))
    everyone = client.get("/iqa/report").get_data(as_text=True)
    assert _report_row(everyone, "Asha Assessor")[0] == "2"
    assert _report_row(everyone, "Omar Other")[0] == "1"
    assert "All assessors" in everyone


def test_report_query_count_is_fixed(client, auth, make_user, make_cohort, task,
                                     count_queries):
    iqa_id = make_user("iqa").id

    def assessor_with_work(n: int):
        iqa = db.session.get(User, iqa_id)
        assessor = make_user("assessor")
        learners = [make_user("learner") for _ in range(2)]
        make_cohort(f"Group {n}", learners=learners, assessors=[assessor], iqas=[iqa])
        _plan(assessor, iqa, rate=0)
        for i, learner in enumerate(learners):
            decision = _release(learner, task, assessor, met=i == 0)
            db.session.add(IqaReview(sample=_sample_of(decision), iqa_id=iqa.id,
                                     verdict="agree" if i == 0 else "disagree",
                                     action="" if i == 0 else "Check again."))
        db.session.commit()

    def measure():
        db.session.expunge_all()  # each request starts from an empty session, as in production
        with count_queries() as counted:
            page = client.get("/iqa/report").get_data(as_text=True)
        return counted, page

    assessor_with_work(0)
    auth.login(db.session.get(User, iqa_id))
    few, _ = measure()
    for n in range(1, 6):
        assessor_with_work(n)
    many, page = measure()
    assert page.count('<th scope="row">Assessor ') == 6
    assert "50% (1 of 2)" in page
    assert many.count == few.count, "\n".join(many.statements)


# ---- markup ----

@needs_checker
def test_iqa_pages_are_valid_html(client, auth, team, task, tmp_path):
    _plan(team["assessor"], team["iqa"], rate=0)
    decision = _release(team["learners"][0], task, team["assessor"], met=False)
    _release(team["learners"][1], task, team["assessor"], met=False)  # left for picking
    sample = _sample_of(decision)
    auth.login(team["iqa"])
    post_form(client, f"/iqa/samples/{sample.id}", data={"verdict": "disagree",
                                                         "action": "Check Part B."})
    pages = {"sample": "/iqa/", "decisions": "/iqa/decisions", "plans": "/iqa/plans",
             "report": "/iqa/report", "review": f"/iqa/samples/{sample.id}"}
    for name, url in pages.items():
        (tmp_path / f"{name}.html").write_text(client.get(url).get_data(as_text=True))
    (tmp_path / "review-error.html").write_text(post_form(
        client, f"/iqa/samples/{sample.id}", data={"verdict": "disagree"}).get_data(
        as_text=True))
    (tmp_path / "plans-error.html").write_text(post_form(client, "/iqa/plans", data={
        "assessor": team["assessor"].id, f"plan-{team['assessor'].id}-rate": "x"}).get_data(
        as_text=True))
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)
