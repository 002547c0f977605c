"""Evidence per criterion: passages of an answer attached to criteria while marking, and
shown, marked and labelled, to the learner, the IQA and in the portfolio."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from learning.assessment import evidence as ev
from learning.assessment import marking
from learning.assessment import submissions as svc
from learning.assessment.models import Evidence, Submission
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa import sampling
from learning.privacy import erasure, export
from tests.conftest import csrf_from
from tests.htmlcheck import html_errors, needs_checker

ANSWER = ("Partners share what they know so a worry is seen early. The school nurse, the "
          "GP and social care each hold a piece of the picture.\n\n"
          "A joint plan means nobody waits for someone else to act.")


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def people(make_user, make_cohort):
    learner = make_user("learner", name="Maya Patel")
    assessor = make_user("assessor", name="Asha Assessor")
    iqa = make_user("iqa", name="Ivy Iqa")
    other = make_user("assessor", name="Omar Other")
    outsider = make_user("learner", name="Olu Outsider")
    make_cohort("Tuesday group", learners=[learner], assessors=[assessor], iqas=[iqa])
    make_cohort("Thursday group", learners=[outsider], assessors=[other])
    return {"learner": learner, "assessor": assessor, "iqa": iqa, "other": other}


def submit(learner, task, text=ANSWER) -> Submission:
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, text, None, utcnow())
    svc.submit(sub, task, learner, True, "", utcnow())
    return sub


def span(text, words):
    start = text.index(words)
    return f"{start}-{start + len(words)}"


def add(client, sub, criterion, passage, met="met", note="", quote=None, work=None):
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "passage": passage, "criterion": criterion,
            "evidence_met": met, "note": note,
            "work": work if work is not None else sub.rounds[-1].id}
    if quote is not None:  # what the browser sends for a selection
        data.update(selection=passage, quote=quote)
    return client.post(f"/marking/{sub.id}/evidence", data=data)


def release(client, sub, task, met=True):
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "feedback": "Clear.", "action": "release",
            "actions": "" if met else "Say more."}
    for cid in task.criteria:
        data[f"met-{cid}"] = "met" if met else "not-met"
    assert client.post(f"/marking/{sub.id}", data=data).status_code == 302
    summary = client.get(f"/marking/{sub.id}/release").get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', summary).group(1)
    assert client.post(f"/marking/{sub.id}/release", data={
        "csrf_token": csrf_from(summary), "digest": digest}).status_code == 302


def live():
    return list(db.session.scalars(select(Evidence).where(Evidence.withdrawn_at.is_(None))))


# ---- the pure parts ----

def test_passages_are_sentences_and_list_lines_with_their_offsets():
    text = "First point. Second one!\n\n- a list item\n- Another. Two.\nLast line"
    found = ev.passages(text)
    assert [p.text for p in found] == ["First point.", "Second one!", "a list item",
                                       "Another.", "Two.", "Last line"]
    assert all(text[p.start:p.end] == p.text for p in found)
    assert [p.number for p in found] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("start, end, quote, problem", [
    (0, 5, None, ""),
    (0, 5, "Partn", ""),
    (0, 5, "Other", "does not match"),
    (None, 5, None, "Choose a passage"),
    (5, 5, None, "not in this answer"),
    (-1, 5, None, "not in this answer"),
    (0, 10_000, None, "not in this answer"),
])
def test_offsets_are_checked_against_the_stored_text(start, end, quote, problem):
    found = ev.passage_problem(ANSWER, start, end, quote)
    assert (problem in found) if problem else found == ""


def test_overlapping_passages_are_cut_into_pieces_labelled_with_every_passage():
    text = "one two three four five"
    marks = [ev.Mark(1, 0, 13, "2.3 met"), ev.Mark(2, 8, 18, "2.4 not yet met", False)]
    [para] = ev.highlighted(text, marks)
    assert [(p.text, p.label) for p in para] == [
        ("one two ", "1: 2.3 met"),
        ("three", "1: 2.3 met; 2: 2.4 not yet met"),
        (" four", "2: 2.4 not yet met"),
        (" five", "")]
    assert "".join(p.text for p in para) == text


def test_a_passage_across_paragraphs_is_marked_in_each():
    text = "First paragraph here.\n\nSecond paragraph here."
    paras = ev.highlighted(text, [ev.Mark(1, 6, 30, "2.3 met")])
    assert [[(p.text, bool(p.marks)) for p in para] for para in paras] == [
        [("First ", False), ("paragraph here.", True)],
        [("Second ", True), ("paragraph here.", False)]]


# ---- adding and removing ----

def test_an_assessor_attaches_passages_and_removes_one(client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    first, second = task.criteria[0], task.criteria[-1]
    assert add(client, sub, first, span(ANSWER, "a worry is seen early"),
               note="Names why.").status_code == 302
    assert add(client, sub, first, span(ANSWER, "nobody waits"), met="not-met").status_code == 302
    # The browser's selection, with the spaces a selection often takes: kept without them.
    start = ANSWER.index("The school nurse") - 1
    words = ANSWER[start:ANSWER.index("the picture.") + len("the picture.") + 2]
    assert add(client, sub, second, f"{start}-{start + len(words)}",
               quote=words).status_code == 302
    rows = live()
    assert sorted((e.criterion_id, e.quote, e.met) for e in rows) == sorted([
        (first, "a worry is seen early", True), (first, "nobody waits", False),
        (second, words.strip(), True)])
    page = unescape(client.get(f"/marking/{sub.id}").get_data(as_text=True))
    assert "“a worry is seen early”" in page and "Names why." in page
    assert "[Evidence 1: " in page  # marked in the answer, labelled in words
    # Remove: kept, marked withdrawn, audited.
    gone = next(e for e in rows if e.quote == "nobody waits")
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    assert client.post(f"/marking/{sub.id}/evidence/withdraw", data={
        "csrf_token": csrf_from(page), "evidence_id": gone.id}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Evidence, gone.id).withdrawn_at is not None
    assert "nobody waits”" not in unescape(client.get(f"/marking/{sub.id}").get_data(
        as_text=True))
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("evidence.%"))))
    assert actions.count("evidence.add") == 3 and actions.count("evidence.withdraw") == 1


@pytest.mark.parametrize("passage, quote, message", [
    ("", None, "Choose a passage of the answer."),
    ("banana", None, "Choose a passage of the answer."),
    ("5-99999", None, "That passage is not in this answer."),
    ("0-8", "Not this", "The selected text does not match the answer"),
    ("999999999999999999999-3", None, "Choose a passage of the answer."),
])
def test_bad_offsets_get_a_clear_message_beside_the_field(client, auth, people, task, passage,
                                                          quote, message):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    refused = add(client, sub, task.criteria[0], passage, quote=quote)
    assert refused.status_code == 422
    html = unescape(refused.get_data(as_text=True))
    assert f'<a href="#evidence-passage">{message}' in html
    assert 'id="evidence-passage-error"' in html
    assert not live()


def test_an_unknown_criterion_or_a_stale_round_is_refused(client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    assert add(client, sub, "9.9", "0-8").status_code == 422
    stale = add(client, sub, task.criteria[0], "0-8", work=sub.rounds[-1].id + 1)
    assert stale.status_code == 422 and "A newer submission has arrived" in stale.get_data(
        as_text=True)
    assert not live()


# ---- who may ----

def test_another_cohorts_assessor_and_a_learner_cannot_attach_or_remove(client, auth, people,
                                                                       task):
    sub = submit(people["learner"], task)
    item = ev.add_evidence(sub.rounds[-1], task, people["assessor"], task.criteria[0], 0, 8,
                           None, True, "", utcnow())
    for who in (people["other"], people["learner"]):
        auth.login(who)
        token = csrf_from(client.get("/dashboard").get_data(as_text=True))
        assert client.post(f"/marking/{sub.id}/evidence", data={
            "csrf_token": token, "passage": "0-8", "criterion": task.criteria[0],
            "evidence_met": "met", "work": sub.rounds[-1].id}).status_code == 403
        assert client.post(f"/marking/{sub.id}/evidence/withdraw", data={
            "csrf_token": token, "evidence_id": item.id}).status_code == 403
        auth.logout()
    db.session.expire_all()
    assert [e.id for e in live()] == [item.id]


def test_without_a_csrf_token_nothing_is_attached(client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    client.application.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(f"/marking/{sub.id}/evidence", data={
        "passage": "0-8", "criterion": task.criteria[0], "evidence_met": "met",
        "work": sub.rounds[-1].id})
    assert refused.status_code == 400
    assert not live()


def test_after_release_the_evidence_is_read_only(client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    assert add(client, sub, task.criteria[0], span(ANSWER, "nobody waits")).status_code == 302
    [item] = live()
    release(client, sub, task)
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    assert "Add as evidence" not in page and "evidence-withdraw" not in page
    assert "“nobody waits”" in unescape(page)  # still listed, read-only
    late = add(client, sub, task.criteria[0], span(ANSWER, "a worry"))
    assert late.status_code == 422 and "already been decided" in late.get_data(as_text=True)
    token = csrf_from(page)
    client.post(f"/marking/{sub.id}/evidence/withdraw",
                data={"csrf_token": token, "evidence_id": item.id})
    db.session.expire_all()
    assert [e.id for e in live()] == [item.id]


def test_another_assessor_cannot_remove_a_colleagues_passage(people, task, make_cohort):
    sub = submit(people["learner"], task)
    work = sub.rounds[-1]
    item = ev.add_evidence(work, task, people["assessor"], task.criteria[0], 0, 8, None, True,
                           "", utcnow())
    with pytest.raises(ev.EvidenceError):
        ev.withdraw_evidence(work, people["other"], item.id, utcnow())
    assert db.session.get(Evidence, item.id).withdrawn_at is None


# ---- what the learner, the IQA and the portfolio see ----

HOSTILE = ("<script>alert(1)</script> Partners <b>share</b> & the GP \"knows\".\n\n"
           "<img src=x onerror=alert(2)> A plan helps.")


def test_the_learner_sees_the_passages_marked_only_after_release(client, auth, people, task):
    sub = submit(people["learner"], task, HOSTILE)
    auth.login(people["assessor"])
    assert add(client, sub, task.criteria[0], span(HOSTILE, "Partners <b>share</b>"),
               note="Good <i>point</i>").status_code == 302
    assert add(client, sub, task.criteria[-1], span(HOSTILE, "<img src=x onerror=alert(2)>"),
               met="not-met").status_code == 302
    auth.logout()
    auth.login(people["learner"])
    before = client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)
    assert "assessor's evidence" not in before and "Partners &lt;b&gt;" not in before
    auth.logout()
    auth.login(people["assessor"])
    release(client, sub, task, met=False)
    auth.logout()
    auth.login(people["learner"])
    page = client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)
    assert "The answer with the assessor's evidence" in page
    # Escaped, never markup: the answer's tags are text.
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>share" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    cat = client.application.extensions["catalog"]
    n1 = cat.criterion(task.criteria[0]).number
    n2 = cat.criterion(task.criteria[-1]).number
    assert re.search(r'<mark class="evidence evidence-met">Partners &lt;b&gt;share&lt;/b&gt;'
                     r'</mark><span class="evidence-label"> \[Evidence 1: ' + re.escape(n1)
                     + r' met\]</span>', page)
    assert f"[Evidence 2: {n2} not yet met]" in page
    assert "Good <i>point</i>" not in page


def test_a_resubmission_starts_afresh_and_the_old_round_keeps_its_passages(
        client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    add(client, sub, task.criteria[0], span(ANSWER, "nobody waits"), met="not-met")
    release(client, sub, task, met=False)
    auth.logout()
    # The learner rewrites: the old offsets would point at other words now.
    new_text = "Rewritten. " + ANSWER.replace("nobody waits", "no one is left waiting")
    svc.save_draft(sub, new_text, None, utcnow())
    svc.submit(sub, task, people["learner"], True, "", utcnow())
    auth.login(people["assessor"])
    page = unescape(client.get(f"/marking/{sub.id}").get_data(as_text=True))
    assert "“nobody waits”" not in page and "No evidence attached" in page
    add(client, sub, task.criteria[0], span(new_text, "no one is left waiting"))
    release(client, sub, task, met=True)
    auth.logout()
    auth.login(people["learner"])
    page = unescape(client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True))
    second = page.index("Submission 2:")
    first = page.index("Submission 1:")
    assert "“no one is left waiting”" in page[second:first]
    assert "“nobody waits”" in page[first:]
    assert ">nobody waits</mark>" in page[first:]
    assert "nobody waits" not in page[second:first]


def test_a_passage_withdrawn_after_release_still_shows_with_that_decision(people, task):
    sub = submit(people["learner"], task)
    work = sub.rounds[-1]
    item = ev.add_evidence(work, task, people["assessor"], task.criteria[0], 0, 8, None, True,
                           "", utcnow())
    criteria = {c: (True, "") for c in task.criteria}
    decision = marking.save_decision(work, task, people["assessor"], criteria, "Fine.", "",
                                     utcnow(), release=True)
    sub.reassess = True  # an IQA reopened it: the assessor may change the evidence again
    db.session.commit()
    ev.withdraw_evidence(work, people["assessor"], item.id, utcnow())
    assert ev.shown_with(decision, work.evidence) == [item]
    assert ev.current(work, people["assessor"]) == []


def test_the_iqa_and_the_portfolio_show_the_marked_answer(client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    add(client, sub, task.criteria[0], span(ANSWER, "a worry is seen early"), note="Why.")
    release(client, sub, task)
    auth.logout()
    decision = sub.rounds[-1].decisions[-1]
    sample = sampling.sample_by_hand(decision, people["iqa"], utcnow())
    db.session.commit()
    auth.login(people["iqa"])
    page = unescape(client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True))
    assert "The answer with the assessor's evidence" in page
    assert ">a worry is seen early</mark>" in page and "“a worry is seen early”" in page
    auth.logout()
    auth.login(people["learner"])
    learner = people["learner"].id
    for url in (f"/reports/learners/{learner}/portfolio",
                f"/reports/learners/{learner}/portfolio.html"):
        page = unescape(client.get(url).get_data(as_text=True))
        assert ">a worry is seen early</mark>" in page, url
        assert "“a worry is seen early”" in page and "Why." in page


# ---- a fixed number of statements, however many passages ----

def _statements(client, count_queries, url):
    db.session.expire_all()  # read by the request itself, not from this test's identity map
    with count_queries() as counted:
        assert client.get(url).status_code == 200
    return counted.statements


def test_the_marking_and_feedback_pages_read_the_passages_in_fixed_statements(
        client, auth, people, task, make_user, make_cohort, count_queries):
    other = make_user("learner")
    make_cohort("Wednesday group", learners=[other], assessors=[people["assessor"]])
    found = ev.passages(ANSWER)
    one, many = submit(people["learner"], task), submit(other, task)
    for sub, chosen in ((one, found[:1]), (many, found)):
        for p in chosen:
            ev.add_evidence(sub.rounds[-1], task, people["assessor"],
                            task.criteria[p.number % len(task.criteria)], p.start, p.end, None,
                            p.number % 2 == 0, "note", utcnow())
    auth.login(people["assessor"])
    counts = []
    for sub in (one, many):
        client.get(f"/marking/{sub.id}")
        counts.append(_statements(client, count_queries, f"/marking/{sub.id}"))
    assert len(counts[0]) == len(counts[1]) > 2, [len(c) for c in counts]
    criteria = {c: (True, "") for c in task.criteria}
    for sub in (one, many):
        marking.save_decision(sub.rounds[-1], task, people["assessor"], criteria, "Fine.", "",
                              utcnow(), release=True)
    auth.logout()
    counts = []
    for learner in (people["learner"], other):
        auth.login(learner)
        client.get(f"/tasks/{task.slug}/feedback")  # read once: the next visit writes nothing
        counts.append(_statements(client, count_queries, f"/tasks/{task.slug}/feedback"))
        page = unescape(client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True))
        auth.logout()
    assert len(counts[0]) == len(counts[1]) > 2, [len(c) for c in counts]
    assert page.count("[Evidence ") >= len(found)


@needs_checker
def test_the_pages_with_evidence_are_valid_html(client, auth, people, task, tmp_path):
    sub = submit(people["learner"], task, HOSTILE)
    auth.login(people["assessor"])
    add(client, sub, task.criteria[0], span(HOSTILE, "Partners <b>share</b>"), note="Why.")
    add(client, sub, task.criteria[-1], span(HOSTILE, "<b>share</b> & the GP"), met="not-met")
    marking_page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    # The answer's own text, twice on the page (marked, and as data for the selection
    # script), is never markup: not even a </script> closes the data early.
    assert "<script>alert" not in marking_page and "<img src=x" not in marking_page
    assert "\\u003c/script\\u003e" in marking_page
    (tmp_path / "marking.html").write_text(marking_page)
    (tmp_path / "marking-error.html").write_text(add(client, sub, task.criteria[0], "0-3",
                                                     quote="no").get_data(as_text=True))
    release(client, sub, task, met=False)
    (tmp_path / "marking-released.html").write_text(client.get(f"/marking/{sub.id}").get_data(
        as_text=True))
    auth.logout()
    sample = sampling.sample_by_hand(sub.rounds[-1].decisions[-1], people["iqa"], utcnow())
    db.session.commit()
    auth.login(people["iqa"])
    (tmp_path / "iqa.html").write_text(client.get(f"/iqa/samples/{sample.id}").get_data(
        as_text=True))
    auth.logout()
    auth.login(people["learner"])
    (tmp_path / "feedback.html").write_text(client.get(f"/tasks/{task.slug}/feedback")
                                            .get_data(as_text=True))
    learner = people["learner"].id
    (tmp_path / "portfolio.html").write_text(client.get(
        f"/reports/learners/{learner}/portfolio").get_data(as_text=True))
    (tmp_path / "portfolio-file.html").write_text(client.get(
        f"/reports/learners/{learner}/portfolio.html").get_data(as_text=True))
    assert html_errors(sorted(tmp_path.glob("*.html"))) == []


# ---- a person's data ----

def test_the_learners_export_holds_the_passages_and_erasure_blanks_their_words(
        app, people, task, make_user):
    sub = submit(people["learner"], task)
    work = sub.rounds[-1]
    start = ANSWER.index("nobody waits")
    ev.add_evidence(work, task, people["assessor"], task.criteria[0], start, start + 12, None,
                    False, "Say who acts.", utcnow())
    marking.save_decision(work, task, people["assessor"],
                          {c: (False, "") for c in task.criteria}, "More.", "Say who acts.",
                          utcnow(), release=True)
    data = export.records(people["learner"], app.extensions["catalog"])
    [task_data] = data["written_tasks"]
    [decision] = task_data["submissions"][0]["decisions"]
    assert decision["evidence"] == [{"criterion": task.criteria[0], "met": False,
                                     "passage": "nobody waits", "note": "Say who acts."}]
    erasure.erase(people["learner"], make_user("admin"), "asked", utcnow())
    db.session.commit()
    db.session.expire_all()
    [item] = db.session.scalars(select(Evidence))
    assert "nobody" not in item.quote and "Say who" not in item.note
    assert (item.criterion_id, item.met) == (task.criteria[0], False)


def test_the_release_summary_lists_the_passages_and_a_passage_added_since_stops_it(
        client, auth, people, task):
    sub = submit(people["learner"], task)
    auth.login(people["assessor"])
    add(client, sub, task.criteria[0], span(ANSWER, "nobody waits"), note="Clear.")
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "feedback": "Fine.", "actions": "",
            "action": "release", **{f"met-{c}": "met" for c in task.criteria}}
    client.post(f"/marking/{sub.id}", data=data)
    summary = unescape(client.get(f"/marking/{sub.id}/release").get_data(as_text=True))
    assert "Evidence from the answer" in summary and "“nobody waits”" in summary
    # Another tab adds a passage after the summary was shown: nothing is released.
    add(client, sub, task.criteria[0], span(ANSWER, "a worry is seen early"))
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', summary).group(1)
    refused = client.post(f"/marking/{sub.id}/release", data={
        "csrf_token": csrf_from(summary), "digest": digest})
    assert refused.status_code == 422 and "changed after you checked it" in unescape(
        refused.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).status == "being_marked"
