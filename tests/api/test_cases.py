"""Every case endpoint: the happy paths through the lifecycle, and the refusals."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import World, case_body

CASES = "/api/v1/cases"


def create(world: World, seed: int = 1, **over: Any) -> dict[str, Any]:
    r = world.post(CASES, case_body(seed, **over))
    assert r.status_code == 201, r.text
    return dict(r.json())


def cmd(
    world: World,
    case_id: str,
    path: str,
    body: Any,
    who: str = "clerk",
    status: int = 200,
    **kw: Any,
) -> dict[str, Any]:
    r = world.post(f"{CASES}/{case_id}/{path}", body, who=who, **kw)
    assert r.status_code == status, r.text
    if status < 300:
        assert r.headers["etag"] == f'"{r.json()["version"]}"'
    return dict(r.json())


def ready(world: World, case_id: str, on: str = "2026-03-03") -> None:
    cmd(
        world,
        case_id,
        "assessment",
        {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": True,
            "reason": "工资争议，事实清楚",
            "on": on,
        },
    )
    cmd(world, case_id, "consents", {"party": "applicant", "given": True, "on": on})
    cmd(world, case_id, "consents", {"party": "respondent", "given": True, "on": on})


def mediating(world: World, seed: int = 1, route: str = "pre_filing") -> str:
    case_id = create(world, seed)["case_id"]
    if route == "post_filing":
        cmd(world, case_id, "acceptance", {"accepted": True, "on": "2026-03-03"})
    ready(world, case_id)
    c = cmd(
        world,
        case_id,
        "entrustment",
        {"studio_id": str(world.studio_id), "route": route, "on": "2026-03-04"},
    )
    assert c["status"] == "entrusted" and c["route"] == route
    c = cmd(world, case_id, "mediator", {"mediator_id": str(world.mediator_id), "on": "2026-03-05"})
    assert c["status"] == "in_mediation" and c["mediator_id"] == str(world.mediator_id)
    return case_id


def agreed(world: World, seed: int = 1, route: str = "pre_filing") -> str:
    case_id = mediating(world, seed, route)
    cmd(
        world, case_id, "sessions", {"held_on": "2026-03-06", "summary": "首次调解"}, who="mediator"
    )
    c = cmd(
        world,
        case_id,
        "agreement",
        {
            "signed_on": "2026-03-10",
            "amount": "10000.00",
            "performance_due_on": "2026-03-31",
            "terms": "分两期支付",
        },
        who="mediator",
    )
    assert c["status"] == "agreement_signed"
    assert c["agreement"]["amount"] == "10000.00"
    return case_id


# ---------------------------------------------------------------------- happy paths


def test_create_returns_the_case_view(world: World) -> None:
    c = create(world, infringement_known_on="2024-01-02")
    assert c["status"] == "received" and c["version"] == 2  # received, numbered
    assert c["case_number"] == "武劳人仲登字〔2026〕第1号" and c["filing_number"] is None
    assert c["region_code"] == "420102" and c["received_on"] == "2026-03-02"
    assert c["claims"] == [{"category": "remuneration", "amount": "12800.00"}]
    assert c["applicant"]["name"] == "张三"
    assert [d["kind"] for d in c["deadlines"]] == ["acceptance_decision"]
    assert c["deadlines"][0]["overdue"] is True  # today is 2026-06-30
    assert c["limitation_warning"] is True
    assert c["outcome"] is None


def test_success_by_performance(world: World) -> None:
    case_id = agreed(world)
    c = cmd(
        world,
        case_id,
        "performance",
        {"on": "2026-03-20", "amount_paid": "4000.00", "complete": False},
        who="mediator",
    )
    assert c["status"] == "agreement_signed" and c["amount_paid"] == "4000.00"
    c = cmd(
        world,
        case_id,
        "performance",
        {"on": "2026-03-30", "amount_paid": "6000.00", "complete": True},
        who="clerk",
    )
    assert c["status"] == "succeeded" and c["outcome"] == "performance"
    assert c["deadlines"] == []
    h = world.get(f"{CASES}/{case_id}/history").json()["events"]
    assert [e["position"] for e in h] == list(range(1, len(h) + 1))
    assert h[0]["type"] == "Received" and h[-1]["type"] == "PerformanceRecorded"
    assert all(e["actor"] for e in h)
    assert {e["actor"] for e in h} == {"clerk", "mediator"}


def test_success_by_statement_post_filing_then_service(world: World) -> None:
    case_id = agreed(world, route="post_filing")
    c = cmd(
        world, case_id, "statement", {"issued_on": "2026-03-12", "number": "鄂劳人仲调〔2026〕1号"}
    )
    assert c["status"] == "succeeded" and c["outcome"] == "statement"
    c = cmd(world, case_id, "statement/service", {"party": "applicant", "on": "2026-03-13"})
    assert c["statement_served"] == ["applicant"]


def test_pre_filing_statement_needs_review_then_retraction_reverses(world: World) -> None:
    case_id = agreed(world)
    r = world.post(f"{CASES}/{case_id}/statement", {"issued_on": "2026-03-12", "number": "1"})
    assert r.status_code == 422 and r.json()["code"] == "review_not_applied"
    assert r.json()["source"]
    cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    c = cmd(world, case_id, "statement", {"issued_on": "2026-03-12", "number": "1"})
    assert c["status"] == "succeeded"
    c = cmd(world, case_id, "statement/retraction", {"on": "2026-03-13", "party": "respondent"})
    # v1.1 rule 5: pre-filing, the agreement stays in force
    assert c["status"] == "agreement_signed" and c["success_reversed"] is True


def test_failure_then_acceptance_and_closure(world: World) -> None:
    case_id = mediating(world)
    c = cmd(
        world, case_id, "failure", {"on": "2026-03-08", "reason": "双方差距过大"}, who="mediator"
    )
    assert c["status"] == "mediation_failed"
    c = cmd(world, case_id, "acceptance", {"accepted": True, "on": "2026-03-09"})
    assert c["status"] == "accepted"
    c = cmd(
        world,
        case_id,
        "award-extension",
        {"days": 15, "approved_by": "仲裁委主任", "on": "2026-03-10"},
    )
    assert any(d["kind"] == "award" for d in c["deadlines"])
    c = cmd(world, case_id, "closure", {"on": "2026-04-01", "disposition": "award"})
    assert c["status"] == "closed" and c["disposition"] == "award"


def test_not_accepted_needs_reason(world: World) -> None:
    case_id = create(world)["case_id"]
    r = world.post(f"{CASES}/{case_id}/acceptance", {"accepted": False, "on": "2026-03-03"})
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    c = cmd(
        world,
        case_id,
        "acceptance",
        {"accepted": False, "on": "2026-03-03", "reason": "不属于受案范围"},
    )
    assert c["status"] == "not_accepted"


def test_consent_withdrawn_ends_mediation_and_window_extension(world: World) -> None:
    case_id = mediating(world)
    body = {"days": 10, "on": "2026-03-06", "parties_agreed": True}
    c = cmd(world, case_id, "window-extension", body)
    assert any(d["kind"] == "mediation_window" for d in c["deadlines"])
    r = world.post(
        f"{CASES}/{case_id}/window-extension",
        {"days": 5, "on": "2026-03-06", "parties_agreed": True},
    )
    assert r.status_code == 422 and r.json()["code"] == "window_extension_not_allowed"
    c = cmd(world, case_id, "consents", {"party": "respondent", "given": False, "on": "2026-03-07"})
    assert c["status"] == "mediation_failed"
    assert c["consents"]["respondent"] == {"given": False, "on": "2026-03-07"}


def test_severance_moves_claims_into_a_linked_new_case(world: World) -> None:
    body = case_body(
        claims=[
            {"category": "labour_relationship_confirmation", "amount": "0.00"},
            {"category": "remuneration", "amount": "5000.00"},
        ]
    )
    case = world.post(CASES, body).json()
    case_id = case["case_id"]
    ready(world, case_id)
    r = world.post(
        f"{CASES}/{case_id}/entrustment",
        {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-04"},
    )
    assert r.status_code == 422 and r.json()["code"] == "labour_relationship_not_entrustable"
    new = cmd(
        world,
        case_id,
        "severance",
        {"claim_categories": ["labour_relationship_confirmation"], "on": "2026-03-04"},
        status=201,
    )
    assert new["severed_from"] == case_id and new["received_on"] == "2026-03-02"
    old = world.get(f"{CASES}/{case_id}").json()
    assert old["severed_into"] == [new["case_id"]]
    assert old["claims"] == [{"category": "remuneration", "amount": "5000.00"}]
    cmd(
        world,
        case_id,
        "entrustment",
        {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-05"},
    )


# ---------------------------------------------------------------------- refusals


def test_entrustment_refusals(world: World) -> None:
    case_id = create(world)["case_id"]
    entrust = {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-04"}
    r = world.post(f"{CASES}/{case_id}/entrustment", entrust)
    assert r.status_code == 422 and r.json()["code"] == "not_eligible_for_entrustment"
    cmd(
        world,
        case_id,
        "assessment",
        {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": True,
            "reason": "ok",
            "on": "2026-03-03",
        },
    )
    r = world.post(f"{CASES}/{case_id}/entrustment", entrust)
    assert r.status_code == 422 and r.json()["code"] == "consent_missing"
    assert r.json()["type"].endswith("consent_missing")
    assert r.headers["content-type"] == "application/problem+json"
    r = world.post(f"{CASES}/{case_id}/entrustment", {**entrust, "route": "post_filing"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = world.post(
        f"{CASES}/{case_id}/entrustment",
        {**entrust, "studio_id": "00000000-0000-0000-0000-000000000001"},
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["field"] == "studio_id"


def test_studio_outside_jurisdiction_and_inactive(world: World) -> None:
    admin = "admin"
    yichang = world.post(
        "/api/v1/studios",
        {
            "name": "宜昌工作室",
            "region_code": "420500",
            "kind": "docking_studio",
            "established_on": "2025-01-01",
        },
        who=admin,
    ).json()["studio_id"]
    wuhan_late = world.post(
        "/api/v1/studios",
        {
            "name": "江岸新工作室",
            "region_code": "420102",
            "kind": "union_workstation",
            "established_on": "2026-05-01",
        },
        who=admin,
    ).json()["studio_id"]
    case_id = create(world)["case_id"]
    ready(world, case_id)
    r = world.post(
        f"{CASES}/{case_id}/entrustment",
        {"studio_id": yichang, "route": "pre_filing", "on": "2026-03-04"},
    )
    assert r.status_code == 422 and r.json()["code"] == "studio_outside_jurisdiction"
    r = world.post(
        f"{CASES}/{case_id}/entrustment",
        {"studio_id": wuhan_late, "route": "pre_filing", "on": "2026-03-04"},
    )
    assert r.status_code == 422 and r.json()["code"] == "studio_inactive"


def test_mediator_refusals(world: World) -> None:
    case_id = create(world)["case_id"]
    ready(world, case_id)
    cmd(
        world,
        case_id,
        "entrustment",
        {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-04"},
    )
    r = world.post(
        f"{CASES}/{case_id}/mediator",
        {"mediator_id": "00000000-0000-0000-0000-000000000009", "on": "2026-03-05"},
    )
    assert r.status_code == 422 and r.json()["code"] == "mediator_not_on_roster"
    cmd(
        world,
        case_id,
        "mediator",
        {"mediator_id": str(world.mediator_id), "on": "2026-03-05"},
        who="coordinator",
    )
    r = world.post(
        f"{CASES}/{case_id}/sessions",
        {"held_on": "2026-03-06", "summary": "x"},
        who="other_mediator",
    )
    assert r.status_code == 403 and r.json()["code"] == "not_assigned_mediator"
    r = world.post(f"{CASES}/{case_id}/sessions", {"held_on": "2026-03-06", "summary": "x"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_validation_and_future_dates(world: World) -> None:
    r = world.post(CASES, case_body(received_on="2026-07-01"))
    assert r.status_code == 422 and r.json()["code"] == "date_in_future"
    bad = case_body()
    bad["applicant"]["id_number"] = "420102199001011235"
    r = world.post(CASES, bad)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["field"] == "applicant.id_number"
    r = world.post(CASES, case_body(claims=[{"category": "remuneration", "amount": "1.234"}]))
    assert r.status_code == 422 and r.json()["field"] == "claims.0.amount"
    r = world.post(CASES, case_body(region_code="999999"))
    assert r.status_code == 422 and r.json()["field"] == "region_code"
    r = world.post(CASES, case_body(claims=[]))
    assert r.status_code == 422
    r = world.post(CASES, case_body(extra_field=1))
    assert r.status_code == 422 and r.json()["field"] == "extra_field"
    r = world.post(CASES, case_body(region_code="420502"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_if_match(world: World) -> None:
    case_id = create(world)["case_id"]
    body = {"party": "applicant", "given": True, "on": "2026-03-03"}
    r = world.post(f"{CASES}/{case_id}/consents", body, headers={"If-Match": '"4"'})
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    r = world.post(f"{CASES}/{case_id}/consents", body, headers={"If-Match": "nonsense"})
    assert r.status_code == 422 and r.json()["field"] == "If-Match"
    c = cmd(world, case_id, "consents", body, headers={"If-Match": '"2"'})
    assert c["version"] == 3
    c = cmd(
        world, case_id, "consents", {**body, "party": "respondent"}, headers={"If-Match": 'W/"3"'}
    )
    assert c["version"] == 4


def test_idempotency_key(world: World) -> None:
    key = {"Idempotency-Key": "create-1"}
    before = world.events()
    a = world.post(CASES, case_body(), headers=key)
    b = world.post(CASES, case_body(), headers=key)
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json()
    # the case (received, numbered), its number's new sequence (started, issued) and the
    # idempotency record; nothing for the replay
    assert world.events() == before + 5
    r = world.post(CASES, case_body(seed=2), headers=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    # scoped to the user: another clerk may use the same key
    r = world.post(CASES, case_body(), headers=key, who="out_clerk")
    assert r.status_code == 403  # (outside their region) — refusals are not remembered
    # a refused command may be retried with the same key
    case_id = a.json()["case_id"]
    k2 = {"Idempotency-Key": "entrust-1"}
    entrust = {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-04"}
    r = world.post(f"{CASES}/{case_id}/entrustment", entrust, headers=k2)
    assert r.status_code == 422
    ready(world, case_id)
    r = world.post(f"{CASES}/{case_id}/entrustment", entrust, headers=k2)
    assert r.status_code == 200, r.text


def test_history_and_auditor_masking(world: World) -> None:
    case_id = create(world)["case_id"]
    full = world.get(f"{CASES}/{case_id}").json()
    masked = world.get(f"{CASES}/{case_id}", who="auditor").json()
    assert full["applicant"]["name"] == "张三"
    assert masked["applicant"]["name"] == "张*"
    assert masked["applicant"]["id_number"].startswith("**************")
    assert masked["applicant"]["id_number"][-4:] == full["applicant"]["id_number"][-4:]
    assert "138001" not in masked["applicant"]["phone"]
    h = world.get(f"{CASES}/{case_id}/history", who="auditor").json()
    received = h["events"][0]
    assert received["actor"] == "clerk" and received["actor_role"] == "clerk"
    assert received["data"]["applicants"][0]["name"] == "张*"  # v2: lists of parties
    assert "recorded_at" in received
    r = world.post(
        f"{CASES}/{case_id}/assessment",
        {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": True,
            "reason": "x",
        },
        who="auditor",
    )
    assert r.status_code == 403


def test_unknown_and_foreign_cases_are_not_found(world: World) -> None:
    r = world.get(f"{CASES}/not-a-uuid")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = world.get(f"{CASES}/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    case_id = create(world)["case_id"]
    for who in ("out_clerk", "out_auditor", "out_admin"):
        assert world.get(f"{CASES}/{case_id}", who=who).status_code == 404
        assert world.get(f"{CASES}/{case_id}/history", who=who).status_code == 404
    # outside the jurisdiction, even an invalid body answers 404 first
    r = world.post(f"{CASES}/{case_id}/assessment", {"nonsense": True}, who="out_clerk")
    assert r.status_code == 404
    r = world.client.post(
        f"{CASES}/{case_id}/assessment",
        content=b"{not json",
        headers={**world.h("out_clerk"), "Content-Type": "application/json"},
    )
    assert r.status_code == 404
    r = world.client.post(
        f"{CASES}/{case_id}/assessment",
        content=b"{not json",
        headers={**world.h("auditor"), "Content-Type": "application/json"},
    )
    assert r.status_code == 403
    r = world.client.post(
        f"{CASES}/{case_id}/assessment",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 401
    r = world.client.post(
        f"{CASES}/{case_id}/assessment",
        content=b"{not json",
        headers={**world.h("clerk"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_list_filters_cursor_and_mediator_scope(world: World) -> None:
    ids = [create(world, seed=i)["case_id"] for i in range(1, 6)]
    mine = mediating(world, seed=9)
    ids.append(mine)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = world.get(CASES, params=params).json()
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    r = world.get(CASES, params={"status": "in_mediation"}).json()
    assert [c["case_id"] for c in r["items"]] == [mine]
    r = world.get(CASES, params={"studio_id": str(world.studio_id)}).json()
    assert [c["case_id"] for c in r["items"]] == [mine]
    r = world.get(CASES, who="mediator").json()
    assert [c["case_id"] for c in r["items"]] == [mine]
    assert world.get(CASES, who="other_mediator").json()["items"] == []
    assert world.get(CASES, who="out_clerk").json()["items"] == []
    r = world.get(CASES, params={"region": "420500"})
    assert r.status_code == 404
    r = world.get(CASES, params={"region": "420102"})
    assert len(r.json()["items"]) == 6
    r = world.get(CASES, params={"overdue": "true"})
    assert r.status_code == 200
    r = world.get(CASES, params={"cursor": "garbage!"})
    assert r.status_code in (200, 422)
    r = world.get(CASES, params={"limit": 0})
    assert r.status_code == 422 and r.json()["field"] == "limit"
