"""Rebuilding a view side by side: load its side tables from position zero (in parts, in
forked processes, for a partitioned view), then swap them in.

The load is a catch-up of the side tables (names ending in ``__next``) in exactly-once
batches, read straight from the events table where it can be (``raw_reader``); the view
may carry work across the batches (``View.begin_load``; ``cases_load``). ``swap`` catches
the side tables up to the head and renames them over the live ones in one transaction.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, inspect, select, text, update
from sqlalchemy.schema import CreateTable

from mediation.application import MediationApplication
from mediation.settings import processes_from_env
from projections import raw_reader
from projections.raw_reader import in_part
from projections.runner import Progress, Runner
from projections.sql import NEXT, TRACKING, lock_catalogue, tracking, view_state
from projections.views import Run, View

log = logging.getLogger("projections.rebuild")

# A rebuild reads and commits in larger batches: the same guarantee, fewer round trips.
REBUILD_BATCH_SIZE = 20000
# indexes a rebuild keeps while loading (the view's updates find rows by them: a severance
# closes claims loaded by earlier batches; a load marks facts by their primary key)
NEEDED_WHILE_LOADING = {f"{name}{NEXT}" for name in ("ix_rm_claims_case",)}
# A history above this many events is rebuilt streaming, as catch-up does (each batch
# reads and rewrites the rows it touches) instead of carrying the view's state across
# batches (``cases_load``, bounded at any size). ``MEDIATION_REBUILD_CARRY_LIMIT`` sets it
# (0: always stream; the default never streams).
CARRY_LIMIT_ENV = "MEDIATION_REBUILD_CARRY_LIMIT"
CARRY_LIMIT = 2**62
# indexes a streaming rebuild needs while loading (its updates find facts by case)
NEEDED_WHILE_STREAMING = NEEDED_WHILE_LOADING | {f"ix_rm_facts_case{NEXT}"}


# Whether a rebuild reads and decodes its next batch in a thread while it folds and writes
# the current one (docs/performance.md, "Rebuild: reading ahead"); False reads in turn.
READ_AHEAD = True


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def carry_limit() -> int:
    value = os.environ.get(CARRY_LIMIT_ENV, "").strip()
    return int(value) if value.isdigit() else CARRY_LIMIT


# A carried rebuild of a partitioned view folds disjoint sets of cases in this many
# processes at once (the rebuilding one and forked workers), each reading the whole log
# and keeping its own cases' events; their counters are summed at the end. Default: the
# CPUs this process may use, at most 4. ``MEDIATION_REBUILD_WORKERS`` sets it (1: one
# process).
WORKERS_ENV = "MEDIATION_REBUILD_WORKERS"
MAX_DEFAULT_WORKERS = 4


def rebuild_workers() -> int:
    return processes_from_env(WORKERS_ENV, MAX_DEFAULT_WORKERS)


class RebuildWorkerFailed(RuntimeError):
    """A worker process of a partitioned rebuild failed: nothing is swapped in."""


# Opens a fresh application and read-model engine in a rebuild's worker process (never
# the parent's connections, which a forked child must not use).
Opener = Callable[[], tuple[MediationApplication, Engine]]


def _part_state(view: str, index: int) -> str:
    """The tracking state of part ``index`` of a rebuild's load (part 0 uses the load's)."""
    return view + NEXT + (f".p{index}" if index else "")


def _exited(worker: multiprocessing.process.BaseProcess) -> RebuildWorkerFailed:
    return RebuildWorkerFailed(f"rebuild worker {worker.name} exited with code {worker.exitcode}")


def _die_with(parent: int) -> None:
    """Have this (forked) process killed when ``parent`` dies (Linux): an orphaned part
    would go on writing into side tables that the next rebuild drops and creates again."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1


class Turns:
    """The parts of a rebuild on SQLite take turns to write (one writer at a time) under a
    lock shared by the processes. A part killed while holding it never gives it back: a
    waiting part calls ``check`` every ``WAIT_S``, which raises when that may have happened.
    """

    WAIT_S = 0.5

    def __init__(self, lock: Any, check: Callable[[], None]) -> None:
        self.lock = lock
        self.check = check


@contextlib.contextmanager
def _holding(turns: Turns | None) -> Iterator[None]:
    if turns is None:
        yield
        return
    while not turns.lock.acquire(timeout=turns.WAIT_S):
        turns.check()
    try:
        yield
    finally:
        turns.lock.release()


