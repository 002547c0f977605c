"""Dates as coordinators type them: 1/9/2026, 2026-09-01, or 31 July 2027."""

from datetime import date

import pytest

from learning.cohorts.forms import parse_typed_date


@pytest.mark.parametrize("typed, meant", [
    ("1/9/2026", date(2026, 9, 1)), ("01/09/2026", date(2026, 9, 1)),
    ("2026-09-01", date(2026, 9, 1)), ("1.9.2026", date(2026, 9, 1)),
    ("31 July 2027", date(2027, 7, 31)), ("31 july 2027", date(2027, 7, 31)),
    ("31st Jul 2027", date(2027, 7, 31)), ("  31   July   2027 ", date(2027, 7, 31)),
    ("Saturday, 31 July 2027", date(2027, 7, 31)), ("1 Sept 2026", date(2026, 9, 1)),
    ("2nd Feb. 2027", date(2027, 2, 2)),
])
def test_a_date_typed_the_uk_way_is_read(typed, meant):
    assert parse_typed_date(typed) == meant


@pytest.mark.parametrize("typed", [
    "31 June 2027", "30 Febtember 2027", "July 31 2027", "31/13/2026", "1/9/0226",
    "tomorrow", "31 July", "", "12345"])
def test_anything_else_is_not_a_date(typed):
    assert parse_typed_date(typed) is None
