"""A rebuild's load of the cases view: what it carries across its batches, what it spills,
and how the parts of a partitioned rebuild hand their work back.

The case rows stay in memory (each written once, at the end, instead of being read and
rewritten by every batch that touches it), so do the primary keys of the facts that later
events may still mark (a mediation's ``entrusted`` and ``succeeded`` rows), and the
counters are summed and written once. Safe because a rebuild's side tables are thrown
away unless it completes: a failed rebuild starts again from position zero. Each batch
still commits its other rows with its tracking record.

Memory stays bounded: above ``carry_cases()`` rows the ones touched longest ago are
written out ("spilled") and read back if a later event needs them (marks on their facts
are deferred to the end); above ``carry_counters()`` changed counter entries the counters
are appended to a staging table and summed and rolled up once, at the end.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, text

from mediation.case import Case
from projections import counters
from projections.cases_batch import (
    MARKED,
    Batch,
    FactKey,
    Marks,
    Row,
    dump_state,
    read_cases,
    sort_due,
)
from projections.decode import Ev
from projections.sql import MediationState, case_tables, insert_many, stats_stage_table
from projections.views import Fault, Positioned, Run

LOAD_CHUNK = 5000  # case rows per write of carried rows
CARRY_CASES_ENV = "MEDIATION_REBUILD_CARRY_CASES"
CARRY_CASES = 50_000
CARRY_COUNTERS_ENV = "MEDIATION_REBUILD_CARRY_COUNTERS"
CARRY_COUNTERS = 400_000

# folds one event into the case rows and the batch (``CasesView.apply``)
Apply = Callable[[dict[str, Row], Batch, int, Ev], None]
# marks on facts of spilled cases, each with the position of the event that sets it
Deferred = list[tuple[FactKey, int, dict[str, Any]]]


def _limit(env: str, default: int) -> int:
    value = os.environ.get(env, "").strip()
    return max(int(value), 1) if value.isdigit() else default


def carry_cases() -> int:
    """Case rows a rebuild keeps in memory (``MEDIATION_REBUILD_CARRY_CASES``)."""
    return _limit(CARRY_CASES_ENV, CARRY_CASES)


def carry_counters() -> int:
    """Changed counter entries a rebuild keeps in memory (``MEDIATION_REBUILD_CARRY_COUNTERS``)."""
    return _limit(CARRY_COUNTERS_ENV, CARRY_COUNTERS)


@dataclass
class LoadPart:
    """What one part of a partitioned rebuild hands back once its case rows are written:
    its counter changes (summed with the other parts') and its deferred marks."""

    agg: counters.Agg  # its policy versions; its counter changes too if it staged some
    rolled: dict[counters.RowKey, Any] | None  # else those changes, rolled up (by the part)
    deferred: Deferred
    counter_flushes: int
    spilled: int
    reloaded: int


def _fresh_staging(conn: Connection, suffix: str) -> Table:
    staging = stats_stage_table(suffix)
    staging.drop(conn, checkfirst=True)  # a failed rebuild's may be left over
    staging.create(conn)
    return staging


class Load:
    """What a rebuild's load carries across its batches (``CasesView.begin_load``)."""

    def __init__(self, apply: Apply) -> None:
        self.apply = apply
        self.agg = counters.Agg()
        self.states: dict[str, Row] = {}
        # the primary key of every fact a later event may still mark, by (case, mediation,
        # kind): a mark then updates that one row (no search by case)
        self.written: dict[FactKey, tuple[int, int]] = {}
        self.retired: dict[str, list[MediationState]] = defaultdict(list)
        # marks on facts of spilled cases (their keys are no longer carried): applied in
        # order at the end, by (case, mediation, kind), once that index exists
        self.deferred: Deferred = []
        self.spilled = 0  # case rows written out early, and read back
        self.reloaded = 0
        self.counter_flushes = 0  # carried counters appended to the staging table
        # the staging table exists already (a partitioned rebuild creates it up front)
        self.staging_ready = False
        # the parts' counter changes they rolled up themselves (a partitioned rebuild)
        self.rolled: dict[counters.RowKey, Any] = {}

    @property
    def limit(self) -> int:
        return carry_cases()

    @property
    def counter_limit(self) -> int:
        return carry_counters()

    # ------------------------------------------------------------------ batches

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        """A batch of a rebuild in one process: folded and written in one transaction."""
        t = case_tables(suffix)
        batch, marks = self._fold(t, events, fault, lambda work: work(conn))
        self._write(conn, t, suffix, batch, marks)

    def fold(
        self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run
    ) -> tuple[Batch, Marks]:
        """A part's batch folded in memory before its transaction (``write`` writes it):
        the parts fold at once and only take turns to write. ``run`` runs a function in a
        transaction of its own (reading spilled rows back)."""
        return self._fold(case_tables(suffix), events, fault, run)

    def write(self, conn: Connection, suffix: str, folded: tuple[Batch, Marks]) -> None:
        batch, marks = folded
        self._write(conn, case_tables(suffix), suffix, batch, marks)

    def _fold(
        self, t: dict[str, Table], events: Sequence[Positioned], fault: Fault | None, run: Run
    ) -> tuple[Batch, Marks]:
        """Fold a batch into the carried state; the marks on facts of earlier batches, by
        primary key."""
        batch = Batch(self.agg, self.retired, loading=True)
        states = self.states
        touched: set[str] = set()
        received: set[str] = set()
        for _, ev in events:
            (received if ev.type is Case.Received else touched).add(ev.originator_id)
        missing = sorted(touched - received - states.keys())
        if missing:  # spilled by an earlier batch
            run(lambda conn: self._reload(conn, t, missing))
        for position, ev in events:
            if fault is not None:
                fault(position)
            self.apply(states, batch, position, ev)
        marks = Marks("position", "seq")
        for key, before, values in batch.marks:
            pk = self.written.get(key)
            if pk is not None:
                marks.add(pk, values)
            else:  # a fact of a spilled case
                self.deferred.append((key, before, values))
        for key, fact in batch.by_key.items():
            self.written[key] = (fact["position"], fact["seq"])
        return batch, marks

    def _write(
        self, conn: Connection, t: dict[str, Table], suffix: str, batch: Batch, marks: Marks
    ) -> None:
        batch.write(conn, t, marks)
        states = self.states
        limit = self.limit
        if len(states) > limit:  # keep memory bounded: write out the oldest quarter
            count = len(states) - limit * 3 // 4
            self._write_carried(conn, t, count)
            self.spilled += count
            if conn.dialect.name == "postgresql":
                # fresh statistics: a read-back's plan (prepared after a few batches) must
                # use the key index, not a scan planned when the table was empty
                conn.execute(text(f'ANALYZE "{t["cases"].name}"'))
        if self.agg.size() > self.counter_limit:
            staging = stats_stage_table(suffix)
            if not self.counter_flushes and not self.staging_ready:
                _fresh_staging(conn, suffix)
            self.agg.stage(conn, staging, t["policy_days"])
            self.agg = counters.Agg()
            self.counter_flushes += 1

    # ------------------------------------------------------------------ carried rows

    def _write_carried(self, conn: Connection, t: dict[str, Table], count: int) -> None:
        """Write the ``count`` case rows carried longest (insertion order) and forget them."""
        while count > 0:  # in bounded write buffers
            rows = self._carried_rows(min(count, LOAD_CHUNK))
            if not rows:
                break
            insert_many(conn, t["cases"], rows)
            count -= len(rows)

    def _carried_rows(self, count: int) -> list[Row]:
        """The ``count`` case rows carried longest, ready to write, and forgotten: each
        leaves its open-mediation stock in the counters and takes its fact keys with it (a
        later mark on its facts is deferred)."""
        agg = self.agg
        states = self.states
        cases: list[Row] = []
        for case_id in list(islice(states, count)):
            state = states.pop(case_id)
            state["sort_due"] = sort_due(state)
            ms = state["m_state"]
            for old in self.retired.pop(case_id, ()):
                counters.apply_pending(agg, old, +1)
            counters.apply_pending(agg, ms, +1)
            state["m_state"] = dump_state(ms)
            for mediation in range(1, state["mediation"] + 1):
                for kind in MARKED:
                    self.written.pop((case_id, mediation, kind), None)
            cases.append(state)
        return cases

    def _reload(self, conn: Connection, t: dict[str, Table], ids: list[str]) -> None:
        """Read spilled case rows back (they leave the table until written again)."""
        for state, _ in read_cases(conn, t["cases"], ids, remove=True):
            counters.apply_pending(self.agg, state["m_state"], -1)  # counted again when written
            self.states[state["case_id"]] = state
            self.reloaded += 1

    # ------------------------------------------------------------------ parts and end

    def begin_parts(self, conn: Connection, suffix: str) -> None:
        """The load is about to be split into parts: the counters' staging table is
        created now, once, for any part that needs it."""
        _fresh_staging(conn, suffix)
        self.staging_ready = True

    def end_part(self, suffix: str, run: Run) -> LoadPart:
        """One part is loaded: write its case rows (which leave their open-mediation stock
        in its counters; prepared before the transaction ``run`` gives) and hand back the
        rest."""
        rows = self._carried_rows(len(self.states))
        table = case_tables(suffix)["cases"]
        run(lambda conn: insert_many(conn, table, rows))
        agg, rolled = self.agg, None
        if not self.counter_flushes:  # rolled up here, at once with the other parts
            rolled = agg.rolled_up()
            agg = counters.Agg()
            agg.policy = self.agg.policy
        part = LoadPart(
            agg, rolled, self.deferred, self.counter_flushes, self.spilled, self.reloaded
        )
        self.agg, self.deferred = counters.Agg(), []
        return part

    def absorb(self, parts: Sequence[LoadPart]) -> None:
        """Add the other parts' counters and deferred marks to this load's (their case rows
        are written): ``end`` then writes them as for a single load."""
        for part in parts:
            self.agg.merge(part.agg)
            if part.rolled:
                counters.add_rolled(self.rolled, part.rolled)
            self.deferred += part.deferred  # each case's marks come from one part, in order
            self.counter_flushes += part.counter_flushes
            self.spilled += part.spilled
            self.reloaded += part.reloaded

    def end(self, conn: Connection, suffix: str) -> None:
        """The load reached the head: write the carried rows, the deferred marks and the
        counters."""
        t = case_tables(suffix)
        self._write_carried(conn, t, len(self.states))
        if self.deferred:
            name = f"ix_rm_facts_case{suffix}"
            next(i for i in t["facts"].indexes if i.name == name).create(conn, checkfirst=True)
            # each on the latest fact of its key before it (not one recorded later)
            marks = Marks(*Marks.BY_KEY)
            for key, before, values in self.deferred:
                marks.add(key, values, before)
            marks.write(conn, t["facts"])
        if self.counter_flushes:  # earlier changes are staged: add these, sum, roll up
            staging = stats_stage_table(suffix)
            self.agg.stage(conn, staging, t["policy_days"])
            counters.write_staged(conn, staging, t["stats"])
            staging.drop(conn)
            # the parts that staged nothing rolled their changes up: added to the rows
            counters.write_rolled(conn, t["stats"], self.rolled, fresh=False)
        else:
            rows = self.agg.rolled_up()
            counters.add_rolled(rows, self.rolled)
            counters.write_rolled(conn, t["stats"], rows, fresh=True)
            self.agg.write_policy(conn, t["policy_days"])
            if self.staging_ready:  # created for the parts, none of which needed it
                stats_stage_table(suffix).drop(conn, checkfirst=True)
