"""A rebuild split by case over processes (``rebuild.Rebuilder``): each part's counters
are summed whichever way they were kept, and a part that fails or is killed fails the
whole rebuild (nothing is swapped in, no process is left behind, the next rebuild works).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections.abc import Iterator

import pytest

from projections import cases_load, raw_reader
from projections.cases_view import CasesView
from projections.raw_reader import part_of
from projections.rebuild import RebuildWorkerFailed, table_rows
from projections.sql import case_tables
from projections.system import System
from tests.projections.history import drive
from tests.support.factories import SteppingClock


@pytest.fixture
def system(database_url: str, clock: SteppingClock) -> Iterator[System]:
    built = System(database_url, clock=clock, in_process=False)
    try:
        drive(built.app, clock, random.Random(5), cases=16, days=60)
        built.catch_up()
        yield built
    finally:
        built.close()


def _live(system: System) -> dict[str, list[tuple[object, ...]]]:
    return table_rows(system.engine, case_tables())


def test_a_part_that_staged_its_counters_and_one_that_rolled_them_up(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's counters exceed its limit (staged in the side tables as they go), the
    rebuilding process's do not (rolled up in memory): the sums still equal the live ones."""
    parent = os.getpid()

    def limit() -> int:
        return 1 if os.getpid() != parent else 10**9

    monkeypatch.setattr(cases_load, "carry_counters", limit)
    flushes: list[list[int]] = []
    absorb = CasesView.absorb

    def count(view: CasesView, parts: list[cases_load.LoadPart]) -> None:
        flushes.append([part.counter_flushes for part in parts])
        absorb(view, parts)

    monkeypatch.setattr(CasesView, "absorb", count)
    system.runner.rebuild("cases", swap=False, workers=2)
    assert flushes == [[0, 1]]
    assert table_rows(system.engine, case_tables("__next")) == _live(system)


def _fault_in_workers(action: str) -> object:
    """``raise`` or ``kill`` while folding an event; ``kill-writing``: after a batch's
    writes, before its commit (on SQLite, holding the lock the parts write under)."""
    parent = os.getpid()

    def fault(position: int) -> None:
        if os.getpid() == parent or (position == 0) != (action == "kill-writing"):
            return
        if action.startswith("kill"):
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError(f"broken at {position}")

    return fault


@pytest.mark.parametrize("action", ["raise", "kill", "kill-writing"])
def test_a_failed_or_killed_worker_fails_the_rebuild(system: System, action: str) -> None:
    before = _live(system)
    system.runner.fault = _fault_in_workers(action)  # type: ignore[assignment]
    with pytest.raises(RebuildWorkerFailed) as failed:
        system.runner.rebuild("cases", workers=3)
    expected = "RuntimeError: broken at" if action == "raise" else "exited with code -9"
    assert expected in str(failed.value)
    assert not multiprocessing.active_children()
    assert _live(system) == before  # nothing swapped in
    system.runner.fault = None
    system.runner.rebuild("cases", swap=False, workers=3)
    assert table_rows(system.engine, case_tables("__next")) == before


def test_a_failure_in_the_rebuilding_process_stops_its_workers(system: System) -> None:
    parent = os.getpid()

    def fault(position: int) -> None:
        if os.getpid() == parent and position:
            raise RuntimeError("the rebuilding process broke")

    before = _live(system)
    system.runner.fault = fault
    with pytest.raises(RuntimeError, match="the rebuilding process broke"):
        system.runner.rebuild("cases", workers=2)
    assert not multiprocessing.active_children()
    assert _live(system) == before


def test_parts_split_the_cases_evenly_and_the_same_way_on_every_backend() -> None:
    """An id's part is its last byte modulo the parts (PostgreSQL computes it in SQL)."""
    ids = [str(random.Random(n).randbytes(16).hex()) for n in range(4000)]
    for parts in (2, 3, 4):
        sizes = [0] * parts
        for case_id in ids:
            sizes[part_of(case_id, parts)] += 1
        assert min(sizes) > len(ids) / parts * 0.85
    canonical = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    assert part_of(canonical, 4) == part_of(canonical.replace("-", ""), 4) == 0x01 % 4


def test_parts_through_the_librarys_reader(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recorder the fast reader does not know: each part reads through the library and
    keeps its own cases' events (``part_of`` on the notification's id)."""
    monkeypatch.setattr(raw_reader, "reader_for", lambda *_args: None)
    system.runner.rebuild("cases", swap=False, workers=2)
    assert table_rows(system.engine, case_tables("__next")) == _live(system)
