"""What every page shares: templates, the session cookie, the current user, errors.

The session is the API's own bearer token (``api.security.issue_token``) kept in an
``HttpOnly`` cookie with ``SameSite=Strict``; every form POST is also refused when its
``Origin`` names another site. Authorisation is always asked of ``api.authz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from api import authz
from api.deps import Runtime, runtime_of
from api.errors import OUTAGE, ApiError
from api.pages import names, prg
from api.users import User
from mediation import labels
from mediation.calendar import calendar_warning
from mediation.errors import DomainError, NotFound
from mediation.organisation import Studio
from mediation.values import Actor, Role

CHINA = ZoneInfo("Asia/Shanghai")
COOKIE = "mediation_session"
ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=str(ROOT / "templates"))
STATIC_DIR = ROOT / "static"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url
        super().__init__(next_url)


class PageError(Exception):
    """A refusal shown as a page (not found, not allowed, bad request); ``code`` and
    ``tech`` (the API's words) only in the folded 技术信息 line."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        source: str = "",
        *,
        code: str = "",
        tech: str = "",
    ) -> None:
        self.status = status
        self.title = title
        self.detail = labels.chinese_or_empty(detail)
        self.source = labels.chinese_or_empty(source)
        self.code = code
        self.tech = tech
        super().__init__(title)


def from_api_error(exc: ApiError, user: User | None = None) -> PageError:
    P = labels.PAGE
    titles = {404: P["not_found"], 403: P["forbidden"], 401: P["login"], 422: P["invalid"]}
    if exc.code == "not_assigned_mediator":
        return PageError(403, P["not_assigned"], code=exc.code, tech=exc.detail)
    detail = exc.detail
    if exc.status == 403 and user is not None:
        detail = P["forbidden_detail"].format(role=labels.label(labels.ROLE, user.role))
    return PageError(
        exc.status,
        titles.get(exc.status, P["refused"]),
        detail,
        exc.source or "",
        code=exc.code,
        tech=exc.detail,
    )


def runtime(request: Request) -> Runtime:
    return runtime_of(request)


def load_studio(request: Request, user: User, raw: str, action: str) -> Studio:
    """The studio a page form names, if ``user`` may do ``action`` on it (else 404/403)."""
    try:
        studio = runtime(request).app.get_studio(UUID(raw))
    except (ValueError, NotFound):
        raise PageError(404, "未找到，或不在您的管辖范围内") from None
    try:
        authz.authorize_studio(user, action, studio_id=studio.id, region_code=studio.region_code)
    except ApiError as exc:
        raise from_api_error(exc) from None
    return studio


def current_user(request: Request) -> User | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    account = runtime(request).tokens.read_account(token)
    user = account.user if account is not None else None
    request.state.user = user  # the access log and the access audit name the user
    request.state.account = account  # the header's name, without reading it again
    return user


def page_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def require(user: User, action: str) -> authz.Grant:
    """The role check of the API's matrix, answered as a page."""
    try:
        return authz.require_role(user, action)
    except ApiError as exc:
        raise from_api_error(exc, user) from None


def authorize_case(
    user: User,
    action: str,
    *,
    region_code: str,
    mediator_id: UUID | None,
    studio_id: UUID | None = None,
) -> None:
    try:
        authz.authorize_case(
            user, action, region_code=region_code, mediator_id=mediator_id, studio_id=studio_id
        )
    except ApiError as exc:
        raise from_api_error(exc, user) from None


def may(
    user: User, action: str, *, mediator_id: UUID | None = None, studio_id: UUID | None = None
) -> bool:
    """Would the matrix let this user do ``action`` (on a case with this mediator and studio)?"""
    g = authz.grant(user, action)
    if g is authz.Grant.NO:
        return False
    if (
        user.role is Role.COORDINATOR
        and authz.MATRIX[action].changes
        and studio_id is not None
        and studio_id != user.studio_id
    ):
        return False  # a coordinator acts only for their own studio's cases
    if g is authz.Grant.ASSIGNED:
        return user.mediator_id is not None and user.mediator_id == mediator_id
    return True


