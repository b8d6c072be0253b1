"""The auditor's pages: dashboard, drill-down, downloads and subsidy statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import quote_plus, urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import authz
from api.deps import Access
from api.errors import ApiError
from api.pages.charts import Series, bar_chart, line_chart, rate_text
from api.pages.common import (
    CHINA,
    PageError,
    from_api_error,
    page_user,
    render,
    require,
    runtime,
)
from api.pages.reads import case_rows, list_case_ids
from api.routes import stats as api_stats
from api.spreadsheet import csv_bytes, xlsx_bytes
from api.users import User
from mediation import labels
from mediation.errors import DomainError
from mediation.regions import children, get_region, is_valid_region_code, region_prefix
from projections import caseload, drilldown, subsidies
from projections.coverage import pilot_coverage
from projections.figures import CaseloadRow

router = APIRouter()

MEASURES = (
    "received",
    "entrusted",
    "concluded",
    "succeeded",
    "failed",
    "pending",
    "overdue",
)


def _months(from_: date, to: date) -> list[str]:
    out = []
    y, m = from_.year, from_.month
    while (y, m) <= (to.year, to.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _default_from(today: date) -> date:
    y, m = today.year, today.month - 11
    if m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def _parse_day(raw: str, default: date, field: str) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PageError(422, "日期格式有误", f"{field} 应为 年-月-日") from None


def _parse_as_of(raw: str) -> datetime | None:
    """A ``datetime-local`` value (no offset) read as Beijing time."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise PageError(422, "“截至时点”格式有误", "应为 年-月-日 时:分") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


class Query:
    """The dashboard's filters, validated against the user's jurisdiction."""

    def __init__(
        self, user: User, today: date, region: str, from_: str, to: str, as_of: str
    ) -> None:
        self.region = region or user.region_code
        if not is_valid_region_code(self.region) or not authz.in_jurisdiction(user, self.region):
            raise PageError(404, "未找到，或不在您的管辖范围内", "所选地区不在您的管辖范围内")
        self.to = _parse_day(to, today, "止")
        self.from_ = _parse_day(from_, _default_from(self.to), "起")
        if self.from_ > self.to:
            raise PageError(422, "统计期间有误", "起始日期晚于截止日期")
        self.as_of_raw = as_of
        self.as_of = _parse_as_of(as_of)
        own = get_region(self.region)
        self.level = own.level if own else "province"
        self.by = "city" if self.level == "province" else "county"

    def params(self, **extra: str) -> str:
        p = {"region": self.region, "from": self.from_.isoformat(), "to": self.to.isoformat()}
        if self.as_of is not None:
            p["as_of"] = self.as_of.isoformat()
        p.update(extra)
        return urlencode(p)

    @cached_property
    def drill_base(self) -> str:
        """The filters of a drill-down link (the picker's own ``as_of`` text if one was given)."""
        return self.page_params() if self.as_of_raw else self.params()

    def page_params(self) -> str:
        p = {"region": self.region, "from": self.from_.isoformat(), "to": self.to.isoformat()}
        if self.as_of_raw:
            p["as_of"] = self.as_of_raw
        return urlencode(p)


def _regions_for(user: User) -> list[tuple[str, str]]:
    own = get_region(user.region_code)
    out = [(user.region_code, own.name if own else user.region_code)]
    level = "city" if own is not None and own.level == "province" else "county"
    out += [(r.code, r.name) for r in children(user.region_code, level)]
    return out


def _drill(q: Query, group_by: str, measure: str, key: str) -> str:
    # a dashboard has hundreds of these links: the filters are encoded once per page
    # (urlencode per link was 14 % of the page), the same string as urlencode of them all
    extra = f"group_by={quote_plus(group_by)}&measure={quote_plus(measure)}&key={quote_plus(key)}"
    return "/dashboard/cases?" + q.drill_base + "&" + extra


def _rate(v: Any) -> float | None:
    return None if v is None else float(v)


def _month_label(key: str) -> str:
    return f"{key[:4]}年{int(key[5:])}月"


