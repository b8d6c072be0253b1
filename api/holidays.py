"""The holiday calendar as the API reports it: on ``/readyz`` and for the pages' warning.

The calendar in force is the application's (``app.calendars.current()``: loaded notices
over the ``chinesecalendar`` package); today is the application's clock.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from mediation.calendar import CALENDAR_VERSION, HolidayCalendar, calendar_warning

__all__ = ["CalendarOut", "CalendarWarningOut", "calendar_out"]


class CalendarWarningOut(BaseModel):
    code: Literal["calendar_year_missing", "calendar_next_year_missing"]
    year: int
    message_zh: str
    message_en: str


class CalendarOut(BaseModel):
    status: Literal["ok", "warning"] = Field(
        description="`warning`: this year's notice is missing, or next year's from 1 December"
    )
    version: str = Field(description="the data answering: the package and each loaded year")
    package: str = Field(description="the chinesecalendar package's data set")
    loaded_years: list[int] = Field(description="years answered from a loaded notice")
    warning: CalendarWarningOut | None = None


def calendar_out(calendar: HolidayCalendar, today: date) -> CalendarOut:
    warning = calendar_warning(calendar, today)
    return CalendarOut(
        status="warning" if warning else "ok",
        version=calendar.version,
        package=CALENDAR_VERSION,
        loaded_years=calendar.loaded_years,
        warning=CalendarWarningOut(
            code=warning.code,  # type: ignore[arg-type]
            year=warning.year,
            message_zh=warning.zh,
            message_en=warning.en,
        )
        if warning
        else None,
    )
