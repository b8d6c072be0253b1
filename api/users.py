"""Accounts: the ``users`` table, its change history and the login record.

The tables live in the event store's database (for a PostgreSQL URL with ``?schema=NAME``, in
that schema) and are created and upgraded by Alembic on first use (:mod:`api.migrate`; a
``users`` table of the first release is upgraded in place). Why a table and not an
event-sourced aggregate: ``docs/adr/0008-accounts-table-with-alembic.md``.

- Passwords are hashed with Argon2id and must follow :func:`api.passwords.check_password`.
- Every change to an account (created, role / region / studio / mediator changed, password
  changed, disabled, enabled, logged out) writes a row to the append-only
  ``account_changes`` table in the same transaction, naming who did it and when, and raises
  the account's ``credential_version``: every token carries the version it was issued
  under, and a token with any other version is refused (:class:`api.security.TokenReader`).
  Versions continue from the account's history, so a user deleted and re-created under the
  same name never gets an old token's version back.
- Every login attempt is written to ``login_attempts`` (username, client, outcome).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse
from uuid import UUID

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api import migrate
from api.passwords import HASHER, WeakPassword, check_password
from mediation.regions import is_valid_region_code
from mediation.values import Role

LOGIN_ROLES = (Role.ADMIN, Role.CLERK, Role.MEDIATOR, Role.COORDINATOR, Role.AUDITOR)


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    region_code: str
    studio_id: UUID | None = None
    mediator_id: UUID | None = None
    credential_version: int = 0  # the account's version when the token was issued


@dataclass(frozen=True)
class Account:
    user: User
    disabled: bool
    display_name: str = ""  # the person's name (issue 12); "" when none was given

    @property
    def shown_name(self) -> str:
        return self.display_name or self.user.username


@dataclass(frozen=True)
class AccountChange:
    at: datetime
    username: str
    change: str
    actor: str
    credential_version: int
    detail: dict[str, Any]


@dataclass(frozen=True)
class LoginAttempt:
    at: datetime
    username: str
    client: str
    outcome: str
    reason: str


class UserError(ValueError):
    code = "invalid_user"


class WeakPasswordError(UserError):
    code = "weak_password"


class NoSuchUser(UserError):
    code = "not_found"


def sqlalchemy_url(database_url: str) -> tuple[str, str | None]:
    """The SQLAlchemy URL for ``MEDIATION_DATABASE_URL`` and the PostgreSQL schema, if any."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        return database_url, None
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = dict(parse_qsl(url.query))
        schema = query.pop("schema", None)
        rebuilt = url._replace(scheme="postgresql+psycopg", query=urlencode(query))
        return urlunparse(rebuilt), schema
    raise UserError(f"unsupported database URL scheme {url.scheme!r}")


def make_engine(database_url: str) -> tuple[sa.Engine, str | None]:
    url, schema = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
    else:
        engine = sa.create_engine(
            url, pool_pre_ping=True, pool_size=5, connect_args={"connect_timeout": 5}
        )
    return engine, schema


def _now() -> datetime:
    return datetime.now(UTC)


