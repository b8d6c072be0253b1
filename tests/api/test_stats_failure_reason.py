"""Contract v1.1: the caseload by ``group_by=failure_reason``: one row per reason code
that occurs, its ``failed`` the failures recorded with that code; everything that is not a
failure counts under ``none``; the rows add up to the totals of any other grouping."""

from __future__ import annotations

from typing import Any

from mediation import labels
from tests.api.conftest import WUHAN, World
from tests.api.test_cases import agreed, cmd, mediating

STATS = "/api/v1/stats/caseload"
MARCH = {"region": WUHAN, "from": "2026-03-01", "to": "2026-03-31"}  # whole month


def _fail(world: World, case_id: str, code: str | None) -> None:
    body: dict[str, Any] = {"on": "2026-03-12", "reason": "调解不成"}
    if code is not None:
        body["reason_code"] = code
    c = cmd(world, case_id, "failure", body, who="mediator")
    assert c["failure_reason_code"] == (code or "other")


def test_caseload_by_failure_reason(world: World) -> None:
    for seed, code in ((1, "no_agreement"), (2, "no_agreement"), (3, "party_absent"), (4, None)):
        _fail(world, mediating(world, seed=seed), code)
    withdrawn = mediating(world, seed=5)  # a withdrawal of consent ends the mediation
    c = cmd(
        world,
        withdrawn,
        "consents",
        {"party": "respondent", "given": False, "on": "2026-03-10"},
    )
    assert c["failure_reason_code"] == "consent_withdrawn"
    agreed(world, seed=6)  # pending: under none
    expected = {"no_agreement": 2, "party_absent": 1, "other": 1, "consent_withdrawn": 1}

    for params in (MARCH, {**MARCH, "to": "2026-03-20"}, {**MARCH, "as_of": "2030-01-01T00:00Z"}):
        r = world.get(STATS, who="auditor", params={**params, "group_by": "failure_reason"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["group_by"] == "failure_reason"
        rows = {row["key"]: row for row in body["rows"]}
        assert {k: row["failed"] for k, row in rows.items() if row["failed"]} == expected
        for key, row in rows.items():
            want = "非调解不成" if key == "none" else labels.FAILURE_REASON[key]
            assert row["label"] == want
            if key != "none":
                assert row["received"] == row["entrusted"] == row["pending"] == 0
        assert rows["none"]["failed"] == 0 and rows["none"]["pending"] == 1
        by_city = world.get(STATS, who="auditor", params={**params, "group_by": "city"}).json()
        assert body["totals"] == by_city["totals"]
        for measure in ("received", "entrusted", "failed", "pending", "concluded"):
            assert sum(row[measure] for row in body["rows"]) == body["totals"][measure]

    r = world.get(
        f"{STATS}/cases",
        who="auditor",
        params={**MARCH, "group_by": "failure_reason", "key": "no_agreement", "measure": "failed"},
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["case_ids"]) == 2
