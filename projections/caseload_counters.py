"""Caseload figures as known now for whole months, read from the counters (``rm_stats``,
written by ``projections.counters``) in one statement."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

import psycopg

from mediation.policy import DEFAULT_POLICY_VERSION
from projections.counters import next_month
from projections.figures import Figures
from projections.sql import case_tables

# the counters' dim that serves each group_by
DIM = {
    "city": "none",
    "county": "none",
    "studio": "studio",
    "mediator": "mediator",
    "month": "month",
    "claim_category": "category",
    "route": "route",
    "worker_category": "worker",
}


def answers(prefix: str, group_by: str, from_: date, to: date) -> bool:
    """True when the counters hold this report: whole months, and county rows keep
    their totals only (by city or by county under a county)."""
    if group_by not in DIM:
        return False  # no counters by failure reason: the exact path answers
    whole_months = from_.day == 1 and (to + timedelta(days=1)).day == 1
    return whole_months and (len(prefix) < 6 or DIM[group_by] == "none")


def level_of(prefix: str) -> tuple[str, str]:
    """The level and scope whose rows hold exactly the region ``prefix`` (2, 4 or 6 digits)."""
    return {2: "p", 4: "c", 6: "d"}[len(prefix)], (prefix + "0000")[:6]


_FLOW_COLUMNS = (
    "n, received, claimed, entrusted, perf, stmt, failed, agreed, paid, workers, collective"
)
_ZERO_FLOWS = "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0"


def _pieces(from_: date, to: date) -> list[tuple[str, date]]:
    """Whole months [from_, to] as the fewest (grain, first day) rows: years, quarters, months."""
    out: list[tuple[str, date]] = []
    m = from_
    while m <= to:
        year_end = date(m.year, 12, 31)
        quarter_end = next_month(next_month(next_month(m))) - timedelta(days=1)
        if m.month == 1 and year_end <= to:
            out.append(("y", m))
            m = date(m.year + 1, 1, 1)
        elif m.month % 3 == 1 and quarter_end <= to:
            out.append(("q", m))
            m = quarter_end + timedelta(days=1)
        else:
            out.append(("m", m))
            m = next_month(m)
    return out


@cache
def _counters_sql(postgres: bool, grouped_by_scope: bool, pieces: int) -> str:
    """The whole counters query, one statement (one round trip), every part tagged.

    ``g``/``t``: the flow rows of the report's keys / of its total, one per piece of the
    period (year, quarter or month; their histograms are merged in Python); ``s``/``S``:
    the stock at ``to`` per key / in total — the month-end stock of ``to``'s month plus
    every open tail started by then (the year rows of the years before, the month rows of
    ``to``'s year up to its month); ``v``: the policy version of the latest fact dated up
    to ``to``. Each branch fixes (level, dim, grain) and bounds the bucket, so it is one
    range of the key index (``pk_rm_stats``: level, dim, grain, bucket, scope, key); an OR
    of grains made PostgreSQL read every grain's rows of the level and filter them.

    Parameters, in order (built by ``read``): per piece, the keys and the piece
    (``g``), then per piece the total's keys and the piece (``t``); the month-end month,
    then the keys with the years' bound and with the months' bounds (``s``); the same with
    the total's keys (``S``); the month for ``v``.
    """
    t = case_tables()
    st, pd = t["stats"].name, t["policy_days"].name
    m = "%s" if postgres else "?"
    bigint = "BIGINT" if postgres else "INTEGER"
    if grouped_by_scope:  # city / county: every scope of the level inside the prefix
        keys = f"level = {m} AND dim = {m} AND scope >= {m} AND scope < {m}"
    else:  # one scope, the report's dim
        keys = f"level = {m} AND dim = {m} AND scope = {m} AND scope = {m}"
    total = f"level = {m} AND dim = 'none' AND scope = {m}"

    def flows(tag: str, where: str) -> str:
        one = (
            f"SELECT '{tag}', scope, key, {_FLOW_COLUMNS}, 0, 0, hist FROM {st} "
            f"WHERE {where} AND grain = {m} AND bucket = {m}"
        )
        return " UNION ALL ".join([one] * pieces)

    def stock(tag: str, where: str) -> str:
        sums = ", ".join(
            f"CAST(SUM(CASE WHEN grain = 'm' AND bucket = {m} THEN {c} ELSE 0 END) "
            f"+ SUM(open_{c}) AS {bigint})"
            for c in ("pending", "overdue")
        )
        columns = "scope, key, grain, bucket, pending, overdue, open_pending, open_overdue"
        tails = (
            f"SELECT {columns} FROM {st} WHERE {where} AND grain = 'y' AND bucket < {m} "
            f"UNION ALL SELECT {columns} FROM {st} "
            f"WHERE {where} AND grain = 'm' AND bucket >= {m} AND bucket <= {m}"
        )
        return (
            f"SELECT '{tag}', scope, key, {_ZERO_FLOWS}, {sums}, '' FROM ({tails}) {tag}x "
            "GROUP BY scope, key"
        )

    policy = (
        f"SELECT 'v', policy_version, '', {_ZERO_FLOWS}, 0, 0, '' FROM ("
        f"SELECT policy_version FROM {pd} WHERE grain = 'm' AND \"on\" <= {m} "
        "ORDER BY position DESC LIMIT 1) pv"
    )
    return " UNION ALL ".join(
        (flows("g", keys), flows("t", total), stock("s", keys), stock("S", total), policy)
    )


def _read_once(raw: Any, postgres: bool, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Every row of one read statement (a snapshot of its own), on the driver connection.

    On PostgreSQL a connection outside a transaction runs it in autocommit: one round trip,
    no ``BEGIN``/``ROLLBACK``, and the driver keeps the statement prepared across calls.
    """
    idle = (
        postgres
        and not raw.autocommit
        and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    )
    if idle:
        raw.autocommit = True
    cur = raw.cursor()
    try:
        if postgres:  # prepared on its first use on a connection, not its fifth
            cur.execute(sql, params, prepare=True)
        else:
            cur.execute(sql, params)
        rows: list[Any] = cur.fetchall()
        return rows
    finally:
        cur.close()
        if idle and not raw.closed:
            raw.autocommit = False


def read(
    conn: Any, group_by: str, prefix: str, from_: date, to: date
) -> tuple[dict[str, Figures], Figures, str]:
    """Figures "as known now" for whole months: (per key, total, policy version).

    The rows of the report's own level: by city under a province, a dozen city rows per
    piece of the period (a half-year is two quarters); flows sum the pieces, ``pending``
    and ``overdue`` are the stock at ``to``, the median comes from the merged histograms.
    """
    level, scope = level_of(prefix)
    upper = str(int(prefix) + 1).zfill(len(prefix))
    by_scope = group_by in ("city", "county")
    if group_by == "city":
        keys: tuple[Any, ...] = ("c" if len(prefix) <= 4 else "d", "none", prefix, upper)
    elif group_by == "county":
        keys = ("d", "none", prefix, upper)
    else:
        keys = (level, DIM[group_by], scope, scope)
    total_keys = (level, scope)
    last_month = to.replace(day=1)
    pieces = _pieces(from_, to)
    this_year = date(to.year, 1, 1)
    # the parameters in the order of the SQL (``_counters_sql``)
    month_end = (last_month, last_month)  # pending, overdue
    params = (
        *[v for piece in pieces for v in (*keys, *piece)],
        *[v for piece in pieces for v in (*total_keys, *piece)],
        *month_end, *keys, this_year, *keys, this_year, last_month,
        *month_end, *total_keys, this_year, *total_keys, this_year, last_month,
        last_month,
    )  # fmt: skip
    raw: Any = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    if not postgres:  # dates as SQLAlchemy stores them on SQLite
        params = tuple(v.isoformat() if isinstance(v, date) else v for v in params)
    result = _read_once(raw, postgres, _counters_sql(postgres, by_scope, len(pieces)), params)
    figs: dict[str, Figures] = {}
    total = Figures()
    present: set[str] = set()
    presence: dict[str, int] = {}  # per key, the contributions that make it appear
    policy_version = DEFAULT_POLICY_VERSION
    city = group_by == "city"
    for row in result:
        part, row_scope, key, n, rec, cla, ent, perf, stmt, fail, agr, paid, wrk, col = row[:14]
        pen, ovd, hist = row[14:]
        if part == "v":
            policy_version = row_scope
            continue
        if part in ("t", "S"):
            fig = total
        else:
            k = (row_scope[:4] + "00" if city else row_scope) if by_scope else key
            fig = figs.get(k) or figs.setdefault(k, Figures())
            if part == "g":
                presence[k] = presence.get(k, 0) + n
            elif pen or ovd:
                present.add(k)
        if part in ("g", "t"):
            fig.received += rec
            fig.claimed += cla
            fig.entrusted += ent
            fig.by_performance += perf
            fig.by_statement += stmt
            fig.failed += fail
            fig.agreed += agr
            fig.paid += paid
            fig.workers += wrk
            fig.collective += col
            if hist:
                fig.add_hist(hist)
        else:
            fig.pending += pen
            fig.overdue += ovd
    present.update(k for k, n in presence.items() if n > 0)
    return {k: figs[k] for k in present}, total, policy_version
