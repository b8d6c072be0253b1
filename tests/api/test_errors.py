"""Every error is problem+json; unknown routes, wrong methods, bad input; health; outage."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from api.app import create_app
from mediation.settings import Settings
from projections.system import System
from tests.api.conftest import SECRET, World

PROBLEM = "application/problem+json"


def _is_problem(r: object, status: int, code: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return dict(body)


def test_unknown_route_wrong_method_and_malformed_input(world: World) -> None:
    _is_problem(world.get("/api/v1/nothing-here"), 404, "not_found")
    _is_problem(
        world.client.delete("/api/v1/cases", headers=world.h("clerk")), 405, "method_not_allowed"
    )
    r = world.client.post(
        "/api/v1/cases",
        content=b"\xff\xfe",
        headers={**world.h("clerk"), "Content-Type": "application/json"},
    )
    _is_problem(r, 422, "validation_error")
    r = world.client.post(
        "/api/v1/cases",
        content=b"[1,2",
        headers={**world.h("clerk"), "Content-Type": "application/json"},
    )
    body = _is_problem(r, 422, "validation_error")
    assert "field" in body
    r = world.client.post(
        "/api/v1/cases",
        content=b"hello",
        headers={**world.h("clerk"), "Content-Type": "text/plain"},
    )
    _is_problem(r, 422, "validation_error")
    _is_problem(world.post("/api/v1/cases", None), 422, "validation_error")
    _is_problem(world.post("/api/v1/cases", [1, 2, 3]), 422, "validation_error")
    _is_problem(world.get("/api/v1/cases/%00"), 404, "not_found")
    _is_problem(world.get("/api/v1/cases", params={"status": "asleep"}), 422, "validation_error")
    _is_problem(world.get("/api/v1/stats/caseload", params={"from": "x"}), 422)
    r = world.post("/api/v1/cases", {"region_code": "420102", "received_on": "0001-01-01"})
    _is_problem(r, 422, "validation_error")
    r = world.client.post(
        "/api/v1/cases", json={}, headers={**world.h("clerk"), "Idempotency-Key": "key with spaces"}
    )
    assert r.status_code == 422


def test_request_id_header(world: World) -> None:
    r = world.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = world.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


def test_health_and_readiness(world: World) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok"}
    r = world.client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["projection_lag"] == 0 and body["position"] > 0


def test_openapi_describes_every_route_and_problem(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    ops = [(p, m, op) for p, item in doc["paths"].items() for m, op in item.items()]
    assert len(ops) >= 30
    for path, method, op in ops:
        if path == "/healthz":
            continue
        assert "422" in op["responses"], (path, method)
        content = op["responses"]["422"]["content"]
        assert list(content) == [PROBLEM], (path, method)
        if "x-action" in op:
            assert {"401", "403", "404"} <= set(op["responses"]), (path, method)
    for required in (
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/history",
        "/api/v1/cases/{case_id}/statement/retraction",
        "/api/v1/studios",
        "/api/v1/studios/{studio_id}/mediators/{mediator_id}/retirement",
        "/api/v1/stats/caseload",
        "/api/v1/stats/caseload.csv",
        "/api/v1/stats/caseload.xlsx",
        "/api/v1/stats/caseload/cases",
        "/api/v1/stats/subsidies",
        "/healthz",
        "/readyz",
    ):
        assert required in doc["paths"], required


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_database_outage_is_503_with_retry_after(system: System) -> None:
    """The users' database is unreachable: login and readiness answer 503, not a trace."""
    dead = f"postgresql://postgres@127.0.0.1:{_dead_port()}/nowhere"
    settings = Settings(database_url=dead, secret_key=SECRET)

    class Elsewhere:
        """The real system, but its database URL points at a closed port."""

        app = system.app
        engine = system.engine
        database_url = dead

        def catch_up(self) -> int:
            return system.catch_up()

        def wait_for(self, position: int, timeout: float = 5.0) -> None:
            system.wait_for(position, timeout)

        def lag(self) -> int:
            return system.lag()

        def close(self) -> None:
            pass

        def today(self):  # type: ignore[no-untyped-def]
            return system.today()

    app = create_app(Elsewhere(), settings)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/auth/token", data={"username": "a", "password": "b"})
        _is_problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == "5"
        _is_problem(client.get("/readyz"), 503, "service_unavailable")
