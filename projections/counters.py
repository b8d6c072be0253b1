"""Pre-aggregated caseload counters, maintained by the cases view, for "as known now" queries:
the layout of ``rm_stats`` and its writer (read by ``projections.caseload_counters``).

Over ~500 lines on purpose: the cases view writes through this one module (in-memory sums,
roll-ups, the merge into stored rows, each mediation's stock), and every part of it must
agree on the row layout described here.

``rm_stats`` holds, per (level, scope, dim, key, grain, bucket), the *net change* of every
caseload figure dated in that period. ``grain`` ``m`` = the calendar month starting on
``bucket``; ``q`` / ``y`` = its quarter / year (flows, open tails and histograms summed),
so a whole-month period is read as the fewest pieces. ``level`` / ``scope``: ``p`` = a
province (scope ``XX0000``), ``c`` = a city (``XXXX00``), ``d`` = a county (its code;
totals only): a report reads the rows of its own level.

``dim`` is the grouping the row serves: ``none`` (totals; by city and by county the key is
the scope), ``studio``, ``mediator``, ``month``, ``category``, ``route``, ``worker``;
``key`` is the group's key (``none`` where the contract says so). Every fact adds one row
change per dim (and per claim category for ``category``).

Columns: ``n`` (presence: the number of contributions — a case received, a mediation
entrusted, concluded, an agreement, a payment — that make a key appear in a report),
``received``, ``claimed`` (cents), ``workers`` (the received cases' applicants) and
``collective`` (received collective disputes), ``entrusted``, ``perf`` / ``stmt`` (unreversed
successes by branch), ``failed``, ``agreed``, ``paid`` (cents); the stocks ``pending`` and
``overdue`` as the stock at the month's end minus each mediation's final value (month rows
only), and ``open_pending`` / ``open_overdue``, the final values (1 while a mediation is
still open) counted from the mediation's first month on; ``hist``, the histogram of days
to conclusion (``first:count,count,...``, exact medians).

A change that rewrites history as known now (a reversal of a success, a severance of
claims, a later assignment or window, a conclusion) subtracts the old contribution and
adds the new one. ``rm_policy_days`` keeps, per business date and per month, the policy
version of the latest fact dated on it (the report's ``policy_version``).

A batch sums its changes per county and month in memory (:class:`Agg`), rolls them up to
city, province, quarter and year, and merges them into the stored rows (read, add, write
back; rows back to all zeros are dropped), so incremental maintenance and a rebuild leave
identical tables. ``as_of`` queries do not use these tables: they stay exact over
``rm_facts`` and ``rm_claims`` (see ``projections.caseload_exact``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table

from projections.common import NONE_KEY
from projections.sql import STATS_MEASURES, MediationState

MEASURES = STATS_MEASURES
IDX = {m: i for i, m in enumerate(MEASURES)}

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
) -> tuple[Key, ...]:
    """The (dim, key) rows a fact with these dimensions adds to."""
    return _dim_keys(studio, mediator, route, worker, categories, month_of.year, month_of.month)


@lru_cache(maxsize=1 << 16)  # memoised: a case's facts repeat their dimensions
def _dim_keys(
    studio: str | None,
    mediator: str | None,
    route: str | None,
    worker: str,
    categories: str,
    year: int,
    month: int,
) -> tuple[Key, ...]:
    cats = [c for c in categories.split(",") if c] or [NONE_KEY]
    return (
        ("none", ""),
        ("studio", studio or NONE_KEY),
        ("mediator", mediator or NONE_KEY),
        ("month", f"{year:04d}-{month:02d}"),
        ("route", route or NONE_KEY),
        ("worker", worker),
        *(("category", c) for c in cats),
    )


class Agg:
    """One batch's changes to the counters, summed in memory, written with a few upserts."""

    def __init__(self) -> None:
        # keyed by (month, county, dim, key) (+ days for the histogram)
        self.rows: dict[tuple[date, str, str, str], list[int]] = {}
        self.days: dict[tuple[date, str, str, str, int], int] = defaultdict(int)
        self.policy: dict[date, tuple[int, str]] = {}

    def add(self, on: date, county: str, keys: Iterable[Key], values: dict[str, int]) -> None:
        pairs = [(IDX[m], v) for m, v in values.items() if v]
        if not pairs:
            return
        month = on.replace(day=1)
        rows = self.rows
        width = len(MEASURES)
        for dim, key in keys:
            k = (month, county, dim, key)
            row = rows.get(k)
            if row is None:
                row = rows[k] = [0] * width
            for i, v in pairs:
                row[i] += v

    def add_open(self, on: date, county: str, keys: Iterable[Key], values: dict[str, int]) -> None:
        """An open tail: counts in every month from ``on``'s on (``open_*`` columns)."""
        self.add(on, county, keys, {f"open_{m}": v for m, v in values.items()})

    def size(self) -> int:
        """The changed rows and histogram cells held: the measure of its memory."""
        return len(self.rows) + len(self.days)

    def add_days(self, on: date, county: str, keys: Iterable[Key], days: int, sign: int) -> None:
        month = on.replace(day=1)
        for dim, key in keys:
            self.days[(month, county, dim, key, days)] += sign

    def merge(self, other: Agg) -> None:
        """Add ``other``'s changes (another part of a partitioned rebuild) to these."""
        rows = self.rows
        for k, values in other.rows.items():
            row = rows.get(k)
            if row is None:
                rows[k] = values
                continue
            for i, v in enumerate(values):
                row[i] += v
        days = self.days
        for cell, n in other.days.items():
            days[cell] += n
        for on, (position, version) in other.policy.items():
            self.seen(on, position, version)

    def seen(self, on: date, position: int, policy_version: str) -> None:
        known = self.policy.get(on)
        if known is None or known[0] < position:
            self.policy[on] = (position, policy_version)

    # ------------------------------------------------------------------ write

    def write(self, conn: Connection, stats: Table, policy: Table) -> None:
        """Add this batch's changes to the tables (rolled up to county, city and province).

        Touched rows are read, merged in memory, deleted and written again; rows whose
        figures all come back to zero are not written, so incremental maintenance and a
        clean rebuild leave identical tables.
        """
        write_rolled(conn, stats, self.rolled_up(), fresh=False)
        self.write_policy(conn, policy)

    def stage(self, conn: Connection, staging: Table, policy: Table) -> None:
        """Append these changes, unmerged and not rolled up, to ``staging`` (see
        ``write_staged``); the policy versions are upserted as ``write`` does."""
        width = len(MEASURES)
        rows: list[tuple[Any, ...]] = [
            (month, county, dim, key, -1, *values)
            for (month, county, dim, key), values in self.rows.items()
            if any(values)
        ]
        pad = [0] * (width - 1)
        rows += [
            (month, county, dim, key, days, n, *pad)
            for (month, county, dim, key, days), n in self.days.items()
            if n
        ]
        _insert(conn, staging, rows)
        self.write_policy(conn, policy)

    def rolled_up(self) -> dict[RowKey, Any]:
        """The changes per row key: [measures, {days: n} | None].

        Each county's change also goes to its city and province rows; a month's flows,
        open tails and histogram also go to its quarter's and year's rows (the month-end
        stocks stay monthly). Rolled up step by step (county → city → province, month →
        quarter → year), each step summing the rows of the one before.
        """
        # the batch's own lists are reused: an Agg is written once and then discarded
        county: dict[tuple[str, str, str, date], Any] = {
            (c, dim, key, month): [values, None]
            for (month, c, dim, key), values in self.rows.items()
        }
        width = len(MEASURES)
        for (month, c, dim, key, days), n in self.days.items():
            if not n:
                continue
            k = (c, dim, key, month)
            row = county.get(k)
            if row is None:
                row = county[k] = [[0] * width, None]
            hist = row[1]
            if hist is None:
                row[1] = {days: n}
            else:
                hist[days] = hist.get(days, 0) + n
        city = _roll(county, lambda scope: scope[:4] + "00", width)
        province = _roll(city, lambda scope: scope[:2] + "0000", width)
        rows: dict[RowKey, Any] = {}
        # counties keep their totals only (by county, by city under a county): a county's
        # report by studio, mediator, ... is answered from the facts (a county is small)
        county_totals = {k: row for k, row in county.items() if k[1] == "none"}
        for level, monthly in (("d", county_totals), ("c", city), ("p", province)):
            for (scope, dim, key, month), row in monthly.items():
                rows[(level, scope, dim, key, "m", month)] = row
            quarters = _roll_months(monthly, quarter_of)
            for (scope, dim, key, month), row in quarters.items():
                rows[(level, scope, dim, key, "q", month)] = row
            years = _roll_months(quarters, _year_of)
            for (scope, dim, key, month), row in years.items():
                rows[(level, scope, dim, key, "y", month)] = row
        return rows

    def write_policy(self, conn: Connection, policy: Table) -> None:
        """Upsert the policy version in force per day and month (the latest recorded)."""
        if not self.policy:
            return
        months: dict[date, tuple[int, str]] = {}
        for on, known in self.policy.items():
            month = on.replace(day=1)
            if month not in months or months[month][0] < known[0]:
                months[month] = known
        prows = [("d", on, pos, pv) for on, (pos, pv) in self.policy.items()]
        prows += [("m", on, pos, pv) for on, (pos, pv) in months.items()]
        tail = (
            'ON CONFLICT (grain, "on") DO UPDATE SET position = excluded.position, '
            "policy_version = excluded.policy_version "
            f"WHERE excluded.position > {policy.name}.position"
        )
        columns = 'grain, "on", position, policy_version'
        raw: Any = conn.connection.driver_connection
        if conn.dialect.name != "postgresql":
            sql = f'INSERT INTO "{policy.name}" ({columns}) VALUES (?, ?, ?, ?) {tail}'
            raw.executemany(sql, prows)
            return
        with raw.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{policy.name}" ({columns}) VALUES (%s, %s, %s, %s) {tail}', prows
            )


