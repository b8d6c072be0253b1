"""Finding: responses with personal data had no ``Cache-Control: no-store``.

Every response but static assets says ``no-store``: case views, lists, histories,
searches, exports, the pages, and the refusals too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import World, case_body
from tests.security.hygiene_support import CASES, page, world_on
from tests.support.factories import SteppingClock

STATS = {"from": "2026-01-01", "to": "2026-06-30", "region": "420100", "group_by": "city"}


@pytest.fixture
def world(database_url: str, clock: SteppingClock) -> Iterator[World]:
    with world_on(database_url, clock) as w:
        yield w


def test_every_api_response_says_no_store(world: World) -> None:
    r = world.post(CASES, case_body(11))
    assert r.status_code == 201
    case_id = r.json()["case_id"]
    answers = {
        "create": r,
        "view": world.get(f"{CASES}/{case_id}"),
        "masked view": world.get(f"{CASES}/{case_id}", who="auditor"),
        "list": world.get(CASES),
        "history": world.get(f"{CASES}/{case_id}/history"),
        "me": world.get("/api/v1/me"),
        "studios": world.get("/api/v1/studios"),
        "caseload": world.get("/api/v1/stats/caseload", who="auditor", params=STATS),
        "csv": world.get("/api/v1/stats/caseload.csv", who="auditor", params=STATS),
        "xlsx": world.get("/api/v1/stats/caseload.xlsx", who="auditor", params=STATS),
        "not found": world.get(f"{CASES}/{case_id}", who="out_clerk"),
        "unauthenticated": world.client.get(f"{CASES}/{case_id}"),
        "refused": world.post(CASES, {"nonsense": 1}),
        "openapi": world.client.get("/openapi.json"),
    }
    for what, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", (what, answer.status_code)


def test_pages_say_no_store_static_assets_may_be_cached(world: World) -> None:
    r = world.post(CASES, case_body(12))
    case_id = r.json()["case_id"]
    for who, path in (
        ("clerk", f"/cases/{case_id}"),
        ("clerk", "/cases"),
        ("clerk", "/clerk"),
        ("auditor", "/dashboard"),
        ("auditor", "/dashboard/caseload.csv?to=2026-06-30"),
    ):
        answer = page(world, who, path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers.get("cache-control") == "no-store", path
    assert world.client.get("/login").headers.get("cache-control") == "no-store"
    css = world.client.get("/static/app.css")
    assert css.status_code == 200 and css.headers.get("cache-control") != "no-store"
