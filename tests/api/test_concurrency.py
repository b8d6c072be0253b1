"""Two clients racing one command with the same If-Match; the same Idempotency-Key twice."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World, case_body


def _race(world: World, path: str, bodies: list[Any], headers: list[dict[str, str]]) -> list[Any]:
    barrier = threading.Barrier(len(bodies))
    results: list[Any] = [None] * len(bodies)

    def go(i: int) -> None:
        with TestClient(world.app) as client:
            barrier.wait()
            results[i] = client.post(path, json=bodies[i], headers=headers[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_if_match_one_wins_one_conflicts_one_event(world: World) -> None:
    created = world.post("/api/v1/cases", case_body()).json()
    case_id = created["case_id"]
    before = world.events()
    path = f"/api/v1/cases/{case_id}/assessment"
    body = {
        "within_scope": True,
        "meets_acceptance_conditions": True,
        "suitable_for_mediation": True,
        "reason": "r",
        "on": "2026-03-03",
    }
    headers = {**world.h("clerk"), "If-Match": f'"{created["version"]}"'}
    for round_ in range(3):
        results = _race(world, path, [body, {**body, "reason": "other"}], [headers, headers])
        statuses = sorted(r.status_code for r in results)
        if round_ == 0:
            assert statuses == [200, 409], [r.text for r in results]
            loser = next(r for r in results if r.status_code == 409)
            assert loser.json()["code"] == "version_conflict"
        else:  # the version moved on: both are stale now
            assert statuses == [409, 409]
    assert world.events() == before + 1
    history = world.get(f"/api/v1/cases/{case_id}/history").json()["events"]
    assert [e["type"] for e in history] == ["Received", "Numbered", "Assessed"]


def test_same_idempotency_key_twice_concurrently_records_one_event(world: World) -> None:
    case_id = world.post("/api/v1/cases", case_body()).json()["case_id"]
    path = f"/api/v1/cases/{case_id}/consents"
    body = {"party": "applicant", "given": True, "on": "2026-03-03"}
    headers = {**world.h("clerk"), "Idempotency-Key": "consent-applicant-1"}
    results = _race(world, path, [body, body], [headers, headers])
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    assert results[0].json() == results[1].json()
    again = world.post(path, body, headers={"Idempotency-Key": "consent-applicant-1"})
    assert again.status_code == 200 and again.json()["version"] == 3
    history = world.get(f"/api/v1/cases/{case_id}/history").json()["events"]
    assert [e["type"] for e in history] == ["Received", "Numbered", "ConsentRecorded"]
