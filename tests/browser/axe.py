"""axe-core (from the npm registry, vendored by ``npm ci`` under ``tests/browser/``) run in a page.

The script is read from ``tests/browser/node_modules/axe-core/axe.min.js`` and evaluated
in the page through Playwright (no CDN, no ``<script>`` tag, so the pages' CSP stays as
it is). :func:`serious` returns the violations of impact *serious* or *critical*, each
with the elements it names, for an assertion message a reader can act on.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, one main, headings)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


@cache
def source() -> str:
    if not AXE.exists():
        raise pytest.UsageError(
            f"{AXE} not found: run `npm ci` in tests/browser (axe-core from the npm registry)"
        )
    return AXE.read_text(encoding="utf-8")


def run(page: Any, *, open_forms: bool = False) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (every ``<details>`` opened first if asked)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source())
    if open_forms:
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),"
        " summary: n.failureSummary}))})) }",
        TAGS,
    )
    return list(result)


def serious(page: Any, *, open_forms: bool = False) -> list[dict[str, Any]]:
    """The violations that fail the suite: impact serious or critical."""
    return [v for v in run(page, open_forms=open_forms) if v["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    return json.dumps(found, ensure_ascii=False, indent=1)
