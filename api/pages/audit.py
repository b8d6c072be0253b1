"""The auditor's access-audit page: who read which case, searched or exported (filters as
``GET /api/v1/audit/access``), and the day's unusual reading (``GET /api/v1/audit/unusual``)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import authz
from api.audit.store import AccessFilter
from api.audit.unusual import unusual_readers
from api.pages.common import PageError, local_time, page_user, render, require, runtime
from api.routes.audit import policy_of, policy_out, store_of
from mediation.regions import region_prefix

router = APIRouter()

PAGE_SIZE = 100
ACTION_ZH = {
    "case.read": "查看案件",
    "case.history": "查看案件记录",
    "case.list": "列表/检索",
    "document.list": "查看文书目录",
    "document.read": "下载文书",
    "export": "导出",
}
REASON_ZH = {"volume": "阅卷量远超平时", "off_hours": "非工作时间阅卷"}


def _day(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PageError(422, "日期格式有误", f"{field}：请按 YYYY-MM-DD 填写。") from None


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    case_id: str = "",
    username: str = "",
    from_: str = "",
    to: str = "",
    on: str = "",
    cursor: str = "",
) -> Response:
    user = page_user(request)
    require(user, "audit.access")
    rt = runtime(request)
    prefix = region_prefix(user.region_code)
    raw_from = request.query_params.get("from", from_)
    first, last = _day(raw_from, "起始日期"), _day(to, "截止日期")
    case = case_id.strip()
    if case:
        try:
            case = str(UUID(case))
        except ValueError:
            raise PageError(422, "案件编号有误", "请填写完整的案件编号（UUID）。") from None
    before = int(cursor) if cursor.isascii() and cursor.isdigit() and len(cursor) < 19 else None
    wanted = AccessFilter(prefix, case or None, username.strip() or None, first, last)
    store = store_of(request)
    rows, more = store.page(wanted, limit=PAGE_SIZE, before=before)
    filters = {"case_id": case, "username": username.strip(), "from": raw_from, "to": to}
    day = _day(on, "查看日期") or rt.today()
    policy = policy_of(request)
    unusual = (
        unusual_readers(store, prefix, day, policy, rt.app.calendars.current().is_working_day)
        if authz.grant(user, "audit.unusual") is not authz.Grant.NO
        else []
    )
    return render(
        request,
        "audit.html",
        {
            "rows": [
                {
                    "at": local_time(s.record.at),
                    "username": s.record.username,
                    "role": s.record.role,
                    "client": s.record.client,
                    "action": ACTION_ZH.get(s.record.action, s.record.action),
                    "case_id": s.record.case_id,
                    "query": s.record.query or "",
                    "route": s.record.route,
                }
                for s in rows
            ],
            "filters": filters,
            "next": (
                "/audit?" + urlencode({**filters, "on": on, "cursor": str(more)}) if more else None
            ),
            "on": day.isoformat(),
            "policy": policy_out(policy),
            "unusual": [
                {
                    "username": r.username,
                    "role": r.role,
                    "cases_read": r.cases_read,
                    "usual": r.usual,
                    "off_hours_records": r.off_hours_records,
                    "first_at": local_time(r.first_at),
                    "last_at": local_time(r.last_at),
                    "reasons": "、".join(REASON_ZH[x] for x in r.reasons),
                }
                for r in unusual
            ],
        },
        user=user,
    )
