"""Originality check: fingerprints, the index, and answers against the reference essays."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learning.assessment.originality import fingerprints as fp
from learning.assessment.originality import index as originality
from learning.assessment.originality import similar
from learning.assessment.originality.models import Fingerprint, SourceKind, TextSource
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from tests.conftest import ESSAYS

ROLES_ESSAY = "essay-who-keeps-children-safe.txt"

# Two passages of that reference essay (tests/data/essays/), copied word for word.
COPIED_1 = ("Partnership working in safeguarding is the habit of bringing these separate views "
            "together so that decisions rest on everything that is known rather than on one "
            "fragment of it.")
COPIED_2 = ("The police bring a different set of powers. They investigate whether a crime has "
            "been committed, they can interview suspects, and in an emergency they can remove a "
            "child to a safe place for a short time.")
# The same passages lightly edited: punctuation, case, and one word swapped per sentence.
EDITED_1 = ("PARTNERSHIP working in safeguarding is the habit of bringing these separate views "
            "together, so that decisions depend on everything that is known; rather than on one "
            "fragment of it!")
EDITED_2 = ("the police hold a different set of POWERS... They investigate whether a crime has "
            "been committed; they can interview suspects and in an emergency they can take a "
            "child to a safe place for a short time")
OWN_START = ("In my setting I have seen why people need to talk to each other. When our "
             "nursery noticed bruising on a toddler we phoned the duty team the same morning. ")
OWN_MIDDLE = " Looking back on that week, I think the quick phone call mattered most. "
OWN_END = " I now keep a note of every call so the next person knows what was agreed."

# Written for this test about partnership working; none of it comes from the essays.
ORIGINAL = """
Partnership working, as I understand it, means that everybody around a child pools what they
know instead of guarding it. A childminder might only notice that a boy arrives hungry on
Mondays; his teacher might see that he flinches when adults raise their voices; the dentist
might spot untreated decay. Taken one at a time none of these looks serious, but put on the
same table they tell a story that nobody could read alone. In our preschool the designated
lead keeps a chronology, so small worries are dated and can be compared later. When a worry
crosses the threshold she rings the front door service at the council, and afterwards we are
invited to a strategy meeting or a core group. My part is to bring facts, not guesses, to
record what I saw in the words the child used, and to follow the plan that is agreed even
when it feels slow. Good partnership also means challenge: if a referral seems to have
vanished, I may escalate it politely through the escalation policy. Parents are partners
too, unless involving them would put the child at greater risk, and we explain our concerns
to them honestly and early. Trust between agencies grows from small things such as returning
calls, sharing minutes quickly and remembering names.
"""

HASH_A_TO_E = 5271772647582334313
QUESTION = "Explain what is meant by partnership working in the context of safeguarding."


@pytest.fixture
def references(app):
    """The reference essays written for the tests, indexed."""
    added, already_indexed, problems = originality.add_reference_dir(ESSAYS)
    assert problems == [] and (added, already_indexed) == (2, 0)
    return ESSAYS


def covered(text: str, spans, part: str) -> float:
    """Share of `part`'s characters (it occurs once in text) inside the spans."""
    start = text.index(part)
    inside = sum(max(0, min(e, start + len(part)) - max(s, start)) for s, e in spans)
    return inside / len(part)


# ---- pure functions ----

def test_tokens_keep_their_place_in_the_original_text():
    text = "  The GP’s “Duty” – to SHARE! "
    tokens = fp.tokenise(text)
    assert [t.word for t in tokens] == ["the", "gps", "duty", "to", "share"]
    assert [text[t.start:t.end] for t in tokens] == ["The", "GP’s", "Duty", "to", "SHARE"]


def test_quotes_dashes_case_and_accents_do_not_change_the_hashes():
    plain = "the GP's \"duty\" to share information with the multi-agency team - a naive view"
    fancy = "The GP’s “duty” to SHARE information; with the multiagency team – a naïve view."
    assert fp.shingle_hashes(plain) == fp.shingle_hashes(fancy)
    assert fp.fingerprints(plain) == fp.fingerprints(fancy)


