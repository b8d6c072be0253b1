"""The views: how each recorded event changes the read-model tables.

A view processes a *batch* of events inside the caller's transaction: it loads the state
rows of the cases the batch touches, folds the events in memory, and writes the changed
rows back with a few bulk statements. Nothing here reads the wall clock or commits; every
value written is derived from the events alone, so a rebuild gives identical rows.

``cases`` view (tables ``rm_cases``, ``rm_claims``, ``rm_facts``, ``rm_subsidies``):

* ``rm_cases`` — one row per case as it stands now (status, studio, mediator, open
  deadlines, ``sort_due`` = the earliest open deadline): work lists and case lists.
* ``rm_claims`` — one row per claim with the recorded interval during which it belonged
  to the case (``recorded_to`` is set when the claim is severed into a new case): the
  ``received`` figures and claimed amounts, as of any moment.
* ``rm_facts`` — append-only, one row per dated fact of a mediation (entrusted, succeeded,
  reversed, failed, agreed, paid, window, assigned), each with its business date (``on``),
  its recorded moment (``recorded_at``) and the region, studio, mediator, route, worker
  category and claim categories the case had when it happened.
* ``rm_subsidies`` — append-only subsidy entries by month of recording; a reversed success
  adds a compensating (negative) entry, never edits an old one.

``organisation`` view (``rm_studios``, ``rm_mediators``): studios, rosters, closures.
"""

from __future__ import annotations

import json
import operator
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import (
    Connection,
    DateTime,
    Table,
    and_,
    bindparam,
    delete,
    select,
    text,
    update,
)

from mediation.case import Case
from mediation.organisation import Studio
from mediation.policy import Policy, PolicyBook
from mediation.values import Route, Status
from projections import stats
from projections.decode import Ev, cents, day, decode, ident, plain
from projections.sql import (
    OBSOLETE_CASE_TABLES,
    case_tables,
    organisation_tables,
    stats_stage_table,
)

CHINA = ZoneInfo("Asia/Shanghai")
NO_DUE = date(9999, 12, 31)
CHUNK = 500
LOAD_CHUNK = 5000  # case rows per write at the end of a rebuild's load
# A rebuild carries at most this many case rows in memory (≈ 4 KiB each); above it the
# rows touched longest ago are written out ("spilled") and read back if a later event
# needs them. ``MEDIATION_REBUILD_CARRY_CASES`` overrides it.
CARRY_CASES_ENV = "MEDIATION_REBUILD_CARRY_CASES"
CARRY_CASES = 50_000
# Likewise the carried counters: above this many changed (month, county, dim, key) rows
# and histogram cells (≈ 150 bytes each, measured: 170k of them at 20,000 cases cost
# 24 MiB) they are appended to a staging table and started afresh; the staged rows are
# summed and rolled up once, at the end of the load (``stats.write_staged``).
# ``MEDIATION_REBUILD_CARRY_COUNTERS`` overrides it.
CARRY_COUNTERS_ENV = "MEDIATION_REBUILD_CARRY_COUNTERS"
CARRY_COUNTERS = 400_000


def _limit(env: str, default: int) -> int:
    value = os.environ.get(env, "").strip()
    return max(int(value), 1) if value.isdigit() else default


def carry_cases() -> int:
    return _limit(CARRY_CASES_ENV, CARRY_CASES)


def carry_counters() -> int:
    return _limit(CARRY_COUNTERS_ENV, CARRY_COUNTERS)


Fault = Callable[[int], None]
# runs a function in a transaction of its own (for a rebuild's part: holding the lock
# under which the parts take turns to write)
Run = Callable[[Callable[[Connection], Any]], Any]
Positioned = tuple[int, Any]


class View(Protocol):
    name: str
    topics: tuple[str, ...]
    # every event belongs to one aggregate whose rows no other aggregate's events touch:
    # a rebuild may fold disjoint sets of aggregates in parallel (``end_part``, ``absorb``)
    partitioned: bool

    def tables(self, suffix: str = "") -> dict[str, Table]: ...

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev: ...

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None: ...

    # a rebuild's load into side tables (a view may carry work across its batches)
    def begin_load(self) -> None: ...

    def end_load(self, conn: Connection, suffix: str) -> None: ...

    def abort_load(self) -> None: ...

    # a partitioned rebuild: what the parts share is created before they start; each part
    # writes its own rows and hands back what is summed
    def begin_parts(self, conn: Connection, suffix: str) -> None: ...

    def fold(
        self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run
    ) -> Any: ...

    def write(self, conn: Connection, suffix: str, folded: Any) -> None: ...

    def end_part(self, suffix: str, run: Run) -> Any: ...

    def absorb(self, parts: Sequence[Any]) -> None: ...


def _topics(*classes: type[Any]) -> tuple[str, ...]:
    return tuple(str(c.TOPIC) for c in classes)


def _versions(*classes: type[Any]) -> dict[str, int]:
    return {str(c.TOPIC).rpartition(".")[2]: int(getattr(c, "class_version", 1)) for c in classes}


