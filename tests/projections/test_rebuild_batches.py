"""A rebuild carries case rows, fact keys and counters across its batches: with small
batches (so that marks, severances and counters cross them) it must still give exactly
the tables that incremental catch-up gives."""

from __future__ import annotations

import random

import pytest

from projections import runner as runner_module
from projections.runner import table_rows
from projections.sql import case_tables
from projections.system import System
from tests.projections.history import drive
from tests.support.factories import SteppingClock


@pytest.mark.parametrize(("size", "carry"), [(1, True), (13, True), (13, False)])
def test_rebuild_in_small_batches_equals_incremental(
    database_url: str,
    clock: SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    carry: bool,
) -> None:
    """``carry=False``: a history above the carry limit is rebuilt streaming."""
    monkeypatch.setenv(runner_module.CARRY_LIMIT_ENV, "" if carry else "0")
    system = System(database_url, clock=clock, in_process=False)
    try:
        system.runner.batch_size = 5
        drive(system.app, clock, random.Random(11), cases=14, days=70)
        system.catch_up()
        monkeypatch.setattr(runner_module, "REBUILD_BATCH_SIZE", size)
        system.runner.batch_size = size
        system.runner.rebuild("cases", swap=False)
        assert table_rows(system.engine, case_tables("__next")) == table_rows(
            system.engine, case_tables()
        )
    finally:
        system.close()
