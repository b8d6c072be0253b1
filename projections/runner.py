"""Catch-up: exactly-once batches, the joint catch-up of every view, and the poison halt.

A batch is: up to ``batch_size`` events of a view's topics after its tracked position,
read from the application's recorder and decoded by its mapper; the view's update, the
compare-and-set of ``rm_view_state`` and a unique ``rm_tracking`` record of the batch's
last position are committed in one transaction. The tracked position is the last
position *read* (up to the log head sampled before reading), so events of other topics
never hold the tracked position back. An event a view cannot process halts that view
just before it (``PoisonEvent``). Rebuilding a view beside the live one: ``rebuild``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy.exc
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    and_,
    delete,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from mediation.application import MediationApplication
from projections.sql import TRACKING, halt_records, lock_catalogue, tracking, utc_naive, view_state
from projections.views import Fault, Positioned, View

log = logging.getLogger("projections.runner")

BATCH_SIZE = 500


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
    ) -> None:
        self.app = app
        self.engine = engine
        self.views = {v.name: v for v in views}
        self.batch_size = batch_size
        self.fault: Fault | None = None
        # the position every view was left at by this runner's last joint catch-up
        self._together: int | None = None
        # views stopped by a poison event (by state name): not retried by this runner
        self.halted: dict[str, PoisonEvent] = {}

    # ------------------------------------------------------------------ setup

    def ensure(self, suffix: str = "") -> None:
        """Create missing tables (a ``Rebuilder`` first rebuilds views of an older layout),
        one process at a time: a process checking the layout while another creates the
        tables would see some of them and take the view for an older layout."""
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
        with self.engine.begin() as conn:
            lock_catalogue(conn)
            TRACKING.create_all(conn, checkfirst=True)
            for view in self.views.values():
                for table in view.tables(suffix).values():
                    table.create(conn, checkfirst=True)
                    for index in table.indexes:  # an index added since the table was made
                        index.create(conn, checkfirst=True)
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
