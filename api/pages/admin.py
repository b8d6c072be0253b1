"""The admin's page: studios (register, close) and accounts (add, disable/enable, reset the
password), each a form with post/redirect/get and a success message.

Every change goes through the services the API and the command line use: the studio
commands of ``MediationApplication`` and the account store ``api.users.UserStore`` (the
disable/enable rules of :func:`api.routes.auth.change_disabled`). Authorisation is the API
matrix's: ``studio.create`` / ``studio.close`` rows, accounts for admins, always inside the
admin's region.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api import authz
from api.errors import ApiError
from api.pages import forms as F
from api.pages import prg
from api.pages.common import (
    PageError,
    actor,
    check_origin,
    from_api_error,
    load_studio,
    page_user,
    refusal,
    render,
    require,
    runtime,
)
from api.pages.names import region_name
from api.pages.reads import StudioRow, mediator_names, studios
from api.routes.auth import change_disabled
from api.users import LOGIN_ROLES, NoSuchUser, User, UserError, WeakPasswordError
from mediation.application import CommandContext
from mediation.errors import DomainError, NotFound, ValidationFailed
from mediation.labels import ROLE, label
from mediation.regions import children, get_region, region_prefix
from mediation.values import Role, StudioKind

router = APIRouter()

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PASSWORD_RULE = "密码至少 12 个字符，不能是常见密码，也不能包含用户名。"


def _key(form: FormData) -> str | None:
    key = F.text(form, "form_key", required=False)
    return f"web-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else None


def _regions(user: User) -> list[tuple[str, str]]:
    """The admin's region and the regions under it (cities, counties), by name."""
    out = [(user.region_code, region_name(user.region_code))]
    for level in ("city", "county"):
        out += [(r.code, region_name(r.code)) for r in children(user.region_code, level)]
    return out


def _visible_studios(request: Request, user: User) -> list[StudioRow]:
    return [s for s in studios(runtime(request)) if authz.studio_visible(user, s.region_code)]


# ---------------------------------------------------------------------- the page


NOTICES = {
    "disabled": "已停用账户 {account}：其已登录的会话立即失效，且不能再登录。",
    "enabled": "已启用账户 {account}：可重新登录（停用前签发的令牌仍然无效）。",
    "added": "已新增账户 {account}：请将初始密码当面告知本人，并提醒其登录后修改。",
    "password": "已重置账户 {account} 的密码：其已登录的会话立即失效，须用新密码登录。",
    "registered": "已登记工作室 {studio}。",
    "closed": "已撤销工作室 {studio}：不再接受委托；已委托的案件不受影响。",
}


@router.get("/admin", include_in_schema=False)
def admin_home(request: Request, done: str = "", account: str = "", studio: str = "") -> Response:
    user = page_user(request)
    require(user, "studio.list")
    return admin_page(request, user, notice=_notice(request, user, done, account, studio))


def _notice(request: Request, user: User, done: str, account: str, studio: str) -> str:
    """The success message of post/redirect/get, only for what is shown in that state."""
    if done not in NOTICES or user.role is not Role.ADMIN:
        return ""
    if done in ("registered", "closed"):
        try:
            found = runtime(request).app.get_studio(UUID(studio))
        except (ValueError, NotFound):
            return ""
        if not authz.studio_visible(user, found.region_code):
            return ""
        if (done == "closed") != (found.closed_on is not None):
            return ""
        return NOTICES[done].format(studio=found.name)
    shown = runtime(request).users.account(account)
    if shown is None or not authz.in_jurisdiction(user, shown.user.region_code):
        return ""
    if done in ("disabled", "enabled") and shown.disabled != (done == "disabled"):
        return ""
    return NOTICES[done].format(account=account)


