"""Acceptance 2 and 3: exactly-once processing.

* faults raised inside the view update at random points, then a restart, give tables
  identical to a clean rebuild;
* a real ``kill -9`` of a following worker process, repeated while a writer keeps saving
  (``MEDIATION_FAULTS_FULL=1``: more kills), then a restart, does too;
* replaying an already tracked position is refused and changes nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from projections.rebuild import table_rows
from projections.runner import PoisonEvent, PositionAlreadyTracked
from projections.sql import NEXT, case_tables, organisation_tables
from projections.system import System
from tests.faults.conftest import scale
from tests.projections.history import drive
from tests.support.factories import CLERK, SteppingClock, new_case


class InjectedFault(Exception):
    pass


def _all_rows(system: System, suffix: str = "") -> dict[str, object]:
    return {
        **table_rows(system.engine, case_tables(suffix)),
        **table_rows(system.engine, organisation_tables(suffix)),
    }


def _rebuilt_rows(system: System) -> dict[str, object]:
    """A clean rebuild of every view beside the live tables (not swapped in)."""
    for name in system.runner.views:
        system.runner.rebuild(name, swap=False)
    return _all_rows(system, NEXT)


def test_replaying_a_tracked_position_is_refused_and_changes_nothing(
    database_url: str, clock: SteppingClock
) -> None:
    system = System(database_url, clock=clock, in_process=False)
    try:
        drive(system.app, clock, random.Random(7), cases=5, days=25)
        system.catch_up()
        before = _all_rows(system)
        view = system.runner.view("cases")
        tracked = system.runner.tracked("cases")
        # the whole log again, and a single event again
        events, _ = system.runner.read(view, 0, tracked)
        with pytest.raises(PositionAlreadyTracked):
            system.runner.apply(view, events, tracked)
        with pytest.raises(PositionAlreadyTracked):
            system.runner.apply(view, events[-1:], events[-1][0])
        assert _all_rows(system) == before
        assert system.runner.tracked("cases") == tracked
    finally:
        system.close()


def test_two_runners_reading_the_same_batch_count_it_once(
    database_url: str, clock: SteppingClock
) -> None:
    system = System(database_url, clock=clock, in_process=False)
    other = System(database_url, clock=clock, in_process=False)
    try:
        drive(system.app, clock, random.Random(8), cases=4, days=20)
        view_a, view_b = system.runner.view("cases"), other.runner.view("cases")
        head = system.runner.head()
        batch_a = system.runner.read(view_a, 0, head)
        batch_b = other.runner.read(view_b, 0, head)
        system.runner.apply(view_a, *batch_a)
        with pytest.raises(PositionAlreadyTracked):
            other.runner.apply(view_b, *batch_b)
        system.catch_up()
        assert _all_rows(system) == _rebuilt_rows(system)
    finally:
        other.close()
        system.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_faults_inside_the_view_update_then_restart_equal_a_clean_rebuild(
    database_url: str, clock: SteppingClock, seed: int
) -> None:
    writer = System(database_url, clock=clock, in_process=False)
    try:
        drive(writer.app, clock, random.Random(seed), cases=8, days=40)
    finally:
        writer.close()
    rng = random.Random(seed)
    faults = 0

    def fault(position: int) -> None:
        nonlocal faults
        if rng.random() < 0.04:
            faults += 1
            raise InjectedFault(position)

    for _attempt in range(200):
        # every attempt is a restart: a fresh System resuming from its tracking records
        restarted = System(database_url, clock=clock, in_process=False)
        try:
            restarted.runner.batch_size = rng.choice([1, 3, 10, 50])
            restarted.runner.fault = fault
            try:
                # a failed batch is re-run one event at a time; a fault met again there
                # halts the view (PoisonEvent) until the restart
                restarted.catch_up()
            except (InjectedFault, PoisonEvent):
                continue
            restarted.runner.fault = None
            assert restarted.lag() == 0
            assert _all_rows(restarted) == _rebuilt_rows(restarted)
            break
        finally:
            restarted.close()
    else:  # pragma: no cover
        pytest.fail("never caught up")
    assert faults > 0


def _worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "projections.worker", "--url", url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.faults
def test_kill_9_of_a_following_worker_then_restart_equals_a_clean_rebuild(
    database_url: str, clock: SteppingClock
) -> None:
    """Killed again and again while the store moves on (a writer thread keeps saving)."""
    import threading

    kills = scale(3, 12)
    rng = random.Random(11)
    system = System(database_url, clock=clock, in_process=False)
    worker: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:  # the load: cases keep arriving while workers come and go
        try:
            for i in range(10_000):
                if stop.is_set():
                    return
                new_case(system.app, received_on=date(2026, 2, 1 + i % 28), ctx=CLERK)
                written.append(i)
                time.sleep(0.005)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    writer = threading.Thread(target=write)
    try:
        drive(system.app, clock, random.Random(11), cases=30, days=60)
        writer.start()
        behind_at_kill = 0
        for _ in range(kills):
            before = system.runner.min_tracked()
            batch = rng.choice(["1", "5", "50"])
            worker = _worker(database_url, "--follow", "--batch", batch, "--poll", "0.02")
            deadline = time.monotonic() + 60
            while system.runner.min_tracked() <= before and time.monotonic() < deadline:
                time.sleep(0.01)
            assert system.runner.min_tracked() > before, "the worker made no progress"
            time.sleep(rng.uniform(0.02, 0.3))
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            worker = None
            behind_at_kill += system.runner.min_tracked() < system.runner.head()
        stop.set()
        writer.join(timeout=60)
        assert errors == [] and written, "the writer did not write"
        assert behind_at_kill > 0, "every worker had caught up before it was killed"
        worker = _worker(database_url, "--follow", "--batch", "50", "--poll", "0.02")
        deadline = time.monotonic() + 60
        while system.lag() > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert system.lag() == 0, "worker did not catch up"
        worker.terminate()
        worker.wait()
        worker = None
        assert _all_rows(system) == _rebuilt_rows(system)
    finally:
        stop.set()
        if writer.is_alive():
            writer.join(timeout=60)
        if worker is not None:
            worker.kill()
            worker.wait()
        system.close()


def test_two_in_process_systems_writing_at_once_count_every_event_once(
    database_url: str, clock: SteppingClock
) -> None:
    """Two API processes on one store: each catches up after its own saves, they race."""
    import threading

    first = System(database_url, clock=clock)
    second = System(database_url, clock=clock)
    errors: list[BaseException] = []

    def write(system: System, offset: int) -> None:
        try:
            for i in range(12):
                new_case(system.app, received_on=date(2026, 3, 1 + (i + offset) % 20))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    try:
        threads = [
            threading.Thread(target=write, args=(first, 0)),
            threading.Thread(target=write, args=(second, 5)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        first.catch_up()
        assert first.lag() == 0 and second.lag() == 0
        rows = _all_rows(first)
        assert len(rows["cases"]) == 24  # type: ignore[arg-type]
        assert rows == _rebuilt_rows(first)
    finally:
        second.close()
        first.close()


def test_views_caught_up_together_commit_or_roll_back_as_one(
    database_url: str, clock: SteppingClock
) -> None:
    """The in-process path: a short backlog goes to every view in one transaction."""
    system = System(database_url, clock=clock, in_process=False)
    try:
        drive(system.app, clock, random.Random(12), cases=3, days=10)
        system.catch_up()
        settled = _all_rows(system)
        before = system.runner.tracked_all()
        assert len(set(before.values())) == 1
        new_case(system.app, received_on=system.today(), ctx=CLERK)
        head = system.runner.head()
        assert head - min(before.values()) <= system.runner.batch_size

        def fault(position: int) -> None:
            if position == 0:  # after every view's writes, before the commit
                raise InjectedFault(position)

        system.runner.fault = fault
        with pytest.raises(InjectedFault):
            system.runner._catch_up_together(min(before.values()))
        assert system.runner.tracked_all() == before
        assert _all_rows(system) == settled
        system.runner.fault = None
        assert system.runner.catch_up() == head
        assert set(system.runner.tracked_all().values()) == {head}
        assert _all_rows(system) == _rebuilt_rows(system)
    finally:
        system.close()
