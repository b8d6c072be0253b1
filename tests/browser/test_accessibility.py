"""axe-core on every page each role reaches, at 1280×800 and at 390 px (issue 12, item 2).

axe-core comes from the npm registry (``tests/browser/package.json``, installed by ``npm ci``
in ``.ci/run``) and is evaluated in the page by Playwright; no CDN. A violation of impact
serious or critical fails. Besides these walks, every browser test's pages are checked the
same way when the test ends (``page_for`` in ``conftest.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page

from tests.browser import axe, given
from tests.browser.conftest import WIDTHS, Site, shape

# each role's pages beyond its navigation links (which every walk follows)
EXTRA = {
    "clerk": ["CASE", "/cases/new", "/cases?overdue=1", "/no/such/page"],  # the last: 404
    "mediator": ["CASE", "/dashboard"],  # the second: a 403 page
    "coordinator": ["CASE", "/cases/00000000-0000-0000-0000-000000000000"],  # a 404 page
    "auditor": ["CASE", "/dashboard/cases?measure=succeeded&key=total", "/subsidies?month=PREV"],
    "admin": ["CASE"],
}


def _paths(page: Page, role: str, case: str, prev_month: str) -> list[str]:
    nav = page.locator("header nav a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    extra = [p.replace("CASE", case).replace("PREV", prev_month) for p in EXTRA[role]]
    return list(dict.fromkeys([*nav, *extra]))


@pytest.mark.parametrize("role", sorted(EXTRA))
@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["wide", "phone"])
def test_every_page_of_a_role_has_no_serious_violation(
    page_for,  # type: ignore[no-untyped-def]
    axe_checked: set[tuple[str, str]],
    site: Site,
    role: str,
    width: int,
    height: int,
) -> None:
    case = f"/cases/{given.in_mediation(site)}"
    prev_month = (site.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page: Page = page_for(role, width, height)
    found = {page.url: axe.serious(page)}
    for path in _paths(page, role, case, prev_month):
        page.goto(site.base_url + path)
        found[path] = axe.serious(page, open_forms=True)
        axe_checked.add((role, shape(page.url)))  # both widths: this walk runs at each
    bad = {where: v for where, v in found.items() if v}
    assert not bad, axe.describe(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["wide", "phone"])
def test_the_login_page_has_no_serious_violation(  # type: ignore[no-untyped-def]
    browser, site: Site, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(site.base_url + "/login")
        assert axe.serious(page) == []
        page.get_by_label("用户名").fill("nobody")
        page.get_by_label("密码").fill("wrong-password-1")
        page.get_by_role("button", name="登录").click()
        assert axe.serious(page) == []  # the refused login, too
    finally:
        context.close()
