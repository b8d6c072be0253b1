"""Structured (JSON) logs with a request id; never personal data.

Each request gets an id (the caller's ``X-Request-ID`` if it is a short token, otherwise
a fresh one), echoed in the response header and attached to every log record written
while the request runs. The access log names the method, the route *template* (not the
concrete path or query), the status, the duration, the user (username and role), the
client's address and the case id the path names — nothing a party to a dispute could be
identified by (no names, ID numbers or search texts; who read what in full is in the
access audit, ``api.audit``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access_log = logging.getLogger("api.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_of(scope: Scope) -> str:
    """The client's address: as the login limiter resolves it when it can (proxy headers
    believed only from trusted proxies), else the connection's peer. Kept in the scope's
    state, so a request resolves it once."""
    state = scope.setdefault("state", {})
    known = state.get("client")
    if isinstance(known, str):
        return known
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    resolve = getattr(getattr(runtime, "limiter", None), "client_of", None)
    if callable(resolve):
        client = str(resolve(Request(scope)))
    else:
        peer = scope.get("client")
        client = str(peer[0]) if peer else "unknown"
    state["client"] = client
    return client


def _case_id(scope: Scope) -> str | None:
    raw = (scope.get("path_params") or {}).get("case_id")
    try:
        return str(uuid.UUID(str(raw))) if raw is not None else None
    except ValueError:
        return None


def _role(user: object) -> str | None:
    role = getattr(user, "role", None)
    return None if role is None else str(getattr(role, "value", role))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not the one it was
    configured with: a command run inside another process's captured output (tests, an
    embedding tool) must not leave a handler on a stream that was closed after it."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(level: str = "INFO") -> None:
    handler = _CurrentStderr()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class RequestContext:
    """Pure ASGI middleware: request id, access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            state = scope.get("state") or {}
            user = state.get("user")
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": rid,
                            "method": scope.get("method"),
                            "route": getattr(route, "path", "(unmatched)"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "role": state.get("user_role") or _role(user),
                            "user": getattr(user, "username", None),
                            "client": client_of(scope),
                            "case_id": _case_id(scope),
                        }
                    },
                )
            request_id.reset(token)
