"""Walk the event log and compare it with the signed checkpoints (``mediation verify``).

The walk reads every stored event in position order and checks:

- each case and studio event's chain (``mediation.keyed_chain``): keyed chains with a
  known key; unkeyed ones only up to the position the first checkpoint allowed them and
  never after a keyed chain of the same aggregate;
- each aggregate's versions: consecutive, and stored in version order (a later version at
  an earlier position is a reordering; a version never stored is a deletion);
- against every checkpoint: the number of events and the running digest of the log up to
  its position, and every head it recorded (same chain at that version; the aggregate
  still reaches that version; the aggregate still exists).

Findings name the aggregate, the version, the position and the kind of problem. The walk
is read-only; ``take_checkpoint`` appends a checkpoint of a walk that found nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from mediation.checkpoints import Checkpoint, CheckpointLog, CheckpointStore, Head
from mediation.integrity import GENESIS
from mediation.integrity_keys import IntegrityKeys
from mediation.keyed_chain import ChainCheck, check_chain, is_keyed

CHAINED_PREFIXES = (
    "mediation.case.",
    "mediation.organisation.",
    "mediation.calendar.",
    "mediation.numbering.",  # the case-number sequences (ADR 0012)
)
_START = hashlib.sha256(b"mediation event log").hexdigest()


class Kind(StrEnum):
    EDITED = "edited"  # the chain does not match the event's content
    UNKEYED = "unkeyed"  # an unkeyed chain where only a keyed one is accepted
    UNKNOWN_KEY = "unknown key"
    UNREADABLE = "unreadable"
    MISSING = "missing"  # a version that was never stored, or was deleted
    REORDERED = "reordered"
    DIFFERS = "differs from checkpoint"  # edited (or replaced) and chained again
    TRUNCATED = "truncated"  # an aggregate's latest events are gone
    DELETED = "aggregate deleted"
    LOG = "log differs"  # the log as a whole no longer matches a checkpoint
    CHECKPOINT = "checkpoint"  # a checkpoint file is missing, altered or untrusted


@dataclass(frozen=True)
class Finding:
    kind: Kind
    originator_id: UUID | None
    version: int | None
    position: int | None
    detail: str

    @property
    def problem(self) -> str:
        return f"{self.kind.value}: {self.detail}"

    def __str__(self) -> str:
        if self.originator_id is None:
            return self.problem
        where = f"position {self.position}" if self.position is not None else "no position"
        version = f" v{self.version}" if self.version is not None else ""
        return f"{self.originator_id}{version} ({where}): {self.problem}"


_CHAIN_TEXT = {
    ChainCheck.MISMATCH: (Kind.EDITED, "the chain does not match the event (edited or moved)"),
    ChainCheck.UNKNOWN_KEY: (Kind.UNKNOWN_KEY, "chained with a key that is not configured"),
    ChainCheck.MALFORMED: (Kind.EDITED, "the chain value is malformed"),
}


@dataclass
class _Aggregate:
    version: int = 0  # highest version seen
    head: str = GENESIS  # its chain (or, unchained, its digest)
    chained: bool = True
    keyed: bool = False
    broken: bool = False  # the chain broke: later events are not chain-checked
    missing: dict[int, int] = field(default_factory=dict)  # version -> position noticed


def _state_fields(app: Application[Any], state: bytes) -> dict[str, Any]:
    """The event's stored fields, decoded but not upcast (what its chain was computed on)."""
    mapper = app.mapper
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    fields: dict[str, Any] = mapper.transcoder.decode(state)
    fields.pop("class_version", None)
    return fields


