"""How the importer writes a batch of new events: the library's rows, fewer round trips.

``record(app, events)`` stores already-triggered domain events exactly as
``Application.save`` would: each event goes through the application's own mapper
(``app.mapper.to_stored_event``: the same JSON transcoding, compression and encryption as
every other write), and the resulting ``StoredEvent`` rows go into the application's
events table in one transaction. Nothing about the stored format differs; only the way
the rows travel to the database:

- ``Application.save`` first collects its arguments with ``isinstance`` checks against
  the library's runtime-checkable protocols, which are slow per object; the importer
  already holds the events, so it maps and inserts them directly. (Snapshotting, the only
  other step of ``save``, is off for this application; ``record`` refuses to run if it is
  on.)
- On PostgreSQL the library sends a batch as one array of a composite type, which psycopg
  dumps in text format in Python, quoting and escaping every byte of every payload. Here
  the same rows go through ``COPY … FROM STDIN (FORMAT BINARY)`` in a transaction that
  first does what the library's inserting transaction does: ``SET LOCAL lock_timeout``,
  ``LOCK TABLE … IN EXCLUSIVE MODE`` (so notification ids are committed in order: a
  reader following the log never passes a gap that is filled later) and ``NOTIFY`` on the
  recorder's channel (so subscribers wake up). The table's ``bigserial`` assigns the
  notification ids in row order, as for the library's ``INSERT … SELECT FROM unnest(…)``.
  A row that exists already raises the library's ``IntegrityError`` and nothing of the
  batch is written.
- On SQLite the library's application recorder inserts row by row (to learn each row's
  id); here the same statement runs once through ``executemany`` in the recorder's own
  transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), as the library's aggregate recorder does.
  The rowids (notification ids) are assigned in the same order.
- Any other recorder gets its own ``insert_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from mediation.application import MediationApplication


class Refused(Exception):
    """``before`` refused the batch: its transaction was rolled back, nothing was written."""


# Runs first in the batch's transaction, on its cursor (e.g. ``KeyBatch.write``: the batch's
# personal keys); False rolls the whole batch back (``Refused``).
Before = Callable[[Any], bool]


def record(app: MediationApplication, events: Sequence[Any], before: Before | None = None) -> None:
    """Store new domain events in one transaction; ``IntegrityError`` if any exists already.

    ``before`` runs first in the same transaction (not for a recorder this module does not
    know, which needs none: the library's in-memory one)."""
    if app.snapshots is not None and app.snapshotting_intervals:
        app.save(*events)  # keep the library's snapshotting step (not used by this application)
        return
    to_stored = app.mapper.to_stored_event
    stored = [to_stored(event) for event in events]
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        _copy_into_postgres(recorder, stored, before)
    elif isinstance(recorder, SQLiteApplicationRecorder):
        _executemany_into_sqlite(recorder, stored, before)
    elif stored:
        recorder.insert_events(stored)


def _executemany_into_sqlite(
    recorder: SQLiteApplicationRecorder, stored: list[StoredEvent], before: Before | None
) -> None:
    params = [
        (
            e.originator_id.hex if isinstance(e.originator_id, UUID) else e.originator_id,
            e.originator_version,
            e.topic,
            e.state,
        )
        for e in stored
    ]
    with recorder.datastore.transaction(commit=True) as curs:
        if before is not None and not before(curs):
            raise Refused()
        if params:
            curs.executemany(recorder.insert_events_statement, params)


def _copy_into_postgres(
    recorder: PostgresApplicationRecorder, stored: list[StoredEvent], before: Before | None
) -> None:
    datastore = recorder.datastore
    table = SQL("{schema}.{table}").format(
        schema=Identifier(datastore.schema), table=Identifier(recorder.events_table_name)
    )
    copy_statement = SQL(
        "COPY {table} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
    ).format(table=table)
    id_type = "uuid" if datastore.originator_id_type == "uuid" else "text"
    as_id = (lambda i: i) if id_type == "uuid" else str
    # get_connection() turns psycopg's errors into the library's: a duplicate row (unique
    # violation) becomes eventsourcing's IntegrityError, as for the library's insert.
    with (
        datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor() as curs,
    ):
        if before is not None and not before(curs):
            raise Refused()
        if not stored:
            return
        for statement in recorder.lock_table_statements:  # SET LOCAL lock_timeout; LOCK TABLE
            curs.execute(statement)
        curs.execute(SQL("NOTIFY {0}").format(Identifier(recorder.channel_name)))
        with curs.copy(copy_statement) as copy:
            copy.set_types([id_type, "int8", "text", "bytea"])
            for event in stored:
                copy.write_row(
                    (as_id(event.originator_id), event.originator_version, event.topic, event.state)
                )


def joins_transaction(app: MediationApplication) -> bool:
    """True when ``record``'s ``before`` runs in the batch's transaction (SQLite, PostgreSQL)."""
    return isinstance(app.recorder, PostgresApplicationRecorder | SQLiteApplicationRecorder)


def present(app: MediationApplication, ids: Sequence[UUID]) -> set[UUID]:
    """Which of these aggregates have events stored already (one query per 500 ids)."""
    recorder = app.recorder
    found: set[UUID] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        if isinstance(recorder, SQLiteApplicationRecorder):
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(
                    f"SELECT originator_id FROM {recorder.events_table_name} "
                    f"WHERE originator_version = 1 AND originator_id IN ({marks})",
                    [
                        i.hex if recorder.datastore.originator_id_type == "uuid" else str(i)
                        for i in chunk
                    ],
                )
                found.update(UUID(str(row[0])) for row in curs.fetchall())
        elif isinstance(recorder, PostgresApplicationRecorder):
            datastore = recorder.datastore
            as_id = (lambda i: i) if datastore.originator_id_type == "uuid" else str
            statement = SQL(
                "SELECT originator_id FROM {schema}.{table} "
                "WHERE originator_version = 1 AND originator_id = ANY(%s)"
            ).format(
                schema=Identifier(datastore.schema),
                table=Identifier(recorder.events_table_name),
            )
            with datastore.transaction(commit=False) as curs:
                curs.execute(statement, ([as_id(i) for i in chunk],))
                found.update(UUID(str(row["originator_id"])) for row in curs.fetchall())
        else:
            found.update(i for i in chunk if recorder.select_events(i, limit=1))
    return found
