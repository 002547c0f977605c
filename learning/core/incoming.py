"""What a request brings in, made safe before any view reads it: whole numbers in the path and
query string bounded to the database's integer range, and NUL bytes dropped from every field.

NUL (U+0000) is never text anyone typed (no keyboard makes it; a paste from a broken file or a
hostile request does), and PostgreSQL refuses it in any text column, so a search, a login or
an essay holding one was a 500 there. It is removed from every query-string and form value
(and name) as the request is read: an essay keeps every character the learner typed.

A number that no row can have (an id of 99999999999999999999, a page past 2**31) would
otherwise reach the database and fail there: SQLite cannot bind it and PostgreSQL refuses it,
and either way the person sees a 500. Here it is simply not found (a path) or ignored (a
filter), as any other id that matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter

#: The largest id a row can have: PostgreSQL's INTEGER, the type of every primary key (SQLite's
#: is larger, so this bound holds for both).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a whole number from 0 to MAX_ID; anything larger is a 404."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def db_int(text: str) -> int:
    """A query-string or form value as an id or page number the database can hold.

    For `request.args.get(name, type=db_int)`: a value that is not a whole number from 0 to
    MAX_ID raises ValueError, which Werkzeug turns into the default (None unless given), so an
    impossible filter is ignored rather than sent to the database.
    """
    value = int(text.strip())
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"{value} is outside 0..{MAX_ID}")
    return value


def without_nul(value: Any) -> Any:
    """A text value with every NUL byte removed; anything else (an uploaded file) as it is."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _pairs(mapping: Mapping | Iterable | None) -> Iterator[tuple[Any, Any]]:
    for key, value in MultiDict(mapping).items(multi=True):
        yield without_nul(key), without_nul(value)


class TextParameters(ImmutableMultiDict):
    """request.args, request.form (and the names in request.files) without NUL bytes."""

    def __init__(self, mapping: Mapping | Iterable | None = None) -> None:
        super().__init__(list(_pairs(mapping)))


class IncomingRequest(Request):
    parameter_storage_class = TextParameters


def init_app(app: Flask) -> None:
    """Read every request through IncomingRequest, and bound `<int:...>` in every route; call
    before the blueprints are registered."""
    app.request_class = IncomingRequest
    app.url_map.converters["int"] = IdConverter
