"""Read-model tables, the tracking records, and the engine that holds them.

Every read model ("view") owns a few tables. A view's tables can exist twice: the live set
(canonical names) and a set being rebuilt side by side (names ending in ``__next``); a
rebuild swaps the second set in. Money is stored as integer cents and timestamps as naive
UTC so that SQLite and PostgreSQL compare and sum them identically.

Tracking (exactly-once): ``rm_view_state`` holds one row per view with the last position
it has processed; ``rm_tracking`` holds a unique record for every committed batch's last
position. A batch updates its view, compare-and-sets the state row from the position it
started from, and inserts its tracking record, all in one transaction: a crash anywhere
rolls all three back, and a replayed or concurrently processed position is refused.

``insert_many`` writes a batch's new rows in bulk (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import operator
import time
import weakref
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import psycopg
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)

NEXT = "__next"
STATS_MEASURES = (
    "n",
    "received",
    "claimed",
    "workers",  # issue 17: applicants of the received cases
    "collective",  # issue 17: received collective disputes (LDMAL art. 7)
    "entrusted",
    "perf",
    "stmt",
    "failed",
    "agreed",
    "paid",
    "pending",
    "overdue",
    # open tails: a mediation's final stock (1 while still open) from its first month on
    "open_pending",
    "open_overdue",
)

TRACKING = MetaData()

view_state = Table(
    "rm_view_state",
    TRACKING,
    Column("view", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("view", name="pk_rm_view_state"),
)

tracking = Table(
    "rm_tracking",
    TRACKING,
    Column("view", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("view", "position", name="pk_rm_tracking"),
)

# The last poison event of each view, for every process to see (``/readyz`` of an API
# whose worker halted). A record is in force while the view's tracked position is below it.
halt_records = Table(
    "rm_halts",
    TRACKING,
    Column("view", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("error", Text, nullable=False),
    Column("halted_at", DateTime, nullable=False),
    PrimaryKeyConstraint("view", name="pk_rm_halts"),
)


def lock_catalogue(conn: Connection) -> None:
    """Serialise this transaction's CREATE/DROP of read-model tables with other processes'
    (PostgreSQL refuses concurrent catalogue changes to the same names)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('mediation.views'))"))


def utc_naive(moment: datetime) -> datetime:
    """The storage form of a recorded moment: UTC without tzinfo (comparable on both backends)."""
    if moment.tzinfo is None:
        return moment
    if moment.tzinfo is UTC:
        return moment.replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_utc_naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _uuid() -> String:
    return String(36)


def _id(name: str) -> Column[Any]:
    """A required aggregate id (a UUID's canonical text)."""
    return Column(name, _uuid(), nullable=False)


def _at_position(number: str) -> tuple[Column[Any], Column[Any]]:
    """The key of a row an event adds: the event's position and the row's number in it."""
    return Column("position", BigInteger, nullable=False), Column(number, Integer, nullable=False)


def _region() -> Column[Any]:
    """The region code (a county's six digits) a row belongs to."""
    return Column("region_code", String(6), nullable=False)


