"""``/readyz`` carries the ``mediation verify`` result, kept current in the background.

A tampered store shows as ``integrity.status == "problems"`` (the endpoint stays 200: the
database answers; the finding needs an operator). New events are checked incrementally;
an edit to an event already checked shows after the next walk from zero.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.integrity import IntegrityMonitor
from mediation.settings import Settings
from mediation.verify import ChainWalker, verify
from projections.system import System
from tests.api.conftest import SECRET
from tests.faults.store import events_table, execute
from tests.support.factories import CLERK, SteppingClock, new_case, ready_for_entrustment


def _tamper(database_url: str, case_id: Any) -> None:
    """Edit the assessment's reason of one case (its version 2), as an intruder would."""
    key = case_id.hex if database_url.startswith("sqlite") else str(case_id)
    t = events_table(database_url)
    if database_url.startswith("sqlite"):
        sql = (
            f"UPDATE {t} SET state = CAST(REPLACE(CAST(state AS TEXT), '适宜调解', '不宜调解')"
            " AS BLOB) WHERE originator_id = ? AND originator_version = 2"
        )
    else:
        sql = (
            f"UPDATE {t} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            "'适宜调解', '不宜调解'), 'UTF8') WHERE originator_id = ? AND originator_version = 2"
        )
    execute(database_url, sql, (key,))


def _store(system: System) -> list[Any]:
    cases = []
    for day in (2, 3, 4):
        case = new_case(system.app, received_on=date(2026, 3, day), ctx=CLERK)
        ready_for_entrustment(system.app, case.id, date(2026, 3, 5))
        cases.append(case.id)
    return cases


@contextmanager
def _client(system: System, database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, secret_key=SECRET)
    with TestClient(create_app(system, settings)) as client:
        yield client


def _settled(client: TestClient, position: int) -> dict[str, Any]:
    """/readyz until the background check has reached ``position`` (bounded)."""
    for _ in range(400):
        r = client.get("/readyz")
        assert r.status_code == 200
        integrity: dict[str, Any] = r.json()["integrity"]
        if integrity["status"] != "pending" and integrity["verified_to"] >= position:
            return integrity
        time.sleep(0.025)
    pytest.fail(f"the integrity check never reached position {position}")


def test_readyz_shows_a_clean_store_then_a_tampered_one(
    database_url: str, clock: SteppingClock
) -> None:
    system = System(database_url, clock=clock)
    try:
        cases = _store(system)
        with _client(system, database_url) as client:
            clean = _settled(client, system.app.max_position())
            assert clean["status"] == "ok" and clean["problems"] == 0
            assert clean["events"] == system.app.max_position()
            assert clean["checked_at"] is not None and clean["first_problem"] is None
            # new events are checked incrementally
            new_case(system.app, received_on=date(2026, 3, 6), ctx=CLERK)
            later = _settled(client, system.app.max_position())
            assert later["status"] == "ok" and later["events"] == clean["events"] + 1

        _tamper(database_url, cases[1])
        assert not verify(system.app).ok  # what `mediation verify` says ...
        with _client(system, database_url) as client:  # ... shows on /readyz after a start
            found = _settled(client, system.app.max_position())
            assert found["status"] == "problems" and found["problems"] >= 1
            assert str(cases[1]) in found["first_problem"]
            assert "hash chain broken" in found["first_problem"]
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready"
    finally:
        system.close()


def test_an_event_edited_after_it_was_checked_shows_after_the_next_full_walk(
    database_url: str, clock: SteppingClock
) -> None:
    system = System(database_url, clock=clock)
    monitor = IntegrityMonitor(system.app, clock, interval=0.01, full_every=0.0)
    try:
        cases = _store(system)
        walker = ChainWalker()
        walker.advance(system.app)
        assert walker.findings == [] and walker.position == system.app.max_position()
        _tamper(database_url, cases[0])
        walker.advance(system.app)
        assert walker.findings == []  # incremental: already checked, not read again
        monitor.start()  # walks from zero on every pass (full_every=0)
        for _ in range(400):
            if monitor.result.status == "problems":
                break
            time.sleep(0.025)
        result = monitor.result
        assert result.status == "problems" and result.full_walk_at is not None
        assert result.first_problem is not None and str(cases[0]) in result.first_problem
    finally:
        monitor.stop()
        system.close()
