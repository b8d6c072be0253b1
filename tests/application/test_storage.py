"""Storage: personal data encrypted at rest when a key is configured."""

from __future__ import annotations

import sqlite3
from datetime import date

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.support.factories import SteppingClock, new_case


def _raw_payloads(database_url: str) -> list[bytes]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            return [bytes(r[0]) for r in conn.execute("SELECT state FROM stored_events")]
    base, _, query = database_url.partition("?schema=")
    with psycopg.connect(base) as conn:
        rows = conn.execute(f'SELECT state FROM "{query}".mediation_events').fetchall()
        return [bytes(r[0]) for r in rows]


@pytest.mark.parametrize("encrypted", [False, True])
def test_personal_data_encrypted_at_rest(
    database_url: str, clock: SteppingClock, encrypted: bool
) -> None:
    key = AESCipher.create_key(16) if encrypted else ""
    app = MediationApplication(persistence_env(database_url, key), clock=clock)
    try:
        case = new_case(app, received_on=date(2026, 3, 2))
        id_number = case.applicant["id_number"]
        payloads = _raw_payloads(database_url)
        assert payloads
        leaked = any(id_number.encode() in p or "张三".encode() in p for p in payloads)
        assert leaked is not encrypted
        # and the application still reads its own events
        assert app.get_case(case.id).applicant["id_number"] == id_number
    finally:
        app.close()
