"""Reaching under the application: stored events read and rewritten with plain SQL.

Used to damage a store the way a bad restore, a disk fault or an intruder would, and to
repair it again (restoring the original bytes from a "backup").
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from mediation.application import MediationApplication


def events_table(database_url: str) -> str:
    return "stored_events" if database_url.startswith("sqlite") else "mediation_events"


def execute(database_url: str, sql: str, params: tuple[Any, ...]) -> None:
    """``sql`` with ``?`` placeholders, on either backend (the URL's schema on PostgreSQL)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            conn.execute(sql, params)
        return
    base, _, schema = database_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def _key(database_url: str, originator_id: Any) -> Any:
    return originator_id.hex if database_url.startswith("sqlite") else str(originator_id)


def set_state(database_url: str, originator_id: Any, version: int, state: bytes) -> None:
    """Overwrite the stored payload of one event (as the table's owner: the triggers that
    refuse UPDATE are switched off for it, see mediation/append_only.py)."""
    from tests.security.integrity_support import owner

    with owner(database_url) as run:
        run(
            f"UPDATE {events_table(database_url)} SET state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            (state, _key(database_url, originator_id), version),
        )


def notifications(app: MediationApplication, topics: list[str] | None = None) -> list[Any]:
    """Every stored event (optionally of some topics), in position order."""
    out: list[Any] = []
    start = 1
    while rows := app.recorder.select_notifications(start, 1000, topics=topics or ()):
        out.extend(rows)
        start = rows[-1].id + 1
    return out
