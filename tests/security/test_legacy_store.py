"""A store written by main before the keyed chain still verifies, and stays protected.

``tests/fixtures/legacy_store_unkeyed.sqlite3`` was made by main at 9611693
(``tests/fixtures/make_legacy_store.py``): unkeyed chains, no triggers, no checkpoints.
Opened by today's code (SQLite as it is; PostgreSQL with its rows copied in, in order):
``verify`` accepts its unkeyed chains and takes the first checkpoint, which fixes the
position up to which unkeyed chains are accepted; new events are keyed and chain onto
the old heads; an old event edited and chained again the old way is then caught by the
checkpoint, and an unkeyed chain after that position is refused.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from mediation.application import MediationApplication
from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import configured_keys
from mediation.integrity_walk import Kind, Report, verify
from mediation.keyed_chain import is_keyed
from mediation.settings import persistence_env
from mediation.values import Party
from tests.security import integrity_support as s
from tests.support.factories import CLERK, SteppingClock

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy_store_unkeyed.sqlite3"
LEGACY_EVENTS = 17


def _legacy_rows() -> list[tuple[str, int, str, bytes]]:
    with sqlite3.connect(LEGACY) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()
    return [(str(UUID(i)), int(v), str(t), bytes(b)) for i, v, t, b in rows]


@pytest.fixture
def legacy_url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fixture store on this backend (a copy of the file; rows copied into PostgreSQL)."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "legacy.sqlite3"
        shutil.copy(LEGACY, path)
        database_url = f"sqlite:///{path}"
    else:
        MediationApplication(persistence_env(database_url)).close()  # creates the tables
        with s.owner(database_url) as run:
            for row in _legacy_rows():
                run(
                    "INSERT INTO mediation_events "
                    "(originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                    row,
                )
    s.configure(monkeypatch, database_url, str(tmp_path / "checkpoints"))
    yield database_url
    s.clear_caches()


def _verify(app: MediationApplication, directory: Path) -> Report:
    store = CheckpointStore(directory, configured_keys())
    return verify(app, configured_keys(), store, lambda: datetime.now(UTC))


def _case_ids() -> list[UUID]:
    return list(
        dict.fromkeys(UUID(i) for i, _, t, _ in _legacy_rows() if t == "mediation.case.Received")
    )


def test_the_legacy_store_verifies_and_new_events_are_keyed(
    legacy_url: str, tmp_path: Path, clock: SteppingClock
) -> None:
    checkpoints = tmp_path / "checkpoints"
    app = MediationApplication(persistence_env(legacy_url), clock=clock)
    try:
        first = _verify(app, checkpoints)
        assert first.ok, [str(f) for f in first.findings]
        assert first.events == LEGACY_EVENTS and first.aggregates == 5
        assert first.written is not None and first.written.legacy_to == LEGACY_EVENTS

        _, second, third = _case_ids()
        old = app.get_case(second)
        assert old.applicant["name"] == "张三" and old.version == 4
        entrusted = app.record_consent(
            CLERK, third, party=Party.RESPONDENT, given=True, on=date(2026, 3, 6)
        )
        assert entrusted.version == 3
        newest = app.repository.get(third)
        assert is_keyed(newest.chain_head)  # chained onto the unkeyed head, with the key

        after = _verify(app, checkpoints)
        assert after.ok, [str(f) for f in after.findings]
        assert after.written is not None and after.written.legacy_to == LEGACY_EVENTS
    finally:
        app.close()


def test_an_old_event_chained_again_the_old_way_is_caught(
    legacy_url: str, tmp_path: Path, clock: SteppingClock
) -> None:
    checkpoints = tmp_path / "checkpoints"
    app = MediationApplication(persistence_env(legacy_url), clock=clock)
    try:
        assert _verify(app, checkpoints).ok
        _, second, _ = _case_ids()
        s.edit_and_rechain(legacy_url, second, guessed_key=False)  # unkeyed, as before
        report = _verify(app, checkpoints)
        kinds = {f.kind for f in report.findings if f.originator_id == second}
        assert Kind.DIFFERS in kinds, [str(f) for f in report.findings]
        assert Kind.UNKEYED not in kinds  # its chain is valid the old way: the checkpoint says no
        assert report.written is None
    finally:
        app.close()


def test_an_unkeyed_chain_after_the_legacy_position_is_refused(
    legacy_url: str, tmp_path: Path, clock: SteppingClock
) -> None:
    checkpoints = tmp_path / "checkpoints"
    app = MediationApplication(persistence_env(legacy_url), clock=clock)
    try:
        assert _verify(app, checkpoints).ok
        fresh = s.new_case(app)
        s.ready_for_entrustment(app, fresh.id, date(2026, 3, 3))
        s.edit_and_rechain(legacy_url, fresh.id, guessed_key=False)
        report = _verify(app, checkpoints)
        unkeyed = [f for f in report.findings if f.kind is Kind.UNKEYED]
        assert [f.version for f in unkeyed] == [1, 2, 3, 4, 5]  # with its Numbered event
        assert {f.originator_id for f in unkeyed} == {fresh.id}
    finally:
        app.close()
