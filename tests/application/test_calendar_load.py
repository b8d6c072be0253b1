"""Loading a year's holiday notice: recorded like a policy version, used by the next command.

Synthetic notices only (tests/support/notices.py): no official dates are invented.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mediation.application import MediationApplication
from mediation.calendar_file import NoticeError
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from mediation.verify import verify
from tests.support.factories import SteppingClock, new_case
from tests.support.notices import (
    DUE_MON_FRI,
    DUE_V1,
    DUE_V2,
    RECEIVED,
    SYNTHETIC_2031,
    SYNTHETIC_2031_V2,
)

OPERATOR = Actor("ops-li", Role.ADMIN)
D = date.fromisoformat


@pytest.fixture
def in_2031(clock: SteppingClock) -> SteppingClock:
    clock.set(datetime(2031, 10, 1, 2, 0, tzinfo=UTC))
    return clock


def _acceptance_due(app: MediationApplication) -> date:
    case = new_case(app, received_on=D(RECEIVED))
    assert case.acceptance_due_on is not None
    return case.acceptance_due_on


def test_loading_a_year_moves_a_deadline_across_its_holiday_and_counts_make_up_days(
    app: MediationApplication, in_2031: SteppingClock
) -> None:
    before = new_case(app, received_on=D(RECEIVED))
    assert before.acceptance_due_on == D(DUE_MON_FRI)
    assert not app.calendars.current().covers_deadline(D(DUE_MON_FRI))

    result = app.calendars.load(OPERATOR, SYNTHETIC_2031)

    assert result.recorded and result.loaded.version == 1
    assert result.source_before is None  # the year was counted Monday to Friday
    assert D("2031-09-28") in result.became_working_days  # the Sunday make-up workday
    assert D("2031-10-01") in result.became_days_off
    # Sun 09-28 counts, 10-01..10-07 do not: the fifth working day is Thu 10-09.
    assert _acceptance_due(app) == D(DUE_V1)
    assert app.calendars.current().covers_deadline(D(DUE_V1))
    # A deadline already recorded stays as recorded (events are forever).
    assert app.get_case(before.id).acceptance_due_on == D(DUE_MON_FRI)


def test_the_load_is_recorded_with_who_and_when_and_chained(
    app: MediationApplication, in_2031: SteppingClock
) -> None:
    app.calendars.load(OPERATOR, SYNTHETIC_2031)
    book = app.calendars.book()
    assert book is not None
    (loaded,) = book.years[2031]
    assert (loaded.loaded_by, loaded.loaded_role, loaded.loaded_on) == (
        "ops-li",
        "admin",
        D("2031-10-01"),
    )
    assert loaded.notice.reference == "SYNTHETIC-2031-1（测试用，非官方）"
    assert loaded.recorded_at.year == 2031  # the application's clock, not the wall clock
    report = verify(app)
    assert report.ok and report.events == 2  # the record's opening and its first load


def test_an_invalid_file_is_refused_and_nothing_is_recorded(
    app: MediationApplication, in_2031: SteppingClock
) -> None:
    position = app.max_position()
    bad = SYNTHETIC_2031.replace("workdays = [2031-09-28, 2031-10-11]", "workdays = [2031-10-03]")

    with pytest.raises(NoticeError) as refused:
        app.calendars.load(OPERATOR, bad)

    assert refused.value.line == 11 and "2031-10-03" in refused.value.en
    assert app.max_position() == position
    assert app.calendars.book() is None
    assert _acceptance_due(app) == D(DUE_MON_FRI)


def test_reloading_a_year_records_a_new_version_and_deadlines_follow_the_newest(
    app: MediationApplication, in_2031: SteppingClock
) -> None:
    app.calendars.load(OPERATOR, SYNTHETIC_2031)
    assert _acceptance_due(app) == D(DUE_V1)

    corrected = app.calendars.load(Actor("ops-wang", Role.ADMIN), SYNTHETIC_2031_V2)

    assert corrected.recorded and corrected.loaded.version == 2
    assert corrected.became_working_days == [D("2031-10-06"), D("2031-10-07")]
    assert corrected.became_days_off == [D("2031-10-11")]  # no longer a make-up Saturday
    book = app.calendars.book()
    assert book is not None
    assert [v.version for v in book.years[2031]] == [1, 2]
    assert [v.loaded_by for v in book.years[2031]] == ["ops-li", "ops-wang"]
    assert _acceptance_due(app) == D(DUE_V2)
    assert app.calendars.current().version.endswith("+2031v2")

    position = app.max_position()
    again = app.calendars.load(OPERATOR, SYNTHETIC_2031_V2)
    assert not again.recorded and again.loaded.version == 2
    assert app.max_position() == position


def test_another_process_uses_a_notice_loaded_after_it_started(
    app: MediationApplication, database_url: str, in_2031: SteppingClock
) -> None:
    other = MediationApplication(persistence_env(database_url), clock=in_2031)
    try:
        assert not other.calendars.current().covers_year(2031)  # asked once, before the load
        app.calendars.load(OPERATOR, SYNTHETIC_2031)
        assert other.calendars.current().covers_year(2031)
        assert _acceptance_due(other) == D(DUE_V1)
        app.calendars.load(OPERATOR, SYNTHETIC_2031_V2)
        assert _acceptance_due(other) == D(DUE_V2)
    finally:
        other.close()
