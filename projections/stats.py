"""Pre-aggregated caseload counters, maintained by the cases view, for "as known now" queries.

``rm_stats`` holds, per (grain, bucket, county, dim, key), the *net change* of every
caseload figure dated in that bucket: ``grain`` ``d`` = one day (``bucket`` is the day),
``m`` = one calendar month (``bucket`` is its first day; the same changes summed). A
figure over a period sums the monthly rows of the whole months inside it and the daily
rows of the ragged ends: a few hundred rows whatever the length of the history.

``dim`` is the grouping the row serves: ``none`` (totals, city and county — the county is
a column of every row), ``studio``, ``mediator``, ``month``, ``category``, ``route``,
``worker``; ``key`` is the group's key (``none`` where the contract says so). Every fact
adds one row change per dim (and per claim category for ``category``).

Columns: ``n`` (presence: the number of contributions — a case received, a mediation
entrusted, concluded, an agreement, a payment — that make a key appear in a report),
``received``, ``claimed`` (cents), ``entrusted``, ``perf`` / ``stmt`` (unreversed
successes by branch), ``failed``, ``agreed``, ``paid`` (cents), and two *stock* deltas,
``pending`` and ``overdue``: +1 on the day a mediation becomes pending (or overdue) under
a key, -1 on the day it stops, so the figure at ``to`` is the sum of every delta dated on
or before ``to`` (whole months before ``to``'s month, then the days of that month).

A change that rewrites history as known now (a reversal of a success, a severance of
claims, a later assignment or window, a conclusion) subtracts the old contribution and
adds the new one. ``rm_stats_days`` is the histogram of days to conclusion with the same
keys (for exact medians); ``rm_policy_days`` keeps, per business date, the policy version
of the latest fact dated on it (the report's ``policy_version``).

``as_of`` queries do not use these tables: they stay exact over ``rm_facts`` and
``rm_claims`` (see ``projections.queries``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Table

from projections.sql import STATS_MEASURES

NONE_KEY = "none"
MEASURES = STATS_MEASURES
IDX = {m: i for i, m in enumerate(MEASURES)}
DIMS = ("none", "studio", "mediator", "month", "category", "route", "worker")

Key = tuple[str, str]  # (dim, key)
Dims = tuple[str, str | None, str | None, str | None, str, str]
# (county, studio, mediator, route, worker_category, categories)


def month_key(on: date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


def dim_keys(
    studio: str | None,
    mediator: str | None,
    route: str | None,
    worker: str,
    categories: str,
    month_of: date,
) -> list[Key]:
    keys: list[Key] = [
        ("none", ""),
        ("studio", studio or NONE_KEY),
        ("mediator", mediator or NONE_KEY),
        ("month", month_key(month_of)),
        ("route", route or NONE_KEY),
        ("worker", worker),
    ]
    cats = [c for c in categories.split(",") if c] or [NONE_KEY]
    keys.extend(("category", c) for c in cats)
    return keys


class Agg:
    """One batch's changes to the counters, summed in memory, written with a few upserts."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, date, str, str, str], list[int]] = {}
        self.days: dict[tuple[str, date, str, str, str, int], int] = defaultdict(int)
        self.policy: dict[date, tuple[int, str]] = {}
        self.open: dict[tuple[str, date, str, str, str], list[int]] = {}

    def add(self, on: date, county: str, keys: Iterable[Key], values: dict[str, int]) -> None:
        pairs = [(IDX[m], v) for m, v in values.items() if v]
        if not pairs:
            return
        month = on.replace(day=1)
        rows = self.rows
        width = len(MEASURES)
        for dim, key in keys:
            k = ("m", month, county, dim, key)
            row = rows.get(k)
            if row is None:
                row = rows[k] = [0] * width
            for i, v in pairs:
                row[i] += v

    def add_open(self, on: date, county: str, keys: Iterable[Key], values: dict[str, int]) -> None:
        month = on.replace(day=1)
        for dim, key in keys:
            row = self.open.setdefault(("m", month, county, dim, key), [0, 0])
            row[0] += values.get("pending", 0)
            row[1] += values.get("overdue", 0)

    def add_days(self, on: date, county: str, keys: Iterable[Key], days: int, sign: int) -> None:
        month = on.replace(day=1)
        for dim, key in keys:
            self.days[("m", month, county, dim, key, days)] += sign

    def seen(self, on: date, position: int, policy_version: str) -> None:
        known = self.policy.get(on)
        if known is None or known[0] < position:
            self.policy[on] = (position, policy_version)

    # ------------------------------------------------------------------ write

    def write(
        self, conn: Connection, stats: Table, days: Table, policy: Table, open_: Table
    ) -> None:
        keys = "grain, bucket, county, dim, key"
        for table, measures, changes in (
            (stats, MEASURES, self.rows),
            (open_, ("pending", "overdue"), self.open),
        ):
            rows = [(*k, *v) for k, v in changes.items() if any(v)]
            if rows:
                cols = ", ".join(measures)
                sets = ", ".join(f"{m} = {table.name}.{m} + excluded.{m}" for m in measures)
                zero = " AND ".join(f"{m} = 0" for m in measures)
                # only a negative change can bring a row back to all zeros
                shrinking = [(*k, *v) for k, v in changes.items() if min(v) < 0]
                _upsert(conn, table, f"{keys}, {cols}", rows, f"({keys})", sets, zero, shrinking)
        hist = [(*k, v) for k, v in self.days.items() if v]
        if hist:
            _upsert(
                conn,
                days,
                f"{keys}, days, n",
                hist,
                f"({keys}, days)",
                f"n = {days.name}.n + excluded.n",
                "n = 0",
                [(*k, v) for k, v in self.days.items() if v < 0],
            )
        if self.policy:
            prows = [(on, pos, pv) for on, (pos, pv) in self.policy.items()]
            _upsert(
                conn,
                policy,
                '"on", position, policy_version',
                prows,
                '("on")',
                "position = excluded.position, policy_version = excluded.policy_version",
                None,
                None,
                where=f"excluded.position > {policy.name}.position",
            )


