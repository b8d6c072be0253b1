"""The case page's 文书 section: issue a document from a form, download PDF and DOCX."""

from __future__ import annotations

import re
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from api.documents.service import documents_of
from api.errors import ApiError
from api.pages import forms as F
from api.pages import prg
from api.pages.cases import load_case
from api.pages.common import PageError, actor, check_origin, from_api_error, page_user, refusal
from api.routes.documents import docx_response, pdf_response, require_kind_for_role
from api.users import User
from mediation import labels as L
from mediation.application import CommandContext
from mediation.documents import DocumentKind, IssuedDocument
from mediation.errors import DomainError, NotFound
from mediation.issuing import document_of

router = APIRouter()


@router.post("/cases/{case_id}/documents", include_in_schema=False)
async def issue(request: Request, case_id: str) -> Response:
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_issue_sync, request, user, case_id, form)


def _issue_sync(request: Request, user: User, case_id: str, form: FormData) -> Response:
    case = load_case(request, user, case_id, "case.document_issue")
    key = F.text(form, "form_key", required=False)
    ctx = CommandContext(
        actor(user),
        idempotency_key=f"web-doc-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else None,
    )
    try:
        kind = F.choice(form, "kind", DocumentKind)
        try:
            require_kind_for_role_of(user, kind)
        except ApiError as exc:
            raise from_api_error(exc) from None
        documents_of(request).issue(ctx, case.id, kind, F.day(form, "on"))
    except DomainError as exc:
        errors = F.problems(exc)
        return prg.refused(
            request,
            f"/cases/{case.id}",
            refusal(exc),
            F.values_of(form),
            open_form="document",
            errors=errors,
        )
    return prg.done(request, f"/cases/{case.id}#documents", L.message("done", what="出具文书"))


def require_kind_for_role_of(user: User, kind: DocumentKind) -> None:
    from api.deps import Access

    require_kind_for_role(Access(user, "case.document_issue"), kind)


def _document(request: Request, case_id: str, document_id: str) -> IssuedDocument:
    user = page_user(request)
    case = load_case(request, user, case_id, "case.document_read")
    try:
        return document_of(case, UUID(document_id))
    except (ValueError, NotFound):
        raise PageError(404, "未找到该文书") from None


@router.get("/cases/{case_id}/documents/{document_id}.pdf", include_in_schema=False)
def download_pdf(request: Request, case_id: str, document_id: str) -> Response:
    d = _document(request, case_id, document_id)
    body = documents_of(request).pdf(d)
    if body is None:
        raise PageError(410, "该文书的文件已不再保存")
    return pdf_response(body, d)


@router.get("/cases/{case_id}/documents/{document_id}.docx", include_in_schema=False)
def download_docx(request: Request, case_id: str, document_id: str) -> Response:
    d = _document(request, case_id, document_id)
    case = documents_of(request).app.get_case(UUID(case_id))
    return docx_response(documents_of(request).docx(case, d), d)
