"""The access audit table: one row per answered read, in the event store's database.

``access_audit`` is separate from the event tables (a read is not a fact about a case) and
append-only: ``UPDATE`` and ``DELETE`` (and, on PostgreSQL, ``TRUNCATE``) are refused by
triggers created with the table. Each row says who read (username, role, client address),
when (``at``, and ``day``, the Asia/Shanghai calendar day the reports group by), what
(``action``, the route, the case id or the query) and under which region it is filed (the
case's region, or the region a list query was scoped to), so that an auditor sees exactly
the records of their jurisdiction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

log = logging.getLogger("api.audit")

TABLE = "access_audit"
REFUSAL = "the access audit is append-only"
CHINA = ZoneInfo("Asia/Shanghai")
QUERY_MAX = 1000


@dataclass(frozen=True)
class AccessRecord:
    """One answered read, as written."""

    at: datetime  # aware
    username: str
    role: str
    region_code: str
    client: str
    action: str
    route: str
    case_id: str | None = None
    query: str | None = None
    request_id: str = "-"

    @property
    def day(self) -> date:
        return self.at.astimezone(CHINA).date()


@dataclass(frozen=True)
class StoredAccess:
    id: int
    record: AccessRecord


@dataclass(frozen=True)
class AccessFilter:
    """What the auditor asks for; ``region_prefix`` is their jurisdiction (or a part of it)."""

    region_prefix: str
    case_id: str | None = None
    username: str | None = None
    from_: date | None = None
    to: date | None = None


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        metadata,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("query", sa.String(QUERY_MAX), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Index(f"ix_{TABLE}_region_id", "region_code", "id"),
        sa.Index(f"ix_{TABLE}_case", "case_id"),
        sa.Index(f"ix_{TABLE}_day_user", "day", "username"),
    )


def sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def postgres_triggers(schema: str | None) -> list[str]:
    q = f'"{schema}".' if schema else ""
    function = f"{q}{TABLE}_refuse_change"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $BODY$ "
        f"BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END; $BODY$",
        f"CREATE OR REPLACE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {q}{TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {q}{TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


class AccessAuditStore:
    """Writes and reads ``access_audit`` through an engine it is given (the users store's)."""

    def __init__(self, engine: sa.Engine, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.table = _table(sa.MetaData(schema=schema))
        self._ready = False

    # ------------------------------------------------------------------ set-up

    def ensure_table(self) -> None:
        """Create the table and its triggers if missing (idempotent, safe to race)."""
        if self._ready:
            return
        self.table.metadata.create_all(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                for statement in sqlite_triggers():
                    conn.execute(sa.text(statement))
            elif not self._postgres_triggers_present(conn):
                # serialise concurrent first starts: CREATE OR REPLACE FUNCTION may race
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": TABLE})
                if not self._postgres_triggers_present(conn):
                    for statement in postgres_triggers(self.schema):
                        conn.execute(sa.text(statement))
        self._ready = True

    def _postgres_triggers_present(self, conn: sa.Connection) -> bool:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :table AND n.nspname = coalesce(:schema, current_schema()) "
                "AND t.tgname IN (:row, :truncate)"
            ),
            {
                "table": TABLE,
                "schema": self.schema,
                "row": f"{TABLE}_append_only",
                "truncate": f"{TABLE}_no_truncate",
            },
        ).scalar_one()
        return int(found) == 2

    # ------------------------------------------------------------------ writing

    def append(self, record: AccessRecord) -> None:
        """One INSERT, committed before the caller goes on. (A group commit of concurrent
        callers' records was built and measured: no change in reads per second on two
        vCPUs, where the request's CPU, not the commit, is the limit — docs/performance.md.)"""
        self.ensure_table()
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(**_row(record)))

    # ------------------------------------------------------------------ reading

    def _where(self, f: AccessFilter) -> list[sa.ColumnElement[bool]]:
        c = self.table.c
        out: list[sa.ColumnElement[bool]] = [c.region_code.startswith(f.region_prefix)]
        if f.case_id is not None:
            out.append(c.case_id == f.case_id)
        if f.username is not None:
            out.append(c.username == f.username)
        if f.from_ is not None:
            out.append(c.day >= f.from_)
        if f.to is not None:
            out.append(c.day <= f.to)
        return out

    def page(
        self, f: AccessFilter, *, limit: int, before: int | None = None
    ) -> tuple[list[StoredAccess], int | None]:
        """Newest first; ``before`` is the id the previous page ended at. Returns the rows
        and the id to continue before (None on the last page)."""
        self.ensure_table()
        c = self.table.c
        where = self._where(f)
        if before is not None:
            where.append(c.id < before)
        query = sa.select(self.table).where(*where).order_by(c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        items = [_stored(r) for r in rows[:limit]]
        more = len(rows) > limit
        return items, (items[-1].id if more and items else None)

    def daily_cases(
        self, region_prefix: str, first: date, last: date
    ) -> list[tuple[str, date, int]]:
        """(username, day, distinct cases read) for each day in [first, last] with reads."""
        self.ensure_table()
        c = self.table.c
        query = (
            sa.select(c.username, c.day, sa.func.count(sa.distinct(c.case_id)))
            .where(
                c.region_code.startswith(region_prefix),
                c.day >= first,
                c.day <= last,
                c.case_id.is_not(None),
            )
            .group_by(c.username, c.day)
        )
        with self.engine.connect() as conn:
            return [(str(u), _day(d), int(n)) for u, d, n in conn.execute(query).all()]

    def day_rows(self, region_prefix: str, day: date) -> list[AccessRecord]:
        """Every record of one calendar day in the region, oldest first."""
        self.ensure_table()
        c = self.table.c
        query = (
            sa.select(self.table)
            .where(c.region_code.startswith(region_prefix), c.day == day)
            .order_by(c.id)
        )
        with self.engine.connect() as conn:
            return [_stored(r).record for r in conn.execute(query).mappings().all()]


def _row(record: AccessRecord) -> dict[str, Any]:
    return {
        "at": record.at.astimezone(UTC),
        "day": record.day,
        "username": record.username[:64],
        "role": record.role[:16],
        "region_code": record.region_code,
        "client": record.client[:64],
        "action": record.action,
        "route": record.route[:200],
        "case_id": record.case_id,
        "query": record.query[:QUERY_MAX] if record.query is not None else None,
        "request_id": record.request_id[:64],
    }


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored one is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stored(row: sa.RowMapping) -> StoredAccess:
    return StoredAccess(
        id=int(row["id"]),
        record=AccessRecord(
            at=_utc(row["at"]),
            username=str(row["username"]),
            role=str(row["role"]),
            region_code=str(row["region_code"]),
            client=str(row["client"]),
            action=str(row["action"]),
            route=str(row["route"]),
            case_id=row["case_id"],
            query=row["query"],
            request_id=str(row["request_id"]),
        ),
    )
