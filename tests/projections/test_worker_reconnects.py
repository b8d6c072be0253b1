"""The worker survives the database going away: its connections are terminated by the
server (as in a failover or restart), it reconnects by itself and nothing is lost."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

from projections.rebuild import table_rows
from projections.sql import NEXT, case_tables
from projections.system import System
from tests.conftest import POSTGRES_URL
from tests.projections.history import drive
from tests.support.factories import SteppingClock, new_case


def _terminate(application_name: str) -> int:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


def test_worker_reconnects_after_its_connections_are_killed(
    postgres_url: str, clock: SteppingClock, tmp_path: Path
) -> None:
    system = System(postgres_url, clock=clock, in_process=False)
    drive(system.app, clock, random.Random(21), cases=6, days=20)
    name = "mediation-worker-" + uuid.uuid4().hex[:8]
    log = tmp_path / "worker.out"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "projections.worker", "--url", postgres_url),
                *("--follow", "--batch", "5", "--poll", "0.02", "--report-every", "0.1"),
            ],
            env={**os.environ, "PGAPPNAME": name},
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 30
        while system.lag() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # cut the worker off three times while the store moves on; depending on where it
        # is, the connection pool replaces the dead connections by itself or the worker
        # sees the error ("database unavailable"), backs off and reconnects
        killed = 0
        for i in range(3):
            killed += _terminate(name)
            new_case(system.app, received_on=date(2026, 1, 5) + timedelta(days=i))
            time.sleep(0.3)
        assert killed > 0
        deadline = time.monotonic() + 60
        while system.lag() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert system.lag() == 0
        assert worker.poll() is None, "the worker died instead of reconnecting"
        system.runner.rebuild("cases", swap=False)
        assert table_rows(system.engine, case_tables()) == table_rows(
            system.engine, case_tables(NEXT)
        )
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        system.close()
    assert "lag 0" in log.read_text()


def test_the_worker_projects_a_new_event_when_notified_not_at_its_next_poll(
    postgres_url: str, clock: SteppingClock
) -> None:
    """On PostgreSQL the worker LISTENs to the events table's channel: with a ten-minute
    polling interval, a case stored by another process is projected anyway (the insert
    function's NOTIFY wakes it), so a page waiting for it (read-your-writes) is not kept
    waiting half an interval."""
    import threading

    from projections.worker import follow

    system = System(postgres_url, clock=clock, in_process=False)
    stop = threading.Event()
    said: list[str] = []
    thread = threading.Thread(
        target=follow,
        args=(lambda: System(postgres_url, in_process=False),),
        kwargs={"poll": 600.0, "stop": stop, "report": said.append, "report_every": 600.0},
        daemon=True,
    )
    try:
        new_case(system.app, received_on=date(2026, 1, 5))
        thread.start()
        deadline = time.monotonic() + 30
        while system.lag() > 0 and time.monotonic() < deadline:  # its first catch-up
            time.sleep(0.01)
        assert system.lag() == 0
        time.sleep(0.2)  # now waiting (600 s) for a notification
        for day in (6, 7):
            new_case(system.app, received_on=date(2026, 1, day))
            deadline = time.monotonic() + 30
            while system.lag() > 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert system.lag() == 0, f"not projected after a notification ({said})"
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)
        system.close()
    assert not thread.is_alive(), "the worker did not see the stop within its wait's slice"
