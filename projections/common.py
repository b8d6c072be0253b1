"""What the read questions share: the region prefix, money and rates, organisation names,
and the SQL of "as known at ``as_of``" over ``rm_facts`` and ``rm_claims``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, exists, or_, select

from mediation import regions
from mediation.errors import ValidationFailed
from projections.sql import case_tables, organisation_tables

NONE_KEY = "none"
TOTAL_KEY = "total"
RATE = Decimal("0.0001")
CENT = Decimal("0.01")


def prefix_of(region: str) -> str:
    """The digits a region's codes start with (a GB/T 2260 code, or a prefix of 2 to 6 digits)."""
    if re.fullmatch(r"\d{6}", region or ""):
        if not regions.is_valid_region_code(region):
            raise ValidationFailed(f"unknown region {region!r}", field="region")
        return regions.region_prefix(region)
    if re.fullmatch(r"\d{2,6}", region or "") and len(region) % 2 == 0:
        return region
    raise ValidationFailed(f"region must be a GB/T 2260 code, got {region!r}", field="region")


def money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def rate(num: int, den: int) -> Decimal | None:
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE, rounding=ROUND_HALF_UP)


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with the digits ``prefix``, as an index-friendly range."""
    upper = str(int(prefix) + 1).zfill(len(prefix))
    result: ColumnElement[bool] = and_(column >= prefix, column < upper)
    return result


def org_names(engine: Engine, tables: Sequence[str], ids: Sequence[str]) -> dict[str, str]:
    """The names of the studios and/or mediators (``tables``) with these ids."""
    names: dict[str, str] = {}
    if not ids:
        return names
    org = organisation_tables()
    with engine.connect() as conn:
        for name in tables:
            table = org[name]
            id_col = table.c.studio_id if name == "studios" else table.c.mediator_id
            for row in conn.execute(select(id_col, table.c.name).where(id_col.in_(ids))):
                names[row[0]] = row[1]
    return names


# ---------------------------------------------------------------------- as known at as_of


def known(columns: Any, cutoff: datetime | None) -> list[ColumnElement[bool]]:
    """Facts recorded at or before ``cutoff`` (all of them without one)."""
    return [columns.recorded_at <= cutoff] if cutoff is not None else []


def claims_received(
    prefix: str, from_: date, to: date, cutoff: datetime | None
) -> list[ColumnElement[bool]]:
    """Claims received in the period that belonged to their case as known at ``cutoff``."""
    cl = case_tables()["claims"].c
    where = [starts_with(cl.region_code, prefix), cl.received_on >= from_, cl.received_on <= to]
    if cutoff is None:
        where.append(cl.recorded_to.is_(None))
    else:
        where += [
            cl.recorded_from <= cutoff,
            or_(cl.recorded_to.is_(None), cl.recorded_to > cutoff),
        ]
    return where


def same_mediation(alias: Any, other: Any) -> ColumnElement[bool]:
    """Two ``rm_facts`` aliases' rows are of the same mediation."""
    result: ColumnElement[bool] = and_(
        alias.c.case_id == other.c.case_id, alias.c.mediation == other.c.mediation
    )
    return result


def concluded_by(entrusted: Any, to: date, cutoff: datetime | None) -> Any:
    """EXISTS a conclusion of the mediation of ``entrusted`` (a ``rm_facts`` alias) dated by
    ``to``: its failure, or its success not reversed (as known at ``cutoff``)."""
    facts = case_tables()["facts"]
    c, r = facts.alias("c"), facts.alias("r")
    same = same_mediation
    # a reversal reverses the success recorded before it (v1.1 rule 5: after a pre-filing
    # retraction the same mediation may still succeed by performance)
    reversal = exists().where(
        and_(
            same(r, c),
            r.c.kind == "reversed",
            r.c.position > c.c.position,
            *known(r.c, cutoff),
        )
    )
    return exists().where(
        and_(
            same(c, entrusted),
            c.c.on <= to,
            or_(c.c.kind == "failed", and_(c.c.kind == "succeeded", ~reversal)),
            *known(c.c, cutoff),
        )
    )
