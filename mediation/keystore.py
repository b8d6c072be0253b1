"""The per-person key table and the record of erasures, beside the events (both backends).

``personal_keys``: one row per person (``subject``, a random id), the person's data key
wrapped (AES-GCM) by a key derived from ``MEDIATION_ENCRYPTION_KEY``, and ``lookup``, a
keyed hash (HMAC) of the resident ID number so that a person's later cases use the same
key. Nothing in an event refers to the lookup hash; deleting the row leaves no link from
the events to the person. ``uses``/``used_at`` change each time a command seals with the
key: erasure deletes a row only if it was not used since the retention scan read it.

``personal_erasures``: append-only (triggers refuse UPDATE and DELETE), one row per
``mediation retention --apply``: when, by whom, the retention rule, how many keys and
cases; no personal data and no subject ids.

Without ``MEDIATION_ENCRYPTION_KEY`` (development only: production refuses to start) the
wrapping key is derived from a fixed, public development root: keys are then unprotected
at rest, but deleting a key still erases its person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from mediation import personal

log = logging.getLogger("mediation.keystore")

DEVELOPMENT_ROOT = b"mediation development root: not a secret, not for production"


def _derive(root: bytes, purpose: str) -> bytes:
    info = f"mediation personal-data {purpose} v1".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)


@dataclass(frozen=True)
class KeyRow:
    subject: str
    uses: int
    used_at: datetime


@dataclass(frozen=True)
class Erasure:
    """One ``retention --apply`` as recorded (no personal data)."""

    erased_at: datetime
    actor: str
    retention_years: int
    cutoff: date
    keys: int
    cases: int


_SQLITE_DDL = (
    """CREATE TABLE IF NOT EXISTS personal_keys (
        subject TEXT PRIMARY KEY,
        lookup TEXT UNIQUE,
        wrapped TEXT NOT NULL,
        wrap_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        used_at TEXT NOT NULL,
        uses INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS personal_erasures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        erased_at TEXT NOT NULL,
        actor TEXT NOT NULL,
        retention_years INTEGER NOT NULL,
        cutoff TEXT NOT NULL,
        keys INTEGER NOT NULL,
        cases INTEGER NOT NULL)""",
    """CREATE TRIGGER IF NOT EXISTS personal_erasures_no_update
        BEFORE UPDATE ON personal_erasures
        BEGIN SELECT RAISE(ABORT, 'personal_erasures is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS personal_erasures_no_delete
        BEFORE DELETE ON personal_erasures
        BEGIN SELECT RAISE(ABORT, 'personal_erasures is append-only'); END""",
)

_POSTGRES_DDL = (
    """CREATE TABLE IF NOT EXISTS {s}.personal_keys (
        subject TEXT PRIMARY KEY,
        lookup TEXT UNIQUE,
        wrapped TEXT NOT NULL,
        wrap_id TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ NOT NULL,
        uses BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {s}.personal_erasures (
        id BIGSERIAL PRIMARY KEY,
        erased_at TIMESTAMPTZ NOT NULL,
        actor TEXT NOT NULL,
        retention_years INTEGER NOT NULL,
        cutoff DATE NOT NULL,
        keys INTEGER NOT NULL,
        cases INTEGER NOT NULL)""",
    """CREATE OR REPLACE FUNCTION {s}.personal_erasures_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'personal_erasures is append-only'; END $$""",
    """CREATE OR REPLACE TRIGGER personal_erasures_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON {s}.personal_erasures
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.personal_erasures_append_only()""",
)


class SideTables:
    """Tables of our own in the event store's database and schema (keys, document files).

    ``TABLES`` are created from ``SQLITE_DDL`` / ``POSTGRES_DDL`` (``{s}`` is the schema) on
    first use, once per process; on PostgreSQL under an advisory lock, and only when one of
    them is missing (a role that owns nothing, docs/operations.md, skips the DDL).
    """

    TABLES: tuple[str, ...] = ()
    SQLITE_DDL: Sequence[str] = ()
    POSTGRES_DDL: Sequence[str] = ()

    def __init__(self, datastore: Any) -> None:
        if isinstance(datastore, PostgresDatastore):
            self._postgres = True
            self._schema = '"' + datastore.schema.replace('"', '""') + '"'
        elif isinstance(datastore, SQLiteDatastore):
            self._postgres = False
            self._schema = ""
        else:  # pragma: no cover
            raise TypeError(f"no {self.TABLES[0]} table for {type(datastore).__name__}")
        self._datastore = datastore
        self._ready = False
        self._lock = threading.Lock()

    def _sql(self, text: str) -> str:
        if self._postgres:
            return text.replace("{s}.", self._schema + ".").replace("?", "%s")
        return text.replace("{s}.", "")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        self.ensure_tables()
        with self._datastore.transaction(commit=True) as curs:
            yield curs

    def ensure_tables(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with self._datastore.transaction(commit=True) as curs:
                if self._postgres:
                    curs.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s))",
                        (f"mediation.create:{self._schema}.{self.TABLES[0]}",),
                    )
                    curs.execute(
                        "SELECT "
                        + " AND ".join("to_regclass(%s) IS NOT NULL" for _ in self.TABLES)
                        + " AS present",
                        tuple(f"{self._schema}.{table}" for table in self.TABLES),
                    )
                    row = curs.fetchone()
                    if not (row and row["present"]):
                        for statement in self.POSTGRES_DDL:
                            curs.execute(statement.replace("{s}", self._schema))
                else:
                    for statement in self.SQLITE_DDL:
                        curs.execute(statement)
            self._ready = True
            self._created()

    def _created(self) -> None:
        """Called once, when the tables are known to exist."""


class PersonalKeys(SideTables):
    """The key table of one store: the ``Vault`` the application seals and reveals with."""

    TABLES = ("personal_keys", "personal_erasures")
    SQLITE_DDL = _SQLITE_DDL
    POSTGRES_DDL = _POSTGRES_DDL

    def __init__(
        self, datastore: Any, cipher_key: str | None, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(datastore)
        self._clock = clock
        root = base64.b64decode(cipher_key) if cipher_key else DEVELOPMENT_ROOT
        self.unprotected = not cipher_key
        self._wrap_key = _derive(root, "wrapping")
        self._lookup_key = _derive(root, "lookup")
        self._search_mac = hmac.new(_derive(root, "search"), digestmod="sha256")
        self.wrap_id = hashlib.sha256(self._wrap_key).hexdigest()[:16]

    def _created(self) -> None:
        if self.unprotected:
            log.warning(
                "no MEDIATION_ENCRYPTION_KEY: personal data keys are wrapped by a public "
                "development key (erasure works; nothing is confidential at rest)"
            )

    def _time(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    def _stamp(self, moment: datetime) -> Any:
        return moment if self._postgres else moment.isoformat()

    # ------------------------------------------------------------------ keys

    def lookup(self, id_number: str) -> str:
        return hmac.new(self._lookup_key, b"id:" + id_number.encode(), "sha256").hexdigest()

    def search_term(self, term: str) -> str:
        """The stored form of a search term (``projections.search``): a keyed hash, so the
        search index holds no name, ID number or credit code as text."""
        mac = self._search_mac.copy()  # the key's pads computed once
        mac.update(term.encode())
        return mac.hexdigest()

    def _wrap(self, subject: str, key: bytes) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._wrap_key).encrypt(nonce, key, subject.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def _unwrap(self, subject: str, wrapped: str, wrap_id: str) -> bytes:
        if wrap_id != self.wrap_id:
            raise RuntimeError(
                f"the key of subject {subject} was wrapped by another encryption key "
                f"({wrap_id}, this process has {self.wrap_id})"
            )
        blob = base64.b64decode(wrapped)
        return AESGCM(self._wrap_key).decrypt(blob[:12], blob[12:], subject.encode())

    def key_for(self, id_number: str | None) -> tuple[str, bytes]:
        """The person's subject and data key; a new one for a new person (or no ID)."""
        lookup = self.lookup(id_number) if id_number else None
        now = self._stamp(self._clock())
        subject = uuid4().hex
        wrapped = self._wrap(subject, AESGCM.generate_key(256))
        with self._transaction() as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO {s}.personal_keys "
                    "(subject, lookup, wrapped, wrap_id, created_at, used_at, uses) "
                    "VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (lookup) DO NOTHING"
                ),
                (subject, lookup, wrapped, self.wrap_id, now, now),
            )
            if lookup is not None:
                curs.execute(
                    self._sql(
                        "UPDATE {s}.personal_keys SET uses = uses + 1, used_at = ? "
                        "WHERE lookup = ? AND subject <> ?"
                    ),
                    (now, lookup, subject),
                )
                curs.execute(
                    self._sql(
                        "SELECT subject, wrapped, wrap_id FROM {s}.personal_keys WHERE lookup = ?"
                    ),
                    (lookup,),
                )
            else:
                curs.execute(
                    self._sql(
                        "SELECT subject, wrapped, wrap_id FROM {s}.personal_keys WHERE subject = ?"
                    ),
                    (subject,),
                )
            row = curs.fetchone()
        assert row is not None
        return str(row["subject"]), self._unwrap(row["subject"], row["wrapped"], row["wrap_id"])

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """One read statement: on PostgreSQL outside a transaction (autocommit, one round
        trip instead of BEGIN, SELECT, COMMIT; a single statement sees one snapshot)."""
        self.ensure_tables()
        if self._postgres:
            with self._datastore.get_connection() as conn, conn.cursor() as curs:
                yield curs
        else:
            with self._datastore.transaction(commit=False) as curs:
                yield curs

    def key_of(self, subject: str) -> bytes | None:
        with self._read() as curs:
            curs.execute(
                self._sql("SELECT wrapped, wrap_id FROM {s}.personal_keys WHERE subject = ?"),
                (subject,),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return self._unwrap(subject, row["wrapped"], row["wrap_id"])

    def reveal(self, data: Mapping[str, str]) -> dict[str, str]:
        """A party's fields with the sealed values opened (``personal.ERASED`` if erased)."""
        return personal.reveal(self, data)

    def keys_of(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """The data keys of these subjects, read together (``None``: erased)."""
        wanted = sorted(set(subjects))
        found: dict[str, bytes | None] = dict.fromkeys(wanted)
        for i in range(0, len(wanted), 500):  # SQLite's bound on parameters
            chunk = wanted[i : i + 500]
            with self._read() as curs:
                if self._postgres:
                    curs.execute(
                        self._sql(
                            "SELECT subject, wrapped, wrap_id FROM {s}.personal_keys "
                            "WHERE subject = ANY(?)"
                        ),
                        (chunk,),
                    )
                else:
                    marks = ", ".join("?" * len(chunk))
                    curs.execute(
                        "SELECT subject, wrapped, wrap_id FROM personal_keys "
                        f"WHERE subject IN ({marks})",
                        chunk,
                    )
                rows = curs.fetchall()
            for row in rows:
                subject = str(row["subject"])
                found[subject] = self._unwrap(subject, row["wrapped"], row["wrap_id"])
        return found

    def ring(self, parties: Iterable[Mapping[str, Any]]) -> KeyRing:
        """A read-only vault holding the keys of these parties, read by one statement (a
        list of cases reveals each row's names with it, not with a read per person)."""
        subjects: set[str] = set()
        for data in parties:
            subjects |= personal.subjects_in(data)
        return KeyRing(self, self.keys_of(subjects))

    def rows(self) -> list[KeyRow]:
        with self._transaction() as curs:
            curs.execute(self._sql("SELECT subject, uses, used_at FROM {s}.personal_keys"))
            found = curs.fetchall()
        return [KeyRow(r["subject"], int(r["uses"]), self._time(r["used_at"])) for r in found]

    # ------------------------------------------------------------------ erasure

    def erase(
        self,
        seen: Sequence[KeyRow],
        *,
        used_before: datetime,
        actor: str,
        retention_years: int,
        cutoff: date,
        cases: int,
    ) -> int:
        """Delete the keys of ``seen`` that were not used since; record it. Keys deleted."""
        erased = 0
        with self._transaction() as curs:
            if not self._postgres:
                curs.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten
            for row in seen:
                if row.used_at >= used_before:
                    continue
                curs.execute(
                    self._sql(
                        "DELETE FROM {s}.personal_keys WHERE subject = ? AND uses = ? "
                        "RETURNING subject"
                    ),
                    (row.subject, row.uses),
                )
                erased += len(curs.fetchall())
            curs.execute(
                self._sql(
                    "INSERT INTO {s}.personal_erasures "
                    "(erased_at, actor, retention_years, cutoff, keys, cases) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    self._stamp(self._clock()),
                    actor,
                    retention_years,
                    cutoff if self._postgres else cutoff.isoformat(),
                    erased,
                    cases,
                ),
            )
        self._purge_free_space()
        return erased

    def _purge_free_space(self) -> None:
        """Leave no copy of a deleted key in the database's files that the store controls."""
        if self._postgres:
            with self._datastore.get_connection() as conn:
                conn.execute(f"VACUUM {self._schema}.personal_keys")
            return
        with self._datastore.get_connection(commit=True) as conn:
            curs = conn.cursor()
            curs.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = curs.fetchone()
            if busy is not None and busy[0]:
                log.warning("the SQLite write-ahead log could not be truncated: readers busy")

    def erasures(self) -> list[Erasure]:
        with self._transaction() as curs:
            curs.execute(
                self._sql(
                    "SELECT erased_at, actor, retention_years, cutoff, keys, cases "
                    "FROM {s}.personal_erasures ORDER BY id"
                )
            )
            found = curs.fetchall()
        return [
            Erasure(
                self._time(r["erased_at"]),
                r["actor"],
                int(r["retention_years"]),
                r["cutoff"] if isinstance(r["cutoff"], date) else date.fromisoformat(r["cutoff"]),
                int(r["keys"]),
                int(r["cases"]),
            )
            for r in found
        ]


class KeyRing:
    """The keys of a set of subjects read together (``PersonalKeys.ring``), for revealing
    a list of cases; a subject outside the set is read from the store as usual."""

    def __init__(self, store: PersonalKeys, keys: dict[str, bytes | None]) -> None:
        self._store = store
        self._keys = keys

    def key_for(self, id_number: str | None) -> tuple[str, bytes]:
        raise RuntimeError("a key ring only reveals")

    def key_of(self, subject: str) -> bytes | None:
        if subject in self._keys:
            return self._keys[subject]
        return self._store.key_of(subject)

    def reveal(self, data: Mapping[str, str]) -> dict[str, str]:
        return personal.reveal(self, data)


class _RollBack(Exception):
    pass


class KeyBatch:
    """The keys of one batch of new cases, written in the batch's own transaction (import).

    ``PersonalKeys.key_for`` commits a key row per person before the case is saved. A bulk
    writer instead drafts the keys of a whole batch in memory: :meth:`prepare` reads the
    keys its persons already have (one query), :meth:`key_for` (the ``Vault`` the commands
    seal with) returns those or drafts a new one, and :meth:`write` inserts the drafts and
    counts the uses on the cursor of the transaction that stores the batch's events. So a
    batch's keys and events commit together, or neither does. A person whose key another
    writer inserted meanwhile makes :meth:`write` return False: the caller rolls back and
    builds the batch again over the keys now stored.
    """

    def __init__(self, keys: PersonalKeys) -> None:
        self.keys = keys
        self._known: dict[str, tuple[str, bytes]] = {}  # lookup -> stored subject, key
        self._drafts: dict[str | None, list[tuple[str, str, bytes]]] = {}
        self._uses: dict[str, int] = {}  # lookup -> uses of a stored key in this batch

    def prepare(self, id_numbers: Iterable[str | None]) -> None:
        """Forget the last batch; read the stored keys of these persons (one query).

        The ID numbers as the commands will seal them (validated: upper-case X); a person
        missed here is still looked up on its own by :meth:`key_for`."""
        self._known.clear()
        self._drafts.clear()
        self._uses.clear()
        self._fetch(sorted({self.keys.lookup(n) for n in id_numbers if n}))

    def _fetch(self, lookups: list[str]) -> None:
        if not lookups:
            return
        keys = self.keys
        keys.ensure_tables()
        with keys._datastore.transaction(commit=False) as curs:
            for start in range(0, len(lookups), 500):
                chunk = lookups[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                curs.execute(
                    keys._sql(
                        "SELECT lookup, subject, wrapped, wrap_id FROM {s}.personal_keys "
                        f"WHERE lookup IN ({marks})"
                    ),
                    chunk,
                )
                for row in curs.fetchall():
                    key = keys._unwrap(row["subject"], row["wrapped"], row["wrap_id"])
                    self._known[row["lookup"]] = (str(row["subject"]), key)

    def key_for(self, id_number: str | None) -> tuple[str, bytes]:
        lookup = self.keys.lookup(id_number) if id_number else None
        if lookup is not None:
            if lookup in self._drafts:
                drafted = self._drafts[lookup]
                drafted.append(drafted[0])  # one more use of the same draft
                return drafted[0][0], drafted[0][2]
            if lookup not in self._known:
                self._fetch([lookup])  # not prepared: never draft over a stored key
            if lookup in self._known:
                self._uses[lookup] = self._uses.get(lookup, 0) + 1
                return self._known[lookup]
        subject = uuid4().hex
        key = AESGCM.generate_key(256)
        draft = (subject, self.keys._wrap(subject, key), key)
        if lookup is None:
            self._drafts.setdefault(None, []).append(draft)
        else:
            self._drafts[lookup] = [draft]
        return subject, key

    def key_of(self, subject: str) -> bytes | None:
        return self.keys.key_of(subject)

    def write_alone(self) -> bool:
        """:meth:`write` in a transaction of its own (a store without one for the batch)."""
        try:
            with self.keys._transaction() as curs:
                if not self.write(curs):
                    raise _RollBack()
        except _RollBack:
            return False
        return True

    def write(self, curs: Any) -> bool:
        """Insert the drafted keys and count the uses in the caller's transaction.

        False when another writer stored a key for one of the drafted persons first (the
        caller must roll back: the batch was sealed under keys that will not be stored)."""
        keys = self.keys
        now = keys._stamp(keys._clock())
        rows: list[tuple[str, str | None, str, str, Any, Any, int]] = []
        for lookup, drafts in self._drafts.items():
            if lookup is None:
                rows.extend((s, None, w, keys.wrap_id, now, now, 1) for s, w, _ in drafts)
            else:
                subject, wrapped, _ = drafts[0]
                rows.append((subject, lookup, wrapped, keys.wrap_id, now, now, len(drafts)))
        if rows:
            curs.executemany(
                keys._sql(
                    "INSERT INTO {s}.personal_keys "
                    "(subject, lookup, wrapped, wrap_id, created_at, used_at, uses) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lookup) DO NOTHING"
                ),
                rows,
            )
        if self._uses:
            curs.executemany(
                keys._sql(
                    "UPDATE {s}.personal_keys SET uses = uses + ?, used_at = ? WHERE lookup = ?"
                ),
                [(n, now, lookup) for lookup, n in self._uses.items()],
            )
        # every key the batch sealed with is stored now (not another writer's draft for the
        # same person; not a stored key erased since prepare)
        used = [s for s, *_ in rows] + [self._known[lookup][0] for lookup in self._uses]
        for start in range(0, len(used), 500):
            chunk = used[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            curs.execute(
                keys._sql(
                    f"SELECT count(*) AS n FROM {{s}}.personal_keys WHERE subject IN ({marks})"
                ),
                chunk,
            )
            row = curs.fetchone()
            if row is None or int(row["n"]) != len(chunk):
                return False
        return True


def vault_of(app: Any, env: Mapping[str, str]) -> PersonalKeys:
    """The key table of an application's store (its recorder's datastore)."""
    datastore = getattr(app.recorder, "datastore", None)
    if datastore is None:  # the library's in-memory store (tests): keys in memory too
        datastore = SQLiteDatastore(":memory:")
    return PersonalKeys(datastore, env.get("CIPHER_KEY"), app.clock)
