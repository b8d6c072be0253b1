"""The monthly case-handling subsidy statement, per mediator and per studio.

A success by complete performance recorded under v1.1 is payable only once a clerk or
coordinator verified it (brief 8.4): until then it is shown apart, "awaiting verification",
and nothing is paid; it is paid in the month its verification is recorded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, and_, select

from mediation.errors import ValidationFailed
from projections.cases_view import AWAITING
from projections.common import money, org_names, prefix_of, starts_with
from projections.sql import case_tables


@dataclass(frozen=True)
class SubsidyRow:
    kind: str  # "mediator" | "studio"
    id: UUID
    name: str
    cases: int
    amount: Decimal
    compensating_entries: int
    awaiting_verification_cases: int = 0
    awaiting_verification_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class SubsidyTotals:
    cases: int
    amount: Decimal
    compensating_entries: int
    awaiting_verification_cases: int = 0
    awaiting_verification_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class SubsidyStatement:
    region: str
    month: str
    rows: list[SubsidyRow]
    totals: SubsidyTotals
    # the entries no mediator was assigned to (a mediation that ended before assignment):
    # in the studio statement, and a row of their own in the mediator statement
    unassigned: SubsidyTotals | None = None


@dataclass(frozen=True)
class SubsidyPart:
    """One statement of the month: the studios' or the mediators'. ``totals`` is the sum of
    ``rows`` (and of ``unassigned``), so both statements add up to the same month total."""

    kind: str  # "studio" | "mediator"
    rows: list[SubsidyRow]
    unassigned: SubsidyTotals | None
    totals: SubsidyTotals


def _summed(rows: list[SubsidyRow], extra: SubsidyTotals | None) -> SubsidyTotals:
    parts: list[SubsidyRow | SubsidyTotals] = [*rows, *([extra] if extra else [])]
    return SubsidyTotals(
        cases=sum(r.cases for r in parts),
        amount=sum((r.amount for r in parts), Decimal("0.00")),
        compensating_entries=sum(r.compensating_entries for r in parts),
        awaiting_verification_cases=sum(r.awaiting_verification_cases for r in parts),
        awaiting_verification_amount=sum(
            (r.awaiting_verification_amount for r in parts), Decimal("0.00")
        ),
    )


def parts(statement: SubsidyStatement) -> tuple[SubsidyPart, SubsidyPart]:
    """The studio statement and the mediator statement, apart, each with its own totals."""
    studios = [r for r in statement.rows if r.kind == "studio"]
    mediators = [r for r in statement.rows if r.kind == "mediator"]
    return (
        SubsidyPart("studio", studios, None, _summed(studios, None)),
        SubsidyPart(
            "mediator",
            mediators,
            statement.unassigned,
            _summed(mediators, statement.unassigned),
        ),
    )


def subsidies(engine: Engine, *, region: str, month: str) -> SubsidyStatement:
    prefix = prefix_of(region)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise ValidationFailed("month is YYYY-MM", field="month")
    t = case_tables()
    s = t["subsidies"].c
    with engine.connect() as conn:
        entries = list(
            conn.execute(
                select(t["subsidies"]).where(
                    and_(s.month == month, starts_with(s.region_code, prefix))
                )
            )
        )
        awaiting = _awaiting_verification(conn, t["subsidies"], prefix, month)
    paid = [e for e in entries if e.outcome != AWAITING]
    per: dict[tuple[str, str], list[Any]] = defaultdict(list)
    waiting: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for target, items in ((per, paid), (waiting, awaiting)):
        for e in items:
            target[("mediator", e.mediator_id or "")].append(e)
            if e.studio_id:
                target[("studio", e.studio_id)].append(e)
    nobody = ("mediator", "")
    unassigned_paid, unassigned_waiting = per.pop(nobody, []), waiting.pop(nobody, [])
    keys = sorted(set(per) | set(waiting), key=lambda k: (k[0] != "studio", k))
    names = org_names(engine, ["studios", "mediators"], [k[1] for k in keys])
    rows = []
    for kind, ident in keys:
        items, pending = per.get((kind, ident), []), waiting.get((kind, ident), [])
        rows.append(
            SubsidyRow(
                kind=kind,
                id=UUID(ident),
                name=names.get(ident, ident),
                cases=len({e.case_id for e in items if not e.compensating}),
                amount=money(sum(e.amount_cents for e in items)),
                compensating_entries=sum(1 for e in items if e.compensating),
                awaiting_verification_cases=len(pending),
                awaiting_verification_amount=money(sum(e.amount_cents for e in pending)),
            )
        )
    totals = _totals(paid, awaiting)
    unassigned = None
    if unassigned_paid or unassigned_waiting:
        unassigned = _totals(unassigned_paid, unassigned_waiting)
    return SubsidyStatement(
        region=region, month=month, rows=rows, totals=totals, unassigned=unassigned
    )


def _totals(paid: list[Any], awaiting: list[Any]) -> SubsidyTotals:
    return SubsidyTotals(
        cases=len({e.case_id for e in paid if not e.compensating}),
        amount=money(sum(e.amount_cents for e in paid)),
        compensating_entries=sum(1 for e in paid if e.compensating),
        awaiting_verification_cases=len(awaiting),
        awaiting_verification_amount=money(sum(e.amount_cents for e in awaiting)),
    )


def _awaiting_verification(conn: Connection, table: Table, prefix: str, month: str) -> list[Any]:
    """Successes by performance recorded by the end of ``month`` and not verified by then."""
    s = table.c
    found = conn.execute(
        select(table).where(
            and_(
                s.month <= month,
                starts_with(s.region_code, prefix),
                s.outcome.in_([AWAITING, "succeeded"]),
            )
        )
    )
    waiting: dict[tuple[str, int], Any] = {}
    verified: set[tuple[str, int]] = set()
    for e in found:
        key = (str(e.case_id), int(e.mediation))
        if e.outcome == AWAITING:
            waiting[key] = e
        else:
            verified.add(key)
    return [e for key, e in sorted(waiting.items()) if key not in verified]