RowKey = tuple[str, str, str, str, str, date]  # level, scope, dim, key, grain, bucket
STATS_KEYS = ("level", "scope", "dim", "key", "grain", "bucket")


def add_rolled(into: dict[RowKey, Any], rows: dict[RowKey, Any]) -> None:
    """Add rolled-up changes (``Agg.rolled_up``, of another part of a rebuild) to ``into``."""
    for k, (values, hist) in rows.items():
        row = into.get(k)
        if row is None:
            into[k] = [values, hist]
            continue
        mine = row[0]
        for i, v in enumerate(values):
            mine[i] += v
        _add_hist(row, hist)


def write_rolled(conn: Connection, stats: Table, rows: dict[RowKey, Any], *, fresh: bool) -> None:
    """Write rolled-up changes: inserted into an empty table (``fresh``) or added to the
    stored rows; rows whose figures all come to zero are not written."""
    if fresh:
        _insert(conn, stats, [r for k, v in rows.items() if (r := _stats_row(k, v)) is not None])
    else:
        _merge(conn, stats, STATS_KEYS, rows, _merge_stats, _stats_row)


def quarter_of(month: date) -> date:
    return month.replace(month=(month.month - 1) // 3 * 3 + 1)


def _year_of(month: date) -> date:
    return month.replace(month=1)


_Rows = dict[tuple[str, str, str, date], Any]  # (scope, dim, key, month) -> [values, hist]


def _add_hist(row: list[Any], hist: dict[int, int] | None) -> None:
    if not hist:
        return
    into = row[1]
    if into is None:
        row[1] = dict(hist)
        return
    for d, n in hist.items():
        into[d] = into.get(d, 0) + n


def _roll(rows: _Rows, up: Callable[[str], str], width: int) -> _Rows:
    """The same rows summed per enclosing scope."""
    out: _Rows = {}
    for (scope, dim, key, month), (values, hist) in rows.items():
        k = (up(scope), dim, key, month)
        row = out.get(k)
        if row is None:
            out[k] = [list(values), dict(hist) if hist else None]
            continue
        acc = row[0]
        for i in range(width):
            acc[i] += values[i]
        _add_hist(row, hist)
    return out


MONTH_END = (IDX["pending"], IDX["overdue"])  # stocks at a month's end: never summed


def _roll_months(rows: _Rows, up: Callable[[date], date]) -> _Rows:
    """Flows, open tails and histograms summed per enclosing period."""
    out: _Rows = {}
    summed = [i for i in range(len(MEASURES)) if i not in MONTH_END]
    for (scope, dim, key, month), (values, hist) in rows.items():
        if not hist and not any(values[i] for i in summed):
            continue
        k = (scope, dim, key, up(month))
        row = out.get(k)
        if row is None:
            fresh = list(values)
            for i in MONTH_END:
                fresh[i] = 0
            out[k] = [fresh, dict(hist) if hist else None]
            continue
        acc = row[0]
        for i in summed:
            acc[i] += values[i]
        _add_hist(row, hist)
    return out


def encode_hist(hist: dict[int, int] | None) -> str:
    """A histogram as ``first:count,count,...`` (dense from its lowest to its highest day)."""
    if not hist:
        return ""
    lo, hi = min(hist), max(hist)
    if not hist[lo] or not hist[hi]:  # a count back to zero at an end: trim it
        live = [d for d, n in hist.items() if n]
        if not live:
            return ""
        lo, hi = min(live), max(live)
    get = hist.get
    return f"{lo}:" + ",".join([str(get(d, 0)) for d in range(lo, hi + 1)])


def decode_hist(text: str | None) -> dict[int, int]:
    if not text:
        return {}
    first, _, counts = text.partition(":")
    lo = int(first)
    return {lo + i: n for i, n in enumerate(map(int, counts.split(","))) if n}


def _stats_row(k: RowKey, v: Any) -> tuple[Any, ...] | None:
    measures, hist = v
    text = encode_hist(hist)
    if not text and not any(measures):
        return None
    return (*k, *measures, text)


def _merge_stats(change: Any, stored: tuple[Any, ...]) -> Any:
    measures, hist = change
    width = len(MEASURES)
    merged = [a + int(b) for a, b in zip(measures, stored[:width], strict=True)]
    old = decode_hist(stored[width])
    if hist:
        for d, n in hist.items():
            old[d] = old.get(d, 0) + n
    return [merged, old]


CHUNK = 200


def _tuples(n: int, width: int, postgres: bool) -> str:
    """``n`` row-value placeholders for ``width`` key columns (the last, the bucket, a date)."""
    if postgres:
        one = "(" + "%s, " * (width - 1) + "%s::date)"
    else:
        one = "(" + ", ".join("?" * width) + ")"
    return ", ".join([one] * n)


def _merge(
    conn: Connection,
    table: Table,
    key_columns: tuple[str, ...],
    changes: dict[Any, Any],
    merge: Callable[[Any, tuple[Any, ...]], Any],
    to_row: Callable[[Any, Any], tuple[Any, ...] | None],
) -> None:
    """Read the stored rows of the changed keys, add the changes, replace them."""
    if not changes:
        return
    postgres = conn.dialect.name == "postgresql"
    width = len(key_columns)
    keys_sql = ", ".join(key_columns)
    value_columns = ", ".join(c.name for c in table.columns if c.name not in key_columns)
    keys = list(changes)
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            cur.execute(
                f'SELECT {keys_sql}, {value_columns} FROM "{table.name}" '
                f"WHERE ({keys_sql}) IN (VALUES {_tuples(len(chunk), width, postgres)})",
                [v for k in chunk for v in k],
            )
            found: list[Any] = []
            for row in cur.fetchall():
                bucket = row[width - 1]
                if not isinstance(bucket, date):
                    bucket = date.fromisoformat(bucket)
                k = (*row[: width - 1], bucket)
                changes[k] = merge(changes[k], row[width:])
                found.append(k)
            if found:
                cur.execute(
                    f'DELETE FROM "{table.name}" '
                    f"WHERE ({keys_sql}) IN (VALUES {_tuples(len(found), width, postgres)})",
                    [v for k in found for v in k],
                )
    finally:
        cur.close()
    _insert(conn, table, [r for k, v in changes.items() if (r := to_row(k, v)) is not None])


def write_staged(conn: Connection, staging: Table, stats: Table) -> None:
    """Sum the staged changes and write them, rolled up, into an empty ``stats`` table.

    Rolling up never mixes two (dim, key) pairs, so the staged rows are read ordered by
    them and each pair is summed, rolled up and written on its own: memory holds one
    pair's rows (at most every county × month of it), not the whole table.
    """
    width = len(MEASURES)
    postgres = conn.dialect.name == "postgresql"
    raw: Any = conn.connection.driver_connection
    columns = ", ".join(f'"{c.name}"' for c in staging.columns)
    query = f'SELECT {columns} FROM "{staging.name}" ORDER BY dim, key'
    cur = raw.cursor(name="staged") if postgres else raw.cursor()
    if postgres:
        cur.itersize = 20_000
    out: list[tuple[Any, ...]] = []
    group: Agg | None = None
    current: tuple[str, str] | None = None

    def flush() -> None:
        if group is None:
            return
        for k, v in group.rolled_up().items():
            row = _stats_row(k, v)
            if row is not None:
                out.append(row)
        if len(out) >= 20_000:
            _insert(conn, stats, out)
            out.clear()

    try:
        cur.execute(query)
        for stored_month, county, dim, key, days, *values in cur:
            month = (
                date.fromisoformat(stored_month) if isinstance(stored_month, str) else stored_month
            )
            if (dim, key) != current:
                flush()
                group, current = Agg(), (dim, key)
            assert group is not None
            if days < 0:
                row = group.rows.get((month, county, dim, key))
                if row is None:
                    group.rows[(month, county, dim, key)] = [int(v) for v in values]
                else:
                    for i in range(width):
                        row[i] += int(values[i])
            else:
                group.days[(month, county, dim, key, int(days))] += int(values[0])
        flush()
    finally:
        cur.close()
    _insert(conn, stats, out)


def _insert(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """``rows`` (every column, in table order) into ``table``: COPY / one executemany."""
    if not rows:
        return
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in table.columns)
        raw.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)
        return
    with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


