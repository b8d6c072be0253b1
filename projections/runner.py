"""Catch-up, exactly-once batches, side-by-side rebuild and swap.

A batch is: up to ``batch_size`` events of a view's topics after its tracked position,
read from the application's recorder and decoded by its mapper; the view's update, the
compare-and-set of ``rm_view_state`` and a unique ``rm_tracking`` record of the batch's
last position are committed in one transaction. The tracked position is the last
position *read* (up to the log head sampled before reading), so events of other topics
never hold the tracked position back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.schema import CreateTable

from mediation.application import MediationApplication
from projections.sql import NEXT, TRACKING, tracking, view_state
from projections.views import Fault, Positioned, View

log = logging.getLogger("projections.runner")

BATCH_SIZE = 500
# A rebuild reads and commits in larger batches: the same guarantee, fewer round trips.
REBUILD_BATCH_SIZE = 5000
# indexes a rebuild keeps while loading (the view's updates find rows by them)
NEEDED_WHILE_LOADING = {f"{name}{NEXT}" for name in ("ix_rm_facts_case", "ix_rm_claims_case")}


class PositionAlreadyTracked(Exception):
    """A position at or before the view's tracked position was offered again: refused."""


class TrackingConflict(Exception):
    """Another runner moved the view's tracked position first: this batch was rolled back."""


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
        if not suffix:
            # tables from an older layout: rebuild side by side and swap (never half-migrate)
            for view in self.views.values():
                if self.stale_layout(view):
                    log.warning("view %s has an older table layout; rebuilding it", view.name)
                    self.rebuild(view.name)
        with self.engine.begin() as conn:
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
    ) -> None:
        """Update ``view`` and track ``last`` inside the caller's transaction."""
        state = view.name + suffix
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
        view.process(conn, suffix, events, self.fault)
        if self.fault is not None:
            self.fault(0)  # after every write of the batch, before its commit

    def apply(self, view: View, events: Sequence[Positioned], last: int, suffix: str = "") -> None:
        """One exactly-once batch in its own transaction."""
        with self.engine.begin() as conn:
            self.apply_in(conn, view, suffix, events, last)

    def catch_up_view(
        self,
        view: View,
        suffix: str = "",
        progress: Progress | None = None,
        size: int | None = None,
        head: int | None = None,
    ) -> int:
        head = self.head() if head is None else head
        tracked = self.tracked(view.name, suffix)
        while tracked < head:
            events, last = self.read(view, tracked, head, size)
            self.apply(view, events, last, suffix)
            if progress is not None:
                progress(last - tracked)
            tracked = last
        return tracked

    def catch_up(self) -> int:
        """Bring every view up to the log head; returns the lowest tracked position."""
        head = self.head()  # one look at the log head serves every view
        return min(self.catch_up_view(view, head=head) for view in self.views.values())

    # ------------------------------------------------------------------ rebuild

    def rebuild(self, name: str, *, progress: Progress | None = None, swap: bool = True) -> int:
        """Rebuild ``name`` from position zero beside the live tables, then swap it in."""
        view = self.view(name)
        self.drop_next(view)
        with self.engine.begin() as conn:
            TRACKING.create_all(conn, checkfirst=True)
            for table in view.tables(NEXT).values():
                # secondary indexes after the load (cheaper than maintaining them), except
                # the ones the view's own updates look rows up by
                conn.execute(CreateTable(table))
                for index in table.indexes:
                    if str(index.name) in NEEDED_WHILE_LOADING:
                        index.create(conn)
        self._ensure_state(view.name + NEXT)
        size = max(self.batch_size, REBUILD_BATCH_SIZE)
        view.begin_load()
        try:
            position = self.catch_up_view(view, NEXT, progress, size)
            with self.engine.begin() as conn:
                view.end_load(conn, NEXT)
        finally:
            view.abort_load()
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                for table in view.tables(NEXT).values():
                    for index in table.indexes:
                        index.create(conn, checkfirst=True)
        if swap:
            position = self.swap(view)
        return position

    def drop_next(self, view: View) -> None:
        with self.engine.begin() as conn:
            TRACKING.create_all(conn, checkfirst=True)
            for table in view.tables(NEXT).values():
                table.drop(conn, checkfirst=True)
            state = view.name + NEXT
            conn.execute(delete(view_state).where(view_state.c.view == state))
            conn.execute(delete(tracking).where(tracking.c.view == state))

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
            conn.execute(delete(view_state).where(view_state.c.view == live))
            conn.execute(delete(tracking).where(tracking.c.view == live))
            conn.execute(update(view_state).where(view_state.c.view == nxt).values(view=live))
            conn.execute(update(tracking).where(tracking.c.view == nxt).values(view=live))
        return tracked


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
