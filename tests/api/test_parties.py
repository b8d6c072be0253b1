"""Every party (issue 17, contract v1.1 "Parties"): lists of applicants and respondents with
addresses, agents and the legal representative; collective disputes and their
representatives (LDMAL art. 7), with every refusal; masking of every party; statistics
``workers`` and ``collective``; the intake form's repeatable rows. Both backends."""

from __future__ import annotations

from typing import Any

from api.pages.common import COOKIE
from tests.api.conftest import World, case_body
from tests.security.hygiene_support import page
from tests.support.factories import credit_code, resident_id

CASES = "/api/v1/cases"


def _applicant(seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"工人{seed:03d}",
        "id_number": resident_id(seed),
        "phone": f"1390000{seed:04d}",
        "worker_category": "employee",
        **extra,
    }


def _respondent(seed: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"武汉第{seed}劳务有限公司", "credit_code": credit_code(seed), **extra}


def _body(applicants: list[dict[str, Any]], respondents: list[dict[str, Any]], **over: Any) -> Any:
    body = case_body(1, applicants=applicants, respondents=respondents, **over)
    del body["applicant"], body["respondent"]
    return body


def _refused(world: World, body: dict[str, Any], code: str, field: str | None = None) -> Any:
    before = world.events()
    r = world.post(CASES, body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code, r.text
    if field is not None:
        assert r.json()["field"] == field, r.text
    assert world.events() == before  # nothing recorded
    return r.json()


def test_several_parties_with_their_particulars(world: World) -> None:
    first = _applicant(
        1, address="湖北省武汉市江岸区解放大道1号", agent={"name": "李律师", "kind": "lawyer"}
    )
    employer = _respondent(
        7,
        address="湖北省武汉市江汉区建设大道2号",
        legal_representative="赵法人",
        agent={"name": "钱代理", "kind": "other"},
    )
    body = _body([first, _applicant(2), _applicant(3)], [employer, _respondent(8)])
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text
    view = r.json()
    assert [a["name"] for a in view["applicants"]] == ["工人001", "工人002", "工人003"]
    assert view["applicants"][0]["agent"] == {"name": "李律师", "kind": "lawyer"}
    assert view["applicants"][0]["address"] == first["address"]
    assert view["applicants"][1]["agent"] is None and view["applicants"][1]["address"] is None
    assert view["respondents"][0]["legal_representative"] == "赵法人"
    assert view["respondents"][1]["credit_code"] == credit_code(8)
    # v1 integrators: the first of each, as before
    assert view["applicant"] == view["applicants"][0]
    assert view["respondent"] == view["respondents"][0]
    assert (view["collective"], view["representatives"]) == (False, [])
    again = world.get(f"{CASES}/{view['case_id']}").json()
    assert again["applicants"] == view["applicants"]
    history = world.get(f"{CASES}/{view['case_id']}/history").json()
    received = history["events"][0]["data"]
    assert (
        len(received["applicants"]) == 3 and received["applicants"][0]["agent"]["name"] == "李律师"
    )


def test_either_form_or_both_when_they_agree(world: World) -> None:
    both = case_body(11)
    both["applicants"] = [dict(both["applicant"]), _applicant(12)]
    both["respondents"] = [dict(both["respondent"])]
    r = world.post(CASES, both)
    assert r.status_code == 201, r.text
    assert len(r.json()["applicants"]) == 2
    differ = case_body(13)
    differ["applicants"] = [_applicant(14)]
    _refused(world, differ, "validation_error")
    neither = case_body(15)
    del neither["applicant"]
    _refused(world, neither, "validation_error")
    # a v1 body still gives one-element lists
    v1 = world.post(CASES, case_body(16)).json()
    assert len(v1["applicants"]) == 1 and v1["applicants"][0] == v1["applicant"]


def test_duplicate_parties_are_refused(world: World) -> None:
    same = _applicant(21)
    _refused(
        world,
        _body([same, _applicant(22), dict(same, name="另一人")], [_respondent(1)]),
        "validation_error",
        "applicants.2.id_number",
    )
    _refused(world, _body([_applicant(23)], [_respondent(3), _respondent(3)]), "validation_error")


def test_a_collective_dispute_names_one_to_five_representatives(world: World) -> None:
    workers = [_applicant(100 + i) for i in range(10)]
    ids = [w["id_number"] for w in workers]
    problem = _refused(world, _body(workers, [_respondent(1)]), "representatives_required")
    assert "第7条" in problem.get("source", "")
    for representatives in (
        ids[:6],  # more than five
        [ids[0], ids[0]],  # the same twice
        [resident_id(999)],  # not an applicant of the case
    ):
        _refused(
            world,
            _body(workers, [_respondent(1)], representatives=representatives),
            "representatives_invalid",
        )
    _refused(  # a malformed ID number is a validation error
        world,
        _body(workers, [_respondent(1)], representatives=["42010219900101000X"]),
        "validation_error",
    )
    _refused(  # fewer than ten workers: no representatives to elect
        world,
        _body(workers[:9], [_respondent(1)], representatives=ids[:1]),
        "representatives_invalid",
    )
    r = world.post(CASES, _body(workers, [_respondent(1)], representatives=ids[3:6]))
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["collective"] is True and view["representatives"] == ids[3:6]
    assert [a["representative"] for a in view["applicants"]] == [i in (3, 4, 5) for i in range(10)]
    assert world.post(CASES, _body(workers[:9], [_respondent(1)])).json()["collective"] is False


def test_every_party_is_masked_for_the_auditor(world: World) -> None:
    workers = [_applicant(200 + i) for i in range(11)]
    workers[4] = dict(
        workers[4], address="湖北省武汉市江岸区某街道", agent={"name": "孙亲属", "kind": "relative"}
    )
    employer = _respondent(
        9, legal_representative="周法人", agent={"name": "吴律师", "kind": "lawyer"}
    )
    body = _body(workers, [employer], representatives=[workers[4]["id_number"]])
    case_id = world.post(CASES, body).json()["case_id"]
    seen = world.get(f"{CASES}/{case_id}", who="auditor")
    history = world.get(f"{CASES}/{case_id}/history", who="auditor")
    listing = world.get(f"{CASES}?region=420100", who="auditor")
    for r in (seen, history, listing):
        assert r.status_code == 200, r.text
        for secret in (
            "工人204",
            "孙亲属",
            "周法人",
            "吴律师",
            "江岸区某街道",
            workers[7]["id_number"],
        ):
            assert secret not in r.text, secret
    view = seen.json()
    masked = view["applicants"][4]
    assert masked["name"] == "工****" and masked["id_number"].endswith(workers[4]["id_number"][-4:])
    assert masked["agent"] == {"name": "孙**", "kind": "relative"}
    assert masked["address"].startswith("湖北省武汉市") and "*" in masked["address"]
    assert view["representatives"] == [masked["id_number"]]
    assert view["respondents"][0]["legal_representative"] == "周**"
    assert view["respondents"][0]["name"] == employer["name"]  # an organisation's name
    received = history.json()["events"][0]["data"]
    assert received["representatives"] == [masked["id_number"]]
    assert all(a["name"].endswith("*") for a in received["applicants"])
    clerk = world.get(f"{CASES}/{case_id}").json()
    assert clerk["applicants"][4]["agent"]["name"] == "孙亲属"


def test_severance_takes_every_party_with_it(world: World) -> None:
    workers = [_applicant(300 + i) for i in range(10)]
    body = _body(
        workers, [_respondent(4), _respondent(5)], representatives=[workers[0]["id_number"]]
    )
    body["claims"] = [
        {"category": "remuneration", "amount": "1000.00"},
        {"category": "contract", "amount": "500.00"},
    ]
    case_id = world.post(CASES, body).json()["case_id"]
    r = world.post(
        f"{CASES}/{case_id}/severance", {"claim_categories": ["contract"], "on": "2026-03-03"}
    )
    assert r.status_code == 201, r.text
    new, old = r.json(), world.get(f"{CASES}/{case_id}").json()
    for key in ("applicants", "respondents", "collective", "representatives"):
        assert new[key] == old[key], key


def test_statistics_count_workers_and_collective_cases(world: World) -> None:
    world.post(CASES, case_body(41))  # one worker
    world.post(CASES, _body([_applicant(42), _applicant(43)], [_respondent(2)]))
    workers = [_applicant(400 + i) for i in range(12)]
    world.post(CASES, _body(workers, [_respondent(1)], representatives=[workers[0]["id_number"]]))
    query = "region=420100&from=2026-03-01&to=2026-03-31&group_by=county"
    counters = world.get(f"/api/v1/stats/caseload?{query}", who="auditor").json()
    exact = world.get(
        f"/api/v1/stats/caseload?{query}&as_of=2099-01-01T00:00:00%2B08:00", who="auditor"
    ).json()
    for report in (counters, exact):
        assert report["totals"]["received"] == 3
        assert (report["totals"]["workers"], report["totals"]["collective"]) == (15, 1)
    assert counters["rows"] == exact["rows"]
    drill = world.get(
        f"/api/v1/stats/caseload/cases?{query}&measure=collective&key=total", who="auditor"
    )
    assert drill.status_code == 200, drill.text
    assert (
        len(drill.json()["case_ids"] if "case_ids" in drill.json() else drill.json()["items"]) == 1
    )


def _posted(world: World, form: dict[str, str]) -> Any:
    """The intake form posted by the clerk: its 303 (to the new case, or back to the form)."""
    world.client.cookies.set(COOKIE, world.tokens["clerk"])
    try:
        return world.client.post("/cases/new", data=form, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def _form(rows: dict[str, str]) -> dict[str, str]:
    return {
        "region_code": "420102",
        "received_on": "2026-03-02",
        "claims.0.category": "remuneration",
        "claims.0.amount": "100.00",
        **rows,
    }


def _row(i: int, seed: int) -> dict[str, str]:
    p = f"applicants.{i}."
    return {
        p + "name": f"表单工人{seed}",
        p + "id_number": resident_id(seed),
        p + "phone": "13800138000",
        p + "worker_category": "courier",
    }


def test_the_intake_form_takes_several_parties(world: World) -> None:
    blank = page(world, "clerk", "/cases/new")
    assert blank.status_code == 200
    assert 'name="applicants.2.name"' in blank.text and 'name="respondents.1.name"' in blank.text
    assert "/static/parties.js" in blank.text
    rows = {
        **_row(0, 501),
        "applicants.0.agent.name": "工会代理人",
        "applicants.0.agent.kind": "union",
        **{f"applicants.1.{k}": "" for k in ("name", "id_number", "phone")},  # a blank row
        **_row(2, 502),
        "respondents.0.name": "武汉表单有限公司",
        "respondents.0.credit_code": credit_code(51),
        "respondents.0.legal_representative": "郑法人",
    }
    r = _posted(world, _form(rows))
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/"), r.text[:800]
    case_id = r.headers["location"].split("/")[2].split("?")[0]
    view = world.get(f"{CASES}/{case_id}").json()
    assert [a["name"] for a in view["applicants"]] == ["表单工人501", "表单工人502"]
    assert view["applicants"][0]["agent"] == {"name": "工会代理人", "kind": "union"}
    assert view["respondents"][0]["legal_representative"] == "郑法人"
    shown = page(world, "clerk", f"/cases/{case_id}")
    assert "表单工人502" in shown.text and "郑法人" in shown.text and "工会代理人" in shown.text
    masked = page(world, "auditor", f"/cases/{case_id}")
    assert (
        masked.status_code == 200
        and "表单工人502" not in masked.text
        and "郑法人" not in masked.text
    )


def test_the_intake_form_names_the_row_refused(world: World) -> None:
    before = world.events()
    rows = {
        **_row(0, 601),
        **_row(1, 602),
        "respondents.0.name": "公司",
        "respondents.0.credit_code": credit_code(61),
    }
    rows["applicants.1.id_number"] = "000000199001010000"
    r = page(world, "clerk", "/cases/new", _form(rows))  # back to the form (PRG)
    assert r.status_code == 200 and 'class="refusal"' in r.text
    bad = r.text.split('name="applicants.1.id_number"')[1].split(">")[0]
    assert "aria-invalid" in bad
    ten = {k: v for i in range(10) for k, v in _row(i, 700 + i).items()}
    ten |= {"respondents.0.name": "公司", "respondents.0.credit_code": credit_code(61)}
    r = page(world, "clerk", "/cases/new", _form(ten))
    assert r.status_code == 200 and "representatives_required" in r.text
    assert 'name="applicants.10.name"' in r.text  # the rows typed, and one more
    assert world.events() == before
    r = _posted(world, _form({**ten, "applicants.3.representative": "1"}))
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/"), r.text[:800]


def test_search_finds_a_case_by_any_of_its_parties(world: World) -> None:
    """The search index (issue 17, branch numbers) reads every party this branch records."""
    workers = [_applicant(800 + i) for i in range(10)]
    body = _body(
        workers, [_respondent(31), _respondent(32)], representatives=[workers[0]["id_number"]]
    )
    case_id = world.post(CASES, body).json()["case_id"]
    for q in (workers[7]["id_number"], "工人807", credit_code(32)):
        found = world.get(CASES, params={"q": q}).json()["items"]
        assert [c["case_id"] for c in found] == [case_id], q
