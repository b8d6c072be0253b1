"""Running an import (``mediation import FILE``): read, build, save in batches, report.

A row that breaks a rule is reported with its row number and the rule's stable code and
is not imported; it never aborts the import.

The file is read twice (studios and mediators first, then the cases), so memory stays
flat however long the file; the first pass's parsed rows are kept for the second only
while there are at most ``KEEP_PARSED_ROWS`` of them. Aggregates are built in memory and
saved many per transaction (``batch_size`` rows); that is safe because each case is a new
aggregate. The batches are written by :mod:`importer.store`.

Parallel: the second pass runs in forked workers (``MEDIATION_IMPORT_WORKERS``, default
the usable CPUs up to 4), each building and saving the cases whose id's last byte modulo
the workers is its own, as a rebuild splits them (ADR 0007); the importing process shows
one progress bar (rows, rate, time left).

Resumable: a batch's cases, events and new personal keys commit in one transaction, and
each batch first leaves out the cases already stored (their ids are derived from the old
case numbers). An import killed at any point (even ``kill -9``) and run again skips what
was saved and ends with exactly the file's cases; a second import of the same file adds
nothing, and concurrent importers of one file store each case once.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteApplicationRecorder
from tqdm import tqdm

from importer.build import Builder, Organisation, case_id_for
from importer.rows import HistoricCase, parse_row, read_rows
from importer.store import Refused, joins_transaction, present, record
from mediation.application import MediationApplication
from mediation.calendar import in_force
from mediation.case import Case
from mediation.clock import recording_with
from mediation.errors import DomainError
from mediation.identifiers import validate_resident_id
from mediation.keystore import KeyBatch
from mediation.personal import sealing_with
from mediation.settings import processes_from_env
from mediation.storage import refresh_statistics
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
    workers: int | None = None,
) -> ImportSummary:
    """Import every row of ``path`` as a case history; see the module docstring.

    ``after_batch`` runs after each saved batch (e.g. ``System.catch_up`` to keep
    in-process read models current); ``progress`` shows a progress bar on stderr;
    ``workers``: processes building and saving at once (default ``import_workers()``;
    one when called from a thread other than the main one, or for an in-memory store).
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

    def second_pass(part: tuple[int, int] | None = None) -> Iterator[HistoricCase]:
        mine = (lambda _: True) if part is None else in_part(*part)
        if kept is not None:
            yield from (row for row in kept if mine(row.old_case_no))
            return
        for number, values in read_rows(path):
            if number not in refused_rows and mine(values.get("old_case_no", "")):
                yield parse_row(number, values)

    parts = import_workers() if workers is None else max(workers, 1)
    if parts > 1 and not _may_fork(app):
        parts = 1
    bar = tqdm(
        total=good,
        unit="row",
        desc="import",
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
        smoothing=0.1,
    )
    try:
        if parts == 1:

            def done(n: int) -> None:
                bar.update(n)
                if after_batch is not None:
                    after_batch()

            results = [
                _import_part(app, org, actor, second_pass(), batch_size, refused_studios, done)
            ]
        else:
            results = _import_parts(
                app, org, actor, second_pass, batch_size, refused_studios, parts, bar, after_batch
            )
    finally:
        bar.close()
    # fresh planner statistics for what the import wrote (PostgreSQL)
    refresh_statistics(app.recorder, "personal_keys")
    for result in results:
        summary.imported += result.imported
        summary.already_present += result.already_present
        summary.events += result.events
        summary.refused.extend(result.refused)
    summary.refused.sort(key=lambda p: p.row)
    summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------------- one part


@dataclass
class PartResult:
    """What one part (all the cases, or a worker's share of them) did; sent back by pipe."""

    imported: int = 0
    already_present: int = 0
    events: int = 0
    refused: list[RowProblem] = field(default_factory=list)


def in_part(index: int, parts: int) -> Callable[[str], bool]:
    """Whether an old case number's case belongs to part ``index`` of ``parts`` (its id's
    last byte modulo the parts, as a rebuild splits the cases: ADR 0007)."""

    def mine(old_case_no: str) -> bool:
        return case_id_for(old_case_no).bytes[-1] % parts == index

    return mine


