"""The monthly case-handling subsidy statement, per mediator and per studio."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, select

from mediation.errors import ValidationFailed
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


@dataclass(frozen=True)
class SubsidyTotals:
    cases: int
    amount: Decimal
    compensating_entries: int


@dataclass(frozen=True)
class SubsidyStatement:
    region: str
    month: str
    rows: list[SubsidyRow]
    totals: SubsidyTotals


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
    per: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for e in entries:
        if e.mediator_id:
            per[("mediator", e.mediator_id)].append(e)
        if e.studio_id:
            per[("studio", e.studio_id)].append(e)
    names = org_names(engine, ["studios", "mediators"], [k[1] for k in per])
    rows = [
        SubsidyRow(
            kind=kind,
            id=UUID(ident),
            name=names.get(ident, ident),
            cases=len({e.case_id for e in items if not e.compensating}),
            amount=money(sum(e.amount_cents for e in items)),
            compensating_entries=sum(1 for e in items if e.compensating),
        )
        for (kind, ident), items in sorted(
            per.items(), key=lambda kv: (kv[0][0] != "studio", kv[0])
        )
    ]
    totals = SubsidyTotals(
        cases=len({e.case_id for e in entries if not e.compensating}),
        amount=money(sum(e.amount_cents for e in entries)),
        compensating_entries=sum(1 for e in entries if e.compensating),
    )
    return SubsidyStatement(region=region, month=month, rows=rows, totals=totals)
