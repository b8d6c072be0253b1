"""Finding: names of NULs, zero-width characters only, RTL overrides or ANSI escapes were
stored; on PostgreSQL a NUL in a mediator's name halted the organisation read model for good.

Every text field of every request (JSON bodies and the web forms) refuses them with 422
``validation_error`` naming the field, and nothing is recorded; the domain refuses them as
well (the importer and any other caller). Should one be stored anyway (an event recorded
before this rule), the read model writes it and goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from mediation.errors import ValidationFailed
from mediation.organisation import Studio
from projections.sql import organisation_tables
from tests.api.conftest import World, case_body
from tests.security.hygiene_support import CASES, case_in_mediation, page, world_on
from tests.support.factories import ADMIN, SteppingClock

BAD = {
    "nul": "王\x00调解",
    "zero_width_only": "\u200b\u200c\u200d\ufeff",
    "blank_only": " \u3000 ",
    "rtl_override": "张三\u202egpj.exe",
    "bidi_isolate": "\u2067李四\u2069",
    "ansi_escape": "\x1b[2J\x1b[31m王五",
    "c1_control": "赵六\x85",
    "backspace": "admin\x08\x08\x08\x08\x08张三",
    "tag_characters": "张三\U000e0041\U000e0042",
}


@pytest.fixture
def world(database_url: str, clock: SteppingClock) -> Iterator[World]:
    with world_on(database_url, clock) as w:
        yield w


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error" and body["field"] == field, body


@pytest.mark.parametrize("kind", list(BAD))
def test_case_party_names_refused(world: World, kind: str) -> None:
    before = world.events()
    body = case_body(2)
    body["applicant"]["name"] = BAD[kind]
    _refused(world.post(CASES, body), "applicant.name")
    body = case_body(2)
    body["respondent"]["name"] = BAD[kind]
    _refused(world.post(CASES, body), "respondent.name")
    assert world.events() == before


@pytest.mark.parametrize("kind", list(BAD))
def test_studio_and_mediator_names_refused(world: World, kind: str) -> None:
    before = world.events()
    studio = {"region_code": "420100", "kind": "docking_studio", "established_on": "2025-06-01"}
    _refused(world.post("/api/v1/studios", {**studio, "name": BAD[kind]}, who="admin"), "name")
    mediator = {"name": BAD[kind], "qualification": "lawyer", "appointed_on": "2025-06-01"}
    r = world.post(f"/api/v1/studios/{world.studio_id}/mediators", mediator, who="admin")
    _refused(r, "name")
    assert world.events() == before


def test_free_text_of_commands_refused_but_line_breaks_kept(world: World) -> None:
    case_id = case_in_mediation(world, case_body(4), str(world.studio_id), str(world.mediator_id))
    path = f"{CASES}/{case_id}/sessions"
    for bad in (BAD["nul"], BAD["ansi_escape"], BAD["rtl_override"], "\u200b"):
        r = world.post(path, {"held_on": "2026-03-06", "summary": bad}, who="mediator")
        _refused(r, "summary")
    summary = "第一次调解：\r\n双方到场。\n\t申请人坚持请求。"
    r = world.post(path, {"held_on": "2026-03-06", "summary": summary}, who="mediator")
    assert r.status_code == 200, r.text
    statement = f"{CASES}/{case_id}/statement"
    r = world.post(statement, {"issued_on": "2026-03-07", "number": "武劳\n仲字第1号"})
    _refused(r, "number")  # one-line fields take no line break


def test_joiners_inside_visible_text_are_kept(world: World) -> None:
    body = case_body(5)
    body["applicant"]["name"] = "阿依古丽\u200d·买买提"
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text
    assert r.json()["applicant"]["name"] == "阿依古丽\u200d·买买提"


@pytest.mark.parametrize("kind", ["nul", "zero_width_only", "rtl_override", "ansi_escape"])
def test_web_forms_refuse_them_too(world: World, kind: str) -> None:
    before = world.events()
    r = page(
        world,
        "coordinator",
        f"/roster/{world.studio_id}/appoint",
        {"name": BAD[kind], "qualification": "lawyer", "appointed_on": "2026-03-02"},
    )
    assert r.status_code == 200 and 'class="refusal"' in r.text
    form = {
        "region_code": "420102",
        "received_on": "2026-03-02",
        "applicant.name": BAD[kind],
        "applicant.id_number": case_body(6)["applicant"]["id_number"],
        "applicant.phone": "13800138000",
        "applicant.worker_category": "employee",
        "respondent.name": "武汉某某物流有限公司",
        "respondent.credit_code": case_body(6)["respondent"]["credit_code"],
        "claims.0.category": "remuneration",
        "claims.0.amount": "100.00",
    }
    r = page(world, "clerk", "/cases/new", form)
    assert r.status_code == 200 and 'class="refusal"' in r.text
    assert world.events() == before


def test_the_domain_refuses_them_whoever_calls(world: World) -> None:
    for bad in (BAD["nul"], BAD["zero_width_only"], BAD["rtl_override"]):
        with pytest.raises(ValidationFailed) as refused:
            world.system.app.appoint_mediator(
                ADMIN,
                world.studio_id,
                name=bad,
                qualification="lawyer",
                appointed_on=date(2026, 1, 5),
            )
        assert refused.value.field == "name"


def test_a_stored_nul_does_not_halt_the_organisation_read_model(world: World) -> None:
    """Defence in depth: an event with a NUL in a name (recorded before the rule, say)."""
    app = world.system.app
    studio = app.get_studio(world.studio_id)
    on = date(2026, 1, 5)
    mediator_id = uuid4()
    studio.trigger_event(
        Studio.MediatorAppointed,
        mediator_id=mediator_id,
        name=BAD["nul"],
        qualification="lawyer",
        **Studio.envelope(ADMIN.actor, on, app.policy_on(on)),
    )
    app.save(studio)
    world.system.catch_up()
    assert world.system.halts() == []
    mediators = organisation_tables()["mediators"]
    with world.system.engine.connect() as conn:
        name = conn.execute(
            select(mediators.c.name).where(mediators.c.mediator_id == str(mediator_id))
        ).scalar_one()
    assert name == "王\ufffd调解"
    r = world.post(
        "/api/v1/studios",
        {
            "name": "江岸区工作室",
            "region_code": "420102",
            "kind": "docking_studio",
            "established_on": "2025-06-01",
        },
        who="admin",
    )
    assert r.status_code == 201, r.text  # the view goes on with later events
    ready = world.client.get("/readyz").json()
    assert ready["projections_halted"] == []


@pytest.mark.parametrize("username", ["clerk\x00", "\x1b[31mclerk", "cl\u202eerk"])
def test_a_login_with_such_a_username_fails_like_any_unknown_user(
    world: World, username: str
) -> None:
    """On PostgreSQL a NUL in the username broke the account lookup (a 500)."""
    form = {"username": username, "password": "Yz-4921-Qv-8830-kWt"}
    r = world.client.post("/api/v1/auth/token", data=form)
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials", r.text
    r = world.client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "用户名或密码错误" in world.client.get("/login").text
    attempts = world.app.state.runtime.users.login_attempts()
    assert [(a.outcome, a.reason) for a in attempts[-2:]] == [("failure", "unknown_user")] * 2


def test_path_and_query_parameters_follow_the_rule(world: World) -> None:
    """On PostgreSQL a NUL in a search text, an audit filter or a username of the path
    reached the database: 500, or 503 when the access audit could not record the read."""
    for who, method, path, field in (
        ("clerk", "get", f"{CASES}?q=%E5%BC%A0%00", "q"),
        ("clerk", "get", f"{CASES}?q=%E2%80%AE%E5%BC%A0", "q"),
        ("auditor", "get", "/api/v1/audit/access?username=%1B%5B2J", "username"),
        (
            "auditor",
            "get",
            "/api/v1/stats/caseload/cases?from=2026-01-01&to=2026-06-30"
            "&group_by=studio&measure=received&key=%00",
            "key",
        ),
        ("admin", "post", "/api/v1/users/clerk%00/disable", "username"),
    ):
        r = getattr(world.client, method)(path, headers=world.h(who))
        _refused(r, field)
    r = world.client.get(f"{CASES}?q=%00")  # credentials are still checked first
    assert r.status_code == 401
    assert page(world, "clerk", "/cases?q=%00").status_code == 422
    assert world.get(f"{CASES}?q=%20").status_code == 200  # a blank search is no harm
    assert world.get(f"{CASES}?q=%E5%BC%A0").status_code == 200