def test_hashes_are_stable_signed_64_bit_values():
    # Fixed value: stored fingerprints must mean the same in every process and release.
    assert fp.shingle_hash(["a", "b", "c", "d", "e"]) == HASH_A_TO_E
    words = [t.word for t in fp.tokenise(ORIGINAL)]
    rolled = fp.shingle_hashes(ORIGINAL)
    assert rolled == [fp.shingle_hash(words[i:i + fp.K]) for i in range(len(words) - fp.K + 1)]
    assert all(-(2**63) <= h < 2**63 for h in rolled)
    assert any(h < 0 for h in rolled) and any(h > 0 for h in rolled)


@pytest.mark.parametrize("text", ["", "   \n ", "!!! -- ...", "only four words here"])
def test_empty_and_short_texts_have_no_shingles_or_matches(text):
    assert fp.shingle_hashes(text) == []
    assert fp.fingerprints(text) == []
    assert fp.matched_spans(text, text) == []
    assert fp.matched_spans(text, ORIGINAL) == []
    assert fp.match_share(text, []) == 0.0


def test_a_match_shorter_than_the_minimum_passage_is_not_reported():
    seven = "children are best protected when professionals know"
    assert fp.matched_spans(seven, seven) == []
    assert fp.matched_spans(seven, seven, min_words=fp.K) != []


def test_a_passage_of_exactly_the_minimum_length_is_reported():
    sentence = "children are best protected when professionals share what they know"
    words = sentence.split()
    shortest = " ".join(words[:fp.MIN_PASSAGE_WORDS])
    answer = "I wrote this part myself. " + shortest + ", said our manager on Monday."
    source = "Quite another opening here. " + shortest + " - a line the essay ends with."
    [passage] = fp.matched_spans(answer, source)
    assert answer[passage.answer_start:passage.answer_end] == shortest
    assert source[passage.source_start:passage.source_end] == shortest
    one_short = " ".join(words[:fp.MIN_PASSAGE_WORDS - 1])
    assert fp.matched_spans(answer.replace(shortest, one_short),
                            source.replace(shortest, one_short)) == []


def test_the_index_finds_a_passage_of_exactly_the_minimum_length(app):
    """Winnowing keeps a fingerprint in every run of MIN_PASSAGE_WORDS shared words."""
    sentence = "every agency around the child brings one piece of the picture"
    shortest = " ".join(sentence.split()[:fp.MIN_PASSAGE_WORDS])
    source = originality.index_text("reference", "short.txt",
                                    "Quite another opening here. " + shortest + " - the end.")
    db.session.commit()
    answer = "I wrote this part myself. " + shortest + ", said our manager on Monday."
    report = originality.check(answer)
    [match] = report.matches
    assert match.source_id == source.id
    assert [(p.answer_text, p.words) for p in match.passages] == [(shortest,
                                                                   fp.MIN_PASSAGE_WORDS)]
    assert report.share == match.share == fp.MIN_PASSAGE_WORDS / report.words


def test_winnowing_keeps_a_fingerprint_in_every_window():
    hashes = fp.shingle_hashes(ORIGINAL)
    positions = [p for _, p in fp.winnow(hashes)]
    assert positions == sorted(set(positions))
    gaps = [b - a for a, b in zip([-1, *positions], [*positions, len(hashes)], strict=True)]
    assert max(gaps) <= fp.WINDOW
    assert len(positions) < len(hashes) * 0.6  # and far fewer than every shingle


def test_a_swapped_word_does_not_split_a_copied_passage():
    source = "Intro words first. " + COPIED_1 + " And then something else entirely here."
    edited = "My own opening line. " + COPIED_1.replace(" rest ", " draw ") + " The end."
    spans = fp.matched_spans(edited, source)
    assert len(spans) == 1
    passage = spans[0]
    assert edited[passage.answer_start:passage.answer_end] == COPIED_1.replace(
        " rest ", " draw ").rstrip(".")
    assert source[passage.source_start:passage.source_end] == COPIED_1.rstrip(".")


def test_match_share_counts_words_inside_passages():
    answer = "one two three four five six seven eight nine ten"
    assert fp.match_share(answer, [(0, len("one two three four five"))]) == 0.5
    assert fp.match_share(answer, [(0, len(answer)), (4, 7)]) == 1.0


