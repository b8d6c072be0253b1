"""Problem details (RFC 9457) for every refusal, and the handlers that produce them.

Every error the API returns is ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and a stable ``code``; validation problems add ``field`` and
business-rule refusals add ``source`` (the legal text the rule enforces).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing import persistence as es_persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from mediation.errors import DomainError

log = logging.getLogger("api.errors")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://mediation.example.cn/problems/"

KIND_STATUS: Mapping[str, int] = {
    "rule": 422,
    "transition": 409,
    "conflict": 409,
    "validation": 422,
    "not_found": 404,
    "forbidden": 403,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain refusal (the JSON API and the web pages alike)."""
    return KIND_STATUS.get(exc.kind, 422)


class ApiError(Exception):
    """An error the API answers with directly (authentication, authorisation, input)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str = "",
        *,
        field: str | None = None,
        source: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.field = field
        self.source = source
        self.headers = dict(headers or {})
        super().__init__(self.detail)


def unauthorized(detail: str = "missing or invalid credentials") -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def not_found(detail: str = "no such resource") -> ApiError:
    return ApiError(404, "not_found", "Not found", detail)


def forbidden(detail: str = "this role may not do this") -> ApiError:
    return ApiError(403, "forbidden", "Not allowed for this role", detail)


def not_assigned(detail: str = "only the mediator assigned to the case may do this") -> ApiError:
    return ApiError(
        403, "not_assigned_mediator", "Only the mediator assigned to the case may do this", detail
    )


def validation(detail: str, field: str | None = None) -> ApiError:
    return ApiError(422, "validation_error", "Invalid input", detail, field=field)


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    source: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if source:
        body["source"] = source
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=dict(headers or {}))


def from_domain(exc: DomainError) -> JSONResponse:
    status = status_of(exc)
    field = exc.field if exc.kind == "validation" else None
    if exc.kind == "validation" and field is None:
        field = ""
    return problem(
        status,
        exc.code,
        exc.title,
        exc.detail,
        field=field,
        source=exc.source if exc.kind == "rule" else None,
    )


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


# errors the database driver raises when it cannot be reached: a 503, never a stack trace
OUTAGE: tuple[type[Exception], ...] = (
    es_persistence.OperationalError,
    es_persistence.InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)

# Re-run on a body that could not be parsed at all, so that credentials, jurisdiction and
# role still answer before validation (the contract's order of checks).
PreCheck = Callable[[Request], None]


def install(app: FastAPI, precheck: PreCheck) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            field=exc.field,
            source=exc.source,
            headers=exc.headers,
        )

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return from_domain(exc)

    async def request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        try:
            await run_in_threadpool(precheck, request)
        except ApiError as earlier:
            return await api_error(request, earlier)
        except DomainError as earlier:
            return from_domain(earlier)
        errors = list(exc.errors())
        first = errors[0] if errors else {}
        loc = first.get("loc", ())
        msg = str(first.get("msg", "invalid input"))
        kind = str(first.get("type", ""))
        field = _field_of(loc)
        if kind == "json_invalid":
            detail = "the request body is not valid JSON"
        else:
            detail = f"{field or 'request'}: {msg}" if field else msg
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem(422, "validation_error", "Invalid input", detail, field=field)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        codes = {
            404: ("not_found", "Not found"),
            405: ("method_not_allowed", "Method not allowed"),
            401: ("unauthorized", "Authentication required"),
            403: ("forbidden", "Not allowed for this role"),
            413: ("payload_too_large", "Payload too large"),
            415: ("unsupported_media_type", "Unsupported media type"),
        }
        code, title = codes.get(exc.status_code, ("http_error", "Request refused"))
        detail = str(exc.detail) if exc.detail else title
        return problem(exc.status_code, code, title, detail, headers=exc.headers)

    async def outage(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s", type(exc).__name__)
        return problem(
            503,
            "service_unavailable",
            "The database is unavailable",
            "the case store cannot be reached; retry shortly",
            headers={"Retry-After": "5"},
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for kind in OUTAGE:
        app.add_exception_handler(kind, outage)
    app.add_exception_handler(Exception, unexpected)


Handler = Callable[[Request, Exception], Awaitable[Response]]
