"""Many writers race commands on the same cases, in threads and in spawned processes.

Each version of a case has exactly one winner, every loser gets ``VersionConflict``,
every acknowledged event is stored with the winner's payload, nothing unacknowledged is
stored, and versions stay contiguous. Idempotency keys hold under the same races.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from mediation.application import CommandContext, MediationApplication
from mediation.errors import IdempotencyKeyReused
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from tests.faults.conftest import scale
from tests.faults.writers import WriterResult, race, race_in_process
from tests.support.factories import in_mediation, studio_with_mediator

pytestmark = pytest.mark.faults

SESSION = "mediation.case.SessionRecorded"


def _events(app: MediationApplication, case_id: UUID) -> list[Any]:
    return list(app.events.get(case_id))


def test_racing_writers_threads_and_processes(database_url: str) -> None:
    threads, processes = scale(4, 12), scale(2, 4)
    attempts, cases = scale(20, 250), scale(2, 4)
    setup = MediationApplication(persistence_env(database_url))
    studio_id, mediator_id = studio_with_mediator(setup)
    case_ids = [in_mediation(setup, studio_id, mediator_id).id for _ in range(cases)]
    initial = {c: setup.get_case(c).version for c in case_ids}

    spawn = multiprocessing.get_context("spawn")
    results: list[WriterResult] = []
    with spawn.Pool(processes) as pool:
        # processes take a moment to import; everyone starts together a little later
        start_at = time.time() + 4.0
        pending = [
            pool.apply_async(
                race_in_process,
                (database_url, f"p{n}", [str(c) for c in case_ids], attempts, 100 + n, start_at),
            )
            for n in range(processes)
        ]
        shared = MediationApplication(persistence_env(database_url))  # one app, many threads
        try:
            with ThreadPoolExecutor(threads) as executor:
                futures = [
                    executor.submit(race, shared, f"t{n}", case_ids, attempts, n, start_at)
                    for n in range(threads)
                ]
                results.extend(f.result(timeout=300) for f in futures)
        finally:
            shared.close()
        results.extend(p.get(timeout=300) for p in pending)

    assert [e for r in results for e in r.errors] == []
    assert all(r.stale_refused == 1 for r in results)
    assert all(r.attempts == len(r.acknowledged) + r.conflicts + 1 for r in results)
    acknowledged = [a for r in results for a in r.acknowledged]
    print(f"acknowledged={len(acknowledged)} conflicts={sum(r.conflicts for r in results)}")
    # exactly one winner per (case, version)
    winners = Counter((case, version) for case, version, _ in acknowledged)
    assert [k for k, n in winners.items() if n > 1] == []

    check = MediationApplication(persistence_env(database_url))
    try:
        stored: dict[tuple[str, int], str] = {}
        for case_id in case_ids:
            events = _events(check, case_id)
            versions = [e.originator_version for e in events]
            assert versions == list(range(1, len(events) + 1)), "versions not contiguous"
            for e in events[initial[case_id] :]:
                assert type(e).TOPIC == SESSION
                stored[(str(case_id), e.originator_version)] = e.summary
        # every acknowledged event is there with its winner's payload ...
        missing = [a for a in acknowledged if stored.get((a[0], a[1])) != a[2]]
        assert missing == []
        # ... and nothing was stored that nobody was told about
        assert len(stored) == len(acknowledged)
    finally:
        check.close()
        setup.close()


def test_same_idempotency_key_from_many_threads_records_one_event(
    app: MediationApplication,
) -> None:
    threads, rounds = scale(8, 32), scale(4, 40)
    studio_id, mediator_id = studio_with_mediator(app)
    case_id = in_mediation(app, studio_id, mediator_id).id
    actor = Actor("mediator", Role.MEDIATOR)

    barrier = threading.Barrier(threads, timeout=60)  # reused: every round starts together
    for n in range(rounds):
        before = app.get_case(case_id).version
        same_body = n % 2 == 0

        def send(t: int, n: int = n, same_body: bool = same_body) -> tuple[str, int]:
            barrier.wait()
            try:
                case = app.record_session(
                    CommandContext(actor, idempotency_key=f"key-{n}"),
                    case_id,
                    held_on=date(2026, 3, 20),
                    summary="同一请求" if same_body else f"请求{t}",
                )
            except IdempotencyKeyReused:
                return ("reused", -1)
            return ("ok", case.version)

        with ThreadPoolExecutor(threads) as executor:
            answers = list(executor.map(send, range(threads)))

        events = _events(app, case_id)
        assert len(events) == before + 1, f"round {n}: {len(events) - before} events recorded"
        if same_body:
            # every sender gets the first result
            assert answers == [("ok", before + 1)] * threads
        else:
            # one body wins; every other body is told the key was used for another request
            assert sorted(answers) == [("ok", before + 1)] + [("reused", -1)] * (threads - 1)