def _empty_month(key: str) -> CaseloadRow:
    """A month of the period in which nothing happened: every figure 0, no rate."""
    zero = Decimal("0.00")
    return CaseloadRow(
        key=key,
        label=_month_label(key),
        received=0,
        entrusted=0,
        concluded=0,
        succeeded=0,
        succeeded_by_performance=0,
        succeeded_by_statement=0,
        failed=0,
        pending=0,
        overdue=0,
        success_rate=None,
        mediation_share=None,
        amount_claimed=zero,
        amount_agreed=zero,
        amount_paid=zero,
        median_days_to_conclusion=None,
    )


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request, region: str = "", to: str = "", as_of: str = "") -> Response:
    user = page_user(request)
    require(user, "stats.caseload")
    rt = runtime(request)
    q = Query(user, rt.today(), region, request.query_params.get("from", ""), to, as_of)
    engine = rt.system.engine
    try:
        by_area = caseload.caseload(
            engine, region=q.region, from_=q.from_, to=q.to, group_by=q.by, as_of=q.as_of
        )
        by_month = caseload.caseload(
            engine, region=q.region, from_=q.from_, to=q.to, group_by="month", as_of=q.as_of
        )
        coverage = pilot_coverage(engine, region=q.region, on=q.to)
    except DomainError as exc:
        raise PageError(422, exc.title_zh, exc.detail) from None
    rows = by_area.rows
    bars = bar_chart(
        "chart-rates",
        f"调解成功率与调解结案占比（按{labels.GROUP_BY[q.by]}）",
        [r.label for r in rows],
        [
            Series(
                "调解成功率",
                [_rate(r.success_rate) for r in rows],
                [_drill(q, q.by, "succeeded", r.key) for r in rows],
                [r.concluded for r in rows],
            ),
            Series(
                "调解结案占比",
                [_rate(r.mediation_share) for r in rows],
                [_drill(q, q.by, "received", r.key) for r in rows],
                [r.received for r in rows],
            ),
        ],
        n_label=("已结调解", "收案"),
        caption="调解成功率 = 调解成功 ÷（调解成功 + 调解不成），括号内为已结调解件数；"
        "调解结案占比 = 调解成功 ÷ 收案，括号内为收案件数。点击柱形查看案件。",
    )
    months = _months(q.from_, q.to)
    monthly = {r.key: r for r in by_month.rows}
    month_rows = [monthly.get(m) or _empty_month(m) for m in months]

    def series(measure: str, name: str) -> Series:
        return Series(
            name,
            [float(getattr(r, measure)) for r in month_rows],
            [_drill(q, "month", measure, m) if m in monthly else None for m in months],
        )

    trend = line_chart(
        "chart-trend",
        "月度趋势",
        [_month_label(m) for m in months],
        [
            series("received", "收案"),
            series("entrusted", "委托调解"),
            series("succeeded", "调解成功"),
            series("failed", "调解不成"),
        ],
        ticks=[
            f"{int(m[5:])}月" + ("" if i and m[5:] != "01" else f"\n{m[:4]}年")
            for i, m in enumerate(months)
        ],
        unit=labels.CHART["cases"],
        caption="按事实发生的月份统计，没有案件的月份记为 0；点击数据点查看案件。",
    )
    overdue_ids, _ = list_case_ids(
        rt, region_prefix=region_prefix(q.region), overdue=True, limit=10
    )
    uncovered = []
    for c in coverage.uncovered:
        r = get_region(c)
        uncovered.append((c, r.name if r else c))
    return render(
        request,
        "dashboard.html",
        {
            "q": q,
            "regions": _regions_for(user),
            "by_area": by_area,
            "by_month": month_rows,
            "months_with_data": set(monthly),
            "bars": bars,
            "trend": trend,
            "coverage": coverage,
            "uncovered": uncovered,
            "overdue": case_rows(rt, overdue_ids, mask=authz.masked(user)),
            "measures": MEASURES,
            "rate": rate_text,
            "measure_labels": {f: zh for f, zh, _ in api_stats.COLUMNS},
            "drill": lambda group_by, measure, key: _drill(q, group_by, measure, key),
            "download": lambda ext: f"/dashboard/caseload.{ext}?" + q.params(group_by=q.by),
            "as_of_shown": by_area.as_of.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        },
        user=user,
    )


# rows per page of a drill-down (each row is a case read from the event store)
DRILL_PAGE = 50


