"""Search (issue 17; contract v1.1 "The official record"): ``GET /api/v1/cases?q=`` and the
search box, by case number or 案号 (whole or its sequence part), party name (prefix),
resident ID number (whole), credit code and short id; inside the jurisdiction; masked
for auditors; written to the access audit; answered from the ``rm_search`` index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.pages.common import COOKIE
from projections.search import search_tables, terms_of
from tests.api.conftest import YICHANG, World, case_body
from tests.support.factories import credit_code, resident_id

CASES = "/api/v1/cases"


def _found(world: World, q: str, who: str = "clerk", **params: str) -> list[dict[str, Any]]:
    r = world.get(CASES, who=who, params={"q": q, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _ids(world: World, q: str, who: str = "clerk", **params: str) -> set[str]:
    return {c["case_id"] for c in _found(world, q, who, **params)}


def _create(world: World, seed: int, who: str = "clerk", **over: Any) -> dict[str, Any]:
    r = world.post(CASES, case_body(seed, **over), who=who)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_search_by_number_name_id_credit_code_and_short_id(world: World) -> None:
    a = _create(world, 11)
    b = _create(
        world,
        12,
        applicant={
            "name": "李四光",
            "id_number": resident_id(12),
            "phone": "13900139000",
            "worker_category": "courier",
        },
        respondent={"name": "汉口某某快递有限公司", "credit_code": credit_code(12)},
    )
    accepted = world.post(
        f"{CASES}/{b['case_id']}/acceptance", {"accepted": True, "on": "2026-03-03"}
    ).json()
    assert a["case_number"] == "武劳人仲登字〔2026〕第1号"
    assert accepted["filing_number"] == "武劳人仲案字〔2026〕第1号"
    both = {a["case_id"], b["case_id"]}
    # the whole number, typed with other brackets or spaces too; its sequence part
    assert _ids(world, "武劳人仲登字〔2026〕第1号") == {a["case_id"]}
    assert _ids(world, " 武劳人仲登字[2026]第2号 ") == {b["case_id"]}
    assert _ids(world, "武劳人仲案字（2026）第1号") == {b["case_id"]}
    assert _ids(world, "2") == {b["case_id"]}
    assert _ids(world, "1") == both  # registration 1 (a) and 案号 1 (b)
    # a party's name by its beginning (not its middle)
    assert _ids(world, "李") == {b["case_id"]}
    assert _ids(world, "李四光") == {b["case_id"]}
    assert _ids(world, "四光") == set()
    assert _ids(world, "武汉某某") == {a["case_id"]}
    # the whole resident ID number (a lower-case x as typed), never a part of it
    assert _ids(world, resident_id(11)) == {a["case_id"]}
    assert _ids(world, resident_id(11).lower()) == {a["case_id"]}
    assert _ids(world, resident_id(11)[:10]) == set()
    assert _ids(world, credit_code(12)) == {b["case_id"]}
    assert _ids(world, a["case_id"][:8]) == {a["case_id"]}
    assert _ids(world, "王五") == set()
    # combinable with the other filters
    assert _ids(world, "1", status="accepted") == {b["case_id"]}
    assert _ids(world, "1", status="received") == {a["case_id"]}


def test_search_stays_inside_the_jurisdiction(world: World) -> None:
    wuhan = _create(world, 21)
    yichang = _create(world, 21, who="out_clerk", region=YICHANG)
    assert yichang["case_number"] == "宜劳人仲登字〔2026〕第1号"
    same_id = resident_id(21)
    assert _ids(world, same_id) == {wuhan["case_id"]}
    assert _ids(world, same_id, who="out_clerk") == {yichang["case_id"]}
    assert _ids(world, "张三", who="admin") == {wuhan["case_id"], yichang["case_id"]}
    # a mediator finds only their own cases
    assert _ids(world, same_id, who="mediator") == set()
    # outside the caller's region: 404, as for the list
    r = world.get(CASES, who="out_clerk", params={"q": same_id, "region": "420100"})
    assert r.status_code == 404


def test_auditors_search_with_masked_results_and_every_search_is_audited(world: World) -> None:
    case = _create(world, 31)
    found = _found(world, resident_id(31), who="auditor")
    assert [c["case_id"] for c in found] == [case["case_id"]]
    assert found[0]["applicant"]["id_number"] != resident_id(31)
    assert "*" in found[0]["applicant"]["id_number"] and "*" in found[0]["applicant"]["name"]
    assert _found(world, resident_id(31))[0]["applicant"]["id_number"] == resident_id(31)
    _found(world, "武劳人仲登字〔2026〕第1号")
    audit = world.get("/api/v1/audit/access", who="auditor").json()["items"]
    searches = [e for e in audit if e.get("query") and "q=" in e["query"]]
    queries = [e["query"] for e in searches]
    # an ID number is kept masked; a case number as typed
    assert any(q == "q=武劳人仲登字〔2026〕第1号" for q in queries), queries
    assert not any(resident_id(31) in q for q in queries)
    assert {e["username"] for e in searches} >= {"clerk", "auditor"}


def test_bad_search_text_is_refused_or_finds_nothing(world: World) -> None:
    _create(world, 41)
    assert world.get(CASES, params={"q": ""}).status_code == 422
    assert world.get(CASES, params={"q": "x" * 101}).status_code == 422
    assert _ids(world, "   ") == set()
    assert _ids(world, "%") == set() and _ids(world, "'; drop table rm_search; --") == set()


def test_the_index_holds_no_personal_text(world: World) -> None:
    _create(world, 51)
    t = search_tables()["search"]
    with world.system.engine.connect() as conn:
        rows = conn.execute(select(t)).mappings().all()
    assert rows
    text = " ".join(str(v) for r in rows for v in r.values())
    for plain in ("张三", resident_id(51), credit_code(51), "武劳人仲"):
        assert plain not in text
    assert all(len(r["term"]) == 64 for r in rows)
    assert {r["subject"] for r in rows if r["part"] == "a0"} != {None}


def _page(world: World, who: str, path: str, **params: str) -> Any:
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        return world.client.get(path, params=params, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def test_the_search_page_and_the_box_on_every_page(world: World) -> None:
    case = _create(world, 61)
    other = _create(world, 62)
    for path in ("/clerk", "/cases", f"/cases/{case['case_id']}", "/dashboard"):
        r = _page(world, "clerk", path)
        assert r.status_code == 200, path
        assert 'class="top-search"' in r.text and 'name="q"' in r.text, path
    found = _page(world, "clerk", "/cases", q=resident_id(61))
    assert found.status_code == 200
    assert case["case_number"] in found.text and other["case_number"] not in found.text
    assert "张三" in found.text and "已收案" in found.text  # parties and status
    by_number = _page(world, "clerk", "/cases", q=other["case_number"])
    assert other["case_number"] in by_number.text and case["case_number"] not in by_number.text
    none = _page(world, "clerk", "/cases", q="不存在的人")
    assert "没有找到符合条件的案件" in none.text
    # the case page's title is its number; lists show numbers, not eight hex characters
    page = _page(world, "clerk", f"/cases/{case['case_id']}")
    assert f"<title>{case['case_number']}" in page.text
    listed = _page(world, "clerk", "/cases")
    assert case["case_number"] in listed.text and f">{case['case_id'][:8]}<" not in listed.text
    masked = _page(world, "auditor", "/cases", q=resident_id(61))
    table = masked.text[masked.text.index('<table class="cases">') :]
    assert case["case_number"] in table and "张三" not in table  # the name masked


def test_terms_of_a_query() -> None:
    assert "seq:45" in terms_of("45") and "seq:45" in terms_of(" ４５ ")
    assert "number:武劳人仲案字〔2026〕第45号" in terms_of("武劳人仲案字[2026]第45号")
    assert terms_of("") == [] and terms_of("   ") == []
    assert "short:1a2b3c4d" in terms_of("1A2B3C4D")
