"""``/readyz`` tells anonymous callers only "ok"/"problem"; admins get the findings; the case
view and page carry the case's integrity; the server takes checkpoints periodically."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.integrity import IntegrityMonitor
from api.pages.common import COOKIE
from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import configured_keys
from mediation.settings import Settings
from mediation.values import Role
from projections.system import System
from tests.security import integrity_support as s
from tests.support.factories import SteppingClock


@pytest.fixture
def world(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SteppingClock
) -> Iterator[tuple[System, Settings, dict[str, Any]]]:
    s.configure(monkeypatch, database_url, str(tmp_path / "checkpoints"))
    settings = Settings(database_url=database_url, secret_key=s.SECRET)
    system = System(database_url, settings=settings, clock=clock)
    try:
        yield system, settings, s.populate(system)
    finally:
        system.close()
        s.clear_caches()


def _bearer(settings: Settings, role: Role, name: str = "", region: str = "420000") -> Any:
    return {"Authorization": f"Bearer {s.token(role, settings, name, region)}"}


def test_clean_store_ok_for_everyone_details_for_admins_and_a_checkpoint(
    world: tuple[System, Settings, dict[str, Any]], tmp_path: Path
) -> None:
    system, settings, cases = world
    with TestClient(create_app(system, settings)) as client:
        anonymous = s.settled_readyz(client)["integrity"]
        assert anonymous == {"status": "ok", "details": None}
        assert s.settled_readyz(client, _bearer(settings, Role.AUDITOR))["integrity"] == anonymous
        details = s.settled_readyz(client, _bearer(settings, Role.ADMIN))["integrity"]["details"]
        assert details["problems"] == 0 and details["findings"] == []
        assert details["verified_to"] == system.app.max_position()
        assert details["checkpoint_dir"] == str(tmp_path / "checkpoints")
        assert (tmp_path / "checkpoints" / "00000001.json").exists()  # taken at the first pass
        clerk = _bearer(settings, Role.CLERK, "clerk", "420100")
        view = client.get(f"/api/v1/cases/{cases['kept']}", headers=clerk)
        assert view.status_code == 200 and view.json()["integrity"] == "ok"


def test_a_tampered_case_is_flagged_in_its_view_and_on_its_page(
    world: tuple[System, Settings, dict[str, Any]], database_url: str
) -> None:
    system, settings, cases = world
    s.edit_and_rechain(database_url, cases["edited"], guessed_key=True)
    clerk_token = s.token(Role.CLERK, settings, "clerk", "420100")
    clerk = {"Authorization": f"Bearer {clerk_token}"}
    with TestClient(create_app(system, settings)) as client:
        assert s.settled_readyz(client)["integrity"]["status"] == "problem"
        edited = client.get(f"/api/v1/cases/{cases['edited']}", headers=clerk)
        assert edited.status_code == 200 and edited.json()["integrity"] == "problem"
        kept = client.get(f"/api/v1/cases/{cases['kept']}", headers=clerk)
        assert kept.json()["integrity"] == "ok"
        client.cookies.set(COOKIE, clerk_token)
        page = client.get(f"/cases/{cases['edited']}")
        assert page.status_code == 200
        assert 'id="integrity-warning"' in page.text and "完整性警告" in page.text
        assert 'id="integrity-warning"' not in client.get(f"/cases/{cases['kept']}").text


def test_the_monitor_checkpoints_new_events_and_finds_later_edits_on_a_full_walk(
    world: tuple[System, Settings, dict[str, Any]], database_url: str, tmp_path: Path
) -> None:
    system, _, cases = world
    directory = tmp_path / "checkpoints"
    monitor = IntegrityMonitor(
        system.app,
        system.app.clock,
        checkpoint_dir=directory,
        interval=0.01,
        full_every=3600,
        checkpoint_every=0,
    )
    monitor.start()
    try:
        _wait(lambda: len(list(directory.glob("*.json"))) == 1)
        s.ready_for_entrustment(system.app, s.new_case(system.app).id, s.date(2026, 3, 9))
        top = system.app.max_position()
        _wait(lambda: monitor.result.verified_to == top)
        _wait(lambda: _last_position(directory) == top)
        written = len(list(directory.glob("*.json")))
        assert written >= 2  # periodic, incremental
        s.delete_last_event(database_url, cases["kept"])
        monitor.full_every = 0  # the next pass walks from zero
        monitor.wake()
        _wait(lambda: monitor.result.status == "problem")
        assert cases["kept"] in monitor.result.problem_cases
        assert any("truncated" in f for f in monitor.result.findings)
        assert len(list(directory.glob("*.json"))) == written  # none written over a problem
    finally:
        monitor.stop()


def _wait(condition: Any) -> None:
    for _ in range(800):
        if condition():
            return
        time.sleep(0.02)
    pytest.fail("condition not reached")


def _last_position(directory: Path) -> int | None:
    last = CheckpointStore(directory, configured_keys()).load().last
    return last.position if last is not None else None
