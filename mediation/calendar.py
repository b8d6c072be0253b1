"""Deadline engine for labour-dispute arbitration/mediation cases.

Legal basis: 《劳动人事争议仲裁办案规则》附则 — periods of "3日、5日、10日" are counted in
working days (工作日); periods of "15日、45日" in calendar days (自然日); a period whose last day
falls on a statutory holiday or rest day ends on the first working day after it.

Working days follow the PRC official calendar, including 调休 make-up workdays (some Saturdays
and Sundays are working days), as published by the State Council General Office each year and
packaged by the ``chinesecalendar`` library (import name ``chinese_calendar``).

The library only has data for a bounded range of years (2004–2026 in 1.11.0).  Outside that
range this module falls back to "Monday–Friday are working days", which ignores holidays and
make-up days; :func:`is_covered` tells callers whether a date was computed from official data,
and :data:`CALENDAR_VERSION` records which data set was used.

All functions are pure: no function reads the system clock; every date is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import version

import chinese_calendar

__all__ = [
    "CALENDAR_VERSION",
    "DayUnit",
    "Period",
    "add_working_days",
    "due_date",
    "is_covered",
    "is_overdue",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]

CALENDAR_VERSION: str = f"chinesecalendar-{version('chinesecalendar')}"
"""Identifies the holiday data set used, e.g. ``"chinesecalendar-1.11.0"``."""

_ONE_DAY = timedelta(days=1)


class DayUnit(StrEnum):
    """How the days of a :class:`Period` are counted."""

    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class Period:
    """A statutory period, e.g. ``Period(5, DayUnit.WORKING)``, ``Period(45, DayUnit.CALENDAR)``."""

    days: int
    unit: DayUnit

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"period days must be >= 0, got {self.days}")
        # Accept the plain string values too ("working" / "calendar"), normalised to the enum.
        object.__setattr__(self, "unit", DayUnit(self.unit))


def _official_workday(d: date) -> bool | None:
    """The library's answer for ``d``, or ``None`` when the library has no data for its year."""
    if isinstance(d, datetime):  # the library reads a datetime as its date
        d = d.date()
    workdays = _official_workdays(d.year)
    if workdays is None:
        return None
    return d in workdays


@cache
def _official_workdays(year: int) -> frozenset[date] | None:
    """Every working day of ``year`` by the library, or ``None`` when it has no data for it.

    Asked once per year, day by day, through the library's public ``is_workday``; later
    lookups are a set membership test. (The library re-validates its coverage on every
    call — a ``min``/``max`` over all its holidays — which made date arithmetic the largest
    single cost of a bulk import.) The data set is fixed for the process (it is the
    installed package, see :data:`CALENDAR_VERSION`), so the cache never goes stale.
    """
    day = date(year, 1, 1)
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None
    days: set[date] = set()
    while day.year == year:
        if chinese_calendar.is_workday(day):
            days.add(day)
        day += _ONE_DAY
    return frozenset(days)


def is_covered(d: date) -> bool:
    """True if ``d`` is within the official holiday data; False means the Mon–Fri fallback."""
    return _official_workday(d) is not None


def is_working_day(d: date) -> bool:
    """True if ``d`` is a working day (official calendar, or Mon–Fri outside its coverage)."""
    official = _official_workday(d)
    if official is None:
        return d.weekday() < 5
    return official


def next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, otherwise the first working day after ``d``."""
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` returns ``start`` unchanged, whether or not it is a working day.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    d = start
    remaining = n
    while remaining > 0:
        d += _ONE_DAY
        if is_working_day(d):
            remaining -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """Number of working days in the half-open interval ``(start, end]``; 0 if ``end <= start``."""
    count = 0
    d = start + _ONE_DAY
    while d <= end:
        if is_working_day(d):
            count += 1
        d += _ONE_DAY
    return count


def due_date(start: date, period: Period) -> date:
    """Last day of ``period`` counted from ``start`` (the start day itself is not counted).

    * WORKING: the ``days``-th working day after ``start``.
    * CALENDAR: ``start + days`` calendar days; if that day is not a working day (weekend or
      statutory holiday), the first working day after it.
    """
    if period.unit is DayUnit.WORKING:
        return add_working_days(start, period.days)
    return next_working_day(start + timedelta(days=period.days))


def is_overdue(due_on: date, today: date) -> bool:
    """True once ``today`` is strictly after ``due_on`` (the due day itself is still in time)."""
    return today > due_on
