"""Acceptance 1: every caseload figure equals an independent fold over the event log,
for every group_by and for random as_of moments, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
from dataclasses import asdict
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import caseload, drilldown
from projections.system import System
from tests.projections.history import all_events, drive, fold
from tests.support.factories import SteppingClock

FIELDS = [
    "received",
    "entrusted",
    "concluded",
    "succeeded",
    "succeeded_by_performance",
    "succeeded_by_statement",
    "failed",
    "pending",
    "overdue",
    "success_rate",
    "mediation_share",
    "amount_claimed",
    "amount_agreed",
    "amount_paid",
    "median_days_to_conclusion",
    "workers",  # issue 17
    "collective",
]


def _figures(figures: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in figures.items() if k in FIELDS}


def _compare(system: System, events: list[object], rng: random.Random) -> None:
    stamps = sorted(e.timestamp for e in events)  # type: ignore[attr-defined]
    moments = [None, *rng.sample(stamps, min(4, len(stamps)))]
    # whole months without as_of are answered from the pre-aggregated counters
    whole_months = [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 4, 30)),
        # read from quarter and year rows (and a month before them)
        (date(2025, 12, 1), date(2026, 6, 30)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        # stocks from open tails summed in the year rows of earlier years
        (date(2027, 1, 1), date(2027, 1, 31)),
        (date(2027, 1, 1), date(2027, 6, 30)),
    ]
    for moment in [*moments, "months"]:
        for group_by in caseload.GROUP_BYS:
            as_of = None if moment == "months" else moment
            start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 60))
            end = start + timedelta(days=rng.randint(0, 90))
            if moment == "months":
                start, end = rng.choice(whole_months)
            region = rng.choice(["420000", "420100", "420102", "420500"])
            report = caseload.caseload(
                system.engine, region=region, from_=start, to=end, group_by=group_by, as_of=as_of
            )
            prefix = {"420000": "42", "420100": "4201", "420102": "420102", "420500": "4205"}[
                region
            ]
            expected_rows, expected_total = fold(
                events, prefix=prefix, from_=start, to=end, group_by=group_by, as_of=as_of
            )
            context = f"group_by={group_by} region={region} {start}..{end} as_of={as_of}"
            got_total = {k: v for k, v in asdict(report.totals).items() if k in FIELDS}
            assert got_total == _figures(expected_total), context
            got_rows = {
                row.key: {k: v for k, v in asdict(row).items() if k in FIELDS}
                for row in report.rows
            }
            assert got_rows == {k: _figures(v) for k, v in expected_rows.items()}, context
            # drill-down (one SQL statement each): the cases behind every figure of a random
            # row (or the totals) equal the independent fold's
            key = rng.choice([*sorted(expected_rows), "total"])
            behind = expected_total if key == "total" else expected_rows[key]
            for measure in sorted(expected_total["cases"]):
                drilled = drilldown.caseload_cases(
                    system.engine,
                    region=region,
                    from_=start,
                    to=end,
                    group_by=group_by,
                    as_of=as_of,
                    measure=measure,
                    key=key,
                )
                assert {str(c) for c in drilled} == behind["cases"][measure], (
                    f"{context} key={key} {measure}"
                )


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "3")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), cases=st.integers(4, 14), batch=st.sampled_from([1, 7, 500]))
def test_every_figure_equals_an_independent_fold(
    database_url: str, seed: int, cases: int, batch: int
) -> None:
    # Each example gets a store of its own: a schema/file suffix keyed by the seed.
    url = _fresh(database_url, seed)
    clock = SteppingClock()
    system = System(url, clock=clock, in_process=False)
    try:
        system.runner.batch_size = batch
        rng = random.Random(seed)
        drive(system.app, clock, rng, cases=cases, days=70)
        system.catch_up()
        assert system.lag() == 0
        _compare(system, all_events(system.app), rng)
    finally:
        system.close()
        _drop(url, database_url)


def _fresh(database_url: str, seed: int) -> str:
    import uuid

    import psycopg

    tag = uuid.uuid4().hex[:8]
    if database_url.startswith("sqlite:///"):
        return database_url.replace(".sqlite3", f"-{tag}.sqlite3")
    base, schema = database_url.split("?schema=")
    new = f"{schema}_{tag}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{new}"')
    return f"{base}?schema={new}"


def _drop(url: str, database_url: str) -> None:
    import psycopg

    if url.startswith("postgresql") and url != database_url:
        base, schema = url.split("?schema=")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
