"""Catch-up, exactly-once batches, side-by-side rebuild and swap.

A batch is: up to ``batch_size`` events of a view's topics after its tracked position,
read from the application's recorder and decoded by its mapper; the view's update, the
compare-and-set of ``rm_view_state`` and a unique ``rm_tracking`` record of the batch's
last position are committed in one transaction. The tracked position is the last
position *read* (up to the log head sampled before reading), so events of other topics
never hold the tracked position back.
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
import zlib
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection as Pipe
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy.exc
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    and_,
    delete,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.schema import CreateTable

from mediation.application import MediationApplication
from projections.sql import NEXT, TRACKING, halt_records, tracking, utc_naive, view_state
from projections.views import Fault, Positioned, Run, View

log = logging.getLogger("projections.runner")

BATCH_SIZE = 500
# A rebuild reads and commits in larger batches: the same guarantee, fewer round trips.
REBUILD_BATCH_SIZE = 20000
# indexes a rebuild keeps while loading (the view's updates find rows by them: a severance
# closes claims loaded by earlier batches; a load marks facts by their primary key)
NEEDED_WHILE_LOADING = {f"{name}{NEXT}" for name in ("ix_rm_claims_case",)}
# A rebuild carries the case state across its batches (each case row written once, at
# the end), holding at most ``views.CARRY_CASES`` rows in memory and spilling the oldest
# to the side table above that, so memory stays bounded at any history size. A history
# above this many events streams instead, as catch-up does: each batch reads and rewrites
# the rows it touches (slower). ``MEDIATION_REBUILD_CARRY_LIMIT`` sets it (0: always
# stream; the default never streams).
CARRY_LIMIT_ENV = "MEDIATION_REBUILD_CARRY_LIMIT"
CARRY_LIMIT = 2**62
# indexes a streaming rebuild needs while loading (its updates find facts by case)
NEEDED_WHILE_STREAMING = NEEDED_WHILE_LOADING | {f"ix_rm_facts_case{NEXT}"}


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
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value.isdigit():
        return max(int(value), 1)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(min(cpus, MAX_DEFAULT_WORKERS), 1)


def part_of(originator_id: str, parts: int) -> int:
    """The part of a partitioned rebuild an aggregate falls in: its id's last byte (the id
    as text, a UUID's hex or canonical form; uniform for uuid4 and uuid5) modulo
    ``parts``. PostgreSQL computes the same in the reader's query (``_raw_reader``)."""
    try:
        return int(originator_id[-2:], 16) % parts
    except ValueError:  # not a UUID
        return zlib.crc32(originator_id.encode()) % parts


def in_part(index: int, parts: int) -> Callable[[str], bool]:
    """Whether an aggregate id falls in part ``index`` of ``parts``."""
    known: dict[str, bool] = {}

    def mine(originator_id: str) -> bool:
        found = known.get(originator_id)
        if found is None:
            found = known[originator_id] = part_of(originator_id, parts) == index
        return found

    return mine


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


def _lock_catalogue(conn: Connection) -> None:
    """Serialise this transaction's CREATE/DROP of read-model tables with other processes'
    (PostgreSQL refuses concurrent catalogue changes to the same names)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('mediation.views'))"))


class PositionAlreadyTracked(Exception):
    """A position at or before the view's tracked position was offered again: refused."""


class TrackingConflict(Exception):
    """Another runner moved the view's tracked position first: this batch was rolled back."""


class PoisonEvent(Exception):
    """A view cannot process the event at ``position``: it stays just before it.

    Raised by ``catch_up_view`` after the failed batch was re-run one event at a time:
    every earlier event is committed (exactly once), the view's tracked position is
    ``position - 1``, nothing after it is applied, and nothing is skipped.
    """

    def __init__(self, view: str, position: int, cause: BaseException) -> None:
        self.view = view
        self.position = position
        self.cause = cause
        super().__init__(
            f"view {view!r} halted: it cannot process the event at position {position} "
            f"({type(cause).__name__}: {cause}); it stays at position {position - 1} "
            "until the cause is fixed"
        )


# Errors that say nothing about the event being processed (the database went away, was
# busy, or another runner won a race): callers retry them; they never make a PoisonEvent.
TRANSIENT: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    PersistenceError,
    ConnectionPoolClosedError,
    OSError,
    TrackingConflict,
    PositionAlreadyTracked,
)


