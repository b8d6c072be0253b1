"""Two importers racing on the same export never duplicate a case."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from importer.run import ImportSummary, import_file
from mediation.application import MediationApplication
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from tests.faults.conftest import scale

pytestmark = pytest.mark.faults

FIXTURE = Path(__file__).parent.parent / "fixtures" / "historic_cases_1000.csv"


def test_racing_imports_of_one_file_store_each_case_once(database_url: str) -> None:
    importers = scale(2, 4)
    barrier = threading.Barrier(importers, timeout=60)
    summaries: list[ImportSummary] = []
    errors: list[BaseException] = []

    # Applications are opened one after another: two opening at once on an empty
    # PostgreSQL schema race on the library's CREATE TYPE (not what this test is about).
    apps = [MediationApplication(persistence_env(database_url)) for _ in range(importers)]

    def run(n: int) -> None:
        app = apps[n]
        try:
            barrier.wait()
            summaries.append(
                import_file(app, FIXTURE, actor=Actor(f"import-{n}", Role.SYSTEM), progress=False)
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            app.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(importers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    assert errors == []
    assert all(s.refused == [] for s in summaries)
    assert sum(s.imported for s in summaries) == 1000
    assert all(s.imported + s.already_present == 1000 for s in summaries)
    check = MediationApplication(persistence_env(database_url))
    try:
        received: Counter[str] = Counter()
        start = 1
        while rows := check.recorder.select_notifications(
            start, 1000, topics=["mediation.case.Received"]
        ):
            start = rows[-1].id + 1
            received.update(str(n.originator_id) for n in rows)
        assert len(received) == 1000 and set(received.values()) == {1}
    finally:
        check.close()
