"""Login, the home page of each role, the work queues and the coordinator's roster."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api import authz
from api.errors import ApiError
from api.login import log_in
from api.pages import forms as F
from api.pages import prg
from api.pages.common import (
    COOKIE,
    HOME,
    PageError,
    Refused,
    actor,
    check_origin,
    current_user,
    load_studio,
    page_user,
    refusal,
    render,
    require,
    runtime,
    safe_next,
)
from api.pages.reads import Page, case_rows, from_cursor, list_case_ids, studios
from api.security import issue_token
from api.users import NoSuchUser, User
from mediation.application import CommandContext
from mediation.errors import DomainError, ValidationFailed
from mediation.labels import message
from mediation.organisation import QUALIFICATIONS, Studio
from mediation.regions import region_prefix
from mediation.values import Status
from projections import worklists

router = APIRouter()


# ---------------------------------------------------------------------- session


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "values": {}})


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_login_sync, request, form)


def _login_sync(request: Request, form: FormData) -> Response:
    rt = runtime(request)
    username = F.unchecked(form, "username")[:64]
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    next_url = safe_next(F.text(form, "next", required=False))
    outcome = log_in(rt, request, username, password)
    if outcome.retry_after is not None:
        said = f"登录失败次数过多，请 {outcome.retry_after} 秒后再试。"
    else:
        user = outcome.user
        if user is not None:
            token, lifetime = issue_token(user, rt.settings)
            target = next_url if next_url != "/" else HOME.get(user.role, "/")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                COOKIE,
                token,
                max_age=lifetime,
                httponly=True,
                samesite="strict",
                secure=rt.settings.environment == "production",
                path="/",
            )
            return response
        said = "用户名或密码错误。"
    # post/redirect/get: a refresh asks again, never re-sends the password
    target = "/login" + (f"?next={quote(next_url, safe='')}" if next_url != "/" else "")
    return prg.refused(request, target, {"title": said}, {"username": username})


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    """Delete the cookie and revoke the account's tokens (a copied cookie stops working)."""
    check_origin(request)
    user = current_user(request)
    if user is not None:
        with contextlib.suppress(NoSuchUser):  # deleted meanwhile
            runtime(request).users.log_out(user.username, actor=user.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


# ---------------------------------------------------------------------- queues


def _queue(
    request: Request,
    user: User,
    template: str,
    queue: Callable[[str | None], Page],
    cursor: str,
    **lists: list[UUID],
) -> Response:
    """A work queue page: the queue from ``cursor`` (a bad one: from the start) and short lists."""
    rt = runtime(request)
    ids, next_cursor = from_cursor(queue, cursor or None)
    rows = {name: case_rows(rt, more, mask=False) for name, more in lists.items()}
    return render(
        request,
        template,
        {"rows": case_rows(rt, ids, mask=False), **rows, "next_cursor": next_cursor},
        user=user,
    )


@router.get("/clerk", include_in_schema=False)
def clerk_home(request: Request, cursor: str = "") -> Response:
    user = page_user(request)
    require(user, "case.create")
    rt = runtime(request)
    prefix = region_prefix(user.region_code)

    def queue(after: str | None) -> Page:
        return worklists.clerk_queue(rt.system.engine, region_prefix=prefix, cursor=after)

    accepted, _ = list_case_ids(rt, region_prefix=prefix, status=Status.ACCEPTED.value, limit=20)
    return _queue(request, user, "clerk.html", queue, cursor, accepted=accepted)


@router.get("/queue", include_in_schema=False)
def mediator_home(request: Request, cursor: str = "") -> Response:
    user = page_user(request)
    mediator_id = user.mediator_id
    if authz.grant(user, "case.session") is not authz.Grant.ASSIGNED or not mediator_id:
        raise PageError(403, "此页面仅供调解员使用")
    rt = runtime(request)

    def queue(after: str | None) -> Page:
        return worklists.mediator_queue(rt.system.engine, mediator_id=mediator_id, cursor=after)

    waiting, _ = list_case_ids(
        rt,
        region_prefix=region_prefix(user.region_code),
        status=Status.ENTRUSTED.value,
        mediator_id=mediator_id,
        limit=20,
    )
    return _queue(request, user, "queue.html", queue, cursor, waiting=waiting)


# ---------------------------------------------------------------------- roster


def _visible_studios(request: Request, user: User) -> list[Any]:
    return [s for s in studios(runtime(request)) if authz.studio_visible(user, s.region_code)]


def roster_page(
    request: Request,
    user: User,
    studio_id: str | None,
    *,
    refused: Refused | None = None,
) -> Response:
    """The roster of a studio; a refused form is open again with the refusal and its values."""
    rt = runtime(request)
    today = rt.today()
    visible = _visible_studios(request, user)
    chosen = studio_id or (str(user.studio_id) if user.studio_id else None)
    if chosen is None and visible:
        chosen = str(visible[0].studio_id)
    studio = load_studio(request, user, chosen, "studio.read") if chosen else None
    pending: list[dict[str, Any]] = []
    active: list[Any] = []
    if studio is not None:
        ids, _ = list_case_ids(
            rt,
            region_prefix=region_prefix(user.region_code),
            status=Status.ENTRUSTED.value,
            studio_id=studio.id,
            limit=50,
        )
        pending = case_rows(rt, ids, mask=authz.masked(user))
        active = studio.active_mediators(today)
    return render(
        request,
        "roster.html",
        {
            "studio": studio,
            "studios": visible,
            "roster": list(studio.roster.values()) if studio else [],
            "active": active,
            "pending": pending,
            "today": today.isoformat(),
            "today_date": today,
            "qualifications": QUALIFICATIONS,
            "can_manage": studio is not None and _can_manage(user, studio),
            "can_assign": authz.grant(user, "case.assign_mediator") is authz.Grant.YES,
            "error": refused.error if refused else None,
            "open_form": refused.open_form if refused else None,
            "values": refused.values if refused else {},
            "form_key": uuid4().hex,
        },
        status=refused.status if refused else 200,
        user=user,
    )


def _can_manage(user: User, studio: Studio) -> bool:
    try:
        authz.authorize_studio(
            user, "studio.appoint", studio_id=studio.id, region_code=studio.region_code
        )
    except ApiError:
        return False
    return True


@router.get("/roster", include_in_schema=False)
def roster(request: Request, studio: str = "") -> Response:
    user = page_user(request)
    require(user, "studio.read")
    return roster_page(request, user, studio or None)


def _key(form: FormData) -> str | None:
    key = F.text(form, "form_key", required=False)
    return f"web-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else None


@router.post("/roster/{studio_id}/appoint", include_in_schema=False)
async def appoint(request: Request, studio_id: str) -> Response:
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_appoint_sync, request, user, studio_id, form)


