"""Statistics over the demo province: JSON, CSV and XLSX agree with the read-model queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.users import User
from mediation.settings import Settings
from mediation.values import Role
from projections import caseload, subsidies
from projections.demo import generate
from projections.system import System
from tests.api.conftest import SECRET
from tests.support.accounts import account_token
from tests.support.factories import SteppingClock

PROVINCE = "420000"


@dataclass
class Demo:
    client: TestClient
    system: System
    headers: dict[str, str]
    mediator_headers: dict[str, str]
    region: str


@pytest.fixture
def demo(database_url: str, clock: SteppingClock) -> Iterator[Demo]:
    cfg = Settings(database_url=database_url, secret_key=SECRET)
    system = System(database_url, settings=cfg, clock=clock)
    summary = generate(system, cases=60, seed=11, progress=False)
    app = create_app(system, cfg)
    token = account_token(database_url, User("auditor", Role.AUDITOR, PROVINCE), cfg)
    med = account_token(
        database_url, User("m", Role.MEDIATOR, PROVINCE, mediator_id=summary.mediator_ids[0]), cfg
    )
    try:
        with TestClient(app) as client:
            yield Demo(
                client,
                system,
                {"Authorization": f"Bearer {token}"},
                {"Authorization": f"Bearer {med}"},
                summary.first_studio_region,
            )
    finally:
        app.state.runtime.users.close()
        system.close()


PERIOD = {"from": "2024-01-01", "to": "2026-06-30"}
COUNTS = (
    "received",
    "entrusted",
    "concluded",
    "succeeded",
    "succeeded_by_performance",
    "succeeded_by_statement",
    "failed",
    "pending",
    "overdue",
)


def _expected(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(row):
        v = getattr(row, f.name)
        if f.name in ("success_rate", "mediation_share"):
            out[f.name] = None if v is None else str(v.quantize(Decimal("0.0001")))
        elif isinstance(v, Decimal):
            out[f.name] = str(v.quantize(Decimal("0.01")))
        else:
            out[f.name] = v
    return out


@pytest.mark.parametrize("group_by", ["city", "studio", "month", "claim_category"])
def test_caseload_equals_the_read_model_queries(demo: Demo, group_by: str) -> None:
    params = {**PERIOD, "group_by": group_by, "region": PROVINCE}
    r = demo.client.get("/api/v1/stats/caseload", params=params, headers=demo.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    report = caseload.caseload(
        demo.system.engine,
        region=PROVINCE,
        from_=date(2024, 1, 1),
        to=date(2026, 6, 30),
        group_by=group_by,
    )
    assert body["totals"] == _expected(report.totals)
    assert body["rows"] == [_expected(row) for row in report.rows]
    assert body["policy_version"] == report.policy_version
    assert body["totals"]["received"] >= 60  # severed claims make cases of their own
    assert body["from"] == "2024-01-01" and body["group_by"] == group_by


def test_csv_and_xlsx_hold_the_same_numbers(demo: Demo) -> None:
    params = {**PERIOD, "group_by": "city", "region": PROVINCE}
    body = demo.client.get("/api/v1/stats/caseload", params=params, headers=demo.headers).json()
    rows = [*body["rows"], body["totals"]]

    r = demo.client.get("/api/v1/stats/caseload.csv", params=params, headers=demo.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(table) == len(rows)
    for line, row in zip(table, rows, strict=True):
        for f in COUNTS:
            assert int(line[f]) == row[f]
        assert line["amount_claimed"] == row["amount_claimed"]

    r = demo.client.get("/api/v1/stats/caseload.xlsx", params=params, headers=demo.headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["收结案统计"]
    zh = [c.value for c in ws[1]]
    assert zh[2] == "收案数" and "调解成功率" in zh
    data = list(ws.iter_rows(min_row=2, values_only=True))  # one header row (issue 12)
    assert len(data) == len(rows)
    index = {name: i for i, name in enumerate(zh)}
    for values, row in zip(data, rows, strict=True):
        assert values[index["收案数"]] == row["received"]
        assert isinstance(values[index["收案数"]], int)
        assert values[index["调解成功数"]] == row["succeeded"]
        claimed = values[index["请求金额(元)"]]
        assert isinstance(claimed, int | float)
        assert Decimal(str(claimed)).quantize(Decimal("0.01")) == Decimal(row["amount_claimed"])
        rate = values[index["调解成功率"]]
        if row["success_rate"] is None:
            assert rate is None
        else:
            assert abs(Decimal(str(rate)) - Decimal(row["success_rate"])) < Decimal("0.00005")
    assert data[-1][0] == "合计"
    assert [c.value for c in wb["说明"]["A"]] == ["地区", "起", "止", "分组", "截至", "政策版本"]


def test_drill_down_subsidies_coverage_and_refusals(demo: Demo) -> None:
    params = {**PERIOD, "group_by": "city", "region": PROVINCE}
    body = demo.client.get("/api/v1/stats/caseload", params=params, headers=demo.headers).json()
    row = max(body["rows"], key=lambda x: x["succeeded"])
    r = demo.client.get(
        "/api/v1/stats/caseload/cases",
        params={**params, "measure": "succeeded", "key": row["key"]},
        headers=demo.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == row["succeeded"] == len(r.json()["case_ids"])
    case_id = r.json()["case_ids"][0] if r.json()["case_ids"] else None
    if case_id:
        c = demo.client.get(f"/api/v1/cases/{case_id}", headers=demo.headers).json()
        assert c["status"] in ("succeeded", "mediation_failed", "closed", "accepted")
        assert "*" in c["applicant"]["name"] or len(c["applicant"]["name"]) == 1
    r = demo.client.get(
        "/api/v1/stats/caseload/cases",
        params={**params, "measure": "received", "key": "total"},
        headers=demo.headers,
    )
    assert r.json()["count"] == body["totals"]["received"]

    month = "2026-03"
    r = demo.client.get(
        "/api/v1/stats/subsidies", params={"month": month, "region": PROVINCE}, headers=demo.headers
    )
    assert r.status_code == 200, r.text
    statement = subsidies.subsidies(demo.system.engine, region=PROVINCE, month=month)
    assert r.json()["totals"]["cases"] == statement.totals.cases
    assert Decimal(r.json()["totals"]["amount"]) == statement.totals.amount
    assert len(r.json()["rows"]) == len(statement.rows)

    r = demo.client.get(
        "/api/v1/stats/coverage",
        params={"region": PROVINCE, "on": "2026-06-01"},
        headers=demo.headers,
    )
    assert r.status_code == 200 and r.json()["counties_total"] > 0

    as_of = {**params, "as_of": "2025-01-01T00:00:00+08:00"}
    r = demo.client.get("/api/v1/stats/caseload", params=as_of, headers=demo.headers)
    assert r.status_code == 200
    assert r.json()["totals"]["received"] <= body["totals"]["received"]
    naive = {**params, "as_of": "2025-01-01T00:00:00"}
    r = demo.client.get("/api/v1/stats/caseload", params=naive, headers=demo.headers)
    assert r.status_code == 422 and r.json()["field"] == "as_of"
    r = demo.client.get(
        "/api/v1/stats/caseload", params={**params, "group_by": "colour"}, headers=demo.headers
    )
    assert r.status_code == 422 and r.json()["field"] == "group_by"
    r = demo.client.get(
        "/api/v1/stats/caseload",
        params={**params, "from": "2026-07-01", "to": "2026-01-01"},
        headers=demo.headers,
    )
    assert r.status_code == 422
    r = demo.client.get(
        "/api/v1/stats/caseload", params={**params, "region": "430000"}, headers=demo.headers
    )
    assert r.status_code == 404
    r = demo.client.get("/api/v1/stats/caseload", params=params, headers=demo.mediator_headers)
    assert r.status_code == 403
    r = demo.client.get(
        "/api/v1/stats/subsidies", params={"month": "2026-13"}, headers=demo.headers
    )
    assert r.status_code == 422
