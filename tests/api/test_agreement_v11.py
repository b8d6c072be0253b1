"""Contract v1.1, law-a: agreement_binding, agreement_not_yet_due and reason_code,
agreement_not_signed, settles/obligor, performance_incomplete and confirmation, and the
new command POST /cases/{id}/performance/verification with the v1 error precedence."""

from __future__ import annotations

from tests.api.conftest import World
from tests.api.test_cases import CASES, agreed, cmd, mediating

VERIFY = "performance/verification"


def _code(r: object) -> str:
    return str(r.json()["code"])  # type: ignore[attr-defined]


def test_rule_02_consent_withdrawal_after_signing_is_agreement_binding(world: World) -> None:
    case_id = agreed(world)
    before = world.events()
    r = world.post(
        f"{CASES}/{case_id}/consents", {"party": "respondent", "given": False, "on": "2026-03-11"}
    )
    assert (r.status_code, _code(r)) == (422, "agreement_binding")
    assert r.headers["content-type"] == "application/problem+json"
    assert world.events() == before


def test_rule_02_failure_before_the_due_date_and_reason_codes(world: World) -> None:
    case_id = agreed(world)
    r = world.post(f"{CASES}/{case_id}/failure", {"on": "2026-03-12", "reason": "拖延"})
    assert (r.status_code, _code(r)) == (422, "agreement_not_yet_due")
    r = world.post(
        f"{CASES}/{case_id}/failure",
        {"on": "2026-03-12", "reason": "拖延", "reason_code": "no_such_code"},
    )
    assert (r.status_code, _code(r)) == (422, "validation_error")
    c = cmd(
        world,
        case_id,
        "failure",
        {"on": "2026-03-12", "reason": "书面拒绝履行", "reason_code": "declared_refusal"},
        who="mediator",
    )
    assert c["status"] == "mediation_failed"
    assert c["failure_reason_code"] == "declared_refusal"
    other = mediating(world, seed=2)
    c = cmd(world, other, "failure", {"on": "2026-03-12", "reason": "r"})
    assert c["failure_reason_code"] == "other"  # the default


def test_rule_03_and_14_agreement_signatures_settles_and_obligor(world: World) -> None:
    case_id = mediating(world)
    body = {
        "signed_on": "2026-03-10",
        "amount": "100.00",
        "performance_due_on": "2026-03-31",
        "terms": "t",
    }
    for extra in ({"signed_by": ["applicant", "mediator"]}, {"sealed": False}):
        r = world.post(f"{CASES}/{case_id}/agreement", {**body, **extra}, who="mediator")
        assert (r.status_code, _code(r)) == (422, "agreement_not_signed"), r.text
    r = world.post(
        f"{CASES}/{case_id}/agreement", {**body, "settles": ["dismissal"]}, who="mediator"
    )
    assert (r.status_code, _code(r)) == (422, "validation_error")
    c = cmd(
        world,
        case_id,
        "agreement",
        {**body, "settles": ["remuneration"], "obligor": "respondent"},
        who="mediator",
    )
    assert c["agreement"]["settles"] == ["remuneration"]
    assert c["agreement"]["obligor"] == "respondent"
    # overdue (today is 2026-06-30), pre-filing, owed by the employer, over pay
    assert c["payment_order_eligible"] is True


def test_rule_04_performance_incomplete_and_confirmation(world: World) -> None:
    case_id = agreed(world)
    r = world.post(
        f"{CASES}/{case_id}/performance",
        {"on": "2026-03-20", "amount_paid": "1000.00", "complete": True},
        who="mediator",
    )
    assert (r.status_code, _code(r)) == (422, "performance_incomplete")
    c = cmd(
        world,
        case_id,
        "performance",
        {
            "on": "2026-03-20",
            "amount_paid": "1000.00",
            "complete": True,
            "confirmation": "劳动者确认书 2026-03-20",
        },
        who="mediator",
    )
    assert c["status"] == "succeeded" and c["awaiting_verification"] is True


def test_rule_04_verification_command_and_its_error_precedence(world: World) -> None:
    case_id = agreed(world)
    path = f"{CASES}/{case_id}/{VERIFY}"
    body = {"on": "2026-03-21", "method": "phone", "note": "回访无异议"}
    # state: not succeeded yet -> 409
    r = world.post(path, body)
    assert (r.status_code, _code(r)) == (409, "invalid_transition")
    cmd(
        world,
        case_id,
        "performance",
        {"on": "2026-03-20", "amount_paid": "10000.00", "complete": True},
        who="mediator",
    )
    # 401 without credentials, 404 outside the jurisdiction, 403 for the mediator
    assert world.client.post(path, json=body).status_code == 401
    r = world.post(path, body, who="out_clerk")
    assert (r.status_code, _code(r)) == (404, "not_found")
    r = world.post(path, body, who="mediator")
    assert (r.status_code, _code(r)) == (403, "forbidden")
    # 422 validation before If-Match; a stale If-Match is 409 version_conflict
    r = world.post(path, {**body, "method": "telepathy"}, headers={"If-Match": '"1"'})
    assert (r.status_code, _code(r)) == (422, "validation_error")
    r = world.post(path, body, headers={"If-Match": '"1"'})
    assert (r.status_code, _code(r)) == (409, "version_conflict")
    c = cmd(world, case_id, VERIFY, body, who="coordinator", headers={"Idempotency-Key": "v1"})
    assert c["performance_verified_on"] == "2026-03-21" and c["awaiting_verification"] is False
    again = cmd(world, case_id, VERIFY, body, who="coordinator", headers={"Idempotency-Key": "v1"})
    assert again["version"] == c["version"]
    r = world.post(path, body)
    assert (r.status_code, _code(r)) == (409, "invalid_transition")  # verified once
    doc = world.client.get("/openapi.json").json()
    assert "post" in doc["paths"]["/api/v1/cases/{case_id}/performance/verification"]
    failure = doc["components"]["schemas"]["FailureIn"]["properties"]
    assert "reason_code" in failure
