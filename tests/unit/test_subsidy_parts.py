"""The subsidy statement split in two: per studio and per mediator, each adding up."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from projections.subsidies import SubsidyRow, SubsidyStatement, SubsidyTotals, parts


def _row(kind: str, cases: int, amount: str, waiting: str = "0.00") -> SubsidyRow:
    return SubsidyRow(kind, uuid4(), kind, cases, Decimal(amount), 0, 1, Decimal(waiting))


def test_each_statement_totals_its_rows_and_both_equal_the_month() -> None:
    month = SubsidyTotals(3, Decimal("900.00"), 0, 3, Decimal("900.00"))
    statement = SubsidyStatement(
        "420000",
        "2026-11",
        [
            _row("studio", 2, "600.00", "600.00"),
            _row("studio", 1, "300.00", "300.00"),
            _row("mediator", 1, "300.00", "300.00"),
            _row("mediator", 1, "300.00", "300.00"),
        ],
        month,
        unassigned=SubsidyTotals(1, Decimal("300.00"), 0, 1, Decimal("300.00")),
    )
    studios, mediators = parts(statement)
    assert (studios.kind, len(studios.rows), studios.unassigned) == ("studio", 2, None)
    assert (mediators.kind, len(mediators.rows)) == ("mediator", 2)
    # the old single table summed to 1,800 while 合计 said 900; now each part is its own sum
    assert studios.totals.amount == mediators.totals.amount == month.amount == Decimal("900.00")
    assert studios.totals.cases == 3 and mediators.totals.cases == 3
    assert studios.totals.awaiting_verification_cases == 2
    assert mediators.totals.awaiting_verification_cases == 3  # two rows and the unassigned one
    assert mediators.totals.awaiting_verification_amount == Decimal("900.00")


def test_an_empty_month_has_two_empty_statements() -> None:
    zero = SubsidyTotals(0, Decimal("0.00"), 0)
    studios, mediators = parts(SubsidyStatement("420000", "2026-01", [], zero))
    assert studios.rows == mediators.rows == []
    assert studios.totals == mediators.totals == zero
