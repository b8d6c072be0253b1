"""The issued documents' exact bytes, content-addressed beside the events (both backends).

``document_files``: one row per issued PDF, keyed by the SHA-256 of its bytes, in the same
database as the events (the recorder's datastore, like ``mediation.keystore``). The row
is written and committed *before* the case's ``DocumentIssued`` event that names the hash
is saved, so every recorded hash has its bytes; a row whose event never got saved (a lost
race, a crash) is an orphan that no case names and ``/verify`` never confirms
(docs/adr/0011-document-bytes.md says why not in the event itself).

The bytes are sealed (AES-GCM, a key derived from ``MEDIATION_ENCRYPTION_KEY``, the hash as
associated data): a document holds names and resident ID numbers. Every read checks the
hash again: what is served is what was issued, or nothing.

The row also carries what ``GET /verify/{code}`` may tell — kind, number, issuing body,
date, hash, and the case and document it belongs to — and nothing personal.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.sqlite import SQLiteDatastore

from mediation.keystore import DEVELOPMENT_ROOT, SideTables


@dataclass(frozen=True)
class FileRecord:
    """What the verification page may tell about one issued document."""

    sha256: str
    verification_code: str
    case_id: UUID
    document_id: UUID
    kind: str
    number: str
    issuing_body: str
    issued_on: date


_SQLITE_DDL = """CREATE TABLE IF NOT EXISTS document_files (
    sha256 TEXT PRIMARY KEY,
    verification_code TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    issuing_body TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    sealed BLOB NOT NULL)"""

_POSTGRES_DDL = """CREATE TABLE IF NOT EXISTS {s}.document_files (
    sha256 TEXT PRIMARY KEY,
    verification_code TEXT NOT NULL UNIQUE,
    case_id UUID NOT NULL,
    document_id UUID NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    issuing_body TEXT NOT NULL,
    issued_on DATE NOT NULL,
    sealed BYTEA NOT NULL)"""

_COLUMNS = "sha256, verification_code, case_id, document_id, kind, number, issuing_body, issued_on"


class DocumentCorrupted(RuntimeError):
    """The stored bytes no longer hash to the recorded value (never served)."""


class DocumentFiles(SideTables):
    TABLES = ("document_files",)
    SQLITE_DDL = (_SQLITE_DDL,)
    POSTGRES_DDL = (_POSTGRES_DDL,)

    def __init__(self, datastore: Any, cipher_key: str | None) -> None:
        super().__init__(datastore)
        root = base64.b64decode(cipher_key) if cipher_key else DEVELOPMENT_ROOT
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"mediation documents v1"
        ).derive(root)

    # ------------------------------------------------------------------ write

    def put(self, record: FileRecord, pdf: bytes) -> None:
        """Keep the bytes (idempotent: the same bytes twice are one row)."""
        if hashlib.sha256(pdf).hexdigest() != record.sha256:
            raise ValueError("the bytes do not hash to the record's sha256")
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(self._key).encrypt(nonce, pdf, record.sha256.encode())
        with self._transaction() as curs:
            curs.execute(
                self._sql(
                    f"INSERT INTO {{s}}.document_files ({_COLUMNS}, sealed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING"
                ),
                (
                    record.sha256,
                    record.verification_code,
                    str(record.case_id),
                    str(record.document_id),
                    record.kind,
                    record.number,
                    record.issuing_body,
                    record.issued_on if self._postgres else record.issued_on.isoformat(),
                    sealed,
                ),
            )

    # ------------------------------------------------------------------ read

    def pdf(self, sha256: str) -> bytes | None:
        """The exact bytes recorded under ``sha256`` (checked), or None if not kept."""
        with self._transaction() as curs:
            curs.execute(
                self._sql("SELECT sealed FROM {s}.document_files WHERE sha256 = ?"), (sha256,)
            )
            row = curs.fetchone()
        if row is None:
            return None
        blob = bytes(row["sealed"])
        pdf = AESGCM(self._key).decrypt(blob[:12], blob[12:], sha256.encode())
        if hashlib.sha256(pdf).hexdigest() != sha256:  # pragma: no cover - AES-GCM checks too
            raise DocumentCorrupted(sha256)
        return pdf

    def by_code(self, code: str) -> FileRecord | None:
        with self._transaction() as curs:
            curs.execute(
                self._sql(
                    f"SELECT {_COLUMNS} FROM {{s}}.document_files WHERE verification_code = ?"
                ),
                (code,),
            )
            row = curs.fetchone()
        if row is None:
            return None
        issued = row["issued_on"]
        return FileRecord(
            sha256=str(row["sha256"]),
            verification_code=str(row["verification_code"]),
            case_id=UUID(str(row["case_id"])),
            document_id=UUID(str(row["document_id"])),
            kind=str(row["kind"]),
            number=str(row["number"]),
            issuing_body=str(row["issuing_body"]),
            issued_on=issued if isinstance(issued, date) else date.fromisoformat(str(issued)),
        )


def files_of(app: Any, env: Any) -> DocumentFiles:
    """The document table of an application's store (its recorder's datastore)."""
    datastore = getattr(app.recorder, "datastore", None)
    if datastore is None:  # the library's in-memory store (tests): kept in memory too
        datastore = SQLiteDatastore(":memory:")
    return DocumentFiles(datastore, env.get("CIPHER_KEY"))
