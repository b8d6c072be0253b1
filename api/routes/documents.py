"""Documents (contract v1.1, "The official record"): issue, list, download, verify.

``POST /cases/{id}/documents`` issues one (``mediation.issuing``); the PDF served later is
always the stored bytes, checked against the recorded SHA-256. ``GET /verify/{code}``
needs no login: it tells whether a document with that code was issued, by whom, when,
and its hash — nothing personal — and throttles a client that tries forged codes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.deps import Access, AccessDep, ContextDep, RuntimeDep, action
from api.documents.service import documents_of, filename
from api.errors import ApiError, forbidden, not_found, problem
from api.routes.common import etag_header, json_response
from api.schemas import Request as RequestBody
from mediation import labels
from mediation.case import Case
from mediation.documents import MEDIATOR_KINDS, DocumentKind, IssuedDocument
from mediation.errors import NotFound
from mediation.issuing import document_of, normal_code
from mediation.values import Role

router = APIRouter(prefix="/api/v1/cases", tags=["documents"])
verify_router = APIRouter(tags=["documents"])

CaseId = Annotated[str, "case id (UUID)"]


class DocumentIssue(RequestBody):
    kind: DocumentKind
    on: date = Field(description="the issue date (the business date printed on it)")


class DocumentOut(BaseModel):
    document_id: UUID
    kind: DocumentKind
    number: str = Field(description="the document's 文号, e.g. 鄂武劳人仲建字〔2026〕第1号")
    issued_on: date
    sha256: str = Field(description="SHA-256 (hex) of the PDF's exact bytes")
    pages: int
    title: str = Field(description="the kind's Chinese title")
    issuing_body: str
    issued_by: str = Field(description="the user who issued it")
    verification_code: str = Field(description="printed with the QR code; GET /verify/{code}")
    pdf: str = Field(description="path of the PDF (the record)")
    docx: str = Field(description="path of the DOCX (for editing)")


class DocumentList(BaseModel):
    case_id: UUID
    items: list[DocumentOut]


class VerifyOut(BaseModel):
    found: bool
    verification_code: str
    kind: DocumentKind
    title: str
    number: str
    issuing_body: str
    issued_on: date
    sha256: str


def document_out(case: Case, d: IssuedDocument) -> DocumentOut:
    base = f"/api/v1/cases/{case.id}/documents/{d.document_id}"
    return DocumentOut(
        document_id=d.document_id,
        kind=d.kind,
        number=d.number,
        issued_on=d.issued_on,
        sha256=d.sha256,
        pages=d.pages,
        title=labels.label(labels.DOCUMENT_KIND, d.kind),
        issuing_body=d.issuing_body,
        issued_by=d.issued_by,
        verification_code=d.verification_code,
        pdf=base + ".pdf",
        docx=base + ".docx",
    )


def require_kind_for_role(access: Access, kind: DocumentKind) -> None:
    """A mediator issues only the studio's own documents (contract v1.1)."""
    if access.user.role is Role.MEDIATOR and kind not in MEDIATOR_KINDS:
        raise forbidden(f"a mediator may not issue a {kind.value}")


def _document(access: Access, raw: str) -> IssuedDocument:
    assert access.case is not None
    try:
        return document_of(access.case, UUID(raw))
    except (ValueError, NotFound):
        raise not_found("no such document") from None


def pdf_response(body: bytes, d: IssuedDocument) -> Response:
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename(d, "pdf")}"',
            "X-Content-SHA256": d.sha256,
        },
    )


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_response(body: bytes, d: IssuedDocument) -> Response:
    return Response(
        body,
        media_type=DOCX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename(d, "docx")}"'},
    )


@router.post(
    "/{case_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    responses={201: {"description": "the issued document", "headers": etag_header()}},
    summary="Issue a document (clerk; the case's mediator: agreement, ended notice)",
    openapi_extra=action("case.document_issue"),
)
def issue(
    case_id: CaseId,
    body: DocumentIssue,
    request: Request,
    access: AccessDep,
    ctx: ContextDep,
    runtime: RuntimeDep,
) -> Response:
    require_kind_for_role(access, body.kind)
    assert access.case is not None
    case, document = documents_of(request).issue(ctx, access.case.id, body.kind, body.on)
    runtime.after_write()
    return json_response(document_out(case, document), 201, etag=case.version)