class LogWalker:
    """Checks the log in position order; ``advance`` again later checks only new events.

    Memory: one head per aggregate, plus the heads the checkpoints recorded.
    """

    def __init__(self, keys: IntegrityKeys, checkpoints: CheckpointLog | None = None) -> None:
        self.keys = keys
        self.checkpoints = checkpoints or CheckpointLog()
        self.position = 0
        self.events = 0  # every stored event read
        self.chained_events = 0
        self.log_digest = _START
        self.legacy_seen_to = 0  # the last position with an unkeyed chain
        self._found: list[Finding] = []
        self._aggregates: dict[str, _Aggregate] = {}
        self._due = sorted(self.checkpoints.checkpoints, key=lambda c: c.position)
        self._known = len(self.checkpoints.checkpoints)  # those read before the walk began
        self._highest: dict[str, tuple[int, int]] | None = None

    # ---------------------------------------------------------------- walking

    def advance(self, app: Application[Any], limit: int = 10_000, batch: int = 1000) -> int:
        """Check up to ``limit`` further events; returns how many were read."""
        read = 0
        while read < limit:
            rows = app.recorder.select_notifications(self.position + 1, min(batch, limit - read))
            if not rows:
                break
            for row in rows:
                self._compare_due(before=row.id)
                self._check(app, row)
            read += len(rows)
        return read

    def walk(self, app: Application[Any], should_stop: Callable[[], bool] = bool) -> None:
        while self.advance(app) and not should_stop():
            pass

    def _compare_due(self, before: int | None) -> None:
        """Compare the log with every checkpoint whose position is behind ``before``."""
        while self._due and (before is None or self._due[0].position < before):
            cp = self._due.pop(0)
            if before is None and self.position < cp.position:
                self._log_finding(
                    f"the log ends at position {self.position}, before {cp} "
                    f"(events at the end deleted)"
                )
            elif (self.events, self.log_digest) != (cp.events, cp.log_digest):
                self._log_finding(
                    f"the events up to position {cp.position} no longer match {cp} "
                    f"({cp.events} events then, {self.events} now): deleted, inserted, moved "
                    "or altered"
                )

    def _log_finding(self, detail: str) -> None:
        self._found.append(Finding(Kind.LOG, None, None, None, detail))

    def _check(self, app: Application[Any], row: Any) -> None:
        state = bytes(row.state)
        originator = str(UUID(str(row.originator_id)))
        version = int(row.originator_version)
        chained = str(row.topic).startswith(CHAINED_PREFIXES)
        self.position = row.id
        self.events += 1
        self.log_digest = hashlib.sha256(
            f"{self.log_digest} {row.id} {originator} {version} {row.topic} ".encode()
            + hashlib.sha256(state).digest()
        ).hexdigest()
        agg = self._aggregates.get(originator)
        if agg is None:
            agg = self._aggregates[originator] = _Aggregate(chained=chained)
        elif agg.chained != chained:
            self._add(Kind.EDITED, originator, version, row.id, "its topic was changed")
            agg.broken = True
        in_order = self._versions(agg, originator, version, row.id)
        if chained:
            self.chained_events += 1
            head = self._chain(app, agg, originator, version, row, state, in_order)
        else:
            head = hashlib.sha256(str(row.topic).encode() + b"|" + state).hexdigest()
        if version > agg.version:
            agg.version, agg.head = version, head
        recorded = self.checkpoints.recorded.get((originator, version))
        if recorded is not None and recorded[0] != head:
            self._add(
                Kind.DIFFERS,
                originator,
                version,
                row.id,
                f"checkpoint #{recorded[1]} recorded another event at this version "
                "(edited and chained again)",
            )

    def _versions(self, agg: _Aggregate, originator: str, version: int, position: int) -> bool:
        """Record version gaps; True if ``version`` is the one expected next."""
        expected = agg.version + 1
        if version == expected:
            return True
        if version > expected:
            for v in range(expected, version):
                agg.missing[v] = position
        elif version in agg.missing:
            del agg.missing[version]
            self._add(
                Kind.REORDERED,
                originator,
                version,
                position,
                f"stored after version {agg.version} (swapped or reordered)",
            )
        agg.broken = True
        return False

    def _chain(
        self,
        app: Application[Any],
        agg: _Aggregate,
        originator: str,
        version: int,
        row: Any,
        state: bytes,
        in_order: bool,
    ) -> str:
        try:
            fields = _state_fields(app, state)
            stored = str(fields.get("chain", ""))
            timestamp = fields["timestamp"]
            if not isinstance(timestamp, datetime):
                raise TypeError("timestamp is not a date and time")
        except Exception as exc:  # any decode failure is evidence of tampering
            self._add(Kind.UNREADABLE, originator, version, row.id, f"{type(exc).__name__}")
            agg.broken = True
            return hashlib.sha256(state).hexdigest()
        keyed = is_keyed(stored)
        if not keyed:
            legacy_to = self.checkpoints.legacy_to
            if agg.keyed or (legacy_to is not None and row.id > legacy_to):
                self._add(
                    Kind.UNKEYED,
                    originator,
                    version,
                    row.id,
                    "an unkeyed chain where only a keyed one is accepted "
                    "(chained again without the key)",
                )
                agg.broken = True
            else:
                self.legacy_seen_to = max(self.legacy_seen_to, row.id)
        agg.keyed = agg.keyed or keyed
        if in_order and not agg.broken:
            result = check_chain(
                self.keys,
                stored,
                agg.head if version > 1 else GENESIS,
                str(row.topic),
                UUID(originator),
                version,
                timestamp,
                fields,
            )
            if result in _CHAIN_TEXT:
                kind, text = _CHAIN_TEXT[result]
                self._add(kind, originator, version, row.id, text)
                agg.broken = True
        return stored

    def _add(
        self, kind: Kind, originator: str, version: int | None, position: int | None, text: str
    ) -> None:
        self._found.append(Finding(kind, UUID(originator), version, position, text))

    # ---------------------------------------------------------------- results

    @property
    def aggregates(self) -> int:
        return len(self._aggregates)

    def heads(self) -> dict[str, Head]:
        return {i: (a.version, a.head) for i, a in self._aggregates.items()}

    def findings(self, *, at_end: bool = True) -> list[Finding]:
        """Everything found so far; ``at_end``: the walk has read the whole log, so versions
        still missing are deletions and every checkpoint must have been reached."""
        if at_end:
            self._compare_due(before=None)
        found = list(self._found)
        found.extend(self.checkpoint_findings())
        for originator, agg in self._aggregates.items():
            for version, position in sorted(agg.missing.items()):
                found.append(
                    Finding(
                        Kind.MISSING,
                        UUID(originator),
                        version,
                        position,
                        f"version {version} is not stored (deleted)",
                    )
                )
        if at_end:
            found.extend(self._checkpointed_heads())
        return found

    def checkpoint_findings(self) -> list[Finding]:
        return [
            Finding(Kind.CHECKPOINT, None, None, None, text) for text in self.checkpoints.problems
        ]

    def _checkpointed_heads(self) -> list[Finding]:
        """Aggregates that no longer reach a version a checkpoint recorded, or are gone.

        Only the checkpoints read before this walk began count (later ones were written
        from a walk like this one, and the next walk from zero compares them).
        """
        if self._highest is None:
            self._highest = {}
            for (originator, version), (_, seq) in self.checkpoints.recorded.items():
                best = self._highest.get(originator)
                if seq <= self._known and (best is None or version > best[0]):
                    self._highest[originator] = (version, seq)
        out = []
        for originator, (version, seq) in sorted(self._highest.items()):
            agg = self._aggregates.get(originator)
            if agg is None:
                out.append(
                    Finding(
                        Kind.DELETED,
                        UUID(originator),
                        version,
                        None,
                        f"no event of it is stored; checkpoint #{seq} recorded it at "
                        f"version {version}",
                    )
                )
            elif agg.version < version:
                gone = (
                    f"version {version} is"
                    if agg.version + 1 == version
                    else f"versions {agg.version + 1}-{version} are"
                )
                out.append(
                    Finding(
                        Kind.TRUNCATED,
                        UUID(originator),
                        agg.version + 1,
                        None,
                        f"{gone} gone (checkpoint #{seq} recorded version {version})",
                    )
                )
        return out


