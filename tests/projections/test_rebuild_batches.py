"""A rebuild carries case rows, fact keys and counters across its batches: with small
batches (so that marks, severances and counters cross them) it must still give exactly
the tables that incremental catch-up gives, in one process or split by case over
several (``workers``)."""

from __future__ import annotations

import random

import pytest

from projections import cases_load
from projections import rebuild as rebuild_module
from projections.cases_view import CasesView
from projections.rebuild import table_rows
from projections.sql import case_tables
from projections.system import System
from tests.projections.history import drive
from tests.support.factories import SteppingClock


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize(
    ("size", "carry", "cases_in_memory"),
    [(1, True, None), (13, True, None), (13, False, None), (1, True, 2), (13, True, 3)],
)
def test_rebuild_in_small_batches_equals_incremental(
    database_url: str,
    clock: SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    carry: bool,
    cases_in_memory: int | None,
    workers: int,
) -> None:
    """``carry=False``: a history above the carry limit is rebuilt streaming.

    ``cases_in_memory``: the carried rows are capped, so cases are spilled to the side
    table, read back by their later events, and marks on their facts are deferred.
    """
    monkeypatch.setenv(rebuild_module.CARRY_LIMIT_ENV, "" if carry else "0")
    monkeypatch.setenv(cases_load.CARRY_CASES_ENV, str(cases_in_memory or ""))
    # capped cases also stage the counters every few changes (merged at the end)
    monkeypatch.setenv(cases_load.CARRY_COUNTERS_ENV, "5" if cases_in_memory else "")
    loads: list[cases_load.Load] = []
    begin_load = CasesView.begin_load

    def remember(view: CasesView) -> None:
        begin_load(view)
        assert view.carried is not None
        loads.append(view.carried)

    monkeypatch.setattr(CasesView, "begin_load", remember)
    absorbed: list[list[int]] = []  # per partitioned load: each part's counter flushes
    absorb = CasesView.absorb

    def count(view: CasesView, parts: list[cases_load.LoadPart]) -> None:
        absorbed.append([part.counter_flushes for part in parts])
        absorb(view, parts)

    monkeypatch.setattr(CasesView, "absorb", count)
    system = System(database_url, clock=clock, in_process=False)
    try:
        system.runner.batch_size = 5
        drive(system.app, clock, random.Random(11), cases=14, days=70)
        system.catch_up()
        monkeypatch.setattr(rebuild_module, "REBUILD_BATCH_SIZE", size)
        system.runner.batch_size = size
        system.runner.rebuild("cases", swap=False, workers=workers)
        assert table_rows(system.engine, case_tables("__next")) == table_rows(
            system.engine, case_tables()
        )
        if cases_in_memory is not None:  # the spill paths really ran
            assert loads[-1].spilled > 0
            assert loads[-1].reloaded > 0
            assert loads[-1].deferred
            assert loads[-1].counter_flushes > 0
        # split by case over the workers (a history that streams is never split)
        assert [len(flushes) for flushes in absorbed] == (
            [workers] if carry and workers > 1 else []
        )
        if carry and workers > 1:  # the parts' states are gone; the load's reached the head
            assert system.runner.tracked("cases", "__next") == system.runner.head()
            assert system.runner.tracked("cases", "__next.p1") == 0
    finally:
        system.close()
