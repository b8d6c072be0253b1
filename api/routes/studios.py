"""Studios and their mediator rosters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import authz
from api.deps import Access, AccessDep, ContextDep, Runtime, RuntimeDep, action
from api.errors import forbidden, not_found
from api.routes.common import json_response, with_etag
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
from mediation.organisation import Studio
from mediation.regions import covers, is_valid_region_code

router = APIRouter(prefix="/api/v1/studios", tags=["studios"])

StudioId = Annotated[str, "studio id (UUID)"]


def _post(
    path: str,
    name: str,
    summary: str,
    *,
    created: str | None = None,
    model: type[StudioView | AppointedMediator] = StudioView,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A command route: 201 with ``created`` as its description when it makes something."""
    status = 201 if created else 200
    return router.post(
        path,
        status_code=status,
        response_model=model,
        responses=with_etag(created or "the studio", status),
        summary=summary,
        openapi_extra=action(name),
    )


def _studio(access: Access) -> Studio:
    assert access.studio is not None  # the gate loaded the studio of the path
    return access.studio


def _answer(runtime: Runtime, studio: Studio, status: int = 200) -> Response:
    return json_response(studio_view(studio, runtime.today()), status, etag=studio.version)


@_post("", "studio.create", "Register a studio (admin)", created="the new studio")
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
    return _answer(runtime, studio, 201)


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
    responses=with_etag("the studio"),
    summary="Read a studio and its roster",
    openapi_extra=action("studio.read"),
)
def read_studio(studio_id: StudioId, access: AccessDep, runtime: RuntimeDep) -> Response:
    return _answer(runtime, _studio(access))


@_post(
    "/{studio_id}/mediators",
    "studio.appoint",
    "Appoint a mediator (admin, coordinator); over quota → mediator_quota_exceeded",
    created="the appointed mediator",
    model=AppointedMediator,
)
def appoint_mediator(
    studio_id: StudioId,
    body: MediatorAppointIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    studio, mediator_id = runtime.app.appoint_mediator(
        ctx,
        _studio(access).id,
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


@_post(
    "/{studio_id}/mediators/{mediator_id}/retirement",
    "studio.retire",
    "Retire a mediator (admin, coordinator)",
)
def retire_mediator(
    studio_id: StudioId,
    mediator_id: str,
    body: RetirementIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    try:
        mid = UUID(mediator_id)
    except ValueError:
        raise not_found("no such mediator") from None
    if mid not in _studio(access).roster:
        raise not_found("no such mediator")
    studio = runtime.app.retire_mediator(ctx, _studio(access).id, mid, retired_on=body.retired_on)
    runtime.after_write()
    return _answer(runtime, studio)


@_post("/{studio_id}/closure", "studio.close", "Close a studio (admin)")
def close_studio(
    studio_id: StudioId,
    body: StudioClosureIn,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    studio = runtime.app.close_studio(ctx, _studio(access).id, closed_on=body.closed_on)
    runtime.after_write()
    return _answer(runtime, studio)