def check_origin(request: Request) -> None:
    """Refuse a form POST sent from another site (the cookie is also SameSite=Strict)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise PageError(403, "请求来源不被接受", "表单只能从本系统的页面提交。")


def actor(user: User) -> Actor:
    return Actor(user.username, user.role)


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(next_url, safe=""), status_code=303)


def local_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def money_zh(value: Any) -> str:
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return str(value)


def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


NAV: dict[Role, list[tuple[str, str]]] = {
    Role.CLERK: [("/clerk", "我的待办"), ("/cases/new", "收案登记"), ("/cases", "案件查询")],
    Role.MEDIATOR: [("/queue", "我的调解案件")],
    Role.COORDINATOR: [("/roster", "调解员名册"), ("/cases", "案件查询")],
    Role.AUDITOR: [
        ("/dashboard", "统计分析"),
        ("/subsidies", "办案补贴"),
        ("/cases", "案件查询"),
        ("/audit", "访问审计"),
    ],
    Role.ADMIN: [
        ("/admin", "工作室与账户"),
        ("/admin/calendar", "节假日安排"),
        ("/cases", "案件查询"),
        ("/audit", "访问审计"),
    ],
}

HOME: dict[Role, str] = {
    Role.CLERK: "/clerk",
    Role.MEDIATOR: "/queue",
    Role.COORDINATOR: "/roster",
    Role.AUDITOR: "/dashboard",
    Role.ADMIN: "/admin",
}


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    user: User | None = None,
) -> Response:
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "nav": NAV.get(user.role, []) if user else [],
        "role_label": labels.label(labels.ROLE, user.role) if user else "",
        "L": labels,
        "label": labels.label,
        "money": money_zh,
        "percent": percent,
        "path": request.url.path,
        "calendar_warning": _calendar_warning(request, user),
        "me": _person(request, user),
        "case_title": names.case_title,
        "region_name": names.region_name,
    }
    ctx.update(context)
    outcome, spent = prg.take(request, user.username if user else "")
    if outcome is not None:  # post/redirect/get: what the form's POST left for this page
        ctx["notice"] = outcome.message or ctx.get("notice")
        if outcome.error is not None:
            ctx.update(
                error=outcome.error,
                open_form=outcome.open_form,
                values=outcome.values,
                errors=outcome.errors,
                remedy_form=outcome.error.get("remedy", ""),
            )
    ctx.setdefault("errors", {})
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)
    if spent:
        prg.clear(request, response)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Refused:
    """A refused form, shown again: the refusal, which form to open, what was typed."""

    error: dict[str, Any]
    open_form: str
    values: dict[str, str]
    status: int = 422


def _person(request: Request, user: User | None) -> str:
    """The header's name: the account's person, a mediator's roster name, else the login."""
    if user is None:
        return ""
    from api.pages.reads import person_name

    account = getattr(request.state, "account", None)
    try:
        return person_name(runtime(request), user, account)
    except OUTAGE:
        return user.username


def _calendar_warning(request: Request, user: User | None) -> str | None:
    """This or next year's missing holiday notice, for the clerks' and admins' pages."""
    if user is None or user.role not in (Role.CLERK, Role.ADMIN):
        return None
    rt = runtime(request)
    try:
        warning = calendar_warning(rt.app.calendars.current(), rt.today())
    except OUTAGE:  # the page (or its error page) is shown without the banner
        return None
    return warning.zh if warning else None


def refusal(exc: DomainError) -> dict[str, Any]:
    """A refused command, for the page: the rule in Chinese, the detail when it is Chinese
    (an untranslated one never reaches a user: the title says it), its legal source; the
    code and field only for the folded 技术信息 line."""
    detail = labels.chinese_or_empty(exc.detail)
    return {
        "code": exc.code,
        "title": exc.title_zh,
        "detail": detail if detail != exc.title_zh else "",
        "source": labels.chinese_or_empty(exc.source) if exc.kind == "rule" else "",
        "field": exc.field,
    }


def today(request: Request) -> date:
    return runtime(request).today()
