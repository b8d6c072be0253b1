"""Finding: resident IDs born in 2030 or after the receipt date, or with area code
``000000``, were stored.

A resident ID's area code must lie in a province of the region table (abolished county
codes stay valid in old numbers, so only the province is checked); its holder cannot be
born after the day the case was received (that day is never later than today), nor
before 1900. The API, the web intake form and the domain (the importer) refuse alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from mediation.errors import ValidationFailed
from mediation.identifiers import resident_id_check_char
from tests.api.conftest import World, case_body
from tests.security.hygiene_support import CASES, page, world_on
from tests.support.factories import CLERK, SteppingClock, applicant, claims, respondent

RECEIVED = "2026-03-02"  # case_body's receipt date; the test clock stands at 2026-06-30


def rid(area: str, born: str, seq: str = "123") -> str:
    body = area + born + seq
    return body + resident_id_check_char(body)


@pytest.fixture
def world(database_url: str, clock: SteppingClock) -> Iterator[World]:
    with world_on(database_url, clock) as w:
        yield w


@pytest.mark.parametrize(
    ("id_number", "why"),
    [
        (rid("420102", "20300101"), "born in 2030"),
        (rid("420102", "20260303"), "born the day after the receipt"),
        (rid("420102", "20260601"), "born after the receipt, before today"),
        (rid("420102", "18991231"), "born before 1900"),
        (rid("000000", "19900101"), "area 000000"),
        (rid("990000", "19900101"), "no province 99"),
        (rid("200101", "19900101"), "no province 20"),
    ],
)
def test_impossible_resident_ids_refused(world: World, id_number: str, why: str) -> None:
    before = world.events()
    body = case_body(8)
    body["applicant"]["id_number"] = id_number
    r = world.post(CASES, body)
    assert r.status_code == 422, (why, r.text)
    assert r.json()["code"] == "validation_error", why
    assert r.json()["field"] == "applicant.id_number", why
    assert world.events() == before


@pytest.mark.parametrize(
    "id_number",
    [
        rid("420102", "19900101"),
        rid("420121", "19650715"),  # 汉阳县: abolished, still in old numbers
        rid("110105", "19000101"),
        rid("420102", "20260302"),  # born on the day of receipt: possible, if odd
        rid("830000", "19881010"),  # a Taiwan resident's residence permit
    ],
)
def test_possible_resident_ids_accepted(world: World, id_number: str) -> None:
    body = case_body(9)
    body["applicant"]["id_number"] = id_number
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text


def test_the_intake_form_refuses_them(world: World) -> None:
    before = world.events()
    for id_number in (rid("000000", "19900101"), rid("420102", "20300101")):
        form = {
            "region_code": "420102",
            "received_on": RECEIVED,
            "applicant.name": "张三",
            "applicant.id_number": id_number,
            "applicant.phone": "13800138000",
            "applicant.worker_category": "employee",
            "respondent.name": "武汉某某物流有限公司",
            "respondent.credit_code": case_body(6)["respondent"]["credit_code"],
            "claims.0.category": "remuneration",
            "claims.0.amount": "100.00",
        }
        r = page(world, "clerk", "/cases/new", form)
        assert r.status_code == 200 and 'class="refusal"' in r.text, r.text[:500]
    assert world.events() == before


def test_the_domain_checks_the_birth_against_the_receipt(world: World) -> None:
    born_later = replace(applicant(1), id_number=rid("420102", "20260310"))
    with pytest.raises(ValidationFailed) as refused:
        world.system.app.receive_case(
            CLERK,
            region_code="420102",
            received_on=date(2026, 3, 9),
            applicant=born_later,
            respondent=respondent(1),
            claims=claims(),
        )
    assert refused.value.field == "applicant.id_number"
