"""``mediation import``: a 1,000-case export becomes histories matching the file's own totals."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from openpyxl import Workbook

from importer.build import case_id_for
from importer.rows import COLUMNS
from importer.run import import_file
from mediation.application import MediationApplication
from mediation.values import Actor, Role

FIXTURE = Path(__file__).parent.parent / "fixtures" / "historic_cases_1000.csv"
IMPORTER = Actor("import", Role.SYSTEM)


@dataclass
class Totals:
    cases: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    by_region: Counter[str] = field(default_factory=Counter)
    claimed: Decimal = Decimal(0)
    agreed: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    sessions: int = 0


def file_totals(path: Path) -> Totals:
    """The export's own totals, computed from the CSV text alone."""
    t = Totals()
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            t.cases += 1
            t.by_outcome[row["outcome"]] += 1
            t.by_route[row["route"] or "none"] += 1
            t.by_region[row["region_code"]] += 1
            t.claimed += sum(Decimal(p.split(":")[1]) for p in row["claims"].split(";"))
            t.agreed += Decimal(row["agreement_amount"] or 0)
            t.paid += Decimal(row["amount_paid"] or 0)
            t.sessions += len([d for d in row["session_dates"].split(";") if d])
    return t


@dataclass
class Folded:
    region: str = ""
    route: str = "none"
    claimed: Decimal = Decimal(0)
    agreed: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    sessions: int = 0
    outcome: str = "not_entrusted"
    actors: set[str] = field(default_factory=set)
    versions: list[int] = field(default_factory=list)


def fold_store(app: MediationApplication) -> dict[UUID, Folded]:
    """Fold the stored case events (not the read models) into per-case facts."""
    cases: dict[UUID, Folded] = {}
    start = 1
    while rows := app.recorder.select_notifications(start, 1000):
        start = rows[-1].id + 1
        for n in rows:
            if not n.topic.startswith("mediation.case."):
                continue
            event: Any = app.mapper.to_domain_event(n)
            kind = n.topic.rsplit(".", 1)[1]
            c = cases.setdefault(event.originator_id, Folded())
            c.versions.append(event.originator_version)
            c.actors.add(f"{event.actor}/{event.actor_role}")
            if kind == "Received":
                c.region = event.region_code
                c.claimed = sum((Decimal(x["amount"]) for x in event.claims), Decimal(0))
            elif kind == "Entrusted":
                c.route, c.outcome = event.route, "pending"
            elif kind == "SessionRecorded":
                c.sessions += 1
            elif kind == "AgreementSigned":
                c.agreed += Decimal(event.amount)
            elif kind == "PerformanceRecorded":
                c.paid += Decimal(event.amount_paid)
                if event.complete:
                    c.outcome = "succeeded_performance"
            elif kind == "StatementIssued":
                c.outcome = "succeeded_statement"
            elif kind == "MediationFailed":
                c.outcome = "failed"
    return cases


def test_sample_export_imports_into_histories_matching_its_totals(
    app: MediationApplication,
) -> None:
    expected = file_totals(FIXTURE)
    assert expected.cases == 1000 and len(expected.by_outcome) == 5

    summary = import_file(app, FIXTURE, actor=IMPORTER, progress=False)

    assert summary.refused == []
    assert (summary.rows, summary.imported, summary.already_present) == (1000, 1000, 0)
    folded = fold_store(app)
    assert len(folded) == 1000
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        assert set(folded) == {case_id_for(r["old_case_no"]) for r in csv.DictReader(f)}
    assert Counter(c.outcome for c in folded.values()) == expected.by_outcome
    assert Counter(c.route for c in folded.values()) == expected.by_route
    assert Counter(c.region for c in folded.values()) == expected.by_region
    assert sum((c.claimed for c in folded.values()), Decimal(0)) == expected.claimed
    assert sum((c.agreed for c in folded.values()), Decimal(0)) == expected.agreed
    assert sum((c.paid for c in folded.values()), Decimal(0)) == expected.paid
    assert sum(c.sessions for c in folded.values()) == expected.sessions
    assert all(c.versions == list(range(1, len(c.versions) + 1)) for c in folded.values())
    assert {a for c in folded.values() for a in c.actors} == {"import/system"}
    assert summary.events == sum(len(c.versions) for c in folded.values())

    # loading through the application agrees with the fold (a sample)
    case = app.get_case(case_id_for("鄂劳人仲案〔2025〕00001号"))
    assert (case.region_code, case.received_on) == ("420703", date(2025, 8, 14))
    assert case.status.value == "succeeded" and case.amount_paid == Decimal("40333.00")

    again = import_file(app, FIXTURE, actor=IMPORTER, progress=False)
    assert (again.imported, again.already_present, again.refused) == (0, 1000, [])
    assert (again.studios_created, again.mediators_appointed) == (0, 0)
    assert sum(len(c.versions) for c in fold_store(app).values()) == summary.events