# ---------------------------------------------------------------------- received


def received_contribution(
    region: str,
    worker: str,
    received_on: date,
    claims: list[list[Any]],
    applicants: int = 1,
    collective: bool = False,
) -> list[tuple[Key, dict[str, int]]]:
    """What a case's current claims add to ``received`` / ``claimed`` (and presence), and
    its parties to ``workers`` (its applicants) and ``collective`` (issue 17)."""
    if not claims:
        return []
    total = sum(int(c[1]) for c in claims)
    people = {"workers": applicants, "collective": int(collective)}
    whole = {"n": 1, "received": 1, "claimed": total, **people}
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
        out.append((("category", category), {"n": 1, "received": 1, "claimed": amount, **people}))
    return out


def apply_received(
    agg: Agg,
    region: str,
    received_on: date,
    contribution: list[tuple[Key, dict[str, int]]],
    sign: int,
) -> None:
    # keys sharing one set of values (the whole case under every dim) go in one call
    shared: dict[int, tuple[dict[str, int], list[Key]]] = {}
    for key, values in contribution:
        shared.setdefault(id(values), (values, []))[1].append(key)
    for values, keys in shared.values():
        agg.add(received_on, region, keys, {m: sign * v for m, v in values.items()})


# ---------------------------------------------------------------------- pending / overdue


def pending_deltas(ms: MediationState) -> dict[tuple[date, str, str | None], int]:
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
    first_window = ms.get("w0")
    w0 = date.fromisoformat(first_window) if first_window else None
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
    ms: MediationState | None,
    sign: int,
) -> None:
    """Add (sign +1) or remove (-1) one mediation's ``pending``/``overdue`` stock.

    Stored as the stock at each month's last day: on ``rm_stats`` rows, the months from
    the first change to the last one, minus the final value; the final value (1 while a
    mediation is still open, else 0) once, in the ``open_*`` columns of the first
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
            end = next_month(month)
            while i < len(changes) and changes[i][0] < end:
                stock += changes[i][1]
                i += 1
            if stock != final:
                agg.add(month, county, keys, {measure: sign * (stock - final)})
            month = end
        if final:
            agg.add_open(first, county, keys, {measure: sign * final})


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
