"""Racing creations and acceptances, in threads and in spawned processes, on both backends:
every case number and 案号 is given once, and each sequence (commission, kind, year) is
1..n without a gap (issue 17; ADR 0012)."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from uuid import UUID

import pytest

from mediation.application import MediationApplication
from mediation.case import Case
from mediation.numbering import NumberKind, NumberSequence
from mediation.settings import persistence_env
from tests.faults.conftest import scale
from tests.faults.number_writers import (
    NumberResult,
    create_and_accept,
    create_and_accept_in_process,
)
from tests.support.factories import new_case

pytestmark = pytest.mark.faults


def test_racing_creates_and_acceptances_give_gap_free_unique_numbers(database_url: str) -> None:
    threads, processes = scale(4, 8), scale(2, 4)
    creates, contested = scale(8, 60), scale(6, 40)
    setup = MediationApplication(persistence_env(database_url))
    # cases every writer tries to accept: exactly one acceptance (and one 案号) each
    targets = [new_case(setup, received_on=date(2026, 1, 5)).id for _ in range(contested)]

    spawn = multiprocessing.get_context("spawn")
    results: list[NumberResult] = []
    started = time.perf_counter()
    with spawn.Pool(processes) as pool:
        start_at = time.time() + 4.0  # processes take a moment to import
        pending = [
            pool.apply_async(
                create_and_accept_in_process,
                (database_url, f"p{n}", creates, [str(t) for t in targets], 100 + n, start_at),
            )
            for n in range(processes)
        ]
        shared = MediationApplication(persistence_env(database_url))  # one app, many threads
        try:
            with ThreadPoolExecutor(threads) as executor:
                futures = [
                    executor.submit(
                        create_and_accept, shared, f"t{n}", creates, targets, n, start_at
                    )
                    for n in range(threads)
                ]
                results.extend(f.result(timeout=600) for f in futures)
        finally:
            shared.close()
        results.extend(p.get(timeout=600) for p in pending)
    elapsed = time.perf_counter() - started

    assert [e for r in results for e in r.errors] == []
    created = [c for r in results for c in r.created]
    writers = threads + processes
    assert len(created) == writers * creates
    accepted = Counter(c for r in results for c in r.accepted)
    assert sorted(accepted) == sorted(str(t) for t in targets)
    assert set(accepted.values()) == {1}  # one winner per case; the others were refused
    assert sum(r.refused for r in results) == (writers - 1) * contested
    print(f"{len(created)} creates, {contested} contested acceptances in {elapsed:.1f}s")

    check = MediationApplication(persistence_env(database_url))
    try:
        given: dict[tuple[str, str, int], list[tuple[int, str, str]]] = defaultdict(list)
        for case_id in [*created, *(str(t) for t in targets)]:
            events = [e for e in check.events.get(UUID(case_id)) if isinstance(e, Case.Numbered)]
            kinds = [e.number_kind for e in events]
            assert kinds.count("registration") == 1, (case_id, kinds)
            assert kinds.count("filing") == (1 if case_id in accepted else 0), (case_id, kinds)
            for e in events:
                given[(e.commission, e.number_kind, e.year)].append(
                    (e.sequence, e.assigned, case_id)
                )
        assert {k[:2] for k in given} >= {
            ("420100", "registration"),
            ("420200", "registration"),
            ("420100", "filing"),
        }
        assert {k[2] for k in given} == {2025, 2026}
        for (commission, kind, year), numbers in given.items():
            sequences = sorted(n for n, _, _ in numbers)
            # gap-free, no duplicate, per commission, kind and year
            assert sequences == list(range(1, len(numbers) + 1)), (commission, kind, year)
            assert len({text for _, text, _ in numbers}) == len(numbers)
            stored = check.sequence(commission, NumberKind(kind), year)
            assert stored is not None and stored.last == len(numbers)
            # the sequence's own record names the same case for each number
            issued = {
                e.sequence: str(e.case_id)
                for e in check.events.get(stored.id)
                if isinstance(e, NumberSequence.Issued)
            }
            assert issued == {n: case_id for n, _, case_id in numbers}
    finally:
        check.close()
        setup.close()
