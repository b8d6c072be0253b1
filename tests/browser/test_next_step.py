"""Issue 12 in the browser: the next step on every case page, commands offered only when
they make sense, confirmations for what cannot be undone, and the admin's page."""

from __future__ import annotations

import re
from uuid import UUID

from playwright.sync_api import Page, expect

from tests.browser import given
from tests.browser.conftest import NAMES, PASSWORD, SCREENSHOTS, Site
from tests.support.factories import ADMIN


def _open_case(page: Page, site: Site, case_id: UUID) -> None:
    page.goto(f"{site.base_url}/cases/{case_id}")


def _steps(page: Page) -> list[str]:
    return page.locator("#next-step .step-title").all_inner_texts()


def test_the_next_step_follows_the_case_for_each_role(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    clerk: Page = page_for("clerk")
    _open_case(clerk, site, given.received(site))
    assert _steps(clerk) == ["委托调解审查"]
    step = clerk.locator("#next-step .step").first
    expect(step).to_contain_text("办理人：书记员")
    expect(step).to_contain_text("审查是否属于仲裁范围")
    expect(step.locator(".due")).to_contain_text("受理审查期限")

    in_mediation = given.in_mediation(site)
    _open_case(clerk, site, in_mediation)
    assert _steps(clerk) == ["组织调解会谈", "签订调解协议书"]
    # the steps are the mediator's: the clerk is told so and given no link to them
    expect(clerk.locator("#next-step")).to_contain_text("办理人：调解员")
    expect(clerk.locator("#next-step").get_by_role("link", name="去办理")).to_have_count(0)
    expect(clerk.locator("#next-step .due").first).to_contain_text("调解期限")
    expect(clerk.locator("#next-step .due-state").first).to_have_text(re.compile("按期"))

    mediator: Page = page_for("mediator")
    _open_case(mediator, site, in_mediation)
    assert _steps(mediator) == ["组织调解会谈", "签订调解协议书"]
    mediator.locator("#next-step .step").first.get_by_role("link", name="去办理").click()
    expect(mediator.locator("#form-session")).to_have_attribute("open", "")
    # the mediator's name, not the login name, in the header
    expect(mediator.locator("header .person")).to_contain_text(site.mediator_name)
    mediator.screenshot(path=str(SCREENSHOTS / "case-next-step.png"))


def test_after_success_by_performance_no_statement_commands_are_offered(
    page_for, site: Site
) -> None:  # type: ignore[no-untyped-def]
    case_id = given.agreed(site)
    given.performed(site, case_id)
    page: Page = page_for("clerk")
    _open_case(page, site, case_id)
    expect(page.locator("#case-status")).to_have_text("调解成功")
    assert _steps(page) == ["回访核实履行情况"]
    expect(page.locator("#form-service")).to_have_count(0)  # 调解书送达签收
    expect(page.locator("#form-retraction")).to_have_count(0)  # 送达前反悔
    expect(page.locator("#form-statement")).to_have_count(0)
    expect(page.locator("#form-verification")).to_have_count(1)

    # a success by statement: service and retraction are offered, verification is not
    by_statement = given.by_statement(site)
    _open_case(page, site, by_statement)
    assert _steps(page) == ["调解书送达签收"]
    expect(page.locator("#form-service")).to_have_count(1)
    expect(page.locator("#form-retraction")).to_have_count(1)
    expect(page.locator("#form-verification")).to_have_count(0)


def _refused_without_confirmation(page: Page, url: str, data: dict[str, str]) -> None:
    """Without JavaScript's help (a plain POST without the box): refused, in Chinese (the
    POST redirects to the page, which shows the refusal: post/redirect/get)."""
    response = page.request.post(url, form=data)
    assert response.status == 200 and response.url != url, (response.status, response.url)
    assert "请勾选确认" in response.text()


def test_failure_needs_a_confirmation(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.in_mediation(site)
    page: Page = page_for("clerk")
    _open_case(page, site, case_id)
    page.locator("summary", has_text=re.compile("^调解不成$")).click()
    form = page.locator("#form-failure")
    form.locator("textarea[name=reason]").fill("双方差距过大，无法达成一致")
    form.get_by_role("button", name="记录调解不成").click()
    # the browser holds the form: the box is required
    expect(form.get_by_role("checkbox")).to_have_attribute("required", "")
    expect(page.locator("#case-status")).to_have_text("调解中")
    _refused_without_confirmation(
        page,
        f"{site.base_url}/cases/{case_id}/do/failure",
        {"on": site.today.isoformat(), "reason_code": "other", "reason": "无法达成一致"},
    )
    _open_case(page, site, case_id)
    expect(page.locator("#case-status")).to_have_text("调解中")
    page.locator("summary", has_text=re.compile("^调解不成$")).click()
    form.locator("textarea[name=reason]").fill("双方差距过大，无法达成一致")
    form.get_by_role("checkbox", name=re.compile("确认办理")).check()
    form.get_by_role("button", name="记录调解不成").click()
    expect(page.locator("#case-status")).to_have_text("调解不成")
    expect(page.locator(".notice")).to_contain_text("调解不成")


def test_retraction_needs_a_confirmation(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.by_statement(site)
    page: Page = page_for("clerk")
    _open_case(page, site, case_id)
    _refused_without_confirmation(
        page,
        f"{site.base_url}/cases/{case_id}/do/retraction",
        {"on": site.today.isoformat(), "party": "respondent"},
    )
    _open_case(page, site, case_id)
    expect(page.locator(".badges")).not_to_contain_text("成功已撤销")
    page.locator("summary", has_text=re.compile("^送达前反悔$")).click()
    form = page.locator("#form-retraction")
    form.get_by_label("反悔的当事人").select_option("respondent")
    expect(form.get_by_role("checkbox")).to_have_attribute("required", "")
    form.get_by_role("checkbox", name=re.compile("确认办理")).check()
    form.get_by_role("button", name="记录反悔").click()
    expect(page.locator(".badges")).to_contain_text("成功已撤销")


def test_retiring_a_mediator_needs_a_confirmation(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    app = site.system.app  # type: ignore[attr-defined]
    _, leaving = app.appoint_mediator(
        ADMIN, site.studio_id, name="钱将离", qualification="lawyer", appointed_on=site.today
    )
    site.system.catch_up()  # type: ignore[attr-defined]
    page: Page = page_for("coordinator")
    expect(page.locator("header .person")).to_contain_text(NAMES["coordinator"])
    row = page.locator("tr", has_text="钱将离")
    expect(row.get_by_role("checkbox")).to_have_attribute("required", "")
    _refused_without_confirmation(
        page,
        f"{site.base_url}/roster/{site.studio_id}/retire/{leaving}",
        {"retired_on": site.today.isoformat()},
    )
    assert leaving in {m.mediator_id for m in app.get_studio(site.studio_id).roster.values()}
    assert app.get_studio(site.studio_id).roster[leaving].retired_on is None
    row.get_by_role("checkbox", name="确认解聘 钱将离").check()
    row.get_by_role("button", name="解聘 钱将离").click()
    expect(page.locator(".notice")).to_contain_text("调解员解聘")
    expect(page.locator("tr", has_text="钱将离")).to_contain_text("已解聘")


def test_admin_adds_and_disables_a_user_and_registers_and_closes_a_studio(
    page_for,  # type: ignore[no-untyped-def]
    site: Site,
    browser,  # type: ignore[no-untyped-def]
) -> None:
    page: Page = page_for("admin")
    expect(page.get_by_role("heading", name="工作室与账户")).to_be_visible()
    expect(page.locator("header .person")).to_contain_text(NAMES["admin"])

    # register a studio, then close it (with the confirmation)
    page.locator("summary", has_text="登记工作室").click()
    form = page.locator("#form-register")
    form.get_by_label("工作室名称").fill("东西湖区第二裁调对接工作室")
    form.get_by_label("类型").select_option("docking_studio")
    form.get_by_label("所在地区").select_option("420112")
    form.get_by_role("button", name="登记").click()
    expect(page.locator("#notice")).to_have_text(
        re.compile("已登记工作室 东西湖区第二裁调对接工作室")
    )
    row = page.locator("tr", has_text="东西湖区第二裁调对接工作室")
    expect(row).to_contain_text("武汉市东西湖区")
    expect(row).to_contain_text("运行中")
    row.locator("summary").click()
    row.get_by_role("checkbox").check()
    row.get_by_role("button", name="撤销工作室").click()
    expect(page.locator("#notice")).to_contain_text("已撤销工作室 东西湖区第二裁调对接工作室")
    expect(page.locator("tr", has_text="东西湖区第二裁调对接工作室")).to_contain_text("已撤销")

    # add a clerk: a weak password is refused in Chinese, the typed values kept
    page.locator("summary", has_text="新增用户").click()
    form = page.locator("#form-add-user")
    form.get_by_label("用户名（登录用）").fill("zhao.clerk")
    form.get_by_label("姓名").fill("赵书记")
    form.get_by_label("角色").select_option("clerk")
    form.get_by_label("管辖地区").select_option("420102")
    form.get_by_label("初始密码").fill("zhao.clerk-12345")  # contains the username
    form.get_by_role("button", name="新增用户").click()
    expect(page.locator("#refusal")).to_contain_text("密码强度不足")
    expect(page.locator("#form-add-user")).to_have_attribute("open", "")
    expect(form.get_by_label("姓名")).to_have_value("赵书记")
    form.get_by_label("初始密码").fill(PASSWORD + "-new")
    form.get_by_role("button", name="新增用户").click()
    expect(page.locator("#notice")).to_contain_text("已新增账户 zhao.clerk")
    row = page.locator("tr[data-account='zhao.clerk']")
    expect(row).to_contain_text("赵书记")
    expect(row).to_contain_text("武汉市江岸区")
    page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)

    # the new clerk logs in and sees their own name
    context = browser.new_context(locale="zh-CN")
    try:
        newcomer = context.new_page()
        newcomer.goto(site.base_url + "/login")
        newcomer.get_by_label("用户名").fill("zhao.clerk")
        newcomer.get_by_label("密码").fill(PASSWORD + "-new")
        newcomer.get_by_role("button", name="登录").click()
        expect(newcomer.locator("header .person")).to_contain_text("赵书记")

        # disabled: the session ends at once
        row.get_by_role("checkbox", name=re.compile("确认停用 zhao.clerk")).check()
        row.get_by_role("button", name="停用").click()
        expect(page.locator("#notice")).to_contain_text("已停用账户 zhao.clerk")
        newcomer.reload()
        expect(newcomer.get_by_label("用户名")).to_be_visible()  # back to the login page
    finally:
        context.close()
