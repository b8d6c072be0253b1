"""Statistics: caseload (JSON, CSV, XLSX), drill-down and subsidies, from the read models."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

import projections.caseload
import projections.coverage
import projections.drilldown
import projections.subsidies
from api import authz
from api.deps import Access, AccessDep, RuntimeDep, action
from api.errors import not_found, validation
from api.routes.common import json_response
from api.schemas import (
    CaseloadOut,
    CaseloadRowOut,
    CoverageOut,
    Day,
    DrillDownOut,
    GroupBy,
    Measure,
    SubsidiesOut,
    SubsidyRowOut,
    SubsidyTotalsOut,
)
from api.spreadsheet import csv_cell, xlsx_cell
from mediation import labels
from mediation.regions import get_region, is_valid_region_code
from mediation.values import money_str
from projections.caseload import AMOUNTS, COUNTS, RATES

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])

RATE = Decimal("0.0001")

# (field, 中文, English) — the spreadsheet's two header rows
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("key", "分组键", "Key"),
    ("label", "名称", "Label"),
    ("received", "收案数", "Received"),
    ("entrusted", "委托调解数", "Entrusted"),
    ("concluded", "调解结案数", "Concluded"),
    ("succeeded", "调解成功数", "Succeeded"),
    ("succeeded_by_performance", "履行完毕成功数", "Succeeded by performance"),
    ("succeeded_by_statement", "出具调解书成功数", "Succeeded by statement"),
    ("failed", "调解不成数", "Failed"),
    ("pending", "在调数", "Pending"),
    ("overdue", "超期数", "Overdue"),
    ("success_rate", "调解成功率", "Success rate"),
    ("mediation_share", "调解结案占比", "Mediation share"),
    ("amount_claimed", "请求金额(元)", "Amount claimed (CNY)"),
    ("amount_agreed", "协议金额(元)", "Amount agreed (CNY)"),
    ("amount_paid", "履行金额(元)", "Amount paid (CNY)"),
    ("median_days_to_conclusion", "结案天数中位数", "Median days to conclusion"),
    ("workers", "涉及劳动者人数", "Workers"),
    ("collective", "集体劳动争议数", "Collective disputes"),
)

Region = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{6}$", description="jurisdiction code; default: the user's region"),
]
From = Annotated[date, Query(alias="from", description="first day of the period")]
To = Annotated[date, Query(description="last day of the period")]
AsOf = Annotated[
    AwareDatetime | None,
    Query(description="RFC 3339 timestamp with offset: figures as known at that moment"),
]


def _region(access: Access, region: str | None) -> str:
    """The region asked for (default: the user's), if it lies in the user's jurisdiction."""
    code = region or access.user.region_code
    if not is_valid_region_code(code) or not authz.in_jurisdiction(access.user, code):
        raise not_found("no such region in your jurisdiction")
    return code


def _scope(access: Access, region: str | None, from_: date, to: date) -> str:
    code = _region(access, region)
    if from_ > to:
        raise validation("from must not be later than to", field="from")
    return code


def _rate(value: Any) -> str | None:
    if value is None:
        return None
    return str(Decimal(value).quantize(RATE, rounding=ROUND_HALF_UP))


def _row(row: Any) -> CaseloadRowOut:
    data: dict[str, Any] = {"key": str(row.key), "label": str(row.label)}
    for f in COUNTS:
        data[f] = int(getattr(row, f))
    for f in RATES:
        data[f] = _rate(getattr(row, f))
    for f in AMOUNTS:
        data[f] = money_str(Decimal(getattr(row, f)))
    median = row.median_days_to_conclusion
    data["median_days_to_conclusion"] = None if median is None else float(median)
    return CaseloadRowOut(**data)


def caseload_report(
    access: AccessDep,
    runtime: RuntimeDep,
    from_: From,
    to: To,
    group_by: GroupBy,
    region: Region = None,
    as_of: AsOf = None,
) -> CaseloadOut:
    """The caseload figures the three formats share (a dependency: one parameter list)."""
    code = _scope(access, region, from_, to)
    report = projections.caseload.caseload(
        runtime.system.engine, region=code, from_=from_, to=to, group_by=group_by, as_of=as_of
    )
    return CaseloadOut.model_validate(
        {
            "region": code,
            "from": from_,
            "to": to,
            "group_by": group_by,
            "rows": [_row(r) for r in report.rows],
            "totals": _row(report.totals),
            "as_of": report.as_of,
            "policy_version": str(report.policy_version),
        }
    )


Report = Annotated[CaseloadOut, Depends(caseload_report)]


@router.get(
    "/caseload",
    response_model=CaseloadOut,
    summary="Caseload figures for a jurisdiction and period, grouped",
    openapi_extra=action("stats.caseload"),
)
def caseload(out: Report) -> Response:
    return json_response(out, by_alias=True)


def _cell(out: CaseloadRowOut, field: str) -> Any:
    """Numbers as numbers (rates and amounts are decimal strings in the JSON)."""
    value = getattr(out, field)
    if field in RATES or field in AMOUNTS:
        return None if value is None else Decimal(value)
    return value


@router.get(
    "/caseload.csv",
    summary="The caseload rows (and a totals row) as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    openapi_extra=action("stats.caseload"),
)
def caseload_csv(out: Report, *, chinese: bool = False) -> Response:
    """The API's CSV is headed by the field names (machines read it); the web page's
    download (``chinese``) by the Chinese column names, for people."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh if chinese else key for key, zh, _ in COLUMNS])
    for row in [*out.rows, out.totals]:
        writer.writerow([csv_cell(_cell(row, f)) for f, _, _ in COLUMNS])
    name = f"caseload-{out.region}-{out.from_}-{out.to}-{out.group_by}.csv"
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/caseload.xlsx",
    summary="The caseload rows as a spreadsheet (one header row, in Chinese)",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
    openapi_extra=action("stats.caseload"),
)
def caseload_xlsx(out: Report) -> Response:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "收结案统计"
    ws.append([zh for _, zh, _ in COLUMNS])  # one header row (issue 12)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in [*out.rows, out.totals]:
        ws.append([xlsx_cell(_cell(row, f)) for f, _, _ in COLUMNS])
    ws.cell(row=ws.max_row, column=1).value = "合计"
    ws.cell(row=ws.max_row, column=2).value = "合计"
    for col, (f, _, _) in enumerate(COLUMNS, start=1):
        fmt = "0.00%" if f in RATES else "#,##0.00" if f in AMOUNTS else None
        if fmt:
            for r in range(2, ws.max_row + 1):
                ws.cell(row=r, column=col).number_format = fmt
    region = get_region(out.region)
    meta = wb.create_sheet("说明")
    meta.append(["地区", f"{region.name}（{out.region}）" if region else out.region])
    meta.append(["起", out.from_.isoformat()])
    meta.append(["止", out.to.isoformat()])
    meta.append(["分组", labels.label(labels.GROUP_BY, out.group_by)])
    meta.append(["截至", out.as_of.isoformat()])
    meta.append(["政策版本", xlsx_cell(out.policy_version)])
    buffer = io.BytesIO()
    wb.save(buffer)
    name = f"caseload-{out.region}-{out.from_}-{out.to}-{out.group_by}.xlsx"
    return Response(
        content=buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/caseload/cases",
    response_model=DrillDownOut,
    summary="Drill-down: the cases behind one figure",
    openapi_extra=action("stats.drilldown"),
)
def caseload_cases(
    access: AccessDep,
    runtime: RuntimeDep,
    from_: From,
    to: To,
    group_by: GroupBy,
    measure: Measure,
    key: Annotated[str, Query(min_length=1, max_length=100, description="a row's key")],
    region: Region = None,
    as_of: AsOf = None,
) -> Response:
    code = _scope(access, region, from_, to)
    ids: list[UUID] = list(
        projections.drilldown.caseload_cases(
            runtime.system.engine,
            region=code,
            from_=from_,
            to=to,
            group_by=group_by,
            as_of=as_of,
            measure=measure,
            key=key,
        )
    )
    return json_response(DrillDownOut(measure=measure, key=key, count=len(ids), case_ids=ids))


