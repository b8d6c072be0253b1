"""Erasure without losing the statistics (issue 16, acceptance 2), on both backends.

A store with people whose cases all concluded long ago and people with a case still open;
``mediation retention --apply`` destroys the former's keys. Then no erased name, ID number
or phone is anywhere in the SQLite file or in a ``pg_dump`` of the schema; the kept people
are still readable; the statistics and every read-model row are the same as before; the
case views and pages show "已删除"; ``mediation verify`` passes; the erasure is recorded.

The store runs without ``MEDIATION_ENCRYPTION_KEY`` so that event payloads are plain JSON:
only the per-person sealing stands between the bytes and the personal data (the grep is
shown to work by finding the respondent's name, which is not personal data).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import pytest
import sqlalchemy as sa
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.integrity_cli import register as register_integrity
from api.pages.common import COOKIE
from api.retention_cli import register as register_retention
from api.users import User
from importer.cli import register as register_import
from mediation.application import MediationApplication
from mediation.case import Case
from mediation.clock import recording_with
from mediation.personal import ERASED
from mediation.settings import Settings, get_settings
from mediation.values import (
    ApplicantInput,
    Disposition,
    Party,
    Role,
    Route,
    StudioKind,
    WorkerCategory,
)
from projections.system import System
from tests.support.accounts import account_tokens
from tests.support.factories import (
    ADMIN,
    CLERK,
    SteppingClock,
    claims,
    resident_id,
    respondent,
)

SECRET = "erasure-test-secret-key-long-enough-0123456789"
RESPONDENT = "武汉某某物流有限公司"  # not personal data: stays plain in the events


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str

    def input(self) -> ApplicantInput:
        return ApplicantInput(self.name, self.id_number, self.phone, WorkerCategory.EMPLOYEE)


ERASED_PEOPLE = (
    Person("欧阳娜娜", resident_id(11), "13912345671"),
    Person("司马相如", resident_id(12), "13912345672"),
)
KEPT_PEOPLE = (
    Person("诸葛亮明", resident_id(13), "13912345673"),
    Person("上官婉儿", resident_id(14), "13912345674"),
)


@dataclass
class Store:
    system: System
    client: TestClient
    headers: dict[str, str]
    database_url: str
    cases: dict[str, list[UUID]]  # person's name -> their cases


def _receive(app: MediationApplication, who: Person, on: date) -> UUID:
    case = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=on,
        applicant=who.input(),
        respondent=respondent(),
        claims=claims(),
    )
    return case.id


def _succeed(app: MediationApplication, case_id: UUID, studio: UUID, mediator: UUID) -> None:
    app.assess(
        CLERK,
        case_id,
        on=date(2026, 3, 3),
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=True,
        reason="适宜调解",
    )
    for party in (Party.APPLICANT, Party.RESPONDENT):
        app.record_consent(CLERK, case_id, party=party, given=True, on=date(2026, 3, 3))
    app.entrust(CLERK, case_id, studio_id=studio, route=Route.PRE_FILING, on=date(2026, 3, 4))
    app.assign_mediator(CLERK, case_id, mediator_id=mediator, on=date(2026, 3, 5))
    app.sign_agreement(
        CLERK,
        case_id,
        signed_on=date(2026, 3, 9),
        amount=Decimal("9000.00"),
        performance_due_on=date(2026, 3, 20),
        terms="分两期支付",
    )
    app.record_performance(
        CLERK, case_id, on=date(2026, 3, 16), amount_paid=Decimal("9000.00"), complete=True
    )


@pytest.fixture
def store(database_url: str, clock: SteppingClock) -> Iterator[Store]:
    settings = Settings(database_url=database_url, secret_key=SECRET, token_minutes=60)
    system = System(database_url, settings=settings, clock=clock)
    app = system.app
    studio = app.register_studio(
        ADMIN,
        name="武汉市裁调对接工作室",
        region_code="420100",
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2025, 1, 1),
    )
    _, mediator = app.appoint_mediator(
        ADMIN, studio.id, name="王调解", qualification="lawyer", appointed_on=date(2025, 1, 1)
    )
    a, b = ERASED_PEOPLE
    k1, k2 = KEPT_PEOPLE
    cases: dict[str, list[UUID]] = {p.name: [] for p in (*ERASED_PEOPLE, *KEPT_PEOPLE)}
    # a: two cases, one closed, one not accepted
    first = _receive(app, a, date(2026, 3, 2))
    app.close_case(CLERK, first, on=date(2026, 3, 5), disposition=Disposition.WITHDRAWN)
    second = _receive(app, a, date(2026, 4, 1))
    app.decide_acceptance(CLERK, second, accepted=False, on=date(2026, 4, 2), reason="超过时效")
    cases[a.name] += [first, second]
    # b: mediated to success (a subsidy, a conclusion in the statistics)
    third = _receive(app, b, date(2026, 3, 2))
    _succeed(app, third, studio.id, mediator)
    cases[b.name].append(third)
    # k1: one case concluded long ago, one still open: kept
    fourth = _receive(app, k1, date(2026, 3, 2))
    _succeed(app, fourth, studio.id, mediator)
    cases[k1.name] += [fourth, _receive(app, k1, date(2026, 5, 6))]
    # k2: open
    cases[k2.name].append(_receive(app, k2, date(2026, 5, 7)))
    fastapi_app = create_app(system, settings)
    tokens = account_tokens(database_url, [User("admin", Role.ADMIN, "420000")], settings)
    try:
        with TestClient(fastapi_app) as client:
            yield Store(
                system,
                client,
                {"Authorization": f"Bearer {tokens['admin']}"},
                database_url,
                cases,
            )
            fastapi_app.state.runtime.users.close()
    finally:
        system.close()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    monkeypatch.delenv("MEDIATION_ENCRYPTION_KEY", raising=False)
    get_settings.cache_clear()
    app = typer.Typer()
    register_retention(app)
    register_import(app)
    register_integrity(app)  # `verify`
    yield app
    get_settings.cache_clear()


def _statistics(s: Store) -> dict[str, Any]:
    """Every figure the auditor sees, and every read-model row."""
    out: dict[str, Any] = {}
    for group_by in ("city", "studio", "month", "claim_category", "route"):
        r = s.client.get(
            "/api/v1/stats/caseload",
            params={
                "region": "420000",
                "from": "2026-01-01",
                "to": "2026-06-30",
                "group_by": group_by,
            },
            headers=s.headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        body.pop("as_of")  # the moment of the query, not a figure
        out[f"caseload/{group_by}"] = body
    for month in ("2026-03", "2026-04"):
        r = s.client.get(
            "/api/v1/stats/subsidies",
            params={"region": "420000", "month": month},
            headers=s.headers,
        )
        assert r.status_code == 200, r.text
        out[f"subsidies/{month}"] = r.json()
    engine = s.system.engine
    for table in sorted(sa.inspect(engine).get_table_names()):
        if table.startswith(
            ("personal_", "users", "account", "login", "alembic", "mediation_", "access_audit")
        ):
            continue  # not read models: keys, accounts, and the record of this test's reads
        if table == "rm_search":
            continue  # it forgets the erased people (checked on its own)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
        out[f"table/{table}"] = sorted(repr(tuple(r)) for r in rows)
    return out


def _stored_bytes(database_url: str) -> bytes:
    """The whole SQLite file (and its write-ahead log), or a pg_dump of the test schema."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url[len("sqlite:///") :])
        files = [path, *path.parent.glob(path.name + "-*")]
        return b"".join(f.read_bytes() for f in files if f.is_file())
    url = urlparse(database_url)
    schema = parse_qs(url.query)["schema"][0]
    dump = subprocess.run(
        [
            "pg_dump",
            f"--schema={schema}",
            "--host",
            url.hostname or "127.0.0.1",
            "--port",
            str(url.port or 5432),
            "--username",
            url.username or "postgres",
            (url.path or "/test").lstrip("/"),
        ],
        capture_output=True,
        check=True,
    )
    assert b"personal_keys" in dump.stdout  # the dump does hold the store's tables
    return dump.stdout


