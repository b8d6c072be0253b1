"""Contract v1.1 over HTTP for brief section 8 rules 5, 6, 7, 8, 13 (law-b)."""

from __future__ import annotations

from uuid import UUID

from api.pages.cases import available
from api.users import User
from mediation.values import Role
from tests.api.conftest import World, case_body
from tests.api.test_cases import CASES, agreed, cmd, create, mediating, ready

DECISION = "review/decision"
WITHDRAWAL = "review/withdrawal"


def test_rule_06_review_decision_and_withdrawal_over_http(world: World) -> None:
    case_id = agreed(world)
    c = cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    assert c["review_state"] == "applied"
    assert "review_decision" in {d["kind"] for d in c["deadlines"]}
    c = cmd(world, case_id, DECISION, {"on": "2026-03-12", "accepted": True})
    kinds = {d["kind"] for d in c["deadlines"]}
    assert c["review_state"] == "accepted" and "review_conclusion" in kinds
    c = cmd(world, case_id, WITHDRAWAL, {"on": "2026-03-13", "party": "applicant"})
    assert c["status"] == "agreement_signed" and c["review_state"] == "withdrawn"
    r = world.post(f"{CASES}/{case_id}/statement", {"issued_on": "2026-03-13", "number": "1"})
    assert r.status_code == 422 and r.json()["code"] == "review_not_standing"


def test_rule_06_refusal_with_its_code_leaves_the_agreement(world: World) -> None:
    case_id = agreed(world)
    cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    c = cmd(
        world,
        case_id,
        DECISION,
        {"on": "2026-03-12", "accepted": False, "reason_code": "not_joint"},
    )
    assert c["status"] == "agreement_signed" and c["review_state"] == "refused"
    events = world.get(f"{CASES}/{case_id}/history").json()["events"]
    assert events[-1]["type"] == "ReviewDecided"
    assert events[-1]["data"]["reason_code"] == "not_joint"


def test_rule_06_new_commands_answer_in_the_v1_order_of_checks(world: World) -> None:
    case_id = agreed(world)
    body = {"on": "2026-03-12", "accepted": True}
    for path, good in ((DECISION, body), (WITHDRAWAL, {"on": "2026-03-12", "party": "applicant"})):
        url = f"{CASES}/{case_id}/{path}"
        assert world.client.post(url, json={"bad": 1}).status_code == 401
        r = world.post(url, {"bad": 1}, who="out_clerk")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        for who in ("mediator", "coordinator", "auditor"):
            r = world.post(url, {"bad": 1}, who=who)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", who
        r = world.post(url, {"bad": 1})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
        r = world.post(url, good, headers={"If-Match": '"1"'})
        assert r.status_code == 409 and r.json()["code"] == "version_conflict"
        r = world.post(url, good)  # no application yet
        assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = world.post(f"{CASES}/{case_id}/{DECISION}", {**body, "reason_code": "nonsense"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_rule_06_statement_on_undecided_review_records_acceptance(world: World) -> None:
    case_id = agreed(world)
    cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    c = cmd(world, case_id, "statement", {"issued_on": "2026-03-12", "number": "1"})
    assert c["status"] == "succeeded" and c["review_state"] == "accepted"


def test_rule_05_pre_filing_retraction_over_http_keeps_the_agreement(world: World) -> None:
    case_id = agreed(world)
    cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    cmd(world, case_id, "statement", {"issued_on": "2026-03-12", "number": "1"})
    c = cmd(world, case_id, "statement/retraction", {"on": "2026-03-13", "party": "respondent"})
    assert c["status"] == "agreement_signed" and c["outcome"] is None
    c = cmd(
        world,
        case_id,
        "performance",
        {"on": "2026-03-20", "amount_paid": "10000.00", "complete": True},
        who="mediator",
    )
    assert c["status"] == "succeeded" and c["outcome"] == "performance"


def test_rule_07_severance_after_acceptance_over_http(world: World) -> None:
    body = case_body(
        claims=[
            {"category": "remuneration", "amount": "5000.00"},
            {"category": "contract", "amount": "3000.00"},
        ]
    )
    case_id = world.post(CASES, body).json()["case_id"]
    accepted = cmd(world, case_id, "acceptance", {"accepted": True, "on": "2026-03-03"})
    award = [d for d in accepted["deadlines"] if d["kind"] == "award"]
    new = cmd(
        world,
        case_id,
        "severance",
        {"claim_categories": ["contract"], "on": "2026-03-20"},
        status=201,
    )
    assert new["status"] == "accepted" and new["received_on"] == accepted["received_on"]
    assert new["accepted_on"] == "2026-03-03"
    assert [d for d in new["deadlines"] if d["kind"] == "award"] == award


def test_rule_08_lapsed_pre_filing_window_shows_the_acceptance_deadline(world: World) -> None:
    case_id = mediating(world)  # entrusted 2026-03-04; the server's today is months later
    view = world.get(f"{CASES}/{case_id}").json()
    deadlines = {d["kind"]: d for d in view["deadlines"]}
    assert deadlines["acceptance_decision"]["overdue"] is True
    assert deadlines["mediation_window"]["overdue"] is True
    listed = world.get(f"{CASES}?overdue=true").json()["items"]
    assert case_id in {c["case_id"] for c in listed}


def test_rule_13_closure_from_a_post_filing_success(world: World) -> None:
    case_id = agreed(world, route="post_filing")
    c = cmd(world, case_id, "statement", {"issued_on": "2026-03-12", "number": "1"})
    assert "award" in {d["kind"] for d in c["deadlines"]}
    r = world.post(f"{CASES}/{case_id}/closure", {"on": "2026-03-13", "disposition": "award"})
    assert r.status_code == 422 and r.json()["code"] == "disposition_not_allowed"
    c = cmd(world, case_id, "closure", {"on": "2026-03-13", "disposition": "mediation_statement"})
    assert c["status"] == "closed" and c["deadlines"] == []
    other = create(world, 2)["case_id"]
    ready(world, other)
    r = world.post(
        f"{CASES}/{other}/closure", {"on": "2026-03-13", "disposition": "mediation_statement"}
    )
    assert r.status_code == 422 and r.json()["code"] == "disposition_not_allowed"


def test_openapi_describes_the_review_commands(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in ("review/decision", "review/withdrawal"):
        assert f"/api/v1/cases/{{case_id}}/{path}" in paths
    kinds = doc["components"]["schemas"]["DeadlineOut"]["properties"]["kind"]["enum"]
    assert {"review_decision", "review_conclusion"} <= set(kinds)


def test_rule_06_case_page_offers_the_review_forms_the_stage_allows(world: World) -> None:
    case_id = agreed(world)
    app = world.system.app
    clerk = User("clerk", Role.CLERK, "420100")
    forms = available(clerk, app.get_case(_uuid(case_id)))
    assert "review" in forms and "review_decision" not in forms and "statement" not in forms
    cmd(world, case_id, "review", {"applied_on": "2026-03-11"})
    forms = available(clerk, app.get_case(_uuid(case_id)))
    assert {"review_decision", "review_withdrawal", "statement"} <= set(forms)
    assert "review" not in forms
    cmd(world, case_id, DECISION, {"on": "2026-03-12", "accepted": False})
    forms = available(clerk, app.get_case(_uuid(case_id)))
    assert not {"review", "review_decision", "review_withdrawal", "statement"} & set(forms)
    assert "performance" in forms and "failure" in forms


def _uuid(raw: str) -> UUID:
    return UUID(raw)