CASE_EVENTS: tuple[type[Any], ...] = (
    Case.Received,
    Case.Assessed,
    Case.ConsentRecorded,
    Case.Entrusted,
    Case.ClaimsSevered,
    Case.MediatorAssigned,
    Case.SessionRecorded,
    Case.WindowExtended,
    Case.AgreementSigned,
    Case.PerformanceRecorded,
    Case.ReviewApplied,
    Case.StatementIssued,
    Case.StatementServed,
    Case.StatementRetracted,
    Case.MediationFailed,
    Case.AcceptanceDecided,
    Case.AwardPeriodExtended,
    Case.Closed,
)

STUDIO_EVENTS: tuple[type[Any], ...] = (
    Studio.Registered,
    Studio.MediatorAppointed,
    Studio.MediatorRetired,
    Studio.Closed,
)


def _sqlite_stamp(v: Any) -> Any:
    """A datetime in the storage format SQLAlchemy's SQLite DateTime reads and writes."""
    if not isinstance(v, datetime):
        return v
    text = v.isoformat(" ")
    return text if v.microsecond else text + ".000000"


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write a batch's new rows: ``COPY`` on PostgreSQL, one raw executemany on SQLite.

    Both run on the caller's connection, inside its transaction.
    """
    if not rows:
        return
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    values = operator.itemgetter(*columns)
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        stamps = [i for i, c in enumerate(table.columns) if isinstance(c.type, DateTime)]
        marks = ", ".join("?" for _ in columns)
        if stamps:
            out = []
            for row in rows:
                line = list(values(row))
                for i in stamps:
                    if line[i] is not None:
                        line[i] = _sqlite_stamp(line[i])
                out.append(line)
            raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', out)
        else:
            raw.executemany(
                f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', map(values, rows)
            )
        return
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(values(row))


def _categories(claims: list[list[Any]]) -> str:
    return ",".join(sorted({str(c[0]) for c in claims}))


def _days(row: dict[str, Any], on: date) -> int:
    started: date = row["entrusted_on"]
    return (on - started).days


def sort_due(row: dict[str, Any]) -> date:
    """The earliest open deadline, as ``Case.deadlines`` opens them (status decides)."""
    status = Status(row["status"])
    due: list[date] = []
    if row["acceptance_due_on"] is not None and status in (
        Status.RECEIVED,
        Status.MEDIATION_FAILED,
    ):
        due.append(row["acceptance_due_on"])
    if status in (Status.ENTRUSTED, Status.IN_MEDIATION) and row["window_ends_on"]:
        due.append(row["window_ends_on"])
    if status is Status.AGREEMENT_SIGNED and row["performance_due_on"] is not None:
        due.append(row["performance_due_on"])
        if row["route"] == Route.PRE_FILING.value and not row["review_applied"]:
            due.append(row["review_due_on"])
    if row["award_due_on"] is not None and status in (
        Status.ACCEPTED,
        Status.ENTRUSTED,
        Status.IN_MEDIATION,
        Status.AGREEMENT_SIGNED,
        Status.MEDIATION_FAILED,
    ):
        due.append(row["award_due_on"])
    return min(due) if due else NO_DUE


class _Load:
    """What a rebuild's load carries across its batches (``CasesView.begin_load``)."""

    def __init__(self) -> None:
        self.agg = stats.Agg()
        self.states: dict[str, dict[str, Any]] = {}
        # the primary key of every fact a later event may still mark, by (case, mediation,
        # kind): a mark then updates that one row (no search by case)
        self.written: dict[tuple[str, int, str], tuple[int, int]] = {}
        self.retired: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.limit = carry_cases()
        # marks on facts of spilled cases (their keys are no longer carried): applied in
        # order at the end, by (case, mediation, kind), once that index exists
        self.deferred: list[tuple[tuple[str, int, str], dict[str, Any]]] = []
        self.spilled = 0  # case rows written out early, and read back
        self.reloaded = 0
        self.counter_flushes = 0  # carried counters merged into the side tables early
        self.counter_limit = carry_counters()
        # the staging table exists already (a partitioned rebuild creates it up front)
        self.staging_ready = False
        # the parts' counter changes they rolled up themselves (a partitioned rebuild)
        self.rolled: dict[stats.RowKey, Any] = {}


@dataclass
class LoadPart:
    """What one part of a partitioned rebuild hands back once its case rows are written:
    its counter changes (summed with the other parts') and its deferred marks."""

    agg: stats.Agg  # its policy versions; its counter changes too if it staged some
    rolled: dict[stats.RowKey, Any] | None  # else those changes, rolled up (by the part)
    deferred: list[tuple[tuple[str, int, str], dict[str, Any]]]
    counter_flushes: int
    spilled: int
    reloaded: int


MARKED = frozenset({"entrusted", "succeeded"})  # the kinds ``_mark`` changes


