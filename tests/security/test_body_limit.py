"""Finding: an unauthenticated 150 MB POST pushed the server to 600 MB before its 401.

A body over ``MEDIATION_MAX_BODY_BYTES`` is refused with 413 ``payload_too_large`` before
authentication: at once when its ``Content-Length`` says so (nothing of it is read), and
after at most the limit (plus one chunk) when it streams without one. The tests drive the
ASGI application directly, so that they can count what the server pulled of the body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.conftest import World, case_body
from tests.security.hygiene_support import CASES, world_on
from tests.support.factories import SteppingClock

LIMIT = 64 * 1024
CHUNK = 16 * 1024


@pytest.fixture
def world(database_url: str, clock: SteppingClock) -> Iterator[World]:
    with world_on(database_url, clock, max_body_bytes=LIMIT) as w:
        yield w


class Sent:
    """What the application answered, and how much of the body it pulled."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.pulled = 0

    def json(self) -> Any:
        return json.loads(self.body)


def _call(
    app: FastAPI,
    path: str,
    total: int,
    *,
    declared: int | None,
    headers: dict[str, str] | None = None,
) -> Sent:
    """POST ``total`` bytes of body (JSON, or a form to the login paths) in chunks."""
    out = Sent()
    form = path in ("/api/v1/auth/token", "/login")
    kind = b"application/x-www-form-urlencoded" if form else b"application/json"
    raw = [(b"content-type", kind), (b"host", b"testserver")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if declared is not None:
        raw.append((b"content-length", str(declared).encode()))
    else:
        raw.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("192.0.2.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        if out.pulled >= total:
            await asyncio.sleep(3600)  # a client that sends nothing more
        size = min(CHUNK, total - out.pulled)
        out.pulled += size
        return {"type": "http.request", "body": b"a" * size, "more_body": out.pulled < total}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out.status = message["status"]
            out.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out.body += message.get("body", b"")

    # in a thread of its own: a test that ran before (Playwright's sync API) may have left
    # an event loop running in this one, where asyncio.run() is refused
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(app(scope, receive, send), timeout=30)).result()
    return out


def _too_large(sent: Sent) -> None:
    assert sent.status == 413, sent.body[:300]
    assert sent.headers["content-type"] == "application/problem+json"
    assert sent.json()["code"] == "payload_too_large"


def test_a_declared_huge_body_is_refused_before_authentication_unread(world: World) -> None:
    sent = _call(world.app, CASES, 150 * 1024 * 1024, declared=150 * 1024 * 1024)
    _too_large(sent)  # not 401: nothing but the header was looked at
    assert sent.pulled == 0


def test_a_streamed_huge_body_is_cut_off_at_the_limit(world: World) -> None:
    total = 150 * 1024 * 1024
    for path in (CASES, "/api/v1/auth/token", "/login"):
        sent = _call(world.app, path, total, declared=None)
        _too_large(sent)
        assert sent.pulled <= LIMIT + CHUNK, (path, sent.pulled)


def test_a_streamed_huge_body_with_credentials_is_refused_too(world: World) -> None:
    auth = {"Authorization": f"Bearer {world.tokens['clerk']}"}
    sent = _call(world.app, CASES, 10 * 1024 * 1024, declared=None, headers=auth)
    _too_large(sent)
    assert sent.pulled <= LIMIT + CHUNK


def test_bodies_within_the_limit_work(world: World) -> None:
    r = world.post(CASES, case_body(3))
    assert r.status_code == 201, r.text
    r = world.client.post(CASES, content=b" " * (LIMIT + 1), headers=world.h("clerk"))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    r = world.client.post(CASES, content=b" " * LIMIT, headers=world.h("clerk"))
    assert r.status_code == 422  # read, and found not to be JSON


def test_the_default_limit_is_one_mebibyte(database_url: str, clock: SteppingClock) -> None:
    with world_on(database_url, clock) as w:
        sent = _call(w.app, CASES, 1024 * 1024 + 1, declared=1024 * 1024 + 1)
        _too_large(sent)
        r = w.client.post(CASES, content=b" " * (512 * 1024), headers=w.h("clerk"))
        assert r.status_code == 422


def test_the_openapi_document_names_the_413(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    for path, method in ((CASES, "post"), ("/api/v1/auth/token", "post")):
        assert "413" in paths[path][method]["responses"], path
    assert "413" not in paths[CASES]["get"]["responses"]
