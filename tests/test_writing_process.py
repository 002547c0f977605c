"""The writing-process report (pure): timeline, sittings, pastes and the facts it states."""

from datetime import UTC, datetime, timedelta

import pytest

from learning.assessment import writing_process as wp
from learning.assessment.writing_process import Recorded, Version

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: Made up for these tests: a learner's own sentences about a fictional setting.
TYPED = ("At Little Acorns the key person noticed that Jayden arrived hungry three mornings in "
         "a row. She wrote it in the welfare log and told the designated lead the same day.\n\n"
         "The lead rang the health visitor, who had seen the same pattern at the two year "
         "check, and together they agreed to ask the family how things were at home.")
#: Made up: text a learner might bring in from somewhere else.
BROUGHT_IN = ("Multi agency working ensures that practitioners from education, health and "
              "social care coordinate their responses so that no concern about a child falls "
              "between services, and information sharing protocols support timely decisions.")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def words(text: str) -> int:
    return len(wp._words(text))


def paste(text: str, at: datetime, own: bool = False, chars: int | None = None) -> dict:
    return {"at": at.isoformat(), "chars": len(text) if chars is None else chars, "text": text,
            "own": own}


def typed_answer() -> wp.Report:
    """Written in one sitting of 40 minutes, growing a little at each save, nothing pasted."""
    parts = TYPED.split(" ")
    versions = [Version(i + 1, minutes(10 * (i + 1)),
                        words(" ".join(parts[:len(parts) * (i + 1) // 4])), "autosave")
                for i in range(4)]
    recorded = [Recorded(minutes(10 * (i + 1)), len(TYPED) // 4, 540, []) for i in range(4)]
    return wp.build(versions, recorded, TYPED, minutes(42))


def pasted_answer() -> wp.Report:
    """A short typed start, then a large paste three minutes before submitting."""
    start = "Partnership working matters."
    final = start + "\n\n" + BROUGHT_IN
    versions = [Version(1, minutes(0), words(start), "autosave"),
                Version(2, minutes(57), words(final), "autosave")]
    recorded = [Recorded(minutes(0), len(start), 30, []),
                Recorded(minutes(57), 0, 20, [paste(BROUGHT_IN, minutes(57))])]
    return wp.build(versions, recorded, final, minutes(60))


def test_a_typed_answer_says_it_was_typed():
    report = typed_answer()
    assert report.recorded and report.paste_share == 0.0 and report.paste_count == 0
    assert report.typed_chars == 4 * (len(TYPED) // 4) and report.active_seconds == 4 * 540
    assert len(report.sittings) == 1
    assert "No text was pasted into the answer from elsewhere." in report.facts
    assert any(f.startswith("About 36 minutes of writing was recorded") for f in report.facts)
    assert report.facts[0] == ("Written in 1 sitting, with 4 saved versions kept before it "
                               "was submitted.")
    assert [s.saves for s in report.sittings] == [4]


def test_a_pasted_answer_says_how_much_arrived_by_paste_and_when():
    report = pasted_answer()
    final_words = words("Partnership working matters.") + words(BROUGHT_IN)
    assert report.paste_share == pytest.approx(words(BROUGHT_IN) / final_words)
    share = round(report.paste_share * 100)
    assert f"{share} % of the final text arrived in 1 paste, 3 minutes before submitting." \
        in report.facts
    [largest] = report.largest
    assert (largest.chars, largest.kept, largest.where, largest.before_submit) == (
        len(BROUGHT_IN), 1.0, "paragraph 2", timedelta(minutes=3))
    assert "Text was pasted in 1 time" in " ".join(report.facts)


def test_the_typed_and_pasted_reports_read_differently():
    assert set(typed_answer().facts[1:]).isdisjoint(set(pasted_answer().facts[1:]))


@pytest.mark.parametrize("report", [typed_answer(), pasted_answer(), wp.build(
    [Version(1, T0, 3, "save")], [], "Three words here", minutes(1))])
def test_facts_never_accuse(report):
    text = " ".join(report.facts).lower()
    for word in ("ai", "cheat", "plagiar", "generated", "suspicious", "dishonest", "chatgpt"):
        assert word not in wp._words(text) and f" {word}" not in text


def test_without_the_script_the_report_has_the_versions_only():
    versions = [Version(1, minutes(0), 20, "save"), Version(2, minutes(15), 80, "save")]
    report = wp.build(versions, [], TYPED, minutes(20))
    assert not report.recorded
    assert (report.paste_share, report.active_seconds, report.typed_chars, report.largest) == (
        None, None, None, [])
    assert report.facts[-1].startswith("The writing page sent no details of typing or pasting")
    assert "The largest growth between two saves was 60 words, 5 minutes before submitting." \
        in report.facts
    assert [p.label for p in report.points] == ["Saved", "Saved", "Submitted"]


def test_pauses_over_half_an_hour_start_a_new_sitting():
    saves = [minutes(0), minutes(20), minutes(50), minutes(200), minutes(215), minutes(60 * 26)]
    versions = [Version(i + 1, t, 10 * (i + 1), "save") for i, t in enumerate(saves)]
    report = wp.build(versions, [], TYPED, minutes(60 * 26 + 5))
    assert [(s.start, s.end, s.saves) for s in report.sittings] == [
        (minutes(0), minutes(50), 3), (minutes(200), minutes(215), 2),
        (minutes(60 * 26), minutes(60 * 26 + 5), 1)]
    assert report.sittings[0].minutes == 50
    assert report.facts[0] == ("Written in 3 sittings over 1 day, with 6 saved versions kept "
                               "before it was submitted.")
    # Submitting long after the last save is a sitting of its own, with no save.
    late = wp.build(versions[:1], [], "a b", minutes(120))
    assert [s.saves for s in late.sittings] == [1, 0]
    # Exactly 30 minutes apart is the same sitting.
    same = wp.build([Version(1, minutes(0), 5, "save"), Version(2, minutes(30), 9, "save")], [],
                    "a b c", minutes(60))
    assert len(same.sittings) == 1


def test_the_timeline_squeezes_the_pauses_between_sittings():
    saves = [minutes(0), minutes(10), minutes(20), minutes(60 * 24 * 7), minutes(60 * 24 * 7 + 10)]
    versions = [Version(i + 1, t, 50 * (i + 1), "save") for i, t in enumerate(saves)]
    report = wp.build(versions, [], " ".join(["word"] * 300), minutes(60 * 24 * 7 + 20))
    xs = [p.x for p in report.points]
    assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == pytest.approx(1)
    assert all(0 <= p.y <= 1 for p in report.points) and report.points[-1].y == 1
    [pause] = report.breaks
    assert xs[2] < pause < xs[3]
    # A week away takes a small share of the width, not nearly all of it.
    assert xs[3] - xs[2] == pytest.approx(wp.BREAK_SHARE, abs=0.01)


def test_a_paste_that_was_deleted_again_is_not_in_the_final_text():
    recorded = [Recorded(minutes(5), 400, 600, [paste(BROUGHT_IN, minutes(2))])]
    report = wp.build([Version(1, minutes(5), words(TYPED), "autosave")], recorded, TYPED,
                      minutes(10))
    assert report.paste_share == 0.0 and report.paste_count == 1
    assert "None of the pasted text is in the final answer." in report.facts
    [fact] = report.largest
    assert (fact.kept, fact.where) == (0.0, "")


def test_text_moved_within_the_answer_is_not_counted_as_pasted():
    second = TYPED.split("\n\n")[1]
    recorded = [Recorded(minutes(5), len(TYPED), 600, [paste(second, minutes(4), own=True)])]
    report = wp.build([Version(1, minutes(5), words(TYPED), "autosave")], recorded, TYPED,
                      minutes(10))
    assert report.paste_share == 0.0 and report.paste_count == 0
    assert "1 paste moved text from within the answer itself; moved text is not counted as " \
        "pasted." in report.facts
    assert report.largest[0].own and report.largest[0].where == "paragraph 2"


def test_a_reworded_paste_counts_only_the_runs_still_there():
    # The learner kept the start of the pasted sentence and rewrote its end in their own words.
    kept = "Multi agency working ensures that practitioners from education, health and social care"
    final = kept + " all talk to each other when they are worried about Jayden."
    recorded = [Recorded(minutes(5), 60, 300, [paste(BROUGHT_IN, minutes(3))])]
    report = wp.build([Version(1, minutes(5), words(final), "autosave")], recorded, final,
                      minutes(6))
    assert report.paste_share == pytest.approx(words(kept) / words(final))
    assert report.largest[0].kept == pytest.approx(words(kept) / words(BROUGHT_IN))


def test_largest_pastes_come_first_and_are_capped():
    pastes = [paste(f"note number {i} " * (i + 1), minutes(i)) for i in range(8)]
    report = wp.build([Version(1, minutes(9), 10, "autosave")],
                      [Recorded(minutes(9), 0, 60, pastes)], "nothing of those", minutes(10))
    assert [p.chars for p in report.largest] == sorted((p["chars"] for p in pastes),
                                                       reverse=True)[:wp.LARGEST]
    assert report.pasted_chars == sum(p["chars"] for p in pastes)


def test_several_pastes_say_when_each_was_made():
    a = BROUGHT_IN
    b = "The designated safeguarding lead records every decision and the reason for it."
    final = a + "\n\n" + b
    recorded = [Recorded(minutes(58), 0, 10, [paste(a, minutes(50)), paste(b, minutes(58))])]
    report = wp.build([Version(1, minutes(58), words(final), "autosave")], recorded, final,
                      minutes(60))
    assert report.paste_share == 1.0
    assert "100 % of the final text arrived in 2 pastes, 10 minutes and 2 minutes before " \
        "submitting." in report.facts
    assert {p.where for p in report.largest} == {"paragraph 1", "paragraph 2"}


def test_found_in_matches_words_not_case_or_punctuation():
    final = wp._words("The Key Person, the lead; and the Health Visitor met.")
    where, kept = wp.found_in(final, wp._words("key person the lead and"))
    assert where == {1, 2, 3, 4, 5} and kept == 5
    # A paste shorter than a run must appear whole, in order.
    assert wp.found_in(final, wp._words("health visitor"))[0] == {7, 8}
    assert wp.found_in(final, wp._words("visitor health"))[0] == set()
    assert wp.found_in(final, []) == (set(), 0)


def test_conflict_versions_are_left_out():
    versions = [Version(1, minutes(0), 10, "save"), Version(2, minutes(5), 900, "conflict"),
                Version(3, minutes(8), 20, "save")]
    report = wp.build(versions, [], " ".join(["w"] * 20), minutes(9))
    assert [p.words for p in report.points] == [10, 20, 20]


def test_a_submission_with_no_saved_version_still_has_a_point():
    report = wp.build([], [], "one two", minutes(1))
    assert [(p.label, p.x, p.words) for p in report.points] == [("Submitted", 1.0, 2)]


@pytest.mark.parametrize("delta, said", [
    (timedelta(seconds=20), "less than a minute"), (timedelta(minutes=1), "1 minute"),
    (timedelta(minutes=3, seconds=10), "3 minutes"), (timedelta(minutes=60), "1 hour"),
    (timedelta(minutes=130), "2 hours 10 minutes"), (timedelta(days=4, hours=2), "4 days"),
    (timedelta(seconds=-5), "less than a minute")])
def test_durations_in_words(delta, said):
    assert wp.duration(delta) == said


def test_under_a_minute_of_writing_is_said_plainly():
    report = wp.build([Version(1, T0, 2, "autosave")], [Recorded(T0, 9, 20, [])], "two words",
                      minutes(1))
    assert "Less than a minute of writing was recorded (pauses over 2 minutes are not " \
        "counted), and 9 characters were typed." in report.facts


def test_the_headline_sums_it_up():
    assert pasted_answer().headline.endswith("% of the final text arrived by paste")
    assert typed_answer().headline == "1 sitting, no text pasted from elsewhere"
    assert wp.build([], [], "a", minutes(1)).headline == \
        "1 sitting, no typing or paste details"
