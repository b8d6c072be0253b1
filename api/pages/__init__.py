"""The web workspace: server-rendered pages in Chinese for clerks, mediators, coordinators
and auditors, served by the same application as the API.

``mount(app)`` adds the pages and ``/static`` to an application made by
``api.app.create_app``. Pages read and write through the same application services and
read models as the API, and ask ``api.authz`` every authorisation question.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.pages import admin, audit, calendar, cases, documents, stats, work
from api.pages.common import (
    STATIC_DIR,
    LoginRequired,
    PageError,
    current_user,
    login_redirect,
    render,
)
from mediation import labels

router = APIRouter(include_in_schema=False)
router.include_router(work.router)
router.include_router(cases.intake_router)
router.include_router(documents.router)  # before /cases/{case_id}
router.include_router(cases.router)
router.include_router(stats.router)
router.include_router(calendar.router)
router.include_router(audit.router)
router.include_router(admin.router)

__all__ = ["mount", "router"]


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return login_redirect(exc.next_url)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(
        request,
        "error.html",
        {"failure": exc},
        status=exc.status,
        user=current_user(request),
    )


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a static file, HTML accepted)."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and "text/html" in request.headers.get(
        "accept", ""
    )


def mount(app: FastAPI) -> None:
    """Serve the pages and their static files from ``app``; an unknown address asked for by
    a browser is a Chinese page (the API's own paths keep their problem+json)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)
    as_json = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _wants_page(request) and exc.status_code in (404, 405):
            P = labels.PAGE
            failure = PageError(
                404, P["no_page"], P["no_page_detail"], code="not_found", tech=request.url.path
            )
            return await _page_error(request, failure)
        assert as_json is not None
        answer = as_json(request, exc)
        return answer if isinstance(answer, Response) else await answer

    app.add_exception_handler(StarletteHTTPException, http_error)