def test_highlight_cuts_the_text_into_marked_and_unmarked_pieces():
    text = "abc def ghi jkl"
    pieces = fp.highlight(text, [(8, 11), (4, 7), (5, 6)])
    assert pieces == [("abc ", False), ("def", True), (" ", False), ("ghi", True),
                      (" jkl", False)]
    assert "".join(p for p, _ in pieces) == text
    assert fp.highlight(text, []) == [(text, False)]
    assert fp.highlight("", [(0, 3)]) == []


def test_highlight_has_no_empty_pieces_and_skips_empty_spans():
    text = "abc def ghi"
    assert fp.highlight(text, [(0, 3)]) == [("abc", True), (" def ghi", False)]
    assert fp.highlight(text, [(4, 4), (8, 11)]) == [("abc def ", False), ("ghi", True)]
    assert fp.highlight(text, [(8, 40)]) == [("abc def ", False), ("ghi", True)]


def test_winnowing_keeps_the_rightmost_of_equal_hashes_once():
    assert fp.winnow([5, 5, 5, 5, 5]) == [(5, 3), (5, 4)]
    assert fp.winnow([4, 1, 3, 1, 5, 6, 7, 0]) == [(1, 3), (0, 7)]
    assert fp.winnow([3, 1, 2]) == [(1, 1)]  # fewer hashes than a window: one window
    assert fp.winnow([]) == []


def test_merge_spans_joins_touching_and_overlapping_spans_in_order():
    assert fp.merge_spans([(3, 5), (0, 3), (8, 9), (6, 7)]) == [(0, 5), (6, 7), (8, 9)]
    assert fp.merge_spans([(0, 10), (2, 4)]) == [(0, 10)]


def test_match_share_counts_only_whole_words_inside_a_span():
    assert fp.match_share("alpha beta gamma", [(0, 8)]) == 1 / 3  # "be" of beta: not counted
    assert fp.match_share("alpha beta gamma", [(0, 10)]) == 2 / 3
    assert fp.match_share("alpha beta gamma", [(6, 10), (11, 16)]) == 2 / 3


def test_content_hash_is_the_same_for_the_same_words_retyped():
    assert fp.content_hash("The GP’s duty") == fp.content_hash("the  GPs DUTY!")
    assert fp.content_hash("The GP’s duty") != fp.content_hash("The GP’s duties")
    assert fp.content_hash(fp.analyse("a b")) == fp.content_hash("a b")


# Two copied sentences, and the source has them one after the other.
SENTENCE_A = "the local authority leads the multi agency safeguarding hub every day"
SENTENCE_B = "health visitors share notes with the school nurse before each review meeting"


@pytest.mark.parametrize(("inserted", "passages"), [(fp.MAX_GAP, 1), (fp.MAX_GAP + 1, 2)])
def test_words_added_between_copied_sentences_split_the_passage_only_past_max_gap(inserted,
                                                                                  passages):
    source = f"Intro. {SENTENCE_A} {SENTENCE_B} Outro words here."
    added = " ".join(["zebra", "quartz", "violin", "meadow", "copper", "lantern"][:inserted])
    answer = f"Mine. {SENTENCE_A} {added} {SENTENCE_B} End."
    spans = fp.matched_spans(answer, source)
    assert len(spans) == passages
    assert answer[spans[0].answer_start:spans[-1].answer_end] == f"{SENTENCE_A} {added} " \
                                                                 f"{SENTENCE_B}"


# ---- against the reference essays ----

def test_a_copied_answer_scores_high_and_names_the_essay(references):
    answer = OWN_START + COPIED_1 + OWN_MIDDLE + COPIED_2 + OWN_END
    report = originality.check(answer)
    assert report.share >= 0.4
    top = report.matches[0]
    assert (top.kind, top.label) == ("reference", ROLES_ESSAY)
    for part in (COPIED_1, COPIED_2):
        assert covered(answer, report.spans, part) >= 0.95
    assert covered(answer, report.spans, OWN_START) < 0.1
    # Side by side: each passage carries the essay's own wording.
    essay = (references / ROLES_ESSAY).read_text(encoding="utf-8-sig")
    for passage in top.passages:
        assert essay[passage.source_start:passage.source_end] == passage.source_text
        assert passage.answer_text == answer[passage.answer_start:passage.answer_end]
    assert sum(p.words for p in top.passages) >= 60


