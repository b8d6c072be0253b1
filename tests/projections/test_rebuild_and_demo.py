"""Side-by-side rebuild and swap, the ``project``/``demo`` commands, and the demo data."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mediation.values import StudioKind
from projections import caseload, worklists
from projections.cli import register
from projections.demo import generate
from projections.rebuild import Rebuilder, table_rows
from projections.sql import case_tables, organisation_tables
from projections.system import System
from tests.projections.history import all_events, drive
from tests.support.factories import SteppingClock, new_case


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """mediation (test harness)"""

    return app


def _rows(system: System) -> dict[str, object]:
    return {
        **table_rows(system.engine, case_tables()),
        **table_rows(system.engine, organisation_tables()),
    }


def test_rebuild_side_by_side_keeps_serving_and_swaps_in(
    database_url: str, clock: SteppingClock
) -> None:
    live = System(database_url, clock=clock)  # in-process, as the API runs
    try:
        drive(live.app, clock, random.Random(3), cases=8, days=40)
        before = _rows(live)
        period = {"region": "420000", "from_": date(2026, 1, 1), "to": date(2026, 3, 31)}
        report = caseload.caseload(live.engine, group_by="county", **period)
        seen_during: list[object] = []

        def progress(_n: int) -> None:
            # the live tables answer, unchanged, while the rebuild runs beside them
            seen_during.append(caseload.caseload(live.engine, group_by="county", **period).rows)

        rebuilder = System(database_url, clock=clock, in_process=False)
        rebuilder.runner.batch_size = 20
        try:
            rebuilder.runner.rebuild("cases", progress=progress)
        finally:
            rebuilder.close()
        assert seen_during and all(rows == report.rows for rows in seen_during)
        assert _rows(live) == before
        # the in-process runner carries on from the swapped-in view's tracking record
        case = new_case(live.app, received_on=date(2026, 2, 1))
        assert live.lag() == 0
        ids, _ = worklists.list_cases(
            live.engine, region_prefix="42", today=live.today(), limit=500
        )
        assert case.id in ids
        live.runner.rebuild("cases", swap=False)
        assert table_rows(live.engine, case_tables("__next")) == table_rows(
            live.engine, case_tables()
        )
    finally:
        live.close()


def test_project_commands(
    database_url: str, clock: SteppingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = System(database_url, clock=clock, in_process=False)
    try:
        drive(writer.app, clock, random.Random(4), cases=5, days=30)
        assert writer.lag() > 0
    finally:
        writer.close()
    cli = _cli()
    runner = CliRunner()
    rebuilt: list[str] = []
    rebuild = Rebuilder.rebuild

    def counted(self: Rebuilder, name: str, **kwargs: Any) -> int:
        rebuilt.append(name)
        return rebuild(self, name, **kwargs)

    monkeypatch.setattr(Rebuilder, "rebuild", counted)
    result = runner.invoke(cli, ["project", "--once", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "lag 0" in result.output
    # nothing was tracked yet: each view was built by a rebuild, not event batch by batch
    assert sorted(rebuilt) == ["cases", "organisation", "search"]
    checker = System(database_url, clock=clock, in_process=False)
    try:
        new_case(checker.app, received_on=date(2026, 2, 1))
        result = runner.invoke(cli, ["project", "--once", "--database-url", database_url])
        assert result.exit_code == 0, result.output
        assert "lag 0" in result.output
        assert len(rebuilt) == 3  # tracked views catch up
        before = _rows(checker)
        result = runner.invoke(cli, ["project", "--rebuild", "all", "--database-url", database_url])
        assert result.exit_code == 0, result.output
        assert "rebuilt cases" in result.output and "rebuilt organisation" in result.output
        assert _rows(checker) == before
        assert checker.lag() == 0
    finally:
        checker.close()
    bad = runner.invoke(cli, ["project", "--rebuild", "nope", "--database-url", database_url])
    assert bad.exit_code != 0


def test_demo_is_realistic_and_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    stores = []
    for name in ("a", "b"):
        system = System(f"sqlite:///{tmp_path / name}.sqlite3", clock=SteppingClock())
        try:
            summary = generate(system, cases=60, seed=5, progress=False)
            events = all_events(system.app)
            stores.append(
                [
                    (type(e).__name__, e.originator_id, e.originator_version, e.timestamp)
                    for e in events
                ]
            )
            assert summary.events_skipped == 0
            assert system.lag() == 0
            report = caseload.caseload(
                system.engine,
                region="420000",
                from_=date(2024, 1, 1),
                to=date(2026, 6, 29),
                group_by="worker_category",
            )
        finally:
            system.close()
    assert stores[0] == stores[1]
    assert summary.cases == 60 and summary.first_studio_region.startswith("42")
    kinds = Counter(name for name, *_ in stores[0])
    assert kinds["Registered"] > 50 and kinds["MediatorAppointed"] > 150
    assert kinds["Entrusted"] > 20 and kinds["PerformanceRecorded"] > 5
    assert kinds["StatementIssued"] > 0 and kinds["MediationFailed"] > 0
    assert report.totals.received >= 60 and report.totals.succeeded > 0
    assert len(report.rows) >= 3
    assert {k.value for k in StudioKind} <= _studio_kinds(tmp_path / "a.sqlite3")
    # the last event is recorded before the clock's today
    assert max(t for *_, t in stores[0]).date() < date(2026, 6, 30)


def _studio_kinds(path: Path) -> set[str]:
    system = System(f"sqlite:///{path}", clock=SteppingClock())
    try:
        with system.engine.connect() as conn:
            kinds = {row.kind for row in conn.execute(organisation_tables()["studios"].select())}
    finally:
        system.close()
    return kinds


def test_demo_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = CliRunner().invoke(
        _cli(), ["demo", "--cases", "12", "--seed", "2", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "12 cases" in result.output
