"""The holiday-notice file: the shipped example is faithful, and every bad file is refused
with its line and a Chinese and an English message."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from mediation.calendar import BASE, HolidayCalendar
from mediation.calendar_file import NoticeError, parse_notice
from tests.support.notices import SYNTHETIC_2031

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "calendar" / "2025.example.toml"


def test_the_shipped_example_gives_exactly_the_packages_2025() -> None:
    notice = parse_notice(EXAMPLE.read_text(encoding="utf-8"))
    assert (notice.year, notice.reference, notice.issued_on) == (
        2025,
        "国办发明电〔2024〕12号",
        date(2024, 11, 12),
    )
    loaded = HolidayCalendar({2025: notice})
    day = date(2025, 1, 1)
    while day.year == 2025:
        assert loaded.is_working_day(day) is BASE.is_working_day(day), day
        day += timedelta(days=1)
    assert date(2025, 1, 26) in notice.make_up_workdays  # Sunday worked before 春节


def test_a_synthetic_notice_round_trips_through_its_stored_form() -> None:
    notice = parse_notice(SYNTHETIC_2031)
    assert type(notice).from_dict(notice.to_dict()) == notice
    assert notice.days_off == {date(2031, 10, d) for d in range(1, 8)}
    assert notice.make_up_workdays == {date(2031, 9, 28), date(2031, 10, 11)}


def _refusal(text: str) -> NoticeError:
    with pytest.raises(NoticeError) as caught:
        parse_notice(text)
    return caught.value


HEAD = 'year = 2031\nreference = "SYNTHETIC"\nissued_on = 2030-11-10\n\n'


@pytest.mark.parametrize(
    ("body", "line", "zh", "en"),
    [
        # a date of another year (line 8: the 'to' key of the only holiday)
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-12-31\nto = 2032-01-02\n',
            8,
            "不在 2031 年内",
            "is not in 2031",
        ),
        # a make-up workday inside a holiday (the workdays line)
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\n'
            "workdays = [2031-10-04]\n",
            9,
            "落在甲放假期间",
            "falls in the 甲 holiday",
        ),
        # two holidays overlapping (the second holiday's 'from')
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\n\n'
            '[[holidays]]\nname = "乙"\nfrom = 2031-10-07\nto = 2031-10-08\n',
            12,
            "放假日期重叠",
            "overlaps",
        ),
        # a make-up "workday" that is already a weekday (Wed 2031-10-08)
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\n'
            "workdays = [2031-10-08]\n",
            9,
            "本就是工作日",
            "already a working day",
        ),
        # "共N天" that is not the range's length
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\ndays = 8\n',
            9,
            "共 8 天",
            "is 7 days",
        ),
        # the end before the start
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-07\nto = 2031-10-01\n',
            8,
            "早于开始日",
            "is before 'from'",
        ),
        # a date written as a string
        (
            '[[holidays]]\nname = "甲"\nfrom = "2031-10-01"\nto = 2031-10-07\n',
            7,
            "须为日期",
            "must be a date",
        ),
        # a misspelt key
        (
            '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\nworkday = []\n',
            9,
            "未知字段“workday”",
            "unknown key 'workday'",
        ),
    ],
)
def test_a_bad_holiday_is_refused_with_its_line(body: str, line: int, zh: str, en: str) -> None:
    error = _refusal(HEAD + body)
    assert error.line == line, str(error)
    assert zh in error.zh and en in error.en
    assert str(error).startswith(f"第 {line} 行：") and f"line {line}: " in str(error)


def test_a_syntax_error_gives_tomllibs_line() -> None:
    error = _refusal(HEAD + "[[holidays]]\nname = 甲\n")
    assert error.line == 6
    assert "TOML" in error.zh and "TOML" in error.en


def test_the_notice_itself_is_checked() -> None:
    assert "reference" in _refusal("year = 2031\nissued_on = 2030-11-10\n").en
    no_holidays = _refusal('year = 2031\nreference = "X"\nissued_on = 2030-11-10\n')
    assert "[[holidays]]" in no_holidays.en
    late = _refusal('year = 2031\nreference = "X"\nissued_on = 2032-01-05\n[[holidays]]\n')
    assert late.line == 3 and "2030 or 2031" in late.en
    assert _refusal('year = "2031"\n').line == 1
    assert "missing key 'year'" in _refusal('reference = "X"\n').en


def test_a_repeated_make_up_day_is_refused() -> None:
    error = _refusal(
        HEAD + '[[holidays]]\nname = "甲"\nfrom = 2031-10-01\nto = 2031-10-07\n'
        "workdays = [2031-09-28, 2031-09-28]\n"
    )
    assert "listed twice" in error.en and error.line == 9
