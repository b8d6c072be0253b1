"""A poison event — one a view cannot process — stops that view loudly, skips nothing.

The poison is realistic: a stored payload damaged (truncated, as by a bad restore or a
disk fault) after it was written. The view stops just before it and names the view and
the position; every earlier event is applied exactly once; restarting without a fix
stops at the same place; after the payload is restored from a backup the view resumes
and equals a clean rebuild. In-process (API) mode keeps the command acknowledged and
shows the halt on ``/readyz``; the worker exits with status 3 and says why.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.users import User
from mediation.settings import Settings
from mediation.values import Role
from projections.cases_view import CASE_EVENTS
from projections.rebuild import table_rows
from projections.runner import PoisonEvent
from projections.sql import NEXT, case_tables, organisation_tables
from projections.system import System
from tests.api.conftest import SECRET, case_body
from tests.faults.store import notifications, set_state
from tests.projections.history import drive
from tests.support.accounts import account_token
from tests.support.factories import SteppingClock

pytestmark = pytest.mark.faults

# kinds whose payload every view reads (a payload-free kind is never parsed by the views)
UNREAD = (
    "Received",
    "Assessed",
    "SessionRecorded",
    "StatementServed",
    "ReviewApplied",
    "ConsentRecorded",
    "Numbered",  # read by the search view too: this test follows one halted view, `cases`
)


@dataclass
class Poisoned:
    position: int
    originator_id: Any
    version: int
    original: bytes


def _history(database_url: str, clock: SteppingClock, seed: int = 5) -> None:
    writer = System(database_url, clock=clock, in_process=False)
    try:
        drive(writer.app, clock, random.Random(seed), cases=8, days=30)
    finally:
        writer.close()


def _poison(database_url: str, clock: SteppingClock) -> Poisoned:
    """Truncate the stored payload of a case event in the middle of the log."""
    system = System(database_url, clock=clock, in_process=False)
    try:
        topics = [str(c.TOPIC) for c in CASE_EVENTS]
        rows = [
            n for n in notifications(system.app, topics) if n.topic.rpartition(".")[2] not in UNREAD
        ]
        assert len(rows) >= 3
        n = rows[len(rows) // 2]
        assert n.id < system.runner.head()
        target = Poisoned(n.id, n.originator_id, n.originator_version, bytes(n.state))
    finally:
        system.close()
    set_state(database_url, target.originator_id, target.version, target.original[:-9])
    return target


def _repair(database_url: str, target: Poisoned) -> None:
    set_state(database_url, target.originator_id, target.version, target.original)


def _rows(system: System, suffix: str = "") -> dict[str, object]:
    return {
        **table_rows(system.engine, case_tables(suffix)),
        **table_rows(system.engine, organisation_tables(suffix)),
    }


def _equals_clean_rebuild(system: System) -> bool:
    for name in system.runner.views:
        system.runner.rebuild(name, swap=False)
    return _rows(system) == _rows(system, NEXT)


def test_poison_event_halts_the_view_before_it_and_resumes_after_the_fix(
    database_url: str, clock: SteppingClock
) -> None:
    _history(database_url, clock)
    target = _poison(database_url, clock)

    system = System(database_url, clock=clock, in_process=False)
    try:
        system.runner.batch_size = 50
        with pytest.raises(PoisonEvent) as raised:
            system.catch_up()
        poison = raised.value
        assert (poison.view, poison.position) == ("cases", target.position)
        assert "'cases'" in str(poison) and f"position {target.position}" in str(poison)
        # everything before it is applied, nothing after it
        assert system.runner.tracked("cases") == target.position - 1
        assert system.runner.tracked("organisation") == system.runner.head()
        # halted: not retried (no spinning), and visible
        assert system.catch_up() == target.position - 1
        halts = system.halts()
        assert [(h["view"], h["position"], h["tracked"]) for h in halts] == [
            ("cases", target.position, target.position - 1)
        ]
        assert "MapperDeserialisationError" in halts[0]["error"]
    finally:
        system.close()

    # a restart without a fix stops at the same event: nothing is skipped
    again = System(database_url, clock=clock, in_process=False)
    try:
        again.runner.batch_size = 7
        with pytest.raises(PoisonEvent) as raised:
            again.catch_up()
        assert raised.value.position == target.position
        assert again.runner.tracked("cases") == target.position - 1
    finally:
        again.close()

    _repair(database_url, target)
    fixed = System(database_url, clock=clock, in_process=False)
    try:
        assert fixed.catch_up() == fixed.runner.head()
        assert fixed.lag() == 0
        assert fixed.halts() == []
        assert _equals_clean_rebuild(fixed)
    finally:
        fixed.close()


def _worker(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "projections.worker", "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _project_once(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "project", "--once", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_worker_stops_with_status_3_naming_the_poison_event(
    database_url: str, clock: SteppingClock
) -> None:
    _history(database_url, clock, seed=6)
    target = _poison(database_url, clock)
    # --follow would otherwise run forever: a halt ends it, with status 3
    done = _worker(database_url, "--follow", "--batch", "20", "--poll", "0.02")
    assert done.returncode == 3, done.stdout + done.stderr
    assert (
        f"HALTED: view 'cases' halted: it cannot process the event at position {target.position}"
        in (done.stdout)
    )
    # `mediation project` says the same and exits 3 too
    project = _project_once(database_url)
    assert project.returncode == 3, project.stdout + project.stderr
    assert f"event at position {target.position}" in project.stderr
    check = System(database_url, clock=clock, in_process=False)
    try:
        assert check.runner.tracked("cases") == target.position - 1
        assert [h["position"] for h in check.halts()] == [target.position]
        _repair(database_url, target)
        done = _worker(database_url, "--once")
        assert done.returncode == 0, done.stdout + done.stderr
        assert check.lag() == 0 and check.halts() == []
        assert _equals_clean_rebuild(check)
    finally:
        check.close()


def test_project_from_position_zero_halts_before_the_poison_event_too(
    database_url: str, clock: SteppingClock
) -> None:
    """``mediation project`` builds a view that has tracked nothing by a rebuild; the
    rebuild fails on the poison event, and the command falls back to catching up, which
    applies everything before it, halts there and exits 3."""
    _history(database_url, clock, seed=8)
    target = _poison(database_url, clock)
    project = _project_once(database_url)
    assert project.returncode == 3, project.stdout + project.stderr
    assert f"event at position {target.position}" in project.stderr
    check = System(database_url, clock=clock, in_process=False)
    try:
        assert check.runner.tracked("cases") == target.position - 1
        assert check.runner.tracked("organisation") == check.runner.head()
    finally:
        check.close()


@contextmanager
def _api(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, System]]:
    settings = Settings(database_url=database_url, secret_key=SECRET, token_minutes=60)
    system = System(database_url, settings=settings, clock=clock)
    try:
        with TestClient(create_app(system, settings), raise_server_exceptions=False) as client:
            token = account_token(database_url, User("clerk", Role.CLERK, "420100"), settings)
            client.headers["Authorization"] = f"Bearer {token}"
            yield client, system
    finally:
        system.close()


def test_in_process_poison_keeps_commands_acknowledged_and_shows_on_readyz(
    database_url: str, clock: SteppingClock
) -> None:
    _history(database_url, clock, seed=7)
    target = _poison(database_url, clock)
    with _api(database_url, clock) as (client, system):  # starts although a view halts
        assert system.runner.tracked("cases") == target.position - 1
        for seed in (1, 2):
            r = client.post(
                "/api/v1/cases",
                json=case_body(seed, received_on="2026-01-20"),
                headers={"Idempotency-Key": f"k{seed}"},
            )
            assert r.status_code == 201, r.text
        ready = client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["projection_lag"] > 0
        assert [(h["view"], h["position"], h["tracked"]) for h in body["projections_halted"]] == [
            ("cases", target.position, target.position - 1)
        ]
        assert (
            body["projections_halted"][0]["halted_at"].endswith("Z")
            or "+" in (body["projections_halted"][0]["halted_at"])
        )
        written = system.app.max_position()

    _repair(database_url, target)
    with _api(database_url, clock) as (client, system):  # the restart after the fix
        body = client.get("/readyz").json()
        assert body["projections_halted"] == [] and body["projection_lag"] == 0
        assert system.runner.tracked("cases") == written
        assert _equals_clean_rebuild(system)
