"""Tampering with plain SQL is detected by ``mediation verify`` and on ``/readyz``.

Each test: a store with a studio and four cases; ``mediation verify`` passes (and takes a
checkpoint); an insider with the table owner's database rights but without the integrity
key changes the events; ``mediation verify`` then exits 1 naming the case, the version
and the kind of problem; a fresh server's ``/readyz`` says "problem" (and only that) to an
anonymous caller and lists the findings to an admin; the case list still answers.

Uses only the ``verify`` command, the HTTP API and SQL (each of these tests failed against
the code from before the keyed chain, with ``verify`` taken from ``mediation`` there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.integrity_cli import register
from mediation.settings import Settings
from mediation.values import Role
from projections.system import System
from tests.security import integrity_support as s
from tests.support.factories import SteppingClock

Tamper = Callable[[str, dict[str, UUID]], UUID]


def _edit_unkeyed(url: str, cases: dict[str, UUID]) -> UUID:
    s.edit_and_rechain(url, cases["edited"], guessed_key=False)
    return cases["edited"]


def _edit_guessed_key(url: str, cases: dict[str, UUID]) -> UUID:
    s.edit_and_rechain(url, cases["edited"], guessed_key=True)
    return cases["edited"]


def _swap(url: str, cases: dict[str, UUID]) -> UUID:
    s.swap_versions(url, cases["kept"])
    return cases["kept"]


def _reorder(url: str, cases: dict[str, UUID]) -> UUID:
    s.reorder_positions(url, cases["kept"])
    return cases["kept"]


def _delete_last(url: str, cases: dict[str, UUID]) -> UUID:
    s.delete_last_event(url, cases["edited"])
    return cases["edited"]


def _delete_aggregate(url: str, cases: dict[str, UUID]) -> UUID:
    s.delete_aggregate(url, cases["deleted"])
    return cases["deleted"]


def _truncate(url: str, cases: dict[str, UUID]) -> UUID:
    s.truncate_log(url, 3)
    return cases["tail"]


TAMPERS = [
    pytest.param(_edit_unkeyed, "v1 (position", "unkeyed", id="edit-rechained-unkeyed"),
    pytest.param(_edit_guessed_key, "v1 (position", "edited", id="edit-rechained-guessed-key"),
    pytest.param(_swap, "", "reordered", id="swap-versions"),
    pytest.param(_reorder, "", "reordered", id="reorder-positions"),
    # (a case's versions count its Numbered event: issue 17)
    pytest.param(_delete_last, "v5", "truncated", id="delete-last-event"),
    pytest.param(_delete_aggregate, "v3", "aggregate deleted", id="delete-aggregate"),
    pytest.param(_truncate, "", "truncated", id="truncate-log"),
]


@pytest.mark.parametrize(("tamper", "where", "kind"), TAMPERS)
def test_tampering_is_detected_by_verify_and_on_readyz(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: SteppingClock,
    tamper: Tamper,
    where: str,
    kind: str,
) -> None:
    s.configure(monkeypatch, database_url, str(tmp_path / "checkpoints"))
    settings = Settings(database_url=database_url, secret_key=s.SECRET)
    system = System(database_url, settings=settings, clock=clock)
    runner = CliRunner()
    cli = typer.Typer()
    register(cli)  # `verify` as `mediation verify` has it (without the CLI's logging set-up)
    try:
        cases = s.populate(system)
        clean = runner.invoke(cli, ["verify"])
        assert clean.exit_code == 0, clean.output
        assert "OK" in clean.output

        target = tamper(database_url, cases)

        found = runner.invoke(cli, ["verify"])
        assert found.exit_code == 1, found.output
        lines = [line for line in found.output.splitlines() if str(target) in line]
        assert any(where in line and kind in line for line in lines), found.output

        admin = {"Authorization": f"Bearer {s.token(Role.ADMIN, settings)}"}
        clerk = {"Authorization": f"Bearer {s.token(Role.CLERK, settings, 'clerk', '420100')}"}
        with TestClient(create_app(system, settings)) as client:
            anonymous = s.settled_readyz(client)
            assert anonymous["integrity"]["status"] == "problem"
            assert str(target) not in json.dumps(anonymous)  # no case ids for anyone
            as_clerk = s.settled_readyz(client, clerk)
            assert str(target) not in json.dumps(as_clerk)
            details = s.settled_readyz(client, admin)["integrity"]["details"]
            assert str(target) in details["problem_cases"]
            assert any(str(target) in f and kind in f for f in details["findings"])

            listing = client.get("/api/v1/cases", headers=clerk, params={"region": "420102"})
            assert listing.status_code == 200, listing.text
            listed = {item["case_id"]: item for item in listing.json()["items"]}
            assert str(cases["tail"] if target != cases["tail"] else cases["kept"]) in listed
            if str(target) in listed:
                assert listed[str(target)]["integrity"] == "problem"
    finally:
        system.close()
        s.clear_caches()
