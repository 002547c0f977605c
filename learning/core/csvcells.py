"""What goes into a CSV cell that people open in a spreadsheet: never a formula."""

from __future__ import annotations

from datetime import date, datetime

from learning.core.dates import local

#: Excel reads a UTF-8 file correctly only when it starts with a byte order mark.
BOM = "\ufeff"
#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float:
    """A value as written to the CSV; text that a spreadsheet would run as a formula is
    prefixed with a quote so it shows as text. Times are UK local time, to the minute."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    if kind is int or kind is float:
        return value
    if isinstance(value, datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(str(value))