class _Batch:
    """What one batch of the cases view will write."""

    def __init__(self) -> None:
        self.facts: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.subsidies: list[dict[str, Any]] = []
        self.severed: list[tuple[str, list[str], datetime]] = []
        self.dirty: set[str] = set()
        self.marks: list[tuple[tuple[str, int, str], dict[str, Any]]] = []
        self.by_key: dict[tuple[str, int, str], dict[str, Any]] = {}
        self._seq: dict[tuple[str, int], int] = {}
        self.agg = stats.Agg()
        # the stored m_state of each case at the start of the batch, and mediations that
        # ended (were replaced by a new entrustment) during it
        self.orig: dict[str, str | None] = {}
        self.retired: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.loading = False  # a rebuild's batch (CasesView._load_batch)

    def seq(self, table: str, position: int) -> int:
        n = self._seq.get((table, position), 0)
        self._seq[(table, position)] = n + 1
        return n


def _dump_m_state(ms: dict[str, Any] | None) -> str | None:
    """A case's open-mediation state as stored in ``rm_cases.m_state``."""
    return json.dumps(ms, separators=(",", ":")) if ms is not None else None


def _read_cases(
    conn: Connection, cases: Table, ids: Sequence[str], *, remove: bool = False
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """The stored rows of ``ids`` (``m_state`` parsed) with their stored ``m_state`` text;
    ``remove``: delete them from the table too (a rebuild reads a spilled row back)."""
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        for row in conn.execute(select(cases).where(cases.c.case_id.in_(chunk))):
            state = dict(row._mapping)
            stored = state["m_state"]
            state["m_state"] = json.loads(stored) if stored else None
            yield state, stored
        if remove:
            conn.execute(delete(cases).where(cases.c.case_id.in_(chunk)))


def _write_claims(conn: Connection, claims: Table, batch: _Batch) -> None:
    """A batch's new claims, then the severances that close open ones (recorded_to)."""
    _insert_many(conn, claims, batch.claims)
    c = claims.c
    for case_id, categories, moment in batch.severed:
        conn.execute(
            update(claims)
            .where(and_(c.case_id == case_id, c.category.in_(categories), c.recorded_to.is_(None)))
            .values(recorded_to=moment)
        )


FLOWS = {"entrusted", "succeeded", "failed", "agreed", "paid"}


class CasesView:
    name = "cases"
    partitioned = True
    topics = _topics(*CASE_EVENTS)
    versions = _versions(*CASE_EVENTS)
    obsolete = OBSOLETE_CASE_TABLES

    def __init__(self, policies: PolicyBook | None = None) -> None:
        self.policies = policies or PolicyBook.default()
        # during a rebuild's load: what is carried across its batches (see begin_load)
        self.carried: _Load | None = None

    def begin_load(self) -> None:
        """A rebuild into side tables starts: carry work across its batches.

        The case rows stay in memory (each is written once, at the end, instead of being
        read and rewritten by every batch that touches it), so do the primary keys of the
        facts that later events may still mark (a mediation's ``entrusted`` and
        ``succeeded`` rows: a mark updates that row by its key), and the counters are
        summed and written once. Safe because a rebuild's side tables are
        thrown away unless it completes: a failed rebuild is started again from position
        zero (``Runner.rebuild`` drops them first). Each batch still commits its other rows
        with its tracking record.
        """
        self.carried = _Load()

    def begin_parts(self, conn: Connection, suffix: str) -> None:
        """The load is about to be split into parts (after ``begin_load``): the counters'
        staging table is created now, once, for any part that needs it."""
        assert self.carried is not None
        staging = stats_stage_table(suffix)
        staging.drop(conn, checkfirst=True)  # a failed rebuild's may be left over
        staging.create(conn)
        self.carried.staging_ready = True

    def end_part(self, suffix: str, run: Run) -> LoadPart:
        """One part of a partitioned rebuild is loaded: write its case rows (which leave
        their open-mediation stock in its counters; prepared before the transaction
        ``run`` gives) and hand back the rest."""
        load = self.carried
        assert load is not None
        rows = self._carried_rows(load, len(load.states))
        table = case_tables(suffix)["cases"]
        run(lambda conn: _insert_many(conn, table, rows))
        agg, rolled = load.agg, None
        if not load.counter_flushes:  # rolled up here, at once with the other parts
            rolled = agg.rolled_up()
            agg = stats.Agg()
            agg.policy = load.agg.policy
        part = LoadPart(
            agg, rolled, load.deferred, load.counter_flushes, load.spilled, load.reloaded
        )
        load.agg, load.deferred = stats.Agg(), []
        return part

    def absorb(self, parts: Sequence[LoadPart]) -> None:
        """Add the other parts' counters and deferred marks to this load's (their case
        rows are written): ``end_load`` then writes them as for a single load."""
        load = self.carried
        assert load is not None
        for part in parts:
            load.agg.merge(part.agg)
            if part.rolled:
                stats.add_rolled(load.rolled, part.rolled)
            load.deferred += part.deferred  # each case's marks come from one part, in order
            load.counter_flushes += part.counter_flushes
            load.spilled += part.spilled
            load.reloaded += part.reloaded

    def end_load(self, conn: Connection, suffix: str) -> None:
        load, self.carried = self.carried, None
        if load is None:
            return
        t = case_tables(suffix)
        self._write_carried(conn, t, load, len(load.states))
        if load.deferred:
            name = f"ix_rm_facts_case{suffix}"
            next(i for i in t["facts"].indexes if i.name == name).create(conn, checkfirst=True)
            f = t["facts"].c
            for (case_id, mediation, kind), values in load.deferred:
                conn.execute(
                    update(t["facts"])
                    .where(and_(f.case_id == case_id, f.mediation == mediation, f.kind == kind))
                    .values(values)
                )
        if load.counter_flushes:  # earlier changes are staged: add these, sum, roll up
            staging = stats_stage_table(suffix)
            load.agg.stage(conn, staging, t["policy_days"])
            stats.write_staged(conn, staging, t["stats"])
            staging.drop(conn)
            # the parts that staged nothing rolled their changes up: added to the rows
            stats.write_rolled(conn, t["stats"], load.rolled, fresh=False)
        else:
            rows = load.agg.rolled_up()
            stats.add_rolled(rows, load.rolled)
            stats.write_rolled(conn, t["stats"], rows, fresh=True)
            load.agg.write_policy(conn, t["policy_days"])
            if load.staging_ready:  # created for the parts, none of which needed it
                stats_stage_table(suffix).drop(conn, checkfirst=True)

    def _write_carried(
        self, conn: Connection, t: dict[str, Table], load: _Load, count: int
    ) -> None:
        """Write the ``count`` case rows carried longest (insertion order) and forget them.

        Each leaves its open-mediation stock in the counters (as ``end_load`` does for all
        rows) and takes its fact keys with it: a later mark on its facts is deferred.
        """
        while count > 0:  # in bounded write buffers
            rows = self._carried_rows(load, min(count, LOAD_CHUNK))
            if not rows:
                break
            _insert_many(conn, t["cases"], rows)
            count -= len(rows)

    def _carried_rows(self, load: _Load, count: int) -> list[dict[str, Any]]:
        """The ``count`` case rows carried longest, ready to write, and forgotten."""
        agg = load.agg
        states = load.states
        cases: list[dict[str, Any]] = []
        for case_id in list(islice(states, count)):
            state = states.pop(case_id)
            state["sort_due"] = sort_due(state)
            ms = state["m_state"]
            for old in load.retired.pop(case_id, ()):
                stats.apply_pending(agg, old, +1)
            stats.apply_pending(agg, ms, +1)
            state["m_state"] = _dump_m_state(ms)
            for mediation in range(1, state["mediation"] + 1):
                for kind in MARKED:
                    load.written.pop((case_id, mediation, kind), None)
            cases.append(state)
        return cases

    def _reload(self, conn: Connection, t: dict[str, Table], load: _Load, ids: list[str]) -> None:
        """Read spilled case rows back (they leave the table until written again)."""
        for state, _ in _read_cases(conn, t["cases"], ids, remove=True):
            stats.apply_pending(load.agg, state["m_state"], -1)  # counted again when written
            load.states[state["case_id"]] = state
            load.reloaded += 1

    def abort_load(self) -> None:
        self.carried = None

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return case_tables(suffix)

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev:
        return decode(notification, mapper, plain(mapper), self.versions)

    # ------------------------------------------------------------------ batch

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        t = case_tables(suffix)
        batch = _Batch()
        load = self.carried if suffix else None
        if load is not None:
            self._load_batch(conn, t, suffix, load, batch, events, fault)
            return
        ids = sorted({ev.originator_id for _, ev in events if ev.kind != "Received"})
        states: dict[str, dict[str, Any]] = {}
        for state, stored in _read_cases(conn, t["cases"], ids):
            batch.orig[state["case_id"]] = stored
            states[state["case_id"]] = state
        for position, ev in events:
            if fault is not None:
                fault(position)
            self._apply(states, batch, position, ev)
        _write_claims(conn, t["claims"], batch)
        _insert_many(conn, t["facts"], batch.facts)
        f = t["facts"].c
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for (case_id, mediation, kind), values in batch.marks:
            params = {f"m_{k}": v for k, v in values.items()}
            params.update(m_case_id=case_id, m_mediation=mediation, m_kind=kind)
            by_columns[tuple(sorted(values))].append(params)
        for columns, params_list in by_columns.items():
            conn.execute(
                update(t["facts"])
                .where(
                    and_(
                        f.case_id == bindparam("m_case_id"),
                        f.mediation == bindparam("m_mediation"),
                        f.kind == bindparam("m_kind"),
                    )
                )
                .values({c: bindparam(f"m_{c}") for c in columns}),
                params_list,
            )
        _insert_many(conn, t["subsidies"], batch.subsidies)
        dirty = sorted(batch.dirty)
        agg = batch.agg
        for i in range(0, len(dirty), CHUNK):
            chunk = dirty[i : i + CHUNK]
            loaded = [case_id for case_id in chunk if case_id in batch.orig]
            if loaded:
                conn.execute(delete(t["cases"]).where(t["cases"].c.case_id.in_(loaded)))
            changed: list[dict[str, Any]] = []
            for case_id in chunk:
                state = states[case_id]
                state["sort_due"] = sort_due(state)
                ms = state["m_state"]
                stored = _dump_m_state(ms)
                orig = batch.orig.get(case_id)
                retired = batch.retired.get(case_id, [])
                if stored != orig or retired:
                    stats.apply_pending(agg, json.loads(orig) if orig else None, -1)
                    for old in retired:
                        stats.apply_pending(agg, old, +1)
                    stats.apply_pending(agg, ms, +1)
                changed.append({**state, "m_state": stored})
            _insert_many(conn, t["cases"], changed)
        agg.write(conn, t["stats"], t["policy_days"])

    def _load_batch(
        self,
        conn: Connection,
        t: dict[str, Table],
        suffix: str,
        load: _Load,
        batch: _Batch,
        events: Sequence[Positioned],
        fault: Fault | None,
    ) -> None:
        """A rebuild's batch: case rows and counters stay in memory."""
        by_pk = self._fold_load(t, load, batch, events, fault, lambda work: work(conn))
        self._write_load(conn, t, suffix, load, batch, by_pk)

    def fold(self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run) -> Any:
        """A part's batch of a partitioned rebuild folded in memory, before its transaction
        (``write`` writes it): the parts fold at once and only take turns to write.
        ``run`` runs a function in a transaction of its own (reading spilled rows back)."""
        load = self.carried
        assert load is not None
        batch = _Batch()
        return batch, self._fold_load(case_tables(suffix), load, batch, events, fault, run)

    def write(self, conn: Connection, suffix: str, folded: Any) -> None:
        load = self.carried
        assert load is not None
        batch, by_pk = folded
        self._write_load(conn, case_tables(suffix), suffix, load, batch, by_pk)

    def _fold_load(
        self,
        t: dict[str, Table],
        load: _Load,
        batch: _Batch,
        events: Sequence[Positioned],
        fault: Fault | None,
        run: Run,
    ) -> dict[tuple[str, ...], list[dict[str, Any]]]:
        """Fold a rebuild's batch into the carried state; the marks on facts of earlier
        batches, by primary key, grouped by the columns they set."""
        batch.agg = load.agg
        batch.retired = load.retired
        batch.loading = True
        states = load.states
        written = load.written
        touched: set[str] = set()
        received: set[str] = set()
        for _, ev in events:
            (received if ev.kind == "Received" else touched).add(ev.originator_id)
        missing = sorted(touched - received - states.keys())
        if missing:  # spilled by an earlier batch
            run(lambda conn: self._reload(conn, t, load, missing))
        for position, ev in events:
            if fault is not None:
                fault(position)
            self._apply(states, batch, position, ev)
        by_pk: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for key, values in batch.marks:
            pk = written.get(key)
            if pk is not None:
                params = {f"m_{k}": v for k, v in values.items()}
                params.update(m_position=pk[0], m_seq=pk[1])
                by_pk[tuple(sorted(values))].append(params)
            else:  # a fact of a spilled case
                load.deferred.append((key, values))
        for key, fact in batch.by_key.items():
            written[key] = (fact["position"], fact["seq"])
        return by_pk

    def _write_load(
        self,
        conn: Connection,
        t: dict[str, Table],
        suffix: str,
        load: _Load,
        batch: _Batch,
        by_pk: dict[tuple[str, ...], list[dict[str, Any]]],
    ) -> None:
        _write_claims(conn, t["claims"], batch)
        _insert_many(conn, t["facts"], batch.facts)
        f = t["facts"].c
        for columns, params_list in by_pk.items():
            conn.execute(
                update(t["facts"])
                .where(and_(f.position == bindparam("m_position"), f.seq == bindparam("m_seq")))
                .values({c: bindparam(f"m_{c}") for c in columns}),
                params_list,
            )
        _insert_many(conn, t["subsidies"], batch.subsidies)
        states = load.states
        if len(states) > load.limit:  # keep memory bounded: write out the oldest quarter
            count = len(states) - load.limit * 3 // 4
            self._write_carried(conn, t, load, count)
            load.spilled += count
            if conn.dialect.name == "postgresql":
                # fresh statistics: a read-back's plan (prepared after a few batches) must
                # use the key index, not a scan planned when the table was empty
                conn.execute(text(f'ANALYZE "{t["cases"].name}"'))
        if load.agg.size() > load.counter_limit:
            staging = stats_stage_table(suffix)
            if not load.counter_flushes and not load.staging_ready:
                staging.drop(conn, checkfirst=True)  # a failed rebuild's may be left over
                staging.create(conn)
            load.agg.stage(conn, staging, t["policy_days"])
            load.agg = stats.Agg()
            load.counter_flushes += 1

    # ------------------------------------------------------------------ events

    def _policy(self, version: str, on: date) -> Policy:
        try:
            return self.policies.get(version)
        except KeyError:
            return self.policies.in_force(on)

    def _fact(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Ev,
        kind: str,
        **values: Any,
    ) -> dict[str, Any]:
        on = ev.on
        assert on is not None
        fact = {
            "position": position,
            "seq": batch.seq("facts", position),
            "case_id": row["case_id"],
            "mediation": row["mediation"],
            "kind": kind,
            "branch": None,
            "on": on,
            "recorded_at": ev.recorded,
            "region_code": row["region_code"],
            "studio_id": row["studio_id"],
            "mediator_id": row["mediator_id"],
            "route": row["route"],
            "worker_category": row["worker_category"],
            "categories": row["categories"],
            "amount_cents": 0,
            "started_on": row["entrusted_on"],
            "window_ends_on": None,
            "days": None,
            "closed_on": None,
            "closed_at": None,
            "reversed_at": None,
            "policy_version": ev.policy_version,
        }
        fact.update(values)
        batch.facts.append(fact)
        if not batch.loading or kind in MARKED:  # a rebuild indexes only the markable ones
            batch.by_key[(fact["case_id"], fact["mediation"], kind)] = fact
        batch.agg.seen(on, position, ev.policy_version)
        if kind in FLOWS:
            keys = stats.dim_keys(
                fact["studio_id"],
                fact["mediator_id"],
                fact["route"],
                fact["worker_category"],
                fact["categories"],
                on,
            )
            if kind == "entrusted":
                flows = {"n": 1, "entrusted": 1}
            elif kind == "succeeded":
                flows = {"n": 1, "perf" if fact["branch"] == "performance" else "stmt": 1}
                batch.agg.add_days(on, fact["region_code"], keys, fact["days"], 1)
            elif kind == "failed":
                flows = {"n": 1, "failed": 1}
                batch.agg.add_days(on, fact["region_code"], keys, fact["days"], 1)
            else:
                flows = {"n": 1, kind: fact["amount_cents"]}
            batch.agg.add(on, fact["region_code"], keys, flows)
        return fact

    def _mark(self, batch: _Batch, row: dict[str, Any], kind: str, **values: Any) -> None:
        """Set columns on this mediation's ``kind`` fact (written earlier or in this batch)."""
        key = (row["case_id"], row["mediation"], kind)
        fact = batch.by_key.get(key)
        if fact is not None:
            fact.update(values)
        else:
            batch.marks.append((key, values))

    def _subsidy(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Ev,
        outcome: str,
        amount_cents: int,
        compensating: bool = False,
    ) -> None:
        batch.subsidies.append(
            {
                "position": position,
                "seq": batch.seq("subsidies", position),
                "month": ev.ts.astimezone(CHINA).strftime("%Y-%m"),
                "recorded_at": ev.recorded,
                "on": ev.on,
                "case_id": row["case_id"],
                "mediation": row["mediation"],
                "region_code": row["region_code"],
                "studio_id": row["studio_id"],
                "mediator_id": row["mediator_id"],
                "outcome": outcome,
                "amount_cents": amount_cents,
                "compensating": compensating,
                "policy_version": ev.policy_version,
            }
        )

    def _end_mediation(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Ev,
        acceptance_due_on: date | None,
    ) -> None:
        assert ev.on is not None
        self._fact(batch, row, position, ev, "failed", days=_days(row, ev.on))
        self._mark(batch, row, "entrusted", closed_on=ev.on, closed_at=ev.recorded)
        ms = row["m_state"]
        if ms is not None:
            ms["cs"].append(ev.on.isoformat())
        table = self._policy(ev.policy_version, ev.on).subsidy
        amount = (
            table.failure_after_session if row["sessions"] > 0 else table.failure_without_session
        )
        self._subsidy(batch, row, position, ev, "failed", cents(amount))
        row["status"] = Status.MEDIATION_FAILED.value
        row["status_since"] = ev.on
        row["success_branch"] = None
        if acceptance_due_on is not None:
            row["acceptance_due_on"] = acceptance_due_on

    def _received(
        self, states: dict[str, dict[str, Any]], batch: _Batch, position: int, ev: Ev
    ) -> None:
        case_id = ev.originator_id
        d = ev.d
        on = ev.on
        assert on is not None
        claims = [[c["category"], cents(c["amount"])] for c in d["claims"]]
        recorded = ev.recorded
        region = d["region_code"]
        worker = d["applicant"]["worker_category"]
        severed_from = ident(d.get("severed_from"))
        row: dict[str, Any] = {
            "case_id": case_id,
            "region_code": region,
            "received_on": on,
            "received_at": recorded,
            "worker_category": worker,
            "claims": json.dumps(claims),
            "categories": _categories(claims),
            "status": Status.RECEIVED.value,
            "status_since": on,
            "route": None,
            "studio_id": None,
            "mediator_id": None,
            "mediation": 0,
            "entrusted_on": None,
            "window_ends_on": None,
            "acceptance_due_on": day(d["acceptance_due_on"]),
            "award_due_on": None,
            "performance_due_on": None,
            "review_due_on": None,
            "review_applied": False,
            "sessions": 0,
            "success_branch": None,
            "success_subsidy_cents": 0,
            "severed_from": severed_from,
            "version": ev.version,
            "sort_due": NO_DUE,
            "updated_at": recorded,
            "m_state": None,
        }
        states[case_id] = row
        for idx, (category, amount) in enumerate(claims):
            batch.claims.append(
                {
                    "position": position,
                    "idx": idx,
                    "case_id": case_id,
                    "category": category,
                    "amount_cents": amount,
                    "region_code": region,
                    "worker_category": worker,
                    "received_on": on,
                    "recorded_from": recorded,
                    "recorded_to": None,
                    "policy_version": ev.policy_version,
                }
            )
        stats.apply_received(
            batch.agg, region, on, stats.received_contribution(region, worker, on, claims), 1
        )
        batch.dirty.add(case_id)

    def _apply(
        self, states: dict[str, dict[str, Any]], batch: _Batch, position: int, ev: Ev
    ) -> None:
        kind = ev.kind
        if kind == "Received":
            self._received(states, batch, position, ev)
            return
        case_id = ev.originator_id
        row = states[case_id]
        batch.dirty.add(case_id)
        row["version"] = ev.version
        row["updated_at"] = ev.recorded
        d = ev.d
        if kind == "SessionRecorded":
            row["sessions"] += 1
        elif kind == "ReviewApplied":
            row["review_applied"] = True
        elif kind == "ConsentRecorded":
            if d and d["ends_mediation"]:
                self._end_mediation(batch, row, position, ev, day(d["acceptance_due_on"]))
        elif kind == "Entrusted":
            on = ev.on
            assert on is not None
            window = day(d["window_ends_on"])
            route = d["route"]
            if row["m_state"] is not None:
                batch.retired[case_id].append(row["m_state"])
            row.update(
                mediation=row["mediation"] + 1,
                status=Status.ENTRUSTED.value,
                status_since=on,
                studio_id=ident(d["studio_id"]),
                mediator_id=None,
                route=route,
                entrusted_on=on,
                window_ends_on=window,
                sessions=0,
                performance_due_on=None,
                review_due_on=None,
                review_applied=False,
                success_branch=None,
                success_subsidy_cents=0,
            )
            if route == Route.PRE_FILING.value:
                row["acceptance_due_on"] = None
            row["m_state"] = {
                "n": row["mediation"],
                "e": on.isoformat(),
                "w0": window.isoformat() if window else None,
                "dims": [
                    row["region_code"],
                    row["studio_id"],
                    route,
                    row["worker_category"],
                    row["categories"],
                ],
                "as": [],
                "ws": [],
                "cs": [],
                "succ": None,
            }
            self._fact(batch, row, position, ev, "entrusted", window_ends_on=window)
        elif kind == "ClaimsSevered":
            moved = set(d["categories"])
            before = json.loads(row["claims"])
            claims = [c for c in before if c[0] not in moved]
            region, worker, received_on = (
                row["region_code"],
                row["worker_category"],
                row["received_on"],
            )
            stats.apply_received(
                batch.agg,
                region,
                received_on,
                stats.received_contribution(region, worker, received_on, before),
                -1,
            )
            stats.apply_received(
                batch.agg,
                region,
                received_on,
                stats.received_contribution(region, worker, received_on, claims),
                1,
            )
            row["claims"] = json.dumps(claims)
            row["categories"] = _categories(claims)
            batch.severed.append((case_id, sorted(moved), ev.recorded))
            # claims of this very batch are not inserted yet: close them in memory too
            for claim in batch.claims:
                if (
                    claim["case_id"] == case_id
                    and claim["category"] in moved
                    and claim["recorded_to"] is None
                ):
                    claim["recorded_to"] = ev.recorded
        elif kind == "MediatorAssigned":
            if row["status"] == Status.ENTRUSTED.value:
                row["status"] = Status.IN_MEDIATION.value
                row["status_since"] = ev.on
            row["mediator_id"] = ident(d["mediator_id"])
            fact = self._fact(batch, row, position, ev, "assigned")
            if row["m_state"] is not None:
                row["m_state"]["as"].append(
                    [fact["on"].isoformat(), position, fact["seq"], row["mediator_id"]]
                )
        elif kind == "WindowExtended":
            window = day(d["window_ends_on"])
            row["window_ends_on"] = window
            fact = self._fact(batch, row, position, ev, "window", window_ends_on=window)
            if row["m_state"] is not None:
                row["m_state"]["ws"].append(
                    [
                        fact["on"].isoformat(),
                        position,
                        fact["seq"],
                        window.isoformat() if window else None,
                    ]
                )
        elif kind == "AgreementSigned":
            row.update(
                status=Status.AGREEMENT_SIGNED.value,
                status_since=ev.on,
                performance_due_on=day(d["performance_due_on"]),
                review_due_on=day(d["review_due_on"]),
            )
            self._fact(batch, row, position, ev, "agreed", amount_cents=cents(d["amount"]))
        elif kind == "PerformanceRecorded":
            self._fact(batch, row, position, ev, "paid", amount_cents=cents(d["amount_paid"]))
            if d["complete"]:
                self._succeed(batch, row, position, ev, "performance")
        elif kind == "StatementIssued":
            self._succeed(batch, row, position, ev, "statement")
        elif kind == "StatementRetracted":
            self._fact(batch, row, position, ev, "reversed", branch=row["success_branch"])
            self._mark(batch, row, "succeeded", reversed_at=ev.recorded)
            self._subsidy(
                batch,
                row,
                position,
                ev,
                "reversal",
                -row["success_subsidy_cents"],
                compensating=True,
            )
            row["success_subsidy_cents"] = 0
            self._unsucceed(batch, row)
            self._end_mediation(batch, row, position, ev, day(d["acceptance_due_on"]))
        elif kind == "MediationFailed":
            self._end_mediation(batch, row, position, ev, day(d["acceptance_due_on"]))
        elif kind == "AcceptanceDecided":
            row.update(
                status=(Status.ACCEPTED if d["accepted"] else Status.NOT_ACCEPTED).value,
                status_since=ev.on,
                acceptance_due_on=None,
                award_due_on=day(d["award_due_on"]),
            )
        elif kind == "AwardPeriodExtended":
            row["award_due_on"] = day(d["award_due_on"])
        elif kind == "Closed":
            row.update(status=Status.CLOSED.value, status_since=ev.on, acceptance_due_on=None)
        # Assessed and StatementServed change no figure (version only).

    def _succeed(
        self, batch: _Batch, row: dict[str, Any], position: int, ev: Ev, branch: str
    ) -> None:
        on = ev.on
        assert on is not None
        row.update(status=Status.SUCCEEDED.value, status_since=on, success_branch=branch)
        fact = self._fact(batch, row, position, ev, "succeeded", branch=branch, days=_days(row, on))
        self._mark(batch, row, "entrusted", closed_on=on, closed_at=ev.recorded)
        ms = row["m_state"]
        if ms is not None:
            ms["cs"].append(on.isoformat())
            ms["succ"] = [
                on.isoformat(),
                branch,
                fact["days"],
                fact["region_code"],
                fact["studio_id"],
                fact["mediator_id"],
                fact["route"],
                fact["worker_category"],
                fact["categories"],
            ]
        amount = cents(self._policy(ev.policy_version, on).subsidy.success)
        row["success_subsidy_cents"] = amount
        self._subsidy(batch, row, position, ev, "succeeded", amount)

    def _unsucceed(self, batch: _Batch, row: dict[str, Any]) -> None:
        """A reversal: the success no longer counts (as known now) where it was counted."""
        ms = row["m_state"]
        if ms is None or ms["succ"] is None:
            return
        on_iso, branch, days, region, studio, mediator, route, worker, categories = ms["succ"]
        on = date.fromisoformat(on_iso)
        keys = stats.dim_keys(studio, mediator, route, worker, categories, on)
        batch.agg.add(
            on, region, keys, {"n": -1, "perf" if branch == "performance" else "stmt": -1}
        )
        batch.agg.add_days(on, region, keys, days, -1)
        if on_iso in ms["cs"]:
            ms["cs"].remove(on_iso)
        ms["succ"] = None


class OrganisationView:
    name = "organisation"
    partitioned = False  # small, and a mediator's rows follow their studio's events
    topics = _topics(*STUDIO_EVENTS)
    versions = _versions(*STUDIO_EVENTS)

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return organisation_tables(suffix)

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev:
        return decode(notification, mapper, plain(mapper), self.versions)

    def begin_load(self) -> None:
        pass

    def end_load(self, conn: Connection, suffix: str) -> None:
        pass

    def abort_load(self) -> None:
        pass

    def begin_parts(self, conn: Connection, suffix: str) -> None:
        raise NotImplementedError("the organisation view is not rebuilt in parts")

    def fold(self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run) -> Any:
        raise NotImplementedError("the organisation view is not rebuilt in parts")

    def write(self, conn: Connection, suffix: str, folded: Any) -> None:
        raise NotImplementedError("the organisation view is not rebuilt in parts")

    def end_part(self, suffix: str, run: Run) -> None:
        raise NotImplementedError("the organisation view is not rebuilt in parts")

    def absorb(self, parts: Sequence[Any]) -> None:
        raise NotImplementedError("the organisation view is not rebuilt in parts")

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        t = organisation_tables(suffix)
        studios, mediators = t["studios"], t["mediators"]
        new_studios: list[dict[str, Any]] = []
        new_mediators: list[dict[str, Any]] = []

        def flush() -> None:
            _insert_many(conn, studios, new_studios)
            _insert_many(conn, mediators, new_mediators)
            new_studios.clear()
            new_mediators.clear()

        for position, ev in events:
            if fault is not None:
                fault(position)
            d = ev.d
            if ev.kind == "Registered":
                new_studios.append(
                    dict(
                        studio_id=ev.originator_id,
                        name=d["name"],
                        region_code=d["region_code"],
                        kind=d["kind"],
                        established_on=ev.on,
                        closed_on=None,
                        mediator_quota=d["mediator_quota"],
                        registered_at=ev.recorded,
                    )
                )
            elif ev.kind == "MediatorAppointed":
                new_mediators.append(
                    dict(
                        mediator_id=ident(d["mediator_id"]),
                        studio_id=ev.originator_id,
                        name=d["name"],
                        qualification=d["qualification"],
                        appointed_on=ev.on,
                        retired_on=None,
                    )
                )
            elif ev.kind == "MediatorRetired":
                flush()
                conn.execute(
                    update(mediators)
                    .where(mediators.c.mediator_id == ident(d["mediator_id"]))
                    .values(retired_on=ev.on)
                )
            elif ev.kind == "Closed":
                flush()
                conn.execute(
                    update(studios)
                    .where(studios.c.studio_id == ev.originator_id)
                    .values(closed_on=ev.on)
                )
        flush()


def all_views(policies: PolicyBook | None = None) -> list[View]:
    return [OrganisationView(), CasesView(policies)]