def test_a_lightly_edited_copy_still_scores_high(references):
    answer = OWN_START + EDITED_1 + OWN_MIDDLE + EDITED_2 + OWN_END
    report = originality.check(answer)
    assert report.share >= 0.3
    assert report.matches[0].label == ROLES_ESSAY
    for part in (EDITED_1, EDITED_2):
        assert covered(answer, report.spans, part) >= 0.8


def test_an_original_answer_scores_low(references):
    report = originality.check(ORIGINAL)
    assert report.words > 180
    assert report.share < 0.1


def test_the_check_is_two_indexed_queries_not_a_loop(references, count_queries):
    answer = OWN_START + COPIED_1 + OWN_MIDDLE + COPIED_2 + OWN_END
    originality.check(answer)  # loads the sentence vectors into memory (similar.py), once
    with count_queries() as q:
        originality.check(answer)
    # With the model installed, similar meaning asks at most two more, however many texts are
    # stored: has any vector changed, and the closest sources' vectors (similar.py).
    assert q.count <= 2 + 2 * (similar.model() is not None)
    assert q.count >= 2
    assert "GROUP BY text_fingerprint.source_id" in q.statements[0]


def test_a_long_answer_is_queried_in_chunks_with_the_same_result(references):
    essay = (references / ROLES_ESSAY).read_text(encoding="utf-8-sig")
    assert len(set(fp.shingle_hashes(essay))) > originality.CHUNK  # more than one chunk
    ranked = originality.candidates(fp.shingle_hashes(essay), n=5)
    assert db.session.get(TextSource, ranked[0][0]).label == ROLES_ESSAY
    report = originality.check(essay)
    assert report.share > 0.95 and report.matches[0].label == ROLES_ESSAY


# ---- the headline share ----

# Two passages of 14 words each, from two different sources, in an answer of 48 words.
PASSAGE_1 = "Every agency around the child brings one piece of the picture to the meeting."
PASSAGE_2 = "Minutes are shared within a day so that nobody acts on an outdated plan."
TWO_SOURCES = (f"I started at the nursery in September. {PASSAGE_1} Our room has twelve toddlers "
               f"this year. {PASSAGE_2} That is what I learnt most.")


def _index_references(**texts):
    sources = {label: originality.index_text("reference", label, text)
               for label, text in texts.items()}
    db.session.commit()
    return sources


def test_the_headline_share_is_every_source_together_not_the_best_one(app):
    _index_references(**{
        "one.txt": f"Something else entirely. {PASSAGE_1} More unrelated words follow here.",
        "two.txt": f"A different opening sentence. {PASSAGE_2} Then a different ending."})
    report = originality.check(TWO_SOURCES)
    assert report.words == 48
    assert {m.label: m.share for m in report.matches} == {"one.txt": 14 / 48,
                                                         "two.txt": 14 / 48}
    assert report.share == 28 / 48  # each source has 29%; the answer has 58% matched
    assert [TWO_SOURCES[s:e] for s, e in report.spans] == [PASSAGE_1.rstrip("."),
                                                          PASSAGE_2.rstrip(".")]
    for match in report.matches:
        assert [TWO_SOURCES[s:e] for s, e in match.answer_spans] == [p.answer_text
                                                                     for p in match.passages]


def test_a_passage_found_in_two_sources_counts_once(app):
    _index_references(**{
        "both.txt": f"{PASSAGE_1} Written in between by someone else. {PASSAGE_2}",
        "first.txt": f"Something else entirely. {PASSAGE_1} More unrelated words follow here."})
    report = originality.check(TWO_SOURCES)
    assert [m.label for m in report.matches] == ["both.txt", "first.txt"]  # most matched first
    assert [m.share for m in report.matches] == [28 / 48, 14 / 48]
    assert report.share == 28 / 48
    assert report.compared == 2


