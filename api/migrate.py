"""Bring the account tables up to date with Alembic (``api/migrations``), at every start.

Processes may start together (API workers, ``mediation users`` commands): on PostgreSQL the
upgrade runs under a transaction-scoped advisory lock, on SQLite inside ``BEGIN IMMEDIATE``,
so one process migrates and the others then find the tables at the head revision. SQLite
and PostgreSQL both run DDL inside the transaction, so a failed upgrade leaves nothing half
done.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

LOCATION = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "mediation_accounts_version"
_LOCK_KEY = 0x6D656469_61636374  # "mediacct": the accounts' migration lock


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(LOCATION))
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    heads = ScriptDirectory.from_config(_config()).get_heads()
    if len(heads) != 1:  # pragma: no cover - a second branch in the migrations
        raise RuntimeError(f"the account migrations have {len(heads)} heads")
    return str(heads[0])


def current(conn: sa.Connection, schema: str | None) -> str | None:
    ctx = MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE, "version_table_schema": schema}
    )
    revision = ctx.get_current_revision()
    return str(revision) if revision is not None else None


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    """A SQLite engine whose transactions really begin (``BEGIN IMMEDIATE``) and hold DDL."""
    engine = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=sa.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(engine: sa.Engine, schema: str | None) -> None:
    """Upgrade the account tables to the head revision (nothing when already there)."""
    with engine.connect() as conn:
        if current(conn, schema) == head():
            return
    migrating = _sqlite_engine(engine.url) if engine.dialect.name == "sqlite" else engine
    try:
        with migrating.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            if current(conn, schema) == head():
                return
            cfg = _config()
            cfg.attributes["connection"] = conn
            cfg.attributes["schema"] = schema
            command.upgrade(cfg, "head")
    finally:
        if migrating is not engine:
            migrating.dispose()