Progress = Callable[[int], object]


class Runner:
    def __init__(
        self,
        app: MediationApplication,
        engine: Engine,
        views: Sequence[View],
        *,
        batch_size: int = BATCH_SIZE,
        opener: Opener | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        # how a partitioned rebuild's workers open their own connections (None: the
        # rebuild runs in this process only)
        self.opener = opener
        self.views = {v.name: v for v in views}
        self.batch_size = batch_size
        self.fault: Fault | None = None
        # the position every view was left at by this runner's last joint catch-up
        self._together: int | None = None
        # views stopped by a poison event (by state name): not retried by this runner
        self.halted: dict[str, PoisonEvent] = {}

    # ------------------------------------------------------------------ setup

    def stale_layout(self, view: View) -> bool:
        """True when some live table of ``view`` is missing or lacks a column of this code."""
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
        return False

    def ensure(self, suffix: str = "") -> None:
        """Create missing tables (and rebuild views of an older layout), one process at a
        time: a process checking the layout while another creates the tables would see
        some of them and take the view for an older layout."""
        if self.engine.dialect.name != "postgresql":
            self._ensure(suffix)
            return
        key = "SELECT pg_advisory_{}(hashtext('mediation.views.ensure'))"
        with self.engine.connect() as holder:  # a session lock, held on its own connection
            holder.execute(text(key.format("lock")))
            try:
                self._ensure(suffix)
            finally:
                holder.execute(text(key.format("unlock")))
                holder.commit()

    def _ensure(self, suffix: str) -> None:
        if not suffix:
            # tables from an older layout: rebuild side by side and swap (never half-migrate)
            for view in self.views.values():
                if self.stale_layout(view):
                    log.warning("view %s has an older table layout; rebuilding it", view.name)
                    # in this process only: it may be a server's, with threads of its own
                    self.rebuild(view.name, workers=1)
        with self.engine.begin() as conn:
            _lock_catalogue(conn)
            TRACKING.create_all(conn, checkfirst=True)
            for view in self.views.values():
                for table in view.tables(suffix).values():
                    table.create(conn, checkfirst=True)
        for view in self.views.values():
            self._ensure_state(view.name + suffix)

    def _ensure_state(self, state: str) -> None:
        with self.engine.connect() as conn:
            exists = conn.execute(
                select(view_state.c.position).where(view_state.c.view == state)
            ).first()
        if exists is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(view_state).values(view=state, position=0))
            except SAIntegrityError:
                pass  # another process created it first

    def view(self, name: str) -> View:
        try:
            return self.views[name]
        except KeyError:
            raise ValueError(
                f"unknown view {name!r}; views are {', '.join(sorted(self.views))}"
            ) from None

    # ------------------------------------------------------------------ positions

    def tracked(self, name: str, suffix: str = "") -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(view_state.c.position).where(view_state.c.view == name + suffix)
            ).scalar()
        return int(value or 0)

    def min_tracked(self) -> int:
        return min(self.tracked(name) for name in self.views)

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def lag(self) -> int:
        return max(self.head() - self.min_tracked(), 0)

    # ------------------------------------------------------------------ batches

    def read(
        self, view: View, after: int, head: int, size: int | None = None
    ) -> tuple[list[Positioned], int]:
        """The next batch of ``view``'s events after ``after`` (up to ``head``) and its end."""
        size = size or self.batch_size
        notifications = self.app.recorder.select_notifications(
            after + 1, size, stop=head, topics=view.topics
        )
        mapper = self.app.mapper
        events = [(n.id, view.decode(n, mapper)) for n in notifications]
        last = notifications[-1].id if len(notifications) == size else head
        return events, last

    def apply_in(
        self,
        conn: Connection,
        view: View,
        suffix: str,
        events: Sequence[Positioned],
        last: int,
        state: str | None = None,
        folded: Any = None,
    ) -> None:
        """Update ``view`` and track ``last`` inside the caller's transaction (under the
        state ``view.name + suffix`` unless ``state`` names another: a rebuild's part).
        ``folded``: the batch as ``view.fold`` folded it already (only written here)."""
        state = state or view.name + suffix
        current = conn.execute(
            select(view_state.c.position).where(view_state.c.view == state)
        ).scalar()
        current = int(current or 0)
        if last <= current or (events and events[0][0] <= current):
            raise PositionAlreadyTracked(
                f"view {state} has tracked position {current}; refused positions up to {last}"
            )
        moved = conn.execute(
            update(view_state)
            .where(and_(view_state.c.view == state, view_state.c.position == current))
            .values(position=last)
        )
        if moved.rowcount != 1:
            raise TrackingConflict(f"view {state} moved on from position {current}")
        conn.execute(insert(tracking).values(view=state, position=last))
        if folded is not None:
            view.write(conn, suffix, folded)
        else:
            view.process(conn, suffix, events, self.fault)
        if self.fault is not None:
            self.fault(0)  # after every write of the batch, before its commit

    def apply(
        self,
        view: View,
        events: Sequence[Positioned],
        last: int,
        suffix: str = "",
        state: str | None = None,
        folded: Any = None,
    ) -> None:
        """One exactly-once batch in its own transaction."""
        with self.engine.begin() as conn:
            self.apply_in(conn, view, suffix, events, last, state, folded)

    def catch_up_view(
        self,
        view: View,
        suffix: str = "",
        progress: Progress | None = None,
        size: int | None = None,
        head: int | None = None,
    ) -> int:
        state = view.name + suffix
        if state in self.halted:  # halted by a poison event: never retried by this runner
            return self.tracked(view.name, suffix)
        head = self.head() if head is None else head
        tracked = self.tracked(view.name, suffix)
        while tracked < head:
            try:
                events, last = self.read(view, tracked, head, size)
                self.apply(view, events, last, suffix)
            except TRANSIENT:
                raise
            except Exception as error:
                try:
                    last = self._one_by_one(view, suffix, tracked, head, size or self.batch_size)
                except PoisonEvent as poison:
                    if not suffix:  # a rebuild just fails (and starts over next time)
                        self.halted[state] = poison
                        self._record_halt(poison)
                    log.error("%s", poison, exc_info=poison.cause)
                    raise
                if suffix:  # a rebuild's carried work is void: let the rebuild start over
                    raise error
            if progress is not None:
                progress(last - tracked)
            tracked = last
        return tracked

    def _record_halt(self, poison: PoisonEvent) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(halt_records).where(halt_records.c.view == poison.view))
                conn.execute(
                    insert(halt_records).values(
                        view=poison.view,
                        position=poison.position,
                        error=f"{type(poison.cause).__name__}: {poison.cause}"[:2000],
                        halted_at=utc_naive(self.app.clock()),
                    )
                )
        except TRANSIENT:  # the halt is still raised and logged; only its record is lost
            log.warning("could not record the halt of view %s", poison.view, exc_info=True)

    def halts(self) -> list[dict[str, Any]]:
        """Views halted by a poison event (by any process) and not moved past it since."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(halt_records, view_state.c.position.label("tracked"))
                .join(view_state, view_state.c.view == halt_records.c.view)
                .where(view_state.c.position < halt_records.c.position)
                .order_by(halt_records.c.view)
            )
            return [dict(r._mapping) for r in rows]

    def resume(self, name: str | None = None) -> None:
        """Let this runner try halted views again (after the cause was fixed)."""
        if name is None:
            self.halted.clear()
        else:
            self.halted.pop(name, None)

    def _one_by_one(self, view: View, suffix: str, tracked: int, head: int, limit: int) -> int:
        """Re-run a failed batch one event at a time to find the event that fails.

        Each event before it commits in its own exactly-once transaction; the view is then
        moved to the position just before the failing event and ``PoisonEvent`` is raised.
        If every event of the batch (at most ``limit``) succeeds, the failure did not repeat
        and the position reached is returned.
        """
        if suffix:
            view.abort_load()  # the failed batch may have added to counters carried in memory
        for _ in range(limit):
            if tracked >= head:
                break
            found = self.app.recorder.select_notifications(
                tracked + 1, 1, stop=head, topics=view.topics
            )
            if not found:
                self.apply(view, [], head, suffix)
                return head
            position = found[0].id
            try:
                event = view.decode(found[0], self.app.mapper)
                self.apply(view, [(position, event)], position, suffix)
            except TRANSIENT:
                raise
            except Exception as cause:
                if position - 1 > tracked:  # no event of this view in between
                    self.apply(view, [], position - 1, suffix)
                raise PoisonEvent(view.name + suffix, position, cause) from cause
            tracked = position
        return tracked

    def catch_up(self) -> int:
        """Bring every view up to the log head; returns the lowest tracked position.

        The common in-process case (every view at the same position, a backlog smaller
        than one batch: typically the event or two a command has just saved) is served by
        one read of the log and one transaction for all views: one compare-and-set of
        every view's position, one tracking record per view, each view's rows. The
        position the views were left at by this runner is remembered; if another runner
        moved them meanwhile, the compare-and-set refuses the batch (``TrackingConflict``)
        and the next call reads the positions again. Anything else (views apart, a long
        backlog) goes view by view in batches.
        """
        low = self._together
        if low is None and not self.halted:
            positions = self.tracked_all()
            if len(set(positions.values())) == 1:
                low = next(iter(positions.values()))
        if low is not None:
            try:
                reached = self._catch_up_together(low)
            except TRANSIENT:
                raise
            except Exception:  # a view failed: the batched path finds the event and halts it
                log.warning("joint catch-up failed; going view by view", exc_info=True)
                reached = None
            if reached is not None:
                return reached
        self._together = None
        head = self.head()  # one look at the log head serves every view
        return min(self.catch_up_view(view, head=head) for view in self.views.values())

    def tracked_all(self, suffix: str = "") -> dict[str, int]:
        """Every view's tracked position, in one query."""
        states = {name + suffix: name for name in self.views}
        with self.engine.connect() as conn:
            found = dict(
                conn.execute(
                    select(view_state.c.view, view_state.c.position).where(
                        view_state.c.view.in_(list(states))
                    )
                ).all()
            )
        return {name: int(found.get(state) or 0) for state, name in states.items()}

    def _catch_up_together(self, low: int) -> int | None:
        """Every view from ``low`` to the head in one transaction; None if over one batch.

        Reads every notification after ``low`` (all topics, so the last one read is the
        head as far as this batch goes: events of no view's topics move the positions on
        too) and hands each view its own.
        """
        self._together = None
        notifications = self.app.recorder.select_notifications(low + 1, self.batch_size)
        if not notifications:
            self._together = low
            return low
        if len(notifications) >= self.batch_size:
            return None  # a long backlog: the batched path
        head = notifications[-1].id
        mapper = self.app.mapper
        batches = []
        for view in self.views.values():
            topics = frozenset(view.topics)
            events = [(n.id, view.decode(n, mapper)) for n in notifications if n.topic in topics]
            batches.append((view, events))
        states = list(self.views)
        with self.engine.begin() as conn:
            move = (
                update(view_state)
                .where(and_(view_state.c.view.in_(states), view_state.c.position == low))
                .values(position=head)
            )
            if conn.dialect.name == "postgresql":
                # one round trip: the compare-and-set feeds the tracking records
                moved_views = move.returning(view_state.c.view).cte("moved")
                count = len(
                    conn.execute(
                        insert(tracking)
                        .from_select(
                            ["view", "position"],
                            select(moved_views.c.view, literal(head, BigInteger)),
                        )
                        .returning(tracking.c.view)
                    ).all()
                )
            else:
                count = conn.execute(move).rowcount
            if count != len(states):
                raise TrackingConflict(f"views {', '.join(states)} moved on from position {low}")
            if conn.dialect.name != "postgresql":
                conn.execute(
                    insert(tracking), [{"view": state, "position": head} for state in states]
                )
            for view, events in batches:
                if events:
                    view.process(conn, "", events, self.fault)
            if self.fault is not None:
                self.fault(0)  # after every write of the batch, before its commit
        self._together = head
        return head

    # ------------------------------------------------------------------ rebuild

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
            _lock_catalogue(conn)
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
        # over (≈ 10 % of a rebuild). Reference counting still frees everything meanwhile.
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
        raw = _raw_reader(self.app, view.topics, part if parts > 1 else None)
        mapper = self.app.mapper
        while tracked < head:
            notifications: list[Any]
            if raw is None:
                notifications = list(
                    self.app.recorder.select_notifications(
                        tracked + 1, size, stop=head, topics=view.topics
                    )
                )
                last = notifications[-1].id if len(notifications) == size else head
                if mine is not None:
                    notifications = [n for n in notifications if mine(str(n.originator_id))]
            else:
                rows, last = raw(tracked, head, size)
                notifications = list(rows)
            events = [(n.id, view.decode(n, mapper)) for n in notifications]
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
                runner = Runner(app, engine, [view], batch_size=self.batch_size)
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
            _lock_catalogue(conn)
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
            for obsolete in getattr(view, "obsolete", ()):  # tables of an older layout
                conn.execute(text(f'DROP TABLE IF EXISTS "{obsolete}"'))
            conn.execute(delete(view_state).where(view_state.c.view == live))
            conn.execute(delete(tracking).where(tracking.c.view == live))
            conn.execute(update(view_state).where(view_state.c.view == nxt).values(view=live))
            conn.execute(update(tracking).where(tracking.c.view == nxt).values(view=live))
        return tracked


