"""Record every answered read of personal data before the answer leaves.

A pure ASGI middleware. When a ``GET`` on one of the routes of :data:`AUDITED` (JSON API
or web page) is about to answer 2xx, it writes one :class:`~api.audit.store.AccessRecord`
— one INSERT, committed — and only then lets the response start. If the write fails, the
reader gets 503 ``service_unavailable`` instead of the data: no read is answered without
its record. Refused requests (401, 403, 404, 422) read nothing and are not recorded here.

Who: the user the route authenticated (``request.state.user``, set by ``api.deps`` and
``api.pages.common``). What: the case id of the path (filed under the case's region, which
the route noted as ``request.state.case_region`` when it loaded the case), or for lists,
searches and exports the query parameters (a search text masked, see :func:`masked_query`),
filed under the region the query was scoped to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit.store import AccessAuditStore, AccessRecord
from api.errors import problem
from api.logs import client_of, request_id
from mediation.identifiers import (
    mask_name,
    mask_resident_id,
    validate_credit_code,
    validate_resident_id,
)

log = logging.getLogger("api.audit")

# route template → action. Pages and API alike; a route that shows a case or lists cases
# belongs here (tests/security/test_access_audit.py checks every GET route that names a case)
CASE_READ, CASE_HISTORY, CASE_LIST, DOCUMENT_LIST, DOCUMENT_READ, EXPORT = (
    "case.read",
    "case.history",
    "case.list",
    "document.list",
    "document.read",
    "export",
)
AUDITED: dict[str, str] = {
    "/api/v1/cases": CASE_LIST,
    "/api/v1/cases/{case_id}": CASE_READ,
    "/api/v1/cases/{case_id}/history": CASE_HISTORY,
    "/api/v1/cases/{case_id}/documents": DOCUMENT_LIST,
    "/api/v1/cases/{case_id}/documents/{document_id}.pdf": DOCUMENT_READ,
    "/api/v1/cases/{case_id}/documents/{document_id}.docx": DOCUMENT_READ,
    "/api/v1/stats/caseload/cases": CASE_LIST,
    "/api/v1/stats/caseload.csv": EXPORT,
    "/api/v1/stats/caseload.xlsx": EXPORT,
    "/cases": CASE_LIST,
    "/cases/{case_id}": CASE_READ,  # the page shows the case with its history
    "/cases/{case_id}/documents/{document_id}.pdf": DOCUMENT_READ,
    "/cases/{case_id}/documents/{document_id}.docx": DOCUMENT_READ,
    "/clerk": CASE_LIST,  # the work queues list cases with their parties
    "/queue": CASE_LIST,
    "/roster": CASE_LIST,
    "/dashboard": CASE_LIST,  # it lists the current overdue cases
    "/dashboard/cases": CASE_LIST,
    "/dashboard/caseload.csv": EXPORT,
    "/dashboard/caseload.xlsx": EXPORT,
    "/subsidies/{kind}.{ext}": EXPORT,  # a subsidy statement (names of mediators)
}
ACTIONS = (CASE_READ, CASE_HISTORY, CASE_LIST, DOCUMENT_LIST, DOCUMENT_READ, EXPORT)

_REGION = re.compile(r"^[0-9]{6}$")
_UUID_TEXT = re.compile(r"^[0-9a-fA-F-]{32,36}$")
_DIGITS = re.compile(r"^[0-9Xx]+$")
_CASE_NUMBER = re.compile(r"〔[0-9]{4}〕第[0-9]+号$")
SKIPPED = frozenset({"cursor", "limit", "done"})


def masked_search(text: str) -> str:
    """A search text as the audit keeps it: case ids, case numbers and credit codes as
    typed; anything else (a name, an ID or phone number) masked like an auditor's view.

    The audit table can never be rewritten, so it must not hold what erasure would have
    to remove."""
    t = text.strip()
    if _UUID_TEXT.match(t) or _CASE_NUMBER.search(t) or (_is_credit_code(t) and not _is_id(t)):
        return t
    if _DIGITS.match(t):
        return mask_resident_id(t)
    return mask_name(t)


def _is_id(text: str) -> bool:
    try:
        validate_resident_id(text)
    except ValueError:
        return False
    return True


def _is_credit_code(text: str) -> bool:
    try:
        validate_credit_code(text)
    except ValueError:
        return False
    return True


def masked_query(params: list[tuple[str, str]]) -> str | None:
    """The query parameters as ``k=v&...`` in their order (paging parameters left out)."""
    parts = [f"{k}={masked_search(v) if k == 'q' else v}" for k, v in params if k not in SKIPPED]
    return "&".join(parts) if parts else None


def _case_id(raw: object) -> str | None:
    try:
        return str(UUID(str(raw)))
    except ValueError:
        return None


class AccessAudit:
    """See the module docstring. ``case_region`` looks a case's region up when the route
    did not note it (a route added without the note still files its reads correctly)."""

    def __init__(
        self,
        app: ASGIApp,
        store: AccessAuditStore,
        clock: Callable[[], datetime],
        case_region: Callable[[UUID], str | None],
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.case_region = case_region

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_after_record(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                action = AUDITED.get(getattr(scope.get("route"), "path", ""))
                if action is not None:
                    try:
                        await run_in_threadpool(self._record, scope, action)
                    except Exception:
                        log.exception("access audit write failed: read not answered")
                        refused = True
                        await _unavailable(scope, receive, send)
                        return
            elif refused:
                return
            await send(message)

        await self.app(scope, receive, send_after_record)

    def _record(self, scope: Scope, action: str) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        user = state.get("user")
        route = getattr(scope.get("route"), "path", "")
        case_id = _case_id((scope.get("path_params") or {}).get("case_id"))
        params = parse_qsl(
            scope.get("query_string", b"").decode("latin-1"), keep_blank_values=False
        )
        user_region = str(getattr(user, "region_code", "")) if user is not None else ""
        if case_id is not None:
            region = state.get("case_region") or self.case_region(UUID(case_id))
            query = None
        else:
            asked = dict(params).get("region", "")
            region = asked if _REGION.match(asked) else user_region
            query = masked_query(params)
        if not region:
            raise RuntimeError(f"no region to file the read of {route} under")
        role = getattr(user, "role", None)
        self.store.append(
            AccessRecord(
                at=self.clock(),
                username=str(getattr(user, "username", "(anonymous)")),
                role=str(getattr(role, "value", role or "")),
                region_code=str(region),
                client=client_of(scope),
                action=action,
                route=f"GET {route}",
                case_id=case_id,
                query=query,
                request_id=request_id.get(),
            )
        )


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        503,
        "service_unavailable",
        "The access audit is unavailable",
        "the read could not be recorded, so it is not answered; retry shortly",
        headers={"Retry-After": "5"},
    )
    await response(scope, receive, send)
