"""Running an import (``mediation import FILE``): read, build, save in batches, report.

A row that breaks a rule is reported with its row number and the rule's stable code and
is not imported; it never aborts the import.

The file is read twice (studios and mediators first, then the cases), so memory stays
flat however long the file; the first pass's parsed rows are kept for the second only
while there are at most ``KEEP_PARSED_ROWS`` of them. Aggregates are built in memory and
saved many per transaction (``batch_size`` rows); that is safe because each case is a new
aggregate. A batch that meets a case already in the store (a second import, or a
concurrent one) is saved again without the existing cases. The batches are written by
:mod:`importer.store`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from importer.build import Builder, Organisation
from importer.rows import HistoricCase, parse_row, read_rows
from importer.store import record
from mediation.application import MediationApplication
from mediation.calendar import in_force
from mediation.case import Case
from mediation.clock import recording_with
from mediation.errors import DomainError
from mediation.personal import sealing_with
from mediation.values import Actor

DUPLICATE_ROW = "duplicate_row"
DEFAULT_BATCH = 200
# Rows whose parse the first pass keeps for the second: a file up to this size is read and
# parsed once; a longer one is read again, keeping memory flat (docs/performance.md).
KEEP_PARSED_ROWS = 10_000


@dataclass(frozen=True)
class RowProblem:
    row: int
    old_case_no: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"row {self.row} ({self.old_case_no or '?'}): {self.code}: {self.detail}"


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    events: int = 0
    studios_created: int = 0
    mediators_appointed: int = 0
    refused: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.refused

    def lines(self) -> list[str]:
        out = [
            f"rows read:        {self.rows}",
            f"cases imported:   {self.imported} ({self.events} events)",
            f"already present:  {self.already_present}",
            f"studios created:  {self.studios_created}",
            f"mediators added:  {self.mediators_appointed}",
            f"rows refused:     {len(self.refused)}",
        ]
        out.extend(f"  {p}" for p in self.refused)
        out.append(f"time:             {self.seconds:.1f} s")
        return out


def import_file(
    app: MediationApplication,
    path: Path,
    *,
    actor: Actor,
    progress: bool = True,
    batch_size: int = DEFAULT_BATCH,
    after_batch: Callable[[], None] | None = None,
) -> ImportSummary:
    """Import every row of ``path`` as a case history; see the module docstring.

    ``after_batch`` runs after each saved batch (e.g. ``System.catch_up`` to keep
    in-process read models current); ``progress`` prints a line per batch to stderr.
    """
    started = time.perf_counter()
    summary = ImportSummary()
    refused_rows: set[int] = set()
    good = 0
    # The first pass's parsed rows, kept for the second while the file is small enough;
    # None once it is not (the second pass then reads and parses the file again).
    kept: list[HistoricCase] | None = []

    def first_pass() -> Iterator[HistoricCase]:
        """Parse every row once: refuse the malformed and the repeated, yield the rest."""
        nonlocal good, kept
        seen: set[str] = set()
        for number, values in read_rows(path):
            summary.rows += 1
            old_no = values.get("old_case_no", "")
            try:
                row = parse_row(number, values)
            except DomainError as exc:
                summary.refused.append(RowProblem(number, old_no, exc.code, exc.detail))
                refused_rows.add(number)
                continue
            if row.old_case_no in seen:
                summary.refused.append(
                    RowProblem(number, old_no, DUPLICATE_ROW, "old_case_no repeats an earlier row")
                )
                refused_rows.add(number)
                continue
            seen.add(row.old_case_no)
            good += 1
            if kept is not None and len(kept) >= KEEP_PARSED_ROWS:
                kept = None  # too long to keep: the second pass reads the file again
            if kept is not None:
                kept.append(row)
            yield row

    # Two passes over the file keep memory flat for a province's whole history: the
    # first finds the studios and mediators needed, the second builds and saves cases.
    org = Organisation(app, actor)
    refused_studios = org.prepare(first_pass())
    summary.studios_created, summary.mediators_appointed = org.created, org.appointed
    builder = Builder(app, actor, org)

    batch: list[tuple[HistoricCase, Case]] = []
    problems: list[RowProblem] = []

    def flush() -> None:
        if not batch:
            return
        saved = _save_batch(app, [case for _, case in batch])
        summary.imported += len(saved)
        summary.already_present += len(batch) - len(saved)
        summary.events += sum(case.version for case in saved)
        batch.clear()
        if after_batch is not None:
            after_batch()
        if progress:
            done = summary.imported + summary.already_present + len(problems)
            print(f"import: {done}/{good} rows", file=sys.stderr, flush=True)

    def second_pass() -> Iterator[HistoricCase]:
        if kept is not None:
            yield from kept
            return
        for number, values in read_rows(path):
            if number not in refused_rows:
                yield parse_row(number, values)

    with recording_with(app.clock), in_force(app.calendars.current()), sealing_with(app.personal):
        for row in second_pass():
            try:
                if row.studio_key in refused_studios and row.outcome != "not_entrusted":
                    raise refused_studios[row.studio_key]
                batch.append((row, builder.build(row)))
            except DomainError as exc:
                problems.append(RowProblem(row.row, row.old_case_no, exc.code, exc.detail))
            if len(batch) >= batch_size:
                flush()
        flush()
    summary.refused.extend(problems)
    summary.refused.sort(key=lambda p: p.row)
    summary.seconds = time.perf_counter() - started
    return summary


def _save_batch(app: MediationApplication, cases: list[Case]) -> list[Case]:
    """Save new cases in one transaction, leaving out those already stored; returns the saved.

    Events are collected once, up front: a save that fails has already taken them from
    the aggregates, and a retry must offer the same events again.
    """
    pending = [(case, case.collect_events()) for case in cases]
    try:
        record(app, [e for _, events in pending for e in events])
        return cases
    except IntegrityError:
        pass
    fresh = [(c, events) for c, events in pending if not _exists(app, c.id)]
    if not fresh:
        return []
    try:
        record(app, [e for _, events in fresh for e in events])
        return [c for c, _ in fresh]
    except IntegrityError:  # a concurrent import: fall back to one case at a time
        saved = []
        for case, events in fresh:
            try:
                record(app, events)
                saved.append(case)
            except IntegrityError:
                pass
        return saved


def _exists(app: MediationApplication, case_id: UUID) -> bool:
    return bool(app.recorder.select_events(case_id, limit=1))
