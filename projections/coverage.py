"""Pilot coverage: the counties of a region with an active studio located in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, or_, select

from mediation import regions
from projections.common import prefix_of, starts_with
from projections.sql import organisation_tables


@dataclass(frozen=True)
class Coverage:
    region: str
    on: date
    counties_total: int
    counties_covered: int
    covered: list[str]
    uncovered: list[str]


def pilot_coverage(engine: Engine, *, region: str, on: date) -> Coverage:
    """Counties of ``region`` with at least one studio located in them and active on ``on``.

    A studio is located in a county when its region code is the county's (or falls
    within it); city-level workstations and outposts serve the whole city but do not make
    each of its counties a pilot county.
    """
    prefix = prefix_of(region)
    code = (prefix + "0000")[:6]
    own = regions.get_region(code)
    if own is not None and own.level == "county":
        counties = [code]
    else:
        counties = [r.code for r in regions.counties_under(code)]
    studios = organisation_tables()["studios"]
    c = studios.c
    with engine.connect() as conn:
        located = {
            row.region_code
            for row in conn.execute(
                select(c.region_code).where(
                    and_(
                        starts_with(c.region_code, prefix),
                        c.established_on <= on,
                        or_(c.closed_on.is_(None), c.closed_on > on),
                    )
                )
            )
        }
    covered = [county for county in counties if county in located]
    uncovered = [county for county in counties if county not in located]
    return Coverage(
        region=region,
        on=on,
        counties_total=len(counties),
        counties_covered=len(covered),
        covered=covered,
        uncovered=uncovered,
    )