def _import_part(
    app: MediationApplication,
    org: Organisation,
    actor: Actor,
    rows: Iterable[HistoricCase],
    batch_size: int,
    refused_studios: dict[tuple[str, str], DomainError],
    done: Callable[[int], None],
    turns: Any = None,
) -> PartResult:
    """Build and save ``rows`` in batches of ``batch_size``; ``done(n)`` after each batch.

    ``turns``: a lock taken around each batch's transaction (parts writing to one SQLite
    file take turns)."""
    result = PartResult()
    batcher = _Batcher(app, Builder(app, actor, org), refused_studios, turns)
    with recording_with(app.clock), in_force(app.calendars.current()), _no_gc():
        batch: list[HistoricCase] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                batcher.save(batch, result)
                done(len(batch))
                batch = []
        if batch:
            batcher.save(batch, result)
            done(len(batch))
    return result


# A batch refused for a reason another writer caused (a case or a person's key it stored
# meanwhile) is built again this many times, then case by case.
BATCH_ATTEMPTS = 3


class _Batcher:
    """One batch of rows → new cases and their personal keys, in one transaction.

    Cases already stored are left out before anything is built (a re-run after an
    interrupted import, or a second import of the file); the keys of the batch's persons
    are read in one query and the new ones written with the events (``KeyBatch``), so a
    killed import leaves whole batches: every stored case complete, with its keys.
    """

    def __init__(
        self,
        app: MediationApplication,
        builder: Builder,
        refused_studios: dict[tuple[str, str], DomainError],
        turns: Any,
    ) -> None:
        self.app = app
        self.builder = builder
        self.refused_studios = refused_studios
        self.turns = turns
        self.keys = KeyBatch(app.personal)
        self.joined = joins_transaction(app)

    def save(self, rows: list[HistoricCase], result: PartResult) -> None:
        for _ in range(BATCH_ATTEMPTS):
            if self._attempt(rows, result):
                return
        if len(rows) == 1:
            raise RuntimeError(f"row {rows[0].row} could not be saved: keys or case contended")
        for row in rows:  # contended over and over: one case per transaction
            self.save([row], result)

    def _attempt(self, rows: list[HistoricCase], result: PartResult) -> bool:
        ids = [case_id_for(row.old_case_no) for row in rows]
        stored = present(self.app, ids)
        todo = [row for row, i in zip(rows, ids, strict=True) if i not in stored]
        self.keys.prepare(_id_number(row) for row in todo)
        cases: list[Case] = []
        problems: list[RowProblem] = []
        with sealing_with(self.keys):
            for row in todo:
                try:
                    if row.studio_key in self.refused_studios and row.outcome != "not_entrusted":
                        raise self.refused_studios[row.studio_key]
                    cases.append(self.builder.build(row))
                except DomainError as exc:
                    problems.append(RowProblem(row.row, row.old_case_no, exc.code, exc.detail))
        events = [e for case in cases for e in case.collect_events()]
        try:
            with _holding(self.turns):
                if self.joined:
                    record(self.app, events, before=self.keys.write)
                else:
                    if not self.keys.write_alone():
                        return False
                    record(self.app, events)
        except (IntegrityError, Refused):
            return False  # another writer stored one of these cases or persons meanwhile
        result.imported += len(cases)
        result.already_present += len(stored)
        result.events += len(events)
        result.refused.extend(problems)
        return True


