"""The PostgreSQL event recorder, with positions that commit in order.

The library's insert function (``POSTGRES_ENABLE_DB_FUNCTIONS``) takes no table lock:
two concurrent commands can be given positions 101 and 102 and commit 102 first. A
reader that looks at the log in between sees 102 as the head with 101 missing, moves its
tracked position past 101 and never reads it (docs/operations.md says how it was found).
The library's other insert path takes an ``EXCLUSIVE`` table lock for exactly this
reason, but with a slower insert.

This recorder keeps the function (one round trip) and takes the same lock inside it,
before positions are drawn, so positions become visible in order. Commits are already
serialised by the function's ``NOTIFY`` (PostgreSQL orders notifying commits), so the
lock adds no wait of its own. ``CREATE OR REPLACE`` runs at every start, so an
existing store gets the locking function the next time it is opened.

Several processes opening the same store at once (API workers, projection workers, the
importer) would race those ``CREATE OR REPLACE`` and ``CREATE … IF NOT EXISTS``
statements; PostgreSQL refuses the loser with "tuple concurrently updated" or a
duplicate-key error on its catalogue. ``create_table`` therefore runs every statement in
one transaction behind a transaction-scoped advisory lock named after the table.

The pool's pre-ping (``POSTGRES_PRE_PING``) is skipped for a connection checked out less
than ``PING_BYPASS_S`` ago (:func:`ping_unless_recent`), as the read models' pool does
(``projections.sql.PING_BYPASS_S``): each of a command's statements took its own ping, a
round trip as long as the statement (docs/performance.md, "Commands, round two").
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg.errors import DuplicateObject
from psycopg.sql import SQL, Identifier, Literal
from psycopg_pool import ConnectionPool

from mediation.append_only import owned_by_another_role, postgres_statements

TOPIC = "mediation.storage:OrderedPostgresRecorder"

# a pooled event-store connection checked out this recently is not pinged again
PING_BYPASS_S = 0.5


def ping_unless_recent(conn: Any) -> None:
    """The pool's check: ping (one round trip) only a connection not checked out in the
    last ``PING_BYPASS_S`` seconds; remember this checkout.

    A connection that ran a statement moments ago is taken as alive (HikariCP's
    ``aliveBypassWindowMs``). Should its session have died in that half second, the
    statement fails as a disconnect: psycopg marks the connection broken, the pool
    discards it when it comes back, and the library's recorder retries its statement on
    a fresh connection (``select_events``/``insert_events`` retry ``OperationalError``),
    as it does for a failure the ping could not have seen either (the server dying
    between the ping and the statement). Test: ``tests/faults/test_ping_bypass.py``.
    """
    now = time.monotonic()
    seen: float | None = getattr(conn, "_mediation_checked_out", None)
    conn._mediation_checked_out = now
    if seen is not None and now - seen < PING_BYPASS_S and not conn.closed:
        return
    ConnectionPool.check_connection(conn)  # the pool's own ping


class OrderedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        pool = datastore.pool
        if datastore.pre_ping and getattr(pool, "_check", None) is not None:
            pool._check = ping_unless_recent  # the pool has no public setter for its check
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION "
            "{schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint "
            "LANGUAGE plpgsql "
            # runs as the table's owner: the application's role needs no UPDATE, DELETE or
            # TRUNCATE grant for the table lock (docs/operations.md, the application's role)
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
            "AS "
            "$BODY$"
            "BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "END;"
            "$BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        index = self.create_insert_function_statement_index
        self.sql_create_statements[index] = self.sql_create_pg_function_insert_events
        # UPDATE, DELETE and TRUNCATE refused by triggers (mediation/append_only.py)
        self.sql_create_statements.extend(
            postgres_statements(self.datastore.schema, self.events_table_name)
        )

    def create_table(self) -> None:
        lock_name = f"mediation.create:{self.datastore.schema}.{self.events_table_name}"
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(Literal(lock_name))
            )
            if owned_by_another_role(curs, self.datastore.schema, self.events_table_name):
                statements = []  # set up by its owner; this role may only use it
            else:
                statements = self.sql_create_statements
            for statement in statements:
                if "CREATE TYPE" in statement.as_string():
                    # no IF NOT EXISTS for types: try under a savepoint
                    try:
                        with curs.connection.transaction():
                            curs.execute(statement, prepare=False)
                    except DuplicateObject:
                        pass
            if statements:
                self._create_table(curs)
        self.datastore.register_type_adapters()


SQLITE_BRANCHES = 100  # SQLite refuses more than 500 terms in one compound SELECT


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's reads
def select_after(
    recorder: AggregateRecorder, wanted: Mapping[UUID, int]
) -> dict[UUID, list[StoredEvent]]:
    """The events stored after each aggregate's given version, read by one statement.

    What ``recorder.select_events(id, gt=version)`` answers for each id, in one round trip
    instead of one per aggregate (PostgreSQL: a join with the wanted ids and versions as
    arrays, one index range each; SQLite: ``UNION ALL`` of the same range per id, in
    chunks under its compound-select limit); any other recorder answers by one call per id.
    """
    found: dict[UUID, list[StoredEvent]] = {aggregate_id: [] for aggregate_id in wanted}
    if not wanted:
        return found
    if isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL(
            "SELECT e.* FROM {}.{} AS e JOIN unnest(%s::uuid[], %s::bigint[]) AS w(id, after) "
            "ON e.originator_id = w.id AND e.originator_version > w.after"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [list(wanted), list(wanted.values())], prepare=True)
            rows = [
                (row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"]))
                for row in curs.fetchall()
            ]
    elif isinstance(recorder, SQLiteAggregateRecorder):
        table = recorder.events_table_name
        one = f"SELECT * FROM {table} WHERE originator_id=? AND originator_version>?"
        pairs = list(wanted.items())
        rows = []
        with recorder.datastore.transaction(commit=False) as c:
            for start in range(0, len(pairs), SQLITE_BRANCHES):
                chunk = pairs[start : start + SQLITE_BRANCHES]
                c.execute(
                    " UNION ALL ".join([one] * len(chunk)),
                    [p for i, v in chunk for p in (i.hex, v)],
                )
                rows += [
                    (
                        recorder.convert_originator_id(row["originator_id"]),
                        row["originator_version"],
                        row["topic"],
                        row["state"],
                    )
                    for row in c.fetchall()
                ]
    else:
        return {i: list(recorder.select_events(i, gt=v)) for i, v in wanted.items()}
    for originator_id, version, topic, state in sorted(rows, key=lambda r: (str(r[0]), r[1])):
        found[UUID(str(originator_id))].append(StoredEvent(originator_id, version, topic, state))
    return found


def refresh_statistics(recorder: AggregateRecorder, *tables: str) -> None:
    """``ANALYZE`` the events table (and ``tables`` beside it) on PostgreSQL after a bulk
    write: the planner costs a statement from the table's statistics, and a table that grew
    from nothing to 10^6 rows without them (autovacuum off, or not yet run) has every
    lookup planned as a scan — at 10^6 events a page's one-statement read of 70 cases took
    75–400 ms instead of < 1 ms, JIT compilation included (docs/performance.md). SQLite:
    nothing (its planner uses the indexes without statistics)."""
    if not isinstance(recorder, PostgresAggregateRecorder):
        return
    schema = recorder.datastore.schema
    names = [recorder.events_table_name, *tables]
    with recorder.datastore.get_connection() as conn:
        for name in names:
            conn.execute(SQL("ANALYZE {}.{}").format(Identifier(schema), Identifier(name)))
