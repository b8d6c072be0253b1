"""A refused command shows the rule in Chinese with its legal source and keeps the form."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from mediation.application import CommandContext
from mediation.values import (
    Actor,
    ApplicantInput,
    Claim,
    ClaimCategory,
    Party,
    RespondentInput,
    Role,
    WorkerCategory,
)
from tests.browser.conftest import SCREENSHOTS, Site
from tests.support.factories import credit_code, resident_id


def test_entrusting_a_labour_relationship_claim_is_refused_naming_the_rule(
    page_for,
    site: Site,  # type: ignore[no-untyped-def]
) -> None:
    app = site.system.app  # type: ignore[attr-defined]
    clerk = CommandContext(Actor("clerk", Role.CLERK))
    on = site.today - timedelta(days=1)
    case = app.receive_case(
        clerk,
        region_code="420103",
        received_on=on,
        applicant=ApplicantInput("赵六", resident_id(91), "13700000000", WorkerCategory.COURIER),
        respondent=RespondentInput("武汉某某快递服务有限公司", credit_code(91)),
        claims=[
            Claim(ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION, Decimal("0.00")),
            Claim(ClaimCategory.REMUNERATION, Decimal("5000.00")),
        ],
    )
    app.assess(
        clerk,
        case.id,
        on=on,
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=True,
        reason="适宜调解",
    )
    app.record_consent(clerk, case.id, party=Party.APPLICANT, given=True, on=on)
    app.record_consent(clerk, case.id, party=Party.RESPONDENT, given=True, on=on)
    site.system.catch_up()  # type: ignore[attr-defined]

    page: Page = page_for("clerk")
    page.goto(f"{site.base_url}/cases/{case.id}")
    page.locator("summary", has_text=re.compile("^委托调解$")).click()
    form = page.locator("#form-entrust")
    form.get_by_label("受托工作室").select_option(str(site.studio_id))
    form.get_by_label("委托日期").fill(on.isoformat())
    form.get_by_role("button", name="委托调解").click()

    # post/redirect/get: the address is the case page, not the form's POST URL
    assert page.url == f"{site.base_url}/cases/{case.id}", page.url
    refusal = page.locator("#refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_attribute("role", "alert")
    expect(refusal).to_contain_text("因确认劳动关系发生的争议不得委托调解")
    expect(refusal).to_contain_text("依据：湖北省《“人社+工会”劳动争议裁调对接工作实施办法》")
    # the code only in the folded technical line
    tech = refusal.locator("details.tech")
    expect(tech.locator("summary")).to_have_text("技术信息")
    assert "labour_relationship_not_entrustable" not in refusal.inner_text()
    assert "labour_relationship_not_entrustable" in tech.text_content()
    # in the first viewport, and focused (a screen reader announces it)
    box = refusal.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    assert page.evaluate("document.activeElement.id") == "refusal"
    # the form is open again and keeps what was typed
    expect(page.locator("#form-entrust")).to_have_attribute("open", "")
    expect(form.get_by_label("受托工作室")).to_have_value(str(site.studio_id))
    expect(form.get_by_label("委托日期")).to_have_value(on.isoformat())
    expect(page.locator("#case-status")).to_have_text("已收案")
    page.screenshot(path=str(SCREENSHOTS / "clerk-refusal.png"))  # the first viewport
    page.screenshot(path=str(SCREENSHOTS / "clerk-refusal-full.png"), full_page=True)

    # the way out the rule names: sever the confirmation claim, its form already open
    expect(page.locator("#form-sever")).to_have_attribute("open", "")
    expect(refusal.locator(".remedy a")).to_have_attribute("href", "#form-sever")
    sever = page.locator("#form-sever")
    expect(sever.get_by_label("确认劳动关系")).to_be_checked()

    # a refresh shows the case as it is: no refusal again, nothing re-submitted
    events = page.locator(".timeline .event").count()
    page.reload()
    expect(page.locator("#refusal")).to_have_count(0)
    assert page.locator(".timeline .event").count() == events


def test_intake_refusal_keeps_what_was_typed(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    page: Page = page_for("clerk")
    page.goto(f"{site.base_url}/cases/new")
    worker = page.get_by_role("group", name="第1名申请人")
    worker.locator('[name="applicants.0.name"]').fill("钱七")
    worker.get_by_label("公民身份号码").fill("420102199001011234")  # wrong check digit
    worker.get_by_label("联系电话").fill("13800000000")
    employer = page.get_by_role("group", name="第1名被申请人")
    employer.get_by_label("单位名称").fill("某公司")
    employer.get_by_label("统一社会信用代码").fill(credit_code(5))
    page.get_by_label("第1项 请求类别").select_option("contract")
    page.get_by_label("第1项 金额（元）").fill("100.00")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".refusal")).to_contain_text("输入有误")
    worker = page.get_by_role("group", name="第1名申请人")
    expect(worker.get_by_label("公民身份号码")).to_have_attribute("aria-invalid", "true")
    expect(worker.locator('[name="applicants.0.name"]')).to_have_value("钱七")
    expect(page.get_by_label("第1项 金额（元）")).to_have_value("100.00")


def test_pages_enforce_the_api_authorisation(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    page: Page = page_for("mediator")
    # a case outside the mediator's assignment: the API's 403 not_assigned_mediator
    page.goto(f"{site.base_url}/cases/new")
    expect(page.get_by_role("heading", name="当前角色无权执行此操作")).to_be_visible()
    page.goto(f"{site.base_url}/dashboard")
    expect(page.get_by_role("heading", name="当前角色无权执行此操作")).to_be_visible()
    page.goto(f"{site.base_url}/cases/00000000-0000-0000-0000-000000000000")
    expect(page.get_by_role("heading", name="未找到，或不在您的管辖范围内")).to_be_visible()


def test_intake_adds_rows_for_more_parties(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    """The script adds a fourth applicant row (three are offered without it)."""
    page: Page = page_for("clerk")
    page.goto(f"{site.base_url}/cases/new")
    expect(page.locator('[name="applicants.3.name"]')).to_have_count(0)
    page.get_by_role("button", name="增加一名申请人").click()
    row = page.get_by_role("group", name="第4名申请人")
    expect(row).to_be_visible()
    for i, seed in ((0, 81), (3, 82)):
        page.locator(f'[name="applicants.{i}.name"]').fill(f"工友{seed}")
        page.locator(f'[name="applicants.{i}.id_number"]').fill(resident_id(seed))
        page.locator(f'[name="applicants.{i}.phone"]').fill("13800000000")
    employer = page.get_by_role("group", name="第1名被申请人")
    employer.get_by_label("单位名称").fill("某公司")
    employer.get_by_label("统一社会信用代码").fill(credit_code(8))
    page.get_by_label("第1项 请求类别").select_option("contract")
    page.get_by_label("第1项 金额（元）").fill("100.00")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#case-status")).to_have_text("已收案")
    parties = page.locator("ol.parties.applicants > li")
    expect(parties).to_have_count(2)
    expect(parties.nth(1)).to_contain_text("工友82")