def _id_number(row: HistoricCase) -> str:
    """The applicant's ID number as the commands seal it (validated), or as written."""
    try:
        return validate_resident_id(row.applicant.id_number)
    except ValueError:
        return row.applicant.id_number


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic collector off while batches are built: each batch allocates thousands of
    objects that live until its transaction, and the collector would traverse them (and
    the kept rows) over and over (≈ 7 % of an import's CPU); reference counting still
    frees every batch (the rebuild does the same, docs/performance.md)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def _holding(lock: Any) -> Iterator[None]:
    if lock is None:
        yield
        return
    with lock:
        yield


# ---------------------------------------------------------------------- parts in parallel

# An import builds and saves its cases in this many processes at once (the importing one
# only watches): forked workers, each taking the cases whose id's last byte modulo the
# parts is its own. Default: the CPUs this process may use, at most 4.
# ``MEDIATION_IMPORT_WORKERS`` sets it (1: in this process).
WORKERS_ENV = "MEDIATION_IMPORT_WORKERS"
MAX_DEFAULT_WORKERS = 4


def import_workers() -> int:
    return processes_from_env(WORKERS_ENV, MAX_DEFAULT_WORKERS)


class ImportWorkerFailed(RuntimeError):
    """A worker of a parallel import failed (the batches it and the others committed stay:
    running the import again completes it)."""


def _may_fork(app: MediationApplication) -> bool:
    """Fork workers only from the main thread of a non-daemonic process, on a platform
    that forks, for a store other processes can open (SQLite file or PostgreSQL)."""
    return (
        joins_transaction(app)
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
        and not multiprocessing.current_process().daemon
        and not _in_memory(app)
    )


def _in_memory(app: MediationApplication) -> bool:
    pool = getattr(getattr(app.recorder, "datastore", None), "pool", None)
    return bool(getattr(pool, "is_sqlite_memory_mode", False))


def _import_parts(
    app: MediationApplication,
    org: Organisation,
    actor: Actor,
    rows_of: Callable[[tuple[int, int]], Iterator[HistoricCase]],
    batch_size: int,
    refused_studios: dict[tuple[str, str], DomainError],
    parts: int,
    bar: tqdm[Any],
    after_batch: Callable[[], None] | None,
) -> list[PartResult]:
    """Each part's rows imported by a forked worker; this process shows their progress."""
    context = multiprocessing.get_context("fork")
    sqlite = isinstance(app.recorder, SQLiteApplicationRecorder)
    turns = context.Lock() if sqlite else None
    done = [context.Value("q", 0, lock=False) for _ in range(parts)]
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    results: list[PartResult] = []
    shown = 0

    def report() -> None:
        nonlocal shown
        total = sum(int(d.value) for d in done)
        if total > shown:
            bar.update(total - shown)
            shown = total
            if after_batch is not None:
                after_batch()

    try:
        for index in range(parts):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_run_part,
                args=(app, org, actor, rows_of, (index, parts), batch_size, refused_studios),
                kwargs={"turns": turns, "done": done[index], "send": send, "parent": os.getpid()},
                name=f"import-{index}",
                daemon=True,
            )
            process.start()
            send.close()
            workers.append((process, receive))
        for worker, receive in workers:
            while not receive.poll(0.2):
                report()
                for other, _ in workers:
                    if not other.is_alive() and other.exitcode:
                        raise ImportWorkerFailed(
                            f"import worker {other.name} exited with code {other.exitcode}"
                        )
            try:
                outcome, payload = receive.recv()
            except EOFError:
                worker.join()
                raise ImportWorkerFailed(
                    f"import worker {worker.name} exited with code {worker.exitcode}"
                ) from None
            if outcome != "ok":
                raise ImportWorkerFailed(f"import worker {worker.name} failed: {payload}")
            results.append(payload)
            worker.join()
        report()
    finally:
        for worker, receive in workers:
            if worker.is_alive():
                worker.kill()
            worker.join()
            receive.close()
    return results


def _run_part(
    app: MediationApplication,
    org: Organisation,
    actor: Actor,
    rows_of: Callable[[tuple[int, int]], Iterator[HistoricCase]],
    part: tuple[int, int],
    batch_size: int,
    refused_studios: dict[tuple[str, str], DomainError],
    *,
    turns: Any,
    done: Any,
    send: Connection,
    parent: int,
) -> None:
    """A forked worker: its own application (never the parent's connections), its rows."""
    try:
        _die_with(parent)
        own = MediationApplication(app.env, policies=app.policies, clock=app.clock)
        try:

            def progress(n: int) -> None:
                done.value += n

            result = _import_part(
                own, org, actor, rows_of(part), batch_size, refused_studios, progress, turns
            )
        finally:
            own.close()
        send.send(("ok", result))
    except BaseException as error:  # reported to the parent, which fails the import
        send.send(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    finally:
        send.close()


PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have this (forked) worker killed when the importing process dies (Linux), as a
    rebuild's workers are: a killed import stops whole, and its re-run skips what it saved."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)