class UserStore:
    def __init__(self, database_url: str, hasher: PasswordHasher | None = None) -> None:
        self.engine, self.schema = make_engine(database_url)
        self.hasher = hasher or HASHER
        self._dummy: str | None = None
        self.metadata = sa.MetaData(schema=self.schema)
        self.table = sa.Table(
            "users",
            self.metadata,
            sa.Column("username", sa.String(64), primary_key=True),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("region_code", sa.String(6), nullable=False),
            sa.Column("studio_id", sa.String(36), nullable=True),
            sa.Column("mediator_id", sa.String(36), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("credential_version", sa.Integer(), nullable=False),
            sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("display_name", sa.String(64), nullable=False, server_default=""),
        )
        self.changes = sa.Table(
            "account_changes",
            self.metadata,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("username", sa.String(64), nullable=False),
            sa.Column("change", sa.String(32), nullable=False),
            sa.Column("actor", sa.String(128), nullable=False),
            sa.Column("credential_version", sa.Integer(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
        )
        self.logins = sa.Table(
            "login_attempts",
            self.metadata,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("username", sa.String(64), nullable=False),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("reason", sa.String(32), nullable=False),
        )
        self._ready = False

    def ensure_table(self) -> None:
        """Create or upgrade the account tables (Alembic); once per store object."""
        if not self._ready:
            migrate.upgrade(self.engine, self.schema)
            self._ready = True

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # ------------------------------------------------------------------ changes

    def add(
        self,
        username: str,
        password: str,
        *,
        role: str,
        region_code: str,
        studio_id: UUID | None = None,
        mediator_id: UUID | None = None,
        replace: bool = False,
        actor: str = "system",
        display_name: str = "",
    ) -> User:
        """Create an account, or with ``replace`` change an existing one (all recorded)."""
        username = username.strip()
        display_name = display_name.strip()
        if len(display_name) > 64 or not display_name.isprintable():
            raise UserError("a display name is at most 64 printable characters")
        if not (1 <= len(username) <= 64) or not username.isprintable() or " " in username:
            raise UserError("a username is 1 to 64 printable characters without spaces")
        try:
            parsed_role = Role(role)
        except ValueError:
            raise UserError(f"role must be one of {[r.value for r in LOGIN_ROLES]}") from None
        if parsed_role not in LOGIN_ROLES:
            raise UserError(f"role must be one of {[r.value for r in LOGIN_ROLES]}")
        if not is_valid_region_code(region_code):
            raise UserError(f"unknown region code {region_code!r}")
        if parsed_role is Role.MEDIATOR and mediator_id is None:
            raise UserError("a mediator user needs --mediator MEDIATOR_ID")
        _check(username, password)
        self.ensure_table()
        now = _now()
        values = {
            "role": parsed_role.value,
            "region_code": region_code,
            "studio_id": str(studio_id) if studio_id else None,
            "mediator_id": str(mediator_id) if mediator_id else None,
        }
        password_hash = self.hasher.hash(password)
        with self.engine.begin() as conn:
            row = self._row(conn, username, lock=True)
            if row is not None and not replace:
                raise UserError(f"user {username!r} already exists")
            if row is None:
                version = self._last_version(conn, username) + 1
                conn.execute(
                    self.table.insert().values(
                        username=username,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                        credential_version=version,
                        disabled_at=None,
                        display_name=display_name,
                        **values,
                    )
                )
                self._record(conn, now, username, "created", actor, version, values)
            else:
                version = int(row["credential_version"]) + 1
                conn.execute(
                    self.table.update()
                    .where(self.table.c.username == username)
                    .values(
                        password_hash=password_hash,
                        updated_at=now,
                        credential_version=version,
                        **values,
                        **({"display_name": display_name} if display_name else {}),
                    )
                )
                for field, change in (
                    ("role", "role_changed"),
                    ("region_code", "region_changed"),
                    ("studio_id", "studio_changed"),
                    ("mediator_id", "mediator_changed"),
                ):
                    if row[field] != values[field]:
                        detail = {"from": row[field], "to": values[field]}
                        self._record(conn, now, username, change, actor, version, detail)
                self._record(conn, now, username, "password_changed", actor, version, {})
        return User(username, parsed_role, region_code, studio_id, mediator_id, version)

    def set_password(self, username: str, password: str, *, actor: str) -> User:
        _check(username, password)
        self.ensure_table()
        password_hash = self.hasher.hash(password)
        now = _now()
        with self.engine.begin() as conn:
            row = self._existing(conn, username)
            version = int(row["credential_version"]) + 1
            conn.execute(
                self.table.update()
                .where(self.table.c.username == username)
                .values(password_hash=password_hash, credential_version=version, updated_at=now)
            )
            self._record(conn, now, username, "password_changed", actor, version, {})
        account = self.account(username)
        assert account is not None
        return account.user

    def set_disabled(self, username: str, disabled: bool, *, actor: str) -> Account:
        """Disable or enable an account; nothing is recorded when it already is so."""
        self.ensure_table()
        now = _now()
        with self.engine.begin() as conn:
            row = self._existing(conn, username)
            if (row["disabled_at"] is not None) != disabled:
                version = int(row["credential_version"]) + 1
                conn.execute(
                    self.table.update()
                    .where(self.table.c.username == username)
                    .values(
                        disabled_at=now if disabled else None,
                        credential_version=version,
                        updated_at=now,
                    )
                )
                change = "disabled" if disabled else "enabled"
                self._record(conn, now, username, change, actor, version, {})
        account = self.account(username)
        assert account is not None
        return account

    def log_out(self, username: str, *, actor: str) -> int:
        """Revoke every token of the account: raise its credential version (``logged_out``).

        Returns the new version. Logging out thus ends all of the user's sessions, not only
        the one that asked (see docs/security.md, "Tokens").
        """
        self.ensure_table()
        now = _now()
        with self.engine.begin() as conn:
            row = self._existing(conn, username)
            version = int(row["credential_version"]) + 1
            conn.execute(
                self.table.update()
                .where(self.table.c.username == username)
                .values(credential_version=version, updated_at=now)
            )
            self._record(conn, now, username, "logged_out", actor, version, {})
        return version

    # ------------------------------------------------------------------ reads

    def account(self, username: str) -> Account | None:
        """The account as stored now (for every token check: one primary-key read)."""
        self.ensure_table()
        with self.engine.connect() as conn:
            row = self._row(conn, username)
        return _account(row) if row is not None else None

    def accounts(self, region_prefix: str = "") -> list[Account]:
        """Every account whose region code starts with ``region_prefix``, by username."""
        self.ensure_table()
        query = sa.select(self.table).order_by(self.table.c.username)
        if region_prefix:
            query = query.where(self.table.c.region_code.startswith(region_prefix, autoescape=True))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_account(r) for r in rows]

    def display_names(self) -> dict[str, str]:
        """username → the person's name, for the accounts that have one (a small table)."""
        self.ensure_table()
        t = self.table
        query = sa.select(t.c.username, t.c.display_name).where(t.c.display_name != "")
        with self.engine.connect() as conn:
            return {str(u): str(n) for u, n in conn.execute(query)}

    def get(self, username: str) -> User | None:
        account = self.account(username)
        return account.user if account is not None else None

    def count(self) -> int:
        self.ensure_table()
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()
            )

    def _rows_of(self, table: sa.Table, username: str | None) -> Sequence[sa.RowMapping]:
        """An append-only account table's rows, oldest first (of one account, or of all)."""
        self.ensure_table()
        query = sa.select(table).order_by(table.c.id)
        if username is not None:
            query = query.where(table.c.username == username)
        with self.engine.connect() as conn:
            return conn.execute(query).mappings().all()

    def history(self, username: str | None = None) -> list[AccountChange]:
        """Recorded changes, oldest first (of one account, or of all)."""
        rows = self._rows_of(self.changes, username)
        return [
            AccountChange(
                at=_aware(r["at"]),
                username=str(r["username"]),
                change=str(r["change"]),
                actor=str(r["actor"]),
                credential_version=int(r["credential_version"]),
                detail=json.loads(r["detail"] or "{}"),
            )
            for r in rows
        ]

    def authenticate(self, username: str, password: str) -> User | None:
        return self.check_login(username, password)[0]

    def check_login(self, username: str, password: str) -> tuple[User | None, str]:
        """The user if the password is right and the account enabled; else why not."""
        self.ensure_table()
        with self.engine.connect() as conn:
            row = self._row(conn, username) if username else None
        stored = str(row["password_hash"]) if row is not None else self._dummy_hash()
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None, ("wrong_password" if row is not None else "unknown_user")
        if row is None:
            return None, "unknown_user"
        if row["disabled_at"] is not None:
            return None, "disabled"
        return _account(row).user, ""

    # ------------------------------------------------------------------ logins

    def record_login(self, username: str, client: str, outcome: str, reason: str = "") -> None:
        self.ensure_table()
        with self.engine.begin() as conn:
            conn.execute(
                self.logins.insert().values(
                    at=_now(),
                    username=username[:64],
                    client=client[:64],
                    outcome=outcome,
                    reason=reason[:32],
                )
            )

    def known_client(self, username: str, client: str) -> bool:
        """Whether ``username`` has logged in successfully from ``client`` before."""
        self.ensure_table()
        l = self.logins.c  # noqa: E741
        query = (
            sa.select(l.id)
            .where(l.username == username, l.client == client, l.outcome == "success")
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def login_attempts(self, username: str | None = None) -> list[LoginAttempt]:
        rows = self._rows_of(self.logins, username)
        return [
            LoginAttempt(
                at=_aware(r["at"]),
                username=str(r["username"]),
                client=str(r["client"]),
                outcome=str(r["outcome"]),
                reason=str(r["reason"]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ helpers

    def _dummy_hash(self) -> str:
        """Verified against when the user does not exist, so timing does not reveal names."""
        if self.hasher is HASHER:
            return _default_dummy_hash()
        if self._dummy is None:
            self._dummy = self.hasher.hash("not-a-real-password")
        return self._dummy

    def _row(self, conn: sa.Connection, username: str, lock: bool = False) -> Any:
        query = sa.select(self.table).where(self.table.c.username == username)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).mappings().first()

    def _existing(self, conn: sa.Connection, username: str) -> Any:
        row = self._row(conn, username, lock=True)
        if row is None:
            raise NoSuchUser(f"no user {username!r}")
        return row

    def _last_version(self, conn: sa.Connection, username: str) -> int:
        """The highest credential version this name ever had (0 for a new name)."""
        c = self.changes.c
        value = conn.execute(
            sa.select(sa.func.max(c.credential_version)).where(c.username == username)
        ).scalar_one()
        return int(value or 0)

    def _record(
        self,
        conn: sa.Connection,
        at: datetime,
        username: str,
        change: str,
        actor: str,
        version: int,
        detail: dict[str, Any],
    ) -> None:
        conn.execute(
            self.changes.insert().values(
                at=at,
                username=username,
                change=change,
                actor=actor[:128],
                credential_version=version,
                detail=json.dumps(detail, sort_keys=True, ensure_ascii=False),
            )
        )


@lru_cache(maxsize=1)
def _default_dummy_hash() -> str:
    return HASHER.hash("not-a-real-password")


def _check(username: str, password: str) -> None:
    try:
        check_password(username, password)
    except WeakPassword as exc:
        raise WeakPasswordError(str(exc)) from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _account(row: Any) -> Account:
    user = User(
        username=str(row["username"]),
        role=Role(row["role"]),
        region_code=str(row["region_code"]),
        studio_id=UUID(row["studio_id"]) if row["studio_id"] else None,
        mediator_id=UUID(row["mediator_id"]) if row["mediator_id"] else None,
        credential_version=int(row["credential_version"]),
    )
    return Account(
        user=user,
        disabled=row["disabled_at"] is not None,
        display_name=str(row.get("display_name") or ""),
    )


def changes_text(changes: Sequence[AccountChange]) -> list[str]:
    """One line per change, for ``mediation users history``."""
    return [
        f"{c.at.isoformat(timespec='seconds')}  {c.username:<20} {c.change:<17} "
        f"v{c.credential_version:<3} by {c.actor}"
        + (f"  {json.dumps(c.detail, ensure_ascii=False, sort_keys=True)}" if c.detail else "")
        for c in changes
    ]
