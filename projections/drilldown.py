"""The cases behind one caseload figure: one SQL statement per drill-down, selecting the
case ids by the same predicates the exact caseload query counts with
(``projections.caseload_exact.case_ids``; the definitions are in ``projections.caseload``).

It never folds the period's facts in Python: at 10^6 events that fold took over a minute
per request (docs/performance.md, "Load test")."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Engine

from mediation.errors import ValidationFailed
from projections import caseload_exact
from projections.caseload import MEASURES, check
from projections.common import TOTAL_KEY


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
    """The cases behind one figure (``key`` = a row's key, or ``"total"``), sorted."""
    return [
        UUID(c)
        for c in case_ids(
            engine,
            region=region,
            from_=from_,
            to=to,
            group_by=group_by,
            as_of=as_of,
            measure=measure,
            key=key,
        )
    ]


def case_ids(
    engine: Engine,
    *,
    region: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None = None,
    measure: str,
    key: str,
    newest_first: bool = False,
) -> list[str]:
    """``caseload_cases`` as the ids' text (a page showing 50 of 20,000 cases makes 50
    UUIDs, not 20,000: 15 % of a drill-down page at 10^6 events); ``newest_first``: by the
    date of what counted each case (receipt, entrustment, the fact), latest first, then by
    id — the order a person reads a list in — instead of by id."""
    if measure not in MEASURES:
        raise ValidationFailed(f"measure must be one of {', '.join(MEASURES)}", field="measure")
    prefix, cutoff = check(region, from_, to, group_by, as_of)
    query = caseload_exact.case_ids(
        measure, None if key == TOTAL_KEY else group_by, key, prefix, from_, to, cutoff
    )
    with engine.connect() as conn:
        rows = [(str(c).lower(), on) for c, on in conn.execute(query)]
    # the canonical text of UUIDs sorts as the UUIDs do
    if newest_first:
        rows.sort(key=lambda r: (r[1], r[0]), reverse=True)
    else:
        rows.sort(key=lambda r: r[0])
    return [c for c, _ in rows]
