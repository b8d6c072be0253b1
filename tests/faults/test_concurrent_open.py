"""Many processes open the same PostgreSQL store at the same moment.

API workers, projection workers and the importer all open the store at start; each runs
the recorder's ``CREATE … IF NOT EXISTS`` / ``CREATE OR REPLACE FUNCTION`` statements.
Unserialised, PostgreSQL refuses the losers ("tuple concurrently updated", duplicate key
on its catalogue) — CI hit it once in the racing-writers test. Every opener must succeed,
and the store must then work.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator

import pytest

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from projections.system import System
from tests.conftest import _postgres_schema
from tests.faults.conftest import scale
from tests.support.factories import in_mediation, studio_with_mediator

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema()


def _open_at(url: str, start_at: float, rounds: int) -> str:
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(rounds):  # reopen: CREATE OR REPLACE runs on an existing store too
        system = System(url, in_process=False)  # the event store and the read-model tables
        system.close()
    return "ok"


def test_processes_opening_one_store_at_once_all_succeed(postgres_url: str) -> None:
    processes = scale(6, 12)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(processes) as pool:
        start_at = time.time() + 3.0  # after every process has imported
        pending = [
            pool.apply_async(_open_at, (postgres_url, start_at, 3)) for _ in range(processes)
        ]
        results = [p.get(timeout=120) for p in pending]
    assert results == ["ok"] * processes

    app = MediationApplication(persistence_env(postgres_url))
    try:
        studio_id, mediator_id = studio_with_mediator(app)
        case = in_mediation(app, studio_id, mediator_id)
        assert app.get_case(case.id).version == case.version
    finally:
        app.close()
