"""docs/api.md prints the current authorisation matrix."""

from pathlib import Path

from api.authz import matrix_markdown


def test_docs_hold_the_current_matrix() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert matrix_markdown() in doc
