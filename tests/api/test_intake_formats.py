"""Issue 12: the formats a clerk types, through the API and the intake page alike.

Phones: an 11-digit mobile (1[3-9]…) or a landline with its area code; ten digits are not
a number. A 确认劳动关系 claim needs no amount. A second case of the same worker against
the same employer is never refused by the API (integrators are not broken): the page
warns, and the clerk may register it anyway.
"""

from __future__ import annotations

import pytest

from api.pages.common import COOKIE
from tests.api.conftest import World, case_body

CASES = "/api/v1/cases"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("+86 13912345678", "13912345678"),
        ("027-8888888", "027-8888888"),
        ("02788888888", "027-88888888"),
        ("0710-3333333-12", "0710-3333333-12"),
    ],
)
def test_the_api_takes_mobiles_and_landlines_and_stores_them_normalised(
    world: World, typed: str, stored: str
) -> None:
    body = case_body(31)
    body["applicant"]["phone"] = typed
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text
    assert r.json()["applicant"]["phone"] == stored


@pytest.mark.parametrize("typed", ["1380013800", "88888888", "12345678901", "027-888", "电话"])
def test_the_api_refuses_what_is_not_a_phone_number(world: World, typed: str) -> None:
    body = case_body(32)
    body["applicant"]["phone"] = typed
    before = world.events()
    r = world.post(CASES, body)
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    assert r.json()["field"] == "applicant.phone"
    assert "手机号码" in r.json()["detail"]
    assert world.events() == before


def test_a_confirmation_claim_needs_no_amount_any_other_does(world: World) -> None:
    body = case_body(
        33,
        claims=[
            {"category": "labour_relationship_confirmation"},
            {"category": "remuneration", "amount": "8500.00"},
        ],
    )
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text
    assert [c["amount"] for c in r.json()["claims"]] == ["0.00", "8500.00"]
    r = world.post(CASES, case_body(34, claims=[{"category": "remuneration"}]))
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    assert r.json()["field"].startswith("claims.0")


def test_the_api_registers_a_second_case_of_the_same_worker_and_employer(world: World) -> None:
    assert world.post(CASES, case_body(35)).status_code == 201
    assert world.post(CASES, case_body(35)).status_code == 201  # no refusal by default


def _intake(world: World, form: dict[str, str]) -> tuple[int, str, str]:
    """POST the intake form as the browser does: (status, location, the page shown)."""
    world.client.cookies.set(COOKIE, world.tokens["clerk"])
    try:
        posted = world.client.post("/cases/new", data=form, follow_redirects=False)
        location = posted.headers.get("location", "")
        shown = world.client.get(location, follow_redirects=False).text if location else ""
        return posted.status_code, location, shown
    finally:
        world.client.cookies.clear()


def _form(seed: int, **over: str) -> dict[str, str]:
    body = case_body(seed)
    form = {
        "region_code": body["region_code"],
        "received_on": body["received_on"],
        "applicants.0.name": "张三",
        "applicants.0.id_number": body["applicant"]["id_number"],
        "applicants.0.phone": "027-8888888",
        "applicants.0.worker_category": "employee",
        "respondents.0.name": "武汉某某物流有限公司",
        "respondents.0.credit_code": body["respondent"]["credit_code"],
        "claims.0.category": "remuneration",
        "claims.0.amount": "8,500",
    }
    form.update(over)
    return form


def test_the_intake_page_takes_separators_and_lists_every_problem(world: World) -> None:
    status, location, shown = _intake(world, _form(36))
    assert status == 303 and location.startswith("/cases/") and location != "/cases/new"
    assert "8,500.00 元" in shown and "已办理：收案登记" in shown

    before = world.events()
    bad = _form(
        37,
        **{
            "applicants.0.name": "",
            "applicants.0.phone": "1380013800",
            "respondents.0.credit_code": "ABC",
            "claims.0.amount": "-5",
            "received_on": "2026-02-30",
        },
    )
    status, location, shown = _intake(world, bad)
    assert (status, location) == (303, "/cases/new")
    for field in (
        "applicants.0.name",
        "applicants.0.phone",
        "respondents.0.credit_code",
        "claims.0.amount",
        "received_on",
    ):
        assert f'id="e-{field}"' in shown, field
    assert "共 5 处需要修改" in shown
    assert "(claims.0.amount)" not in shown and "（claims.0.amount）" not in shown
    assert world.events() == before


def test_the_intake_page_warns_of_a_duplicate_and_registers_it_when_told(world: World) -> None:
    assert _intake(world, _form(38))[0] == 303
    before = world.events()
    status, location, shown = _intake(world, _form(38))
    assert location == "/cases/new" and "可能重复登记" in shown and "仍然登记" in shown
    assert world.events() == before
    status, location, _ = _intake(world, _form(38, duplicate_ok="on"))
    assert status == 303 and location.startswith("/cases/") and location != "/cases/new"
    assert world.events() > before