def _forms(text: str) -> list[bytes]:
    """A value as UTF-8, as JSON with ASCII escapes, and both as hex (a dumped bytea)."""
    forms = [text.encode("utf-8"), json.dumps(text).strip('"').encode("ascii")]
    return forms + [f.hex().encode("ascii") for f in forms]


def _applicant(s: Store, case_id: UUID) -> dict[str, Any]:
    r = s.client.get(f"/api/v1/cases/{case_id}", headers=s.headers)
    assert r.status_code == 200, r.text
    applicant: dict[str, Any] = r.json()["applicant"]
    return applicant


def test_retention_erases_old_people_everywhere_and_keeps_the_statistics(
    store: Store, cli: typer.Typer
) -> None:
    runner = CliRunner()
    before = _statistics(store)
    for who in (*ERASED_PEOPLE, *KEPT_PEOPLE):
        for case_id in store.cases[who.name]:
            shown = _applicant(store, case_id)
            assert (shown["name"], shown["id_number"], shown["phone"]) == (
                who.name,
                who.id_number,
                who.phone,
            )
    stored = _stored_bytes(store.database_url)
    assert any(form in stored for form in _forms(RESPONDENT))  # the search does see payloads
    for who in (*ERASED_PEOPLE, *KEPT_PEOPLE):  # sealed from the start
        for value in (who.name, who.id_number, who.phone):
            assert not any(form in stored for form in _forms(value)), value

    dry = runner.invoke(cli, ["retention", "--today", "2037-01-01"])
    assert dry.exit_code == 0, dry.output
    assert "2 people (3 cases) past retention; 2 kept; 0 unused keys" in dry.output
    assert "dry run: nothing erased" in dry.output
    assert "欧**" in dry.output and "诸葛" not in dry.output
    assert _applicant(store, store.cases[ERASED_PEOPLE[0].name][0])["name"] == "欧阳娜娜"

    applied = runner.invoke(
        cli, ["retention", "--today", "2037-01-01", "--apply", "--in-use-minutes", "0"]
    )
    assert applied.exit_code == 0, applied.output
    assert "erased 2 keys" in applied.output

    # the erased people: unreadable in every view, and their data nowhere in the store
    for who in ERASED_PEOPLE:
        for case_id in store.cases[who.name]:
            shown = _applicant(store, case_id)
            assert (shown["name"], shown["id_number"], shown["phone"]) == (ERASED,) * 3
            assert shown["worker_category"] == "employee"
            history = store.client.get(f"/api/v1/cases/{case_id}/history", headers=store.headers)
            assert history.status_code == 200, history.text
            received = history.json()["events"][0]["data"]["applicants"][0]
            assert received["name"] == ERASED and who.name not in history.text
    store.client.cookies.set(COOKIE, store.headers["Authorization"].split()[1])
    try:
        page = store.client.get(f"/cases/{store.cases[ERASED_PEOPLE[0].name][0]}")
        listing = store.client.get("/cases")
    finally:
        store.client.cookies.clear()
    assert page.status_code == 200, page.text
    assert ERASED in page.text and ERASED_PEOPLE[0].name not in page.text
    assert listing.status_code == 200 and ERASED_PEOPLE[0].name not in listing.text
    stored = _stored_bytes(store.database_url)
    for who in ERASED_PEOPLE:
        for value in (who.name, who.id_number, who.phone):
            assert not any(form in stored for form in _forms(value)), value
    # the kept people: still readable
    for who in KEPT_PEOPLE:
        for case_id in store.cases[who.name]:
            assert _applicant(store, case_id)["id_number"] == who.id_number
    # the statistics and every read-model row: exactly as before
    assert _statistics(store) == before
    # the search index forgot the erased people (issue 17): not found by their ID number or
    # name any more; the kept people still are
    people = [*((p, False) for p in ERASED_PEOPLE), *((p, True) for p in KEPT_PEOPLE)]
    for person, findable in people:
        for q in (person.id_number, person.name):
            r = store.client.get(
                "/api/v1/cases", params={"q": q, "region": "420000"}, headers=store.headers
            )
            assert r.status_code == 200, r.text
            assert bool(r.json()["items"]) is findable, (person.name, q)

    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output

    record = runner.invoke(cli, ["erasures"])
    assert record.exit_code == 0, record.output
    lines = record.stdout.strip().splitlines()  # log lines go to stderr
    assert len(lines) == 1 and "2 keys, 3 cases" in lines[0] and "cutoff 2027-01-01" in lines[0]
    assert not any(who.name in record.output for who in ERASED_PEOPLE)

    # a second run finds no one left to erase
    again = runner.invoke(cli, ["retention", "--today", "2037-01-01", "--apply"])
    assert again.exit_code == 0, again.output
    assert "0 people (0 cases) past retention; 2 kept" in again.output


