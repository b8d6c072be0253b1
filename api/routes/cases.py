"""Cases: create, the lifecycle commands, reads, list and history."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api import authz
from api.commands import CASE_COMMANDS, CaseCommandRow
from api.deps import Access, AccessDep, ContextDep, Runtime, RuntimeDep, action
from api.errors import forbidden, not_found, validation
from api.integrity import case_integrity
from api.routes.common import etag_header, json_response
from api.schemas import CaseCreate, CaseList, CaseView, History
from api.views import case_view, history_event
from mediation.application import CommandContext
from mediation.case import Case
from mediation.commands import ReceiveCase
from mediation.regions import is_valid_region_code, region_prefix
from mediation.values import Claim, ClaimCategory, Status, money
from projections import search, worklists

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

CaseId = Annotated[str, "case id (UUID)"]
_VIEW: dict[int | str, dict[str, Any]] = {
    200: {"description": "the case view", "headers": etag_header()}
}
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"description": "the new case", "headers": etag_header()}
}


def _respond(runtime: Runtime, access: Access, case: Case, status: int = 200) -> Response:
    calendar = runtime.app.calendars.current()
    integrity = case_integrity(runtime.app, case.id)
    view = case_view(
        case,
        runtime.today(),
        calendar=calendar,
        reveal=runtime.app.personal.reveal,
        mask=access.mask,
        integrity=integrity,
    )
    return json_response(view, status, etag=case.version)


def _command(
    runtime: Runtime, access: Access, run: Callable[[], Case], status: int = 200
) -> Response:
    case = run()
    runtime.after_write()
    return _respond(runtime, access, case, status)


def _target(access: Access) -> UUID:
    assert access.case is not None
    return access.case.id


def _money(value: str, field: str) -> Decimal:
    try:
        return money(value)
    except ValueError as exc:
        raise validation(str(exc), field=field) from None


# ---------------------------------------------------------------------- reads


@router.get(
    "",
    response_model=CaseList,
    summary="List cases in my jurisdiction (a mediator: their own)",
    openapi_extra=action("case.list"),
)
def list_cases(
    access: AccessDep,
    runtime: RuntimeDep,
    status: Status | None = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    studio_id: UUID | None = None,
    mediator_id: UUID | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="search: a case number or 案号 (whole, or its sequence part), a "
            "party's name (its beginning), a resident ID number (whole), a credit code, or "
            "the short id lists show; combinable with the other filters",
        ),
    ] = None,
) -> Response:
    user = access.user
    scope = region or user.region_code
    if not is_valid_region_code(scope) or not authz.in_jurisdiction(user, scope):
        raise not_found("no such region in your jurisdiction")
    if authz.grant(user, "case.list") is authz.Grant.ASSIGNED:
        mediator_id = user.mediator_id
    try:
        ids, next_cursor = worklists.list_cases(
            runtime.system.engine,
            region_prefix=region_prefix(scope),
            status=status.value if status else None,
            studio_id=studio_id,
            mediator_id=mediator_id,
            overdue=overdue,
            today=runtime.today(),
            limit=limit,
            cursor=cursor,
            terms=search.hashed(runtime.app.personal, q) if q is not None else None,
        )
    except ValueError:
        raise validation("the cursor is not valid for this list", field="cursor") from None
    today, calendar = runtime.today(), runtime.app.calendars.current()
    items = []
    # one read for the page's cases (a case whose events are gone is left out: the tamper
    # check reports it) and one for their parties' keys
    cases = [c for c in runtime.app.get_cases(ids) if authz.in_jurisdiction(user, c.region_code)]
    keys = runtime.app.personal.ring(p for c in cases for p in c.every_party)
    for case in cases:
        view = case_view(
            case,
            today,
            calendar=calendar,
            reveal=keys.reveal,
            mask=access.mask,
            integrity=case_integrity(runtime.app, case.id),
        )
        items.append(view)
    return json_response(CaseList(items=items, next_cursor=next_cursor))


@router.get(
    "/{case_id}",
    response_model=CaseView,
    responses=_VIEW,
    summary="Read a case",
    openapi_extra=action("case.read"),
)
def read_case(case_id: CaseId, access: AccessDep, runtime: RuntimeDep) -> Response:
    assert access.case is not None
    return _respond(runtime, access, access.case)


@router.get(
    "/{case_id}/history",
    response_model=History,
    summary="The case's events, in order, each naming its actor",
    openapi_extra=action("case.history"),
)
def case_history(case_id: CaseId, access: AccessDep, runtime: RuntimeDep) -> Response:
    target = _target(access)
    reveal = runtime.app.personal.reveal
    events = [
        history_event(e, reveal=reveal, mask=access.mask) for e in runtime.app.history(target)
    ]
    return json_response(History(case_id=target, events=events))


# ---------------------------------------------------------------------- create


@router.post(
    "",
    status_code=201,
    response_model=CaseView,
    responses=_CREATED,
    summary="Register a new case (clerk)",
    openapi_extra=action("case.create"),
)
def create_case(
    body: CaseCreate, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    if not authz.in_jurisdiction(access.user, body.region_code):
        raise forbidden("the region is outside your jurisdiction")
    command = ReceiveCase(
        region_code=body.region_code,
        received_on=body.received_on,
        applicant=body.applicant.to_input() if body.applicant else None,
        respondent=body.respondent.to_input() if body.respondent else None,
        applicants=[a.to_input() for a in body.applicants or ()],
        respondents=[r.to_input() for r in body.respondents or ()],
        representatives=list(body.representatives or ()),
        claims=[
            Claim(ClaimCategory(c.category), _money(c.amount or "0.00", f"claims.{i}.amount"))
            for i, c in enumerate(body.claims)
        ],
        infringement_known_on=body.infringement_known_on,
        employment_ended_on=body.employment_ended_on,
    )
    return _command(runtime, access, lambda: runtime.app.receive(ctx, command), 201)


# ---------------------------------------------------------------------- commands


def _add_command_route(row: CaseCommandRow) -> None:
    """``POST /{case_id}<row.path>``: the row's body becomes its command, run on the case."""

    def endpoint(
        case_id: str, body: BaseModel, access: Access, ctx: CommandContext, runtime: Runtime
    ) -> Response:
        command = row.from_body(body, runtime.today())
        return _command(
            runtime, access, lambda: runtime.app.execute(ctx, _target(access), command), row.status
        )

    # FastAPI reads the body's schema from the signature: here, the row's schema
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=kind)
            for name, kind in (
                ("case_id", CaseId),
                ("body", row.body),
                ("access", AccessDep),
                ("ctx", ContextDep),
                ("runtime", RuntimeDep),
            )
        ],
        return_annotation=Response,
    )
    router.add_api_route(
        "/{case_id}" + row.path,
        endpoint,
        methods=["POST"],
        name=row.endpoint,
        status_code=row.status,
        response_model=CaseView,
        responses=_CREATED if row.status == 201 else _VIEW,
        summary=row.summary,
        openapi_extra=action(row.action),
    )


for _row in CASE_COMMANDS:
    _add_command_route(_row)
