"""Retention: which learners' records are older than the retention period, and the period."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, func, select

from learning.core.extensions import db
from learning.people.models import Cohort, Enrolment, Role, User, UserRole

_PERIOD = re.compile(r"(\d{1,4})([ymd])", re.IGNORECASE)
_UNITS = {"y": ("year", "years"), "m": ("month", "months"), "d": ("day", "days")}
#: A hundred years in each unit: anything longer is a typing slip.
_MOST = {"y": 100, "m": 1200, "d": 36525}


@dataclass(frozen=True)
class Period:
    """A retention period: a number of years, months or days."""

    count: int
    unit: str  # "y", "m" or "d"

    def __str__(self) -> str:
        one, many = _UNITS[self.unit]
        return f"{self.count} {one if self.count == 1 else many}"

    def before(self, day: date) -> date:
        """The date this period before `day` (31 March less a month is 28 or 29 February)."""
        if self.unit == "d":
            return day - timedelta(days=self.count)
        months = self.count * (12 if self.unit == "y" else 1)
        year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
        month += 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_period(text: str) -> Period:
    """"6y", "18m" or "30d" (case and spaces ignored); ValueError with a message otherwise."""
    match = _PERIOD.fullmatch(re.sub(r"\s+", "", text or ""))
    if not match:
        raise ValueError(f"'{text}' is not a period: write a number and y, m or d, such as "
                         "6y (six years), 18m (eighteen months) or 30d (thirty days).")
    count = int(match.group(1))
    if count < 1:
        raise ValueError("The period must be at least 1 day, month or year.")
    period = Period(count, match.group(2).lower())
    if count > _MOST[period.unit]:
        raise ValueError(f"{period} is more than a hundred years: check the number.")
    return period


def due(cutoff: date) -> list[tuple[User, date]]:
    """Learners not yet erased whose every cohort has an end date before `cutoff`, with the
    last of those dates, oldest id first.

    A learner in any cohort without an end date, or ending on or after the cutoff (their
    current cohort, say), is not due; nor is a learner who was never in a cohort.
    """
    last_end = func.max(Cohort.ends_on)
    query = (
        select(User, last_end)
        .join(Enrolment, Enrolment.user_id == User.id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(User.erased_at.is_(None),
               exists().where(UserRole.user_id == User.id, UserRole.role == Role.LEARNER.value))
        .group_by(User.id)
        # count(ends_on) skips nulls: equal counts mean every cohort has an end date.
        .having(func.count(Enrolment.id) == func.count(Cohort.ends_on), last_end < cutoff)
        .order_by(User.id)
    )
    # HAVING last_end < cutoff: every row has a date.
    return [(user, ended) for user, ended in db.session.execute(query) if ended is not None]
