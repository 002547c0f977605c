"""The originality result on the marking page: grouped by source, each passage shown once."""

from learning.assessment.originality.grouping import group_matches


def _passage(start, end, text):
    return {"answer_start": start, "answer_end": end, "source_start": 0, "source_end": 1,
            "words": 9, "answer_text": text, "source_text": text, "source_before": "",
            "source_after": ""}


def test_one_learners_submissions_are_one_source_and_a_passage_is_shown_once():
    shared = _passage(0, 60, "the same nine words copied from a classmate's first answer")
    report = {"matches": [
        {"kind": "submission", "label": "Task, submission 1", "owner_user_id": 7, "ref": "a",
         "source_id": 1, "share": 0.4, "passages": [shared]},
        {"kind": "reference", "label": "essay.txt", "owner_user_id": None, "ref": "essay",
         "source_id": 3, "share": 0.3, "passages": [_passage(100, 160, "from the essay")]},
        {"kind": "submission", "label": "Task, submission 2", "owner_user_id": 7, "ref": "b",
         "source_id": 2, "share": 0.35,
         "passages": [shared, _passage(10, 50, "inside the first"), _passage(200, 260, "new")]},
    ]}
    groups = group_matches(report)
    assert [(g.kind, g.labels, g.share) for g in groups] == [
        ("submission", ["Task, submission 1", "Task, submission 2"], 0.4),
        ("reference", ["essay.txt"], 0.3)]
    assert [p["answer_text"] for p in groups[0].passages] == [shared["answer_text"], "new"]


def test_a_source_whose_passages_were_all_shown_keeps_its_name_without_them():
    shared = _passage(0, 60, "the same words")
    report = {"matches": [
        {"kind": "reference", "label": "one.txt", "ref": "one", "source_id": 1, "share": 0.5,
         "passages": [shared]},
        {"kind": "reference", "label": "two.txt", "ref": "two", "source_id": 2, "share": 0.5,
         "passages": [shared]}]}
    groups = group_matches(report)
    assert [(g.labels, len(g.passages)) for g in groups] == [(["one.txt"], 1), (["two.txt"], 0)]
    assert group_matches(None) == [] and group_matches({"matches": []}) == []
