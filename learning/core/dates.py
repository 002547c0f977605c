"""Dates shown the UK way (22 November 2026) in the display time zone, from UTC storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

#: The one default for the display zone; DISPLAY_TIMEZONE overrides it.
DEFAULT_ZONE = "Europe/London"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE", DEFAULT_ZONE))


def zone_name() -> str:
    """The display zone configured for this app (DISPLAY_TIMEZONE, else Europe/London)."""
    return current_app.config.get("DISPLAY_TIMEZONE") or DEFAULT_ZONE


def local(value: datetime) -> datetime:
    if value.tzinfo is None:  # treat naive values as UTC: everything is stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone())


def uk_date(value: date | datetime | None) -> str:
    """22 November 2026 (datetimes converted to the display zone first)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return f"{value.day} {value:%B %Y}"


def uk_datetime(value: datetime | None) -> str:
    """22 November 2026 at 2:05pm, in the display zone."""
    if value is None:
        return ""
    t = local(value)
    hour = t.hour % 12 or 12
    return f"{t.day} {t:%B %Y} at {hour}:{t:%M}{'am' if t.hour < 12 else 'pm'}"


def iso(value: datetime | date | None) -> str:
    """Machine-readable form for <time datetime="...">."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).isoformat(timespec="minutes")
    return value.isoformat()


def local_today(now: datetime, zone: str | None = None) -> date:
    """The calendar date in the display zone (default Europe/London) at the aware UTC time `now`."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(zone or DEFAULT_ZONE)).date()


def start_of_day_utc(day: date, zone: str | None = None) -> datetime:
    """Midnight at the start of `day` in the display zone, as an aware UTC datetime."""
    return datetime.combine(day, time(0), ZoneInfo(zone or DEFAULT_ZONE)).astimezone(UTC)


def today() -> date:
    """Today's date in the app's display zone (deadlines and targets are UK calendar dates)."""
    return local_today(datetime.now(UTC), zone_name())


def init_app(app) -> None:
    app.jinja_env.filters["uk_date"] = uk_date
    app.jinja_env.filters["uk_datetime"] = uk_datetime
    app.jinja_env.filters["iso"] = iso