def _upsert(
    conn: Connection,
    table: Table,
    columns: str,
    rows: list[tuple[Any, ...]],
    conflict: str,
    sets: str,
    prune: str | None = None,
    shrinking: list[tuple[Any, ...]] | None = None,
    where: str | None = None,
) -> None:
    """Add ``rows`` into ``table``: COPY into a temporary table then one INSERT ... ON
    CONFLICT on PostgreSQL; executemany of the same upsert on SQLite. ``prune``: rows of
    the batch's keys that now match it (every figure back to zero) are deleted, so the
    table holds exactly the rows a clean rebuild holds."""
    tail = f"ON CONFLICT {conflict} DO UPDATE SET {sets}" + (f" WHERE {where}" if where else "")
    key_names = [k.strip() for k in conflict.strip("()").split(",")]
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in rows[0])
        raw.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) {tail}', rows)
        if prune and shrinking:
            match = " AND ".join(f"{k} = ?" for k in key_names)
            raw.executemany(
                f'DELETE FROM "{table.name}" WHERE {match} AND {prune}',
                [row[: len(key_names)] for row in shrinking],
            )
        return
    temp = f"tmp_{table.name}"
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        with cur.copy(f'COPY "{temp}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{temp}" {tail}')
        if prune and shrinking:
            match = " AND ".join(f"t.{k} = x.{k}" for k in key_names)
            zero = " AND ".join(f"t.{c.strip()}" for c in prune.split(" AND "))
            cur.execute(f'DELETE FROM "{table.name}" t USING "{temp}" x WHERE {match} AND {zero}')
        cur.execute(f'TRUNCATE "{temp}"')


# ---------------------------------------------------------------------- received


def received_contribution(
    region: str, worker: str, received_on: date, claims: list[list[Any]]
) -> list[tuple[Key, dict[str, int]]]:
    """What a case's current claims add to ``received`` / ``claimed`` (and presence)."""
    if not claims:
        return []
    total = sum(int(c[1]) for c in claims)
    whole = {"n": 1, "received": 1, "claimed": total}
    out: list[tuple[Key, dict[str, int]]] = [
        (("none", ""), whole),
        (("studio", NONE_KEY), whole),
        (("mediator", NONE_KEY), whole),
        (("month", month_key(received_on)), whole),
        (("route", NONE_KEY), whole),
        (("worker", worker), whole),
    ]
    per: dict[str, int] = defaultdict(int)
    for category, amount in claims:
        per[str(category)] += int(amount)
    for category, amount in sorted(per.items()):
        out.append((("category", category), {"n": 1, "received": 1, "claimed": amount}))
    return out


def apply_received(
    agg: Agg,
    region: str,
    received_on: date,
    contribution: list[tuple[Key, dict[str, int]]],
    sign: int,
) -> None:
    for key, values in contribution:
        agg.add(received_on, region, (key,), {m: sign * v for m, v in values.items()})