def test_sources_with_equal_shares_list_references_before_submissions(app, make_user):
    learner = make_user()
    originality.index_text("submission", "Learner's work", f"Mine. {PASSAGE_1} Mine again.",
                           owner_user_id=learner.id)
    _index_references(**{"essay.txt": f"Essay start. {PASSAGE_1} Essay end."})
    report = originality.check(TWO_SOURCES)
    assert [m.kind for m in report.matches] == ["reference", "submission"]
    assert report.share == 14 / 48


def test_the_report_lists_at_most_limit_sources_but_counts_them_all(app):
    _index_references(**{
        f"{n}.txt": f"Source number {n} begins. {PASSAGE_1 if n % 2 else PASSAGE_2} The end."
        for n in range(1, 5)})
    report = originality.check(TWO_SOURCES, limit=1)
    assert len(report.matches) == 1 and report.compared == 4
    assert report.share == 28 / 48  # the sources left off the list still count


def test_a_passage_shows_the_source_words_either_side_cut_at_word_boundaries(app):
    before = "word " * 30 + "lead-in to the copied part:"
    after = "and then the essay goes on " + "longer " * 30
    _index_references(**{"long.txt": f"{before} {PASSAGE_1} {after}"})
    [passage] = originality.check(TWO_SOURCES).matches[0].passages
    assert passage.source_text == PASSAGE_1.rstrip(".")
    assert passage.words == 14
    assert passage.source_before.endswith("lead-in to the copied part: ")
    assert not passage.source_before.startswith(("ord", "rd", "d"))  # whole words only
    assert len(passage.source_before) <= originality.CONTEXT_CHARS
    assert passage.source_after.startswith(". and then the essay goes on")
    assert not passage.source_after.endswith(" ") and passage.source_after.split()[-1] == "longer"
    assert len(passage.source_after) <= originality.CONTEXT_CHARS
    # Near the start and end of a source, everything there is is shown.
    _index_references(**{"short.txt": f"Just this. {PASSAGE_2} Fin."})
    short = next(m for m in originality.check(TWO_SOURCES).matches if m.label == "short.txt")
    assert (short.passages[0].source_before, short.passages[0].source_after) == ("Just this. ",
                                                                               ". Fin.")


# ---- learners' submissions ----

def test_a_copy_of_another_learners_submission_names_it(app, make_user):
    a, b = make_user(), make_user()
    originality.index_text("submission", "Learner A, task 2.3, version 1", ORIGINAL,
                           owner_user_id=a.id, ref="sub-1")
    db.session.commit()

    report = originality.check("I agree with this. " + ORIGINAL, exclude_owner_user_id=b.id)
    assert report.share > 0.9
    top = report.matches[0]
    assert (top.kind, top.owner_user_id, top.ref) == ("submission", a.id, "sub-1")

    # B hands in the same text: stored as B's own, not merged with A's.
    b_source = originality.index_text(SourceKind.SUBMISSION, "Learner B", ORIGINAL,
                                      owner_user_id=b.id, ref="sub-2")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TextSource)) == 2
    assert b_source.owner_user_id == b.id

    # A resubmitting their own work is not copying; B's copy of it still shows.
    mine = originality.check(ORIGINAL, exclude_owner_user_id=a.id)
    assert [(m.owner_user_id, m.ref) for m in mine.matches] == [(b.id, "sub-2")]
    only_a = originality.check(ORIGINAL, exclude_owner_user_id=a.id, exclude_ref="sub-2")
    assert only_a.matches == () and only_a.share == 0.0


def test_resubmitting_the_same_text_is_not_indexed_twice(app, make_user):
    a = make_user()
    first = originality.index_text("submission", "v1", ORIGINAL, owner_user_id=a.id, ref="s1")
    again = originality.index_text("submission", "v2", "  " + ORIGINAL.upper(),
                                   owner_user_id=a.id, ref="s2")
    db.session.commit()
    assert again.id == first.id
    rows = db.session.scalar(select(func.count()).select_from(Fingerprint))
    assert rows == len(fp.fingerprints(ORIGINAL))


