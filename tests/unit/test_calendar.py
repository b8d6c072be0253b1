"""Tests for the deadline engine (mediation.calendar).

Expected dates come from the State Council General Office holiday notices:

* 《国务院办公厅关于2025年部分节假日安排的通知》(国办发明电〔2024〕12号, 2024-11-12):
  春节 2025-01-28 (除夕, Tue) .. 2025-02-04 (Tue) off, 8 days; 2025-01-26 (Sun) and
  2025-02-08 (Sat) are workdays.  国庆节、中秋节 2025-10-01 (Wed) .. 2025-10-08 (Wed) off,
  8 days; 2025-09-28 (Sun) and 2025-10-11 (Sat) are workdays.
* 《国务院办公厅关于2026年部分节假日安排的通知》(2025-11-04):
  春节 2026-02-15 (Sun) .. 2026-02-23 (Mon) off, 9 days; 2026-02-14 (Sat) and 2026-02-28 (Sat)
  are workdays.  国庆节 2026-10-01 (Thu) .. 2026-10-07 (Wed) off, 7 days; 2026-09-20 (Sun) and
  2026-10-10 (Sat) are workdays.

Each expected date was worked out by hand from these notices and matches chinesecalendar 1.11.0.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation.calendar import (
    BASE,
    CALENDAR_VERSION,
    DayUnit,
    HolidayCalendar,
    Period,
    add_working_days,
    calendar_warning,
    current,
    due_date,
    in_force,
    is_covered,
    is_overdue,
    is_working_day,
    next_working_day,
    working_days_between,
)
from mediation.calendar_file import parse_notice
from tests.support.notices import SYNTHETIC_2031, SYNTHETIC_2032

# --- the calendar data itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "working"),
    [
        # Spring Festival 2025
        (date(2025, 1, 26), True),  # Sunday make-up workday
        (date(2025, 1, 27), True),
        (date(2025, 1, 28), False),  # 除夕, first day off
        (date(2025, 2, 4), False),  # last day off
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday make-up workday
        (date(2025, 2, 9), False),  # ordinary Sunday
        # National Day + Mid-Autumn 2025
        (date(2025, 9, 27), False),  # ordinary Saturday
        (date(2025, 9, 28), True),  # Sunday make-up workday
        (date(2025, 10, 1), False),
        (date(2025, 10, 6), False),  # Mid-Autumn, inside the merged break
        (date(2025, 10, 8), False),  # last day off
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday make-up workday
        # Spring Festival 2026
        (date(2026, 2, 14), True),  # Saturday make-up workday
        (date(2026, 2, 15), False),  # first day off
        (date(2026, 2, 23), False),  # last day off (Monday)
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday make-up workday
        # National Day 2026
        (date(2026, 9, 20), True),  # Sunday make-up workday
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday make-up workday
    ],
)
def test_is_working_day_follows_state_council_notices(d: date, working: bool) -> None:
    assert is_covered(d)
    assert is_working_day(d) is working


def test_calendar_version_names_the_installed_library() -> None:
    assert CALENDAR_VERSION == "chinesecalendar-1.11.0"


def test_next_working_day() -> None:
    assert next_working_day(date(2025, 3, 24)) == date(2025, 3, 24)  # Monday, already working
    assert next_working_day(date(2025, 3, 22)) == date(2025, 3, 24)  # Saturday -> Monday
    assert next_working_day(date(2025, 1, 28)) == date(2025, 2, 5)  # 除夕 -> after the break
    assert next_working_day(date(2026, 2, 28)) == date(2026, 2, 28)  # make-up Saturday


# --- working-day periods ----------------------------------------------------------------------


def test_five_working_days_before_spring_festival_2025_counts_make_up_days() -> None:
    # From Fri 2025-01-24: Sun 01-26 (make-up) 1, Mon 01-27 2, [01-28..02-04 off],
    # Wed 02-05 3, Thu 02-06 4, Fri 02-07 5.
    assert add_working_days(date(2025, 1, 24), 5) == date(2025, 2, 7)
    # From Sun 2025-01-26: Mon 01-27 1, 02-05 2, 02-06 3, 02-07 4, Sat 02-08 (make-up) 5.
    assert add_working_days(date(2025, 1, 26), 5) == date(2025, 2, 8)
    assert due_date(date(2025, 1, 26), Period(5, DayUnit.WORKING)) == date(2025, 2, 8)
    # From Mon 2025-01-27: 02-05, 02-06, 02-07, Sat 02-08, [Sun 02-09 off], Mon 02-10.
    assert add_working_days(date(2025, 1, 27), 5) == date(2025, 2, 10)


def test_ten_working_days_across_national_day_2025() -> None:
    # From Fri 2025-09-26: Sun 09-28 (make-up) 1, 09-29 2, 09-30 3, [10-01..10-08 off],
    # 10-09 4, 10-10 5, Sat 10-11 (make-up) 6, [Sun 10-12 off], 10-13 7, 10-14 8, 10-15 9,
    # Thu 10-16 10.  (A naive Mon-Fri count would wrongly give 2025-10-10.)
    start = date(2025, 9, 26)
    assert add_working_days(start, 10) == date(2025, 10, 16)
    assert due_date(start, Period(10, DayUnit.WORKING)) == date(2025, 10, 16)
    assert working_days_between(start, date(2025, 10, 16)) == 10


def test_three_working_days_across_spring_festival_2026() -> None:
    # From Fri 2026-02-13: Sat 02-14 (make-up) 1, [02-15..02-23 off], 02-24 2, 02-25 3.
    assert due_date(date(2026, 2, 13), Period(3, DayUnit.WORKING)) == date(2026, 2, 25)


def test_add_zero_working_days_returns_start_even_on_a_holiday() -> None:
    assert add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)


def test_negative_working_days_rejected() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 1), -1)


# --- calendar-day periods ---------------------------------------------------------------------


def test_fifteen_calendar_days_ending_in_spring_festival_2026_rolls_past_holiday() -> None:
    # Sun 2026-02-01 + 15 = Mon 2026-02-16, inside the 02-15..02-23 break -> Tue 2026-02-24.
    assert due_date(date(2026, 2, 1), Period(15, DayUnit.CALENDAR)) == date(2026, 2, 24)
    # Fri 2026-02-06 + 15 = Sat 2026-02-21, inside the break -> Tue 2026-02-24.
    assert due_date(date(2026, 2, 6), Period(15, DayUnit.CALENDAR)) == date(2026, 2, 24)


def test_fifteen_calendar_days_ending_on_make_up_saturday_does_not_roll() -> None:
    # Fri 2026-02-13 + 15 = Sat 2026-02-28, a make-up workday: the period ends that day.
    assert due_date(date(2026, 2, 13), Period(15, DayUnit.CALENDAR)) == date(2026, 2, 28)


def test_forty_five_calendar_days_ending_in_national_day_rolls_forward() -> None:
    # 2025-08-18 + 45 = Thu 2025-10-02 (break 10-01..10-08) -> Thu 2025-10-09.
    assert due_date(date(2025, 8, 18), Period(45, DayUnit.CALENDAR)) == date(2025, 10, 9)
    # 2026-08-18 + 45 = Fri 2026-10-02 (break 10-01..10-07) -> Thu 2026-10-08.
    assert due_date(date(2026, 8, 18), Period(45, DayUnit.CALENDAR)) == date(2026, 10, 8)


def test_calendar_period_ending_on_ordinary_saturday_rolls_to_monday() -> None:
    # Fri 2025-03-07 + 15 = Sat 2025-03-22 (no holiday nearby) -> Mon 2025-03-24.
    assert due_date(date(2025, 3, 7), Period(15, DayUnit.CALENDAR)) == date(2025, 3, 24)


def test_calendar_period_ending_on_working_day_is_unchanged() -> None:
    # Mon 2025-03-03 + 45 = Thu 2025-04-17.
    assert due_date(date(2025, 3, 3), Period(45, DayUnit.CALENDAR)) == date(2025, 4, 17)


def test_period_validation() -> None:
    with pytest.raises(ValueError):
        Period(-1, DayUnit.CALENDAR)
    assert Period(5, DayUnit("working")) == Period(5, DayUnit.WORKING)


# --- working_days_between ---------------------------------------------------------------------


def test_working_days_between_basics() -> None:
    assert working_days_between(date(2025, 3, 7), date(2025, 3, 7)) == 0
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 7)) == 0
    # (Mon 01-27, Sun 02-09]: 02-05, 02-06, 02-07, Sat 02-08 -> 4
    assert working_days_between(date(2025, 1, 27), date(2025, 2, 9)) == 4


_dates_2024_2026 = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@given(start=_dates_2024_2026, n=st.integers(min_value=0, max_value=30))
def test_working_days_between_inverts_add_working_days(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if n > 0:
        assert is_working_day(end)
        # No earlier day would do: the day before `end` still has only n - 1 working days.
        assert working_days_between(start, end - timedelta(days=1)) == n - 1


# --- outside the library's data: Monday-Friday fallback ----------------------------------------


def test_fallback_outside_library_coverage() -> None:
    assert is_covered(date(2026, 12, 31))
    assert not is_covered(date(2027, 1, 1))
    assert not is_covered(date(2003, 12, 31))
    assert not is_covered(date(2030, 6, 14))

    # Fri 2027-03-05 + 1 working day -> Mon 2027-03-08 (weekend skipped, no holiday data).
    assert add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 8)
    assert is_working_day(date(2027, 3, 5))
    assert not is_working_day(date(2027, 3, 6))
    # Sat 2027-03-06 + 15 = Sun 2027-03-21 -> Mon 2027-03-22.
    assert due_date(date(2027, 3, 6), Period(15, DayUnit.CALENDAR)) == date(2027, 3, 22)
    # Known limitation: with no 2027 data, New Year's Day (Fri 2027-01-01) counts as working.
    assert is_working_day(date(2027, 1, 1))
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


# --- overdue ----------------------------------------------------------------------------------


def test_is_overdue() -> None:
    due_on = date(2026, 2, 24)
    assert not is_overdue(due_on, date(2026, 2, 23))
    assert not is_overdue(due_on, due_on)
    assert is_overdue(due_on, date(2026, 2, 25))


# --- loaded notices over the package ------------------------------------------------------------

_SYNTHETIC = parse_notice(SYNTHETIC_2031)


def test_a_loaded_year_answers_with_its_holidays_and_make_up_days() -> None:
    loaded = HolidayCalendar({2031: _SYNTHETIC})
    start = date(2031, 9, 26)  # a Friday
    assert BASE.due_date(start, Period(5, DayUnit.WORKING)) == date(2031, 10, 3)  # Mon-Fri
    # Sun 09-28 (make-up) 1, 09-29 2, 09-30 3, [10-01..10-07 off], 10-08 4, 10-09 5
    assert loaded.due_date(start, Period(5, DayUnit.WORKING)) == date(2031, 10, 9)
    assert loaded.is_working_day(date(2031, 10, 11))  # a Saturday make-up workday
    assert not loaded.is_working_day(date(2031, 10, 12))  # the ordinary Sunday after it
    # a calendar-day period ending inside the break rolls to the first working day after it
    assert loaded.due_date(date(2031, 9, 17), Period(15, DayUnit.CALENDAR)) == date(2031, 10, 8)
    assert loaded.covers(date(2031, 1, 1)) and not BASE.covers(date(2031, 1, 1))


def test_a_loaded_year_replaces_the_package_for_that_year_only() -> None:
    # A (synthetic) correction of 2026 with 10-03..10-07 off: 10-02 works again.
    corrected = parse_notice(
        'year = 2026\nreference = "SYNTHETIC"\nissued_on = 2025-11-10\n'
        '[[holidays]]\nname = "测试"\nfrom = 2026-10-03\nto = 2026-10-07\n'
    )
    calendar = HolidayCalendar({2026: corrected}, versions={2026: 2})
    assert not BASE.is_working_day(date(2026, 10, 2))
    assert calendar.is_working_day(date(2026, 10, 2))
    assert calendar.is_working_day(date(2025, 1, 26)) is BASE.is_working_day(date(2025, 1, 26))
    assert calendar.version == f"{CALENDAR_VERSION}+2026v2"
    assert calendar.source(2026) == f"{corrected.reference} (v2)"
    assert calendar.source(2025) == CALENDAR_VERSION and calendar.source(2031) is None


def test_the_module_functions_answer_from_the_calendar_in_force() -> None:
    loaded = HolidayCalendar({2031: _SYNTHETIC})
    start = date(2031, 9, 26)
    assert current() is BASE
    with in_force(loaded):
        assert current() is loaded
        assert due_date(start, Period(5, DayUnit.WORKING)) == date(2031, 10, 9)
        assert is_covered(start) and not is_working_day(date(2031, 10, 2))
    assert due_date(start, Period(5, DayUnit.WORKING)) == date(2031, 10, 3)
    assert not is_covered(start)


def test_a_deadline_is_covered_only_if_the_month_before_it_is() -> None:
    assert BASE.covers_deadline(date(2026, 12, 31))
    assert not BASE.covers_deadline(date(2027, 1, 4))  # counted Monday-Friday
    # early January counts days of the year before: 2032 loaded, 2031 not
    only_2032 = HolidayCalendar({2032: parse_notice(SYNTHETIC_2032)})
    assert not only_2032.covers_deadline(date(2032, 1, 10))
    assert only_2032.covers_deadline(date(2032, 3, 10))


@pytest.mark.parametrize(
    ("today", "code", "year"),
    [
        (date(2026, 11, 30), None, None),
        (date(2026, 12, 1), "calendar_next_year_missing", 2027),
        (date(2026, 12, 31), "calendar_next_year_missing", 2027),
        (date(2027, 1, 1), "calendar_year_missing", 2027),
        (date(2031, 6, 1), "calendar_year_missing", 2031),
    ],
)
def test_the_warning_from_1_december(today: date, code: str | None, year: int | None) -> None:
    warning = calendar_warning(BASE, today)
    assert (warning.code, warning.year) == (code, year) if warning else code is None
    if warning is not None:
        assert str(year) in warning.zh and str(year) in warning.en


def test_no_warning_once_next_years_notice_is_loaded() -> None:
    calendar = HolidayCalendar({2031: _SYNTHETIC, 2032: parse_notice(SYNTHETIC_2032)})
    assert calendar_warning(calendar, date(2031, 12, 1)) is None
    assert calendar_warning(HolidayCalendar({2031: _SYNTHETIC}), date(2031, 12, 1)) is not None