class RawNotification(NamedTuple):
    """A stored event as the views decode it; ``originator_id`` as text (no UUID object)."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


# (after, stop, limit) -> (notifications, the position read up to)
RawReader = Callable[[int, int, int], tuple[list[RawNotification], int]]


def _raw_reader(
    app: MediationApplication, topics: Sequence[str], part: tuple[int, int] | None = None
) -> RawReader | None:
    """Up to ``limit`` notifications of ``topics`` in (after, stop], in log order, as
    ``select_notifications`` returns them but without building a Notification and a UUID
    per row, and the position read up to (``stop`` once fewer were found). ``part`` =
    (index, parts): only the events of that part's aggregates (``part_of``). None for a
    recorder this code does not know (the library's read is used)."""
    recorder: Any = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" * len(topics))
        as_uuid = recorder.datastore.originator_id_type == "uuid"
        index, parts = part or (0, 1)
        # the part is chosen in the query when the ids are stored as UUID hex: the last
        # two hex digits (``part_of``) among this part's; else as the rows are read
        if as_uuid and parts > 1:
            ends = sorted(f"{b:02x}" for b in range(256) if b % parts == index)
            where = "AND lower(substr(originator_id, -2)) IN ({}) ".format(
                ",".join(f"'{e}'" for e in ends)
            )
        else:
            where = ""
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? "
            f"AND topic IN ({marks}) {where}ORDER BY rowid LIMIT ?"
        )
        # each id's canonical text (stored as UUID.hex: str(UUID(hex)) gives it) and
        # whether it is in the part, worked out once per aggregate
        known: dict[str, str | None] = {}

        def sqlite_read(after: int, stop: int, limit: int) -> tuple[list[RawNotification], int]:
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(sql, [after, stop, *topics, limit])
                rows = c.fetchall()
            last = rows[-1][0] if len(rows) == limit else stop
            out = []
            for n, o, v, t, s in rows:
                try:
                    cid = known[o]
                except KeyError:
                    cid = _canonical(o) if as_uuid else o
                    if parts > 1 and not where and part_of(cid, parts) != index:
                        cid = None
                    known[o] = cid
                if cid is not None:
                    out.append(RawNotification(n, cid, v, t, s))
            return out, last

        return sqlite_read
    if isinstance(recorder, PostgresApplicationRecorder):
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        # the part is chosen in the query (as ``part_of``: the id's last byte modulo the
        # parts), so each part reads and receives only its own events
        where = (
            f"AND mod(('x' || right(originator_id::text, 2))::bit(8)::int, {int(part[1])}) "
            f"= {int(part[0])} "
            if part is not None and part[1] > 1
            else ""
        )
        sql = (
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            f"FROM {table} WHERE notification_id > %s AND notification_id <= %s "
            f"AND topic = ANY(%s) {where}ORDER BY notification_id LIMIT %s"
        )

        def postgres_read(after: int, stop: int, limit: int) -> tuple[list[RawNotification], int]:
            with (
                recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute(sql, [after, stop, list(topics), limit])
                rows = [RawNotification(*row) for row in cur.fetchall()]
            return rows, rows[-1].id if len(rows) == limit else stop

        return postgres_read
    return None


def _canonical(stored: str) -> str:
    if len(stored) == 32 and stored.islower():
        h = stored
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(UUID(stored))


def _rename_indexes(conn: Connection, live: Table, nxt: Table, postgres: bool) -> None:
    live_indexes = {str(i.name): i for i in live.indexes}
    if postgres:
        pk_next, pk_live = nxt.primary_key.name, live.primary_key.name
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
