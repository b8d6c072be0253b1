"""docs/architecture.md's layout tree names every module of the four packages, so a reader
who follows it never meets a module it does not mention."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mediation", "importer", "projections", "api")


def _tree() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return layout


def test_every_module_has_its_line_in_the_layout_tree() -> None:
    tree = _tree()
    lines = [line for line in tree.splitlines() if line.startswith(" ")]
    named: set[str] = set()
    folder: list[str] = []
    for line in tree.splitlines():
        top = re.match(r"^([a-z_]+)/\s", line + " ")
        if top:
            folder = [top.group(1)]
            continue
        match = re.match(r"^( +)([a-z_]+)(/|\.py)\s", line + " ")
        if not match:
            continue
        depth = len(match.group(1)) // 2
        folder = folder[:depth]
        if match.group(3) == "/":
            folder.append(match.group(2))
        else:
            named.add("/".join([*folder, match.group(2) + ".py"]))
    assert lines, "no layout tree found"
    modules = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    }
    missing = sorted(modules - named)
    stale = sorted(named - modules)
    assert not missing, f"modules without a line in docs/architecture.md: {missing}"
    assert not stale, f"lines in docs/architecture.md for modules that do not exist: {stale}"
