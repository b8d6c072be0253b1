"""Structured logs carry a request id and no personal data; the demo users work."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from api.cli import DEMO_PASSWORD, load_demo
from api.logs import JsonFormatter
from tests.api.conftest import World, case_body


def test_access_log_is_json_with_request_id_and_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = case_body()
    r = world.post("/api/v1/cases", body, headers={"X-Request-ID": "req-42"})
    assert r.status_code == 201
    world.get(f"/api/v1/cases/{r.json()['case_id']}", who="auditor")
    lines = [JsonFormatter().format(rec) for rec in caplog.records if rec.name.startswith("api")]
    access = [json.loads(line) for line in lines if '"api.access"' in line]
    assert any(a["request_id"] == "req-42" and a["status"] == 201 for a in access)
    assert all(a["route"].startswith("/api/v1/cases") for a in access)
    text = "\n".join(lines)
    for secret in (
        body["applicant"]["name"],
        body["applicant"]["id_number"],
        body["applicant"]["phone"],
    ):
        assert secret not in text
    # the case id, the user and the client are named (tests/security/test_access_audit.py)
    read = [a for a in access if a["route"] == "/api/v1/cases/{case_id}"]
    assert [(a["user"], a["case_id"]) for a in read] == [("auditor", r.json()["case_id"])]


def test_demo_loads_and_prints_users(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = world.app.state.runtime
    load_demo(world.system, runtime.users, cases=12, seed=5)
    out = capsys.readouterr().out
    assert "demo-clerk" in out and DEMO_PASSWORD in out
    r = world.client.post(
        "/api/v1/auth/token", data={"username": "demo-clerk", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "clerk"
    mediator = runtime.users.get("demo-mediator")
    assert mediator is not None and mediator.mediator_id is not None
    assert runtime.users.get("demo-auditor").region_code == "420000"  # type: ignore[union-attr]


def test_cli_help_lists_the_commands() -> None:
    from api.cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "users"):
        assert command in result.output
