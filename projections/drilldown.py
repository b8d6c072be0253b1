"""The cases behind one caseload figure: the facts of the period folded in Python into the
set of cases each measure counts (the definitions are in ``projections.caseload``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Select, and_, or_, select

from mediation import regions
from mediation.errors import ValidationFailed
from projections.caseload import MEASURES, check
from projections.common import (
    NONE_KEY,
    TOTAL_KEY,
    claims_received,
    concluded_by,
    known,
    starts_with,
)
from projections.sql import case_tables

Mediation = tuple[str, int]  # (case id, mediation number)


@dataclass
class _Cases:
    """The cases (or mediations) one row's figures count."""

    received: set[str] = field(default_factory=set)
    collective: set[str] = field(default_factory=set)
    entrusted: set[Mediation] = field(default_factory=set)
    succeeded: dict[Mediation, str] = field(default_factory=dict)  # by branch
    failed: set[Mediation] = field(default_factory=set)
    pending: set[Mediation] = field(default_factory=set)
    overdue: set[Mediation] = field(default_factory=set)
    agreed: set[str] = field(default_factory=set)
    paid: set[str] = field(default_factory=set)

    def of(self, measure: str) -> set[str]:
        def ids(items: Iterable[Mediation]) -> set[str]:
            return {case_id for case_id, _ in items}

        by_measure: dict[str, Callable[[], set[str]]] = {
            "received": lambda: set(self.received),
            "amount_claimed": lambda: set(self.received),
            "workers": lambda: set(self.received),
            "collective": lambda: set(self.collective),
            "entrusted": lambda: ids(self.entrusted),
            "succeeded": lambda: ids(self.succeeded),
            "succeeded_by_performance": lambda: ids(
                m for m, b in self.succeeded.items() if b == "performance"
            ),
            "succeeded_by_statement": lambda: ids(
                m for m, b in self.succeeded.items() if b == "statement"
            ),
            "failed": lambda: ids(self.failed),
            "concluded": lambda: ids(self.succeeded) | ids(self.failed),
            "pending": lambda: ids(self.pending),
            "overdue": lambda: ids(self.overdue),
            "amount_agreed": lambda: set(self.agreed),
            "amount_paid": lambda: set(self.paid),
        }
        return by_measure[measure]()


def caseload_cases(
    engine: Engine,
    *,
    region: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None = None,
    measure: str,
    key: str,
) -> list[UUID]:
    """The cases behind one figure (``key`` = a row's key, or ``"total"``)."""
    if measure not in MEASURES:
        raise ValidationFailed(f"measure must be one of {', '.join(MEASURES)}", field="measure")
    prefix, cutoff = check(region, from_, to, group_by, as_of)
    groups, total = _fold(engine, group_by, prefix, from_, to, cutoff)
    cases = total if key == TOTAL_KEY else groups.get(key, _Cases())
    return sorted(UUID(c) for c in cases.of(measure))


def _keys(group_by: str, dims: dict[str, Any], month_of: date) -> list[str]:
    if group_by == "city":
        city = regions.city_of(dims["region_code"])
        return [city.code if city else dims["region_code"][:4] + "00"]
    if group_by == "county":
        return [dims["region_code"]]
    if group_by == "studio":
        return [dims.get("studio_id") or NONE_KEY]
    if group_by == "mediator":
        return [dims.get("mediator_id") or NONE_KEY]
    if group_by == "month":
        return [month_of.strftime("%Y-%m")]
    if group_by == "claim_category":
        return [c for c in dims["categories"].split(",") if c] or [NONE_KEY]
    if group_by == "route":
        return [dims.get("route") or NONE_KEY]
    if group_by == "failure_reason":
        return [dims.get("reason_code") or NONE_KEY]
    return [dims["worker_category"]]


