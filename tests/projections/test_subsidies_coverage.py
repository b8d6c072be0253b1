"""Subsidy statements (compensating entries) and pilot coverage."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mediation.errors import ValidationFailed
from mediation.values import Party, Route, StudioKind, VerificationMethod
from projections import coverage, subsidies
from projections.system import System
from tests.support.factories import (
    ADMIN,
    CLERK,
    MEDIATOR,
    SteppingClock,
    in_mediation,
    studio_with_mediator,
)

CHINA = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, tzinfo=CHINA)


def test_a_reversed_success_adds_a_compensating_entry_in_the_month_it_is_recorded(
    system: System, clock: SteppingClock
) -> None:
    app = system.app
    clock.set(at(2026, 3, 2))
    studio_id, mediator_id = studio_with_mediator(app)
    clock.set(at(2026, 3, 6))
    by_statement = in_mediation(app, studio_id, mediator_id, received_on=date(2026, 3, 2))
    failed = in_mediation(app, studio_id, mediator_id, received_on=date(2026, 3, 2))
    clock.set(at(2026, 3, 10))
    app.record_session(MEDIATOR, by_statement.id, held_on=date(2026, 3, 10), summary="调解")
    app.sign_agreement(
        MEDIATOR,
        by_statement.id,
        signed_on=date(2026, 3, 10),
        amount=Decimal("5000.00"),
        performance_due_on=date(2026, 4, 10),
        terms="分期",
    )
    app.apply_review(CLERK, by_statement.id, applied_on=date(2026, 3, 10))
    app.issue_statement(CLERK, by_statement.id, issued_on=date(2026, 3, 10), number="鄂调1号")
    app.fail(MEDIATOR, failed.id, on=date(2026, 3, 10), reason="分歧较大")  # no session held

    march = subsidies.subsidies(system.engine, region="420000", month="2026-03")
    assert march.totals.amount == Decimal("300.00")
    assert march.totals.cases == 2 and march.totals.compensating_entries == 0
    kinds = {(r.kind, r.id): r for r in march.rows}
    assert kinds[("studio", studio_id)].amount == Decimal("300.00")
    assert kinds[("mediator", mediator_id)].name == "王调解"
    assert kinds[("studio", studio_id)].name == "江岸区裁调对接工作室"

    # May: a party retracts the statement before service; March is never edited.
    clock.set(at(2026, 5, 6))
    app.retract_statement(CLERK, by_statement.id, party=Party.RESPONDENT, on=date(2026, 3, 12))
    assert subsidies.subsidies(system.engine, region="420000", month="2026-03") == march
    may = subsidies.subsidies(system.engine, region="420000", month="2026-05")
    # -300 compensating the success; pre-filing the agreement stays in force (v1.1 rule 5),
    # so no failure is recorded and no failure subsidy earned
    assert may.totals.amount == Decimal("-300.00")
    assert may.totals.compensating_entries == 1
    mediator_row = next(r for r in may.rows if r.kind == "mediator")
    assert (mediator_row.amount, mediator_row.compensating_entries) == (Decimal("-300.00"), 1)
    assert subsidies.subsidies(system.engine, region="420500", month="2026-05").rows == []
    with pytest.raises(ValidationFailed):
        subsidies.subsidies(system.engine, region="420000", month="2026-13")


def test_pilot_coverage_counts_counties_with_an_active_studio(
    system: System, clock: SteppingClock
) -> None:
    app = system.app
    clock.set(at(2026, 6, 1))

    def studio(code: str, established: date, kind: StudioKind = StudioKind.DOCKING_STUDIO) -> str:
        return str(
            app.register_studio(
                ADMIN, name=f"{code}工作室", region_code=code, kind=kind, established_on=established
            ).id
        )

    studio("420102", date(2025, 1, 1))
    studio("420106", date(2026, 5, 1))
    closing = studio("420111", date(2025, 1, 1))
    studio("420100", date(2025, 1, 1), StudioKind.UNION_WORKSTATION)  # city level
    from uuid import UUID

    app.close_studio(ADMIN, UUID(closing), closed_on=date(2026, 3, 1))
    wuhan = coverage.pilot_coverage(system.engine, region="420100", on=date(2026, 2, 1))
    assert wuhan.counties_total == 13
    assert wuhan.covered == ["420102", "420111"]
    later = coverage.pilot_coverage(system.engine, region="420100", on=date(2026, 5, 15))
    assert later.covered == ["420102", "420106"] and later.counties_covered == 2
    assert "420111" in later.uncovered and len(later.uncovered) == 11
    hubei = coverage.pilot_coverage(system.engine, region="420000", on=date(2026, 5, 15))
    assert hubei.counties_covered == 2 and hubei.counties_total > 100
    county = coverage.pilot_coverage(system.engine, region="420102", on=date(2026, 5, 15))
    assert (county.counties_total, county.covered) == (1, ["420102"])
    _ = Route


def test_rule_04_success_subsidy_payable_only_once_verified(
    system: System, clock: SteppingClock
) -> None:
    """A success by complete performance is shown 'awaiting verification' (nothing paid)
    until a clerk verifies it; then it is paid in the month of verification."""
    app = system.app
    clock.set(at(2026, 3, 2))
    studio_id, mediator_id = studio_with_mediator(app)
    clock.set(at(2026, 3, 6))
    case = in_mediation(app, studio_id, mediator_id, received_on=date(2026, 3, 2))
    clock.set(at(2026, 3, 20))
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=date(2026, 3, 10),
        amount=Decimal("5000.00"),
        performance_due_on=date(2026, 4, 10),
        terms="一次付清",
    )
    app.record_performance(
        MEDIATOR, case.id, on=date(2026, 3, 20), amount_paid=Decimal("5000.00"), complete=True
    )
    march = subsidies.subsidies(system.engine, region="420000", month="2026-03")
    assert (march.totals.cases, march.totals.amount) == (0, Decimal("0.00"))
    assert march.totals.awaiting_verification_cases == 1
    assert march.totals.awaiting_verification_amount == Decimal("300.00")
    row = next(r for r in march.rows if r.kind == "mediator")
    assert (row.amount, row.awaiting_verification_cases) == (Decimal("0.00"), 1)

    clock.set(at(2026, 4, 2))
    app.verify_performance(
        CLERK, case.id, on=date(2026, 4, 2), method=VerificationMethod.PHONE, note="回访"
    )
    assert subsidies.subsidies(system.engine, region="420000", month="2026-03") == march
    april = subsidies.subsidies(system.engine, region="420000", month="2026-04")
    assert (april.totals.cases, april.totals.amount) == (1, Decimal("300.00"))
    assert april.totals.awaiting_verification_cases == 0
