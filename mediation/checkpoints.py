"""Signed checkpoints of the whole event log, kept outside the database.

A checkpoint states, at one position of the log: how many events the log holds up to it,
a running digest of those events in position order (``log_digest``), and a digest of
every aggregate's head — its id, version and chain value (``root``: SHA-256 over the
sorted heads, a flat equivalent of a Merkle root). It also names the heads that changed
since the previous checkpoint (``changed``), so that together the checkpoints record
every head they ever saw without repeating the unchanged ones; and the digest of the
previous checkpoint file (``previous``), so that a removed or altered file breaks the
sequence. Each is signed with Ed25519 (``mediation.integrity_keys``).

Files are ``NNNNNNNN.json`` in the checkpoint directory, created exclusively (never
overwritten, never deleted by this code) and read-only. The directory belongs to the
operator: somewhere the database's users cannot write, append-only if the file system
allows it (docs/integrity.md). ``mediation.integrity_walk`` compares the log with them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from mediation.integrity_keys import IntegrityKeys

FORMAT = "mediation-checkpoint/1"
_NAME = re.compile(r"^(\d{8})\.json$")

Head = tuple[int, str]  # (version, chain value or digest)


def heads_root(heads: Mapping[str, Head]) -> str:
    """SHA-256 over every head, sorted by aggregate id: ``id version chain`` per line."""
    digest = hashlib.sha256()
    for originator_id in sorted(heads):
        version, chain = heads[originator_id]
        digest.update(f"{originator_id} {version} {chain}\n".encode())
    return digest.hexdigest()


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    position: int
    events: int
    aggregates: int
    root: str
    log_digest: str
    legacy_to: int
    taken_at: str
    previous: str
    public_key: str
    changed: tuple[tuple[str, int, str], ...]
    file_digest: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "position": self.position,
            "events": self.events,
            "aggregates": self.aggregates,
            "root": self.root,
            "log_digest": self.log_digest,
            "legacy_to": self.legacy_to,
            "taken_at": self.taken_at,
            "previous": self.previous,
            "public_key": self.public_key,
            "changed": [list(c) for c in self.changed],
        }

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} (position {self.position}, taken {self.taken_at})"


@dataclass
class CheckpointLog:
    """The checkpoints read so far, checked, and what they say together."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    heads: dict[str, Head] = field(default_factory=dict)  # as of the last checkpoint
    # every head any checkpoint recorded: (aggregate id, version) -> (chain, checkpoint seq)
    recorded: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    _digests: list[str] = field(default_factory=list)

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def legacy_to(self) -> int | None:
        """Up to which position unkeyed chains are accepted (None: no checkpoint yet)."""
        return self.checkpoints[0].legacy_to if self.checkpoints else None

    def position_of(self, seq: int) -> int:
        return self.checkpoints[seq - 1].position

    def _accept(self, keys: IntegrityKeys, seq: int, raw: bytes) -> None:
        where = f"checkpoint #{seq}"
        try:
            document = json.loads(raw)
            signature = bytes.fromhex(str(document.pop("signature")))
            if document.get("format") != FORMAT or document.get("seq") != seq:
                raise ValueError("not a checkpoint of this format and number")
            cp = Checkpoint(
                seq=int(document["seq"]),
                position=int(document["position"]),
                events=int(document["events"]),
                aggregates=int(document["aggregates"]),
                root=str(document["root"]),
                log_digest=str(document["log_digest"]),
                legacy_to=int(document["legacy_to"]),
                taken_at=str(document["taken_at"]),
                previous=str(document["previous"]),
                public_key=str(document["public_key"]),
                changed=tuple((str(i), int(v), str(c)) for i, v, c in document["changed"]),
                file_digest=hashlib.sha256(raw).hexdigest(),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointProblem(f"{where}: unreadable ({exc})") from None
        public = keys.trusted_public_key(cp.public_key)
        if public is None:
            raise CheckpointProblem(f"{where}: signed by a key that is not trusted")
        try:
            public.verify(signature, _canonical(cp.body()))
        except InvalidSignature:
            raise CheckpointProblem(f"{where}: signature does not match (altered)") from None
        expected_previous = self._digests[-1] if self._digests else ""
        if cp.previous != expected_previous:
            raise CheckpointProblem(f"{where}: does not follow checkpoint #{seq - 1} (replaced)")
        last = self.last
        if last is not None and (cp.position < last.position or cp.events < last.events):
            raise CheckpointProblem(f"{where}: goes back from {last}")
        heads = dict(self.heads)
        for originator_id, version, chain in cp.changed:
            before = heads.get(originator_id)
            if before is not None and (
                version < before[0] or (version == before[0] and chain != before[1])
            ):
                raise CheckpointProblem(
                    f"{where}: {originator_id} goes from v{before[0]} back to v{version}"
                )
            heads[originator_id] = (version, chain)
        if len(heads) != cp.aggregates or heads_root(heads) != cp.root:
            raise CheckpointProblem(f"{where}: its heads do not add up to its root")
        self.heads = heads
        for originator_id, version, chain in cp.changed:
            self.recorded.setdefault((originator_id, version), (chain, seq))
        self.checkpoints.append(cp)
        self._digests.append(cp.file_digest)


class CheckpointProblem(Exception):
    pass


class CheckpointStore:
    """The checkpoint directory: read (incrementally) and appended to, never rewritten."""

    def __init__(self, directory: Path, keys: IntegrityKeys) -> None:
        self.directory = directory
        self.keys = keys
        self._log = CheckpointLog()
        self._stopped = False  # a problem was found: later files are not trusted

    def load(self) -> CheckpointLog:
        """Every checkpoint file, checked in order; only files not read before are read."""
        log = self._log
        if self._stopped or not self.directory.is_dir():
            return log
        numbers = sorted(
            int(m.group(1)) for p in self.directory.iterdir() if (m := _NAME.match(p.name))
        )
        for seq in numbers:
            if seq <= len(log.checkpoints):
                continue
            if seq != len(log.checkpoints) + 1:
                log.problems.append(
                    f"checkpoint #{len(log.checkpoints) + 1} is missing (the next is #{seq})"
                )
                self._stopped = True
                break
            try:
                log._accept(self.keys, seq, (self.directory / f"{seq:08d}.json").read_bytes())
            except CheckpointProblem as exc:
                log.problems.append(str(exc))
                self._stopped = True
                break
        return log

    def append(
        self,
        *,
        position: int,
        events: int,
        heads: Mapping[str, Head],
        log_digest: str,
        legacy_to: int,
        taken_at: datetime,
    ) -> Checkpoint | None:
        """Write the next checkpoint; None if the directory holds problems or a later one."""
        for _ in range(5):
            log = self.load()
            if log.problems:
                return None
            last = log.last
            if last is not None and (position < last.position or events < last.events):
                return None  # another process checkpointed further meanwhile
            if last is not None and position == last.position and events == last.events:
                return None  # nothing new
            changed = tuple(
                (i, v, c) for i, (v, c) in sorted(heads.items()) if log.heads.get(i) != (v, c)
            )
            key = self.keys.current
            cp = Checkpoint(
                seq=len(log.checkpoints) + 1,
                position=position,
                events=events,
                aggregates=len(heads),
                root=heads_root(heads),
                log_digest=log_digest,
                legacy_to=log.legacy_to if log.legacy_to is not None else legacy_to,
                taken_at=taken_at.isoformat(),
                previous=last.file_digest if last is not None else "",
                public_key=key.public_key_hex,
                changed=changed,
            )
            document = cp.body()
            document["signature"] = key.signing_key.sign(_canonical(cp.body())).hex()
            raw = json.dumps(document, sort_keys=True, indent=1).encode() + b"\n"
            if self._create(f"{cp.seq:08d}.json", raw):
                self.load()
                return self._log.last
        return None

    def _create(self, name: str, raw: bytes) -> bool:
        """Write ``raw`` under ``name`` whole or not at all, never replacing a file.

        The bytes go to a private temporary file first, which is then hard-linked to the
        final name (atomic, and refused if the name exists) and unlinked.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, self.directory / name)
        except FileExistsError:
            return False  # another process wrote this number first: read it and retry
        finally:
            temporary.unlink()
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
