"""The inline SVG charts of the auditor's dashboard, as markup (no browser: tests/browser
measures the rendered text)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from api.pages.charts import Series, bar_chart, line_chart, rate_text

SVG = "{http://www.w3.org/2000/svg}"


def _svg(markup: str) -> ET.Element:
    start = markup.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"')
    return ET.fromstring(markup[start : markup.rindex("</svg>") + len("</svg>")])


def test_a_rate_of_zero_and_a_rate_without_data_are_drawn_apart() -> None:
    html = str(
        bar_chart(
            "c",
            "调解成功率（按市（州））",
            ["武汉市", "恩施土家族苗族自治州", "荆门市"],
            [Series("调解成功率", [0.5, 0.0, None], counts=[8, 5, 0])],
            n_label=("已结调解",),
        )
    )
    svg = _svg(html)
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["50.0%（8件）", "0.0%（5件）", "无数据（0件）"]
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [r.get("class") for r in bars] == [None, "zero", "no-data"]
    assert bars[0].get("width") == "30.00%"  # half of the 60 % the bars may use
    assert float(bars[1].get("width") or 0) > 0  # a visible stub, not nothing
    assert bars[2].get("fill") == "url(#c-hatch)"
    # whole names, the hover text names what n counts
    cats = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "cat"]
    assert cats == ["武汉市", "恩施土家族苗族自治州", "荆门市"]
    assert bars[1].findtext(f"{SVG}title") == "恩施土家族苗族自治州 调解成功率：0.0%（已结调解5件）"


def test_charts_have_a_title_a_unit_and_no_viewbox() -> None:
    html = str(
        line_chart(
            "t",
            "月度趋势",
            ["2026年1月", "2026年2月"],
            [Series("收案", [3.0, 0.0])],
            ticks=["1月\n2026年", "2月"],
            unit="件",
        )
    )
    assert '<h2 class="chart-title" id="t-title">月度趋势</h2>' in html
    assert "单位：件" in html
    svg = _svg(html)
    assert svg.get("viewBox") is None and svg.get("width") == "100%"
    assert svg.get("aria-labelledby") == "t-title"
    assert svg.findtext(f"{SVG}title") == "月度趋势"
    assert len(list(svg.iter(f"{SVG}circle"))) == 2  # a month of 0 is a point on the axis


def test_a_long_label_wraps_instead_of_being_cut() -> None:
    long = "某某市某某区劳动人事争议仲裁院驻某某街道裁调对接工作室"
    svg = _svg(str(bar_chart("w", "标题", [long], [Series("率", [0.25], counts=[4])])))
    lines = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "cat"]
    assert len(lines) > 1 and "".join(lines) == long


def test_rate_text() -> None:
    assert rate_text(None, 0) == "无数据（0件）"
    assert rate_text(0, 3) == "0.0%（3件）"
    assert rate_text(0.6667) == "66.7%"
