"""What one batch of the cases view writes, and how its rows are read and written.

A :class:`Batch` collects a batch's new claims, facts and subsidy entries, the marks it
sets on facts of earlier batches and its counter changes; ``Batch.write`` writes them with
a few bulk statements. Case rows (``Row``: an ``rm_cases`` row, ``m_state`` parsed) are
read by ``read_cases`` and written by the caller (``CasesView.process``, ``Load``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, select, update

from mediation.deadlines import open_deadlines
from mediation.values import Route, Status
from projections import counters
from projections.decode import Ev
from projections.sql import MediationState, insert_many

CHINA = ZoneInfo("Asia/Shanghai")
NO_DUE = date(9999, 12, 31)
CHUNK = 500  # case ids per statement
MARKED = frozenset({"entrusted", "succeeded"})  # the fact kinds a later event marks
FLOWS = frozenset({"entrusted", "succeeded", "failed", "agreed", "paid"})  # counted facts

Row = dict[str, Any]  # an rm_cases row in memory, its m_state a MediationState (or None)
FactKey = tuple[str, int, str]  # (case, mediation, kind)


def sort_due(row: Row) -> date:
    """The earliest deadline the case has open (``mediation.deadlines``); NO_DUE if none."""
    route = row["route"]
    due = open_deadlines(
        Status(row["status"]),
        Route(route) if route is not None else None,
        acceptance_due_on=row["acceptance_due_on"],
        window_ends_on=row["window_ends_on"],
        performance_due_on=row["performance_due_on"],
        review_due_on=row["review_due_on"],
        review_applied=bool(row["review_applied"]),
        award_due_on=row["award_due_on"],
    )
    return min((d for _, d in due), default=NO_DUE)


def dump_state(ms: MediationState | None) -> str | None:
    """A case's open-mediation state as stored in ``rm_cases.m_state``."""
    return json.dumps(ms, separators=(",", ":")) if ms is not None else None


def read_cases(
    conn: Connection, cases: Table, ids: Sequence[str], *, remove: bool = False
) -> Iterator[tuple[Row, str | None]]:
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


class Marks:
    """Columns to set on facts written by earlier batches, found by ``keys`` (in a rebuild
    the fact's primary key), grouped by the columns set: one executemany a group.

    Found by ``BY_KEY`` (the fact's case, mediation and kind) a mark needs the position of
    the event that sets it (``add``'s ``before``): it sets the latest such fact written
    before that event. A mediation may have more than one fact of a kind (a success
    reversed while the mediation stays open, then a new success, v1.1 rule 5), and a mark
    must not reach a fact recorded after it."""

    BY_KEY = ("case_id", "mediation", "kind")

    def __init__(self, *keys: str) -> None:
        self.keys = keys
        self.groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)

    def add(self, found_by: Sequence[Any], values: dict[str, Any], before: int = 0) -> None:
        params = {f"m_{k}": v for k, v in values.items()}
        params.update({f"m_{k}": v for k, v in zip(self.keys, found_by, strict=True)})
        if self.keys == self.BY_KEY:
            params["m__before"] = before
        self.groups[tuple(sorted(values))].append(params)

    def write(self, conn: Connection, facts: Table) -> None:
        found = and_(*(facts.c[k] == bindparam(f"m_{k}") for k in self.keys))
        if self.keys == self.BY_KEY:
            earlier = facts.alias("earlier")
            latest = (
                select(func.max(earlier.c.position))
                .where(
                    *(earlier.c[k] == bindparam(f"m_{k}") for k in self.keys),
                    earlier.c.position < bindparam("m__before"),
                )
                .scalar_subquery()
            )
            found = and_(found, facts.c.position == latest)
        for columns, params in self.groups.items():
            conn.execute(
                update(facts).where(found).values({c: bindparam(f"m_{c}") for c in columns}),
                params,
            )


class Batch:
    """What one batch of the cases view will write."""

    def __init__(
        self,
        agg: counters.Agg | None = None,
        retired: dict[str, list[MediationState]] | None = None,
        *,
        loading: bool = False,
    ) -> None:
        self.facts: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.subsidies: list[dict[str, Any]] = []
        self.severed: list[tuple[str, list[str], datetime]] = []
        self.dirty: set[str] = set()
        # marks on facts not in this batch (``mark``: with the position of the event that
        # sets them), and this batch's facts by key
        self.marks: list[tuple[FactKey, int, dict[str, Any]]] = []
        self.by_key: dict[FactKey, dict[str, Any]] = {}
        self._seq: dict[tuple[str, int], int] = {}
        self.agg = agg if agg is not None else counters.Agg()
        # mediations that ended (were replaced by a new entrustment) during the batch
        self.retired: dict[str, list[MediationState]] = (
            retired if retired is not None else defaultdict(list)
        )
        self.loading = loading  # a rebuild's batch: only markable facts are indexed

    def seq(self, table: str, position: int) -> int:
        n = self._seq.get((table, position), 0)
        self._seq[(table, position)] = n + 1
        return n

    def fact(self, row: Row, position: int, ev: Ev, kind: str, **values: Any) -> dict[str, Any]:
        """A dated fact of the case's current mediation, counted in the flows."""
        on = ev.on
        assert on is not None
        fact = {
            "position": position,
            "seq": self.seq("facts", position),
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
            "reason_code": None,
            "policy_version": ev.policy_version,
        }
        fact.update(values)
        self.facts.append(fact)
        if not self.loading or kind in MARKED:
            self.by_key[(fact["case_id"], fact["mediation"], kind)] = fact
        self.agg.seen(on, position, ev.policy_version)
        if kind in FLOWS:
            self._count(fact, on)
        return fact

    def _count(self, fact: dict[str, Any], on: date) -> None:
        kind = fact["kind"]
        keys = counters.dim_keys(
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
            self.agg.add_days(on, fact["region_code"], keys, fact["days"], 1)
        elif kind == "failed":
            flows = {"n": 1, "failed": 1}
            self.agg.add_days(on, fact["region_code"], keys, fact["days"], 1)
        else:
            flows = {"n": 1, kind: fact["amount_cents"]}
        self.agg.add(on, fact["region_code"], keys, flows)

    def mark(self, row: Row, position: int, kind: str, **values: Any) -> None:
        """Set columns on this mediation's latest ``kind`` fact (written earlier or in this
        batch) by the event at ``position``."""
        key = (row["case_id"], row["mediation"], kind)
        fact = self.by_key.get(key)
        if fact is not None:
            fact.update(values)
        else:
            self.marks.append((key, position, values))

    def subsidy(
        self,
        row: Row,
        position: int,
        ev: Ev,
        outcome: str,
        amount_cents: int,
        compensating: bool = False,
    ) -> None:
        """A subsidy entry in the month of recording (a reversal: a compensating one)."""
        self.subsidies.append(
            {
                "position": position,
                "seq": self.seq("subsidies", position),
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

    def write(self, conn: Connection, t: dict[str, Table], marks: Marks) -> None:
        """The new claims and the severances that close open ones, the new facts, the
        ``marks`` on earlier facts and the subsidy entries (not the case rows)."""
        insert_many(conn, t["claims"], self.claims)
        c = t["claims"].c
        for case_id, categories, moment in self.severed:
            conn.execute(
                update(t["claims"])
                .where(
                    and_(c.case_id == case_id, c.category.in_(categories), c.recorded_to.is_(None))
                )
                .values(recorded_to=moment)
            )
        insert_many(conn, t["facts"], self.facts)
        marks.write(conn, t["facts"])
        insert_many(conn, t["subsidies"], self.subsidies)
