"""The read-model pool and the event store's pool skip their pre-ping for a connection used
moments ago.

A connection whose server session dies inside that window fails its next statement as a
disconnect (``OperationalError``, which the API answers with 503 and ``Retry-After``); the
pool is then invalidated, so the following call gets a fresh connection and succeeds.
Outside the window the ping finds the dead session first and the caller never sees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import psycopg
import pytest
import sqlalchemy
from psycopg_pool import ConnectionPool
from sqlalchemy import text

from mediation import storage
from mediation.application import CommandContext, MediationApplication
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from projections import sql as sql_module
from projections.sql import make_engine
from tests.conftest import POSTGRES_URL, _postgres_schema
from tests.support.factories import in_mediation, studio_with_mediator

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

MEDIATOR = CommandContext(Actor("mediator", Role.MEDIATOR))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema()


def _backend_pid(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # until the server has let the session go
            row = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if row is None:
                return
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} still alive")


def test_within_the_window_a_dead_session_fails_once_then_the_pool_recovers(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_module, "PING_BYPASS_S", 60.0)  # the whole test is "moments ago"
    engine = make_engine(postgres_url)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        with pytest.raises(sqlalchemy.exc.OperationalError) as failure:
            _backend_pid(engine)  # not pinged: the statement meets the dead session
        assert failure.value.connection_invalidated
        second = _backend_pid(engine)  # a fresh connection, without an error
        assert second != first
    finally:
        engine.dispose()


def test_outside_the_window_the_ping_replaces_a_dead_session(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_module, "PING_BYPASS_S", 0.0)  # always ping
    engine = make_engine(postgres_url)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        second = _backend_pid(engine)  # the ping found it dead and reconnected
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url)
    try:
        _backend_pid(engine)
        (record,) = list(engine.pool._pool.queue)  # type: ignore[attr-defined]
        raw = record.dbapi_connection
        sent: list[str] = []
        execute = raw.execute

        def spy(query: str, *args: object, **kwargs: object) -> object:
            sent.append(str(query))
            return execute(query, *args, **kwargs)

        monkeypatch.setattr(raw, "execute", spy)
        _backend_pid(engine)  # given back moments ago: no ping
        assert "SELECT 1" not in sent
        monkeypatch.setattr(sql_module, "PING_BYPASS_S", 0.0)
        _backend_pid(engine)  # otherwise pinged, in one statement
        assert sent.count("SELECT 1") == 1
    finally:
        engine.dispose()


# ------------------------------------------------------------------ the event store's pool


def _store_pid(app: MediationApplication) -> int:
    with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        return int(conn.info.backend_pid)


def _command(app: MediationApplication, case_id: UUID, summary: str) -> None:
    app.record_session(MEDIATOR, case_id, held_on=date(2026, 3, 20), summary=summary)


def test_event_store_pings_only_a_connection_not_used_moments_ago(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = MediationApplication(persistence_env(postgres_url))
    try:
        studio_id, mediator_id = studio_with_mediator(app)
        case_id = in_mediation(app, studio_id, mediator_id).id
        pings: list[object] = []
        check = ConnectionPool.check_connection

        def counted(conn: object) -> None:
            pings.append(conn)
            check(conn)  # type: ignore[arg-type]

        monkeypatch.setattr(storage.ConnectionPool, "check_connection", counted)
        _command(app, case_id, "第一次调解会议")  # every checkout moments after the last
        assert pings == []
        monkeypatch.setattr(storage, "PING_BYPASS_S", 0.0)
        _command(app, case_id, "第二次调解会议")  # otherwise each checkout pings
        assert len(pings) >= 2
    finally:
        app.close()


def test_event_store_session_dead_within_the_window_is_retried_on_a_fresh_one(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "PING_BYPASS_S", 60.0)  # the whole test is "moments ago"
    app = MediationApplication(persistence_env(postgres_url))
    try:
        studio_id, mediator_id = studio_with_mediator(app)
        case_id = in_mediation(app, studio_id, mediator_id).id
        _command(app, case_id, "第一次调解会议")
        first = _store_pid(app)
        _terminate(first)
        # not pinged: the read meets the dead session, the library's retry takes a fresh one
        _command(app, case_id, "第二次调解会议")
        assert _store_pid(app) != first
        assert app.get_case(case_id).version == len(list(app.events.get(case_id)))
        assert sum(type(e).__name__ == "SessionRecorded" for e in app.events.get(case_id)) == 2
    finally:
        app.close()