def _rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        good = next(r for r in reader if r["outcome"] == "succeeded_performance")
    confirmation = dict(good, old_case_no="坏-确认劳动关系")
    confirmation["claims"] = "labour_relationship_confirmation:0.00;remuneration:8000.00"
    future = dict(good, old_case_no="坏-未来日期", performance_on="2027-01-05")
    bad_claim = dict(good, old_case_no="坏-请求", claims="wages:100")
    partial = dict(good, old_case_no="坏-部分履行", amount_paid="1.00")
    late_review = dict(good, old_case_no="坏-审查逾期", outcome="succeeded_statement")
    late_review.update(
        route="pre_filing",
        accepted_on="",
        amount_paid="",
        performance_on="",
        review_applied_on=_plus(good["agreement_signed_on"], 40),
        statement_issued_on=_plus(good["agreement_signed_on"], 45),
        statement_number="鄂调字1号",
    )
    return [
        dict(good, old_case_no="好-1"),
        confirmation,
        future,
        bad_claim,
        dict(good, old_case_no="好-1"),
        partial,
        late_review,
    ]


def _plus(day: str, days: int) -> str:
    return date.fromordinal(date.fromisoformat(day).toordinal() + days).isoformat()


EXPECTED_REFUSALS = [
    (3, "坏-确认劳动关系", "labour_relationship_not_entrustable"),
    (4, "坏-未来日期", "date_in_future"),
    (5, "坏-请求", "validation_error"),
    (6, "好-1", "duplicate_row"),
    (7, "坏-部分履行", "validation_error"),
    (8, "坏-审查逾期", "review_window_expired"),
]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        cells: list[Any] = []
        for column in COLUMNS:
            value = row[column]
            if column.endswith("_on") and value:
                cells.append(date.fromisoformat(value))  # real date cells, as Excel holds them
            else:
                cells.append(value or None)
        sheet.append(cells)
    workbook.save(path)


@pytest.mark.parametrize("writer", [_write_csv, _write_xlsx], ids=["csv", "xlsx"])
def test_rows_that_break_rules_are_reported_and_the_rest_imported(
    app: MediationApplication, tmp_path: Path, writer: Any
) -> None:
    path = tmp_path / ("export.csv" if writer is _write_csv else "export.xlsx")
    writer(path, _rows())

    summary = import_file(app, path, actor=IMPORTER, progress=False)

    assert [(p.row, p.old_case_no, p.code) for p in summary.refused] == EXPECTED_REFUSALS
    assert (summary.rows, summary.imported) == (7, 1)
    assert app.get_case(case_id_for("好-1")).status.value == "succeeded"
    for _, old_no, _ in EXPECTED_REFUSALS[:3]:
        assert app.recorder.select_events(case_id_for(old_no)) == []
    assert "labour-relationship" in summary.refused[0].detail


def test_sample_export_is_what_its_generator_writes(tmp_path: Path) -> None:
    from tests.fixtures.make_historic_cases import generate, write_csv

    write_csv(generate(1000, 2023), tmp_path / "regenerated.csv")
    assert (tmp_path / "regenerated.csv").read_bytes() == FIXTURE.read_bytes()


@pytest.mark.parametrize("keep", [0, 1, 3, 10_000])
def test_a_file_too_long_to_keep_parsed_is_read_again_with_the_same_result(
    app: MediationApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: int
) -> None:
    monkeypatch.setattr("importer.run.KEEP_PARSED_ROWS", keep)
    path = tmp_path / "export.csv"
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        sample = [r for _, r in zip(range(5), csv.DictReader(f), strict=False)]
    _write_csv(path, [*_rows(), *sample])

    summary = import_file(app, path, actor=IMPORTER, progress=False)

    assert [(p.row, p.old_case_no, p.code) for p in summary.refused] == EXPECTED_REFUSALS
    assert (summary.rows, summary.imported) == (12, 6)
    assert all(app.recorder.select_events(case_id_for(r["old_case_no"])) for r in sample)