def test_the_task_question_is_not_a_match(app, make_user):
    a, b = make_user(), make_user()
    originality.index_text("submission", "A", QUESTION + " " + OWN_START + OWN_END,
                           owner_user_id=a.id)
    db.session.commit()
    answer = QUESTION + " " + ORIGINAL
    assert originality.check(answer, exclude_owner_user_id=b.id).share > 0
    assert originality.check(answer, exclude_owner_user_id=b.id, ignore=QUESTION).matches == ()


def test_forgetting_a_learner_removes_their_texts(app, make_user):
    a = make_user()
    originality.index_text("submission", "A", ORIGINAL, owner_user_id=a.id)
    db.session.commit()
    assert originality.forget_learner(a.id) == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Fingerprint)) == 0
    assert originality.check(ORIGINAL).matches == ()


def test_forgetting_a_learner_keeps_everyone_elses_texts_and_is_audited(app, make_user):
    a, b = make_user(), make_user()
    originality.index_text("submission", "A1", ORIGINAL, owner_user_id=a.id)
    originality.index_text("submission", "A2", TWO_SOURCES, owner_user_id=a.id)
    kept = originality.index_text("submission", "B", OWN_START + COPIED_1 + OWN_END,
                                  owner_user_id=b.id)
    reference = originality.index_text("reference", "essay.txt", COPIED_2 + OWN_MIDDLE)
    db.session.commit()
    kept_rows = db.session.scalar(select(func.count()).select_from(Fingerprint).where(
        Fingerprint.source_id.in_([kept.id, reference.id])))
    assert originality.forget_learner(a.id) == 2
    db.session.commit()
    assert set(db.session.scalars(select(TextSource.label))) == {"B", "essay.txt"}
    assert db.session.scalar(select(func.count()).select_from(Fingerprint)) == kept_rows > 0
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "originality.forget_learner"))
    assert event.detail == {"learner_id": a.id, "removed": 2}


# ---- loading reference essays ----

def test_add_reference_dir_reports_bad_files_and_is_idempotent(app, tmp_path):
    for essay in ESSAYS.glob("*.txt"):
        shutil.copy(essay, tmp_path / essay.name)
    (tmp_path / "with-bom.txt").write_bytes("\ufeff".encode() + ORIGINAL.encode())
    (tmp_path / "windows-1252.txt").write_bytes(
        "Caf\u00e9 culture \u2013 a \u201cdifferent\u201d essay".encode("cp1252") * 5)
    (tmp_path / "notes.md").write_text("not a reference")
    count = len(list(ESSAYS.glob("*.txt"))) + 1

    added, already_indexed, problems = originality.add_reference_dir(tmp_path)
    assert (added, already_indexed) == (count, 0)
    assert len(problems) == 1 and "windows-1252.txt" in problems[0]
    assert "UTF-8" in problems[0]
    labels = set(db.session.scalars(select(TextSource.label)))
    assert "with-bom.txt" in labels and "windows-1252.txt" not in labels
    bom = db.session.scalar(select(TextSource).where(TextSource.label == "with-bom.txt"))
    assert not bom.text.startswith("\ufeff")

    assert originality.add_reference_dir(tmp_path)[:2] == (0, count)


def test_add_reference_dir_with_no_folder_reports_it(app, tmp_path):
    added, already_indexed, problems = originality.add_reference_dir(tmp_path / "missing")
    assert (added, already_indexed) == (0, 0) and "not a folder" in problems[0]


def test_add_reference_dir_words_each_problem_and_keeps_going(app, tmp_path, monkeypatch,
                                                              caplog):
    (tmp_path / "a-too-short.txt").write_text("only seven words in this short file")
    (tmp_path / "b-exactly-eight.txt").write_text("eight words are just enough to be compared")
    (tmp_path / "c-locked.txt").write_text(ORIGINAL)
    (tmp_path / "d-latin-1.txt").write_bytes("Caf\u00e9 ".encode("latin-1") * 20)
    (tmp_path / "e-essay.txt").write_text(OWN_START + COPIED_1)
    read_bytes = Path.read_bytes

    def locked(path):
        if path.name == "c-locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", locked)
    # Alembic's logging setup (the migration test) disables loggers that already exist.
    monkeypatch.setattr(logging.getLogger(originality.__name__), "disabled", False)
    with caplog.at_level("INFO", logger=originality.__name__):
        added, skipped, problems = originality.add_reference_dir(tmp_path)
    assert (added, skipped) == (2, 0)
    assert problems == [
        f"{tmp_path / 'a-too-short.txt'}: only 7 words, too short to compare",
        f"{tmp_path / 'c-locked.txt'}: cannot be read (Permission denied)",
        f"{tmp_path / 'd-latin-1.txt'}: not UTF-8 text (byte 3); save it as UTF-8 and add it "
        "again"]
    assert set(db.session.scalars(select(TextSource.label))) == {"b-exactly-eight.txt",
                                                                  "e-essay.txt"}
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "originality.add_reference"))
    assert event.detail == {"folder": str(tmp_path),
                            "files": ["b-exactly-eight.txt", "e-essay.txt"]}
    assert f"originality: added 2 reference texts from {tmp_path}" in caplog.messages


