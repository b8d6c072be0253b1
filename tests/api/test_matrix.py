"""Generated: every endpoint × every role × inside/outside the jurisdiction, against the matrix.

Commands carry a stale ``If-Match: "0"``, so a request that passes the gate answers 409
``version_conflict`` and records nothing; one that does not answers 401/403/404 — exactly
as ``api.authz.MATRIX`` says. Outside the jurisdiction a case or studio never exists (404)
and no event is ever recorded.
"""

from __future__ import annotations

from typing import Any

from api.authz import MATRIX, Grant
from mediation.values import Role
from tests.api.conftest import USERS, World, case_body

D = "2026-03-20"
STATS = {"from": "2026-01-01", "to": "2026-06-30", "group_by": "city", "region": "420100"}

# action -> (method, path, body, query); {case}, {studio}, {mediator} are filled in
ENDPOINTS: dict[str, tuple[str, str, Any, dict[str, str] | None]] = {
    "me": ("GET", "/api/v1/me", None, None),
    "case.list": ("GET", "/api/v1/cases", None, {"region": "420100"}),
    "case.read": ("GET", "/api/v1/cases/{case}", None, None),
    "case.history": ("GET", "/api/v1/cases/{case}/history", None, None),
    "case.create": ("POST", "/api/v1/cases", "CASE", None),
    "case.assess": (
        "POST",
        "/api/v1/cases/{case}/assessment",
        {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": True,
            "reason": "r",
            "on": D,
        },
        None,
    ),
    "case.consent": (
        "POST",
        "/api/v1/cases/{case}/consents",
        {"party": "applicant", "given": False, "on": D},
        None,
    ),
    "case.entrust": (
        "POST",
        "/api/v1/cases/{case}/entrustment",
        {"studio_id": "{studio}", "route": "pre_filing", "on": D},
        None,
    ),
    "case.sever": (
        "POST",
        "/api/v1/cases/{case}/severance",
        {"claim_categories": ["remuneration"], "on": D},
        None,
    ),
    "case.assign_mediator": (
        "POST",
        "/api/v1/cases/{case}/mediator",
        {"mediator_id": "{mediator}", "on": D},
        None,
    ),
    "case.session": ("POST", "/api/v1/cases/{case}/sessions", {"held_on": D, "summary": "s"}, None),
    "case.window_extension": (
        "POST",
        "/api/v1/cases/{case}/window-extension",
        {"days": 5, "on": D, "parties_agreed": True},
        None,
    ),
    "case.agreement": (
        "POST",
        "/api/v1/cases/{case}/agreement",
        {"signed_on": D, "amount": "1.00", "performance_due_on": D, "terms": "t"},
        None,
    ),
    "case.performance": (
        "POST",
        "/api/v1/cases/{case}/performance",
        {"on": D, "amount_paid": "1.00", "complete": True},
        None,
    ),
    "case.review": ("POST", "/api/v1/cases/{case}/review", {"applied_on": D}, None),
    "case.statement": (
        "POST",
        "/api/v1/cases/{case}/statement",
        {"issued_on": D, "number": "n"},
        None,
    ),
    "case.statement_service": (
        "POST",
        "/api/v1/cases/{case}/statement/service",
        {"party": "applicant", "on": D},
        None,
    ),
    "case.statement_retraction": (
        "POST",
        "/api/v1/cases/{case}/statement/retraction",
        {"on": D, "party": "applicant"},
        None,
    ),
    "case.failure": ("POST", "/api/v1/cases/{case}/failure", {"on": D, "reason": "r"}, None),
    "case.acceptance": (
        "POST",
        "/api/v1/cases/{case}/acceptance",
        {"accepted": True, "on": D},
        None,
    ),
    "case.award_extension": (
        "POST",
        "/api/v1/cases/{case}/award-extension",
        {"days": 5, "approved_by": "chair", "on": D},
        None,
    ),
    "case.closure": (
        "POST",
        "/api/v1/cases/{case}/closure",
        {"on": D, "disposition": "withdrawn"},
        None,
    ),
    "case.review_decision": (
        "POST",
        "/api/v1/cases/{case}/review/decision",
        {"on": D, "accepted": True},
        None,
    ),
    "case.review_withdrawal": (
        "POST",
        "/api/v1/cases/{case}/review/withdrawal",
        {"on": D, "party": "applicant"},
        None,
    ),
    "case.recusal": ("POST", "/api/v1/cases/{case}/recusal", {"on": D, "reason": "r"}, None),
    "case.transfer": (
        "POST",
        "/api/v1/cases/{case}/transfer",
        {"on": D, "studio_id": "{studio}", "reason": "r"},
        None,
    ),
    "case.performance_verification": (
        "POST",
        "/api/v1/cases/{case}/performance/verification",
        {"on": D, "method": "phone", "note": "n"},
        None,
    ),
    "case.document_issue": (
        "POST",
        "/api/v1/cases/{case}/documents",
        {"kind": "mediation_agreement", "on": D},
        None,
    ),
    "case.documents": ("GET", "/api/v1/cases/{case}/documents", None, None),
    "case.document_read": ("GET", "/api/v1/cases/{case}/documents/{doc}.pdf", None, None),
    "studio.list": ("GET", "/api/v1/studios", None, {"region": "420100"}),
    "studio.read": ("GET", "/api/v1/studios/{studio}", None, None),
    "studio.create": (
        "POST",
        "/api/v1/studios",
        {
            "name": "新工作室",
            "region_code": "420100",
            "kind": "docking_studio",
            "established_on": "2025-01-01",
        },
        None,
    ),
    "studio.appoint": (
        "POST",
        "/api/v1/studios/{studio}/mediators",
        {"name": "新调解员", "qualification": "lawyer", "appointed_on": "2025-02-01"},
        None,
    ),
    "studio.retire": (
        "POST",
        "/api/v1/studios/{studio}/mediators/{mediator}/retirement",
        {"retired_on": D},
        None,
    ),
    "studio.close": ("POST", "/api/v1/studios/{studio}/closure", {"closed_on": D}, None),
    "stats.caseload": ("GET", "/api/v1/stats/caseload", None, STATS),
    "stats.drilldown": (
        "GET",
        "/api/v1/stats/caseload/cases",
        None,
        {**STATS, "measure": "received", "key": "total"},
    ),
    "stats.subsidies": (
        "GET",
        "/api/v1/stats/subsidies",
        None,
        {"month": "2026-03", "region": "420100"},
    ),
    "audit.access": ("GET", "/api/v1/audit/access", None, {"region": "420100"}),
    "audit.unusual": ("GET", "/api/v1/audit/unusual", None, {"region": "420100", "on": D}),
}
EXTRA_ROUTES = {  # further routes guarded by an action already listed
    ("GET", "/api/v1/stats/caseload.csv"): "stats.caseload",
    ("GET", "/api/v1/stats/caseload.xlsx"): "stats.caseload",
    ("GET", "/api/v1/stats/coverage"): "stats.caseload",
    ("GET", "/api/v1/cases/{case_id}/documents/{document_id}.docx"): "case.document_read",
}
BOUND = ("{case}", "{studio}")  # endpoints whose resource lives in a jurisdiction
CREATES = {"case.create", "studio.create"}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for k, v in ids.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def expected(action: str, user: str, path: str) -> set[int]:
    role, _ = USERS[user]
    inside = not user.startswith("out_")
    a = MATRIX[action]
    if not inside:
        if any(b in path for b in BOUND):
            return {404}
        if action in CREATES:
            return {403}
        if "region" in (ENDPOINTS[action][3] or {}):
            return {404}
    g = a.grants.get(role, Grant.NO)
    if g is Grant.NO:
        return {403}
    if g is Grant.ASSIGNED and user != "mediator" and "{case}" in path:
        return {403}
    if action in CREATES:
        return {201}
    if a.changes:
        return {409}  # passed the gate, stopped by the stale If-Match
    return {200}


