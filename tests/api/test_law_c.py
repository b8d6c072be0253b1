"""Contract v1.1 over HTTP for brief §8 rules 1, 9, 10, 11, 16: recusal, transfer, window
extension by both parties, mediation bodies, retired mediators, coordinators' studios."""

from __future__ import annotations

from datetime import date
from typing import Any

from mediation.values import StudioKind
from tests.api.conftest import World
from tests.api.test_cases import CASES, cmd, create, mediating, ready
from tests.support.factories import ADMIN


def _studio(world: World, kind: StudioKind = StudioKind.DOCKING_STUDIO) -> str:
    studio = world.system.app.register_studio(
        ADMIN,
        name="江岸区工会法律服务工作站",
        region_code="420100",
        kind=kind,
        established_on=date(2025, 1, 1),
    )
    return str(studio.id)


def _post(world: World, case_id: str, path: str, body: Any, who: str = "clerk", **kw: Any) -> Any:
    return world.post(f"{CASES}/{case_id}/{path}", body, who=who, **kw)


def test_rule_09_window_extension_by_the_clerk_with_both_parties(world: World) -> None:
    case_id = mediating(world)
    body = {"days": 10, "on": "2026-03-06"}
    r = _post(world, case_id, "window-extension", {**body, "parties_agreed": True}, "mediator")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    before = world.events()
    r = _post(world, case_id, "window-extension", body)
    assert r.status_code == 422 and r.json()["code"] == "extension_needs_both_parties"
    r = _post(world, case_id, "window-extension", {**body, "parties_agreed": False})
    assert r.status_code == 422 and r.json()["code"] == "extension_needs_both_parties"
    assert world.events() == before
    c = cmd(world, case_id, "window-extension", {**body, "parties_agreed": True})
    assert c["version"] > 0


def test_rule_10_not_a_mediation_body_over_http(world: World) -> None:
    outpost = _studio(world, StudioKind.ARBITRATION_OUTPOST)
    case_id = create(world)["case_id"]
    ready(world, case_id)
    r = _post(
        world,
        case_id,
        "entrustment",
        {"studio_id": outpost, "route": "pre_filing", "on": "2026-03-04"},
    )
    assert r.status_code == 422 and r.json()["code"] == "not_a_mediation_body"
    r = world.post(
        f"/api/v1/studios/{outpost}/mediators",
        {"name": "赵调解", "qualification": "lawyer", "appointed_on": "2025-02-01"},
        who="admin",
    )
    assert r.status_code == 422 and r.json()["code"] == "not_a_mediation_body"


def test_rule_01_reentrustment_needs_fresh_consents_over_http(world: World) -> None:
    case_id = mediating(world)
    cmd(world, case_id, "failure", {"on": "2026-03-06", "reason": "分歧过大"}, who="mediator")
    cmd(world, case_id, "acceptance", {"accepted": True, "on": "2026-03-09"})
    entrust = {"studio_id": str(world.studio_id), "route": "post_filing", "on": "2026-03-10"}
    r = _post(world, case_id, "entrustment", entrust)
    assert r.status_code == 422 and r.json()["code"] == "consent_missing"
    for party in ("applicant", "respondent"):
        cmd(world, case_id, "consents", {"party": party, "given": True, "on": "2026-03-10"})
    c = cmd(world, case_id, "entrustment", entrust)
    assert c["status"] == "entrusted" and c["mediation_count"] == 2