def test_add_reference_dir_without_txt_files_reports_it(app, tmp_path):
    (tmp_path / "notes.md").write_text("not a reference")
    assert originality.add_reference_dir(tmp_path) == (
        0, 0, [f"{tmp_path}: no .txt files"])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "originality.add_reference")) == 0


def test_context_of_exactly_context_chars_is_shown_whole(app):
    """80 characters either side are shown as they are; only a longer side is cut at a word."""
    before = ("x" * 9 + " ") * 7 + "lead-in: " + "y"  # 80 characters
    after = "z" + (" " + "w" * 9) * 7 + " the end."  # 80 characters after the passage ends
    assert len(before) == originality.CONTEXT_CHARS == len("." + after[:-1])
    source = before[:-1] + " " + PASSAGE_1 + after[:-1]
    _index_references(**{"edge.txt": source})
    [passage] = originality.check(TWO_SOURCES).matches[0].passages
    assert passage.source_text == PASSAGE_1.rstrip(".")
    assert passage.source_before == before[:-1] + " "
    assert passage.source_after == "." + after[:-1]


# ---- the index: candidates and duplicates ----

def test_candidates_rank_by_shared_fingerprints_then_id_and_honour_exclusions(app, make_user):
    a, b = make_user(), make_user()
    half = originality.index_text("submission", "half", ORIGINAL[:len(ORIGINAL) // 2],
                                  owner_user_id=b.id, ref="r2")
    same_as_half = originality.index_text("reference", "copy of half",
                                          ORIGINAL[:len(ORIGINAL) // 2])
    originality.index_text("reference", "unrelated", TWO_SOURCES)
    most = originality.index_text("submission", "most", ORIGINAL, owner_user_id=a.id,
                                  ref="r1")  # added last: ranked first all the same
    db.session.commit()
    hashes = fp.shingle_hashes(ORIGINAL)
    ranked = originality.candidates(hashes)
    assert [sid for sid, _ in ranked] == [most.id, half.id, same_as_half.id]
    assert ranked[0][1] == len(fp.fingerprints(ORIGINAL)) > ranked[1][1] == ranked[2][1]
    assert [sid for sid, _ in originality.candidates(hashes, n=2)] == [most.id, half.id]
    assert [sid for sid, _ in originality.candidates(hashes, exclude_owner_user_id=a.id)] == [
        half.id, same_as_half.id]
    assert [sid for sid, _ in originality.candidates(hashes, exclude_ref="r2")] == [
        most.id, same_as_half.id]
    assert [sid for sid, _ in originality.candidates(
        hashes, exclude_owner_user_id=a.id, exclude_ref="r2")] == [same_as_half.id]
    assert originality.candidates([]) == []


def test_what_counts_as_the_same_text_already_indexed(app, make_user):
    a = make_user()
    first = originality.index_text("reference", "one.txt", ORIGINAL)
    assert originality.index_text("reference", "two.txt", ORIGINAL.upper()).id == first.id
    # The same words as a submission, by nobody or by a learner, are separate texts.
    unowned = originality.index_text("submission", "no owner", ORIGINAL)
    assert unowned.id != first.id
    assert originality.index_text("submission", "again", ORIGINAL).id == unowned.id
    owned = originality.index_text("submission", "A's", ORIGINAL, owner_user_id=a.id)
    assert owned.id not in (first.id, unowned.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TextSource)) == 3


def test_an_indexed_text_keeps_a_short_label_its_word_count_and_fingerprints(app, make_user):
    learner = make_user()
    source = originality.index_text("submission", "x" * 250, ORIGINAL,
                                    owner_user_id=learner.id, ref="sub-1")
    db.session.commit()
    stored = db.session.get(TextSource, source.id)
    words = fp.analyse(ORIGINAL).word_count
    assert (len(stored.label), stored.word_count, stored.ref, stored.kind,
            stored.owner_user_id) == (200, words, "sub-1", "submission", learner.id)
    assert stored.content_hash == fp.content_hash(ORIGINAL)
    rows = db.session.execute(select(Fingerprint.hash, Fingerprint.position).where(
        Fingerprint.source_id == source.id).order_by(Fingerprint.position)).all()
    assert [tuple(r) for r in rows] == fp.fingerprints(ORIGINAL)


def test_equal_shares_are_listed_by_the_source_added_first(app):
    sources = _index_references(**{
        "first.txt": f"Opening one. {PASSAGE_1} Closing one.",
        "second.txt": f"Opening two. {PASSAGE_1} Closing two."})
    report = originality.check(TWO_SOURCES)
    assert [m.source_id for m in report.matches] == [sources["first.txt"].id,
                                                     sources["second.txt"].id]
    assert report.compared == 2 and report.words == 48


def test_the_question_is_left_out_of_a_passage_from_a_source_that_also_has_it(app,
                                                                              make_user):
    a, b = make_user(), make_user()
    originality.index_text("submission", "A", f"{QUESTION} {OWN_START} {COPIED_1}",
                           owner_user_id=a.id)
    db.session.commit()
    answer = f"{QUESTION} {ORIGINAL} {COPIED_1}"
    [match] = originality.check(answer, exclude_owner_user_id=b.id, ignore=QUESTION).matches
    assert [p.answer_text for p in match.passages] == [COPIED_1.rstrip(".")]


def test_a_sentence_the_source_repeats_is_matched_to_its_first_place(app):
    filler = "Meanwhile in another part of the essay the writer turns to funding and budgets."
    source = f"{PASSAGE_1} {filler} {PASSAGE_1} The end."
    [passage] = fp.matched_spans(TWO_SOURCES, source)
    assert (passage.source_start, source[passage.source_start:passage.source_end]) == (
        0, PASSAGE_1.rstrip("."))
    twice = f"{PASSAGE_1} My own words come in here for a while. {PASSAGE_1}"
    spans = fp.matched_spans(twice, f"Start. {PASSAGE_1} End.")
    assert [twice[p.answer_start:p.answer_end] for p in spans] == [PASSAGE_1.rstrip(".")] * 2
    assert {(p.source_start, p.source_end) for p in spans} == {(7, 7 + len(PASSAGE_1) - 1)}




def test_the_check_compares_at_most_four_times_limit_sources_and_lists_limit(app):
    _index_references(**{f"{n:02}.txt": f"Source {n} starts here. {PASSAGE_1} And ends."
                         for n in range(21)})
    report = originality.check(TWO_SOURCES)
    # 5 listed by default, of the 20 compared (MIN_CANDIDATES); each covers PASSAGE_1.
    assert (len(report.matches), report.compared, report.share) == (5, 20, 14 / 48)
    assert originality.check(TWO_SOURCES, limit=6).compared == 21  # 6 x 4 = 24 allowed


def test_exactly_k_words_make_one_shingle_and_a_k_word_match_has_its_source_span():
    five = "children are best protected when"
    assert len(fp.shingle_hashes(five)) == 1
    answer, source = f"Mine: {five}, end", f"Theirs: {five}; fin"
    [passage] = fp.matched_spans(answer, source, min_words=fp.K)
    assert answer[passage.answer_start:passage.answer_end] == five
    assert source[passage.source_start:passage.source_end] == five


def test_content_hash_is_sha256_of_the_words_with_single_spaces():
    # Stored in every TextSource row: it must mean the same in every release.
    assert fp.content_hash("The GP’s  duty!") == hashlib.sha256(b"the gps duty").hexdigest()