def admin_page(
    request: Request,
    user: User,
    *,
    notice: str = "",
    error: dict[str, Any] | None = None,
    open_form: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rt = runtime(request)
    today = rt.today()
    visible = _visible_studios(request, user)
    admin = user.role is Role.ADMIN
    accounts = []
    if admin:  # the users section is an admin's only
        accounts = [
            a
            for a in rt.users.accounts(region_prefix(user.region_code))
            if authz.in_jurisdiction(user, a.user.region_code)
        ]
    studio_name = {s.studio_id: s.name for s in visible}
    mediators = mediator_names(rt)
    mediator_options = []
    if admin:
        for s in visible:
            if not s.active_on(today) or not authz.in_jurisdiction(user, s.region_code):
                continue
            try:
                roster = rt.app.get_studio(s.studio_id).active_mediators(today)
            except DomainError:
                continue
            mediator_options += [
                (f"{s.studio_id}/{m.mediator_id}", f"{m.name}（{s.name}）") for m in roster
            ]
    return render(
        request,
        "admin.html",
        {
            "studios": visible,
            "today_date": today,
            "today": today.isoformat(),
            "accounts": accounts,
            "show_accounts": admin,
            "can_register": authz.grant(user, "studio.create") is not authz.Grant.NO,
            "can_close": authz.grant(user, "studio.close") is not authz.Grant.NO,
            "may_close": {
                s.studio_id for s in visible if authz.in_jurisdiction(user, s.region_code)
            },
            "notice": notice,
            "error": error,
            "open_form": open_form,
            "values": values or {},
            "form_key": uuid4().hex,
            "regions": _regions(user),
            "kinds": [(k.value, label_kind(k)) for k in StudioKind],
            "roles": [(r.value, label(ROLE, r)) for r in LOGIN_ROLES],
            "studio_options": [
                (str(s.studio_id), f"{s.name}（{s.region_name}）")
                for s in visible
                if s.active_on(today) and authz.in_jurisdiction(user, s.region_code)
            ],
            "mediator_options": mediator_options,
            "studio_name": {str(k): v for k, v in studio_name.items()},
            "mediator_name": {str(k): v for k, v in mediators.items()},
            "password_rule": PASSWORD_RULE,
        },
        status=status,
        user=user,
    )


def label_kind(kind: StudioKind) -> str:
    from mediation.labels import STUDIO_KIND

    return label(STUDIO_KIND, kind)


def _refused(
    request: Request, user: User, form: FormData, open_form: str, error: dict[str, Any], status: int
) -> Response:
    """Post/redirect/get (``api.pages.prg``): back to /admin with the refusal, the form open
    and what was typed (never a password)."""
    values = F.values_of(form)
    values.pop("new_password", None)
    values.pop("initial_password", None)
    errors = {error["field"]: error.get("detail") or error["title"]} if error.get("field") else {}
    return prg.refused(request, "/admin", error, values, open_form=open_form, errors=errors)


# ---------------------------------------------------------------------- studios


@router.post("/admin/studios", include_in_schema=False)
async def register_studio(request: Request) -> Response:
    user = page_user(request)
    check_origin(request)
    require(user, "studio.create")
    form = await request.form()
    return await run_in_threadpool(_register_sync, request, user, form)


def _register_sync(request: Request, user: User, form: FormData) -> Response:
    rt = runtime(request)
    try:
        region = F.text(form, "region_code")
        if get_region(region) is None:
            raise ValidationFailed("请选择地区", field="region_code")
        if not authz.in_jurisdiction(user, region):
            raise ValidationFailed("该地区不在您的管辖范围内", field="region_code")
        raw_quota = F.text(form, "mediator_quota", required=False)
        studio = rt.app.register_studio(
            CommandContext(actor(user), idempotency_key=_key(form)),
            name=F.text(form, "name"),
            region_code=region,
            kind=F.choice(form, "kind", StudioKind),
            established_on=F.day(form, "established_on"),
            mediator_quota=F.integer(form, "mediator_quota") if raw_quota else None,
        )
    except DomainError as exc:
        return _refused(request, user, form, "register", refusal(exc), 422)
    rt.after_write()
    return RedirectResponse(f"/admin?done=registered&studio={studio.id}", status_code=303)


@router.post("/admin/studios/{studio_id}/closure", include_in_schema=False)
async def close_studio(request: Request, studio_id: str) -> Response:
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_close_sync, request, user, studio_id, form)


def _close_sync(request: Request, user: User, studio_id: str, form: FormData) -> Response:
    studio = load_studio(request, user, studio_id, "studio.close")
    rt = runtime(request)
    try:
        if form.get("confirm") != "yes":
            raise ValidationFailed(
                f"撤销工作室“{studio.name}”前请勾选确认框：撤销后不能恢复", field="confirm"
            )
        rt.app.close_studio(
            CommandContext(actor(user), idempotency_key=_key(form)),
            studio.id,
            closed_on=F.day(form, "closed_on"),
        )
    except DomainError as exc:
        return _refused(request, user, form, f"close-{studio.id}", refusal(exc), 422)
    rt.after_write()
    return RedirectResponse(f"/admin?done=closed&studio={studio.id}", status_code=303)


# ---------------------------------------------------------------------- accounts


def _admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise PageError(403, "当前角色无权执行此操作", "只有系统管理员可以管理账户。")


@router.post("/admin/users", include_in_schema=False)
async def admin_account(request: Request) -> Response:
    """Disable or enable an account: the API's rules (:func:`api.routes.auth.change_disabled`)."""
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_admin_account_sync, request, user, form)


def _admin_account_sync(request: Request, user: User, form: FormData) -> Response:
    username = F.unchecked(form, "username")[:64]
    do = F.unchecked(form, "do")
    if do not in ("disable", "enable"):
        raise PageError(422, "输入有误", "操作只能是停用或启用。")
    disabled = do == "disable"
    if user.role is Role.ADMIN and disabled and form.get("confirm") != "yes":
        error = {"title": "请勾选确认后再停用", "detail": f"停用账户 {username} 前须确认。"}
        return prg.refused(request, "/admin", error, {})
    try:
        change_disabled(runtime(request), user, username, disabled)
    except ApiError as exc:
        if user.role is not Role.ADMIN:
            raise from_api_error(exc) from None
        if exc.code == "cannot_disable_self":
            error = {"title": "不能停用自己的账户", "code": exc.code}
        else:
            page = from_api_error(exc)
            error = {"title": page.title, "detail": f"账户：{username}", "code": exc.code}
        return prg.refused(request, "/admin", error, {})
    target = f"/admin?done={'disabled' if disabled else 'enabled'}&account={quote(username)}"
    return RedirectResponse(target, status_code=303)


