"""Reading stored events straight from the library's events table, for a rebuild.

``reader_for`` returns what ``select_notifications`` returns, without building a
Notification and a UUID per row, and optionally only one part's aggregates (``part_of``),
chosen in the query where it can be. It reaches into the recorders' internals (table and
column names, the datastore's connections): ``None`` for a recorder it does not know, and
the caller then reads through the library.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

from mediation.application import MediationApplication


def part_of(originator_id: str, parts: int) -> int:
    """The part of a partitioned rebuild an aggregate falls in: its id's last byte (the id
    as text, a UUID's hex or canonical form; uniform for uuid4 and uuid5) modulo
    ``parts``. PostgreSQL computes the same in the reader's query (``reader_for``)."""
    try:
        return int(originator_id[-2:], 16) % parts
    except ValueError:  # not a UUID
        return zlib.crc32(originator_id.encode()) % parts


def in_part(index: int, parts: int) -> Callable[[str], bool]:
    """Whether an aggregate id falls in part ``index`` of ``parts``."""
    known: dict[str, bool] = {}

    def mine(originator_id: str) -> bool:
        found = known.get(originator_id)
        if found is None:
            found = known[originator_id] = part_of(originator_id, parts) == index
        return found

    return mine


class RawNotification(NamedTuple):
    """A stored event as the views decode it; ``originator_id`` as text (no UUID object)."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


# (after, stop, limit) -> (notifications, the position read up to)
RawReader = Callable[[int, int, int], tuple[list[RawNotification], int]]


def reader_for(
    app: MediationApplication, topics: Sequence[str], part: tuple[int, int] | None = None
) -> RawReader | None:
    """Up to ``limit`` notifications of ``topics`` in (after, stop], in log order, as
    ``select_notifications`` returns them but without building a Notification and a UUID
    per row, and the position read up to (``stop`` once fewer were found). ``part`` =
    (index, parts): only the events of that part's aggregates (``part_of``). None for a
    recorder this code does not know (the library's read is used)."""
    recorder: Any = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" * len(topics))
        as_uuid = recorder.datastore.originator_id_type == "uuid"
        index, parts = part or (0, 1)
        # the part is chosen in the query when the ids are stored as UUID hex: the last
        # two hex digits (``part_of``) among this part's; else as the rows are read
        if as_uuid and parts > 1:
            ends = sorted(f"{b:02x}" for b in range(256) if b % parts == index)
            where = "AND lower(substr(originator_id, -2)) IN ({}) ".format(
                ",".join(f"'{e}'" for e in ends)
            )
        else:
            where = ""
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? "
            f"AND topic IN ({marks}) {where}ORDER BY rowid LIMIT ?"
        )
        # each id's canonical text (stored as UUID.hex: str(UUID(hex)) gives it) and
        # whether it is in the part, worked out once per aggregate
        known: dict[str, str | None] = {}

        def sqlite_read(after: int, stop: int, limit: int) -> tuple[list[RawNotification], int]:
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(sql, [after, stop, *topics, limit])
                rows = c.fetchall()
            last = rows[-1][0] if len(rows) == limit else stop
            out = []
            for n, o, v, t, s in rows:
                try:
                    cid = known[o]
                except KeyError:
                    cid = _canonical(o) if as_uuid else o
                    if parts > 1 and not where and part_of(cid, parts) != index:
                        cid = None
                    known[o] = cid
                if cid is not None:
                    out.append(RawNotification(n, cid, v, t, s))
            return out, last

        return sqlite_read
    if isinstance(recorder, PostgresApplicationRecorder):
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        # the part is chosen in the query (as ``part_of``: the id's last byte modulo the
        # parts), so each part reads and receives only its own events
        where = (
            f"AND mod(('x' || right(originator_id::text, 2))::bit(8)::int, {int(part[1])}) "
            f"= {int(part[0])} "
            if part is not None and part[1] > 1
            else ""
        )
        sql = (
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            f"FROM {table} WHERE notification_id > %s AND notification_id <= %s "
            f"AND topic = ANY(%s) {where}ORDER BY notification_id LIMIT %s"
        )

        def postgres_read(after: int, stop: int, limit: int) -> tuple[list[RawNotification], int]:
            with (
                recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute(sql, [after, stop, list(topics), limit])
                rows = [RawNotification(*row) for row in cur.fetchall()]
            return rows, rows[-1].id if len(rows) == limit else stop

        return postgres_read
    return None


def _canonical(stored: str) -> str:
    if len(stored) == 32 and stored.islower():
        h = stored
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(UUID(stored))
