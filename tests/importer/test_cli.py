"""``mediation import FILE`` and ``mediation verify`` as registered on a Typer app."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api import integrity_cli
from importer.cli import register
from mediation.settings import get_settings

FIXTURE = Path(__file__).parent.parent / "fixtures" / "historic_cases_1000.csv"


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_import_then_verify(configured: str, tmp_path: Path) -> None:
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = [next(reader) for _ in range(20)]
    bad = dict(rows[0], old_case_no="坏-1", claims="labour_relationship_confirmation:1.00")
    bad.update(outcome="pending", route="pre_filing", entrusted_on=rows[0]["received_on"])
    bad.update(studio="武汉市劳动争议裁调对接工作室", studio_region_code="420100")
    bad.update(region_code="420102", mediator="", session_dates="", agreement_amount="")
    bad.update(agreement_signed_on="", amount_paid="", performance_on="", accepted_on="")
    bad.update(consent_on="", assessed_on="")
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows([*rows, bad])
    cli = typer.Typer()
    register(cli)
    integrity_cli.register(cli)
    runner = CliRunner()

    result = runner.invoke(cli, ["import", str(path), "--quiet"])

    assert result.exit_code == 1, result.output
    assert "cases imported:   20" in result.output
    assert "row 22 (坏-1): labour_relationship_not_entrustable" in result.output

    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.output