@router.post("/admin/users/new", include_in_schema=False)
async def add_account(request: Request) -> Response:
    user = page_user(request)
    check_origin(request)
    _admin(user)
    form = await request.form()
    return await run_in_threadpool(_add_sync, request, user, form)


def _password(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationFailed("请填写密码", field=name)
    return value


def _add_sync(request: Request, user: User, form: FormData) -> Response:
    rt = runtime(request)
    try:
        username = F.text(form, "username")
        if not USERNAME.fullmatch(username):
            raise ValidationFailed(
                "用户名为字母或数字开头的字母、数字、点、横线、下划线，最长 64 个字符",
                field="username",
            )
        if rt.users.account(username) is not None:
            raise ValidationFailed(f"用户名 {username} 已被使用", field="username")
        display_name = F.text(form, "display_name")
        if len(display_name) > 64:
            raise ValidationFailed("姓名最长 64 个字符", field="display_name")
        role = F.choice(form, "role", Role)
        if role not in LOGIN_ROLES:
            raise ValidationFailed("请选择角色", field="role")
        region = F.text(form, "region_code")
        if get_region(region) is None or not authz.in_jurisdiction(user, region):
            raise ValidationFailed("请选择管辖范围内的地区", field="region_code")
        studio_id, mediator_id = _seat(request, user, form, role)
        rt.users.add(
            username,
            _password(form, "initial_password"),
            role=role.value,
            region_code=region,
            studio_id=studio_id,
            mediator_id=mediator_id,
            actor=user.username,
            display_name=display_name,
        )
    except DomainError as exc:
        return _refused(request, user, form, "add-user", refusal(exc), 422)
    except WeakPasswordError:
        error = {"title": "密码强度不足", "detail": PASSWORD_RULE, "field": "initial_password"}
        return _refused(request, user, form, "add-user", error, 422)
    except UserError:
        error = {"title": "输入有误", "detail": "账户信息不完整或不正确，请核对后重试。"}
        return _refused(request, user, form, "add-user", error, 422)
    return RedirectResponse(f"/admin?done=added&account={quote(username)}", status_code=303)


def _seat(
    request: Request, user: User, form: FormData, role: Role
) -> tuple[UUID | None, UUID | None]:
    """The studio (coordinators) or studio and roster entry (mediators) of a new account."""
    if role is Role.MEDIATOR:
        raw = F.text(form, "mediator")
        studio_raw, _, mediator_raw = raw.partition("/")
        try:
            studio = runtime(request).app.get_studio(UUID(studio_raw))
            mediator_id = UUID(mediator_raw)
        except (ValueError, NotFound):
            raise ValidationFailed("请选择调解员", field="mediator") from None
        if not authz.in_jurisdiction(user, studio.region_code) or mediator_id not in studio.roster:
            raise ValidationFailed("请选择管辖范围内工作室的调解员", field="mediator")
        return studio.id, mediator_id
    if role is Role.COORDINATOR:
        studio_id = F.uuid(form, "studio_id")
        try:
            studio = runtime(request).app.get_studio(studio_id)
        except NotFound:
            raise ValidationFailed("请选择工作室", field="studio_id") from None
        if not authz.in_jurisdiction(user, studio.region_code):
            raise ValidationFailed("请选择管辖范围内的工作室", field="studio_id")
        return studio.id, None
    return None, None


@router.post("/admin/users/password", include_in_schema=False)
async def reset_password(request: Request) -> Response:
    user = page_user(request)
    check_origin(request)
    _admin(user)
    form = await request.form()
    return await run_in_threadpool(_password_sync, request, user, form)


def _password_sync(request: Request, user: User, form: FormData) -> Response:
    rt = runtime(request)
    username = F.unchecked(form, "username")[:64]
    account = rt.users.account(username)
    if account is None or not authz.in_jurisdiction(user, account.user.region_code):
        raise PageError(404, "未找到，或不在您的管辖范围内")
    open_form = f"password-{username}"
    try:
        rt.users.set_password(username, _password(form, "new_password"), actor=user.username)
    except DomainError as exc:
        return _refused(request, user, form, open_form, refusal(exc), 422)
    except WeakPasswordError:
        error = {"title": "密码强度不足", "detail": PASSWORD_RULE, "field": "new_password"}
        return _refused(request, user, form, open_form, error, 422)
    except NoSuchUser:
        raise PageError(404, "未找到，或不在您的管辖范围内") from None
    return RedirectResponse(f"/admin?done=password&account={quote(username)}", status_code=303)
