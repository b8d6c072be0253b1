"""Shared fixtures: every application-level test body runs on SQLite and PostgreSQL.

``MEDIATION_TEST_BACKENDS`` (default ``sqlite,postgres``) selects the backends. PostgreSQL
tests use a fresh schema per test in the local ``test`` database
(``MEDIATION_TEST_POSTGRES``, default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.support.factories import SteppingClock

BACKENDS = [
    b.strip() for b in os.environ.get("MEDIATION_TEST_BACKENDS", "sqlite,postgres").split(",")
]
POSTGRES_URL = os.environ.get(
    "MEDIATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_schema() -> Iterator[str]:
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store on each configured backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mediation.sqlite3'}"
    elif request.param == "postgres":
        yield from _postgres_schema()
    else:  # pragma: no cover
        raise ValueError(f"unknown backend {request.param}")


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def app(database_url: str, clock: SteppingClock) -> Iterator[MediationApplication]:
    application = MediationApplication(persistence_env(database_url), clock=clock)
    try:
        yield application
    finally:
        application.close()
