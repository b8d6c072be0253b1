"""`mediation verify`: an edited, deleted or swapped stored event is detected."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date

import psycopg
import pytest

from mediation.application import MediationApplication
from mediation.values import Party
from mediation.verify import verify
from tests.support.factories import CLERK, new_case, ready_for_entrustment


def _execute(database_url: str, sql_sqlite: str, sql_pg: str, params: tuple[object, ...]) -> None:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            conn.execute(sql_sqlite, params)
    else:
        base, _, schema = database_url.partition("?schema=")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(sql_pg, params)


def _table(database_url: str) -> str:
    return "stored_events" if database_url.startswith("sqlite") else "mediation_events"


def _tamper_edit(url: str, case_id: str) -> None:
    t = _table(url)
    # change one byte of the assessment's reason (version 2 is the Assessed event)
    _execute(
        url,
        f"UPDATE {t} SET state = CAST(REPLACE(CAST(state AS TEXT), 'r1', 'r2') AS BLOB) "
        "WHERE originator_id = ? AND originator_version = 2",
        f"UPDATE {t} SET state = convert_to(replace(convert_from(state, 'UTF8'), 'r1', 'r2'),"
        " 'UTF8') WHERE originator_id = %s AND originator_version = 2",
        (case_id,),
    )


def _tamper_delete(url: str, case_id: str) -> None:
    t = _table(url)
    _execute(
        url,
        f"DELETE FROM {t} WHERE originator_id = ? AND originator_version = 3",
        f"DELETE FROM {t} WHERE originator_id = %s AND originator_version = 3",
        (case_id,),
    )


def _tamper_swap(url: str, case_id: str) -> None:
    t = _table(url)
    move = (
        "UPDATE {t} SET originator_version = {new} "
        "WHERE originator_id = {p} AND originator_version = {old}"
    )
    for old, new in ((3, 100), (4, 3), (100, 4)):
        _execute(
            url,
            move.format(t=t, p="?", old=old, new=new),
            move.format(t=t, p="%s", old=old, new=new),
            (case_id,),
        )


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_tamper_edit, "hash chain broken"),
        (_tamper_delete, "missing"),
        (_tamper_swap, "hash chain broken"),
    ],
)
def test_verify_detects_tampering(
    app: MediationApplication,
    database_url: str,
    tamper: Callable[[str, str], None],
    expected: str,
) -> None:
    case = new_case(app)
    app.assess(
        CLERK,
        case.id,
        on=date(2026, 3, 3),
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=True,
        reason="r1",
    )
    ready_for_entrustment(app, new_case(app).id, date(2026, 3, 3))
    app.record_consent(CLERK, case.id, party=Party.APPLICANT, given=True, on=date(2026, 3, 3))
    app.record_consent(CLERK, case.id, party=Party.RESPONDENT, given=True, on=date(2026, 3, 3))
    clean = verify(app)
    assert clean.ok and clean.aggregates == 2 and clean.events == 8

    case_key = case.id.hex if database_url.startswith("sqlite") else str(case.id)
    tamper(database_url, case_key)
    report = verify(app)
    assert not report.ok
    assert report.findings is not None
    assert {f.originator_id for f in report.findings} == {case.id}
    assert expected in report.findings[0].problem
