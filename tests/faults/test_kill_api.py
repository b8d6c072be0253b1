"""``kill -9`` of the API server under load, again and again, on SQLite and PostgreSQL.

Client threads send session commands with ``If-Match`` and an ``Idempotency-Key``; a
command whose connection dies is sent again, unchanged, until it gets a definite answer
(200, or 409 ``version_conflict``). The server is killed with SIGKILL at random moments and
started again. Afterwards: every acknowledged command's event is stored (with its payload)
and nothing unacknowledged is; every case's versions are contiguous; ``mediation verify``
passes; the read models (projected in-process by the restarted servers) equal a clean
rebuild.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import pytest

from projections.rebuild import table_rows
from projections.sql import NEXT, case_tables, organisation_tables
from projections.system import System
from tests.faults.conftest import scale
from tests.faults.server import ClientResult, Server, client_loop, setup_world, stored_sessions

pytestmark = pytest.mark.faults


def rows_equal_clean_rebuild(database_url: str) -> None:
    system = System(database_url, in_process=False)
    try:
        system.catch_up()
        assert system.lag() == 0
        live = {
            **table_rows(system.engine, case_tables()),
            **table_rows(system.engine, organisation_tables()),
        }
        for name in system.runner.views:
            system.runner.rebuild(name, swap=False)
        rebuilt = {
            **table_rows(system.engine, case_tables(NEXT)),
            **table_rows(system.engine, organisation_tables(NEXT)),
        }
        differences = {
            table: (
                sorted(set(live[table]) - set(rebuilt[table]), key=str),
                sorted(set(rebuilt[table]) - set(live[table]), key=str),
            )
            for table in live
            if live[table] != rebuilt[table]
        }
        assert differences == {}, "live rows (first) and rebuilt rows (second) differ"
    finally:
        system.close()


def mediation_verify(server: Server) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "verify"],
        cwd=server.workdir,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def check_outcome(
    database_url: str, server: Server, results: list[ClientResult], case_ids: list[UUID]
) -> None:
    assert [e for r in results for e in r.errors] == []
    assert [u for r in results for u in r.unresolved] == []
    acknowledged = [a for r in results for a in r.acknowledged]
    assert acknowledged, "no command was acknowledged"
    winners = Counter((case, version) for case, version, _ in acknowledged)
    assert [k for k, n in winners.items() if n > 1] == []
    check = System(database_url, in_process=False)
    try:
        stored = stored_sessions(check, case_ids)  # and asserts contiguous versions
    finally:
        check.close()
    # every acknowledged command is stored, with its own payload ...
    assert [a for a in acknowledged if stored.get((a[0], a[1])) != a[2]] == []
    # ... and every stored session was acknowledged to somebody (retries resolved them all)
    assert len(stored) == len(acknowledged)
    verified = mediation_verify(server)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK" in verified.stdout
    rows_equal_clean_rebuild(database_url)


def test_kill_9_of_the_api_under_load_loses_nothing_acknowledged(
    database_url: str, tmp_path: Path
) -> None:
    kills, clients, cases = scale(3, 12), scale(3, 6), scale(4, 8)
    rng = random.Random(os.getpid())
    world = setup_world(database_url, cases)
    server = Server(database_url, tmp_path)
    stop = threading.Event()
    started = time.monotonic()
    try:
        server.start()
        with ThreadPoolExecutor(clients) as pool:
            futures = [
                pool.submit(client_loop, server.base, world, f"c{n}", 100 + n, stop)
                for n in range(clients)
            ]
            try:
                for _ in range(kills):
                    time.sleep(rng.uniform(0.4, 1.5))  # under load
                    server.kill()
                    time.sleep(rng.uniform(0.0, 0.3))  # clients meet a dead port
                    server.start()
                time.sleep(0.5)  # load on the last start too
            finally:
                stop.set()
            results = [f.result(timeout=180) for f in futures]
        server.stop()
        print(
            f"{server.starts} starts; acknowledged {sum(len(r.acknowledged) for r in results)}, "
            f"conflicts {sum(r.conflicts for r in results)}, "
            f"resent after a dead connection {sum(r.retries for r in results)} "
            f"(then acknowledged: {sum(r.resent_acknowledged for r in results)}), "
            f"503 {sum(r.unavailable for r in results)}; "
            f"{time.monotonic() - started:.1f}s"
        )
        assert server.starts == kills + 1
        check_outcome(database_url, server, results, world.case_ids)
    finally:
        stop.set()
        server.kill()
