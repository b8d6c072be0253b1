"""The importer sits outside the domain: ``importer`` imports ``mediation``, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_domain_imports_no_importer_file_format_or_cli() -> None:
    files = imported_modules("mediation")
    assert "mediation/application.py" in files
    offending = {
        path: sorted(n for n in names if _top(n) in {"importer", "openpyxl", "typer", "api"})
        for path, names in files.items()
    }
    assert {p: n for p, n in offending.items() if n} == {}


def test_the_importer_imports_neither_api_nor_projections() -> None:
    files = imported_modules("importer")
    assert "importer/run.py" in files
    offending = {
        path: sorted(n for n in names if _top(n) in {"api", "projections", "bench", "tests"})
        for path, names in files.items()
    }
    assert {p: n for p, n in offending.items() if n} == {}