# ---------------------------------------------------------------------- pending / overdue


def pending_deltas(ms: dict[str, Any]) -> dict[tuple[date, str, str | None], int]:
    """The stock deltas of one mediation, as known now: {(day, measure, mediator): +-n}.

    ``ms``: ``e`` entrustment date, ``w0`` its window end, ``as`` assignments and ``ws``
    window extensions as [iso date, position, seq, value], ``cs`` the dates of its
    conclusions (failures and unreversed successes). Pending on [e, first conclusion),
    under the mediator of the latest-recorded assignment dated on or before the day;
    overdue from the day after the window in force then.
    """
    out: dict[tuple[date, str, str | None], int] = defaultdict(int)
    e = date.fromisoformat(ms["e"])
    ends = [date.fromisoformat(c) for c in ms["cs"]]
    stop = min(ends) if ends else None
    if stop is not None and stop <= e:
        return out
    assigns = [(date.fromisoformat(a[0]), a[1], a[2], a[3]) for a in ms["as"]]
    windows = [(date.fromisoformat(w[0]), w[1], w[2], w[3]) for w in ms["ws"]]
    points = {e}
    for on, *_ in assigns + windows:
        if on > e and (stop is None or on < stop):
            points.add(on)
    ordered = sorted(points)
    w0 = date.fromisoformat(ms["w0"]) if ms.get("w0") else None
    for i, start in enumerate(ordered):
        end = ordered[i + 1] if i + 1 < len(ordered) else stop
        mediator: str | None = None
        best: tuple[int, int] | None = None
        for on, pos, seq, who in assigns:
            if on <= start and (best is None or (pos, seq) > best):
                best, mediator = (pos, seq), who
        window = w0
        best = None
        for on, pos, seq, until in windows:
            if on <= start and (best is None or (pos, seq) > best):
                best, window = (pos, seq), (date.fromisoformat(until) if until else None)
        out[(start, "pending", mediator)] += 1
        if end is not None:
            out[(end, "pending", mediator)] -= 1
        if window is not None:
            late = max(start, window + timedelta(days=1))
            if end is None or late < end:
                out[(late, "overdue", mediator)] += 1
                if end is not None:
                    out[(end, "overdue", mediator)] -= 1
    return out


def apply_pending(
    agg: Agg,
    ms: dict[str, Any] | None,
    sign: int,
) -> None:
    """Add (sign +1) or remove (-1) one mediation's ``pending``/``overdue`` stock.

    Stored as the stock at each month's last day: on ``rm_stats`` rows, the months from
    the first change to the last one, minus the final value; the final value (1 while a
    mediation is still open, else 0) once, on an ``rm_stats_open`` row of the first
    month, which counts for every month from then on.
    """
    if not ms:
        return
    county, studio, route, worker, categories = ms["dims"]
    e = date.fromisoformat(ms["e"])
    per: dict[tuple[str, str | None], list[tuple[date, int]]] = defaultdict(list)
    for (on, measure, mediator), value in pending_deltas(ms).items():
        if value:
            per[(measure, mediator)].append((on, value))
    for (measure, mediator), changes in per.items():
        changes.sort()
        final = sum(v for _, v in changes)
        keys = dim_keys(studio, mediator, route, worker, categories, e)
        first = changes[0][0].replace(day=1)
        last = changes[-1][0].replace(day=1)
        month, stock, i = first, 0, 0
        while month <= last:
            end = _next_month(month)
            while i < len(changes) and changes[i][0] < end:
                stock += changes[i][1]
                i += 1
            if stock != final:
                agg.add(month, county, keys, {measure: sign * (stock - final)})
            month = end
        if final:
            agg.add_open(first, county, keys, {measure: sign * final})


# ---------------------------------------------------------------------- query helpers


def period_buckets(from_: date, to: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole months inside [from_, to] (their first days) and the day ranges left over."""
    months: list[date] = []
    first = from_ if from_.day == 1 else _next_month(from_)
    m = first
    while _next_month(m) - timedelta(days=1) <= to:
        months.append(m)
        m = _next_month(m)
    if not months:
        return [], [(from_, to)]
    ranges = []
    if from_ < months[0]:
        ranges.append((from_, months[0] - timedelta(days=1)))
    after = _next_month(months[-1])
    if after <= to:
        ranges.append((after, to))
    return months, ranges


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
