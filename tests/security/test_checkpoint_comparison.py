"""The signed checkpoints catch what the chains alone cannot.

The same plain-SQL tampering as ``test_tamper_detected``, looked at through the checkpoint
comparison only (findings of the kinds a checkpoint yields), and an insider who also holds
the integrity key (database write + the application's configuration) but not the
checkpoint directory: the re-keyed chain is valid, the checkpoint still differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import configured_keys
from mediation.integrity_walk import Kind, Report, verify
from mediation.keyed_chain import keyed_chain
from mediation.numbering import NumberKind, sequence_id
from mediation.settings import Settings
from projections.system import System
from tests.security import integrity_support as s
from tests.support.factories import SteppingClock

FROM_CHECKPOINTS = {Kind.LOG, Kind.DIFFERS, Kind.TRUNCATED, Kind.DELETED}


def _with_the_key(url: str, case_id: UUID) -> None:
    key = configured_keys().current

    def rechain(previous: str, topic: str, oid: UUID, version: int, ts: datetime, f: Any) -> str:
        return keyed_chain(key.chain_key, key.key_id, previous, topic, oid, version, ts, f)

    s.edit_and_rechain(url, case_id, guessed_key=False, rechain=rechain)


TAMPERS: list[Any] = [
    pytest.param(
        lambda url, c: s.edit_and_rechain(url, c["edited"], guessed_key=False),
        "edited",
        {Kind.DIFFERS, Kind.LOG},
        id="edit-rechained-unkeyed",
    ),
    pytest.param(
        lambda url, c: _with_the_key(url, c["edited"]),
        "edited",
        {Kind.DIFFERS, Kind.LOG},
        id="edit-rechained-with-the-key",
    ),
    pytest.param(
        lambda url, c: s.swap_versions(url, c["kept"]),
        "kept",
        {Kind.DIFFERS, Kind.LOG},
        id="swap-versions",
    ),
    pytest.param(
        lambda url, c: s.reorder_positions(url, c["kept"]), "kept", {Kind.LOG}, id="reorder"
    ),
    pytest.param(
        lambda url, c: s.delete_last_event(url, c["edited"]),
        "edited",
        {Kind.TRUNCATED, Kind.LOG},
        id="delete-last-event",
    ),
    pytest.param(
        lambda url, c: s.delete_aggregate(url, c["deleted"]),
        "deleted",
        {Kind.DELETED, Kind.LOG},
        id="delete-aggregate",
    ),
    pytest.param(
        lambda url, c: s.truncate_log(url, 3),
        "tail",
        {Kind.TRUNCATED, Kind.LOG},
        id="truncate-log",
    ),
]


@pytest.fixture
def store(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SteppingClock
) -> Iterator[tuple[System, CheckpointStore]]:
    s.configure(monkeypatch, database_url, str(tmp_path / "checkpoints"))
    system = System(
        database_url, settings=Settings(database_url=database_url, secret_key=s.SECRET), clock=clock
    )
    try:
        yield system, CheckpointStore(tmp_path / "checkpoints", configured_keys())
    finally:
        system.close()
        s.clear_caches()


def _verify(system: System, directory: Path, write: bool = True) -> Report:
    fresh = CheckpointStore(directory, configured_keys())  # re-reads every file
    return verify(system.app, configured_keys(), fresh, lambda: datetime.now(UTC), write=write)


@pytest.mark.parametrize(("tamper", "target", "kinds"), TAMPERS)
def test_the_checkpoint_comparison_detects_each_tampering(
    database_url: str,
    store: tuple[System, CheckpointStore],
    tamper: Callable[[str, dict[str, UUID]], None],
    target: str,
    kinds: set[Kind],
) -> None:
    system, checkpoints = store
    cases = s.populate(system)
    first = _verify(system, checkpoints.directory)
    assert first.ok and first.written is not None and first.written.seq == 1

    tamper(database_url, cases)

    report = _verify(system, checkpoints.directory, write=False)
    found = {f.kind for f in report.findings if f.kind in FROM_CHECKPOINTS}
    assert kinds <= found, [str(f) for f in report.findings]
    named = {f.originator_id for f in report.findings if f.kind in FROM_CHECKPOINTS}
    assert kinds == {Kind.LOG} or cases[target] in named
    assert len(list(checkpoints.directory.glob("*.json"))) == 1  # none written meanwhile


def test_an_insider_with_the_key_passes_the_chains_but_not_the_checkpoint(
    store: tuple[System, CheckpointStore], database_url: str
) -> None:
    system, checkpoints = store
    cases = s.populate(system)
    assert _verify(system, checkpoints.directory).ok
    _with_the_key(database_url, cases["edited"])
    chains_only = verify(system.app, configured_keys(), None, lambda: datetime.now(UTC))
    assert chains_only.ok  # the key forges valid chains ...
    report = _verify(system, checkpoints.directory, write=False)
    assert not report.ok  # ... which the checkpoint written before still contradicts
    differs = [f for f in report.findings if f.kind is Kind.DIFFERS]
    assert [f.originator_id for f in differs] == [cases["edited"]]


def test_checkpoints_cover_new_events_incrementally_and_stay_consistent(
    store: tuple[System, CheckpointStore],
) -> None:
    system, checkpoints = store
    cases = s.populate(system)
    assert _verify(system, checkpoints.directory).written is not None
    again = _verify(system, checkpoints.directory)
    assert again.ok and again.written is None  # nothing new: no checkpoint
    new = s.new_case(system.app)
    s.ready_for_entrustment(system.app, new.id, s.date(2026, 3, 9))
    later = _verify(system, checkpoints.directory)
    assert later.ok and later.written is not None and later.written.seq == 2
    assert later.checkpoints == 1  # compared with the first, then wrote the second
    changed = {UUID(i) for i, _, _ in later.written.changed}
    # only the new case's head and its number's sequence
    sequence = sequence_id("420100", NumberKind.REGISTRATION, new.received_on.year)
    assert cases["kept"] not in changed and changed == {new.id, sequence}
    log = CheckpointStore(checkpoints.directory, configured_keys()).load()
    assert log.problems == [] and [c.seq for c in log.checkpoints] == [1, 2]
    assert log.checkpoints[1].previous == log.checkpoints[0].file_digest
