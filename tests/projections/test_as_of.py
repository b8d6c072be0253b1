"""Acceptance 4: the March report, as published and as corrected, with named dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from projections import caseload, drilldown
from projections.system import System
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    SteppingClock,
    in_mediation,
    studio_with_mediator,
)

CHINA = ZoneInfo("Asia/Shanghai")
MARCH = {"from_": date(2026, 3, 1), "to": date(2026, 3, 31)}


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=CHINA)


def test_a_march_case_that_succeeds_in_june(system: System, clock: SteppingClock) -> None:
    # March 2026: the case is received, entrusted, mediated and an agreement is signed;
    # every step is recorded on the day it happens.
    clock.set(at(2026, 3, 2))
    studio_id, mediator_id = studio_with_mediator(system.app)
    clock.set(at(2026, 3, 6))
    case = in_mediation(system.app, studio_id, mediator_id, received_on=date(2026, 3, 2))
    clock.set(at(2026, 3, 20))
    system.app.record_session(MEDIATOR, case.id, held_on=date(2026, 3, 20), summary="达成一致")
    system.app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=date(2026, 3, 20),
        amount=Decimal("9000.00"),
        performance_due_on=date(2026, 3, 28),
        terms="一次性支付",
    )

    # 1 April 2026, 10:00: the March report is published.
    published = at(2026, 4, 1, 10)
    clock.set(published)
    as_published = caseload.caseload(system.engine, region="420000", group_by="month", **MARCH)
    march = as_published.rows[0]
    assert (march.key, march.received, march.entrusted) == ("2026-03", 1, 1)
    assert (march.succeeded, march.concluded, march.pending) == (0, 0, 1)
    assert march.overdue == 1  # the 15-day window ended on 19 March
    assert march.amount_agreed == Decimal("9000.00") and march.amount_paid == Decimal("0.00")

    # 15 June 2026: the mediator records that the employer paid in full on 28 March.
    clock.set(at(2026, 6, 15))
    system.app.record_performance(
        MEDIATOR, case.id, on=date(2026, 3, 28), amount_paid=Decimal("9000.00"), complete=True
    )

    # The report for March as of its publication reproduces the published figures...
    reproduced = caseload.caseload(
        system.engine, region="420000", group_by="month", as_of=published, **MARCH
    )
    assert reproduced.rows == as_published.rows
    assert reproduced.totals == as_published.totals
    assert reproduced.as_of == published

    # ...while the corrected report shows the success, dated in March.
    corrected = caseload.caseload(system.engine, region="420000", group_by="month", **MARCH)
    row = corrected.rows[0]
    assert (row.succeeded, row.succeeded_by_performance, row.concluded) == (1, 1, 1)
    assert (row.pending, row.overdue) == (0, 0)
    assert row.success_rate == Decimal("1.0000") and row.mediation_share == Decimal("1.0000")
    assert row.amount_paid == Decimal("9000.00")
    assert row.median_days_to_conclusion == 24.0  # entrusted 4 March, performed 28 March
    expected = replace(
        march,
        concluded=1,
        succeeded=1,
        succeeded_by_performance=1,
        pending=0,
        overdue=0,
        success_rate=Decimal("1.0000"),
        mediation_share=Decimal("1.0000"),
        amount_paid=Decimal("9000.00"),
        median_days_to_conclusion=24.0,
    )
    assert row == expected

    # The drill-down agrees with both readings.
    def cases(measure: str, as_of: datetime | None) -> list[object]:
        return list(
            drilldown.caseload_cases(
                system.engine,
                region="420000",
                group_by="month",
                as_of=as_of,
                measure=measure,
                key="2026-03",
                **MARCH,
            )
        )

    assert cases("pending", published) == [case.id]
    assert cases("succeeded", published) == []
    assert cases("succeeded", None) == [case.id]
    assert cases("pending", None) == []
    # a moment before the June recording still reads as published
    assert (
        caseload.caseload(
            system.engine,
            region="420000",
            group_by="month",
            as_of=at(2026, 6, 15) - timedelta(seconds=1),
            **MARCH,
        ).rows
        == as_published.rows
    )
    _ = CLERK
