"""The events table refuses UPDATE and DELETE (and TRUNCATE) at the database level.

SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that abort, created with the
table (and added to an existing store the next time it is opened), by
``AppendOnlySQLiteRecorder``. PostgreSQL: a row trigger and a ``TRUNCATE`` trigger on the
events table that raise, created by ``mediation.storage.OrderedPostgresRecorder`` from
``postgres_statements``. Nothing in this project updates or deletes stored events: the
importer inserts (``COPY`` / ``executemany``), read models and their rebuilds live in their
own tables, and snapshots are off (they would go to their own table too).

A trigger stops the application and anyone using its database login by mistake; the table's
owner can still drop it. On PostgreSQL the application's role should therefore own nothing
and hold no UPDATE, DELETE or TRUNCATE grant on the table (docs/operations.md); on SQLite
whoever can write the file can do anything, which the signed checkpoints detect
(docs/integrity.md).
"""

from __future__ import annotations

import os
import stat
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Composed, Identifier

REFUSAL = "stored events are append-only"
SQLITE_RECORDER_TOPIC = "mediation.append_only:AppendOnlySQLiteRecorder"


def sqlite_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END",
    ]


class AppendOnlySQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        return statements + sqlite_statements(self.events_table_name)

    def create_table(self) -> None:
        super().create_table()
        owner_only(str(getattr(self.datastore.pool, "db_name", "")))


def owner_only(db_name: str) -> None:
    """Make a SQLite store's file readable by its owner alone (it holds personal data);
    SQLite gives its -wal and -shm files the database file's permissions."""
    if not db_name or db_name == ":memory:" or db_name.startswith("file:"):
        return
    for path in (db_name, f"{db_name}-wal", f"{db_name}-shm"):
        if os.path.exists(path):
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def postgres_statements(schema: str, table: str) -> list[Composed]:
    function = Identifier(f"{table}_refuse_change")
    values = {
        "schema": Identifier(schema),
        "table": Identifier(table),
        "function": function,
        "row_trigger": Identifier(f"{table}_append_only"),
        "truncate_trigger": Identifier(f"{table}_no_truncate"),
    }
    return [
        SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger "
            "LANGUAGE plpgsql AS $BODY$ BEGIN "
            "RAISE EXCEPTION '" + REFUSAL + ": % refused on %', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; "
            "END; $BODY$"
        ).format(**values),
        SQL(
            "CREATE OR REPLACE TRIGGER {row_trigger} BEFORE UPDATE OR DELETE "
            "ON {schema}.{table} FOR EACH ROW EXECUTE FUNCTION {schema}.{function}()"
        ).format(**values),
        SQL(
            "CREATE OR REPLACE TRIGGER {truncate_trigger} BEFORE TRUNCATE "
            "ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
        ).format(**values),
    ]


def owned_by_another_role(curs: Any, schema: str, table: str) -> bool:
    """Whether the events table exists and belongs to a role the current one is not a member
    of (then its owner set it up, and this role neither can nor needs to run the DDL)."""
    curs.execute(
        "SELECT pg_has_role(current_user, c.relowner, 'USAGE') AS mine FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, table),
    )
    row = curs.fetchone()
    return row is not None and not row["mine"]
