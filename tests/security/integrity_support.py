"""Tampering with the stored events in plain SQL, as an insider with a database login would.

The events table refuses UPDATE and DELETE by triggers; the intruder here has the table
owner's rights, so each change switches them off (SQLite: drops and re-creates them;
PostgreSQL: ``ALTER TABLE … DISABLE/ENABLE TRIGGER USER``). An intruder who re-chains an
edited event has the code but not the integrity key: either an unkeyed SHA-256 chain (the
pre-key format) or an HMAC under a guessed key, written in the keyed format.

Kept free of the integrity modules themselves, so that the tests using it can be run
against code that predates them (to show they fail there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.security import issue_token
from api.users import User
from mediation.application import MediationApplication
from mediation.integrity import GENESIS, canonical, chain_hash
from mediation.settings import Settings, get_settings
from mediation.values import Party, Role
from projections.system import System
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    in_mediation,
    new_case,
    ready_for_entrustment,
    studio_with_mediator,
)

__all__ = ["date", "new_case", "ready_for_entrustment"]

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
SECRET = "security-tests-secret-key-long-enough-0123456789"
TRIGGERS_SQLITE = {
    "stored_events_no_update": "BEFORE UPDATE",
    "stored_events_no_delete": "BEFORE DELETE",
}


def configure(monkeypatch: pytest.MonkeyPatch, database_url: str, checkpoints: str) -> None:
    """The environment the ``mediation`` command and the server read, for this store."""
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    monkeypatch.setenv("MEDIATION_CHECKPOINT_DIR", checkpoints)
    monkeypatch.setenv("MEDIATION_INTEGRITY_KEY", KEY)
    monkeypatch.setenv("MEDIATION_SECRET_KEY", SECRET)
    clear_caches()


def clear_caches() -> None:
    get_settings.cache_clear()
    try:
        from mediation import integrity_keys
    except ImportError:  # code from before the keyed chain
        return
    integrity_keys.configured_keys.cache_clear()


def table(database_url: str) -> str:
    return "stored_events" if database_url.startswith("sqlite") else "mediation_events"


def _key(database_url: str, originator_id: UUID) -> str:
    return originator_id.hex if database_url.startswith("sqlite") else str(originator_id)


@contextmanager
def owner(database_url: str) -> Iterator[Callable[[str, tuple[Any, ...]], list[Any]]]:
    """A connection with the triggers off; yields ``run(sql with ?, params) -> rows``."""
    t = table(database_url)
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url[len("sqlite:///") :])
        try:
            present = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            }
            for name in TRIGGERS_SQLITE:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")

            def run_sqlite(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
                return list(conn.execute(sql, params).fetchall())

            yield run_sqlite
            for name, when in TRIGGERS_SQLITE.items():  # covering the tracks
                if name not in present:
                    continue
                conn.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name} {when} ON {t} "
                    "BEGIN SELECT RAISE(ABORT, 'stored events are append-only'); END"
                )
            conn.commit()
        finally:
            conn.close()
        return
    base, _, schema = database_url.partition("?schema=")
    with psycopg.connect(base) as pg:
        pg.execute(f'SET search_path TO "{schema}"')
        pg.execute(f"ALTER TABLE {t} DISABLE TRIGGER USER")

        def run_pg(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
            cur = pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description else []

        yield run_pg
        pg.execute(f"ALTER TABLE {t} ENABLE TRIGGER USER")
        pg.commit()


def rows_of(database_url: str, case_id: UUID) -> list[tuple[int, int, str, bytes]]:
    """(position, version, topic, state) of one aggregate's events, by version."""
    position = "rowid" if database_url.startswith("sqlite") else "notification_id"
    with owner(database_url) as run:
        rows = run(
            f"SELECT {position}, originator_version, topic, state FROM {table(database_url)} "
            "WHERE originator_id = ? ORDER BY originator_version",
            (_key(database_url, case_id),),
        )
    return [(int(p), int(v), str(t), bytes(s)) for p, v, t, s in rows]


# ---------------------------------------------------------------------- the tampering


def _guessed_key_chain(
    previous: str, topic: str, oid: UUID, version: int, ts: datetime, f: Any
) -> str:
    material = "|".join((previous, topic, str(oid), str(version), ts.isoformat(), canonical(f)))
    mac = hmac.new(b"a guessed key" * 3, material.encode(), hashlib.sha256).hexdigest()
    stored = str(f.get("chain", ""))
    key_id = stored.split(":")[1] if stored.startswith("k1:") else "00000000"
    return f"k1:{key_id}:{mac}"  # the real key id: the intruder can read it


Rechain = Callable[[str, str, UUID, int, datetime, Any], str]


