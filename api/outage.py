"""Answer 503 at once while PostgreSQL is down, instead of letting requests wait for it.

The event store library retries a failed read or write up to ten times, each waiting up
to ``POSTGRES_CONNECT_TIMEOUT`` for a connection: a request that meets an outage can stall
for most of a minute before its 503. This gate pings the database (``SELECT 1`` on the
users store's pool, which fails at once when the server is gone) at most every
``interval`` seconds, only when requests arrive; while the last ping failed, every request
(except ``/healthz``, the API documents and static files) is answered 503
``service_unavailable`` with ``Retry-After`` without touching the store. The first ping
that succeeds opens the gate again: the process recovers by itself. Requests already
inside the store when the outage starts either complete once the database is back or
end in the same 503 (``api.errors``). SQLite files have no outages: no gate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import OUTAGE, problem

log = logging.getLogger("api.outage")

EXEMPT = ("/healthz", "/openapi.json", "/docs", "/redoc", "/static/", "/favicon")


class DatabaseGate:
    def __init__(
        self,
        app: ASGIApp,
        ping: Callable[[], None],
        *,
        enabled: bool = True,
        interval: float = 0.5,
    ) -> None:
        self.app = app
        self.ping = ping
        self.enabled = enabled
        self.interval = interval
        self.up = True
        self._checked_at = float("-inf")
        self._checking = False

    def _reachable(self) -> bool:
        try:
            self.ping()
        except OUTAGE as error:
            if self.up:
                log.error("database unreachable (%s): answering 503", type(error).__name__)
            return False
        if not self.up:
            log.warning("database reachable again")
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        if not self._checking and time.monotonic() - self._checked_at >= self.interval:
            self._checking = True  # one ping at a time; other requests use the last result
            try:
                self.up = await run_in_threadpool(self._reachable)
            finally:
                self._checked_at = time.monotonic()
                self._checking = False
        if self.up:
            await self.app(scope, receive, send)
            return
        response = problem(
            503,
            "service_unavailable",
            "The database is unavailable",
            "the case store cannot be reached; retry shortly",
            headers={"Retry-After": "5"},
        )
        await response(scope, receive, send)
