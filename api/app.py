"""The FastAPI application factory.

``create_app(system, settings)`` wires the routers onto a ``projections.system.System``
(the event-sourced application plus its read models). Path operations are plain ``def``
functions: the event store library is synchronous, so Starlette runs them in its thread
pool (see docs/performance.md for what that costs).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from api import audit, errors, hygiene
from api.deps import Runtime, SystemLike, precheck, runtime_of
from api.holidays import calendar_out
from api.integrity import IntegrityMonitor, readyz_integrity
from api.logs import RequestContext
from api.outage import DatabaseGate
from api.routes import auth, cases, documents, stats, studios
from api.routes.common import json_response
from api.schemas import HaltedView, Health, ProblemOut, Ready
from api.security import LoginLimiter, TokenReader, with_keys
from api.users import UserStore
from mediation.settings import Settings, get_settings
from projections.system import System

log = logging.getLogger("api")

DESCRIPTION = """
Labour-dispute arbitration–mediation docking (人社+工会 裁调对接): cases, studios and
statistics. Every error is `application/problem+json` with a stable `code`. Checks run in
this order: credentials (401), jurisdiction (404), role (403), body validation (422),
idempotency replay, `If-Match` (409 `version_conflict`), state (409 `invalid_transition`),
business rules (422). The role × command matrix is each operation's `x-roles`.
"""


def make_system(settings: Settings) -> SystemLike:
    in_process = settings.projections == "in_process"  # else a worker follows the log
    return System(settings.database_url, settings=settings, in_process=in_process)


def create_app(system: SystemLike | None = None, settings: Settings | None = None) -> FastAPI:
    settings = with_keys(settings or get_settings())
    owns_system = system is None
    if system is None:
        system = make_system(settings)
    database_url = str(getattr(system, "database_url", None) or settings.database_url)
    users = UserStore(database_url)
    try:
        users.ensure_table()
    except errors.OUTAGE:  # answered per request with 503 until the database is back
        log.warning("users table not reachable at startup")
    runtime = Runtime(
        system=system,
        settings=settings,
        users=users,
        limiter=LoginLimiter(trusted_proxies=settings.trusted_proxies),
        tokens=TokenReader(settings, users),
    )

    integrity = IntegrityMonitor(system.app, system.app.clock, database_url=database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        integrity.start()
        yield
        integrity.stop()
        users.close()
        if owns_system:
            runtime.system.close()

    app = FastAPI(
        title="Mediation API (裁调对接)",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # api.hygiene.install_docs: local assets, off in production
        redoc_url=None,
        dependencies=[Depends(hygiene.clean_url)],  # before every route's own
    )
    app.state.runtime = runtime
    app.state.integrity = integrity
    errors.install(app, precheck)
    audit.install(app, runtime)  # records every answered read (api/audit/recorder.py)
    app.add_middleware(DatabaseGate, ping=users.ping, enabled=database_url.startswith("postgres"))
    app.add_middleware(RequestContext)
    app.add_middleware(hygiene.NoStore)
    app.add_middleware(hygiene.BodyLimit, limit=settings.max_body_bytes)  # outermost
    hygiene.install_docs(app, settings)

    for router in (
        auth.router,
        cases.router,
        documents.router,
        documents.verify_router,
        studios.router,
        stats.router,
    ):
        app.include_router(router)

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Process is up")
    def healthz() -> Response:
        return json_response(Health(status="ok"))

    @app.get(
        "/readyz",
        response_model=Ready,
        tags=["operations"],
        summary="Database reachable; projection lag in events",
    )
    def readyz(request: Request) -> Response:
        """200 while the database answers; integrity problems and halted views are in the
        body (they need an operator, not a restart by the load balancer)."""
        rt = runtime_of(request)
        rt.users.ping()
        position = rt.app.max_position()
        lag = rt.system.lag()
        halts: Callable[[], list[dict[str, Any]]] | None = getattr(rt.system, "halts", None)
        halted = [
            HaltedView(**{**h, "halted_at": _utc(h.get("halted_at"))})
            for h in (halts() if halts is not None else [])
        ]
        return json_response(
            Ready(
                status="ready",
                database="ok",
                projection_lag=lag,
                position=position,
                integrity=readyz_integrity(request, integrity),
                projections_halted=halted,
                calendar=calendar_out(rt.app.calendars.current(), rt.today()),
            )
        )

    from api import pages

    pages.mount(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _utc(moment: datetime | None) -> datetime | None:
    """Read-model timestamps are naive UTC; the API answers RFC 3339 with an offset."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_TEXT = {
    401: "no or bad credentials (`unauthorized`)",
    403: "outside the user's role (`forbidden`, `not_assigned_mediator`)",
    404: "no such resource, or outside the user's jurisdiction (`not_found`)",
    409: "stale If-Match (`version_conflict`) or wrong state (`invalid_transition`)",
    413: "request body over MEDIATION_MAX_BODY_BYTES (`payload_too_large`), before credentials",
    422: "invalid input (`validation_error`, with `field`) or a business rule (with `source`)",
    429: "too many failed logins (`too_many_attempts`), see Retry-After",
    503: "the database is unavailable (`service_unavailable`), see Retry-After",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = ProblemOut.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            guarded = "x-action" in op
            statuses = {422, 503}
            if guarded:
                statuses |= {401, 403, 404}
            if method == "post" and guarded:
                statuses.add(409)
            if path == "/api/v1/auth/token":
                statuses |= {401, 429}
            if method in ("post", "put", "patch"):
                statuses.add(413)
            if path in ("/healthz",):
                statuses = set()
            for status in sorted(statuses):
                entry = responses.setdefault(str(status), {})
                entry["description"] = entry.get("description") or PROBLEM_TEXT[status]
                if entry["description"] == "Validation Error":
                    entry["description"] = PROBLEM_TEXT[status]
                entry["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
                if status in (429, 503):
                    entry["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    app.openapi_schema = schema
    return schema
