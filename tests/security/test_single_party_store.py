"""A store written by main before lists of parties (issue 17) loads, shows and erases.

``tests/fixtures/store_v1_single_party.sqlite3`` was written by main at eb736cf
(``make_single_party_store.py``): ``Case.Received`` at class_version 1 with one applicant
(sealed per person) and one respondent, a case in mediation and a severed pair.
``store_v1_single_party.views.json`` holds the parties as that main's API showed them.
Opened by today's code (SQLite as it is; PostgreSQL with its events and keys copied in):
every case reads as one-element lists, shows exactly what it showed then (unmasked and
masked), its page and history display it, and a rebuild equals the views caught up.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.common import COOKIE
from api.users import User
from api.views import case_view
from mediation.application import MediationApplication
from mediation.settings import Settings, persistence_env
from mediation.values import Role
from projections.rebuild import table_rows
from projections.system import System
from tests.security import integrity_support as s
from tests.support.accounts import account_tokens

FIXTURES = Path(__file__).parent.parent / "fixtures"
STORE = FIXTURES / "store_v1_single_party.sqlite3"
VIEWS: dict[str, Any] = json.loads(
    (FIXTURES / "store_v1_single_party.views.json").read_text("utf-8")
)
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _rows(table: str, columns: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(STORE) as conn:
        return list(conn.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall())


@pytest.fixture
def store_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        path = tmp_path / "single.sqlite3"
        shutil.copy(STORE, path)
        yield f"sqlite:///{path}"
        return
    app = MediationApplication(persistence_env(database_url))
    app.personal.rows()  # creates the key table
    app.close()
    with s.owner(database_url) as run:
        for i, v, t, state in _rows(
            "stored_events", "originator_id, originator_version, topic, state"
        ):
            run(
                "INSERT INTO mediation_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (str(UUID(i)), v, t, bytes(state)),
            )
        for row in _rows(
            "personal_keys", "subject, lookup, wrapped, wrap_id, created_at, used_at, uses"
        ):
            run(
                "INSERT INTO personal_keys "
                "(subject, lookup, wrapped, wrap_id, created_at, used_at, uses) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    yield database_url


def _same(shown: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """What v1 showed is shown again (the fields v1.1 adds are empty)."""
    added = {"address": None, "agent": None, "representative": False, "legal_representative": None}
    extra = {k: v for k, v in shown.items() if k not in recorded}
    return {k: shown[k] for k in recorded} == recorded and all(
        added[k] == v for k, v in extra.items()
    )


def test_single_party_cases_load_show_and_rebuild(store_url: str) -> None:
    settings = Settings(database_url=store_url, secret_key=SECRET, token_minutes=60)
    system = System(store_url, settings=settings)
    try:
        app = system.app
        assert len(VIEWS) == 3
        for case_id, recorded in VIEWS.items():
            case = app.get_case(UUID(case_id))
            assert len(case.applicants) == 1 and len(case.respondents) == 1
            assert (case.collective, case.representatives) == (False, [])
            for mask in (False, True):
                view = case_view(
                    case,
                    date(2026, 7, 1),
                    calendar=app.calendars.current(),
                    reveal=app.personal.reveal,
                    mask=mask,
                )
                then = recorded["masked" if mask else "plain"]
                assert _same(view.applicant.model_dump(mode="json"), then["applicant"])
                assert _same(view.respondent.model_dump(mode="json"), then["respondent"])
                assert view.applicants == [view.applicant]
                assert view.respondents == [view.respondent]
        # the read model's parties: one applicant (sealed as stored) and one respondent
        with system.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT parties, applicants, collective FROM rm_cases")
            for parties, applicants, collective in rows:
                roles = [p["role"] for p in json.loads(parties)]
                assert roles == ["applicant", "respondent"] and applicants == 1
                assert not collective
        for name, view_ in system.runner.views.items():
            caught_up = table_rows(system.engine, view_.tables())
            system.runner.rebuild(name, swap=False)
            assert table_rows(system.engine, view_.tables("__next")) == caught_up, name
        # the case page and the history display them
        clerk = User("clerk", Role.CLERK, "420100")
        tokens = account_tokens(store_url, [clerk], settings)
        with TestClient(create_app(system, settings)) as client:
            headers = {"Authorization": f"Bearer {tokens['clerk']}"}
            for case_id, recorded in VIEWS.items():
                history = client.get(f"/api/v1/cases/{case_id}/history", headers=headers)
                assert history.status_code == 200, history.text
                first = history.json()["events"][0]["data"]["applicants"][0]
                assert first["name"] == recorded["plain"]["applicant"]["name"]
                client.cookies.set(COOKIE, tokens["clerk"])
                page = client.get(f"/cases/{case_id}")
                client.cookies.clear()
                assert page.status_code == 200, page.text[:500]
                assert recorded["plain"]["applicant"]["id_number"] in page.text
                assert recorded["plain"]["respondent"]["name"] in page.text
            client.app.state.runtime.users.close()  # type: ignore[attr-defined]
    finally:
        system.close()
