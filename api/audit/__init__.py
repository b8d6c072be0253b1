"""The access audit: every answered read of a case, its history or documents, every list,
search and export, recorded append-only (:mod:`api.audit.store`) before the answer leaves
(:mod:`api.audit.recorder`); the daily unusual-reading view (:mod:`api.audit.unusual`).
Served by ``api.routes.audit`` and the auditor's page ``api.pages.audit``.
"""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import FastAPI

from api.audit.recorder import AccessAudit
from api.audit.store import AccessAuditStore
from api.audit.unusual import ReadingPolicy
from api.deps import Runtime
from api.errors import OUTAGE
from mediation.errors import NotFound

log = logging.getLogger("api.audit")

__all__ = ["install"]


def install(app: FastAPI, runtime: Runtime) -> AccessAuditStore:
    """The audit table (created if missing), the recording middleware and the API routes."""
    from api.routes import audit as audit_routes

    store = AccessAuditStore(runtime.users.engine, runtime.users.metadata.schema)
    try:
        store.ensure_table()
    except OUTAGE:  # created on the first write once the database is back
        log.warning("access audit table not reachable at startup")

    def case_region(case_id: UUID) -> str | None:
        try:
            return runtime.app.get_case(case_id).region_code
        except NotFound:
            return None

    app.state.audit = store
    app.state.reading_policy = ReadingPolicy()
    app.add_middleware(AccessAudit, store=store, clock=runtime.app.clock, case_region=case_region)
    app.include_router(audit_routes.router)
    return store