class Rebuilder(Runner):
    """A runner that can also rebuild its views side by side (and does so at ``ensure``
    for a view whose live tables are of an older layout)."""

    # how a partitioned rebuild's workers open their own connections (set by the
    # composition root; None: a rebuild runs in this process only)
    opener: Opener | None = None

    def stale_layout(self, view: View) -> bool:
        """True when some live table of ``view`` is missing, lacks a column of this code or
        has another primary key."""
        found = inspect(self.engine)
        tables = view.tables("").values()
        present = [found.has_table(t.name) for t in tables]
        if not any(present):
            return False  # a new database: nothing to migrate
        for table, exists in zip(tables, present, strict=True):
            if not exists:
                return True
            columns = {c["name"] for c in found.get_columns(table.name)}
            if {c.name for c in table.columns} - columns:
                return True
            # a primary key this code no longer has (rm_search's became a unique index)
            key = found.get_pk_constraint(table.name).get("constrained_columns") or []
            if list(key) != [c.name for c in table.primary_key.columns]:
                return True
        return False

    def _ensure(self, suffix: str) -> None:
        if not suffix:
            # tables from an older layout: rebuild side by side and swap (never half-migrate)
            for view in self.views.values():
                if self.stale_layout(view):
                    log.warning("view %s has an older table layout; rebuilding it", view.name)
                    # in this process only: it may be a server's, with threads of its own
                    self.rebuild(view.name, workers=1)
        super()._ensure(suffix)

    def rebuild(
        self,
        name: str,
        *,
        progress: Progress | None = None,
        swap: bool = True,
        workers: int | None = None,
    ) -> int:
        """Rebuild ``name`` from position zero beside the live tables, then swap it in.

        ``workers`` (default ``rebuild_workers()``): processes folding a partitioned view's
        cases at once; one when the view is not partitioned, the history streams, this
        runner has no ``opener`` or the platform cannot fork.
        """
        view = self.view(name)
        self.drop_next(view)
        carry = self.head() <= carry_limit()
        if not carry:
            log.info("rebuilding %s streaming (history above %s events)", name, carry_limit())
        needed = NEEDED_WHILE_LOADING if carry else NEEDED_WHILE_STREAMING
        with self.engine.begin() as conn:
            lock_catalogue(conn)
            TRACKING.create_all(conn, checkfirst=True)
            for table in view.tables(NEXT).values():
                # secondary indexes after the load (cheaper than maintaining them), except
                # the ones the view's own updates look rows up by
                conn.execute(CreateTable(table))
                for index in table.indexes:
                    if str(index.name) in needed:
                        index.create(conn)
        self._ensure_state(view.name + NEXT)
        size = max(self.batch_size, REBUILD_BATCH_SIZE)
        parts = workers if workers is not None else rebuild_workers()
        if not (
            carry
            and view.partitioned
            and self.opener is not None
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon  # may not start processes
        ):
            parts = 1
        if carry:
            view.begin_load()
        # The load allocates many long-lived, acyclic rows (the carried case state, the
        # counters): the cyclic collector would traverse them, and the whole heap, over and
        # over. Reference counting still frees everything meanwhile.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if parts > 1:
                position = self._load_parts(view, progress, size, parts)
            else:
                position = self._load(view, progress, size)
            with self.engine.begin() as conn:
                view.end_load(conn, NEXT)
        finally:
            view.abort_load()
            if collecting:
                gc.enable()
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                for table in view.tables(NEXT).values():
                    for index in table.indexes:
                        index.create(conn, checkfirst=True)
        if swap:
            position = self.swap(view)
        return position

    def _load(
        self,
        view: View,
        progress: Progress | None,
        size: int,
        *,
        head: int | None = None,
        part: tuple[int, int] = (0, 1),
        turns: Turns | None = None,
    ) -> int:
        """A rebuild's catch-up of the side tables: exactly-once batches, as ``catch_up_view``,
        read straight from the events table when the recorder is one this code knows.

        ``part`` = (index, parts): only the events of the aggregates in that part are
        processed (tracked under a state of its own unless it is part 0), each batch
        folded before its transaction; ``turns``: taken around each transaction (the
        parts of a rebuild on SQLite take turns to write)."""
        head = self.head() if head is None else head
        index, parts = part
        state = _part_state(view.name, index)
        mine = in_part(index, parts) if parts > 1 else None
        tracked = self.tracked(state)
        raw = raw_reader.reader_for(self.app, view.topics, part if parts > 1 else None)
        mapper = self.app.mapper

        def fetch(after: int) -> tuple[list[tuple[int, Any]], int]:
            """Read and decode the batch after ``after``; the position read up to."""
            notifications: list[Any]
            if raw is None:
                notifications = list(
                    self.app.recorder.select_notifications(
                        after + 1, size, stop=head, topics=view.topics
                    )
                )
                last = notifications[-1].id if len(notifications) == size else head
                if mine is not None:
                    notifications = [n for n in notifications if mine(str(n.originator_id))]
            else:
                rows, last = raw(after, head, size)
                notifications = list(rows)
            return [(n.id, view.decode(n, mapper)) for n in notifications], last

        # Reading and decoding the next batch overlaps folding and writing this one (a
        # reader thread: the database's side of a read and of a write releases the GIL).
        with ThreadPoolExecutor(1, thread_name_prefix=f"rebuild-read-{index}") as reader:
            ahead: Future[tuple[list[tuple[int, Any]], int]] | None = (
                reader.submit(fetch, tracked) if tracked < head else None
            )
            while ahead is not None:
                events, last = ahead.result()
                ahead = None
                if last < head:
                    ahead = reader.submit(fetch, last) if READ_AHEAD else _done(fetch(last))
                if mine is None:
                    self.apply(view, events, last, NEXT, state)
                else:
                    folded = view.fold(NEXT, events, self.fault, self._run_in_turn(turns))
                    with _holding(turns):
                        self.apply(view, events, last, NEXT, state, folded)
                if progress is not None:
                    progress(last - tracked)
                tracked = last
        return tracked

    def _load_parts(self, view: View, progress: Progress | None, size: int, parts: int) -> int:
        """The load split by case over ``parts`` processes: this one and forked workers.

        Every part reads the log up to the same head, folds the events of its own cases
        and commits them in exactly-once batches under its own state (the rows of
        different cases never meet), then writes its case rows; the workers send their
        counters and deferred marks back, and ``end_load`` writes the sums once. On
        SQLite the parts' transactions take turns under one lock (one writer at a time).
        """
        head = self.head()
        with self.engine.begin() as conn:
            view.begin_parts(conn, NEXT)
        for index in range(1, parts):
            self._ensure_state(_part_state(view.name, index))
        context = multiprocessing.get_context("fork")
        workers: list[tuple[multiprocessing.process.BaseProcess, Pipe]] = []

        def workers_alive() -> None:
            # a worker that failed exits normally once it has reported; one that exited
            # otherwise (killed) may have died holding the lock
            for worker, _ in workers:
                if not worker.is_alive() and worker.exitcode:
                    raise _exited(worker)

        turns = (
            Turns(context.Lock(), workers_alive) if self.engine.dialect.name == "sqlite" else None
        )
        done = [context.Value("q", 0, lock=False) for _ in range(parts)]
        reported = 0

        def report() -> None:
            nonlocal reported
            if progress is None:
                return
            total = sum(int(d.value) for d in done) // parts
            if total > reported:
                progress(total - reported)
                reported = total

        def own(n: int) -> None:
            done[0].value += n
            report()

        try:
            for index in range(1, parts):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(
                    target=self._run_part,
                    args=(view, index, parts, size, head, turns, done[index], send, os.getpid()),
                    name=f"rebuild-{view.name}-{index}",
                    daemon=True,
                )
                process.start()
                send.close()
                workers.append((process, receive))
            position = self._load(view, own, size, head=head, part=(0, parts), turns=turns)
            results = [view.end_part(NEXT, self._run_in_turn(turns))]
            for worker, receive in workers:
                while not receive.poll(0.2):
                    report()
                    # any worker killed: this one may be waiting for the lock it held
                    workers_alive()
                try:
                    outcome, payload = receive.recv()
                except EOFError:  # it died before sending anything
                    worker.join()
                    raise _exited(worker) from None
                if outcome != "ok":
                    raise RebuildWorkerFailed(f"rebuild worker {worker.name} failed: {payload}")
                results.append(payload)
                worker.join()
            report()
            view.absorb(results)
        finally:
            for worker, receive in workers:
                if worker.is_alive():
                    worker.kill()
                worker.join()
                receive.close()
        with self.engine.begin() as conn:  # the parts' states are done with
            for index in range(1, parts):
                state = _part_state(view.name, index)
                conn.execute(delete(view_state).where(view_state.c.view == state))
                conn.execute(delete(tracking).where(tracking.c.view == state))
        return position

    def _run_in_turn(self, turns: Turns | None) -> Run:
        """Runs a function in a transaction of its own, in turn (if the parts take turns)."""

        def run(work: Callable[[Connection], Any]) -> Any:
            with _holding(turns), self.engine.begin() as conn:
                return work(conn)

        return run

    def _run_part(
        self,
        view: View,
        index: int,
        parts: int,
        size: int,
        head: int,
        turns: Turns | None,
        done: Any,
        send: Pipe,
        parent: int,
    ) -> None:
        """A forked worker's part of ``_load_parts`` (the view's fresh load is inherited)."""
        try:
            _die_with(parent)
            assert self.opener is not None
            app, engine = self.opener()
            try:
                runner = Rebuilder(app, engine, [view], batch_size=self.batch_size)
                runner.fault = self.fault

                def progress(n: int) -> None:
                    done.value += n

                if turns is not None:

                    def parent_alive() -> None:
                        if os.getppid() != parent:
                            raise RebuildWorkerFailed("the rebuilding process is gone")

                    turns = Turns(turns.lock, parent_alive)
                runner._load(view, progress, size, head=head, part=(index, parts), turns=turns)
                part = view.end_part(NEXT, runner._run_in_turn(turns))
            finally:
                app.close()
                engine.dispose()
            send.send(("ok", part))
        except BaseException as error:  # reported to the parent, which fails the rebuild
            send.send(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
        finally:
            send.close()

    def drop_next(self, view: View) -> None:
        with self.engine.begin() as conn:
            lock_catalogue(conn)
            TRACKING.create_all(conn, checkfirst=True)
            for table in view.tables(NEXT).values():
                table.drop(conn, checkfirst=True)
            state = view.name + NEXT
            for table in (view_state, tracking):  # with the states of a rebuild's parts
                conn.execute(
                    delete(table).where(
                        (table.c.view == state)
                        | table.c.view.startswith(state + ".p", autoescape=True)
                    )
                )

    def swap(self, view: View) -> int:
        """Replace the live tables by the rebuilt ones in one transaction."""
        live, nxt = view.name, view.name + NEXT
        with self.engine.begin() as conn:
            # Take the live state row first: a live runner's next batch waits here and
            # then finds its expected position gone (TrackingConflict, retried by callers).
            conn.execute(
                update(view_state)
                .where(view_state.c.view == live)
                .values(position=view_state.c.position)
            )
            tracked = int(
                conn.execute(select(view_state.c.position).where(view_state.c.view == nxt)).scalar()
                or 0
            )
            head = self.head()
            while tracked < head:
                events, last = self.read(view, tracked, head)
                self.apply_in(conn, view, NEXT, events, last)
                tracked = last
            postgres = conn.dialect.name == "postgresql"
            if postgres:  # indexes a rebuild deferred (if the caller did not build them)
                for next_table in view.tables(NEXT).values():
                    for index in next_table.indexes:
                        index.create(conn, checkfirst=True)
            for key, live_table in view.tables("").items():
                next_table = view.tables(NEXT)[key]
                live_table.drop(conn, checkfirst=True)
                conn.execute(text(f'ALTER TABLE "{next_table.name}" RENAME TO "{live_table.name}"'))
                _rename_indexes(conn, live_table, next_table, postgres)
            for obsolete in view.obsolete:  # tables of an older layout
                conn.execute(text(f'DROP TABLE IF EXISTS "{obsolete}"'))
            conn.execute(delete(view_state).where(view_state.c.view == live))
            conn.execute(delete(tracking).where(tracking.c.view == live))
            conn.execute(update(view_state).where(view_state.c.view == nxt).values(view=live))
            conn.execute(update(tracking).where(tracking.c.view == nxt).values(view=live))
        if self.engine.dialect.name == "postgresql":
            # planner statistics of the tables just swapped in (a query planned without
            # them scans: docs/performance.md, "Load test"); autovacuum may be off or late
            with self.engine.begin() as conn:
                for live_table in view.tables("").values():
                    conn.execute(text(f'ANALYZE "{live_table.name}"'))
        return tracked


def _rename_indexes(conn: Connection, live: Table, nxt: Table, postgres: bool) -> None:
    live_indexes = {str(i.name): i for i in live.indexes}
    if postgres:
        pk_next, pk_live = nxt.primary_key.name, live.primary_key.name
        if pk_next is not None:  # a table may have a unique index instead (rm_search)
            conn.execute(
                text(f'ALTER TABLE "{live.name}" RENAME CONSTRAINT "{pk_next}" TO "{pk_live}"')
            )
        for index in nxt.indexes:
            target = str(index.name).removesuffix(NEXT)
            conn.execute(text(f'ALTER INDEX "{index.name}" RENAME TO "{target}"'))
        return
    # SQLite cannot rename an index: build the live-named ones on the renamed table
    for index in nxt.indexes:
        conn.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
        live_indexes[str(index.name).removesuffix(NEXT)].create(conn)


def table_rows(engine: Engine, tables: dict[str, Table]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the given tables, sorted: for comparing a view with a clean rebuild."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for key, table in tables.items():
            rows = [tuple(r) for r in conn.execute(select(table))]
            out[key] = sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return out
