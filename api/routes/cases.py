"""Cases: create, the lifecycle commands, reads, list and history."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import authz
from api.deps import Access, AccessDep, ContextDep, Runtime, RuntimeDep, action
from api.errors import forbidden, not_found, validation
from api.routes.common import etag_header, json_response
from api.schemas import (
    AcceptanceIn,
    AgreementIn,
    AssessmentIn,
    AwardExtensionIn,
    CaseCreate,
    CaseList,
    CaseView,
    ClosureIn,
    ConsentIn,
    EntrustmentIn,
    FailureIn,
    History,
    MediatorAssignmentIn,
    PerformanceIn,
    ReviewIn,
    SessionIn,
    SeveranceIn,
    StatementIn,
    StatementRetractionIn,
    StatementServiceIn,
    WindowExtensionIn,
)
from api.views import case_view, history_event
from mediation.case import ApplicantInput, Case, Claim, RespondentInput
from mediation.regions import is_valid_region_code, region_prefix
from mediation.values import ClaimCategory, Status, money

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

CaseId = Annotated[str, "case id (UUID)"]
_VIEW: dict[int | str, dict[str, Any]] = {
    200: {"description": "the case view", "headers": etag_header()}
}


def _respond(runtime: Runtime, access: Access, case: Case, status: int = 200) -> Response:
    calendar = runtime.app.calendars.current()
    view = case_view(case, runtime.today(), calendar=calendar, mask=access.mask)
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


def _queries() -> Any | None:
    try:
        return importlib.import_module("projections.queries")
    except ImportError:
        return None


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
) -> Response:
    user = access.user
    scope = region or user.region_code
    if not is_valid_region_code(scope) or not authz.in_jurisdiction(user, scope):
        raise not_found("no such region in your jurisdiction")
    if authz.grant(user, "case.list") is authz.Grant.ASSIGNED:
        mediator_id = user.mediator_id
    queries = _queries()
    ids: list[UUID] = []
    next_cursor: str | None = None
    if queries is not None and hasattr(queries, "list_cases"):
        try:
            ids, next_cursor = queries.list_cases(
                runtime.system.engine,
                region_prefix=region_prefix(scope),
                status=status.value if status else None,
                studio_id=studio_id,
                mediator_id=mediator_id,
                overdue=overdue,
                today=runtime.today(),
                limit=limit,
                cursor=cursor,
            )
        except ValueError:
            raise validation("the cursor is not valid for this list", field="cursor") from None
    today, calendar = runtime.today(), runtime.app.calendars.current()
    items = []
    for case_id in ids:
        case = runtime.app.get_case(case_id)
        if authz.in_jurisdiction(user, case.region_code):  # belt and braces
            items.append(case_view(case, today, calendar=calendar, mask=access.mask))
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
    events = [history_event(e, mask=access.mask) for e in runtime.app.history(target)]
    return json_response(History(case_id=target, events=events))


# ---------------------------------------------------------------------- create


@router.post(
    "",
    status_code=201,
    response_model=CaseView,
    responses={201: {"description": "the new case", "headers": etag_header()}},
    summary="Register a new case (clerk)",
    openapi_extra=action("case.create"),
)
def create_case(
    body: CaseCreate, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    if not authz.in_jurisdiction(access.user, body.region_code):
        raise forbidden("the region is outside your jurisdiction")
    claims = [
        Claim(ClaimCategory(c.category), _money(c.amount, f"claims.{i}.amount"))
        for i, c in enumerate(body.claims)
    ]
    return _command(
        runtime,
        access,
        lambda: runtime.app.receive_case(
            ctx,
            region_code=body.region_code,
            received_on=body.received_on,
            applicant=ApplicantInput(
                body.applicant.name,
                body.applicant.id_number,
                body.applicant.phone,
                body.applicant.worker_category,
            ),
            respondent=RespondentInput(body.respondent.name, body.respondent.credit_code),
            claims=claims,
            infringement_known_on=body.infringement_known_on,
        ),
        201,
    )


# ---------------------------------------------------------------------- commands


@router.post(
    "/{case_id}/assessment",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record the assessment (clerk)",
    openapi_extra=action("case.assess"),
)
def assess(
    case_id: CaseId, body: AssessmentIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.assess(
            ctx,
            _target(access),
            on=body.on or runtime.today(),
            within_scope=body.within_scope,
            meets_acceptance_conditions=body.meets_acceptance_conditions,
            suitable_for_mediation=body.suitable_for_mediation,
            reason=body.reason,
        ),
    )


@router.post(
    "/{case_id}/consents",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record (given=true) or withdraw (given=false) a party's consent (clerk)",
    openapi_extra=action("case.consent"),
)
def consent(
    case_id: CaseId, body: ConsentIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.record_consent(
            ctx, _target(access), party=body.party, given=body.given, on=body.on
        ),
    )


@router.post(
    "/{case_id}/entrustment",
    response_model=CaseView,
    responses=_VIEW,
    summary="Entrust the case to a studio (clerk)",
    openapi_extra=action("case.entrust"),
)
def entrust(
    case_id: CaseId, body: EntrustmentIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.entrust(
            ctx, _target(access), studio_id=body.studio_id, route=body.route, on=body.on
        ),
    )


@router.post(
    "/{case_id}/severance",
    status_code=201,
    response_model=CaseView,
    responses={201: {"description": "the new case", "headers": etag_header()}},
    summary="Sever claims into a new case (clerk); returns the new case",
    openapi_extra=action("case.sever"),
)
def sever(
    case_id: CaseId, body: SeveranceIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.sever(
            ctx,
            _target(access),
            categories=[ClaimCategory(c) for c in body.claim_categories],
            on=body.on,
        ),
        201,
    )


@router.post(
    "/{case_id}/mediator",
    response_model=CaseView,
    responses=_VIEW,
    summary="Assign a mediator of the case's studio (clerk, coordinator)",
    openapi_extra=action("case.assign_mediator"),
)
def assign_mediator(
    case_id: CaseId,
    body: MediatorAssignmentIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.assign_mediator(
            ctx, _target(access), mediator_id=body.mediator_id, on=body.on
        ),
    )


@router.post(
    "/{case_id}/sessions",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record a mediation session (the assigned mediator)",
    openapi_extra=action("case.session"),
)
def session(
    case_id: CaseId, body: SessionIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.record_session(
            ctx, _target(access), held_on=body.held_on, summary=body.summary
        ),
    )


@router.post(
    "/{case_id}/window-extension",
    response_model=CaseView,
    responses=_VIEW,
    summary="Extend the pre-filing mediation window once (clerk, the assigned mediator)",
    openapi_extra=action("case.window_extension"),
)
def window_extension(
    case_id: CaseId,
    body: WindowExtensionIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.extend_window(ctx, _target(access), days=body.days, on=body.on),
    )


@router.post(
    "/{case_id}/agreement",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record the signed mediation agreement (the assigned mediator)",
    openapi_extra=action("case.agreement"),
)
def agreement(
    case_id: CaseId, body: AgreementIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    amount = _money(body.amount, "amount")
    return _command(
        runtime,
        access,
        lambda: runtime.app.sign_agreement(
            ctx,
            _target(access),
            signed_on=body.signed_on,
            amount=amount,
            performance_due_on=body.performance_due_on,
            terms=body.terms,
        ),
    )


@router.post(
    "/{case_id}/performance",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record performance: amount_paid is this instalment (assigned mediator, clerk)",
    openapi_extra=action("case.performance"),
)
def performance(
    case_id: CaseId, body: PerformanceIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    paid = _money(body.amount_paid, "amount_paid")
    return _command(
        runtime,
        access,
        lambda: runtime.app.record_performance(
            ctx, _target(access), on=body.on, amount_paid=paid, complete=body.complete
        ),
    )


@router.post(
    "/{case_id}/review",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record the joint application for arbitral review (clerk)",
    openapi_extra=action("case.review"),
)
def review(
    case_id: CaseId, body: ReviewIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.apply_review(ctx, _target(access), applied_on=body.applied_on),
    )


@router.post(
    "/{case_id}/statement",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record the issued arbitration mediation statement 仲裁调解书 (clerk)",
    openapi_extra=action("case.statement"),
)
def statement(
    case_id: CaseId, body: StatementIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.issue_statement(
            ctx, _target(access), issued_on=body.issued_on, number=body.number
        ),
    )


@router.post(
    "/{case_id}/statement/service",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record that a party signed for the statement (clerk)",
    openapi_extra=action("case.statement_service"),
)
def statement_service(
    case_id: CaseId,
    body: StatementServiceIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.serve_statement(ctx, _target(access), party=body.party, on=body.on),
    )


@router.post(
    "/{case_id}/statement/retraction",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record a party retracting before service; reverses the success (clerk)",
    openapi_extra=action("case.statement_retraction"),
)
def statement_retraction(
    case_id: CaseId,
    body: StatementRetractionIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.retract_statement(ctx, _target(access), party=body.party, on=body.on),
    )


@router.post(
    "/{case_id}/failure",
    response_model=CaseView,
    responses=_VIEW,
    summary="Record that the mediation failed (assigned mediator, clerk)",
    openapi_extra=action("case.failure"),
)
def failure(
    case_id: CaseId, body: FailureIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.fail(ctx, _target(access), on=body.on, reason=body.reason),
    )


@router.post(
    "/{case_id}/acceptance",
    response_model=CaseView,
    responses=_VIEW,
    summary="Decide acceptance 受理 / 不予受理 (clerk)",
    openapi_extra=action("case.acceptance"),
)
def acceptance(
    case_id: CaseId, body: AcceptanceIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.decide_acceptance(
            ctx, _target(access), accepted=body.accepted, on=body.on, reason=body.reason
        ),
    )


@router.post(
    "/{case_id}/award-extension",
    response_model=CaseView,
    responses=_VIEW,
    summary="Extend the award period with the chair's approval (clerk)",
    openapi_extra=action("case.award_extension"),
)
def award_extension(
    case_id: CaseId,
    body: AwardExtensionIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.extend_award_period(
            ctx, _target(access), days=body.days, approved_by=body.approved_by, on=body.on
        ),
    )


@router.post(
    "/{case_id}/closure",
    response_model=CaseView,
    responses=_VIEW,
    summary="Close the case (clerk)",
    openapi_extra=action("case.closure"),
)
def closure(
    case_id: CaseId, body: ClosureIn, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    return _command(
        runtime,
        access,
        lambda: runtime.app.close_case(
            ctx, _target(access), on=body.on, disposition=body.disposition
        ),
    )