def test_every_endpoint_role_and_jurisdiction_against_the_matrix(world: World) -> None:
    # a case in mediation, assigned to "mediator", in Jiang'an (Wuhan)
    case = world.post("/api/v1/cases", case_body()).json()
    cid = case["case_id"]
    for path, body in (
        (
            "assessment",
            {
                "within_scope": True,
                "meets_acceptance_conditions": True,
                "suitable_for_mediation": True,
                "reason": "r",
                "on": "2026-03-03",
            },
        ),
        ("consents", {"party": "applicant", "given": True, "on": "2026-03-03"}),
        ("consents", {"party": "respondent", "given": True, "on": "2026-03-03"}),
        (
            "entrustment",
            {"studio_id": str(world.studio_id), "route": "pre_filing", "on": "2026-03-04"},
        ),
        ("mediator", {"mediator_id": str(world.mediator_id), "on": "2026-03-05"}),
    ):
        assert world.post(f"/api/v1/cases/{cid}/{path}", body).status_code == 200
    letter = world.post(
        f"/api/v1/cases/{cid}/documents", {"kind": "entrustment_letter", "on": "2026-03-05"}
    )
    assert letter.status_code == 201, letter.text
    ids = {
        "case": cid,
        "studio": str(world.studio_id),
        "mediator": str(world.mediator_id),
        "doc": letter.json()["document_id"],
    }

    doc = world.client.get("/openapi.json").json()
    served = {
        (m.upper(), p): op["x-action"]
        for p, item in doc["paths"].items()
        for m, op in item.items()
        if "x-action" in op
    }
    listed = {
        (
            m,
            p.replace("{case}", "{case_id}")
            .replace("{studio}", "{studio_id}")
            .replace("{mediator}", "{mediator_id}")
            .replace("{doc}", "{document_id}"),
        ): a
        for a, (m, p, _, _) in ENDPOINTS.items()
    }
    assert set(ENDPOINTS) == set(MATRIX), "every action of the matrix is walked"
    assert served == {**listed, **EXTRA_ROUTES}, "every guarded route is walked"

    mismatches = []
    calls = 0
    for action, (method, template, body, query) in ENDPOINTS.items():
        path = _fill(template, ids)
        for user in USERS:
            before = world.events()
            headers = world.h(user)
            if method == "POST" and action not in CREATES:
                headers["If-Match"] = '"0"'
            payload = case_body(77) if body == "CASE" else _fill(body, ids)
            r = world.client.request(method, path, json=payload, params=query, headers=headers)
            calls += 1
            want = expected(action, user, template)
            if r.status_code not in want:
                mismatches.append(f"{action} as {user}: {r.status_code} not in {want}: {r.text}")
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json"
                if want == {403} and USERS[user][0] is Role.MEDIATOR and "{case}" in template:
                    g = MATRIX[action].grants[Role.MEDIATOR]
                    code = "not_assigned_mediator" if g is Grant.ASSIGNED else "forbidden"
                    if r.json()["code"] != code:
                        mismatches.append(f"{action} as {user}: code {r.json()['code']}")
            if r.status_code not in (200, 201):
                assert world.events() == before, f"{action} as {user} recorded an event"
            if user.startswith("out_") and "{case}" in template:
                assert r.status_code == 404 and "张三" not in r.text
        # and without credentials at all
        r = world.client.request(method, path, json=_fill(body, ids), params=query)
        if r.status_code != 401:
            mismatches.append(f"{action} without a token: {r.status_code}")
    assert not mismatches, "\n".join(mismatches)
    assert calls == len(ENDPOINTS) * len(USERS)
