"""PostgreSQL: the application runs as a role that owns nothing and holds no UPDATE, DELETE
or TRUNCATE grant on the events table (docs/operations.md): it records and reads as usual,
cannot change a stored event, and cannot switch the append-only triggers off.

The owner (here the test's superuser) creates the store first; the application's role then
opens it without running any DDL (``mediation.append_only.owned_by_another_role``) and
inserts through the insert function, which runs as the owner (``SECURITY DEFINER``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.conftest import POSTGRES_URL, _postgres_schema
from tests.support.factories import new_case, ready_for_entrustment

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def restricted() -> Iterator[tuple[str, str]]:
    """(owner's URL, application role's URL) of a fresh store in its own schema."""
    role = "app_" + uuid.uuid4().hex[:10]
    for owner_url in _postgres_schema():
        schema = owner_url.partition("?schema=")[2]
        owner = MediationApplication(persistence_env(owner_url))  # the owner sets it up
        try:
            owner.personal.erasures()  # the per-person key tables are made at first use
        finally:
            owner.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            conn.execute(f'GRANT SELECT ON "{schema}".mediation_events TO "{role}"')
            grants = {"personal_keys": "SELECT, INSERT, UPDATE, DELETE"}
            grants["personal_erasures"] = "SELECT, INSERT"
            for table, privileges in grants.items():  # docs/operations.md, retention
                conn.execute(f'GRANT {privileges} ON "{schema}".{table} TO "{role}"')
        base = POSTGRES_URL.replace("postgres@", f"{role}@", 1)
        try:
            yield owner_url, f"{base}?schema={schema}"
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def _as_role(url: str, sql: str) -> None:
    base, _, schema = url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(sql)  # type: ignore[arg-type]


def test_the_application_role_records_but_cannot_change_or_unprotect_events(
    restricted: tuple[str, str],
) -> None:
    _, app_url = restricted
    app = MediationApplication(persistence_env(app_url))
    try:
        case = new_case(app)
        # received, numbered, assessed, two consents
        assert ready_for_entrustment(app, case.id, case.received_on).version == 5
        assert app.get_case(case.id).version == 5
    finally:
        app.close()
    for statement in (
        "UPDATE mediation_events SET state = state",
        "DELETE FROM mediation_events",
        "TRUNCATE mediation_events",
        "ALTER TABLE mediation_events DISABLE TRIGGER USER",
        "DROP TRIGGER mediation_events_append_only ON mediation_events",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as_role(app_url, statement)