def _appoint_sync(request: Request, user: User, studio_id: str, form: FormData) -> Response:
    studio = load_studio(request, user, studio_id, "studio.appoint")
    rt = runtime(request)
    try:
        qualification = F.text(form, "qualification")
        rt.app.appoint_mediator(
            CommandContext(actor(user), idempotency_key=_key(form)),
            studio.id,
            name=F.text(form, "name"),
            qualification=qualification,
            appointed_on=F.day(form, "appointed_on"),
        )
    except DomainError as exc:
        errors = F.problems(exc)
        return prg.refused(
            request,
            f"/roster?studio={studio.id}",
            refusal(exc),
            F.values_of(form),
            open_form="appoint",
            errors=errors,
        )
    rt.after_write()
    return prg.done(request, f"/roster?studio={studio.id}", message("done", what="聘任调解员"))


@router.post("/roster/{studio_id}/retire/{mediator_id}", include_in_schema=False)
async def retire(request: Request, studio_id: str, mediator_id: str) -> Response:
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_retire_sync, request, user, studio_id, mediator_id, form)


def _retire_sync(
    request: Request, user: User, studio_id: str, mediator_id: str, form: FormData
) -> Response:
    studio = load_studio(request, user, studio_id, "studio.retire")
    rt = runtime(request)
    try:
        if form.get("confirm") != "yes":
            raise ValidationFailed(
                "解聘前请勾选确认框：解聘后该调解员不能再承办案件", field="confirm"
            )
        rt.app.retire_mediator(
            CommandContext(actor(user), idempotency_key=_key(form)),
            studio.id,
            F.uuid(form, "mediator_id") if mediator_id == "-" else UUID(mediator_id),
            retired_on=F.day(form, "retired_on"),
        )
    except (DomainError, ValueError) as exc:
        err = refusal(exc) if isinstance(exc, DomainError) else {"title": "调解员无效"}
        errors = F.problems(exc)
        return prg.refused(
            request,
            f"/roster?studio={studio.id}",
            err,
            F.values_of(form),
            open_form="retire",
            errors=errors,
        )
    rt.after_write()
    return prg.done(request, f"/roster?studio={studio.id}", message("done", what="调解员解聘"))
