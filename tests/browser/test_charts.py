"""The auditor's charts and statements as a person reads them, at 1280×800 and at 390 px.

Every chart has a visible title, a unit and a legend; every piece of text in it renders at
11 px or more (the computed font size times the SVG's scale on screen); the category labels
are whole, and the table beside the chart carries the same names; each rate shows its n;
no data is drawn differently from 0 %; the month table lists every month of the period;
dates do not wrap. The subsidy statements' totals are the sums of their rows, and their
downloads carry the same figures under Chinese headers, without formulas.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import WIDTHS, Site

MIN_PX = 11.0

# every visible text in the charts: (text, rendered px) — the font size as computed, times
# the horizontal scale of the SVG on screen (1 without a viewBox)
RENDERED = """() => [...document.querySelectorAll('figure.chart-card')].flatMap(fig => {
  const out = [];
  for (const el of fig.querySelectorAll('h2, p, li, figcaption, svg text')) {
    const box = el.getBoundingClientRect();
    if (!box.width || getComputedStyle(el).display === 'none') continue;
    const svg = el.closest('svg');
    const scale = svg && el !== svg ? el.getScreenCTM().a : 1;
    out.push([el.textContent.trim(), parseFloat(getComputedStyle(el).fontSize) * scale]);
  }
  return out;
})"""


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["wide", "phone"])
def test_every_chart_has_a_title_and_readable_text(
    page_for,  # type: ignore[no-untyped-def]
    site: Site,
    width: int,
    height: int,
) -> None:
    page: Page = page_for("auditor", width, height)
    charts = page.locator("figure.chart-card")
    expect(charts).to_have_count(2)
    for i in range(2):
        chart = charts.nth(i)
        title = chart.locator("h2.chart-title")
        expect(title).to_be_visible()
        assert title.inner_text().strip()
        svg = chart.locator("svg.chart")
        assert svg.get_attribute("viewBox") is None  # nothing scaled down on a phone
        assert svg.locator("title").first.text_content() == title.inner_text()
        labelled = svg.get_attribute("aria-labelledby")
        assert labelled and page.locator(f"#{labelled}").inner_text() == title.inner_text()
        expect(chart.locator(".chart-unit")).to_contain_text("单位")
        expect(chart.locator("ul.legend li")).not_to_have_count(0)
    expect(charts.nth(0).locator(".chart-unit")).to_contain_text("%")
    expect(charts.nth(1).locator(".chart-unit")).to_contain_text("件")

    texts = page.evaluate(RENDERED)
    assert len(texts) > 30, texts
    small = [(t, round(px, 1)) for t, px in texts if px < MIN_PX]
    assert small == [], f"text under {MIN_PX} px at {width} px wide: {small}"
    # nothing spills out of the page sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # every chart's box stays inside its card
    for i in range(2):
        card = charts.nth(i).bounding_box()
        plot = charts.nth(i).locator("svg.chart").bounding_box()
        assert card and plot and plot["x"] + plot["width"] <= card["x"] + card["width"] + 0.5


def test_the_bars_carry_whole_names_their_n_and_tell_no_data_from_zero(
    page_for,  # type: ignore[no-untyped-def]
    site: Site,
) -> None:
    page: Page = page_for("auditor", 390, 844)
    bars = page.locator("#chart-rates svg.chart")
    names = [t.strip() for t in bars.locator("text.cat").all_text_contents()]
    table = [t.strip() for t in page.locator("#by-area tbody th[scope=row]").all_inner_texts()]
    assert names and names == table[:-1]  # the same names, whole, the table's last row 合计
    assert not any(n.endswith("…") for n in names)
    assert "恩施土家族苗族自治州" in names  # the longest city name of Hubei, not cut
    # every value has its n: 56.3%（71件） or 无数据（0件）
    values = bars.locator("text.value").all_text_contents()
    assert len(values) == 2 * len(names)
    assert all(re.fullmatch(r"(\d+\.\d%|无数据)（\d+件）", v) for v in values), values
    # a rate that cannot be computed is a hatched box marked 无数据, a zero rate a stub 0.0%
    for text, rect in zip(values, bars.locator("rect:not(defs rect)").all(), strict=True):
        cls = rect.get_attribute("class") or ""
        if text.startswith("无数据"):
            assert "no-data" in cls and text.endswith("（0件）")
        elif text.startswith("0.0%"):
            assert "zero" in cls and float(rect.get_attribute("width") or 0) > 0
    # and in the table each rate has its n too
    rates = page.locator("#by-area td.rate").all_inner_texts()
    assert rates and all(re.fullmatch(r"(\d+\.\d%|无数据)（\d+件）", r.strip()) for r in rates)


def test_the_month_table_lists_every_month_and_dates_do_not_wrap(
    page_for,  # type: ignore[no-untyped-def]
    site: Site,
) -> None:
    page: Page = page_for("auditor", 390, 844)
    # a period that starts long before the demo province's first case: empty months too
    start = site.today.replace(year=site.today.year - 3, month=1, day=1)
    page.goto(f"{site.base_url}/dashboard?from={start}&to={site.today}")
    months = page.locator("#by-month tbody tr")
    expected = (site.today.year - start.year) * 12 + site.today.month
    expect(months).to_have_count(expected)
    first = months.first
    expect(first).to_have_attribute("data-month", f"{start:%Y-%m}")
    expect(first.locator("td.rate")).to_have_text("无数据（0件）")
    assert [t.strip() for t in first.locator("td:not(.rate)").all_inner_texts()] == ["0"] * 7
    expect(months.last).to_have_attribute("data-month", f"{site.today:%Y-%m}")
    # the trend has a point per month, the empty ones on the zero line
    expect(page.locator("#chart-trend circle")).to_have_count(4 * expected)
    # dates in tables stay on one line, on a phone too
    for cell in page.locator("td.date, time").all()[:20]:
        assert cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
        box = cell.bounding_box()
        line = cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert box and box["height"] < 1.5 * line, cell.inner_text()


def _figures(table) -> tuple[list[list[Decimal]], list[Decimal]]:  # type: ignore[no-untyped-def]
    def numbers(row) -> list[Decimal]:  # type: ignore[no-untyped-def]
        return [Decimal(c.replace(",", "")) for c in row.locator("td").all_inner_texts()]

    rows = [numbers(r) for r in table.locator("tbody tr").all()]
    return rows, numbers(table.locator("tfoot tr"))


def test_subsidy_statements_add_up_and_download_in_chinese(
    page_for,  # type: ignore[no-untyped-def]
    site: Site,
) -> None:
    page: Page = page_for("auditor")
    month = (site.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page.goto(f"{site.base_url}/subsidies?month={month}")
    month_total = Decimal(page.locator("#month-total-amount").inner_text().replace(",", ""))
    assert month_total > 0
    for kind in ("studio", "mediator"):
        table = page.locator(f"#table-{kind}")
        rows, total = _figures(table)
        assert len(rows) > 1
        sums = [sum(col, Decimal(0)) for col in zip(*rows, strict=True)]
        assert sums == total, (kind, sums, total)  # 合计 = the sum of the rows, every column
        assert total[1] == month_total  # and the money is the month's, stated once above

        with page.expect_download() as info:
            page.locator(f"#download-{kind}-csv").click()
        text = Path(info.value.path()).read_text(encoding="utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert not re.search(r"[A-Za-z]", "".join(lines[0])), lines[0]
        assert lines[-1][0] == "合计" and Decimal(lines[-1][2]) == month_total
        assert len(lines) == len(rows) + 2

        with page.expect_download() as info:
            page.locator(f"#download-{kind}-xlsx").click()
        book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        assert header == lines[0]
        cells = [c for row in sheet.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells)  # values only, no formula
        body = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        assert body[-1][0] == "合计"
        assert sum(Decimal(str(r[2])) for r in body[:-1]) == Decimal(str(body[-1][2]))
        assert Decimal(str(body[-1][2])) == month_total
