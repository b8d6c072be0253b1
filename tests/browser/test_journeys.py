"""One journey per role through the web pages, in a real browser (Debian's Chromium).

The clerk takes a case from intake to entrustment, the coordinator assigns one, the mediator
brings one to success, and the auditor finds a success counted, drills down to it and
downloads the figures. Each test brings its own case to where its journey starts
(``tests.browser.given``), so the tests run alone and in any order.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser import given
from tests.browser.conftest import NAMES, SCREENSHOTS, Site
from tests.support.factories import credit_code, resident_id

CASE_URL = re.compile(r"/cases/([0-9a-f-]{36})")


def _open(page: Page, summary: str) -> None:
    """Open a form's <details> with the keyboard (focus the summary, press Enter)."""
    page.locator("summary", has_text=re.compile(f"^{summary}$")).focus()
    page.keyboard.press("Enter")


def _shot(page: Page, name: str) -> None:
    """The screen as the user sees it (1280×800), and the whole page beside it."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)


def _step(page: Page, title: str) -> None:
    """Follow the next-step panel: its first step is ``title``; take its "去办理" link."""
    first = page.locator("#next-step .step").first
    expect(first.locator(".step-title")).to_have_text(title)
    first.get_by_role("link", name="去办理").click()


def test_clerk_takes_a_case_from_intake_to_entrustment_in_three_submissions(
    page_for, site: Site
) -> None:  # type: ignore[no-untyped-def]
    """The counted journey (issue 12): after the case exists, a new clerk follows the
    next-step panel to entrustment in at most 4 form submissions (here 3)."""
    page: Page = page_for("clerk")
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    expect(page.locator("header .person")).to_contain_text(NAMES["clerk"])
    expect(page.locator("header .person")).to_contain_text("武汉市")
    _shot(page, "clerk-home")
    page.get_by_role("link", name="收案登记").first.click()

    page.get_by_label("所属地区").select_option("420102")
    page.get_by_label("收到申请日期").fill((site.today - timedelta(days=2)).isoformat())
    worker = page.get_by_role("group", name="第1名申请人")  # the first of the repeatable rows
    worker.locator('[name="applicants.0.name"]').fill("李明")
    worker.get_by_label("公民身份号码").fill(resident_id(77))
    worker.get_by_label("联系电话").fill("13912345678")
    worker.get_by_label("劳动者类别").select_option("delivery_rider")
    employer = page.get_by_role("group", name="第1名被申请人")
    employer.get_by_label("单位名称").fill("武汉某某即时配送服务有限公司")
    employer.get_by_label("统一社会信用代码").fill(credit_code(77))
    page.get_by_label("第1项 请求类别").select_option("remuneration")
    page.get_by_label("第1项 金额（元）").fill("8600.00")
    page.get_by_role("button", name="登记").click()

    expect(page.locator("#case-status")).to_have_text("已收案")
    found = CASE_URL.search(page.url)
    assert found, page.url
    case_id = found.group(1)
    # from here on every form submission is counted
    submissions: list[str] = []
    page.on(
        "request",
        lambda r: submissions.append(r.url) if r.method == "POST" and "/do/" in r.url else None,
    )
    # a title, not a UUID: its registration number (issue 17); no version; the district by
    # name; amounts in one format
    number = site.system.app.get_case(UUID(case_id)).case_number  # type: ignore[attr-defined]
    assert number and number.startswith("武劳人仲登字〔")
    expect(page.get_by_role("heading", level=1)).to_have_text(number)
    head = page.locator(".case-head")
    expect(head).to_contain_text("武汉市江岸区")
    expect(head).not_to_contain_text("版本")
    expect(page.locator("main")).not_to_contain_text(case_id)
    expect(page.locator("#h-parties").locator("..")).to_contain_text("8,600.00 元")
    expect(page.locator(".timeline")).to_contain_text("8,600.00 元")
    expect(page.locator(".timeline")).to_contain_text("武汉市江岸区")
    expect(page.locator(".timeline .actor").first).to_have_text(NAMES["clerk"])
    # the panel: the first legal step, its deadline and its state in words
    panel = page.locator("#next-step")
    expect(panel).to_contain_text("受理审查期限")
    expect(panel.locator(".due-state").first).to_have_text(re.compile("按期|即将到期|今日到期"))
    expect(page.locator(".deadlines .due-state").first).to_be_visible()

    _step(page, "委托调解审查")
    form = page.locator("#form-assess")
    expect(page.locator("#form-assess")).to_have_attribute("open", "")
    for legend in ("属于仲裁范围", "符合受理条件", "适宜调解解决"):
        form.get_by_role("group", name=legend).get_by_label("是").check()
    form.get_by_label("审查理由").fill("拖欠劳动报酬，事实清楚，双方均愿调解")
    form.get_by_role("button", name="保存审查意见").click()
    expect(page.locator(".notice")).to_contain_text("委托调解审查")

    # both consents in one form, one submission
    _step(page, "记录双方调解意愿")
    form = page.locator("#form-consents")
    for party in ("applicant", "respondent"):
        form.locator(f"#consent-{party}").get_by_label("同意调解", exact=True).check()
    form.get_by_role("button", name="记录双方意愿").click()
    expect(page.locator(".notice")).to_contain_text("双方调解意愿")
    expect(page.locator(".timeline .event[data-type=ConsentRecorded]")).to_have_count(2)
    # no noise: the consent events do not say "结束调解 否"
    expect(page.locator(".timeline")).not_to_contain_text("结束调解")

    _step(page, "委托调解（立案前，暂缓受理）")
    form = page.locator("#form-entrust")
    # each route explained in one line beside the choice; the one that fits is chosen
    expect(form.locator("#route-hint-pre_filing")).to_contain_text("受理审查暂停")
    expect(form.locator("#route-hint-post_filing")).to_contain_text("仲裁审理期限继续计算")
    expect(form.get_by_label("立案前（暂缓受理）")).to_be_checked()
    options = form.get_by_label("受托工作室").locator("option").all_inner_texts()
    ours = [o for o in options if site.studio_name in o]
    assert ours and re.search(r"在办 \d+ 件 · 调解员 \d+ 名", ours[0]), options
    assert not any("（已撤销" in o for o in options)
    form.get_by_label("受托工作室").select_option(str(site.studio_id))
    form.get_by_role("button", name="委托调解").click()
    expect(page.locator("#case-status")).to_have_text("已委托调解")
    expect(page.locator(".notice")).to_contain_text("委托调解")
    assert len(submissions) == 3, submissions  # at most 4 (issue 12, acceptance 4)
    timeline = page.locator(".timeline")
    # received, numbered, assessed, 2 consents, entrusted
    assert timeline.locator(".event").count() == 6
    expect(page.locator("#case-number")).to_contain_text("武劳人仲登字〔")
    expect(page.locator(".deadlines")).to_contain_text("调解期限")
    expect(page.locator("#next-step .step-title").first).to_have_text("指派调解员")


def test_coordinator_assigns_the_case_from_the_roster(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.entrusted(site)
    page: Page = page_for("coordinator")
    expect(page.get_by_role("heading", name=re.compile("调解员名册"))).to_be_visible()
    expect(page.locator(".quota")).to_contain_text("调解员名额")
    _shot(page, "coordinator-home")
    row = page.locator("tr", has=page.locator(f'a[href="/cases/{case_id}"]'))
    row.get_by_label("调解员").select_option(str(site.mediator_id))
    row.get_by_role("button", name="指派").click()
    expect(page.locator(f'a[href="/cases/{case_id}"]')).to_have_count(0)
    page.goto(f"{site.base_url}/cases/{case_id}")
    expect(page.locator("#case-status")).to_have_text("调解中")
    expect(page.locator(".timeline")).to_contain_text(NAMES["coordinator"])


def test_mediator_records_session_agreement_and_complete_performance(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.in_mediation(site)
    page: Page = page_for("mediator")
    expect(page.get_by_role("heading", name="我的调解案件")).to_be_visible()
    link = page.locator(f'a[href="/cases/{case_id}"]')
    expect(link).to_have_count(1)
    _shot(page, "mediator-home")
    link.click()

    _open(page, "记录调解会谈")
    form = page.locator("#form-session")
    form.get_by_label("会谈摘要").fill("双方到场，就欠付工资金额达成初步一致")
    form.get_by_role("button", name="记录会谈").click()
    expect(page.locator(".notice")).to_contain_text("记录调解会谈")

    _open(page, "签订调解协议书")
    form = page.locator("#form-agreement")
    form.get_by_label("协议金额（元）").fill("8000.00")
    form.get_by_label("履行期限").fill((site.today + timedelta(days=10)).isoformat())
    form.get_by_label("协议内容").fill("被申请人于十日内一次性支付工资 8000 元")
    form.get_by_role("button", name="记录协议").click()
    expect(page.locator("#case-status")).to_have_text("已签调解协议")
    expect(page.locator(".deadlines")).to_contain_text("协议履行期限")

    _open(page, "记录协议履行")
    form = page.locator("#form-performance")
    expect(form.get_by_label("本次履行金额（元）")).to_have_value("8000.00")
    form.get_by_role("group", name="协议已全部履行完毕").get_by_label("是").check()
    form.get_by_role("button", name="记录履行").click()
    expect(page.locator("#case-status")).to_have_text("调解成功")
    expect(page.locator(".badges")).to_contain_text("协议履行完毕")
    # the mediator's forms are gone: nothing more for them to do on a succeeded case
    expect(page.locator("#actions")).to_have_count(0)


def test_clerk_verifies_the_performance_by_a_return_visit(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.agreed(site)
    given.performed(site, case_id)
    page: Page = page_for("clerk")
    page.goto(f"{site.base_url}/cases/{case_id}")
    expect(page.locator("#case-status")).to_have_text("调解成功")
    expect(page.locator("body")).to_contain_text("待书记员或协调员回访核实")
    _open(page, "回访核实履行情况")
    form = page.locator("#form-verification")
    form.get_by_label("核实方式").select_option("phone")
    form.get_by_label("核实情况").fill("电话回访申请人，确认已足额收到 8000 元")
    form.get_by_role("button", name="记录核实").click()
    expect(page.locator(".notice")).to_contain_text("回访核实履行情况")
    expect(page.locator("body")).to_contain_text(f"已于 {site.today.isoformat()} 回访核实")
    expect(page.locator("body")).not_to_contain_text("待书记员或协调员回访核实")
    expect(page.locator("#form-verification")).to_have_count(0)


def test_auditor_sees_the_success_drills_down_and_downloads(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.agreed(site)
    before = datetime.now(UTC)  # every other test's work is known by now, this success is not
    given.performed(site, case_id)
    page: Page = page_for("auditor")
    expect(page.get_by_role("heading", name="裁调对接统计分析")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(2)
    assert page.locator("svg.chart rect").count() > 10  # real bars from the demo data
    assert page.locator("svg.chart circle").count() > 10  # real points on the trend
    _shot(page, "auditor-dashboard")
    succeeded = int(page.locator("#kpi-succeeded").inner_text())
    assert succeeded > 0

    # drill down from the total of successes to its cases: ours is among them
    page.locator("a.kpi", has=page.locator("#kpi-succeeded")).click()
    heading = page.get_by_role("heading", name=re.compile(f"调解成功数：{succeeded} 件"))
    expect(heading).to_be_visible()
    # 50 cases a page: the pages together list exactly the figure's cases, ours among them
    row_link = page.locator(f'a[href="/cases/{case_id}"]')
    listed = page.locator("table.cases tbody tr").count()
    pages_read = 1
    while row_link.count() == 0:
        page.get_by_role("link", name="下一页").click()
        expect(heading).to_be_visible()
        listed += page.locator("table.cases tbody tr").count()
        pages_read += 1
    expect(row_link).to_have_count(1)
    # auditors see personal data masked
    expect(page.locator("table.cases")).not_to_contain_text("李明")
    row_link.click()
    expect(page.locator("#case-status")).to_have_text("调解成功")
    expect(page.locator(".timeline .event")).to_have_count(10)  # 9 and its number
    expect(page.locator(".timeline")).to_contain_text(site.mediator_name)
    expect(page.locator("#actions")).to_have_count(0)  # read-only
    page.go_back()
    while page.get_by_role("link", name="下一页").count():  # the rest of the pages
        page.get_by_role("link", name="下一页").click()
        listed += page.locator("table.cases tbody tr").count()
        pages_read += 1
    assert listed == succeeded, (listed, pages_read)
    page.goto(f"{site.base_url}/dashboard")

    # as known just before our success was recorded, it did not exist yet
    page.goto(f"{site.base_url}/dashboard?as_of={quote(before.isoformat())}")
    assert int(page.locator("#kpi-succeeded").inner_text()) == succeeded - 1
    # the "as known at" picker: before today's work (ours and any other test's)
    page.get_by_label(re.compile("截至时点")).fill(
        (site.today - timedelta(days=1)).isoformat() + "T12:00"
    )
    page.get_by_role("button", name="查询").click()
    earlier = int(page.locator("#kpi-succeeded").inner_text())
    assert earlier <= succeeded - 1

    with page.expect_download() as info:
        page.locator("#download-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    data = Path(download.path()).read_bytes()
    book = load_workbook(io.BytesIO(data))
    sheet = book["收结案统计"]
    assert sheet.cell(row=1, column=1).value == "分组键"
    assert sheet.cell(row=2, column=1).value != "Key"  # one header row, in Chinese
    assert sheet.cell(row=sheet.max_row, column=1).value == "合计"
    assert sheet.max_row > 4


def test_auditor_subsidies_page(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    page: Page = page_for("auditor")
    page.get_by_role("link", name="办案补贴").click()
    expect(page.get_by_role("heading", name="办案补贴月度明细")).to_be_visible()
    month = (site.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page.get_by_label("月份").fill(month)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tbody tr").first).not_to_contain_text("本月无补贴条目")
    _shot(page, "auditor-subsidies")


def test_phone_width_pages_are_readable(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    page: Page = page_for("auditor", width=390, height=844)
    expect(page.locator("svg.chart").first).to_be_visible()
    # nothing wider than the screen except inside the scrollable table wrappers
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, overflow
    _shot(page, "auditor-dashboard-phone")
    page.goto(f"{site.base_url}/cases/{given.agreed(site)}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "case-phone")


def test_coordinator_records_a_recusal_and_the_case_waits_for_a_new_mediator(
    page_for, site: Site
) -> None:  # type: ignore[no-untyped-def]
    """Brief §8 rule 11: the mediator steps aside; the same mediation goes on, entrusted."""
    case_id = given.in_mediation(site)
    page: Page = page_for("coordinator")
    page.goto(f"{site.base_url}/cases/{case_id}")
    expect(page.locator("#case-status")).to_have_text("调解中")
    expect(page.locator("#form-transfer")).to_have_count(0)  # a transfer is the clerk's
    _open(page, "调解员回避")
    form = page.locator("#form-recusal")
    form.get_by_label(re.compile("回避原因")).fill("调解员系被申请人股东的近亲属")
    form.get_by_role("button", name="记录回避").click()
    expect(page.locator("#case-status")).to_have_text("已委托调解")
    expect(page.locator(".timeline")).to_contain_text("调解员回避")
    expect(page.locator(".deadlines")).to_contain_text("调解期限")
    expect(page.locator("#form-assign")).to_have_count(1)  # the studio assigns another
