"""Accepted short answers as a learner reads them on the review page."""

import pytest

from learning.quizzes.display import accepted_answers, as_written


@pytest.mark.parametrize("pattern, shown", [
    ("integrated care board", "integrated care board"),
    ("*integrated care board*", "integrated care board"),
    ("safeguard*ing", "safeguarding"),
    ("5\\* rating", "5* rating"),
    ("  lots   of  space ", "lots of space"),
    ("*", ""),
])
def test_a_pattern_is_written_without_its_wildcards(pattern, shown):
    assert as_written(pattern) == shown


def test_each_fully_right_answer_once_and_no_wrong_or_partial_ones():
    answers = [{"text": "ICB", "fraction": 1}, {"text": "*icb*", "fraction": 1.0},
               {"text": "*", "fraction": 1}, {"text": "CCG", "fraction": 0.5},
               {"text": "NHS England", "fraction": 0}, {"text": "Integrated care board",
                                                        "fraction": 1}]
    assert accepted_answers(answers) == ["ICB", "Integrated care board"]
