"""What the document routes and pages share: the byte store, the PDF engine, the templates,
the verification throttle, and issuing through ``mediation.issuing``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fastapi import Request

from api.documents.render import Templates, TypstEngine
from api.documents.word import docx_bytes
from api.security import LoginLimiter
from mediation.application import CommandContext, MediationApplication
from mediation.case import Case
from mediation.document_store import DocumentFiles, files_of
from mediation.documents import DocumentKind, IssuedDocument
from mediation.issuing import facts_for_reprint, issue_document

_LOCK = threading.Lock()


@dataclass
class Documents:
    app: MediationApplication
    files: DocumentFiles
    engine: TypstEngine
    templates: Templates
    public_url: str
    # GET /verify/{code}: forged codes cost a growing wait per client (the login
    # throttle's mechanism: 5 free misses, then doubling; 60 misses per 15 minutes)
    limiter: LoginLimiter

    def issue(
        self, ctx: CommandContext, case_id: UUID, kind: DocumentKind, on: date
    ) -> tuple[Case, IssuedDocument]:
        return issue_document(
            self.app,
            ctx,
            case_id,
            kind=kind,
            on=on,
            render=self.engine,
            files=self.files,
            verify_base=self.public_url,
        )

    def pdf(self, document: IssuedDocument) -> bytes | None:
        return self.files.pdf(document.sha256)

    def docx(self, case: Case, document: IssuedDocument) -> bytes:
        facts = facts_for_reprint(self.app, case, document, self.public_url)
        return docx_bytes(self.templates, facts)


def documents_of(request: Request) -> Documents:
    """The application's document services (made on first use, one per app)."""
    state = request.app.state
    found: Documents | None = getattr(state, "documents", None)
    if found is not None:
        return found
    with _LOCK:
        found = getattr(state, "documents", None)
        if found is None:
            runtime = state.runtime
            app = runtime.app
            templates = Templates()
            found = Documents(
                app=app,
                files=files_of(app, app.env),
                engine=TypstEngine(templates),
                templates=templates,
                public_url=runtime.settings.public_url,
                limiter=LoginLimiter(
                    free_failures=5,
                    client_limit=60,
                    username_limit=10**9,
                    trusted_proxies=runtime.settings.trusted_proxies,
                ),
            )
            state.documents = found
    return found


def filename(document: IssuedDocument, suffix: str) -> str:
    return f"{document.kind.value}-{str(document.document_id)[:8]}.{suffix}"
