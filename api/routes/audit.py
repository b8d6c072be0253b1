"""The access audit (auditor, admin; inside their region): who read what, and the day's
unusual reading. The records themselves are written by :mod:`api.audit.recorder`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api import authz
from api.audit.store import AccessAuditStore, AccessFilter, StoredAccess
from api.audit.unusual import ReadingPolicy, Reason, UnusualReader, unusual_readers
from api.deps import Access, AccessDep, RuntimeDep, action
from api.errors import not_found, validation
from api.routes.common import json_response
from api.schemas import Day
from mediation.regions import is_valid_region_code, region_prefix

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AccessItem(BaseModel):
    at: datetime = Field(description="when the read was answered (RFC 3339)")
    username: str
    role: str
    action: str = Field(
        description="case.read, case.history, document.list, document.read, "
        "case.list (a list, search or drill-down) or export (CSV, XLSX)"
    )
    case_id: UUID | None = Field(None, description="the case read (reads of one case)")
    query: str | None = Field(
        None, description="the query parameters of a list, search or export (search text masked)"
    )
    client: str = Field(description="the client's address")
    route: str = Field(description="the route answered, e.g. GET /api/v1/cases/{case_id}")
    region_code: str = Field(description="the case's region, or the region the query covered")
    request_id: str = Field(description="the request id of the access log line")


class AccessList(BaseModel):
    items: list[AccessItem]
    next_cursor: str | None


class ReadingPolicyOut(BaseModel):
    factor: float
    min_cases: int
    baseline_days: int
    work_start: str
    work_end: str
    off_hours_min: int


class UnusualReaderOut(BaseModel):
    username: str
    role: str
    cases_read: int = Field(description="distinct cases read that day")
    usual: float = Field(description="median of the daily distinct cases over the baseline days")
    records: int = Field(description="all records that day (reads, lists, exports)")
    off_hours_records: int
    first_at: datetime
    last_at: datetime
    reasons: list[Reason] = Field(description="volume, off_hours")


class UnusualOut(BaseModel):
    on: date
    region: str
    policy: ReadingPolicyOut
    items: list[UnusualReaderOut]


Region = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{6}$", description="part of my jurisdiction; default: all of it"),
]


def store_of(request: Request) -> AccessAuditStore:
    store: AccessAuditStore = request.app.state.audit
    return store


def policy_of(request: Request) -> ReadingPolicy:
    policy: ReadingPolicy = request.app.state.reading_policy
    return policy


def scope_prefix(access: Access, region: str | None) -> tuple[str, str]:
    """The region asked for (default: the user's) and its prefix, inside the jurisdiction."""
    code = region or access.user.region_code
    if not is_valid_region_code(code) or not authz.in_jurisdiction(access.user, code):
        raise not_found("no such region in your jurisdiction")
    return code, region_prefix(code)


def access_item(stored: StoredAccess) -> AccessItem:
    r = stored.record
    return AccessItem(
        at=r.at,
        username=r.username,
        role=r.role,
        action=r.action,
        case_id=UUID(r.case_id) if r.case_id else None,
        query=r.query,
        client=r.client,
        route=r.route,
        region_code=r.region_code,
        request_id=r.request_id,
    )


def before_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise validation("the cursor is not valid for this list", field="cursor")
    return int(cursor)


@router.get(
    "/access",
    response_model=AccessList,
    summary="Who read which case, searched or exported (newest first)",
    openapi_extra=action("audit.access"),
)
def access_log(
    request: Request,
    access: AccessDep,
    case_id: UUID | None = None,
    username: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    from_: Annotated[
        Day | None, Query(alias="from", description="first day (Asia/Shanghai)")
    ] = None,
    to: Annotated[Day | None, Query(description="last day (Asia/Shanghai)")] = None,
    region: Region = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    _, prefix = scope_prefix(access, region)
    if from_ is not None and to is not None and from_ > to:
        raise validation("from must not be later than to", field="from")
    wanted = AccessFilter(prefix, str(case_id) if case_id else None, username, from_=from_, to=to)
    rows, more = store_of(request).page(wanted, limit=limit, before=before_id(cursor))
    return json_response(
        AccessList(items=[access_item(r) for r in rows], next_cursor=str(more) if more else None)
    )


def unusual_out(reader: UnusualReader) -> UnusualReaderOut:
    return UnusualReaderOut(
        username=reader.username,
        role=reader.role,
        cases_read=reader.cases_read,
        usual=reader.usual,
        records=reader.records,
        off_hours_records=reader.off_hours_records,
        first_at=reader.first_at,
        last_at=reader.last_at,
        reasons=list(reader.reasons),
    )


def policy_out(policy: ReadingPolicy) -> ReadingPolicyOut:
    return ReadingPolicyOut(
        factor=policy.factor,
        min_cases=policy.min_cases,
        baseline_days=policy.baseline_days,
        work_start=policy.work_start.strftime("%H:%M"),
        work_end=policy.work_end.strftime("%H:%M"),
        off_hours_min=policy.off_hours_min,
    )


@router.get(
    "/unusual",
    response_model=UnusualOut,
    summary="Users who read far more cases than usual, or out of working hours, on a day",
    openapi_extra=action("audit.unusual"),
)
def unusual(
    request: Request,
    access: AccessDep,
    runtime: RuntimeDep,
    on: Annotated[Day | None, Query(description="the day (Asia/Shanghai); default: today")] = None,
    region: Region = None,
) -> Response:
    code, prefix = scope_prefix(access, region)
    day = on or runtime.today()
    policy = policy_of(request)
    working_day = runtime.app.calendars.current().is_working_day
    readers = unusual_readers(store_of(request), prefix, day, policy, working_day)
    return json_response(
        UnusualOut(
            on=day,
            region=code,
            policy=policy_out(policy),
            items=[unusual_out(r) for r in readers],
        )
    )
