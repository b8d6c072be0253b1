"""Input and output hygiene of the HTTP server: body size, caching, the API documents.

* ``BodyLimit``: a request body larger than ``MEDIATION_MAX_BODY_BYTES`` (default 1 MiB)
  is refused with 413 ``payload_too_large`` before anything else runs (authentication
  included) and without being read into memory: a declared ``Content-Length`` over the
  limit is answered at once; a body without one (chunked) is counted as it streams and
  refused as soon as the count passes the limit.
* ``NoStore``: every response except static assets carries ``Cache-Control: no-store``
  (case views, lists, histories, searches, exports and the pages carry personal data;
  one rule for all of them cannot miss one).
* ``clean_url``: an application-wide dependency refusing a path or query parameter that
  breaks the text rule of ``mediation.text`` (NUL, controls, bidirectional overrides; blank
  values pass) with 422 ``validation_error`` naming it, after the credential, jurisdiction
  and role checks as any validation error (``api.errors``). A NUL in a username of the path
  or a search text used to reach PostgreSQL, which cannot hold it (a 500, or a 503 when the
  access audit could not record the read).
* ``install_docs``: Swagger UI (``/docs``) and ReDoc (``/redoc``) from assets shipped by
  the ``fastapi-offline`` package, served under ``/docs/assets`` (no CDN: they work
  offline). On by default in development, off in production unless
  ``MEDIATION_API_DOCS=true``. ``/openapi.json`` is always served (the contract needs it).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from mediation import text
from mediation.settings import Settings

__all__ = [
    "ASSETS",
    "BodyLimit",
    "NoStore",
    "PayloadTooLarge",
    "clean_url",
    "docs_enabled",
    "install_docs",
]

ASSETS = "/docs/assets"
CACHEABLE = ("/static/", ASSETS + "/")


class PayloadTooLarge(HTTPException):
    """Raised while a streamed body is read (an ``HTTPException``, so that the framework's
    body parsing passes it on instead of calling it a malformed body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def _too_large(limit: int) -> ASGIApp:
    return problem(
        413,
        "payload_too_large",
        "Payload too large",
        f"the request body is larger than {limit} bytes",
        headers={"Connection": "close"},
    )


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1").strip()
                if not declared.isdigit() or int(declared) > limit:
                    await _too_large(limit)(scope, receive, send)
                    return
                break
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except PayloadTooLarge:  # read outside the framework's handlers (a middleware)
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


class NoStore:
    """``Cache-Control: no-store`` on every response but static assets (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CACHEABLE):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, no_store)


def _plain(raw: bytes) -> bool:
    """Printable ASCII without percent-escapes: nothing to check (the common case)."""
    return raw.isascii() and b"%" not in raw and raw.decode("ascii").isprintable()


def clean_url(request: Request) -> None:
    """Refuse path and query parameters that break the text rule (see the module's doc)."""
    scope = request.scope
    path_plain = scope["path"].isascii() and scope["path"].isprintable()
    if path_plain and _plain(scope.get("query_string", b"")):
        return
    found = [
        ("path", name, value)
        for name, value in request.path_params.items()
        if isinstance(value, str)
    ] + [("query", name, value) for name, value in request.query_params.multi_items()]
    for where, name, value in found:
        why = text.problem(name) or text.problem(value, visible=False)
        if why is not None:
            raise RequestValidationError(
                [{"type": "value_error", "loc": (where, name), "msg": why, "input": value}]
            )


def docs_enabled(settings: Settings) -> bool:
    """``MEDIATION_API_DOCS`` when set; otherwise on except in production."""
    if settings.api_docs is not None:
        return settings.api_docs
    return settings.environment != "production"


def _asset_dir() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def install_docs(app: FastAPI, settings: Settings) -> None:
    """``/docs`` and ``/redoc`` from local assets, when ``docs_enabled``.

    The application is made with ``docs_url=None, redoc_url=None``; ``app.openapi_url``
    stays as it is.
    """
    if not docs_enabled(settings) or app.openapi_url is None:
        return
    openapi_url = app.openapi_url
    favicon = f"{ASSETS}/favicon.png"
    app.mount(ASSETS, StaticFiles(directory=str(_asset_dir())), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=root + favicon,
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=root + favicon,
            with_google_fonts=False,
        )