def test_rule_11_recusal_over_http(world: World) -> None:
    case_id = mediating(world)
    body = {"on": "2026-03-06", "reason": "调解员系申请人近亲属"}
    # precedence: 401, 404 (outside the jurisdiction), 403 (role), 422 validation, 409
    assert world.client.post(f"{CASES}/{case_id}/recusal", json=body).status_code == 401
    r = _post(world, case_id, "recusal", body, "out_clerk")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = _post(world, case_id, "recusal", body, "mediator")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = _post(world, case_id, "recusal", {"on": "2026-03-06"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = _post(world, case_id, "recusal", body, headers={"If-Match": '"1"'})
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    c = cmd(world, case_id, "recusal", body, who="coordinator")
    assert c["status"] == "entrusted" and c["mediator_id"] is None
    assert c["mediation_count"] == 1 and any(
        d["kind"] == "mediation_window" for d in c["deadlines"]
    )
    r = _post(world, case_id, "recusal", body)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    # the recused mediator is no longer the case's: 403 not_assigned_mediator
    r = _post(world, case_id, "sessions", {"held_on": "2026-03-06", "summary": "s"}, "mediator")
    assert r.status_code == 403 and r.json()["code"] == "not_assigned_mediator"
    c = cmd(
        world,
        case_id,
        "mediator",
        {"mediator_id": str(world.other_mediator_id), "on": "2026-03-06"},
        who="coordinator",
    )
    assert c["status"] == "in_mediation"


def test_rule_11_transfer_over_http_and_coordinator_confined_to_their_studio(
    world: World,
) -> None:
    case_id = mediating(world)
    other = _studio(world)
    body = {"on": "2026-03-06", "studio_id": other, "reason": "移送至当事人住所地工作室"}
    r = _post(world, case_id, "transfer", body, "coordinator")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = _post(world, case_id, "transfer", {**body, "studio_id": str(world.studio_id)})
    assert r.status_code == 422 and r.json()["code"] == "transfer_invalid"
    r = _post(world, case_id, "transfer", {**body, "studio_id": "not-a-uuid"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    c = cmd(world, case_id, "transfer", body)
    assert c["studio_id"] == other and c["mediator_id"] is None
    assert c["status"] == "entrusted" and c["mediation_count"] == 1
    # the first studio's coordinator no longer acts on it (404), though it is in their region
    r = _post(
        world,
        case_id,
        "mediator",
        {"mediator_id": str(world.mediator_id), "on": "2026-03-06"},
        "coordinator",
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = _post(world, case_id, "transfer", body)
    assert r.status_code == 422 and r.json()["code"] == "transfer_invalid"


def test_rule_16_a_retired_mediator_gets_mediator_not_active(world: World) -> None:
    case_id = mediating(world)
    r = world.post(
        f"/api/v1/studios/{world.studio_id}/mediators/{world.mediator_id}/retirement",
        {"retired_on": "2026-03-07"},
        who="admin",
    )
    assert r.status_code == 200, r.text
    for path, body in (
        ("sessions", {"held_on": "2026-03-08", "summary": "s"}),
        ("failure", {"on": "2026-03-08", "reason": "r"}),
        (
            "agreement",
            {
                "signed_on": "2026-03-08",
                "amount": "1.00",
                "performance_due_on": "2026-03-20",
                "terms": "t",
            },
        ),
    ):
        r = _post(world, case_id, path, body, "mediator")
        assert r.status_code == 422 and r.json()["code"] == "mediator_not_active", path


def test_openapi_describes_recusal_transfer_and_the_extension_agreement(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    paths = doc["paths"]
    assert paths["/api/v1/cases/{case_id}/recusal"]["post"]["x-roles"]["coordinator"] == "yes"
    assert paths["/api/v1/cases/{case_id}/transfer"]["post"]["x-roles"]["coordinator"] == "no"
    assert paths["/api/v1/cases/{case_id}/window-extension"]["post"]["x-roles"]["mediator"] == "no"
    schemas = doc["components"]["schemas"]
    assert "parties_agreed" in schemas["WindowExtensionIn"]["properties"]
    assert set(schemas["TransferIn"]["required"]) >= {"studio_id", "reason"}


def _case_page(world: World, who: str, case_id: str) -> str:
    from api.pages.common import COOKIE

    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        r = world.client.get(f"/cases/{case_id}")
    finally:
        world.client.cookies.clear()
    assert r.status_code == 200, r.text[:300]
    return str(r.text)


def test_the_case_page_offers_exactly_what_rules_9_10_11_16_allow(world: World) -> None:
    case_id = mediating(world)
    outpost = _studio(world, StudioKind.ARBITRATION_OUTPOST)
    clerk = _case_page(world, "clerk", case_id)
    assert 'id="form-recusal"' in clerk and 'id="form-transfer"' in clerk
    assert 'id="form-window_extension"' in clerk and 'name="parties_agreed"' in clerk
    assert outpost not in clerk  # never offered as a transfer target
    mediator = _case_page(world, "mediator", case_id)
    assert 'id="form-window_extension"' not in mediator and 'id="form-recusal"' not in mediator
    coordinator = _case_page(world, "coordinator", case_id)
    assert 'id="form-recusal"' in coordinator and 'id="form-transfer"' not in coordinator
    cmd(
        world, case_id, "transfer", {"on": "2026-03-06", "studio_id": _studio(world), "reason": "r"}
    )
    # the first studio's coordinator may read it but no longer act on it
    coordinator = _case_page(world, "coordinator", case_id)
    assert 'id="form-assign"' not in coordinator and 'id="form-recusal"' not in coordinator
    clerk = _case_page(world, "clerk", case_id)
    assert 'id="form-recusal"' not in clerk  # no mediator to step aside