@cache
def case_tables(suffix: str = "") -> dict[str, Table]:
    """The ``cases`` view: current case state, claims (bitemporal), facts, subsidy entries."""
    md = MetaData()
    s = suffix
    cases = Table(
        f"rm_cases{s}",
        md,
        _id("case_id"),
        _region(),
        Column("received_on", Date, nullable=False),
        Column("received_at", DateTime, nullable=False),
        Column("worker_category", String(32), nullable=False),  # the first applicant's
        Column("claims", Text, nullable=False),  # JSON [[category, cents], ...]
        # issue 17: every party, as a JSON list of dicts (see docs/read-models.md):
        # {"role": "applicant"|"respondent", ...the fields as the event stores them}
        Column("parties", Text, nullable=False),
        Column("applicants", Integer, nullable=False),
        Column("collective", Boolean, nullable=False),
        Column("categories", String(255), nullable=False),  # comma-separated, sorted
        Column("status", String(24), nullable=False),
        Column("status_since", Date, nullable=False),
        Column("route", String(16)),
        Column("studio_id", _uuid()),
        Column("mediator_id", _uuid()),
        Column("mediation", Integer, nullable=False),
        Column("entrusted_on", Date),
        Column("window_ends_on", Date),
        Column("acceptance_due_on", Date),
        Column("award_due_on", Date),
        Column("performance_due_on", Date),
        Column("review_due_on", Date),
        Column("review_applied", Boolean, nullable=False),
        Column("sessions", Integer, nullable=False),
        Column("success_branch", String(16)),
        Column("success_subsidy_cents", BigInteger, nullable=False),
        Column("severed_from", _uuid()),
        Column("version", Integer, nullable=False),
        Column("sort_due", Date, nullable=False),  # earliest open deadline; 9999-12-31 if none
        Column("updated_at", DateTime, nullable=False),
        Column("m_state", Text),  # JSON: a MediationState (below), or null
        PrimaryKeyConstraint("case_id", name=f"pk_rm_cases{s}"),
        Index(f"ix_rm_cases_region{s}", "region_code", "received_on"),
        Index(f"ix_rm_cases_mediator{s}", "mediator_id", "sort_due"),
        Index(f"ix_rm_cases_status{s}", "status", "sort_due"),
        # newest received first across a province (lists, the dashboard's overdue cases):
        # without it, a top-N sort of every matching case (31 ms at 10^6 events)
        Index(f"ix_rm_cases_received{s}", "received_on", "case_id"),
    )
    claims = Table(
        f"rm_claims{s}",
        md,
        *_at_position("idx"),
        _id("case_id"),
        Column("category", String(40), nullable=False),
        Column("amount_cents", BigInteger, nullable=False),
        _region(),
        Column("worker_category", String(32), nullable=False),
        Column("received_on", Date, nullable=False),
        Column("recorded_from", DateTime, nullable=False),
        Column("recorded_to", DateTime),  # set when the claim is severed away
        Column("policy_version", String(40), nullable=False),
        # issue 17: its case's applicants and whether it is collective (``workers``,
        # ``collective``: counted once per case, like ``received``)
        Column("applicants", Integer, nullable=False),
        Column("collective", Boolean, nullable=False),
        PrimaryKeyConstraint("position", "idx", name=f"pk_rm_claims{s}"),
        Index(f"ix_rm_claims_region{s}", "region_code", "received_on"),
        Index(f"ix_rm_claims_case{s}", "case_id"),
    )
    facts = Table(
        f"rm_facts{s}",
        md,
        *_at_position("seq"),
        _id("case_id"),
        Column("mediation", Integer, nullable=False),
        # entrusted | succeeded | reversed | failed | agreed | paid | window | assigned
        Column("kind", String(16), nullable=False),
        Column("branch", String(16)),
        Column("on", Date, nullable=False),
        Column("recorded_at", DateTime, nullable=False),
        _region(),
        Column("studio_id", _uuid()),
        Column("mediator_id", _uuid()),
        Column("route", String(16)),
        Column("worker_category", String(32), nullable=False),
        Column("categories", String(255), nullable=False),  # comma-separated, sorted
        Column("amount_cents", BigInteger, nullable=False),
        Column("started_on", Date),  # the mediation's entrustment date
        Column("window_ends_on", Date),
        Column("days", Integer),  # conclusions: days from entrustment
        # on the `entrusted` row: the mediation's conclusion as known now (narrows `pending`)
        Column("closed_on", Date),
        Column("closed_at", DateTime),
        # on the `succeeded` row: when its reversal was recorded
        Column("reversed_at", DateTime),
        # on the `failed` row: its reason code (mediation.values.FailureReason; v1 events: other)
        Column("reason_code", String(32)),
        Column("policy_version", String(40), nullable=False),
        PrimaryKeyConstraint("position", "seq", name=f"pk_rm_facts{s}"),
        Index(f"ix_rm_facts_region{s}", "region_code", "on"),
        Index(f"ix_rm_facts_case{s}", "case_id", "mediation"),
        Index(f"ix_rm_facts_open{s}", "kind", "closed_on"),
    )
    subsidies = Table(
        f"rm_subsidies{s}",
        md,
        *_at_position("seq"),
        Column("month", String(7), nullable=False),  # month of recording, Asia/Shanghai
        Column("recorded_at", DateTime, nullable=False),
        Column("on", Date, nullable=False),
        _id("case_id"),
        Column("mediation", Integer, nullable=False),
        _region(),
        Column("studio_id", _uuid()),
        Column("mediator_id", _uuid()),
        # succeeded | failed | reversal | awaiting (a success awaiting verification: not paid)
        Column("outcome", String(16), nullable=False),
        Column("amount_cents", BigInteger, nullable=False),
        Column("compensating", Boolean, nullable=False),
        Column("policy_version", String(40), nullable=False),
        PrimaryKeyConstraint("position", "seq", name=f"pk_rm_subsidies{s}"),
        Index(f"ix_rm_subsidies_month{s}", "month", "region_code"),
    )

    def key_columns() -> list[Column[Any]]:
        return [
            # d = county (scope = its code), c = city (scope = the county's first four
            # digits + 00), p = province (first two digits + 0000): one row per level, so a
            # report reads the rows of its own level and never sums counties in the query
            Column("level", String(1), nullable=False),
            Column("scope", String(6), nullable=False),
            Column("dim", String(8), nullable=False),
            Column("key", String(40), nullable=False),
            # m = the calendar month starting on `bucket`; q = the quarter, y = the year
            # (flows and histograms only): a half-year report reads two rows per key
            Column("grain", String(1), nullable=False),
            Column("bucket", Date, nullable=False),
        ]

    stats = Table(
        f"rm_stats{s}",
        md,
        *key_columns(),
        *[Column(m, BigInteger, nullable=False, server_default="0") for m in STATS_MEASURES],
        # days to conclusion as a dense histogram "first:count,count,..." ("" when empty)
        Column("hist", Text, nullable=False, server_default=""),
        PrimaryKeyConstraint(
            "level", "dim", "grain", "bucket", "scope", "key", name=f"pk_rm_stats{s}"
        ),
    )
    policy_days = Table(
        f"rm_policy_days{s}",
        md,
        Column("grain", String(1), nullable=False),  # d: `on` is a day; m: a month's first
        Column("on", Date, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("policy_version", String(40), nullable=False),
        PrimaryKeyConstraint("grain", "on", name=f"pk_rm_policy_days{s}"),
    )
    return {
        "cases": cases,
        "claims": claims,
        "facts": facts,
        "subsidies": subsidies,
        "stats": stats,
        "policy_days": policy_days,
    }


# tables of older layouts, dropped when a rebuilt view is swapped in
OBSOLETE_CASE_TABLES = ("rm_stats_days", "rm_stats_open")

# ``rm_cases.m_state``: a case's current mediation as the caseload counters need it (its
# pending and overdue stock, ``counters.apply_pending``). Stored as compact JSON with these
# keys in this order: they are the stored encoding, so renaming one needs a rebuild.
MediationState = TypedDict(
    "MediationState",
    {
        "n": int,  # the mediation's number (``rm_cases.mediation``)
        "e": str,  # entrusted on (ISO date)
        "w0": str | None,  # the window end set at entrustment (ISO date)
        # [county, studio, route, worker category, claim categories] at entrustment
        "dims": list[Any],
        "as": list[list[Any]],  # assignments: [ISO date, position, seq, mediator id]
        "ws": list[list[Any]],  # window extensions: [ISO date, position, seq, ISO end or null]
        "cs": list[str],  # dates of its conclusions: failures and unreversed successes
        # its unreversed success: [ISO date, branch, days, county, studio, mediator, route,
        # worker category, claim categories], to take back from the counters if reversed
        "succ": list[Any] | None,
    },
)


@cache
def stats_stage_table(suffix: str) -> Table:
    """A rebuild's counter changes, appended unmerged when its carried counters grow large
    (``CasesView``); summed, rolled up and written into ``rm_stats`` at the end of the load,
    then dropped. Not part of the view: never swapped in, never read by queries.
    ``days`` is -1 on a row of measures, else a histogram row (its count in the first
    measure)."""
    return Table(
        f"rm_stats_stage{suffix}",
        MetaData(),
        Column("month", Date, nullable=False),
        Column("county", String(6), nullable=False),
        Column("dim", String(8), nullable=False),
        Column("key", String(40), nullable=False),
        Column("days", Integer, nullable=False),
        *[Column(m, BigInteger, nullable=False) for m in STATS_MEASURES],
    )


@cache
def organisation_tables(suffix: str = "") -> dict[str, Table]:
    """The ``organisation`` view: studios and their mediators."""
    md = MetaData()
    s = suffix
    studios = Table(
        f"rm_studios{s}",
        md,
        _id("studio_id"),
        Column("name", String(200), nullable=False),
        _region(),
        Column("kind", String(32), nullable=False),
        Column("established_on", Date, nullable=False),
        Column("closed_on", Date),
        Column("mediator_quota", Integer, nullable=False),
        Column("registered_at", DateTime, nullable=False),
        PrimaryKeyConstraint("studio_id", name=f"pk_rm_studios{s}"),
        Index(f"ix_rm_studios_region{s}", "region_code"),
    )
    mediators = Table(
        f"rm_mediators{s}",
        md,
        _id("mediator_id"),
        _id("studio_id"),
        Column("name", String(100), nullable=False),
        Column("qualification", String(32), nullable=False),
        Column("appointed_on", Date, nullable=False),
        Column("retired_on", Date),
        PrimaryKeyConstraint("mediator_id", name=f"pk_rm_mediators{s}"),
        Index(f"ix_rm_mediators_studio{s}", "studio_id"),
    )
    return {"studios": studios, "mediators": mediators}


# ---------------------------------------------------------------------- engines


def engine_url(database_url: str) -> tuple[str, str | None]:
    """SQLAlchemy URL for a ``MEDIATION_DATABASE_URL``, and the PostgreSQL schema if any."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        return database_url, None
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = dict(parse_qsl(url.query))
        schema = query.pop("schema", None)
        rebuilt = url._replace(scheme="postgresql+psycopg", query=urlencode(query))
        return urlunparse(rebuilt), schema
    raise ValueError(f"unsupported database URL scheme {url.scheme!r}")


PING_BYPASS_S = 0.5  # a pooled PostgreSQL connection used this recently is not pinged


def make_engine(database_url: str) -> Engine:
    """An engine for the read models; a ``?schema=X`` PostgreSQL URL uses that schema only."""
    sa_url, schema = engine_url(database_url)
    if sa_url.startswith("sqlite"):
        engine = create_engine(sa_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Read models are rebuildable and each batch commits with its tracking record,
            # so a power loss may only roll back their last batches, which catch-up then
            # re-applies: they need atomicity, not per-commit fsync. The event store's own
            # connections keep the library's (durable) setting.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args: dict[str, object] = {"connect_timeout": 5}
    # As for SQLite above: read-model commits need not wait for the WAL flush; a server
    # crash can only lose whole batches together with their tracking records.
    options = ["-csynchronous_commit=off"]
    if schema:
        options.append(f"-csearch_path={schema}")
    connect_args["options"] = " ".join(options)
    # LIFO: the connection given back last is taken first, so sequential reads keep using
    # one warm connection: its prepared statements are past PostgreSQL's five custom
    # plans (a generic plan is then reused: 0.25 ms against 0.6-1.0 ms for the caseload
    # statement), and it is inside the ping bypass. FIFO rotated reads over every pooled
    # connection, each planning anew (docs/performance.md, "stats_vs_naive: what varies").
    engine = create_engine(
        sa_url, connect_args=connect_args, pool_pre_ping=True, pool_size=5, pool_use_lifo=True
    )
    default_ping = engine.dialect.do_ping
    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, _record: object) -> None:
        if dbapi_connection is not None:
            returned[dbapi_connection] = time.monotonic()

    def ping(dbapi_connection: Any) -> bool:
        """The pool's pre-ping in one round trip, leaving no transaction open — or none
        for a connection given back less than ``PING_BYPASS_S`` ago.

        The default ping runs ``SELECT 1`` inside a transaction (``BEGIN`` first, its
        ``ROLLBACK`` when the connection returns to the pool, which also drops the
        driver's prepared statements). A single read statement can then run in autocommit
        (``projections.caseload_counters``), one round trip in all. A connection that was
        working half a second ago is taken as alive without asking (HikariCP's
        ``aliveBypassWindowMs``, same default): a ping is a round trip, a tenth of a
        statistics query here. Should the server have gone in that half second, the
        statement itself fails as a disconnect: SQLAlchemy then invalidates the pool and
        the API answers 503 with ``Retry-After``, as it does for an outage caught by a ping.
        """
        seen = returned.get(dbapi_connection)
        if seen is not None and time.monotonic() - seen < PING_BYPASS_S:
            return not dbapi_connection.closed
        if not isinstance(dbapi_connection, psycopg.Connection) or (
            dbapi_connection.autocommit
            or dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        ):
            return default_ping(dbapi_connection)
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SELECT 1")
        finally:
            if not dbapi_connection.closed:
                dbapi_connection.autocommit = False
        return True

    setattr(engine.dialect, "do_ping", ping)  # noqa: B010 (per engine, not per class)
    return engine


# ---------------------------------------------------------------------- bulk writes


def _sqlite_stamp(v: Any) -> Any:
    """A datetime in the storage format SQLAlchemy's SQLite DateTime reads and writes."""
    if not isinstance(v, datetime):
        return v
    stamp = v.isoformat(" ")
    return stamp if v.microsecond else stamp + ".000000"


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write new rows on the caller's connection, inside its transaction: ``COPY`` on
    PostgreSQL, one raw executemany on SQLite."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    values = operator.itemgetter(*columns)
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(values(row))
        return
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    stamps = [i for i, c in enumerate(table.columns) if isinstance(c.type, DateTime)]
    if not stamps:
        raw.executemany(sql, map(values, rows))
        return
    lines = []
    for row in rows:
        line = list(values(row))
        for i in stamps:
            if line[i] is not None:
                line[i] = _sqlite_stamp(line[i])
        lines.append(line)
    raw.executemany(sql, lines)
