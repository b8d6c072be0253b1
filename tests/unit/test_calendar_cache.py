"""The cached per-year working-day sets answer exactly as ``chinese_calendar`` does."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from mediation.calendar import is_covered, is_working_day


def test_every_day_of_the_covered_years_and_around_them_matches_the_library() -> None:
    day, end = date(2002, 1, 1), date(2028, 12, 31)
    covered = 0
    while day <= end:
        try:
            expected = bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            assert not is_covered(day)
            assert is_working_day(day) is (day.weekday() < 5)
        else:
            covered += 1
            assert is_covered(day)
            assert is_working_day(day) is expected, day
        day += timedelta(days=1)
    assert covered > 365 * 20


def test_a_datetime_is_read_as_its_date() -> None:
    assert is_working_day(datetime(2025, 1, 26, 23, 59)) is True  # Sunday make-up workday
    assert is_working_day(datetime(2025, 1, 28, 8, 0)) is False  # 除夕