def _fold(
    engine: Engine, group_by: str, prefix: str, from_: date, to: date, cutoff: datetime | None
) -> tuple[dict[str, _Cases], _Cases]:
    t = case_tables()
    groups: dict[str, _Cases] = defaultdict(_Cases)
    total = _Cases()

    def rows_of(dims: dict[str, Any], month_of: date) -> list[_Cases]:
        return [groups[k] for k in _keys(group_by, dims, month_of)] + [total]

    with engine.connect() as conn:
        # received: claims that belonged to the case as known at as_of
        claims: dict[str, list[Any]] = defaultdict(list)
        query = select(t["claims"]).where(and_(*claims_received(prefix, from_, to, cutoff)))
        for row in conn.execute(query):
            claims[row.case_id].append(row)
        for case_id, rows in claims.items():
            first = rows[0]
            dims = {
                "region_code": first.region_code,
                "worker_category": first.worker_category,
                "categories": ",".join(sorted({r.category for r in rows})),
            }
            for cases in rows_of(dims, first.received_on):
                cases.received.add(case_id)
                if first.collective:
                    cases.collective.add(case_id)

        # facts dated in the period (and the reversals of successes dated in it)
        f = t["facts"].c
        in_period = select(t["facts"]).where(
            and_(
                starts_with(f.region_code, prefix),
                f.kind.in_(("entrusted", "succeeded", "failed", "agreed", "paid", "reversed")),
                or_(
                    and_(f.on >= from_, f.on <= to),
                    and_(f.kind == "reversed", f.on >= from_),
                ),
                *known(f, cutoff),
            )
        )
        facts = list(conn.execute(in_period))
        # a reversal reverses the success recorded before it (v1.1 rule 5)
        reversals: dict[tuple[str, int], list[int]] = defaultdict(list)
        for r in facts:
            if r.kind == "reversed":
                reversals[(r.case_id, r.mediation)].append(r.position)
        for r in facts:
            if r.kind == "reversed" or r.on > to:
                continue
            m = (r.case_id, r.mediation)
            for cases in rows_of(dict(r._mapping), r.on):
                if r.kind == "entrusted":
                    cases.entrusted.add(m)
                elif r.kind == "succeeded" and not any(
                    p > r.position for p in reversals.get(m, ())
                ):
                    cases.succeeded[m] = r.branch
                elif r.kind == "failed":
                    cases.failed.add(m)
                elif r.kind == "agreed":
                    cases.agreed.add(r.case_id)
                elif r.kind == "paid":
                    cases.paid.add(r.case_id)

        # pending and overdue at `to`
        for m, entrusted_on, dims in _pending(conn, prefix, to, cutoff):
            for cases in rows_of(dims, entrusted_on):
                cases.pending.add(m)
                if dims["window_ends_on"] < to:
                    cases.overdue.add(m)
    return groups, total


def _pending(
    conn: Any, prefix: str, to: date, cutoff: datetime | None
) -> list[tuple[Mediation, date, dict[str, Any]]]:
    """The mediations pending at ``to``, with the mediator and window they had then."""
    facts = case_tables()["facts"]
    e = facts.alias("e")
    query: Select[Any] = select(e).where(
        and_(
            starts_with(e.c.region_code, prefix),
            e.c.kind == "entrusted",
            e.c.on <= to,
            ~concluded_by(e, to, cutoff),
            *known(e.c, cutoff),
        )
    )
    entrusted = {(row.case_id, row.mediation): dict(row._mapping) for row in conn.execute(query)}
    if not entrusted:
        return []
    # the mediator assigned and the window as they stood at `to`, as known at as_of
    f = facts.c
    case_ids = sorted({case_id for case_id, _ in entrusted})
    updates: dict[Mediation, list[Any]] = defaultdict(list)
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i : i + 500]
        q = select(facts).where(
            and_(
                f.case_id.in_(chunk),
                f.kind.in_(("assigned", "window")),
                f.on <= to,
                *known(f, cutoff),
            )
        )
        for row in conn.execute(q):
            updates[(row.case_id, row.mediation)].append(row)
    out = []
    for m, dims in entrusted.items():
        for row in sorted(updates.get(m, []), key=lambda x: x.position):
            if row.kind == "assigned":
                dims["mediator_id"] = row.mediator_id
            else:
                dims["window_ends_on"] = row.window_ends_on
        out.append((m, dims["on"], dims))
    return out
