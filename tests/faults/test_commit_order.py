"""PostgreSQL: positions become visible in order, so no reader passes over one for good.

A reader (projection catch-up, ``mediation verify``'s incremental walk) moves its
position to the log head it saw. If position 102 could commit while 101 is still
pending, a reader in between would skip 101 forever (read models silently missing an
event — found by the outage test, whose read models then differed from a rebuild). The
recorder (``mediation/storage.py``) takes the table lock before positions are drawn.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.conftest import _postgres_schema
from tests.faults.conftest import scale
from tests.support.factories import CLERK, new_case

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema()


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    base, _, schema = url.partition("?schema=")
    conn = psycopg.connect(base, autocommit=True)
    conn.execute(f'SET search_path TO "{schema}"')
    return conn


def _visible_head(url: str) -> int:
    with _connect(url) as conn:
        row = conn.execute("SELECT max(notification_id) FROM mediation_events").fetchone()
    return int(row[0] or 0) if row else 0


def test_a_save_waits_for_a_pending_lower_position(postgres_url: str) -> None:
    app = MediationApplication(persistence_env(postgres_url))
    pending = _connect(postgres_url)
    try:
        new_case(app, ctx=CLERK)  # tables and function exist
        pending.autocommit = False
        # another writer has drawn a position and not committed yet
        row = pending.execute(
            "INSERT INTO mediation_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'test.Pending', '{}') RETURNING notification_id",
            (uuid.uuid4(),),
        ).fetchone()
        assert row is not None
        drawn = int(row[0])
        done: list[object] = []
        saver = threading.Thread(
            target=lambda: done.append(new_case(app, received_on=date(2026, 3, 3), ctx=CLERK))
        )
        saver.start()
        saver.join(timeout=1.0)
        # nothing above the pending position is visible while it is pending
        assert _visible_head(postgres_url) < drawn
        assert done == []
        pending.rollback()  # the other writer gives up: the save goes ahead
        saver.join(timeout=30)
        assert len(done) == 1 and _visible_head(postgres_url) > drawn
    finally:
        pending.close()
        app.close()


def test_concurrent_saves_never_commit_a_lower_position_later(postgres_url: str) -> None:
    writers, seconds = scale(4, 8), scale(3, 15)
    app = MediationApplication(persistence_env(postgres_url))
    stop = threading.Event()
    errors: list[BaseException] = []
    snapshots: list[tuple[int, set[int]]] = []

    def write() -> None:
        try:
            while not stop.is_set():
                new_case(app, received_on=date(2026, 3, 2), ctx=CLERK)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def sample() -> None:
        with _connect(postgres_url) as conn:
            while not stop.is_set():
                row = conn.execute("SELECT max(notification_id) FROM mediation_events").fetchone()
                head = int(row[0] or 0) if row else 0
                ids = {
                    int(r[0])
                    for r in conn.execute(
                        "SELECT notification_id FROM mediation_events WHERE notification_id <= %s",
                        (head,),
                    )
                }
                snapshots.append((head, set(range(1, head + 1)) - ids))

    threads = [threading.Thread(target=write) for _ in range(writers)]
    threads.append(threading.Thread(target=sample))
    try:
        new_case(app, ctx=CLERK)
        for t in threads:
            t.start()
        time.sleep(seconds)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        app.close()
    assert errors == []
    with _connect(postgres_url) as conn:
        final = {int(r[0]) for r in conn.execute("SELECT notification_id FROM mediation_events")}
    late = sorted({p for _, missing in snapshots for p in missing if p in final})
    assert len(snapshots) > 10 and len(final) > 10 * writers
    assert late == [], "positions that became visible after a higher one"
