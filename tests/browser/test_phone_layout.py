"""At 390 px the roster and the admin's tables are cards: nothing clipped, nothing to scroll
sideways (the roster's date field and mediator list were cut off, issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import given
from tests.browser.conftest import Site

# every form control's right edge, the sideways overflow of each table that holds a form,
# and the dates in the stacked tables
MEASURE = """() => ({
  controls: [...document.querySelectorAll(
      'main input:not([type=hidden]), main select, main button')]
    .filter(e => e.getBoundingClientRect().width > 0)
    .map(e => [e.name || e.textContent.trim(), e.getBoundingClientRect().right]),
  overflow: [...document.querySelectorAll('main .table-wrap:has(input, select, button)')]
    .map(w => w.scrollWidth - w.clientWidth),
  dates: [...document.querySelectorAll('table.stack td.date')]
    .map(e => [e.textContent.trim(), e.getClientRects().length, e.getBoundingClientRect().height]),
})"""


@pytest.mark.parametrize(("role", "path"), [("coordinator", "/roster"), ("admin", "/admin")])
def test_tables_of_people_fit_a_phone(page_for, site: Site, role: str, path: str) -> None:  # type: ignore[no-untyped-def]
    given.entrusted(site)  # a case waiting for a mediator: the assign form is on the roster
    page: Page = page_for(role, 390, 844)
    page.goto(site.base_url + path)
    found = page.evaluate(MEASURE)
    assert found["overflow"] and max(found["overflow"]) <= 1, found["overflow"]
    assert found["controls"]
    clipped = [(name, right) for name, right in found["controls"] if right > 390]
    assert clipped == [], clipped
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert found["dates"] and all(h < 40 for _, _, h in found["dates"]), found["dates"]
