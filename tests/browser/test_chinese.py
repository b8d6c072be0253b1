"""Issue 12 in the browser: Chinese throughout, forms that tell the truth.

No English word on any page a clerk, mediator, coordinator or auditor reaches; every form
answers with post/redirect/get; a refused intake shows all its problems at once, beside
their fields; the formats a clerk types (8,500; 027-8888888) are accepted and the ten-digit
"1380013800" is not; a second case of the same worker against the same employer is
flagged and may be registered anyway.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from mediation.labels import english_words
from tests.browser import given
from tests.browser.conftest import SCREENSHOTS, Site
from tests.support.factories import credit_code, resident_id

CASE_URL = re.compile(r"/cases/([0-9a-f-]{36})$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODES = re.compile(r"\b[0-9A-Z*]{17}[0-9A-Z]\b")  # resident ID numbers, credit codes (data)
HEX = re.compile(r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{6,}\b|\b[0-9a-f]{8}\b")  # digests, short ids
USERNAMES = frozenset({"clerk", "mediator", "coordinator", "auditor", "admin"})  # data, not words
# login names where a page shows them as data (the access audit's accounts, a timeline's title)
LOGINS = "document.querySelectorAll('.login').forEach(e => e.remove());"


def _english_on(page: Page) -> list[str]:
    """ASCII words a user reads on the page (every form opened; the folded 技术信息 line
    and its codes stay folded, as the user sees them)."""
    page.evaluate(
        "document.querySelectorAll('details:not(.tech)').forEach(d => { d.open = true; });" + LOGINS
    )
    text = page.evaluate(
        "document.body.innerText + ' ' + [...document.querySelectorAll("
        "'[title], [aria-label], [placeholder]')].map(e => [e.title, "
        "e.getAttribute('aria-label'), e.placeholder].join(' ')).join(' ') + ' ' + "
        "document.title"
    )
    text = HEX.sub(" ", CODES.sub(" ", UUID.sub(" ", text)))
    return [w for w in english_words(text) if w not in USERNAMES]


def _scan(page: Page, url: str, found: dict[str, list[str]]) -> None:
    page.goto(url)
    words = _english_on(page)
    if words:
        found[url] = sorted(set(words))


def test_no_english_word_on_any_page_of_the_journeys(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    base = site.base_url
    agreed = given.agreed(site)
    entrusted = given.entrusted(site)
    found: dict[str, list[str]] = {}

    clerk: Page = page_for("clerk")
    for path in ("/clerk", "/cases/new", "/cases", "/cases?overdue=1", f"/cases/{entrusted}"):
        _scan(clerk, base + path, found)
    _scan(clerk, f"{base}/cases/{agreed}", found)
    _scan(clerk, f"{base}/no/such/page", found)  # an unknown address: a Chinese page
    expect(clerk.get_by_role("heading", name="没有这个页面")).to_be_visible()
    # a refused intake: every problem in Chinese, no field path, no code on view
    clerk.goto(f"{base}/cases/new")
    clerk.locator('[name="applicants.0.id_number"]').fill("420102199001011234")
    clerk.locator('[name="respondents.0.credit_code"]').fill("ABC")
    clerk.get_by_role("button", name="登记").click()
    words = _english_on(clerk)
    if words:
        found["refused intake"] = words
    assert "claims.0" not in clerk.locator("body").inner_text()

    mediator: Page = page_for("mediator")
    for path in ("/queue", "/cases", f"/cases/{agreed}", "/dashboard"):  # the last: 403
        _scan(mediator, base + path, found)

    coordinator: Page = page_for("coordinator")
    for path in ("/roster", "/cases", f"/cases/{entrusted}"):
        _scan(coordinator, base + path, found)

    auditor: Page = page_for("auditor")
    for path in ("/dashboard", "/subsidies", "/cases", "/audit", f"/cases/{agreed}"):
        _scan(auditor, base + path, found)
    auditor.goto(f"{base}/dashboard")
    auditor.locator("a.kpi", has=auditor.locator("#kpi-succeeded")).click()
    words = _english_on(auditor)
    if words:
        found["drill-down"] = words

    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


FIRST_ROW = {
    "姓名": "applicants.0.name",
    "公民身份号码": "applicants.0.id_number",
    "联系电话": "applicants.0.phone",
    "单位名称": "respondents.0.name",
    "统一社会信用代码": "respondents.0.credit_code",
}


def _fill_intake(page: Page, site: Site, seed: int, **over: str) -> None:
    values = {
        "姓名": "周八",
        "公民身份号码": resident_id(seed),
        "联系电话": "027-8888888",
        "单位名称": "武汉某某建筑劳务有限公司",
        "统一社会信用代码": credit_code(seed),
        **over,
    }
    page.goto(f"{site.base_url}/cases/new")
    page.get_by_label("所属地区").select_option("420102")
    page.get_by_label("收到申请日期").fill((site.today - timedelta(days=1)).isoformat())
    for name, value in values.items():  # the first row of each side (issue 17: several)
        page.locator(f'[name="{FIRST_ROW[name]}"]').fill(value)


def test_intake_shows_every_problem_at_once_beside_its_field(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    page: Page = page_for("clerk")
    _fill_intake(
        page,
        site,
        61,
        姓名="",
        公民身份号码="420102199001011234",  # wrong check character
        联系电话="1380013800",  # ten digits: not a number
        统一社会信用代码="ABC",
    )
    page.get_by_label("第1项 请求类别").select_option("remuneration")
    page.get_by_label("第1项 金额（元）").fill("12.345")
    page.get_by_role("button", name="登记").click()

    assert page.url == f"{site.base_url}/cases/new"  # post/redirect/get
    refusal = page.locator("#refusal")
    expect(refusal).to_be_focused()
    expect(refusal.locator(".problems li")).to_have_count(5)
    for field, says in (
        ("applicants.0.name", "请填写此项"),
        ("applicants.0.id_number", "公民身份号码校验位应为"),
        ("applicants.0.phone", "11 位手机号码"),
        ("respondents.0.credit_code", "统一社会信用代码应为 18 位"),
        ("claims.0.amount", "金额最多两位小数"),
    ):
        beside = page.locator(f'[id="e-{field}"]')
        expect(beside).to_contain_text(says)
        expect(page.locator(f'[id="f-{field}"]')).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(SCREENSHOTS / "clerk-intake-problems.png"))
    page.screenshot(path=str(SCREENSHOTS / "clerk-intake-problems-full.png"), full_page=True)
    # what was typed is back
    expect(page.locator('[name="applicants.0.phone"]')).to_have_value("1380013800")
    expect(page.get_by_label("第1项 金额（元）")).to_have_value("12.345")


def test_the_formats_a_clerk_types_are_accepted_and_a_duplicate_is_flagged(
    page_for,
    site: Site,  # type: ignore[no-untyped-def]
) -> None:
    page: Page = page_for("clerk")
    _fill_intake(page, site, 62)  # the landline 027-8888888
    page.get_by_label("第1项 请求类别").select_option("labour_relationship_confirmation")
    # no amount for the confirmation claim
    page.get_by_label("第2项 请求类别").select_option("remuneration")
    page.get_by_label("第2项 金额（元）").fill("8,500")
    page.get_by_role("button", name="登记").click()
    assert CASE_URL.search(page.url), page.url
    expect(page.locator("#notice")).to_contain_text("已办理：收案登记")
    expect(page.locator("#case-status")).to_have_text("已收案")
    expect(page.locator("body")).to_contain_text("8,500.00 元")
    expect(page.locator("body")).to_contain_text("027-8888888")
    first = CASE_URL.search(page.url).group(1)  # type: ignore[union-attr]
    # a refresh of the page a POST led to shows no message again and records nothing
    events = page.locator(".timeline .event").count()
    page.reload()
    expect(page.locator("#notice")).to_have_count(0)
    expect(page.locator(".timeline .event")).to_have_count(events)

    # the same worker against the same employer, while the first case is open
    _fill_intake(page, site, 62, 联系电话="139 1234 5678")
    page.get_by_label("第1项 请求类别").select_option("remuneration")
    page.get_by_label("第1项 金额（元）").fill("1,200.50")
    page.get_by_role("button", name="登记").click()
    assert page.url == f"{site.base_url}/cases/new"
    expect(page.locator("#refusal")).to_contain_text("可能重复登记")
    expect(page.locator(f'#f-duplicate_ok a[href="/cases/{first}"]')).to_have_count(1)
    expect(page.get_by_label("第1项 金额（元）")).to_have_value("1,200.50")
    page.get_by_label("仍然登记（确属另一争议）").check()
    page.get_by_role("button", name="登记").click()
    assert CASE_URL.search(page.url) and first not in page.url, page.url
    expect(page.locator("body")).to_contain_text("13912345678")


def test_every_command_form_redirects_and_says_what_was_done(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.entrusted(site)
    page: Page = page_for("clerk")
    page.goto(f"{site.base_url}/cases/{case_id}")
    page.locator("summary", has_text=re.compile("^指派调解员$")).click()
    form = page.locator("#form-assign")
    form.get_by_label(re.compile("调解员")).select_option(str(site.mediator_id))
    form.get_by_role("button", name="指派").click()
    assert page.url == f"{site.base_url}/cases/{case_id}", page.url
    expect(page.locator("#notice")).to_have_text("已办理：指派调解员")
    expect(page.locator("#notice")).to_have_attribute("role", "status")
    expect(page.locator("#case-status")).to_have_text("调解中")
    events = page.locator(".timeline .event").count()
    page.reload()
    expect(page.locator("#notice")).to_have_count(0)
    assert page.locator(".timeline .event").count() == events
