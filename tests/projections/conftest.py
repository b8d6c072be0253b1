"""Fixtures for the read-model tests: a System on each backend, with a stepping clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections.system import System
from tests.support.factories import SteppingClock


@pytest.fixture
def system(database_url: str, clock: SteppingClock) -> Iterator[System]:
    instance = System(database_url, clock=clock)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (for tests of PostgreSQL-only behaviour)."""
    from tests.conftest import _postgres_schema

    yield from _postgres_schema()