@router.get(
    "/{case_id}/documents",
    response_model=DocumentList,
    summary="The documents issued for a case",
    openapi_extra=action("case.documents"),
)
def list_documents(case_id: CaseId, access: AccessDep) -> Response:
    case = access.case
    assert case is not None
    items = [document_out(case, d) for d in case.documents]
    return json_response(DocumentList(case_id=case.id, items=items), etag=case.version)


@router.get(
    "/{case_id}/documents/{document_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the issued bytes"}},
    summary="The document as issued (PDF; its SHA-256 is the recorded one)",
    openapi_extra=action("case.document_read"),
)
def read_pdf(case_id: CaseId, document_id: str, request: Request, access: AccessDep) -> Response:
    d = _document(access, document_id)
    body = documents_of(request).pdf(d)
    if body is None:  # recorded but its bytes are gone: never a re-rendering
        raise ApiError(
            410, "document_bytes_missing", "Gone", "the document's bytes are not kept any more"
        )
    return pdf_response(body, d)


@router.get(
    "/{case_id}/documents/{document_id}.docx",
    response_class=Response,
    responses={200: {"content": {DOCX_TYPE: {}}, "description": "an editable copy"}},
    summary="The document for editing (DOCX, from the facts it was issued from)",
    openapi_extra=action("case.document_read"),
)
def read_docx(case_id: CaseId, document_id: str, request: Request, access: AccessDep) -> Response:
    d = _document(access, document_id)
    assert access.case is not None
    return docx_response(documents_of(request).docx(access.case, d), d)


# ---------------------------------------------------------------------- verification


def verified(request: Request, raw_code: str) -> VerifyOut | None:
    """The issued document with this code, or None (forged, mistyped, or never recorded)."""
    code = normal_code(raw_code)
    if code is None:
        return None
    docs = documents_of(request)
    record = docs.files.by_code(code)
    if record is None:
        return None
    try:  # the bytes' row alone proves nothing: the case must have recorded the document
        case = docs.app.get_case(record.case_id)
        d = document_of(case, record.document_id)
    except NotFound:
        return None
    if d.sha256 != record.sha256:
        return None
    return VerifyOut(
        found=True,
        verification_code=d.verification_code,
        kind=d.kind,
        title=labels.label(labels.DOCUMENT_KIND, d.kind),
        number=d.number,
        issuing_body=d.issuing_body,
        issued_on=d.issued_on,
        sha256=d.sha256,
    )


def throttled(request: Request) -> tuple[str, int | None]:
    limiter = documents_of(request).limiter
    client = limiter.client_of(request)
    return client, limiter.retry_after("verify", client)


@verify_router.get(
    "/verify/{code}",
    response_model=VerifyOut,
    summary="Check a document's verification code (no login; rate-limited)",
    responses={
        404: {"description": "no document was issued with this code (`not_found`)"},
        429: {"description": "too many unknown codes from this client (`too_many_attempts`)"},
    },
)
def verify(code: str, request: Request) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    client, wait = throttled(request)
    if wait is not None:
        if not wants_json:
            return _verify_page(request, None, code, 429)
        return problem(
            429,
            "too_many_attempts",
            "Too many attempts",
            "too many unknown codes from this address; try again later",
            headers={"Retry-After": str(wait)},
        )
    found = verified(request, code[:64])
    if found is None:
        documents_of(request).limiter.failed("verify", client)
    if not wants_json:
        return _verify_page(request, found, code[:64], 200 if found else 404)
    if found is None:
        return problem(404, "not_found", "Not found", "no document was issued with this code")
    return json_response(found)


def _verify_page(request: Request, found: VerifyOut | None, code: str, status: int) -> Response:
    from api.pages.common import render

    return render(
        request,
        "verify.html",
        {"found": found, "code": code, "throttled": status == 429},
        status=status,
    )
