"""Users: stored in the ``users`` table of the same database as the events.

Passwords are hashed with Argon2id (argon2-cffi). For a PostgreSQL URL with
``?schema=NAME`` the table lives in that schema. The table is created on first use, so
``mediation users add`` and ``mediation serve`` both work on an empty store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse
from uuid import UUID

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mediation.regions import is_valid_region_code
from mediation.values import Role

LOGIN_ROLES = (Role.ADMIN, Role.CLERK, Role.MEDIATOR, Role.COORDINATOR, Role.AUDITOR)

_hasher = PasswordHasher()
# verified against when the user does not exist, so that timing does not reveal usernames
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    region_code: str
    studio_id: UUID | None = None
    mediator_id: UUID | None = None


class UserError(ValueError):
    pass


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


class UserStore:
    def __init__(self, database_url: str) -> None:
        self.engine, schema = make_engine(database_url)
        self.metadata = sa.MetaData(schema=schema)
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
        )
        self._ready = False

    def ensure_table(self) -> None:
        if not self._ready:
            self.metadata.create_all(self.engine, checkfirst=True)
            self._ready = True

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

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
    ) -> User:
        username = username.strip()
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
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        if parsed_role is Role.MEDIATOR and mediator_id is None:
            raise UserError("a mediator user needs --mediator MEDIATOR_ID")
        self.ensure_table()
        row = {
            "username": username,
            "password_hash": _hasher.hash(password),
            "role": parsed_role.value,
            "region_code": region_code,
            "studio_id": str(studio_id) if studio_id else None,
            "mediator_id": str(mediator_id) if mediator_id else None,
            "created_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(self.table.c.username).where(self.table.c.username == username)
            ).first()
            if exists and not replace:
                raise UserError(f"user {username!r} already exists")
            if exists:
                conn.execute(
                    self.table.update().where(self.table.c.username == username).values(**row)
                )
            else:
                conn.execute(self.table.insert().values(**row))
        return User(username, parsed_role, region_code, studio_id, mediator_id)

    def get(self, username: str) -> User | None:
        self.ensure_table()
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(self.table).where(self.table.c.username == username))
                .mappings()
                .first()
            )
        return _user(row) if row else None

    def count(self) -> int:
        self.ensure_table()
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()
            )

    def authenticate(self, username: str, password: str) -> User | None:
        self.ensure_table()
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(self.table).where(self.table.c.username == username))
                .mappings()
                .first()
            )
        stored = str(row["password_hash"]) if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return _user(row) if row else None


def _user(row: sa.RowMapping) -> User:
    return User(
        username=str(row["username"]),
        role=Role(row["role"]),
        region_code=str(row["region_code"]),
        studio_id=UUID(row["studio_id"]) if row["studio_id"] else None,
        mediator_id=UUID(row["mediator_id"]) if row["mediator_id"] else None,
    )
