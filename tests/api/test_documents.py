"""Documents (contract v1.1, issue 17): each kind issued from a case in the right state (409
otherwise), read back from the PDF (case number, parties, facts), the recorded SHA-256
equal to the bytes served twice, and /verify for a real and a forged code."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from tests.api.conftest import World
from tests.api.test_cases import CASES, agreed, cmd, create, mediating

KINDS = (
    "mediation_suggestion",
    "entrustment_letter",
    "mediation_agreement",
    "mediation_ended_notice",
    "acceptance_notice",
    "non_acceptance_notice",
    "service_receipt",
)


def issue(world: World, case_id: str, kind: str, on: str = "2026-03-20", who: str = "clerk") -> Any:
    return world.post(f"{CASES}/{case_id}/documents", {"kind": kind, "on": on}, who=who)


def issued(world: World, case_id: str, kind: str, **kw: Any) -> dict[str, Any]:
    r = issue(world, case_id, kind, **kw)
    assert r.status_code == 201, r.text
    return dict(r.json())


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def squeezed(text: str) -> str:
    return "".join(text.split())


# ------------------------------------------------------------- a case in each kind's state


def _received(world: World, seed: int) -> str:
    return str(create(world, seed)["case_id"])


def _failed(world: World, seed: int) -> str:
    case_id = mediating(world, seed)
    cmd(
        world,
        case_id,
        "failure",
        {"on": "2026-03-08", "reason": "双方差距过大", "reason_code": "no_agreement"},
        who="mediator",
    )
    return case_id


def _accepted(world: World, seed: int) -> str:
    case_id = _received(world, seed)
    cmd(world, case_id, "acceptance", {"accepted": True, "on": "2026-03-04"})
    return case_id


def _not_accepted(world: World, seed: int) -> str:
    case_id = _received(world, seed)
    body = {"accepted": False, "on": "2026-03-04", "reason": "申请人不是适格主体"}
    cmd(world, case_id, "acceptance", body)
    return case_id


def _served(world: World, seed: int) -> str:
    case_id = _received(world, seed)
    issued(world, case_id, "mediation_suggestion", on="2026-03-03")
    return case_id


RIGHT: dict[str, Callable[[World, int], str]] = {
    "mediation_suggestion": _received,
    "entrustment_letter": lambda w, s: mediating(w, s),
    "mediation_agreement": lambda w, s: agreed(w, s),
    "mediation_ended_notice": _failed,
    "acceptance_notice": _accepted,
    "non_acceptance_notice": _not_accepted,
    "service_receipt": _served,
}
WRONG: dict[str, Callable[[World, int], str]] = {
    "mediation_suggestion": _accepted,
    "entrustment_letter": _received,
    "mediation_agreement": lambda w, s: mediating(w, s),
    "mediation_ended_notice": lambda w, s: agreed(w, s),
    "acceptance_notice": _received,
    "non_acceptance_notice": _accepted,
    "service_receipt": _received,
}
# a fact of the case each kind states (besides the parties and the case number)
FACT = {
    "mediation_suggestion": "12,800.00",
    "entrustment_letter": "武汉市裁调对接工作室",
    "mediation_agreement": "10,000.00",
    "mediation_ended_notice": "未达成协议",
    "acceptance_notice": "2026年3月4日",
    "non_acceptance_notice": "申请人不是适格主体",
    "service_receipt": "调解建议书",
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_issued_read_back_and_verified(world: World, kind: str) -> None:
    case_id = RIGHT[kind](world, 1)
    case = world.get(f"{CASES}/{case_id}").json()
    before = world.events()
    d = issued(world, case_id, kind)
    assert world.events() > before
    assert d["kind"] == kind and d["issued_on"] == "2026-03-20" and d["pages"] >= 1
    assert "〔2026〕第" in d["number"] and d["number"].endswith("号")
    pdf = world.get(d["pdf"])
    again = world.get(d["pdf"])
    assert pdf.status_code == again.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == d["sha256"]
    assert again.content == pdf.content
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == d["pages"]
    text = squeezed(text_of(pdf.content))
    number = case.get("filing_number") or case.get("case_number") or case_id[:8]
    assert number in text
    assert d["number"] in text
    assert "张三" in text
    if kind != "service_receipt":  # the receipt names the person served
        assert "武汉某某物流有限公司" in text
    assert FACT[kind] in text
    assert d["verification_code"] in text
    listed = world.get(f"{CASES}/{case_id}/documents").json()["items"]
    assert [x["document_id"] for x in listed][-1] == d["document_id"]
    history = world.get(f"{CASES}/{case_id}/history").json()["events"]
    assert history[-1]["type"] == "DocumentIssued"
    assert history[-1]["data"]["sha256"] == d["sha256"]
    # /verify: no login, the facts of issue, nothing personal
    v = world.client.get(
        f"/verify/{d['verification_code']}", headers={"Accept": "application/json"}
    )
    assert v.status_code == 200, v.text
    body = v.json()
    assert body["found"] is True
    assert (body["number"], body["sha256"], body["issued_on"]) == (
        d["number"],
        d["sha256"],
        "2026-03-20",
    )
    assert body["issuing_body"] == d["issuing_body"]
    assert "张三" not in v.text and case["applicant"]["id_number"] not in v.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_that_does_not_fit_the_state_is_409(world: World, kind: str) -> None:
    case_id = WRONG[kind](world, 2)
    before = world.events()
    r = issue(world, case_id, kind)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition"), r.text
    assert world.events() == before
    assert world.get(f"{CASES}/{case_id}/documents").json()["items"] == []


def test_forged_and_malformed_codes_are_not_found(world: World) -> None:
    case_id = _received(world, 3)
    d = issued(world, case_id, "mediation_suggestion")
    real = d["verification_code"]
    forged = ("ABCD" if not real.startswith("ABCD") else "EFGH") + real[4:]
    for code in (forged, "not-a-code", "x" * 40):
        r = world.client.get(f"/verify/{code}", headers={"Accept": "application/json"})
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
    page = world.client.get(f"/verify/{forged}")
    assert page.status_code == 404 and "未找到" in page.text
    page = world.client.get(f"/verify/{real.lower()}")  # as typed from paper
    assert page.status_code == 200 and d["number"] in page.text and "张三" not in page.text


def test_verify_throttles_a_client_guessing_codes(world: World) -> None:
    for _ in range(5):
        world.client.get("/verify/AAAA-AAAA-AAAA", headers={"Accept": "application/json"})
    r = world.client.get("/verify/AAAA-AAAA-AAAB", headers={"Accept": "application/json"})
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) >= 1


def test_numbers_are_consecutive_per_kind_and_year(world: World) -> None:
    numbers = [
        issued(world, _received(world, seed), "mediation_suggestion")["number"]
        for seed in (4, 5, 6)
    ]
    assert [n.split("第")[1] for n in numbers] == ["1号", "2号", "3号"]
    assert all(n.startswith("鄂武劳人仲建字〔2026〕") for n in numbers)


def test_who_may_issue_and_read(world: World) -> None:
    case_id = agreed(world, seed=7)
    r = issue(world, case_id, "entrustment_letter", who="mediator")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    d = issued(world, case_id, "mediation_agreement", who="mediator")
    assert d["issuing_body"] == "武汉市裁调对接工作室"
    r = issue(world, case_id, "mediation_agreement", who="other_mediator")
    assert (r.status_code, r.json()["code"]) == (403, "not_assigned_mediator")
    assert issue(world, case_id, "mediation_agreement", who="auditor").status_code == 403
    assert issue(world, case_id, "mediation_agreement", who="out_clerk").status_code == 404
    assert world.get(f"{CASES}/{case_id}/documents", who="auditor").status_code == 200
    assert world.get(d["pdf"], who="auditor").status_code == 403  # unmasked parties
    assert world.get(d["pdf"], who="out_clerk").status_code == 404
    assert world.get(d["pdf"], who="mediator").status_code == 200
    missing = d["pdf"].replace(d["document_id"], "00000000-0000-0000-0000-000000000000")
    assert world.get(missing).status_code == 404
    r = issue(world, case_id, "no_such_kind")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    r = issue(world, case_id, "mediation_agreement", on="2099-01-01")
    assert (r.status_code, r.json()["code"]) == (422, "date_in_future")
    r = issue(world, case_id, "mediation_agreement", on="2026-03-01")  # before the agreement
    assert (r.status_code, r.json()["code"]) == (422, "date_out_of_order")


def test_docx_is_the_same_document_for_editing_and_reads_are_audited(world: World) -> None:
    case_id = mediating(world, seed=8)
    d = issued(world, case_id, "entrustment_letter")
    r = world.get(f"{CASES}/{case_id}/documents/{d['document_id']}.docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert d["number"] in xml and "张三" in xml and d["verification_code"] in xml
    audit = world.get(f"/api/v1/audit/access?case_id={case_id}", who="auditor").json()["items"]
    actions = [a["action"] for a in audit]
    assert "document.read" in actions and "document.list" not in actions
    world.get(f"{CASES}/{case_id}/documents")
    audit = world.get(f"/api/v1/audit/access?case_id={case_id}", who="auditor").json()["items"]
    assert "document.list" in [a["action"] for a in audit]


def test_idempotent_issue_returns_the_same_document(world: World) -> None:
    case_id = _received(world, 9)
    key = {"Idempotency-Key": "doc-1"}
    first = world.post(
        f"{CASES}/{case_id}/documents",
        {"kind": "mediation_suggestion", "on": "2026-03-05"},
        headers=key,
    )
    again = world.post(
        f"{CASES}/{case_id}/documents",
        {"kind": "mediation_suggestion", "on": "2026-03-05"},
        headers=key,
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(world.get(f"{CASES}/{case_id}/documents").json()["items"]) == 1