@router.get(
    "/subsidies",
    response_model=SubsidiesOut,
    summary="Monthly case-handling subsidies per mediator and studio",
    openapi_extra=action("stats.subsidies"),
)
def subsidies(
    access: AccessDep,
    runtime: RuntimeDep,
    month: Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    region: Region = None,
) -> Response:
    code = _region(access, region)
    if not ("1990" <= month[:4] <= "2099"):
        raise validation("month must lie between 1990 and 2099", field="month")
    statement = projections.subsidies.subsidies(runtime.system.engine, region=code, month=month)
    rows = [
        SubsidyRowOut(
            kind=str(r.kind),
            id=str(r.id),
            name=str(r.name),
            cases=int(r.cases),
            amount=money_str(Decimal(r.amount)),
            compensating_entries=int(r.compensating_entries),
            awaiting_verification_cases=int(r.awaiting_verification_cases),
            awaiting_verification_amount=money_str(Decimal(r.awaiting_verification_amount)),
        )
        for r in statement.rows
    ]
    t = statement.totals
    totals = SubsidyTotalsOut(
        cases=int(t.cases),
        amount=money_str(Decimal(t.amount)),
        compensating_entries=int(t.compensating_entries),
        awaiting_verification_cases=int(t.awaiting_verification_cases),
        awaiting_verification_amount=money_str(Decimal(t.awaiting_verification_amount)),
    )
    return json_response(SubsidiesOut(region=code, month=month, rows=rows, totals=totals))


@router.get(
    "/coverage",
    response_model=CoverageOut,
    summary="Pilot coverage: counties of a region with an active studio on a date",
    openapi_extra=action("stats.caseload"),
)
def coverage(
    access: AccessDep,
    runtime: RuntimeDep,
    on: Annotated[Day | None, Query(description="default: today")] = None,
    region: Region = None,
) -> Response:
    code = _region(access, region)
    c = projections.coverage.pilot_coverage(
        runtime.system.engine, region=code, on=on or runtime.today()
    )
    return json_response(
        CoverageOut(
            region=code,
            on=c.on,
            counties_total=c.counties_total,
            counties_covered=c.counties_covered,
            covered=list(c.covered),
            uncovered=list(c.uncovered),
        )
    )