def edit_and_rechain(
    database_url: str, case_id: UUID, *, guessed_key: bool, rechain: Rechain | None = None
) -> None:
    """Rename the applicant (version 1) and chain every event of the case again."""
    transcoder = MediationApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    rows = rows_of(database_url, case_id)
    previous = GENESIS
    with owner(database_url) as run:
        for _, version, topic, state in rows:
            fields = transcoder.transcoder.decode(state)
            if version == 1:  # v1 stored one applicant, v2 (issue 17) a list
                party = fields["applicants"][0] if "applicants" in fields else fields["applicant"]
                party["name"] = "李四"
            class_version = fields.pop("class_version", None)  # not covered by the chain
            chain = rechain or (_guessed_key_chain if guessed_key else chain_hash)
            fields["chain"] = chain(previous, topic, case_id, version, fields["timestamp"], fields)
            previous = fields["chain"]
            if class_version is not None:
                fields["class_version"] = class_version
            run(
                f"UPDATE {table(database_url)} SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (transcoder.transcoder.encode(fields), _key(database_url, case_id), version),
            )


def swap_versions(database_url: str, case_id: UUID) -> None:
    """Exchange the version numbers of the case's last two events."""
    last = rows_of(database_url, case_id)[-1][1]
    move = (
        f"UPDATE {table(database_url)} SET originator_version = ? "
        "WHERE originator_id = ? AND originator_version = ?"
    )
    key = _key(database_url, case_id)
    with owner(database_url) as run:
        for old, new in ((last - 1, 1000), (last, last - 1), (1000, last)):
            run(move, (new, key, old))


def reorder_positions(database_url: str, case_id: UUID) -> None:
    """Exchange the log positions of the case's last two events (versions unchanged)."""
    rows = rows_of(database_url, case_id)
    (p1, *_), (p2, *_) = rows[-2], rows[-1]
    column = "rowid" if database_url.startswith("sqlite") else "notification_id"
    move = f"UPDATE {table(database_url)} SET {column} = ? WHERE {column} = ?"
    with owner(database_url) as run:
        for old, new in ((p1, 10_000_000), (p2, p1), (10_000_000, p2)):
            run(move, (new, old))


def delete_last_event(database_url: str, case_id: UUID) -> None:
    last = rows_of(database_url, case_id)[-1][1]
    with owner(database_url) as run:
        run(
            f"DELETE FROM {table(database_url)} WHERE originator_id = ? AND originator_version = ?",
            (_key(database_url, case_id), last),
        )


def delete_aggregate(database_url: str, case_id: UUID) -> None:
    with owner(database_url) as run:
        run(
            f"DELETE FROM {table(database_url)} WHERE originator_id = ?",
            (_key(database_url, case_id),),
        )


def truncate_log(database_url: str, events: int) -> None:
    """Delete the last ``events`` events of the whole log."""
    column = "rowid" if database_url.startswith("sqlite") else "notification_id"
    t = table(database_url)
    with owner(database_url) as run:
        (top,) = run(f"SELECT MAX({column}) FROM {t}", ())[0]
        run(f"DELETE FROM {t} WHERE {column} > ?", (int(top) - events,))


# ---------------------------------------------------------------------- the store


def populate(system: System) -> dict[str, UUID]:
    """A studio and four cases; the last case's events are the last three of the log."""
    app = system.app
    studio_id, mediator_id = studio_with_mediator(app)
    edited = new_case(app, received_on=date(2026, 3, 2))
    ready_for_entrustment(app, edited.id, date(2026, 3, 3))
    kept = new_case(app, received_on=date(2026, 3, 3))
    ready_for_entrustment(app, kept.id, date(2026, 3, 4))
    deleted = new_case(app, received_on=date(2026, 3, 4))
    app.record_consent(CLERK, deleted.id, party=Party.APPLICANT, given=True, on=date(2026, 3, 5))
    tail = in_mediation(app, studio_id, mediator_id, received_on=date(2026, 3, 5))
    app.record_session(MEDIATOR, tail.id, held_on=date(2026, 3, 9), summary="第一次")
    app.sign_agreement(
        MEDIATOR,
        tail.id,
        signed_on=date(2026, 3, 10),
        amount=Decimal("100.00"),
        performance_due_on=date(2026, 3, 31),
        terms="一次付清",
    )
    system.catch_up()
    return {"edited": edited.id, "kept": kept.id, "deleted": deleted.id, "tail": tail.id}


def token(role: Role, settings: Settings, name: str = "", region: str = "420000") -> str:
    """A token of a stored account (tokens of missing accounts are refused)."""
    user = User(name or f"{role.value}-{region}", role, region)
    try:
        from tests.support.accounts import account_token
    except ImportError:  # code from before stored accounts were checked
        return issue_token(user, settings)[0]
    return account_token(settings.database_url, user, settings)


def settled_readyz(client: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """``/readyz`` once the background check has finished its first walk (bounded)."""
    import time

    for _ in range(800):
        r = client.get("/readyz", headers=headers or {})
        assert r.status_code == 200
        body: dict[str, Any] = r.json()
        if body["integrity"]["status"] != "pending":
            return body
        time.sleep(0.025)
    pytest.fail("the integrity check never finished its first walk")


def utc_now() -> datetime:
    return datetime.now(UTC)
