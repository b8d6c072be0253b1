"""Deadline engine for labour-dispute arbitration/mediation cases.

Legal basis: 《劳动人事争议仲裁办案规则》附则 — periods of "3日、5日、10日" are counted in
working days (工作日); periods of "15日、45日" in calendar days (自然日); a period whose last day
falls on a statutory holiday or rest day ends on the first working day after it.

Working days follow the PRC official calendar, including 调休 make-up workdays (some Saturdays
and Sundays are working days), as published by the State Council General Office each year
(《国务院办公厅关于XXXX年部分节假日安排的通知》, issued in November or December).

Two sources, in this order, answer for a year (:class:`HolidayCalendar`):

1. a notice an operator loaded (:class:`YearNotice`, recorded in the event store by
   ``mediation.calendar_book``; the newest version of each year wins);
2. the ``chinesecalendar`` package (import name ``chinese_calendar``), 2004–2026 in 1.11.

A year that neither covers falls back to "Monday–Friday are working days"; callers ask
:meth:`HolidayCalendar.covers` / :meth:`HolidayCalendar.covers_deadline` and flag such dates.

All functions are pure: no function reads the system clock or a file; every date is a
parameter. The module-level functions (``due_date`` and the rest) answer from the calendar
*in force*: the one the application installed for the current command with
:func:`in_force` (as it installs the recording clock), or the package alone outside one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import version
from typing import Any

import chinese_calendar

__all__ = [
    "BASE",
    "CALENDAR_VERSION",
    "CalendarWarning",
    "DayUnit",
    "Holiday",
    "HolidayCalendar",
    "Period",
    "YearNotice",
    "add_working_days",
    "calendar_warning",
    "current",
    "due_date",
    "in_force",
    "is_covered",
    "is_overdue",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]

CALENDAR_VERSION: str = f"chinesecalendar-{version('chinesecalendar')}"
"""Identifies the package's holiday data set, e.g. ``"chinesecalendar-1.11.0"``."""

_ONE_DAY = timedelta(days=1)

# A working-day period of the rules (at most 10 working days) counts days of at most the
# month before its last day; a calendar-day period only looks at its last day (and rolls).
_DEADLINE_LOOKBACK = timedelta(days=31)

# From this day of the year on, next year's notice is expected (it is usually published in
# November or December) and its absence is reported.
WARN_FROM_MONTH_DAY = (12, 1)


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


# ---------------------------------------------------------------------- a year's notice


@dataclass(frozen=True)
class Holiday:
    """One item of a notice: days off ``first..last`` (inclusive) and its make-up workdays."""

    name: str
    first: date
    last: date
    workdays: tuple[date, ...] = ()

    def days(self) -> Iterator[date]:
        d = self.first
        while d <= self.last:
            yield d
            d += _ONE_DAY


@dataclass(frozen=True)
class YearNotice:
    """One year's State Council holiday notice (validated by ``mediation.calendar_file``)."""

    year: int
    reference: str  # e.g. 国办发明电〔2024〕12号
    issued_on: date
    holidays: tuple[Holiday, ...]
    title: str = ""

    @property
    def days_off(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.days())

    @property
    def make_up_workdays(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.workdays)

    def working_days(self) -> frozenset[date]:
        """Every working day of the year: Monday–Friday not off, plus the make-up days."""
        off, extra = self.days_off, self.make_up_workdays
        days: set[date] = set()
        d = date(self.year, 1, 1)
        while d.year == self.year:
            if d in extra or (d.weekday() < 5 and d not in off):
                days.add(d)
            d += _ONE_DAY
        return frozenset(days)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (plain JSON values; dates as ISO strings)."""
        return {
            "year": self.year,
            "reference": self.reference,
            "issued_on": self.issued_on.isoformat(),
            "title": self.title,
            "holidays": [
                {
                    "name": h.name,
                    "from": h.first.isoformat(),
                    "to": h.last.isoformat(),
                    "workdays": [w.isoformat() for w in h.workdays],
                }
                for h in self.holidays
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearNotice:
        return cls(
            year=int(data["year"]),
            reference=str(data["reference"]),
            issued_on=date.fromisoformat(data["issued_on"]),
            title=str(data.get("title", "")),
            holidays=tuple(
                Holiday(
                    name=str(h["name"]),
                    first=date.fromisoformat(h["from"]),
                    last=date.fromisoformat(h["to"]),
                    workdays=tuple(date.fromisoformat(w) for w in h.get("workdays", ())),
                )
                for h in data["holidays"]
            ),
        )


# ---------------------------------------------------------------------- the package


@cache
def _package_workdays(year: int) -> frozenset[date] | None:
    """Every working day of ``year`` by the package, or ``None`` when it has no data for it.

    Asked once per year, day by day, through the package's public ``is_workday``; later
    lookups are a set membership test (the package re-validates its coverage on every call).
    The data set is fixed for the process (the installed package), so the cache never
    goes stale.
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


# ---------------------------------------------------------------------- the calendar