@router.get("/dashboard/cases", include_in_schema=False)
def drill_down(
    request: Request,
    group_by: str = "city",
    measure: str = "succeeded",
    key: str = "total",
    region: str = "",
    to: str = "",
    as_of: str = "",
    page: str = "1",
) -> Response:
    user = page_user(request)
    require(user, "stats.drilldown")
    rt = runtime(request)
    q = Query(user, rt.today(), region, request.query_params.get("from", ""), to, as_of)
    try:
        ids = drilldown.case_ids(
            rt.system.engine,
            region=q.region,
            from_=q.from_,
            to=q.to,
            group_by=group_by,
            as_of=q.as_of,
            measure=measure,
            key=key,
            newest_first=True,
        )
    except DomainError as exc:
        raise PageError(422, exc.title_zh, exc.detail) from None
    zh = {f: z for f, z, _ in api_stats.COLUMNS}
    pages = max(1, -(-len(ids) // DRILL_PAGE))
    number = min(max(int(page) if page.isdigit() else 1, 1), pages)  # a bad page: the first
    shown = ids[(number - 1) * DRILL_PAGE : number * DRILL_PAGE]
    here = dict(request.query_params)

    def page_link(n: int) -> str | None:
        return "/dashboard/cases?" + urlencode({**here, "page": n}) if 1 <= n <= pages else None

    return render(
        request,
        "drill.html",
        {
            "q": q,
            "count": len(ids),
            "rows": case_rows(rt, [UUID(c) for c in shown], mask=authz.masked(user)),
            "page": number,
            "pages": pages,
            "previous_page": page_link(number - 1),
            "next_page": page_link(number + 1),
            "measure_label": zh.get(measure, measure),
            "group_label": labels.GROUP_BY.get(group_by, group_by),
            "key": key,
            "back": "/dashboard?" + q.page_params(),
        },
        user=user,
    )


def _download(
    request: Request, ext: str, group_by: str, region: str, to: str, as_of: str
) -> Response:
    user = page_user(request)
    rt = runtime(request)
    q = Query(user, rt.today(), region, request.query_params.get("from", ""), to, as_of)
    if group_by not in caseload.GROUP_BYS:
        raise PageError(422, "分组方式无效")
    try:
        access = Access(user, "stats.caseload")
        authz.require_role(user, access.action)
        out = api_stats.caseload_report(access, rt, q.from_, q.to, group_by, q.region, q.as_of)
        if ext == "xlsx":
            return api_stats.caseload_xlsx(out)
        return api_stats.caseload_csv(out, chinese=True)  # people open this one
    except ApiError as exc:
        raise from_api_error(exc) from None
    except DomainError as exc:
        raise PageError(422, exc.title_zh, exc.detail) from None


@router.get("/dashboard/caseload.xlsx", include_in_schema=False)
def download_xlsx(
    request: Request, group_by: str = "city", region: str = "", to: str = "", as_of: str = ""
) -> Response:
    return _download(request, "xlsx", group_by, region, to, as_of)


@router.get("/dashboard/caseload.csv", include_in_schema=False)
def download_csv(
    request: Request, group_by: str = "city", region: str = "", to: str = "", as_of: str = ""
) -> Response:
    return _download(request, "csv", group_by, region, to, as_of)


def _statement(request: Request, region: str, month: str) -> tuple[User, str, str, Any]:
    user = page_user(request)
    require(user, "stats.subsidies")
    rt = runtime(request)
    code = region or user.region_code
    if not is_valid_region_code(code) or not authz.in_jurisdiction(user, code):
        raise PageError(404, "未找到，或不在您的管辖范围内")
    month = month or rt.today().strftime("%Y-%m")
    try:
        statement = subsidies.subsidies(rt.system.engine, region=code, month=month)
    except DomainError:
        raise PageError(422, "月份格式有误", "月份应为 年-月，例如 2026-03") from None
    return user, code, month, statement


@router.get("/subsidies", include_in_schema=False)
def subsidy_page(request: Request, region: str = "", month: str = "") -> Response:
    """The month's subsidies as two statements: per studio and per mediator, each with
    totals that are the sum of its rows; the month's total stated once above them."""
    user, code, month, statement = _statement(request, region, month)
    query = urlencode({"region": code, "month": month})
    return render(
        request,
        "subsidies.html",
        {
            "statement": statement,
            "parts": subsidies.parts(statement),
            "regions": _regions_for(user),
            "region": code,
            "month": month,
            "S": labels.SUBSIDY,
            "export": lambda kind, ext: f"/subsidies/{kind}.{ext}?{query}",
        },
        user=user,
    )


SUBSIDY_COLUMNS = (
    "cases",
    "amount",
    "compensating_entries",
    "awaiting_verification_cases",
    "awaiting_verification_amount",
)


def _subsidy_table(part: subsidies.SubsidyPart) -> tuple[list[str], list[list[Any]]]:
    """One statement as a header and rows, headers in Chinese, the 合计 row last."""
    s = labels.SUBSIDY
    header = [s[part.kind] + s["name"], *(s[c] for c in SUBSIDY_COLUMNS)]
    rows: list[list[Any]] = [[r.name, *(getattr(r, c) for c in SUBSIDY_COLUMNS)] for r in part.rows]
    if part.unassigned is not None:
        rows.append([s["unassigned"], *(getattr(part.unassigned, c) for c in SUBSIDY_COLUMNS)])
    rows.append([s["total"], *(getattr(part.totals, c) for c in SUBSIDY_COLUMNS)])
    return header, rows


@router.get("/subsidies/{kind}.{ext}", include_in_schema=False)
def subsidy_download(
    request: Request, kind: str, ext: str, region: str = "", month: str = ""
) -> Response:
    """One statement (``studio`` or ``mediator``) as CSV or XLSX: the page's table."""
    if kind not in ("studio", "mediator") or ext not in ("csv", "xlsx"):
        raise PageError(404, "未找到，或不在您的管辖范围内")
    _, code, month, statement = _statement(request, region, month)
    part = next(p for p in subsidies.parts(statement) if p.kind == kind)
    header, rows = _subsidy_table(part)
    name = f"subsidies-{kind}-{code}-{month}.{ext}"
    if ext == "csv":
        content, media = csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        region_name = get_region(code)
        content = xlsx_bytes(
            labels.SUBSIDY[kind] + "补贴",
            header,
            rows,
            formats={2: "#,##0.00", 5: "#,##0.00"},
            about=[
                (labels.SUBSIDY["region"], region_name.name if region_name else code),
                (labels.SUBSIDY["month"], month),
            ],
        )
        media = api_stats.XLSX
    return Response(
        content=content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
