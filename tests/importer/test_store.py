"""The importer's batch writer stores exactly the rows ``Application.save`` would."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from importer.run import import_file
from importer.store import record
from mediation.application import MediationApplication
from mediation.case import Case
from mediation.clock import recording_with
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from mediation.verify import verify
from tests.application.test_storage import _raw_payloads
from tests.conftest import _postgres_schema
from tests.importer.test_import import FIXTURE, IMPORTER
from tests.support.factories import SteppingClock, applicant, claims, respondent

ACTOR = Actor("import", Role.SYSTEM)


def _new_cases(app: MediationApplication, n: int) -> list[Any]:
    """Events of ``n`` new cases (received, then assessed), not yet stored."""
    events: list[Any] = []
    with recording_with(app.clock):
        for seed in range(n):
            case = Case.receive(
                actor=ACTOR,
                policy=app.policy_on(date(2025, 3, 3)),
                region_code="420102",
                received_on=date(2025, 3, 3),
                applicants=[applicant(seed + 1)],
                respondents=[respondent(seed + 1)],
                claims=claims(),
            )
            case.assess(
                actor=ACTOR,
                policy=app.policy_on(date(2025, 3, 4)),
                on=date(2025, 3, 4),
                within_scope=True,
                meets_acceptance_conditions=True,
                suitable_for_mediation=True,
                reason="ok",
            )
            events.extend(case.collect_events())
    return events


def _rows(app: MediationApplication) -> list[tuple[Any, ...]]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(1, 10_000)
    ]


@pytest.fixture
def second_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another fresh store on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite3'}"
    else:
        yield from _postgres_schema()


def test_record_writes_the_rows_that_save_writes(
    app: MediationApplication, second_url: str
) -> None:
    events = _new_cases(app, 40)
    other = MediationApplication(persistence_env(second_url), clock=SteppingClock())
    try:
        other.save(*events)
        record(app, events)
        assert _rows(app) == _rows(other)
        assert [r[0] for r in _rows(app)] == list(range(1, len(events) + 1))
        assert app.get_case(events[0].originator_id).version == 2
    finally:
        other.close()


def test_a_batch_meeting_a_stored_event_writes_nothing(app: MediationApplication) -> None:
    first = _new_cases(app, 3)
    record(app, first[:2])
    before = _rows(app)

    with pytest.raises(IntegrityError):
        record(app, first)  # the first case's two events exist already

    assert _rows(app) == before
    record(app, first[2:])
    assert len(_rows(app)) == len(first)


def test_an_encrypted_import_is_encrypted_at_rest_and_verifies(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for _, r in zip(range(30), reader, strict=False)]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    key = AESCipher.create_key(16)
    app = MediationApplication(persistence_env(database_url, key), clock=SteppingClock())
    try:
        summary = import_file(app, path, actor=IMPORTER, progress=False, batch_size=7)
        assert (summary.imported, summary.refused) == (30, [])
        payloads = _raw_payloads(database_url)
        assert (
            len(payloads) == summary.events + summary.studios_created + summary.mediators_appointed
        )
        assert not any(r["applicant_id_number"].encode() in p for r in rows for p in payloads)
        assert verify(app).ok
    finally:
        app.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema: LISTEN/NOTIFY is PostgreSQL's, whatever the backends."""
    yield from _postgres_schema()


def test_postgres_batch_notifies_the_recorders_channel(postgres_url: str) -> None:
    """The batch's transaction NOTIFYs the events channel, as the library's insert does.

    The channel is named after the table, not the schema, so other stores in the same
    database notify it too: only notifications from this application's one connection
    count.
    """
    database_url = postgres_url
    env = {**persistence_env(database_url), "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}
    app = MediationApplication(env, clock=SteppingClock())
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        with recorder.datastore.get_connection() as conn:
            writer_pid = conn.info.backend_pid
        base = database_url.partition("?")[0]
        with psycopg.connect(base, autocommit=True) as listener:
            listener.execute(f'LISTEN "{recorder.channel_name}"')
            record(app, _new_cases(app, 2))
            ours: list[int] = []
            deadline = time.monotonic() + 10
            while not ours and time.monotonic() < deadline:  # others' notifications too
                ours = [n.pid for n in listener.notifies(timeout=1) if n.pid == writer_pid]
        assert ours, "the batch's transaction sent no NOTIFY"
    finally:
        app.close()