@dataclass
class Report:
    """What ``verify`` found, and the checkpoint it wrote (if it found nothing)."""

    aggregates: int
    events: int
    position: int
    findings: list[Finding]
    checkpoints: int
    checkpoint_dir: str | None
    written: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def take_checkpoint(
    walker: LogWalker, store: CheckpointStore, taken_at: datetime
) -> Checkpoint | None:
    """Append a checkpoint of what ``walker`` read, if it found nothing wrong."""
    if walker.findings(at_end=False) or walker.events == 0:
        return None
    return store.append(
        position=walker.position,
        events=walker.events,
        heads=walker.heads(),
        log_digest=walker.log_digest,
        legacy_to=walker.legacy_seen_to,
        taken_at=taken_at,
    )


def verify(
    app: Application[Any],
    keys: IntegrityKeys,
    store: CheckpointStore | None,
    now: Callable[[], datetime],
    *,
    write: bool = True,
) -> Report:
    """The whole log against its chains and every checkpoint; then a new checkpoint."""
    log = store.load() if store is not None else CheckpointLog()
    walker = LogWalker(keys, log)
    compared = len(log.checkpoints)
    walker.walk(app)
    findings = walker.findings()
    written = None
    if store is not None and write and not findings:
        written = take_checkpoint(walker, store, now())
    return Report(
        aggregates=walker.aggregates,
        events=walker.events,
        position=walker.position,
        findings=findings,
        checkpoints=compared,
        checkpoint_dir=str(store.directory) if store is not None else None,
        written=written,
    )