def test_a_later_case_of_a_person_keeps_their_key(store: Store, cli: typer.Typer) -> None:
    """The same ID number uses the same key: one open case keeps all their cases readable."""
    who = ERASED_PEOPLE[0]
    later = _receive(store.system.app, who, date(2026, 6, 1))
    result = CliRunner().invoke(
        cli, ["retention", "--today", "2037-01-01", "--apply", "--in-use-minutes", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "erased 1 keys" in result.output  # only ERASED_PEOPLE[1]
    for case_id in [*store.cases[who.name], later]:
        assert _applicant(store, case_id)["name"] == who.name


def test_a_key_in_use_is_left_alone(store: Store, cli: typer.Typer) -> None:
    """A key a command used within the margin survives (a case may be saved right now)."""
    result = CliRunner().invoke(
        cli, ["retention", "--today", "2037-01-01", "--apply", "--in-use-minutes", "99999999"]
    )
    assert result.exit_code == 0, result.output
    assert "erased 0 keys; 2 in use, left" in result.output
    assert _applicant(store, store.cases[ERASED_PEOPLE[0].name][0])["name"] == "欧阳娜娜"


def test_the_erasure_record_is_append_only(store: Store, cli: typer.Typer) -> None:
    CliRunner().invoke(cli, ["retention", "--today", "2037-01-01", "--apply"])
    keys = store.system.app.personal
    for statement in (
        "UPDATE {s}personal_erasures SET keys = 0",
        "DELETE FROM {s}personal_erasures",
    ):
        schema = "" if store.database_url.startswith("sqlite") else keys._schema + "."
        with (
            pytest.raises(Exception, match="append-only"),
            keys._datastore.transaction(commit=True) as curs,
        ):
            curs.execute(statement.format(s=schema))
    assert len(keys.erasures()) == 1


def test_cases_recorded_before_per_person_keys_are_reported(store: Store, cli: typer.Typer) -> None:
    """A plain (v1) applicant still loads and shows; retention says it cannot erase it."""
    app = store.system.app
    with recording_with(app.clock):  # no vault installed: stored the way main stored it
        legacy = Case.receive(
            actor=CLERK.actor,
            policy=app.policy_on(date(2026, 3, 2)),
            region_code="420102",
            received_on=date(2026, 3, 2),
            applicants=[
                ApplicantInput("旧案人", resident_id(15), "13912345675", WorkerCategory.EMPLOYEE)
            ],
            respondents=[respondent()],
            claims=claims(),
        )
    app.save(legacy)
    assert legacy.applicant["name"] == "旧案人"
    app.close_case(CLERK, legacy.id, on=date(2026, 3, 3), disposition=Disposition.OTHER)
    assert _applicant(store, legacy.id)["name"] == "旧案人"
    result = CliRunner().invoke(cli, ["retention", "--today", "2037-01-01"])
    assert result.exit_code == 0, result.output
    assert "1 cases past retention were recorded before per-person keys" in result.output
