"""Shared pieces of ``python -m bench``: fresh stores, raw connections, alternating timing."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

POSTGRES_URL = os.environ.get(
    "MEDIATION_BENCH_POSTGRES",
    os.environ.get("MEDIATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
)


@dataclass
class Store:
    """One empty event store (a SQLite file or a fresh PostgreSQL schema) and raw access."""

    backend: str  # "sqlite" | "postgres"
    url: str
    path: Path | None = None
    schema: str | None = None

    @property
    def events_table(self) -> str:
        return "stored_events" if self.backend == "sqlite" else "mediation_events"

    @property
    def position_column(self) -> str:
        """The events table's log position (SQLite's table has no named one)."""
        return "rowid" if self.backend == "sqlite" else "notification_id"

    def raw(self) -> Any:
        """A plain driver connection (autocommit; callers open their own transactions)."""
        if self.backend == "sqlite":
            import sqlite3

            assert self.path is not None
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        pg = psycopg.connect(POSTGRES_URL, autocommit=True)
        pg.execute(f'SET search_path TO "{self.schema}"')
        return pg

    def begin(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def commit(self, conn: Any) -> None:
        conn.execute("COMMIT")

    @property
    def param(self) -> str:
        return "?" if self.backend == "sqlite" else "%s"


@contextmanager
def fresh_store(backend: str, workdir: Path) -> Iterator[Store]:
    if backend == "sqlite":
        directory = Path(tempfile.mkdtemp(dir=workdir))
        path = directory / "bench.sqlite3"
        try:
            yield Store("sqlite", f"sqlite:///{path}", path=path)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    schema = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Store("postgres", f"{POSTGRES_URL}?schema={schema}", schema=schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_available() -> str | None:
    """None when the local PostgreSQL answers, else the reason."""
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} unavailable: {exc}"
    return None


Timed = Callable[[], float]  # runs one round, returns units per second


def alternate(rounds: int, subject: Timed, baseline: Timed) -> tuple[float, float]:
    """Run subject and baseline alternately (order swapped every round); medians of each."""
    ours, theirs = alternate_many(rounds, subject, baseline)
    return ours, theirs


def alternate_many(rounds: int, *timed: Timed) -> list[float]:
    """Run each alternately (the order rotated every round); the median of each."""
    results: list[list[float]] = [[] for _ in timed]
    for r in range(rounds):
        for i in range(len(timed)):
            j = (i + r) % len(timed)
            results[j].append(timed[j]())
    return [statistics.median(values) for values in results]


def rate(units: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return units / (time.perf_counter() - started)


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
