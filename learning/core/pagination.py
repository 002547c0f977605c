"""Long lists a page at a time, through Flask-SQLAlchemy's db.paginate."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Select

from learning.core.extensions import db
from learning.core.incoming import MAX_ID

#: Rows on one page of every list that has pages.
PER_PAGE = 25


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (from 1), how many pages, how many rows."""

    rows: list
    number: int
    pages: int
    total: int
    #: Page numbers for the pager: the first, the last, this one and its neighbours, with
    #: None where numbers are left out.
    numbers: tuple[int | None, ...] = ()

    def with_rows(self, rows: list) -> Page:
        """This page holding other rows: its models made into what the template shows."""
        return replace(self, rows=rows)


def paginate(query: Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Page `number` of `query`, which must select one model (db.paginate keeps only the
    first column of each row); two statements, the page and a count.

    A number below 1 gives the first page and one past the end the last: a bookmarked
    page 5 still shows something after rows have gone (that costs two more statements). A
    number too large for the database's OFFSET counts as past the end.
    """
    found = _paginate(query, min(max(1, number), MAX_ID), per_page)
    if not found.items and found.page > 1 and found.pages:
        found = _paginate(query, found.pages, per_page)
    pages = max(1, found.pages)
    return Page(list(found.items), min(found.page, pages), pages, found.total or 0,
                tuple(found.iter_pages(left_edge=1, left_current=1, right_current=1,
                                       right_edge=1)))


def _paginate(query: Select, number: int, per_page: int):
    # error_out=False: a page past the end is ours to handle, not a 404.
    return db.paginate(query, page=number, per_page=per_page, max_per_page=None,
                       error_out=False)
