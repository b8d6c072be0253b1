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

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from mediation.application import MediationApplication


def record(app: MediationApplication, events: Sequence[Any]) -> None:
    """Store new domain events in one transaction; ``IntegrityError`` if any exists already."""
    if app.snapshots is not None and app.snapshotting_intervals:
        app.save(*events)  # keep the library's snapshotting step (not used by this application)
        return
    to_stored = app.mapper.to_stored_event
    stored = [to_stored(event) for event in events]
    if not stored:
        return
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        _copy_into_postgres(recorder, stored)
    elif isinstance(recorder, SQLiteApplicationRecorder):
        _executemany_into_sqlite(recorder, stored)
    else:
        recorder.insert_events(stored)


def _executemany_into_sqlite(
    recorder: SQLiteApplicationRecorder, stored: list[StoredEvent]
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
        curs.executemany(recorder.insert_events_statement, params)


def _copy_into_postgres(recorder: PostgresApplicationRecorder, stored: list[StoredEvent]) -> None:
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
        for statement in recorder.lock_table_statements:  # SET LOCAL lock_timeout; LOCK TABLE
            curs.execute(statement)
        curs.execute(SQL("NOTIFY {0}").format(Identifier(recorder.channel_name)))
        with curs.copy(copy_statement) as copy:
            copy.set_types([id_type, "int8", "text", "bytea"])
            for event in stored:
                copy.write_row(
                    (as_id(event.originator_id), event.originator_version, event.topic, event.state)
                )