class HolidayCalendar:
    """Loaded notices over the package; Monday–Friday for a year neither covers.

    Immutable once built: the application builds a new one when a notice is loaded.
    ``version`` names the data it answers from (the package and each loaded year's version).
    """

    def __init__(
        self,
        notices: Mapping[int, YearNotice] | None = None,
        *,
        versions: Mapping[int, int] | None = None,
    ) -> None:
        self._notices = dict(notices or {})
        self._versions = dict(versions or {})
        self._workdays: dict[int, frozenset[date] | None] = {
            year: notice.working_days() for year, notice in self._notices.items()
        }
        loaded = ",".join(f"{y}v{self._versions.get(y, 1)}" for y in sorted(self._notices))
        self.version = CALENDAR_VERSION + (f"+{loaded}" if loaded else "")

    # -- which source answers

    @property
    def loaded_years(self) -> list[int]:
        return sorted(self._notices)

    def notice(self, year: int) -> YearNotice | None:
        return self._notices.get(year)

    def _year(self, year: int) -> frozenset[date] | None:
        try:
            return self._workdays[year]
        except KeyError:
            days = _package_workdays(year)
            self._workdays[year] = days
            return days

    def source(self, year: int) -> str | None:
        """What answers for ``year``: the loaded notice, the package, or ``None``."""
        notice = self._notices.get(year)
        if notice is not None:
            return f"{notice.reference} (v{self._versions.get(year, 1)})"
        return CALENDAR_VERSION if _package_workdays(year) is not None else None

    def covers_year(self, year: int) -> bool:
        return self._year(year) is not None

    def covers(self, d: date) -> bool:
        """True if ``d`` is answered from official data; False means the Mon–Fri fallback."""
        return self.covers_year(_as_date(d).year)

    def covers_deadline(self, due_on: date) -> bool:
        """True if every day a rule's period ending on ``due_on`` can count is covered."""
        return self.covers(due_on) and self.covers(due_on - _DEADLINE_LOOKBACK)

    # -- arithmetic

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        days = self._year(d.year)
        if days is None:
            return d.weekday() < 5
        return d in days

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, otherwise the first working day after ``d``."""
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` returns ``start`` unchanged, whether or not it is a working day.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        remaining = n
        while remaining > 0:
            d += _ONE_DAY
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]``; 0 if ``end <= start``."""
        count = 0
        d = start + _ONE_DAY
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count

    def due_date(self, start: date, period: Period) -> date:
        """Last day of ``period`` counted from ``start`` (the start day itself is not counted).

        * WORKING: the ``days``-th working day after ``start``.
        * CALENDAR: ``start + days`` calendar days; if that day is not a working day (weekend
          or statutory holiday), the first working day after it.
        """
        if period.unit is DayUnit.WORKING:
            return self.add_working_days(start, period.days)
        return self.next_working_day(start + timedelta(days=period.days))


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


BASE = HolidayCalendar()
"""The package alone (no loaded notice)."""

_IN_FORCE: ContextVar[HolidayCalendar | None] = ContextVar("mediation_calendar", default=None)


def current() -> HolidayCalendar:
    """The calendar installed for the current command, or :data:`BASE` outside one."""
    return _IN_FORCE.get() or BASE


@contextmanager
def in_force(calendar: HolidayCalendar) -> Iterator[None]:
    """Answer the module-level functions from ``calendar`` inside the ``with`` block."""
    token = _IN_FORCE.set(calendar)
    try:
        yield
    finally:
        _IN_FORCE.reset(token)


# ---------------------------------------------------------------------- module functions


def is_covered(d: date) -> bool:
    """True if ``d`` is within the official holiday data; False means the Mon–Fri fallback."""
    return current().covers(d)


def is_working_day(d: date) -> bool:
    """True if ``d`` is a working day (official calendar, or Mon–Fri outside its coverage)."""
    return current().is_working_day(d)


def next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, otherwise the first working day after ``d``."""
    return current().next_working_day(d)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (see :meth:`HolidayCalendar.add_working_days`)."""
    return current().add_working_days(start, n)


def working_days_between(start: date, end: date) -> int:
    """Number of working days in ``(start, end]``; 0 if ``end <= start``."""
    return current().working_days_between(start, end)


def due_date(start: date, period: Period) -> date:
    """Last day of ``period`` counted from ``start`` (see :meth:`HolidayCalendar.due_date`)."""
    return current().due_date(start, period)


def is_overdue(due_on: date, today: date) -> bool:
    """True once ``today`` is strictly after ``due_on`` (the due day itself is still in time)."""
    return today > due_on


# ---------------------------------------------------------------------- operator warning


@dataclass(frozen=True)
class CalendarWarning:
    """A year whose notice is missing: this year's (any day) or next year's (from 1 December)."""

    code: str  # "calendar_year_missing" | "calendar_next_year_missing"
    year: int
    zh: str
    en: str


def calendar_warning(calendar: HolidayCalendar, today: date) -> CalendarWarning | None:
    """What an operator must be told about ``calendar`` on ``today`` (None: nothing)."""
    if not calendar.covers_year(today.year):
        year = today.year
        return CalendarWarning(
            "calendar_year_missing",
            year,
            f"未载入{year}年节假日安排：本年期限按周一至周五计算，可能有误，请管理员载入国务院办公厅通知。",
            f"no holiday calendar for {year}: this year's deadlines count Monday to Friday "
            "and may be wrong; an admin must load the State Council notice",
        )
    month, day = WARN_FROM_MONTH_DAY
    if today >= date(today.year, month, day) and not calendar.covers_year(today.year + 1):
        year = today.year + 1
        return CalendarWarning(
            "calendar_next_year_missing",
            year,
            f"尚未载入{year}年节假日安排：跨入{year}年的期限将按周一至周五计算。"
            "国务院办公厅通知发布后，请管理员及时载入。",
            f"no holiday calendar for {year} yet: deadlines reaching into {year} count Monday "
            "to Friday; load the State Council notice as soon as it is published",
        )
    return None
