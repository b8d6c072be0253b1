"""Search from the box on every page (issue 17): a clerk finds a case by the applicant's
resident ID number and by its case number, and opens it; an auditor finds it masked."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from mediation.values import ApplicantInput, RespondentInput, WorkerCategory
from tests.browser.conftest import SCREENSHOTS, Site
from tests.support.factories import CLERK, claims, credit_code, resident_id


def _search(page: Page, text: str) -> None:
    box = page.locator("#top-q")
    box.fill(text)
    box.press("Enter")


def test_a_clerk_searches_by_id_number_and_by_case_number(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    app = site.system.app  # type: ignore[attr-defined]
    case = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=site.today,
        applicant=ApplicantInput(
            "欧阳青", resident_id(8801), "13700137000", WorkerCategory.COURIER
        ),
        respondent=RespondentInput("武汉某某速递有限公司", credit_code(8801)),
        claims=claims(),
    )
    site.system.catch_up()  # type: ignore[attr-defined]
    assert case.case_number and case.case_number.startswith("武劳人仲登字〔")

    page: Page = page_for("clerk")
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    _search(page, resident_id(8801))
    results = page.locator("table.cases")
    expect(page.get_by_role("heading", level=1)).to_contain_text("搜索结果")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text(case.case_number)
    expect(results).to_contain_text("欧阳青")
    expect(results).to_contain_text("已收案")
    page.screenshot(path=str(SCREENSHOTS / "search-by-id-number.png"))

    results.get_by_role("link", name=case.case_number).click()
    expect(page.locator("#case-number")).to_have_text(case.case_number)
    assert re.search(r"/cases/" + str(case.id), page.url)

    # from the case page's own search box, by the case number (typed with [] brackets)
    _search(page, case.case_number.replace("〔", "[").replace("〕", "]"))
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(page.locator("table.cases")).to_contain_text("欧阳青")
    # and by its sequence part: the case is among the hits
    sequence = case.case_number.split("第")[1].rstrip("号")
    _search(page, sequence)
    expect(page.locator("table.cases")).to_contain_text(case.case_number)

    auditor: Page = page_for("auditor")
    _search(auditor, resident_id(8801))
    table = auditor.locator("table.cases")
    expect(table).to_contain_text(case.case_number)
    expect(table).not_to_contain_text("欧阳青")  # the name masked for an auditor
