"""Studios and their mediator rosters."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import authz
from api.deps import AccessDep, ContextDep, RuntimeDep, action
from api.errors import forbidden, not_found
from api.routes.common import etag_header, json_response
from api.schemas import (
    AppointedMediator,
    MediatorAppointIn,
    RetirementIn,
    StudioClosureIn,
    StudioCreate,
    StudioList,
    StudioView,
)
from api.views import mediator_out, studio_view
from mediation.regions import covers, is_valid_region_code

router = APIRouter(prefix="/api/v1/studios", tags=["studios"])

StudioId = Annotated[str, "studio id (UUID)"]
_VIEW: dict[int | str, dict[str, Any]] = {
    200: {"description": "the studio", "headers": etag_header()}
}


@router.post(
    "",
    status_code=201,
    response_model=StudioView,
    responses={201: {"description": "the new studio", "headers": etag_header()}},
    summary="Register a studio (admin)",
    openapi_extra=action("studio.create"),
)
def create_studio(
    body: StudioCreate, access: AccessDep, ctx: ContextDep, runtime: RuntimeDep
) -> Response:
    if not authz.in_jurisdiction(access.user, body.region_code):
        raise forbidden("the region is outside your jurisdiction")
    studio = runtime.app.register_studio(
        ctx,
        name=body.name,
        region_code=body.region_code,
        kind=body.kind,
        established_on=body.established_on,
        mediator_quota=body.mediator_quota,
    )
    runtime.after_write()
    return json_response(studio_view(studio, runtime.today()), 201, etag=studio.version)


@router.get(
    "",
    response_model=StudioList,
    summary="Studios in, or covering, my jurisdiction (optionally those relevant to a region)",
    openapi_extra=action("studio.list"),
)
def list_studios(
    access: AccessDep,
    runtime: RuntimeDep,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
) -> Response:
    user = access.user
    if region is not None and not (
        is_valid_region_code(region) and authz.studio_visible(user, region)
    ):
        raise not_found("no such region in your jurisdiction")
    today = runtime.today()
    items = []
    for studio_id in runtime.app.studio_ids():
        studio = runtime.app.get_studio(studio_id)
        if not authz.studio_visible(user, studio.region_code):
            continue
        if region is not None and not (
            covers(region, studio.region_code) or covers(studio.region_code, region)
        ):
            continue
        items.append(studio_view(studio, today))
    return json_response(StudioList(items=items))


@router.get(
    "/{studio_id}",
    response_model=StudioView,
    responses=_VIEW,
    summary="Read a studio and its roster",
    openapi_extra=action("studio.read"),
)
def read_studio(studio_id: StudioId, access: AccessDep, runtime: RuntimeDep) -> Response:
    assert access.studio is not None
    return json_response(studio_view(access.studio, runtime.today()), etag=access.studio.version)


@router.post(
    "/{studio_id}/mediators",
    status_code=201,
    response_model=AppointedMediator,
    responses={201: {"description": "the appointed mediator", "headers": etag_header()}},
    summary="Appoint a mediator (admin, coordinator); over quota → mediator_quota_exceeded",
    openapi_extra=action("studio.appoint"),
)
def appoint_mediator(
    studio_id: StudioId,
    body: MediatorAppointIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    assert access.studio is not None
    studio, mediator_id = runtime.app.appoint_mediator(
        ctx,
        access.studio.id,
        name=body.name,
        qualification=body.qualification,
        appointed_on=body.appointed_on,
    )
    runtime.after_write()
    today = runtime.today()
    m = mediator_out(studio.roster[mediator_id], today)
    out = AppointedMediator(
        **m.model_dump(), studio_id=studio.id, studio=studio_view(studio, today)
    )
    return json_response(out, 201, etag=studio.version)


@router.post(
    "/{studio_id}/mediators/{mediator_id}/retirement",
    response_model=StudioView,
    responses=_VIEW,
    summary="Retire a mediator (admin, coordinator)",
    openapi_extra=action("studio.retire"),
)
def retire_mediator(
    studio_id: StudioId,
    mediator_id: str,
    body: RetirementIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    assert access.studio is not None
    try:
        mid = UUID(mediator_id)
    except ValueError:
        raise not_found("no such mediator") from None
    if mid not in access.studio.roster:
        raise not_found("no such mediator")
    studio = runtime.app.retire_mediator(ctx, access.studio.id, mid, retired_on=body.retired_on)
    runtime.after_write()
    return json_response(studio_view(studio, runtime.today()), etag=studio.version)


@router.post(
    "/{studio_id}/closure",
    response_model=StudioView,
    responses=_VIEW,
    summary="Close a studio (admin)",
    openapi_extra=action("studio.close"),
)
def close_studio(
    studio_id: StudioId,
    body: StudioClosureIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    assert access.studio is not None
    studio = runtime.app.close_studio(ctx, access.studio.id, closed_on=body.closed_on)
    runtime.after_write()
    return json_response(studio_view(studio, runtime.today()), etag=studio.version)
