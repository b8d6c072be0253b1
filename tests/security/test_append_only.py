"""The events table refuses UPDATE and DELETE (PostgreSQL: and TRUNCATE) at the database level.

Plain SQL through the application's own database login, with no trigger switched off: each
statement is refused and nothing changes; the application keeps recording; a store created
before the triggers existed gets them the next time it is opened.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.faults.store import execute
from tests.security.integrity_support import rows_of, table
from tests.support.factories import new_case, ready_for_entrustment

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy_store_unkeyed.sqlite3"
REFUSED = (sqlite3.IntegrityError, psycopg.errors.InsufficientPrivilege)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET state = state",
        "UPDATE {t} SET originator_version = originator_version + 100",
        "DELETE FROM {t} WHERE originator_version = 1",
        "DELETE FROM {t}",
    ],
)
def test_update_and_delete_are_refused(
    app: MediationApplication, database_url: str, statement: str
) -> None:
    case = new_case(app)
    ready_for_entrustment(app, case.id, case.received_on)
    before = rows_of(database_url, case.id)
    with pytest.raises(REFUSED, match="append-only"):
        execute(database_url, statement.format(t=table(database_url)), ())
    assert rows_of(database_url, case.id) == before
    other = ready_for_entrustment(app, new_case(app).id, case.received_on)  # still records
    # received, numbered, assessed, two consents
    assert other.version == 5 and app.get_case(case.id).version == 5


def test_emptying_the_table_is_refused(app: MediationApplication, database_url: str) -> None:
    """PostgreSQL's TRUNCATE (a statement trigger); SQLite has none, its equivalent is a
    DELETE without WHERE (whose truncate optimisation SQLite skips when triggers exist)."""
    case = new_case(app)
    t = table(database_url)
    statement = f"TRUNCATE {t}" if database_url.startswith("postgres") else f"DELETE FROM {t}"
    with pytest.raises(REFUSED, match="append-only"):
        execute(database_url, statement, ())
    assert len(rows_of(database_url, case.id)) == 2  # received, numbered


def test_a_store_made_before_the_triggers_gets_them_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copy(LEGACY, path)
    with sqlite3.connect(path) as conn:
        triggers = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger'")
        assert triggers.fetchone()[0] == 0
    app = MediationApplication(persistence_env(f"sqlite:///{path}"))
    app.close()
    with sqlite3.connect(path) as conn, pytest.raises(sqlite3.IntegrityError, match="append"):
        conn.execute("DELETE FROM stored_events")
