"""The admin's holiday-calendar page: what is loaded, and a form to load a year's notice.

The notice is a TOML file (``mediation.calendar_file``), uploaded or pasted; it is checked
and recorded by ``app.calendars.load`` exactly as ``mediation calendar load`` does. Loading
the same text twice records nothing, so a re-sent form is harmless.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.pages import prg
from api.pages.common import PageError, actor, check_origin, page_user, render, runtime
from api.users import User
from mediation.calendar import BASE, CALENDAR_VERSION, calendar_warning
from mediation.calendar_book import LoadResult
from mediation.calendar_file import NoticeError
from mediation.values import Role

router = APIRouter()
PATH = "/admin/calendar"

MAX_BYTES = 64 * 1024  # a year's notice is a few kilobytes


def _admin(request: Request) -> User:
    user = page_user(request)
    if user.role is not Role.ADMIN:  # an operator's page, outside the API's case matrix
        raise PageError(403, "当前角色无权执行此操作", "只有系统管理员可以载入节假日安排。")
    return user


def _package_years() -> str:
    years = [y for y in range(2000, 2100) if BASE.covers_year(y)]
    return f"{years[0]}–{years[-1]}" if years else "—"


def _page(
    request: Request,
    user: User,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    text: str = "",
    result: LoadResult | None = None,
) -> Response:
    rt = runtime(request)
    book = rt.app.calendars.book()
    calendar = rt.app.calendars.current()
    today = rt.today()
    warning = calendar_warning(calendar, today)
    rows = [
        {"year": year, "v": v, "in_force": v is versions[-1]}
        for year, versions in sorted((book.years if book else {}).items(), reverse=True)
        for v in reversed(versions)
    ]
    return render(
        request,
        "admin_calendar.html",
        {
            "rows": rows,
            "version": calendar.version,
            "package": CALENDAR_VERSION,
            "package_years": _package_years(),
            "warning": warning,
            "error": error,
            "text": text,
            "result": result,
            "next_year": today.year + 1,
        },
        status=status,
        user=user,
    )


@router.get("/admin/calendar", include_in_schema=False)
def calendar_page(request: Request) -> Response:
    return _page(request, _admin(request))


@router.post("/admin/calendar", include_in_schema=False)
async def load_notice(request: Request) -> Response:
    user = _admin(request)
    check_origin(request)
    form = await request.form(max_part_size=MAX_BYTES)
    text = await _text_of(form)
    return await run_in_threadpool(_load_sync, request, user, text)


async def _text_of(form: FormData) -> str | None:
    """The uploaded file's text if one was chosen, else the pasted text (None: not UTF-8)."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_BYTES + 1)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    pasted = form.get("text")
    return pasted if isinstance(pasted, str) else ""


def _load_sync(request: Request, user: User, text: str | None) -> Response:
    if text is None or not text.strip() or len(text.encode("utf-8")) > MAX_BYTES:
        title = (
            "文件须为 UTF-8 编码的 TOML 文本"
            if text is None
            else ("请上传文件或粘贴内容" if not (text or "").strip() else "文件过大")
        )
        return prg.refused(request, PATH, {"title": title}, {"text": text or ""})
    rt = runtime(request)
    try:
        result = rt.app.calendars.load(actor(user), text)
    except NoticeError as exc:
        where = f"第 {exc.line} 行：" if exc.line is not None else ""
        error = {"title": "节假日安排文件有误，未载入", "detail": where + exc.zh}
        return prg.refused(request, PATH, error, {"text": text})
    rt.after_write()
    return prg.done(request, PATH, _loaded(result))


def _loaded(result: LoadResult) -> str:
    """The success message of a load (shown on the page the POST redirects to)."""
    v = result.loaded
    if result.recorded:
        off, work = len(result.became_days_off), len(result.became_working_days)
        changed = (f"改为休息日 {off} 天；" if off else "") + (
            f"改为工作日 {work} 天；" if work else ""
        )
        return (
            f"已载入 {v.notice.year} 年节假日安排（第 {v.version} 版，{v.notice.reference}）。"
            f"{changed}此后计算的期限按此执行。"
        )
    return f"内容与 {v.notice.year} 年现行第 {v.version} 版相同，未重复记录。"
